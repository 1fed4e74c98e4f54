/**
 * The jute codec against bytes captured from a real ZooKeeper 3.8 exchange (README "Wire
 * protocol"; test/fixtures/zk/README.md says how they were captured). Every request a real
 * client sent must decode and re-encode to the same bytes; every reply the real server sent must
 * decode (given the op code of the request it answers) and re-encode to the same bytes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeConnectRequest, decodeConnectResponse, decodeReply, decodeRequest, encodeConnectRequest, encodeConnectResponse, encodeEvent, encodeReply, encodeRequest } from '../../../src/actors/coord/wire/codec.js';
import { Code } from '../../../src/actors/coord/errors.js';
import { OpCode, type Reply, type Request } from '../../../src/actors/coord/protocol.js';

interface Capture {
  connections: { label: string; frames: { dir: 'c2s' | 's2c'; hex: string }[] }[];
}

const dir = join(import.meta.dirname, '..', '..', 'fixtures', 'zk');
const load = (name: string): Capture => JSON.parse(readFileSync(join(dir, name), 'utf8')) as Capture;
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bodyOf = (frameHex: string): Uint8Array => new Uint8Array(Buffer.from(frameHex, 'hex').subarray(4));

interface Checked {
  unimplemented: number[];
  requests: { xid: number; opCode: number; request: Request }[];
  replies: (Reply & { opCode: number })[];
  events: number;
}

/** Round-trips every frame of every client connection; returns what was decoded. */
function roundTrip(capture: Capture): Checked {
  const out: Checked = { unimplemented: [], requests: [], replies: [], events: 0 };
  for (const conn of capture.connections) {
    if (conn.label.startsWith('four-letter')) continue;
    const opOfXid = new Map<number, number>();
    let sawConnect = false;
    let sawConnected = false;
    for (const f of conn.frames) {
      const body = bodyOf(f.hex);
      if (f.dir === 'c2s') {
        if (!sawConnect) {
          sawConnect = true;
          expect(hex(encodeConnectRequest(decodeConnectRequest(body, 1 << 20)))).toBe(f.hex);
          continue;
        }
        const d = decodeRequest(body, 1 << 20);
        if (d.kind !== 'request') {
          out.unimplemented.push(d.opCode);
          opOfXid.set(d.xid, d.opCode);
          continue;
        }
        expect(hex(encodeRequest(d.xid, d.request))).toBe(f.hex);
        opOfXid.set(d.xid, d.opCode);
        out.requests.push({ xid: d.xid, opCode: d.opCode, request: d.request });
      } else {
        if (!sawConnected) {
          sawConnected = true;
          expect(hex(encodeConnectResponse(decodeConnectResponse(body)))).toBe(f.hex);
          continue;
        }
        const xid = Buffer.from(body).readInt32BE(0);
        const opCode = xid === -1 ? OpCode.notification : (opOfXid.get(xid) ?? NaN);
        const r = decodeReply(body, opCode);
        if ('event' in r) {
          expect(hex(encodeEvent(r.event))).toBe(f.hex);
          out.events++;
        } else {
          expect(hex(encodeReply(r))).toBe(f.hex);
          out.replies.push({ ...r, opCode });
        }
      }
    }
  }
  return out;
}

describe('jute codec against a real ZooKeeper 3.8 exchange (node-zookeeper-client)', () => {
  const got = roundTrip(load('nzk-exchange.json'));

  it('every request and reply round-trips byte for byte', () => {
    expect(got.requests.length).toBeGreaterThan(15);
    expect(got.replies.length).toBe(got.requests.length);
  });

  it('the notification arrives as xid -1 with a WatcherEvent (NodeDataChanged on /fx)', () => {
    expect(got.events).toBe(2);
  });

  it("ZooKeeper's error codes: NODEEXISTS, BADVERSION, NONODE, and a failed multi answers per op", () => {
    const errs = got.replies.map((r) => r.err);
    expect(errs).toContain(Code.NODEEXISTS);
    expect(errs).toContain(Code.BADVERSION);
    expect(errs).toContain(Code.NONODE);
    expect(errs).toContain(Code.NOTEMPTY);
    const failedMulti = got.replies.find((r) => r.body?.op === 'multi' && r.body.results.some((x) => x.op === 'error' && x.err !== 0));
    // The op before the failure answers 0, the failed check BADVERSION, the one after RUNTIMEINCONSISTENCY (T5).
    expect(failedMulti?.body).toEqual({
      op: 'multi',
      results: [
        { op: 'error', err: 0 },
        { op: 'error', err: Code.BADVERSION },
        { op: 'error', err: Code.RUNTIMEINCONSISTENCY },
      ],
    });
  });

  it('auth travels as xid -4, closeSession as op -11', () => {
    expect(got.requests.some((r) => r.xid === -4 && r.request.op === 'auth')).toBe(true);
    expect(got.requests.at(-1)?.request.op).toBe('closeSession');
  });
});

describe('jute codec against a real ZooKeeper 3.8 exchange (zkCli.sh, the Java client)', () => {
  const got = roundTrip(load('zkcli-exchange.json'));

  it('every request and reply round-trips byte for byte, pings (xid -2) included', () => {
    expect(got.requests.some((r) => r.xid === -2 && r.request.op === 'ping')).toBe(true);
    expect(got.replies.length).toBe(got.requests.length);
  });

  it('the Java client sends the 3.x op codes: createContainer, createTTL, getEphemerals, getAllChildrenNumber, addWatch, sync', () => {
    const ops = new Set(got.requests.map((r) => r.opCode));
    for (const op of [OpCode.createContainer, OpCode.createTTL, OpCode.getEphemerals, OpCode.getAllChildrenNumber, OpCode.addWatch, OpCode.sync, OpCode.setACL, OpCode.getACL, OpCode.multi]) {
      expect(ops.has(op), `op ${op}`).toBe(true);
    }
  });

  it('createTTL on a server without TTL nodes answers UNIMPLEMENTED', () => {
    const ttl = got.requests.find((r) => r.opCode === OpCode.createTTL);
    expect(ttl?.request).toMatchObject({ op: 'create', flags: 5, ttl: 5000 });
    expect(got.replies.find((r) => r.opCode === OpCode.createTTL)?.err).toBe(Code.UNIMPLEMENTED);
  });

  it('a connect request with the readOnly flag gets a connect response with it', () => {
    const zkcli = load('zkcli-exchange.json').connections[0];
    const [req, res] = [zkcli?.frames[0], zkcli?.frames[1]];
    expect(decodeConnectRequest(bodyOf(req?.hex ?? ''), 1 << 20).readOnly).toBe(false);
    expect(decodeConnectResponse(bodyOf(res?.hex ?? '')).readOnly).toBe(false);
  });
});

describe('jute codec against a real ZooKeeper 3.8 exchange (hand-built requests for the remaining op codes)', () => {
  const got = roundTrip(load('raw-exchange.json'));
  const replyTo = (op: number): (Reply & { opCode: number })[] => got.replies.filter((r) => r.opCode === op);

  it('every request and reply round-trips byte for byte', () => {
    expect(got.replies.length).toBe(got.requests.length + got.unimplemented.length);
  });

  it('addWatch answers an ErrorResponse of 0; checkWatches/removeWatches answer NOWATCHER when nothing matches', () => {
    expect(replyTo(OpCode.addWatch)[0]?.body).toEqual({ op: 'addWatch' });
    expect(replyTo(OpCode.checkWatches).map((r) => r.err)).toEqual([0, Code.NOWATCHER]);
    expect(replyTo(OpCode.removeWatches).map((r) => r.err)).toEqual([0, Code.NOWATCHER]);
  });

  it('setWatches with relative zxid 0 fires the changed data and child watches before its reply (W4)', () => {
    expect(got.events).toBeGreaterThanOrEqual(2);
  });

  it('multiRead answers each op on its own: data, children, and NONODE as an ErrorResult', () => {
    const r = replyTo(OpCode.multiRead)[0]?.body;
    expect(r?.op).toBe('multiRead');
    if (r?.op !== 'multiRead') return;
    expect(r.results.map((x) => x.op)).toEqual(['getData', 'getChildren', 'error']);
    expect(r.results[2]).toEqual({ op: 'error', err: Code.NONODE });
  });

  it('path and ACL errors: BADARGUMENTS for a relative path and for deleting /zookeeper, INVALIDACL for an empty ACL, NOTEMPTY', () => {
    const creates = replyTo(OpCode.create).map((r) => r.err);
    expect(creates).toEqual([Code.BADARGUMENTS, Code.INVALIDACL]);
    expect(replyTo(OpCode.delete).map((r) => r.err)).toEqual([Code.NOTEMPTY, Code.BADARGUMENTS]);
  });

  it('a null data buffer stays null (getData answers length -1)', () => {
    const r = replyTo(OpCode.getData)[0]?.body;
    expect(r).toMatchObject({ op: 'getData', data: null });
  });

  it('an unknown op code is answered UNIMPLEMENTED with zxid -1 (C3)', () => {
    expect(got.unimplemented).toEqual([999]);
    expect(replyTo(999)[0]).toMatchObject({ zxid: -1, err: Code.UNIMPLEMENTED });
  });
});
