import { OpCode, type Acl, type ConnectRequest, type ConnectResponse, type MultiResult, type ReadOp, type Reply, type Request, type Response, type Stat, type WatchEvent, type WriteOp } from '../protocol.js';
import { JuteError, JuteReader, JuteWriter } from './jute.js';

/**
 * ZooKeeper's client wire protocol (zookeeper.jute; README "Wire protocol"): the connect
 * handshake, then frames of RequestHeader{xid, type} + request and ReplyHeader{xid, zxid, err} +
 * response. Decoding is strict — a frame with bytes left over, a truncated record or a length
 * beyond jute.maxbuffer is malformed — and never throws anything but JuteError.
 */

export { JuteError };

export function readStat(r: JuteReader): Stat {
  return {
    czxid: r.long(),
    mzxid: r.long(),
    ctime: r.long(),
    mtime: r.long(),
    version: r.int(),
    cversion: r.int(),
    aversion: r.int(),
    ephemeralOwner: r.bigLong(),
    dataLength: r.int(),
    numChildren: r.int(),
    pzxid: r.long(),
  };
}

export function writeStat(w: JuteWriter, s: Stat): void {
  w.long(s.czxid).long(s.mzxid).long(s.ctime).long(s.mtime).int(s.version).int(s.cversion).int(s.aversion).long(s.ephemeralOwner).int(s.dataLength).int(s.numChildren).long(s.pzxid);
}

function readAcl(r: JuteReader): Acl {
  const perms = r.int();
  return { perms, id: { scheme: r.str(), id: r.str() } };
}

function writeAcl(w: JuteWriter, a: Acl): void {
  w.int(a.perms).ustring(a.id.scheme).ustring(a.id.id);
}

const strings = (r: JuteReader): string[] => r.vector((x) => x.str()) ?? [];

// ---- connect ----------------------------------------------------------------------------------

export function decodeConnectRequest(body: Uint8Array, lengthMax: number): ConnectRequest {
  const r = new JuteReader(body, lengthMax);
  const protocolVersion = r.int();
  const lastZxidSeen = r.long();
  const timeOut = r.int();
  const sessionId = r.bigLong();
  const passwd = r.buffer() ?? new Uint8Array(0);
  const base = { protocolVersion, lastZxidSeen, timeOut, sessionId, passwd };
  if (r.remaining === 0) return base;
  const readOnly = r.bool();
  if (r.remaining !== 0) throw new JuteError(`${r.remaining} bytes after the connect request`);
  return { ...base, readOnly };
}

export function encodeConnectRequest(c: ConnectRequest): Uint8Array {
  const w = new JuteWriter().int(c.protocolVersion).long(c.lastZxidSeen).int(c.timeOut).long(c.sessionId).buffer(c.passwd);
  if (c.readOnly !== undefined) w.bool(c.readOnly);
  return w.frame();
}

export function encodeConnectResponse(c: ConnectResponse): Uint8Array {
  const w = new JuteWriter().int(c.protocolVersion).int(c.timeOut).long(c.sessionId).buffer(c.passwd);
  if (c.readOnly !== undefined) w.bool(c.readOnly);
  return w.frame();
}

export function decodeConnectResponse(body: Uint8Array): ConnectResponse {
  const r = new JuteReader(body);
  const base = { protocolVersion: r.int(), timeOut: r.int(), sessionId: r.bigLong(), passwd: r.buffer() ?? new Uint8Array(0) };
  return r.remaining > 0 ? { ...base, readOnly: r.bool() } : base;
}

// ---- requests ---------------------------------------------------------------------------------

/** A decoded request frame: a known request, or an op code this server does not serve. */
export type DecodedRequest = { readonly xid: number; readonly opCode: number } & (
  | { readonly kind: 'request'; readonly request: Request }
  | { readonly kind: 'unimplemented' }
);

function readCreate(r: JuteReader, opCode: 1 | 15 | 19 | 21): WriteOp {
  const path = r.str();
  const data = r.buffer();
  const acl = r.vector(readAcl) ?? [];
  const flags = r.int();
  if (opCode === OpCode.createTTL) return { op: 'create', opCode, path, data, acl, flags, ttl: r.long() };
  return { op: 'create', opCode, path, data, acl, flags };
}

function readWriteOp(r: JuteReader, type: number): WriteOp {
  switch (type) {
    case OpCode.create:
    case OpCode.create2:
    case OpCode.createContainer:
    case OpCode.createTTL:
      return readCreate(r, type);
    case OpCode.delete:
      return { op: 'delete', path: r.str(), version: r.int() };
    case OpCode.setData:
      return { op: 'setData', path: r.str(), data: r.buffer(), version: r.int() };
    case OpCode.check:
      return { op: 'check', path: r.str(), version: r.int() };
    default:
      throw new JuteError(`op ${type} is not allowed in a multi`);
  }
}

function readReadOp(r: JuteReader, type: number): ReadOp {
  switch (type) {
    case OpCode.getData:
      return { op: 'getData', path: r.str(), watch: r.bool() };
    case OpCode.getChildren:
      return { op: 'getChildren', path: r.str(), watch: r.bool(), withStat: false };
    default:
      throw new JuteError(`op ${type} is not allowed in a multiRead`);
  }
}

function readMulti<T>(r: JuteReader, readOp: (r: JuteReader, type: number) => T): T[] {
  const ops: T[] = [];
  for (;;) {
    const type = r.int();
    const done = r.bool();
    r.int(); // err, unused in requests
    if (done) return ops;
    ops.push(readOp(r, type));
  }
}

function readRequest(r: JuteReader, type: number): Request | undefined {
  switch (type) {
    case OpCode.create:
    case OpCode.create2:
    case OpCode.createContainer:
    case OpCode.createTTL:
    case OpCode.delete:
    case OpCode.setData:
    case OpCode.check:
      return readWriteOp(r, type);
    case OpCode.exists:
      return { op: 'exists', path: r.str(), watch: r.bool() };
    case OpCode.getData:
      return { op: 'getData', path: r.str(), watch: r.bool() };
    case OpCode.getChildren:
    case OpCode.getChildren2:
      return { op: 'getChildren', path: r.str(), watch: r.bool(), withStat: type === OpCode.getChildren2 };
    case OpCode.getACL:
      return { op: 'getACL', path: r.str() };
    case OpCode.setACL:
      return { op: 'setACL', path: r.str(), acl: r.vector(readAcl) ?? [], version: r.int() };
    case OpCode.sync:
      return { op: 'sync', path: r.str() };
    case OpCode.ping:
      return { op: 'ping' };
    case OpCode.closeSession:
      return { op: 'closeSession' };
    case OpCode.whoAmI:
      return { op: 'whoAmI' };
    case OpCode.multi:
      return { op: 'multi', ops: readMulti(r, readWriteOp) };
    case OpCode.multiRead:
      return { op: 'multiRead', ops: readMulti(r, readReadOp) };
    case OpCode.getAllChildrenNumber:
      return { op: 'getAllChildrenNumber', path: r.str() };
    case OpCode.getEphemerals:
      return { op: 'getEphemerals', prefixPath: r.str() };
    case OpCode.addWatch:
      return { op: 'addWatch', path: r.str(), mode: r.int() };
    case OpCode.removeWatches:
      return { op: 'removeWatches', path: r.str(), type: r.int() };
    case OpCode.checkWatches:
      return { op: 'checkWatches', path: r.str(), type: r.int() };
    case OpCode.setWatches:
    case OpCode.setWatches2: {
      const relativeZxid = r.long();
      const dataWatches = strings(r);
      const existWatches = strings(r);
      const childWatches = strings(r);
      const two = type === OpCode.setWatches2;
      return {
        op: 'setWatches',
        opCode: two ? 105 : 101,
        relativeZxid,
        dataWatches,
        existWatches,
        childWatches,
        persistentWatches: two ? strings(r) : [],
        persistentRecursiveWatches: two ? strings(r) : [],
      };
    }
    case OpCode.auth:
      return { op: 'auth', type: r.int(), scheme: r.str(), auth: r.buffer() ?? new Uint8Array(0) };
    default:
      return undefined;
  }
}

/**
 * Decodes one request frame body (after the length). Throws JuteError when the header is
 * unreadable; a readable header with a bad body also throws, with `xid`/`opCode` attached so the
 * server can answer MARSHALLINGERROR to that xid.
 */
export function decodeRequest(body: Uint8Array, lengthMax: number): DecodedRequest {
  const r = new JuteReader(body, lengthMax);
  const xid = r.int();
  const opCode = r.int();
  let request: Request | undefined;
  try {
    request = readRequest(r, opCode);
    if (request && r.remaining !== 0) throw new JuteError(`${r.remaining} bytes left after op ${opCode}`);
  } catch (e) {
    if (e instanceof JuteError) throw new BodyError(xid, opCode, e.message);
    throw e;
  }
  if (!request) return { xid, opCode, kind: 'unimplemented' };
  return { xid, opCode, kind: 'request', request };
}

/** A request whose header decoded but whose body did not. */
export class BodyError extends JuteError {
  constructor(
    readonly xid: number,
    readonly opCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** The wire op code of a request (for tests and the native client's logs). */
export function opCodeOf(req: Request): number {
  switch (req.op) {
    case 'create':
      return req.opCode;
    case 'getChildren':
      return req.withStat ? OpCode.getChildren2 : OpCode.getChildren;
    case 'setWatches':
      return req.opCode;
    default:
      return OpCode[req.op];
  }
}

function writeCreate(w: JuteWriter, c: Extract<WriteOp, { op: 'create' }>): void {
  w.ustring(c.path).buffer(c.data).vector(c.acl, writeAcl).int(c.flags);
  if (c.opCode === OpCode.createTTL) w.long(c.ttl ?? 0);
}

function writeRequestBody(w: JuteWriter, req: Request): void {
  switch (req.op) {
    case 'create':
      return writeCreate(w, req);
    case 'delete':
    case 'check':
      w.ustring(req.path).int(req.version);
      return;
    case 'setData':
      w.ustring(req.path).buffer(req.data).int(req.version);
      return;
    case 'exists':
    case 'getData':
    case 'getChildren':
      w.ustring(req.path).bool(req.watch);
      return;
    case 'getACL':
    case 'sync':
    case 'getAllChildrenNumber':
      w.ustring(req.path);
      return;
    case 'getEphemerals':
      w.ustring(req.prefixPath);
      return;
    case 'setACL':
      w.ustring(req.path).vector(req.acl, writeAcl).int(req.version);
      return;
    case 'multi':
    case 'multiRead':
      for (const op of req.ops) {
        w.int(opCodeOf(op)).bool(false).int(-1);
        writeRequestBody(w, op);
      }
      w.int(-1).bool(true).int(-1);
      return;
    case 'addWatch':
      w.ustring(req.path).int(req.mode);
      return;
    case 'removeWatches':
    case 'checkWatches':
      w.ustring(req.path).int(req.type);
      return;
    case 'setWatches': {
      const s = (ww: JuteWriter, x: string): void => void ww.ustring(x);
      w.long(req.relativeZxid).vector(req.dataWatches, s).vector(req.existWatches, s).vector(req.childWatches, s);
      if (req.opCode === OpCode.setWatches2) w.vector(req.persistentWatches, s).vector(req.persistentRecursiveWatches, s);
      return;
    }
    case 'auth':
      w.int(req.type).ustring(req.scheme).buffer(req.auth);
      return;
    case 'ping':
    case 'closeSession':
    case 'whoAmI':
      return;
    default: {
      const never: never = req;
      throw new Error(`unknown request ${JSON.stringify(never)}`);
    }
  }
}

/** Encodes a request frame (the client side: tests, fixtures, the load of the differential test). */
export function encodeRequest(xid: number, req: Request): Uint8Array {
  const w = new JuteWriter().int(xid).int(opCodeOf(req));
  writeRequestBody(w, req);
  return w.frame();
}

// ---- replies ----------------------------------------------------------------------------------

function writeResponse(w: JuteWriter, res: Response): void {
  switch (res.op) {
    case 'create':
      w.ustring(res.path);
      if (res.stat) writeStat(w, res.stat);
      return;
    case 'delete':
    case 'check':
    case 'empty':
      return;
    case 'exists':
    case 'setData':
    case 'setACL':
      writeStat(w, res.stat);
      return;
    case 'getData':
      w.buffer(res.data);
      writeStat(w, res.stat);
      return;
    case 'getACL':
      w.vector(res.acl, writeAcl);
      writeStat(w, res.stat);
      return;
    case 'getChildren':
      w.vector(res.children, (ww, c) => void ww.ustring(c));
      if (res.stat) writeStat(w, res.stat);
      return;
    case 'getAllChildrenNumber':
      w.int(res.totalNumber);
      return;
    case 'addWatch':
      w.int(0);
      return;
    case 'getEphemerals':
      w.vector(res.ephemerals, (ww, c) => void ww.ustring(c));
      return;
    case 'sync':
      w.ustring(res.path);
      return;
    case 'whoAmI':
      w.vector(res.clientInfo, (ww, c) => void ww.ustring(c.authScheme).ustring(c.user));
      return;
    case 'multi':
    case 'multiRead':
      for (const r of res.results) {
        if (r.op === 'error') {
          w.int(OpCode.error).bool(false).int(r.err).int(r.err);
        } else {
          w.int(resultOpCode(r)).bool(false).int(0);
          writeResponse(w, r);
        }
      }
      w.int(-1).bool(true).int(-1);
      return;
    default: {
      const never: never = res;
      throw new Error(`unknown response ${JSON.stringify(never)}`);
    }
  }
}

function resultOpCode(r: Response): number {
  switch (r.op) {
    case 'create':
      return r.stat ? OpCode.create2 : OpCode.create;
    case 'getChildren':
      return OpCode.getChildren;
    case 'delete':
    case 'setData':
    case 'check':
    case 'getData':
      return OpCode[r.op];
    default:
      throw new Error(`${r.op} cannot be a multi result`);
  }
}

export function encodeReply(reply: Reply): Uint8Array {
  const w = new JuteWriter(reply.body && reply.body.op === 'getData' ? (reply.body.data?.length ?? 0) + 128 : 128).int(reply.xid).long(reply.zxid).int(reply.err);
  if (reply.err === 0 && reply.body) writeResponse(w, reply.body);
  return w.frame();
}

/** A notification frame: xid -1, zxid -1, then the WatcherEvent. */
export function encodeEvent(ev: WatchEvent): Uint8Array {
  return new JuteWriter().int(-1).long(-1).int(0).int(ev.type).int(ev.state).ustring(ev.path).frame();
}

function readMultiResults(r: JuteReader, readBody: (r: JuteReader, type: number) => Response): MultiResult[] {
  const out: MultiResult[] = [];
  for (;;) {
    const type = r.int();
    const done = r.bool();
    const err = r.int();
    if (done) return out;
    if (type === OpCode.error) {
      out.push({ op: 'error', err: r.int() });
      void err;
    } else out.push(readBody(r, type));
  }
}

/**
 * Decodes a reply body given the op code of the request it answers (the client side: fixture
 * tests and the native TCP test client). Notifications (xid -1) decode as events.
 */
export function decodeReply(body: Uint8Array, opCode: number): Reply | { xid: -1; event: WatchEvent } {
  const r = new JuteReader(body);
  const xid = r.int();
  const zxid = r.long();
  const err = r.int();
  if (xid === -1) return { xid: -1, event: { type: r.int(), state: r.int(), path: r.str() } };
  if (err !== 0 || r.remaining === 0) return { xid, zxid, err };
  return { xid, zxid, err, body: readResponse(r, opCode) };
}

function readResponse(r: JuteReader, opCode: number): Response {
  switch (opCode) {
    case OpCode.create:
      return { op: 'create', path: r.str() };
    case OpCode.create2:
    case OpCode.createContainer:
    case OpCode.createTTL:
      return { op: 'create', path: r.str(), stat: readStat(r) };
    case OpCode.exists:
      return { op: 'exists', stat: readStat(r) };
    case OpCode.getData:
      return { op: 'getData', data: r.buffer(), stat: readStat(r) };
    case OpCode.setData:
      return { op: 'setData', stat: readStat(r) };
    case OpCode.setACL:
      return { op: 'setACL', stat: readStat(r) };
    case OpCode.getACL:
      return { op: 'getACL', acl: r.vector(readAcl) ?? [], stat: readStat(r) };
    case OpCode.getChildren:
      return { op: 'getChildren', children: strings(r) };
    case OpCode.getChildren2:
      return { op: 'getChildren', children: strings(r), stat: readStat(r) };
    case OpCode.sync:
      return { op: 'sync', path: r.str() };
    case OpCode.getAllChildrenNumber:
      return { op: 'getAllChildrenNumber', totalNumber: r.int() };
    case OpCode.getEphemerals:
      return { op: 'getEphemerals', ephemerals: strings(r) };
    case OpCode.whoAmI:
      return { op: 'whoAmI', clientInfo: r.vector((x) => ({ authScheme: x.str(), user: x.str() })) ?? [] };
    case OpCode.multi:
    case OpCode.multiRead:
      return { op: opCode === OpCode.multi ? 'multi' : 'multiRead', results: readMultiResults(r, readResponse) };
    case OpCode.delete:
      return { op: 'delete' };
    case OpCode.check:
      return { op: 'check' };
    case OpCode.addWatch:
      r.int();
      return { op: 'addWatch' };
    default:
      return { op: 'empty' };
  }
}
