import type { ActorFactory, SpawnOptions } from '../../../runtime/behavior.js';
import type { ActorRef } from '../../../runtime/ref.js';
import { Code, CoordClientError } from '../errors.js';
import { AddWatchMode, CreateFlag, EventType, OpCode, Xid, type Acl, type CoordClientMsg, type CoordServerMsg, type MultiResult, type Reply, type Request, type Response, type Stat, type WatchEvent, type WriteOp } from '../protocol.js';
import { OPEN_ACL_UNSAFE } from '../tree/acl.js';

/**
 * The native client: ZooKeeper's operations over actor messages, for Troupe's own components
 * (README "Native client"). Same semantics as a ZooKeeper client: requests are answered in the
 * order sent (FIFO), a watch callback runs before the reply of any request that reflects the
 * change (W3), one-time watches fire at most once (W1), and the session lives until closed or
 * expired (its ephemerals with it).
 *
 * Given several servers (an ensemble), it fails over as ZooKeeper's ClientCnxn does: when its
 * connection is closed or falls silent for two thirds of the session timeout, every request in
 * flight fails with CONNECTIONLOSS (it may or may not have happened), and the client connects to
 * the next server with the same session id and password and the last zxid it saw (a server that
 * is behind refuses it, C6). Once reconnected it re-registers its watches with setWatches from that
 * zxid (W4), so a watch whose condition changed while it was away fires before anything else is
 * answered. A server that answers the reconnect with timeout 0 means the ensemble expired the
 * session: every later call fails with SESSIONEXPIRED. Calls made while disconnected fail at once
 * with CONNECTIONLOSS.
 *
 * It spawns one small connection actor (wherever `spawner` spawns: an ActorSystem, an actor's
 * context, a testkit). That actor receives the server's replies and events, sends pings to keep
 * the session alive, fails requests that wait longer than `requestTimeoutMs`, and ignores
 * anything that still arrives from a connection it has given up on.
 */

export interface CoordClientOptions {
  /** Requested session timeout (the server clamps it to [2, 20] ticks). */
  readonly sessionTimeoutMs?: number;
  /** How long a request may wait for its reply before failing with OPERATIONTIMEOUT. */
  readonly requestTimeoutMs?: number;
  /** Requests sent and not yet answered; beyond it calls fail with THROTTLEDOP at once. */
  readonly outstandingMax?: number;
  /** Name of the connection actor. */
  readonly name?: string;
  /** Connection state changes (ZooKeeper's default watcher sees the same: Disconnected, SyncConnected, Expired, Closed). */
  readonly onState?: (state: ClientState) => void;
  /** Sees, in arrival order, every reply and event the client accepts (tests check W1 and W3 from it). */
  readonly trace?: (entry: TraceEntry) => void;
}

export type ClientState = 'connected' | 'disconnected' | 'expired' | 'closed';

export type TraceEntry =
  | { readonly kind: 'reply'; readonly server: number; readonly request: Request | undefined; readonly reply: Reply }
  | { readonly kind: 'event'; readonly server: number; readonly event: WatchEvent }
  | { readonly kind: 'state'; readonly server: number; readonly state: ClientState; readonly sessionId: bigint };

export interface Spawner {
  spawn<M>(factory: ActorFactory<M>, options?: SpawnOptions): ActorRef<M>;
}

export type CreateMode = 'persistent' | 'ephemeral' | 'persistent_sequential' | 'ephemeral_sequential' | 'container' | 'persistent_with_ttl' | 'persistent_sequential_with_ttl';

const FLAGS: Record<CreateMode, number> = {
  persistent: CreateFlag.persistent,
  ephemeral: CreateFlag.ephemeral,
  persistent_sequential: CreateFlag.persistentSequential,
  ephemeral_sequential: CreateFlag.ephemeralSequential,
  container: CreateFlag.container,
  persistent_with_ttl: CreateFlag.persistentWithTtl,
  persistent_sequential_with_ttl: CreateFlag.persistentSequentialWithTtl,
};

export type Watcher = (event: WatchEvent) => void;

interface Pending {
  readonly resolve: (r: Reply) => void;
  readonly deadline: number;
  readonly request: Request;
  /** Registers the request's watch from its reply, as the reply is taken in (ZooKeeper's WatchRegistration): before any later message, so a reconnect's setWatches carries it. */
  readonly register: ((reply: Reply) => void) | undefined;
}

type Internal = CoordClientMsg | { readonly type: 'coord.client.timer' };

interface ConnectionAttempt {
  readonly id: string;
  readonly server: number;
  readonly startedAt: number;
  established: boolean;
  /** The last request sent and the last server message taken in (a gap: a message was lost, protocol.ts). */
  sent: number;
  received: number;
}

/** An open session. Create with `CoordClient.connect`. */
export class CoordClient {
  private xid = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly dataWatchers = new Map<string, Set<Watcher>>();
  private readonly existWatchers = new Map<string, Set<Watcher>>();
  private readonly childWatchers = new Map<string, Set<Watcher>>();
  private readonly persistentWatchers = new Map<string, Set<Watcher>>();
  private closedReason: string | undefined;
  private closing = false;
  private lastPingAt = 0;
  private lastHeardAt = 0;
  private conn: ConnectionAttempt | undefined;
  private attempts = 0;
  /** Disconnected: the server to try at the next timer tick. */
  private reconnectTo: number | undefined;
  sessionId = 0n;
  passwd: Uint8Array = new Uint8Array(16);
  sessionTimeoutMs = 0;
  lastZxid = 0;

  private constructor(
    private readonly servers: readonly ActorRef<CoordServerMsg>[],
    private readonly self: ActorRef<CoordClientMsg>,
    private readonly tell: (to: ActorRef<CoordServerMsg>, m: CoordServerMsg) => void,
    private readonly now: () => number,
    private readonly baseId: string,
    private readonly options: Required<Omit<CoordClientOptions, 'name' | 'onState' | 'trace'>> & Pick<CoordClientOptions, 'onState' | 'trace'>,
  ) {}

  /**
   * Connects to `server` — or to the first of `servers` that answers, in order — and opens a
   * session. Rejects when every server refuses or none answers in time.
   */
  static connect(spawner: Spawner, server: ActorRef<CoordServerMsg> | readonly ActorRef<CoordServerMsg>[], options: CoordClientOptions = {}): Promise<CoordClient> {
    const servers = Array.isArray(server) ? (server as readonly ActorRef<CoordServerMsg>[]) : [server as ActorRef<CoordServerMsg>];
    if (servers.length === 0) return Promise.reject(new RangeError('no servers to connect to'));
    const opts = {
      sessionTimeoutMs: options.sessionTimeoutMs ?? 30_000,
      requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
      outstandingMax: options.outstandingMax ?? 10_000,
      ...(options.onState === undefined ? {} : { onState: options.onState }),
      ...(options.trace === undefined ? {} : { trace: options.trace }),
    };
    return new Promise((resolve, reject) => {
      let settled = false;
      const factory: ActorFactory<Internal> = (ctx) => {
        const c = new CoordClient(servers, ctx.self as ActorRef<CoordClientMsg>, (to, m) => void ctx.tell(to, m), () => ctx.clock.now(), `${ctx.self.node}/${ctx.self.id}`, opts);
        const connectDeadline = ctx.clock.now() + opts.requestTimeoutMs;
        c.open(0);
        ctx.timers.repeat('timer', Math.max(20, Math.floor(Math.min(opts.sessionTimeoutMs, opts.requestTimeoutMs) / 10)), { type: 'coord.client.timer' });
        const giveUp = (err: CoordClientError): void => {
          if (!settled) reject(err);
          settled = true;
          ctx.stop();
        };
        return {
          receive(m) {
            if (m.type === 'coord.client.timer') {
              if (!settled && ctx.clock.now() > connectDeadline) {
                c.fail('no server answered the connect request', Code.CONNECTIONLOSS);
                return giveUp(new CoordClientError(Code.CONNECTIONLOSS, 'no server answered the connect request'));
              }
              c.onTimer();
              if (c.closedReason !== undefined) ctx.stop();
              return;
            }
            if (c.conn === undefined || m.connectionId !== c.conn.id) {
              // A connection given up on: tell its server (once more) and drop what it sent.
              if (m.type !== 'coord.client.closed') {
                const s = servers[Number(m.connectionId.slice(m.connectionId.lastIndexOf('#') + 1).split('@')[1] ?? 0)];
                if (s !== undefined) ctx.tell(s, { type: 'coord.server.disconnect', connectionId: m.connectionId });
              }
              return;
            }
            if (m.seq !== undefined) {
              if (m.seq !== c.conn.received + 1) {
                // A message of this connection was lost (a cut link): the connection is broken.
                c.lost(`message ${c.conn.received + 1} from the server was lost`);
                return;
              }
              c.conn.received = m.seq;
            }
            c.lastHeardAt = ctx.clock.now();
            switch (m.type) {
              case 'coord.client.connected': {
                const first = c.sessionId === 0n;
                if (m.response.timeOut <= 0) {
                  c.expired();
                  if (!settled) reject(new CoordClientError(Code.SESSIONEXPIRED, 'the server refused the session'));
                  settled = true;
                  ctx.stop();
                  return;
                }
                c.established(m.response.sessionId, m.response.passwd, m.response.timeOut, first);
                if (!settled) resolve(c);
                settled = true;
                return;
              }
              case 'coord.client.reply':
                c.onReply(m.reply);
                return;
              case 'coord.client.event':
                c.onEvent(m.event);
                return;
              case 'coord.client.closed':
                if (c.closing) {
                  // The server closed the connection after our closeSession.
                  c.fail('closed by the client', Code.SESSIONEXPIRED);
                  ctx.stop();
                  return;
                }
                // Lost, refused (a server behind our zxid, C6; too many connections) or moved away from (S7): the next server.
                c.lost(m.reason);
                return;
              default: {
                const never: never = m;
                ctx.log.warn('unknown message dropped', { message: JSON.stringify(never) });
              }
            }
          },
        };
      };
      spawner.spawn(factory, options.name === undefined ? {} : { name: options.name });
    });
  }

  /** The index of the server this client is (or was last) connected to. */
  get serverIndex(): number {
    return this.conn?.server ?? 0;
  }

  private state(state: ClientState): void {
    this.options.trace?.({ kind: 'state', server: this.serverIndex, state, sessionId: this.sessionId });
    this.options.onState?.(state);
  }

  /** Starts a connection attempt to server `index` (a fresh connection id, so nothing of an older one is taken for it). */
  private open(index: number): void {
    const server = this.servers[index % this.servers.length] as ActorRef<CoordServerMsg>;
    const id = `${this.baseId}#${++this.attempts}@${index % this.servers.length}`;
    this.conn = { id, server: index % this.servers.length, startedAt: this.now(), established: false, sent: 0, received: 0 };
    this.lastHeardAt = this.now();
    this.tell(server, { type: 'coord.server.connect', client: this.self, connectionId: id, request: { protocolVersion: 0, lastZxidSeen: this.lastZxid, timeOut: this.options.sessionTimeoutMs, sessionId: this.sessionId, passwd: this.passwd } });
  }

  private established(sessionId: bigint, passwd: Uint8Array, timeoutMs: number, first: boolean): void {
    this.sessionId = sessionId;
    this.passwd = passwd;
    this.sessionTimeoutMs = timeoutMs;
    this.lastPingAt = this.now();
    (this.conn as ConnectionAttempt).established = true;
    this.state('connected');
    if (first) return;
    // W4: re-register every watch from the last zxid seen; the server fires those whose condition changed meanwhile, ahead of its reply.
    const keys = (t: Map<string, Set<Watcher>>): string[] => [...t.keys()];
    const persistent: string[] = [];
    const recursive: string[] = [];
    for (const k of this.persistentWatchers.keys()) (k.startsWith('r:') ? recursive : persistent).push(k.slice(2));
    const dataWatches = keys(this.dataWatchers);
    const existWatches = keys(this.existWatchers);
    const childWatches = keys(this.childWatchers);
    if (dataWatches.length + existWatches.length + childWatches.length + persistent.length + recursive.length === 0) return;
    const request: Request = { op: 'setWatches', opCode: persistent.length + recursive.length > 0 ? OpCode.setWatches2 : OpCode.setWatches, relativeZxid: this.lastZxid, dataWatches, existWatches, childWatches, persistentWatches: persistent, persistentRecursiveWatches: recursive };
    this.sendCurrent({ type: 'coord.server.request', connectionId: (this.conn as ConnectionAttempt).id, xid: Xid.setWatches, request });
  }

  private sendCurrent(m: CoordServerMsg): void {
    if (this.conn === undefined) return;
    this.tell(this.servers[this.conn.server] as ActorRef<CoordServerMsg>, m.type === 'coord.server.request' ? { ...m, seq: ++this.conn.sent } : m);
  }

  /** The connection is gone: in-flight requests fail with CONNECTIONLOSS and the next server is tried. */
  private lost(reason: string): void {
    if (this.closedReason !== undefined || this.conn === undefined) return;
    const was = this.conn;
    this.sendCurrent({ type: 'coord.server.disconnect', connectionId: was.id });
    this.failPending(Code.CONNECTIONLOSS);
    if (was.established) this.state('disconnected');
    void reason;
    // Straight to the next server after losing an established connection; otherwise (refused,
    // or no answer) wait for the next timer tick, so a refusing server is not asked in a loop.
    if (was.established && this.servers.length > 1) this.open(was.server + 1);
    else {
      this.conn = undefined;
      this.reconnectTo = was.server + 1;
    }
  }

  private expired(): void {
    this.fail('session expired', Code.SESSIONEXPIRED);
    this.state('expired');
  }

  /** The session's state: open, or closed with the reason. */
  get closed(): string | undefined {
    return this.closedReason;
  }

  private failPending(code: number): void {
    for (const [xid, p] of this.pending) {
      this.pending.delete(xid);
      p.resolve({ xid, zxid: this.lastZxid, err: code });
    }
  }

  private fail(reason: string, code: number): void {
    if (this.closedReason !== undefined) return;
    this.closedReason = reason;
    this.failPending(code);
    if (this.conn !== undefined) this.sendCurrent({ type: 'coord.server.disconnect', connectionId: this.conn.id });
    this.conn = undefined;
  }

  private onTimer(): void {
    const now = this.now();
    for (const [xid, p] of this.pending) {
      if (p.deadline <= now) {
        this.pending.delete(xid);
        p.resolve({ xid, zxid: this.lastZxid, err: Code.OPERATIONTIMEOUT });
      }
    }
    if (this.closedReason !== undefined) return;
    if (this.conn === undefined) {
      if (this.reconnectTo !== undefined) {
        const next = this.reconnectTo;
        this.reconnectTo = undefined;
        this.open(next);
      }
      return;
    }
    if (!this.conn.established) {
      // ZooKeeper's connect timeout: the session timeout shared among the servers.
      const limit = Math.max(1, Math.floor(this.options.sessionTimeoutMs / this.servers.length));
      if (now - this.conn.startedAt >= limit) this.lost('no answer to the connect request');
      return;
    }
    // ZooKeeper's read timeout: two thirds of the session timeout without hearing from the server.
    if (now - this.lastHeardAt >= (this.sessionTimeoutMs * 2) / 3) return this.lost('the server fell silent');
    if (now - this.lastPingAt >= this.sessionTimeoutMs / 3) {
      this.lastPingAt = now;
      this.sendCurrent({ type: 'coord.server.request', connectionId: this.conn.id, xid: Xid.ping, request: { op: 'ping' } });
    }
  }

  private onReply(reply: Reply): void {
    if (reply.zxid > this.lastZxid) this.lastZxid = reply.zxid;
    const p = this.pending.get(reply.xid);
    this.options.trace?.({ kind: 'reply', server: this.serverIndex, request: p?.request, reply });
    if (!p) return; // pings, setWatches, or a request already timed out
    this.pending.delete(reply.xid);
    p.register?.(reply);
    p.resolve(reply);
  }

  private onEvent(ev: WatchEvent): void {
    this.options.trace?.({ kind: 'event', server: this.serverIndex, event: ev });
    const fire = (tables: Map<string, Set<Watcher>>[], path: string): void => {
      // One callback per watcher however many of its registrations the event spends (W1).
      const run = new Set<Watcher>();
      for (const table of tables) {
        const set = table.get(path);
        if (!set) continue;
        table.delete(path);
        for (const w of set) run.add(w);
      }
      for (const w of run) w(ev);
    };
    // Which registrations an event spends, as ZooKeeper's ZKWatchManager materializes them.
    if (ev.type === EventType.NodeChildrenChanged) fire([this.childWatchers], ev.path);
    else if (ev.type === EventType.NodeDeleted) fire([this.dataWatchers, this.existWatchers, this.childWatchers], ev.path);
    else if (ev.type === EventType.NodeCreated || ev.type === EventType.NodeDataChanged) fire([this.dataWatchers, this.existWatchers], ev.path);
    // Persistent watchers: on the path, and recursive ones on every ancestor.
    for (const [key, set] of this.persistentWatchers) {
      const [mode, path] = [key.slice(0, 1), key.slice(2)];
      const matches = mode === 'p' ? path === ev.path : ev.type !== EventType.NodeChildrenChanged && (path === ev.path || path === '/' || ev.path.startsWith(`${path}/`));
      if (matches) for (const w of set) w(ev);
    }
  }

  private call(request: Request, register?: (reply: Reply) => void): Promise<Reply> {
    if (this.closedReason !== undefined) return Promise.resolve({ xid: 0, zxid: this.lastZxid, err: Code.SESSIONEXPIRED });
    if (this.conn === undefined || !this.conn.established) return Promise.resolve({ xid: 0, zxid: this.lastZxid, err: Code.CONNECTIONLOSS });
    if (this.pending.size >= this.options.outstandingMax) return Promise.resolve({ xid: 0, zxid: this.lastZxid, err: Code.THROTTLEDOP });
    const xid = this.xid++;
    return new Promise((resolve) => {
      this.pending.set(xid, { resolve, deadline: this.now() + this.options.requestTimeoutMs, request, register });
      this.sendCurrent({ type: 'coord.server.request', connectionId: (this.conn as ConnectionAttempt).id, xid, request });
    });
  }

  private async body<T extends Response['op']>(request: Request, op: T, path: string, register?: (reply: Reply) => void): Promise<Extract<Response, { op: T }>> {
    const r = await this.call(request, register);
    if (r.err !== 0) throw new CoordClientError(r.err, `${request.op} ${path}`);
    if (r.body?.op !== op) throw new CoordClientError(Code.MARSHALLINGERROR, `unexpected reply to ${request.op}`);
    return r.body as Extract<Response, { op: T }>;
  }

  private watch(table: Map<string, Set<Watcher>>, path: string, w: Watcher | undefined): void {
    if (!w) return;
    let set = table.get(path);
    if (!set) table.set(path, (set = new Set()));
    set.add(w);
  }

  /** Creates a node; returns its actual path (sequential nodes get a 10-digit suffix). */
  async create(path: string, data: Uint8Array | null = null, options: { mode?: CreateMode; acl?: readonly Acl[]; ttlMs?: number } = {}): Promise<{ path: string; stat: Stat }> {
    const mode = options.mode ?? 'persistent';
    const ttl = options.ttlMs;
    const opCode = mode === 'container' ? OpCode.createContainer : ttl !== undefined ? OpCode.createTTL : OpCode.create2;
    const req: Request = { op: 'create', opCode, path, data, acl: options.acl ?? OPEN_ACL_UNSAFE, flags: FLAGS[mode], ...(ttl === undefined ? {} : { ttl }) };
    const r = await this.body(req, 'create', path);
    if (!r.stat) throw new CoordClientError(Code.MARSHALLINGERROR, 'create2 reply without a stat');
    return { path: r.path, stat: r.stat };
  }

  async delete(path: string, version = -1): Promise<void> {
    await this.body({ op: 'delete', path, version }, 'delete', path);
  }

  /** The node's stat, or null when it does not exist; `watch` fires on its creation, change or deletion. */
  async exists(path: string, watch?: Watcher): Promise<Stat | null> {
    const r = await this.call({ op: 'exists', path, watch: watch !== undefined }, (reply) => {
      if (reply.err === Code.NONODE) this.watch(this.existWatchers, path, watch);
      else if (reply.err === 0) this.watch(this.dataWatchers, path, watch);
    });
    if (r.err === Code.NONODE) return null;
    if (r.err !== 0) throw new CoordClientError(r.err, `exists ${path}`);
    return r.body?.op === 'exists' ? r.body.stat : null;
  }

  async getData(path: string, watch?: Watcher): Promise<{ data: Uint8Array | null; stat: Stat }> {
    const r = await this.body({ op: 'getData', path, watch: watch !== undefined }, 'getData', path, (reply) => void (reply.err === 0 && this.watch(this.dataWatchers, path, watch)));
    return { data: r.data, stat: r.stat };
  }

  async setData(path: string, data: Uint8Array | null, version = -1): Promise<Stat> {
    return (await this.body({ op: 'setData', path, data, version }, 'setData', path)).stat;
  }

  async getChildren(path: string, watch?: Watcher): Promise<{ children: string[]; stat: Stat }> {
    const r = await this.body({ op: 'getChildren', path, watch: watch !== undefined, withStat: true }, 'getChildren', path, (reply) => void (reply.err === 0 && this.watch(this.childWatchers, path, watch)));
    if (!r.stat) throw new CoordClientError(Code.MARSHALLINGERROR, 'getChildren2 reply without a stat');
    return { children: [...r.children].sort(), stat: r.stat };
  }

  async getACL(path: string): Promise<{ acl: readonly Acl[]; stat: Stat }> {
    const r = await this.body({ op: 'getACL', path }, 'getACL', path);
    return { acl: r.acl, stat: r.stat };
  }

  async setACL(path: string, acl: readonly Acl[], version = -1): Promise<Stat> {
    return (await this.body({ op: 'setACL', path, acl, version }, 'setACL', path)).stat;
  }

  /** Waits until the server has applied every write this client saw acknowledged (ZooKeeper's sync). */
  async sync(path: string): Promise<void> {
    await this.body({ op: 'sync', path }, 'sync', path);
  }

  /** All-or-nothing: either every op applies or none; the per-op results say which failed. */
  async multi(ops: readonly WriteOp[]): Promise<{ ok: boolean; results: readonly MultiResult[] }> {
    const r = await this.body({ op: 'multi', ops }, 'multi', '(multi)');
    return { ok: r.results.every((x) => x.op !== 'error'), results: r.results };
  }

  /** Digest authentication (`user:password`) for this connection. */
  async addAuth(scheme: string, auth: string): Promise<void> {
    const r = await this.call({ op: 'auth', type: 0, scheme, auth: new TextEncoder().encode(auth) });
    if (r.err !== 0) throw new CoordClientError(r.err, `auth ${scheme}`);
  }

  /** A persistent (or recursive) watch: `watcher` runs for every matching change until removed. */
  async addWatch(path: string, recursive: boolean, watcher: Watcher): Promise<void> {
    const r = await this.call({ op: 'addWatch', path, mode: recursive ? AddWatchMode.persistentRecursive : AddWatchMode.persistent }, (reply) => void (reply.err === 0 && this.watch(this.persistentWatchers, `${recursive ? 'r' : 'p'}:${path}`, watcher)));
    if (r.err !== 0) throw new CoordClientError(r.err, `addWatch ${path}`);
  }

  /**
   * Events of a persistent (or recursive) watch as an async iterator. At most `bufferMax` events
   * wait unread; beyond it the oldest are dropped and counted in `dropped`.
   */
  async watchEvents(path: string, recursive: boolean, bufferMax = 10_000): Promise<AsyncIterableIterator<WatchEvent> & { dropped: number }> {
    const queue: WatchEvent[] = [];
    let wake: (() => void) | undefined;
    const it = {
      dropped: 0,
      async next(): Promise<IteratorResult<WatchEvent>> {
        while (queue.length === 0) await new Promise<void>((r) => (wake = r));
        return { value: queue.shift() as WatchEvent, done: false };
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
    await this.addWatch(path, recursive, (ev) => {
      queue.push(ev);
      if (queue.length > bufferMax) {
        queue.shift();
        it.dropped++;
      }
      const w = wake;
      wake = undefined;
      w?.();
    });
    return it;
  }

  /** Removes this client's watches on `path` (WatcherType: 1 children, 2 data, 3 any). */
  async removeWatches(path: string, type = 3): Promise<void> {
    const r = await this.call({ op: 'removeWatches', path, type });
    if (r.err !== 0) throw new CoordClientError(r.err, `removeWatches ${path}`);
    if (type !== 1) {
      this.dataWatchers.delete(path);
      this.existWatchers.delete(path);
    }
    if (type !== 2) this.childWatchers.delete(path);
    if (type === 3) {
      this.persistentWatchers.delete(`p:${path}`);
      this.persistentWatchers.delete(`r:${path}`);
    }
  }

  /** Ends the session: its ephemeral nodes are deleted. */
  async close(): Promise<void> {
    if (this.closedReason !== undefined) return;
    this.closing = true;
    const r = await this.call({ op: 'closeSession' });
    this.fail('closed by the client', Code.SESSIONEXPIRED);
    this.state('closed');
    // Lost on the way (CONNECTIONLOSS): the session ends by expiry instead, as with ZooKeeper's client.
    if (r.err !== 0 && r.err !== Code.CONNECTIONLOSS && r.err !== Code.SESSIONEXPIRED) throw new CoordClientError(r.err, 'closeSession');
  }

  /** The server this client talks to (the last one it connected to). */
  get serverRef(): ActorRef<CoordServerMsg> {
    return this.servers[this.serverIndex] as ActorRef<CoordServerMsg>;
  }

  /** The client's connection actor (stopping it silences the client, as a crashed process would be). */
  get actor(): ActorRef<CoordClientMsg> {
    return this.self;
  }

  /** This client's connection id on its current server (each reconnection gets a new one). */
  get connectionId(): string | undefined {
    return this.conn?.id;
  }
}
