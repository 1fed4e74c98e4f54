import type { ActorFactory, SpawnOptions } from '../../../runtime/behavior.js';
import type { ActorRef } from '../../../runtime/ref.js';
import { Code, CoordClientError } from '../errors.js';
import { AddWatchMode, CreateFlag, EventType, OpCode, type Acl, type CoordClientMsg, type CoordServerMsg, type MultiResult, type Reply, type Request, type Response, type Stat, type WatchEvent, type WriteOp } from '../protocol.js';
import { OPEN_ACL_UNSAFE } from '../tree/acl.js';

/**
 * The native client: ZooKeeper's operations over actor messages, for Troupe's own components
 * (README "Native client"). Same semantics as a ZooKeeper client on one connection: requests are
 * answered in the order sent (FIFO), a watch callback runs before the reply of any request that
 * reflects the change (W3), one-time watches fire at most once (W1), and the session lives until
 * closed or expired (its ephemerals with it).
 *
 * It spawns one small connection actor (wherever `spawner` spawns: an ActorSystem, an actor's
 * context, a testkit). That actor receives the server's replies and events, sends pings to keep
 * the session alive, and fails requests that wait longer than `requestTimeoutMs`.
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
}

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
}

type Internal = CoordClientMsg | { readonly type: 'coord.client.timer' };

/** An open session. Create with `CoordClient.connect`. */
export class CoordClient {
  private xid = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly dataWatchers = new Map<string, Set<Watcher>>();
  private readonly childWatchers = new Map<string, Set<Watcher>>();
  private readonly persistentWatchers = new Map<string, Set<Watcher>>();
  private closedReason: string | undefined;
  private lastPingAt = 0;
  sessionId = 0n;
  passwd: Uint8Array = new Uint8Array(16);
  sessionTimeoutMs = 0;
  lastZxid = 0;

  private constructor(
    private readonly server: ActorRef<CoordServerMsg>,
    private readonly send: (m: CoordServerMsg) => void,
    private readonly now: () => number,
    readonly connectionId: string,
    private readonly options: Required<Omit<CoordClientOptions, 'name'>>,
  ) {}

  /** Connects to `server` and opens a session. Rejects when the server refuses or does not answer in time. */
  static connect(spawner: Spawner, server: ActorRef<CoordServerMsg>, options: CoordClientOptions = {}): Promise<CoordClient> {
    const opts = { sessionTimeoutMs: options.sessionTimeoutMs ?? 30_000, requestTimeoutMs: options.requestTimeoutMs ?? 30_000, outstandingMax: options.outstandingMax ?? 10_000 };
    return new Promise((resolve, reject) => {
      let client: CoordClient | undefined;
      let settled = false;
      const factory: ActorFactory<Internal> = (ctx) => {
        const connectionId = `${ctx.self.node}/${ctx.self.id}`;
        const c = new CoordClient(server, (m) => void ctx.tell(server, m), () => ctx.clock.now(), connectionId, opts);
        client = c;
        const connectDeadline = ctx.clock.now() + opts.requestTimeoutMs;
        ctx.tell(server, { type: 'coord.server.connect', client: ctx.self as ActorRef<CoordClientMsg>, connectionId, request: { protocolVersion: 0, lastZxidSeen: 0, timeOut: opts.sessionTimeoutMs, sessionId: 0n, passwd: new Uint8Array(16) } });
        ctx.timers.repeat('timer', Math.max(50, Math.floor(Math.min(opts.sessionTimeoutMs, opts.requestTimeoutMs) / 6)), { type: 'coord.client.timer' });
        return {
          receive(m) {
            switch (m.type) {
              case 'coord.client.connected':
                if (m.response.timeOut <= 0) {
                  c.fail('session expired or refused');
                  if (!settled) reject(new CoordClientError(Code.SESSIONEXPIRED, 'the server refused the session'));
                } else {
                  c.sessionId = m.response.sessionId;
                  c.passwd = m.response.passwd;
                  c.sessionTimeoutMs = m.response.timeOut;
                  c.lastPingAt = ctx.clock.now();
                  if (!settled) resolve(c);
                }
                settled = true;
                return;
              case 'coord.client.reply':
                c.onReply(m.reply);
                return;
              case 'coord.client.event':
                c.onEvent(m.event);
                return;
              case 'coord.client.closed':
                c.fail(m.reason);
                if (!settled) reject(new CoordClientError(Code.CONNECTIONLOSS, m.reason));
                settled = true;
                ctx.stop();
                return;
              case 'coord.client.timer':
                if (!settled && ctx.clock.now() > connectDeadline) {
                  settled = true;
                  reject(new CoordClientError(Code.CONNECTIONLOSS, 'no answer to the connect request'));
                  ctx.stop();
                  return;
                }
                c.onTimer();
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
      void client;
    });
  }

  /** The session's state: open, or closed with the reason. */
  get closed(): string | undefined {
    return this.closedReason;
  }

  private fail(reason: string): void {
    if (this.closedReason !== undefined) return;
    this.closedReason = reason;
    for (const [xid, p] of this.pending) {
      this.pending.delete(xid);
      p.resolve({ xid, zxid: this.lastZxid, err: Code.CONNECTIONLOSS });
    }
  }

  private onTimer(): void {
    const now = this.now();
    for (const [xid, p] of this.pending) {
      if (p.deadline <= now) {
        this.pending.delete(xid);
        p.resolve({ xid, zxid: this.lastZxid, err: Code.OPERATIONTIMEOUT });
      }
    }
    if (this.closedReason === undefined && this.sessionTimeoutMs > 0 && now - this.lastPingAt >= this.sessionTimeoutMs / 3) {
      this.lastPingAt = now;
      this.send({ type: 'coord.server.request', connectionId: this.connectionId, xid: -2, request: { op: 'ping' } });
    }
  }

  private onReply(reply: Reply): void {
    if (reply.zxid > this.lastZxid) this.lastZxid = reply.zxid;
    const p = this.pending.get(reply.xid);
    if (!p) return; // pings, or a request already timed out
    this.pending.delete(reply.xid);
    p.resolve(reply);
  }

  private onEvent(ev: WatchEvent): void {
    const fire = (table: Map<string, Set<Watcher>>, path: string, once: boolean): void => {
      const set = table.get(path);
      if (!set) return;
      if (once) table.delete(path);
      for (const w of set) w(ev);
    };
    if (ev.type === EventType.NodeChildrenChanged) fire(this.childWatchers, ev.path, true);
    else if (ev.type === EventType.NodeDeleted) {
      fire(this.dataWatchers, ev.path, true);
      fire(this.childWatchers, ev.path, true);
    } else fire(this.dataWatchers, ev.path, true);
    // Persistent watchers: on the path, and recursive ones on every ancestor.
    for (const [key, set] of this.persistentWatchers) {
      const [mode, path] = [key.slice(0, 1), key.slice(2)];
      const matches = mode === 'p' ? path === ev.path : ev.type !== EventType.NodeChildrenChanged && (path === ev.path || path === '/' || ev.path.startsWith(`${path}/`));
      if (matches) for (const w of set) w(ev);
    }
  }

  private call(request: Request): Promise<Reply> {
    if (this.closedReason !== undefined) return Promise.resolve({ xid: 0, zxid: this.lastZxid, err: Code.SESSIONEXPIRED });
    if (this.pending.size >= this.options.outstandingMax) return Promise.resolve({ xid: 0, zxid: this.lastZxid, err: Code.THROTTLEDOP });
    const xid = this.xid++;
    return new Promise((resolve) => {
      this.pending.set(xid, { resolve, deadline: this.now() + this.options.requestTimeoutMs });
      this.send({ type: 'coord.server.request', connectionId: this.connectionId, xid, request });
    });
  }

  private async body<T extends Response['op']>(request: Request, op: T, path: string): Promise<Extract<Response, { op: T }>> {
    const r = await this.call(request);
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
    const r = await this.call({ op: 'exists', path, watch: watch !== undefined });
    if (r.err === Code.NONODE) {
      this.watch(this.dataWatchers, path, watch);
      return null;
    }
    if (r.err !== 0) throw new CoordClientError(r.err, `exists ${path}`);
    this.watch(this.dataWatchers, path, watch);
    return r.body?.op === 'exists' ? r.body.stat : null;
  }

  async getData(path: string, watch?: Watcher): Promise<{ data: Uint8Array | null; stat: Stat }> {
    const r = await this.body({ op: 'getData', path, watch: watch !== undefined }, 'getData', path);
    this.watch(this.dataWatchers, path, watch);
    return { data: r.data, stat: r.stat };
  }

  async setData(path: string, data: Uint8Array | null, version = -1): Promise<Stat> {
    return (await this.body({ op: 'setData', path, data, version }, 'setData', path)).stat;
  }

  async getChildren(path: string, watch?: Watcher): Promise<{ children: string[]; stat: Stat }> {
    const r = await this.body({ op: 'getChildren', path, watch: watch !== undefined, withStat: true }, 'getChildren', path);
    this.watch(this.childWatchers, path, watch);
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
    const r = await this.call({ op: 'addWatch', path, mode: recursive ? AddWatchMode.persistentRecursive : AddWatchMode.persistent });
    if (r.err !== 0) throw new CoordClientError(r.err, `addWatch ${path}`);
    this.watch(this.persistentWatchers, `${recursive ? 'r' : 'p'}:${path}`, watcher);
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
    if (type !== 1) this.dataWatchers.delete(path);
    if (type !== 2) this.childWatchers.delete(path);
    if (type === 3) {
      this.persistentWatchers.delete(`p:${path}`);
      this.persistentWatchers.delete(`r:${path}`);
    }
  }

  /** Ends the session: its ephemeral nodes are deleted. */
  async close(): Promise<void> {
    if (this.closedReason !== undefined) return;
    await this.call({ op: 'closeSession' });
    this.fail('closed by the client');
  }

  /** The server this client talks to. */
  get serverRef(): ActorRef<CoordServerMsg> {
    return this.server;
  }
}
