import { Code } from '../errors.js';
import type { CoordConfig } from '../config.js';
import { KeeperState, OpCode, Perm, EventType, type ConnectRequest, type ConnectResponse, type Id, type MultiResult, type Reply, type Request, type Response, type WatchEvent } from '../protocol.js';
import { aclAllows, digestId, type Principal } from '../tree/acl.js';
import { pathError } from '../tree/path.js';
import { reapable } from '../tree/prepare.js';
import type { CoordTxn, TxnResult } from '../tree/txn.js';
import { SessionTracker, negotiateTimeout } from '../session/session-tracker.js';
import { WatchManager } from '../watch/watch-manager.js';
import { TreeStateMachine } from '../state-machine.js';
import type { AppliedTxn, EnsembleRequest } from '../ensemble/machine.js';

/**
 * What the core needs from a Zab server when it is one server of an ensemble (README "Assembled
 * server"). Writes are submitted and answered from `CoordServerCore.applied`, which the state
 * machine calls as it applies each committed transaction; `onFailed` says the write will not be
 * answered here (not ready, leader changed, queue full, timeout): the connection is closed and the
 * client moves on with its session, as after a ZooKeeper server's CONNECTIONLOSS.
 */
export interface EnsembleBackend {
  readonly serverId: number;
  submit(request: EnsembleRequest, onFailed: (reason: string) => void): void;
  /** Zab's sync: resolves once everything the leader had proposed before it is applied here; a string is the failure. */
  sync(): Promise<string | undefined>;
  /** Sessions with traffic here, for the leader's expiry decisions (S2). */
  touch(sessions: readonly bigint[]): void;
  /** This server leads an established epoch: it alone expires sessions and reaps nodes. */
  readonly leading: boolean;
}

interface Queued {
  readonly xid: number;
  readonly req: Request;
  readonly now: number;
}

/**
 * One coordination server's request processing, pure (time comes in as `now`, randomness as a
 * function): connections and their sessions, the session tracker, watches, and the path from a
 * request to its reply. Both front ends drive it — the TCP listener speaking ZooKeeper's wire
 * protocol (node/tcp-server.ts) and the actor serving native clients (server/server-actor.ts).
 *
 * Standalone mode (no backend): this server is the leader of an ensemble of one. A write is
 * prepared, given the next zxid and applied at once (`commit`); the state lives in memory only.
 *
 * Ensemble mode (an `EnsembleBackend`, README "Assembled server"): writes, new sessions and
 * session ends go through Zab and are answered from `applied`, in zxid order; each connection's
 * other requests wait for its earlier writes (`pump`); only the leader expires sessions.
 */

/** What the core hands to a connection, in the order the client must see it (W3). */
export type ServerOutput =
  | { readonly kind: 'connected'; readonly response: ConnectResponse }
  | { readonly kind: 'reply'; readonly reply: Reply }
  | { readonly kind: 'event'; readonly event: WatchEvent };

export interface ConnectionSink {
  /** The client's address (for `ip` ACLs and 4lw output). */
  readonly address: string;
  deliver(out: ServerOutput): void;
  /** Close the connection after what was delivered; `reason` goes to the log. */
  close(reason: string): void;
}

interface Connection {
  readonly id: number;
  readonly sink: ConnectionSink;
  sessionId: bigint | undefined;
  readonly authIds: Id[];
  /** Requests received and not yet answered (C7). */
  outstanding: number;
  received: number;
  sent: number;
  closed: boolean;
  lastZxid: number;
  /** Ensemble mode: requests not yet started, in arrival order (FIFO per connection). */
  readonly queue: Queued[];
  /** Ensemble mode: writes submitted and not yet applied, by sequence number (answered in order). */
  readonly awaiting: Map<number, Queued>;
  seq: number;
  syncing: boolean;
  /** Ensemble mode: a new session's createSession is in flight. */
  connecting: { readonly timeoutMs: number; readonly passwd: Uint8Array; readonly readOnly: boolean | undefined; readonly sessionId: bigint } | undefined;
}

export interface ServerLog {
  (level: 'info' | 'warn', message: string, fields?: Record<string, unknown>): void;
}

export interface ServerStats {
  readonly received: number;
  readonly sent: number;
  readonly connections: number;
  readonly outstanding: number;
  readonly zxid: number;
  readonly nodeCount: number;
  readonly watchCount: number;
  readonly ephemeralsCount: number;
  readonly approximateDataBytes: number;
  readonly sessions: number;
  readonly latency: { min: number; avg: number; max: number };
}

const ZEROS16 = new Uint8Array(16);

export class CoordServerCore {
  machine: TreeStateMachine;
  readonly sessions: SessionTracker;
  readonly watches = new WatchManager();
  private readonly connections = new Map<number, Connection>();
  private readonly sessionConnection = new Map<bigint, number>();
  private nextConnectionId = 1;
  private received = 0;
  private sent = 0;
  private latencySum = 0;
  private latencyCount = 0;
  private latencyMin = Infinity;
  private latencyMax = 0;
  private lastReapAt: number;
  /** Ensemble mode: sessions that sent something since the last tick (passed to the leader). */
  private readonly touchedSinceTick = new Set<bigint>();

  constructor(
    readonly config: CoordConfig,
    nowMs: number,
    private readonly randomBytes: (n: number) => Uint8Array,
    private readonly log: ServerLog = () => {},
    private readonly backend?: EnsembleBackend,
  ) {
    this.machine = new TreeStateMachine(config);
    this.sessions = new SessionTracker(config.tickTimeMs, config.serverId, nowMs);
    this.lastReapAt = nowMs;
  }

  get tree() {
    return this.machine.tree;
  }

  // ---- connections ------------------------------------------------------------------------

  open(sink: ConnectionSink): number | undefined {
    if (this.connections.size >= this.config.connectionsMax) {
      sink.close(`too many connections (${this.config.connectionsMax})`);
      return undefined;
    }
    const id = this.nextConnectionId++;
    this.connections.set(id, { id, sink, sessionId: undefined, authIds: [{ scheme: 'ip', id: sink.address.replace(/^::ffff:/, '') }], outstanding: 0, received: 0, sent: 0, closed: false, lastZxid: 0, queue: [], awaiting: new Map(), seq: 0, syncing: false, connecting: undefined });
    return id;
  }

  /**
   * The transport lost the connection; the session lives on until it expires (S3). Its watches at
   * this server go with the connection, as ZooKeeper removes a closed connection's watches: the
   * client re-registers them with setWatches wherever it reconnects (W4), so none left behind here
   * can fire a second time for one registration (W1).
   */
  closed(connId: number): void {
    const c = this.connections.get(connId);
    if (!c) return;
    c.closed = true;
    this.connections.delete(connId);
    if (c.sessionId !== undefined && this.sessionConnection.get(c.sessionId) === connId) {
      this.sessionConnection.delete(c.sessionId);
      this.watches.removeSession(c.sessionId);
    }
  }

  private drop(c: Connection, reason: string): void {
    if (c.closed) return;
    this.log('info', `closing connection: ${reason}`, { connection: c.id, session: c.sessionId === undefined ? undefined : hex(c.sessionId) });
    c.sink.close(reason);
    this.closed(c.id);
  }

  private send(c: Connection, out: ServerOutput): void {
    if (c.closed) return;
    c.sent++;
    this.sent++;
    c.sink.deliver(out);
  }

  // ---- connect (S1, S3, S5) ------------------------------------------------------------------

  connect(connId: number, req: ConnectRequest, now: number): void {
    const c = this.connections.get(connId);
    if (!c) return;
    c.received++;
    this.received++;
    if (c.sessionId !== undefined) return this.drop(c, 'second connect request on one connection');
    if (req.lastZxidSeen > this.machine.lastZxid) {
      // The client has seen a newer state than ours: it must find another server (C6; ZooKeeper refuses the same way).
      return this.drop(c, `client has seen zxid 0x${req.lastZxidSeen.toString(16)}, ours is 0x${this.machine.lastZxid.toString(16)}`);
    }
    const readOnly = req.readOnly === undefined ? {} : { readOnly: false };
    if (req.sessionId === 0n && this.backend) {
      if (c.connecting) return this.drop(c, 'second connect request on one connection');
      const timeoutMs = negotiateTimeout(req.timeOut, this.config.minSessionTimeoutMs, this.config.maxSessionTimeoutMs);
      const sessionId = this.sessions.allocateId();
      const passwd = this.randomBytes(16);
      c.connecting = { timeoutMs, passwd, readOnly: req.readOnly, sessionId };
      this.backend.submit({ kind: 'createSession', sessionId, timeoutMs, passwd, tag: { server: this.backend.serverId, conn: c.id, seq: -1 } }, (reason) => this.drop(c, `session not created: ${reason}`));
      return;
    }
    if (req.sessionId === 0n) {
      const timeoutMs = negotiateTimeout(req.timeOut, this.config.minSessionTimeoutMs, this.config.maxSessionTimeoutMs);
      const sessionId = this.sessions.allocateId();
      const passwd = this.randomBytes(16);
      this.commit({ type: 'createSession', sessionId, timeoutMs, passwd }, now);
      this.sessions.add(sessionId, timeoutMs, now);
      this.attach(c, sessionId);
      this.send(c, { kind: 'connected', response: { protocolVersion: 0, timeOut: timeoutMs, sessionId, passwd, ...readOnly } });
      return;
    }
    const known = this.tree.sessions.get(req.sessionId);
    const valid = known !== undefined && this.sessions.isLive(req.sessionId) && equalBytes(known.passwd, req.passwd);
    if (!valid) {
      // Unknown, expired or wrong password: ZooKeeper answers timeout 0 (the client reports the
      // session expired) and closes the connection.
      this.send(c, { kind: 'connected', response: { protocolVersion: 0, timeOut: 0, sessionId: 0n, passwd: ZEROS16, ...readOnly } });
      return this.drop(c, known === undefined || !this.sessions.isLive(req.sessionId) ? `session 0x${hex(req.sessionId)} expired or unknown` : `wrong password for session 0x${hex(req.sessionId)}`);
    }
    this.sessions.touch(req.sessionId, now);
    // S7: the leader learns that this server owns the session now, ahead of any request the client
    // sends here (one server's submissions reach the leader in order), so a write still in flight
    // through the server it left fails with SESSIONMOVED instead of being ordered after these.
    // The answer is always a refusal (`revalidated`); a lost one leaves the owner to the next epoch.
    this.backend?.submit({ kind: 'revalidate', sessionId: req.sessionId, server: this.backend.serverId }, () => {});
    this.attach(c, req.sessionId);
    this.send(c, { kind: 'connected', response: { protocolVersion: 0, timeOut: known.timeoutMs, sessionId: req.sessionId, passwd: known.passwd, ...readOnly } });
  }

  private attach(c: Connection, sessionId: bigint): void {
    const old = this.sessionConnection.get(sessionId);
    if (old !== undefined && old !== c.id) {
      const oc = this.connections.get(old);
      if (oc) this.drop(oc, `session 0x${hex(sessionId)} moved to another connection`);
    }
    c.sessionId = sessionId;
    this.sessionConnection.set(sessionId, c.id);
  }

  // ---- requests ---------------------------------------------------------------------------

  /**
   * A request whose body could not be decoded: the stream can no longer be trusted, so the
   * connection is closed with the reason logged (C2), as ZooKeeper does. The session lives on.
   */
  malformed(connId: number, reason: string): void {
    const c = this.connections.get(connId);
    if (c) this.drop(c, `malformed request: ${reason}`);
  }

  /**
   * An op code this server does not serve (sasl, reconfig, unknown numbers): ZooKeeper answers
   * UNIMPLEMENTED with zxid -1 and closes the connection (C3; observed from ZooKeeper 3.8).
   */
  unimplemented(connId: number, xid: number, opCode: number): void {
    const c = this.connections.get(connId);
    if (!c) return;
    c.received++;
    this.received++;
    if (c.sessionId !== undefined) this.send(c, { kind: 'reply', reply: { xid, zxid: -1, err: Code.UNIMPLEMENTED } });
    this.drop(c, `unimplemented op code ${opCode}`);
  }

  request(connId: number, xid: number, req: Request, now: number): void {
    const c = this.connections.get(connId);
    if (!c) return;
    c.received++;
    this.received++;
    const sessionId = c.sessionId;
    if (sessionId === undefined) return this.drop(c, 'request before connect');
    if (c.outstanding >= this.config.outstandingPerConnectionMax) {
      return this.drop(c, `more than ${this.config.outstandingPerConnectionMax} outstanding requests`);
    }
    if (this.backend) this.touchedSinceTick.add(sessionId);
    if (!this.sessions.touch(sessionId, now)) {
      this.send(c, { kind: 'reply', reply: { xid, zxid: this.machine.lastZxid, err: Code.SESSIONEXPIRED } });
      return this.drop(c, `request on expired session 0x${hex(sessionId)}`);
    }
    c.outstanding++;
    if (this.backend) {
      c.queue.push({ xid, req, now });
      this.pump(c);
      return;
    }
    const started = now;
    const reply = this.process(c, sessionId, xid, req, now);
    c.outstanding--;
    if (reply) {
      this.recordLatency(now - started);
      this.send(c, { kind: 'reply', reply });
    }
    if (req.op === 'closeSession') this.drop(c, `session 0x${hex(sessionId)} closed by the client`);
    else if (req.op === 'auth' && reply?.err === Code.AUTHFAILED) this.drop(c, `authentication failed (scheme ${req.scheme})`);
  }

  private recordLatency(ms: number): void {
    this.latencySum += ms;
    this.latencyCount++;
    this.latencyMin = Math.min(this.latencyMin, ms);
    this.latencyMax = Math.max(this.latencyMax, ms);
  }

  private principal(c: Connection): Principal {
    return { authIds: c.authIds, address: c.sink.address };
  }

  private process(c: Connection, sessionId: bigint, xid: number, req: Request, now: number): Reply | undefined {
    const ok = (body: Response, zxid = this.machine.lastZxid): Reply => ({ xid, zxid, err: 0, body });
    const err = (code: number, zxid = this.machine.lastZxid): Reply => ({ xid, zxid, err: code });
    const tree = this.tree;
    const readable = (path: string): { node: NonNullable<ReturnType<typeof tree.getNode>> } | { code: number } => {
      if (pathError(path) !== undefined) return { code: Code.BADARGUMENTS };
      const node = tree.getNode(path);
      if (!node) return { code: Code.NONODE };
      if (!aclAllows(node.acl, Perm.READ, this.principal(c))) return { code: Code.NOAUTH };
      return { node };
    };
    switch (req.op) {
      case 'ping':
        return ok({ op: 'empty' });
      case 'create':
      case 'delete':
      case 'setData':
      case 'setACL':
      case 'check':
      case 'multi': {
        const zxid = this.machine.lastZxid + 1;
        const txn = this.machine.prepare(req, { sessionId, principal: this.principal(c), zxid, config: this.config });
        const { result } = this.commit(txn, now);
        if (result.type === 'error') return err(result.err, zxid);
        return ok(this.toResponse(req, result), zxid);
      }
      case 'closeSession': {
        this.sessions.setClosing(sessionId);
        this.closeSession(sessionId, now);
        return ok({ op: 'empty' });
      }
      case 'exists': {
        if (pathError(req.path) !== undefined) return err(Code.BADARGUMENTS);
        const node = tree.getNode(req.path);
        if (req.watch && this.watchRoom(sessionId)) this.watches.addData(req.path, sessionId);
        return node ? ok({ op: 'exists', stat: tree.statOf(node) }) : err(Code.NONODE);
      }
      case 'getData': {
        const r = readable(req.path);
        if ('code' in r) return err(r.code);
        if (req.watch && this.watchRoom(sessionId)) this.watches.addData(req.path, sessionId);
        return ok({ op: 'getData', data: r.node.data, stat: tree.statOf(r.node) });
      }
      case 'getChildren': {
        const r = readable(req.path);
        if ('code' in r) return err(r.code);
        if (req.watch && this.watchRoom(sessionId)) this.watches.addChild(req.path, sessionId);
        const children = [...r.node.children];
        return ok(req.withStat ? { op: 'getChildren', children, stat: tree.statOf(r.node) } : { op: 'getChildren', children });
      }
      case 'multiRead': {
        const results: MultiResult[] = req.ops.map((op) => {
          const r = readable(op.path);
          if ('code' in r) return { op: 'error', err: r.code };
          if (op.op === 'getData') {
            if (op.watch && this.watchRoom(sessionId)) this.watches.addData(op.path, sessionId);
            return { op: 'getData', data: r.node.data, stat: tree.statOf(r.node) };
          }
          if (op.watch && this.watchRoom(sessionId)) this.watches.addChild(op.path, sessionId);
          return { op: 'getChildren', children: [...r.node.children] };
        });
        return ok({ op: 'multiRead', results });
      }
      case 'getACL': {
        if (pathError(req.path) !== undefined) return err(Code.BADARGUMENTS);
        const node = tree.getNode(req.path);
        if (!node) return err(Code.NONODE);
        const who = this.principal(c);
        if (!aclAllows(node.acl, Perm.READ | Perm.ADMIN, who)) return err(Code.NOAUTH);
        // Without ADMIN a client sees digest ids with the hash replaced by "x" (T6; as ZooKeeper 3.8 answers).
        const acl = aclAllows(node.acl, Perm.ADMIN, who) ? node.acl : node.acl.map((e) => (e.id.scheme === 'digest' ? { perms: e.perms, id: { scheme: 'digest', id: `${e.id.id.split(':')[0] ?? ''}:x` } } : e));
        return ok({ op: 'getACL', acl, stat: tree.statOf(node) });
      }
      case 'getAllChildrenNumber': {
        const r = readable(req.path);
        if ('code' in r) return err(r.code);
        return ok({ op: 'getAllChildrenNumber', totalNumber: tree.descendantCount(req.path) });
      }
      case 'getEphemerals': {
        const prefix = req.prefixPath;
        const all = [...tree.ephemeralsOf(sessionId)].filter((p) => prefix === '/' || p.startsWith(prefix)).sort();
        return ok({ op: 'getEphemerals', ephemerals: all });
      }
      case 'sync':
        // Standalone: every write is applied before the next request is read, so sync is immediate.
        if (pathError(req.path) !== undefined) return err(Code.BADARGUMENTS);
        return ok({ op: 'sync', path: req.path });
      case 'addWatch': {
        if (pathError(req.path) !== undefined) return err(Code.BADARGUMENTS);
        if (req.mode !== 0 && req.mode !== 1) return err(Code.BADARGUMENTS);
        if (!this.watchRoom(sessionId)) return err(Code.THROTTLEDOP);
        this.watches.addPersistent(req.path, sessionId, req.mode === 1);
        return ok({ op: 'addWatch' });
      }
      case 'removeWatches':
        return this.watches.remove(req.path, req.type, sessionId) ? ok({ op: 'empty' }) : err(Code.NOWATCHER);
      case 'checkWatches':
        return this.watches.check(req.path, req.type, sessionId) ? ok({ op: 'empty' }) : err(Code.NOWATCHER);
      case 'setWatches':
        this.setWatches(c, sessionId, req);
        return ok({ op: 'empty' });
      case 'auth': {
        if (req.scheme === 'digest') {
          const text = new TextDecoder().decode(req.auth);
          if (!text.includes(':')) return { xid, zxid: 0, err: Code.AUTHFAILED };
          const id: Id = { scheme: 'digest', id: digestId(text) };
          if (!c.authIds.some((a) => a.scheme === id.scheme && a.id === id.id)) c.authIds.push(id);
          return { xid, zxid: 0, err: 0 };
        }
        if (req.scheme === 'ip') return { xid, zxid: 0, err: 0 };
        return { xid, zxid: 0, err: Code.AUTHFAILED };
      }
      case 'whoAmI':
        return ok({ op: 'whoAmI', clientInfo: c.authIds.map((a) => ({ authScheme: a.scheme, user: a.id })) });
      default: {
        const never: never = req;
        throw new Error(`unknown request ${JSON.stringify(never)}`);
      }
    }
  }

  private watchRoom(sessionId: bigint): boolean {
    return this.watches.countOf(sessionId) < this.config.watchesPerSessionMax;
  }

  /**
   * setWatches after a reconnect (W4): a watch whose condition already changed since the client's
   * last zxid fires now; the others are registered again.
   */
  private setWatches(c: Connection, sessionId: bigint, req: Extract<Request, { op: 'setWatches' }>): void {
    const tree = this.tree;
    const rel = req.relativeZxid;
    const fire = (type: number, path: string): void => this.send(c, { kind: 'event', event: { type, state: KeeperState.SyncConnected, path } });
    for (const p of req.dataWatches) {
      const n = tree.getNode(p);
      if (!n) fire(EventType.NodeDeleted, p);
      else if (n.stat.mzxid > rel) fire(EventType.NodeDataChanged, p);
      else if (this.watchRoom(sessionId)) this.watches.addData(p, sessionId);
    }
    for (const p of req.existWatches) {
      const n = tree.getNode(p);
      if (n) fire(EventType.NodeCreated, p);
      else if (this.watchRoom(sessionId)) this.watches.addData(p, sessionId);
    }
    for (const p of req.childWatches) {
      const n = tree.getNode(p);
      if (!n) fire(EventType.NodeDeleted, p);
      else if (n.stat.pzxid > rel) fire(EventType.NodeChildrenChanged, p);
      else if (this.watchRoom(sessionId)) this.watches.addChild(p, sessionId);
    }
    for (const p of req.persistentWatches) if (this.watchRoom(sessionId)) this.watches.addPersistent(p, sessionId, false);
    for (const p of req.persistentRecursiveWatches) if (this.watchRoom(sessionId)) this.watches.addPersistent(p, sessionId, true);
  }

  private toResponse(req: Request, result: TxnResult, inMulti = false): Response {
    switch (result.type) {
      case 'create':
        // Inside a multi every create answers a plain CreateResult (path only), whatever its op code (observed from ZooKeeper 3.8).
        return req.op === 'create' && req.opCode !== OpCode.create && !inMulti ? { op: 'create', path: result.path, stat: result.stat } : { op: 'create', path: result.path };
      case 'delete':
        return { op: 'delete' };
      case 'setData':
        return { op: 'setData', stat: result.stat };
      case 'setACL':
        return { op: 'setACL', stat: result.stat };
      case 'check':
        return { op: 'check' };
      case 'multi': {
        const ops = req.op === 'multi' ? req.ops : [];
        return {
          op: 'multi',
          results: result.results.map((r, i): MultiResult => (r.type === 'error' ? { op: 'error', err: r.err } : this.toResponse(ops[i] ?? req, r, true))),
        };
      }
      default:
        throw new Error(`no response for txn result ${result.type}`);
    }
  }

  // ---- ensemble mode ----------------------------------------------------------------------

  /**
   * Starts a connection's queued requests in its order (FIFO per client; the only FIFO mechanism
   * of the assembled server, README "Assembled server"; ZooKeeper review §3: "the FIFO ordering of
   * client operations enables asynchronous operations (multiple consecutive operations without
   * reply)"): writes are submitted to Zab as they come
   * (pipelined; Zab orders one server's submissions in submission order and they are answered
   * from `applied` in zxid order); any other request waits until every earlier write of the
   * connection is applied here, then runs on the local tree — so a client reads its own writes.
   */
  private pump(c: Connection): void {
    const backend = this.backend as EnsembleBackend;
    while (!c.closed && c.queue.length > 0) {
      const q = c.queue[0] as Queued;
      const sessionId = c.sessionId as bigint;
      const req = q.req;
      if (req.op === 'create' || req.op === 'delete' || req.op === 'setData' || req.op === 'setACL' || req.op === 'check' || req.op === 'multi' || req.op === 'closeSession') {
        c.queue.shift();
        const seq = c.seq++;
        c.awaiting.set(seq, q);
        const tag = { server: backend.serverId, conn: c.id, seq };
        const failed = (reason: string): void => {
          if (c.awaiting.has(seq)) this.drop(c, `request ${q.xid} not committed: ${reason}`);
        };
        if (req.op === 'closeSession') {
          this.sessions.setClosing(sessionId);
          backend.submit({ kind: 'closeSession', sessionId, tag }, failed);
        } else backend.submit({ kind: 'write', request: req, sessionId, authIds: c.authIds.map((a) => ({ ...a })), address: c.sink.address, tag }, failed);
        continue;
      }
      if (c.awaiting.size > 0 || c.syncing) return;
      c.queue.shift();
      if (req.op === 'sync') {
        if (pathError(req.path) !== undefined) {
          this.answer(c, { xid: q.xid, zxid: this.machine.lastZxid, err: Code.BADARGUMENTS }, q.now);
          continue;
        }
        c.syncing = true;
        void backend.sync().then((failure) => {
          c.syncing = false;
          if (failure !== undefined) return this.drop(c, `sync failed: ${failure}`);
          this.answer(c, { xid: q.xid, zxid: this.machine.lastZxid, err: 0, body: { op: 'sync', path: req.path } }, q.now);
          this.pump(c);
        });
        return;
      }
      const reply = this.process(c, sessionId, q.xid, req, q.now);
      if (reply) this.answer(c, reply, q.now);
      else c.outstanding--;
      if (req.op === 'auth' && reply?.err === Code.AUTHFAILED) this.drop(c, `authentication failed (scheme ${req.scheme})`);
    }
  }

  private answer(c: Connection, reply: Reply, _started: number): void {
    c.outstanding--;
    this.send(c, { kind: 'reply', reply });
  }

  /** The state machine under this core changed (a Zab server builds a new one at start and on SNAP). */
  attachMachine(machine: TreeStateMachine, now: number): void {
    this.machine = machine;
    this.resyncSessions(now);
  }

  /** The session tracker follows the replicated session table (after a restore). */
  resyncSessions(now: number): void {
    const table = this.tree.sessions;
    for (const id of this.sessions.liveSessions()) if (!table.has(id)) this.sessions.remove(id);
    for (const [id, s] of table) if (!this.sessions.isLive(id)) this.sessions.add(id, s.timeoutMs, now);
  }

  /**
   * A committed transaction was applied to this server's tree (every server, zxid order): its
   * watch events go out to this server's clients first, then — on the server the request came
   * to — the reply (W3).
   */
  applied(a: AppliedTxn, now: number): void {
    this.fire(a.events);
    const txn = a.body.txn;
    const mine = a.body.tag !== undefined && this.backend !== undefined && a.body.tag.server === this.backend.serverId ? a.body.tag : undefined;
    const c = mine === undefined ? undefined : this.connections.get(mine.conn);
    if (txn.type === 'createSession') {
      if (!this.sessions.isLive(txn.sessionId)) this.sessions.add(txn.sessionId, txn.timeoutMs, now);
      if (c?.connecting !== undefined && c.connecting.sessionId === txn.sessionId) {
        const readOnly = c.connecting.readOnly === undefined ? {} : { readOnly: false };
        c.connecting = undefined;
        this.attach(c, txn.sessionId);
        this.send(c, { kind: 'connected', response: { protocolVersion: 0, timeOut: txn.timeoutMs, sessionId: txn.sessionId, passwd: txn.passwd, ...readOnly } });
      }
      return;
    }
    const q = c !== undefined && mine !== undefined ? c.awaiting.get(mine.seq) : undefined;
    if (c !== undefined && q !== undefined && mine !== undefined) {
      c.awaiting.delete(mine.seq);
      const result = a.result;
      const reply: Reply = q.req.op === 'closeSession' && result.type !== 'error' ? { xid: q.xid, zxid: a.zxid, err: 0, body: { op: 'empty' } } : result.type === 'error' ? { xid: q.xid, zxid: a.zxid, err: result.err } : { xid: q.xid, zxid: a.zxid, err: 0, body: this.toResponse(q.req, result) };
      this.recordLatency(now - q.now);
      this.answer(c, reply, q.now);
      // S7: the session moved to another server; this connection is stale (ZooKeeper closes it the same way).
      if (reply.err === Code.SESSIONMOVED) {
        // A refused close leaves the session as it was here (pump marked it closing).
        if (q.req.op === 'closeSession' && c.sessionId !== undefined) this.sessions.reopen(c.sessionId, now);
        this.drop(c, `session 0x${hex(c.sessionId ?? 0n)} moved to another server`);
        return;
      }
    }
    if (txn.type === 'closeSession') {
      this.sessions.remove(txn.sessionId);
      this.watches.removeSession(txn.sessionId);
      const connId = this.sessionConnection.get(txn.sessionId);
      const sc = connId === undefined ? undefined : this.connections.get(connId);
      if (sc) this.drop(sc, `session 0x${hex(txn.sessionId)} closed`);
      return;
    }
    if (c !== undefined) this.pump(c);
  }

  /** Leader: sessions with traffic at another server. */
  touched(sessions: readonly bigint[], now: number): void {
    for (const id of sessions) this.sessions.touch(id, now);
  }

  /** This server became the leader (or stopped being it): a new leader gives every session a fresh timeout, as ZooKeeper's does. */
  leadershipChanged(leading: boolean, now: number): void {
    if (leading) for (const id of this.sessions.liveSessions()) this.sessions.touch(id, now);
  }

  private ensembleTick(now: number, backend: EnsembleBackend): void {
    // Sessions with traffic here since the last tick (requests and pings; S2 — a session whose
    // client stays silent expires even with its connection open, as in ZooKeeper).
    const live = [...this.touchedSinceTick];
    this.touchedSinceTick.clear();
    if (!backend.leading) {
      if (live.length > 0) backend.touch(live);
      return;
    }
    for (const sessionId of this.sessions.expire(now)) {
      this.log('info', `session 0x${hex(sessionId)} expired`, {});
      backend.submit({ kind: 'closeSession', sessionId }, (reason) => {
        this.log('warn', `expiry of session 0x${hex(sessionId)} not committed: ${reason}`, {});
        // Not closed: let a later tick decide again.
        if (this.tree.sessions.has(sessionId)) this.sessions.add(sessionId, this.tree.sessions.get(sessionId)?.timeoutMs ?? 0, now);
      });
    }
    if (now - this.lastReapAt >= this.config.containerCheckIntervalMs) {
      this.lastReapAt = now;
      for (const path of reapable(this.tree, now)) backend.submit({ kind: 'write', request: { op: 'delete', path, version: -1 }, sessionId: 0n, authIds: [{ scheme: 'super', id: 'reaper' }], address: '' }, () => {});
    }
  }

  private fire(events: readonly { type: number; path: string; acl: readonly import('../protocol.js').Acl[] }[]): void {
    for (const ev of events) {
      for (const d of this.watches.trigger(ev)) {
        const connId = this.sessionConnection.get(d.sessionId);
        const c = connId === undefined ? undefined : this.connections.get(connId);
        // A watcher without READ on the node hears nothing, and its one-time watch is spent (W5; as ZooKeeper 3.8 does).
        if (c && aclAllows(ev.acl, Perm.READ, this.principal(c))) this.send(c, { kind: 'event', event: { type: d.type, state: KeeperState.SyncConnected, path: d.path } });
      }
    }
  }

  // ---- commit (standalone) ----------------------------------------------------------------

  /**
   * Standalone commit: the next zxid, applied at once, then the watch events of the change
   * delivered to their sessions' connections — before the caller sends the reply (W3).
   */
  private commit(txn: CoordTxn, now: number): { zxid: number; result: TxnResult } {
    const zxid = this.machine.lastZxid + 1;
    const { result, events } = this.machine.apply(txn, zxid, now);
    this.fire(events);
    return { zxid, result };
  }

  private closeSession(sessionId: bigint, now: number): void {
    const zxid = this.machine.lastZxid + 1;
    const txn = this.machine.prepare({ op: 'closeSession', sessionId }, { sessionId, principal: { authIds: [], address: '' }, zxid, config: this.config });
    this.commit(txn, now);
    this.sessions.remove(sessionId);
    this.watches.removeSession(sessionId);
  }

  /**
   * Time passes: expire sessions whose bucket is due (S2: the leader decides, by a closeSession
   * transaction) and, every containerCheckIntervalMs, delete empty containers and expired TTL nodes.
   */
  tick(now: number): void {
    if (this.backend) return this.ensembleTick(now, this.backend);
    for (const sessionId of this.sessions.expire(now)) {
      this.log('info', `session 0x${hex(sessionId)} expired`, {});
      this.closeSession(sessionId, now);
      const connId = this.sessionConnection.get(sessionId);
      const c = connId === undefined ? undefined : this.connections.get(connId);
      if (c) this.drop(c, `session 0x${hex(sessionId)} expired`);
    }
    if (now - this.lastReapAt >= this.config.containerCheckIntervalMs) {
      this.lastReapAt = now;
      this.reap(now);
    }
  }

  /** Deletes empty containers and expired TTL nodes now (the periodic check calls it; tests may too). */
  reap(now: number): string[] {
    const deleted: string[] = [];
    for (const path of reapable(this.tree, now)) {
      const zxid = this.machine.lastZxid + 1;
      const txn = this.machine.prepare({ op: 'delete', path, version: -1 }, { sessionId: 0n, principal: { authIds: [{ scheme: 'super', id: 'reaper' }], address: '' }, zxid, config: this.config });
      if (txn.type === 'error') continue;
      this.commit(txn, now);
      deleted.push(path);
    }
    return deleted;
  }

  // ---- observability (4lw, tests) -----------------------------------------------------------

  stats(): ServerStats {
    let outstanding = 0;
    for (const c of this.connections.values()) outstanding += c.outstanding;
    return {
      received: this.received,
      sent: this.sent,
      connections: this.connections.size,
      outstanding,
      zxid: this.machine.lastZxid,
      nodeCount: this.tree.nodeCount,
      watchCount: this.watches.total,
      ephemeralsCount: this.tree.ephemeralCount,
      approximateDataBytes: this.tree.approximateDataBytes,
      sessions: this.sessions.size,
      latency: { min: this.latencyCount ? this.latencyMin : 0, avg: this.latencyCount ? this.latencySum / this.latencyCount : 0, max: this.latencyMax },
    };
  }

  connectionStats(): { address: string; received: number; sent: number; sessionId: bigint | undefined; outstanding: number }[] {
    return [...this.connections.values()].map((c) => ({ address: c.sink.address, received: c.received, sent: c.sent, sessionId: c.sessionId, outstanding: c.outstanding }));
  }
}

export function hex(id: bigint): string {
  return BigInt.asUintN(64, id).toString(16);
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

