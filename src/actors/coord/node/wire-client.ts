import { connect as netConnect, type Socket } from 'node:net';
import { Code, CoordClientError } from '../errors.js';
import { OpCode, Xid, KeeperState, type Acl, type Request, type Response, type Stat, type WatchEvent } from '../protocol.js';
import { decodeConnectResponse, decodeReply, encodeConnectRequest, encodeRequest, opCodeOf } from '../wire/codec.js';
import { withTimeout } from '../../../runtime/node/timeout.js';

/**
 * A small ZooKeeper client over TCP, built on the project's own jute codec (README "Wire
 * protocol"). It speaks to Troupe's coordination servers and to ZooKeeper 3.8 alike; `troupe zk`
 * uses it. Node-specific (sockets, timers, randomness).
 *
 * - A connect string `host:port[,host:port…]`: servers are tried in a shuffled order (or as given),
 *   each within `connectTimeoutMs`; when the connection drops, the client moves on to the next
 *   server with the same session id and password, and the watches it holds are re-registered
 *   (setWatches with the last zxid it saw, so a change it missed fires at once).
 * - Requests are matched to replies by xid; at most `outstandingMax` wait at once (more are
 *   refused), each for at most `requestTimeoutMs`. A request in flight when the connection drops
 *   fails with CONNECTIONLOSS (its outcome is unknown, as with ZooKeeper's own clients).
 * - Pings keep the session alive while idle; a server silent for two thirds of the session
 *   timeout is taken as gone.
 * - Watch events go to `onEvent` and into a bounded queue read by `nextEvent(timeoutMs)`.
 */

export interface ZkServerAddress {
  readonly host: string;
  readonly port: number;
}

export interface ZkWireClientOptions {
  /** `host:port[,host:port…]`, optionally followed by a chroot-free path (not supported: rejected). */
  readonly connectString: string;
  readonly sessionTimeoutMs?: number;
  /** Time limit of one TCP connect plus handshake. */
  readonly connectTimeoutMs?: number;
  /** Time limit of each request. */
  readonly requestTimeoutMs?: number;
  /** Requests awaiting a reply at once; more are refused with an error. */
  readonly outstandingMax?: number;
  /** Watch events kept for `nextEvent`; beyond it the oldest are dropped (and counted). */
  readonly eventQueueMax?: number;
  /** Try the servers in the order given instead of a shuffled one. */
  readonly inOrder?: boolean;
  readonly onEvent?: (ev: WatchEvent) => void;
  /** Connection changes, for logs: connected to, lost, moved. */
  readonly onState?: (state: 'connected' | 'disconnected' | 'expired' | 'closed', server: string) => void;
}

/** No server in the connect string accepted a session (or the session expired). */
export class ZkConnectError extends Error {
  override readonly name = 'ZkConnectError';
}

const FRAME_MAX = 1024 * 1024 + 1024 * 64;
/** Pause between two rounds of reconnect attempts over all the servers. */
const RECONNECT_PAUSE_MS = 200;

export function parseConnectString(s: string): ZkServerAddress[] {
  const out: ZkServerAddress[] = [];
  for (const part of s.split(',')) {
    const p = part.trim();
    if (p === '') continue;
    const m = /^(\[[^\]]+\]|[^:/]+)(?::(\d+))?$/.exec(p);
    if (m === null) throw new ZkConnectError(`bad server address '${p}' (expected host:port)`);
    const port = m[2] === undefined ? 2181 : Number(m[2]);
    if (!Number.isInteger(port) || port <= 0 || port > 65_535) throw new ZkConnectError(`bad port in '${p}'`);
    out.push({ host: (m[1] as string).replace(/^\[|\]$/g, ''), port });
  }
  if (out.length === 0) throw new ZkConnectError('empty connect string');
  return out;
}

interface Pending {
  readonly opCode: number;
  readonly path: string;
  readonly resolve: (r: { zxid: number; body: Response | undefined }) => void;
  readonly reject: (e: Error) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

interface Conn {
  readonly socket: Socket;
  readonly server: string;
  buf: Buffer;
  lastHeard: number;
}

export class ZkWireClient {
  private readonly servers: ZkServerAddress[];
  private next = 0;
  private conn: Conn | undefined;
  private reconnecting: Promise<void> | undefined;
  private xid = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly events: WatchEvent[] = [];
  private eventWaiters: (() => void)[] = [];
  private pinger: ReturnType<typeof setInterval> | undefined;
  private closed = false;
  /** close() has begun: a dropped connection is not re-established. */
  private closing = false;
  private expired = false;
  /** Watches held by this session, re-registered after a reconnect. */
  private readonly watches = { data: new Set<string>(), exist: new Set<string>(), child: new Set<string>() };
  sessionId = 0n;
  passwd: Uint8Array = new Uint8Array(16);
  negotiatedTimeoutMs = 0;
  lastZxid = 0;
  droppedEvents = 0;

  private readonly sessionTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly requestTimeoutMs: number;
  private readonly outstandingMax: number;
  private readonly eventQueueMax: number;

  private constructor(private readonly options: ZkWireClientOptions) {
    this.servers = parseConnectString(options.connectString);
    if (options.inOrder !== true) {
      for (let i = this.servers.length - 1; i > 0; i--) {
        const j = Math.floor(Math.random() * (i + 1));
        [this.servers[i], this.servers[j]] = [this.servers[j] as ZkServerAddress, this.servers[i] as ZkServerAddress];
      }
    }
    this.sessionTimeoutMs = options.sessionTimeoutMs ?? 30_000;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 3_000;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    this.outstandingMax = options.outstandingMax ?? 1_000;
    this.eventQueueMax = options.eventQueueMax ?? 1_000;
  }

  /** Connects to one of the servers and opens a session. */
  static async connect(options: ZkWireClientOptions): Promise<ZkWireClient> {
    const c = new ZkWireClient(options);
    await c.establish();
    c.pinger = setInterval(() => c.keepAlive(), Math.max(50, Math.floor(c.negotiatedTimeoutMs / 6)));
    c.pinger.unref();
    return c;
  }

  /** The server this client is connected to now (`host:port`), if any. */
  get server(): string | undefined {
    return this.conn?.server;
  }

  /** Tries each server once, starting after the last one used; throws ZkConnectError if none takes the session. */
  private async establish(): Promise<void> {
    const errors: string[] = [];
    for (let i = 0; i < this.servers.length; i++) {
      const addr = this.servers[this.next % this.servers.length] as ZkServerAddress;
      this.next++;
      const name = `${addr.host}:${addr.port}`;
      try {
        await this.open(addr, name);
        return;
      } catch (e) {
        if (e instanceof ZkConnectError && this.expired) throw e;
        errors.push(`${name}: ${(e as Error).message}`);
      }
    }
    throw new ZkConnectError(`no ZooKeeper server answered (${errors.join('; ')})`);
  }

  private open(addr: ZkServerAddress, name: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = netConnect({ host: addr.host, port: addr.port, noDelay: true });
      let settled = false;
      const fail = (why: string): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.destroy();
        reject(this.expired ? new ZkConnectError(why) : new Error(why));
      };
      const timer = setTimeout(() => fail(`no answer within ${this.connectTimeoutMs} ms`), this.connectTimeoutMs);
      let buf = Buffer.alloc(0);
      const onData = (d: Buffer): void => {
        buf = Buffer.concat([buf, d]);
        if (buf.length < 4) return;
        const len = buf.readInt32BE(0);
        if (len < 0 || len > FRAME_MAX) return fail(`bad connect response length ${len}`);
        if (buf.length < 4 + len) return;
        let r;
        try {
          r = decodeConnectResponse(new Uint8Array(buf.subarray(4, 4 + len)));
        } catch (e) {
          return fail(`malformed connect response: ${(e as Error).message}`);
        }
        if (r.timeOut <= 0) {
          this.expired = true;
          this.options.onState?.('expired', name);
          return fail(`session 0x${this.sessionId.toString(16)} expired`);
        }
        settled = true;
        clearTimeout(timer);
        socket.off('data', onData);
        socket.off('close', onEarlyClose);
        this.sessionId = r.sessionId;
        this.passwd = r.passwd;
        this.negotiatedTimeoutMs = r.timeOut;
        const conn: Conn = { socket, server: name, buf: buf.subarray(4 + len), lastHeard: Date.now() };
        this.conn = conn;
        socket.on('data', (chunk: Buffer) => this.onData(conn, chunk));
        socket.on('close', () => this.onClose(conn));
        this.options.onState?.('connected', name);
        this.restoreWatches();
        if (conn.buf.length > 0) this.onData(conn, Buffer.alloc(0));
        resolve();
      };
      const onEarlyClose = (): void => fail('connection closed during the handshake');
      socket.on('data', onData);
      socket.on('close', onEarlyClose);
      socket.on('error', (e) => fail(e.message));
      socket.on('connect', () => {
        socket.write(encodeConnectRequest({ protocolVersion: 0, lastZxidSeen: this.lastZxid, timeOut: this.sessionTimeoutMs, sessionId: this.sessionId, passwd: this.passwd, readOnly: false }));
      });
    });
  }

  private restoreWatches(): void {
    const w = this.watches;
    if (w.data.size + w.exist.size + w.child.size === 0) return;
    this.conn?.socket.write(
      encodeRequest(Xid.setWatches, { op: 'setWatches', opCode: OpCode.setWatches, relativeZxid: this.lastZxid, dataWatches: [...w.data], existWatches: [...w.exist], childWatches: [...w.child], persistentWatches: [], persistentRecursiveWatches: [] }),
    );
  }

  private onData(conn: Conn, chunk: Buffer): void {
    if (conn !== this.conn) return;
    conn.lastHeard = Date.now();
    conn.buf = chunk.length === 0 ? conn.buf : conn.buf.length === 0 ? chunk : Buffer.concat([conn.buf, chunk]);
    while (conn.buf.length >= 4) {
      const len = conn.buf.readInt32BE(0);
      if (len < 0 || len > FRAME_MAX) {
        conn.socket.destroy();
        return;
      }
      if (conn.buf.length < 4 + len) return;
      const body = new Uint8Array(conn.buf.subarray(4, 4 + len));
      conn.buf = conn.buf.subarray(4 + len);
      this.onFrame(conn, body);
    }
  }

  private onFrame(conn: Conn, body: Uint8Array): void {
    const xid = new DataView(body.buffer, body.byteOffset, body.byteLength).getInt32(0);
    if (xid === Xid.notification) {
      const d = decodeReply(body, OpCode.notification);
      if ('event' in d) this.deliver(d.event);
      return;
    }
    if (xid === Xid.ping || xid === Xid.setWatches || xid === Xid.auth) return;
    const p = this.pending.get(xid);
    if (p === undefined) {
      // A reply to nothing we asked: the stream is out of step; start over on another connection.
      conn.socket.destroy();
      return;
    }
    this.pending.delete(xid);
    clearTimeout(p.timer);
    let reply;
    try {
      reply = decodeReply(body, p.opCode);
    } catch (e) {
      p.reject(new CoordClientError(Code.MARSHALLINGERROR, `${p.path}: ${(e as Error).message}`));
      return;
    }
    if ('event' in reply) return;
    if (reply.zxid > this.lastZxid) this.lastZxid = reply.zxid;
    if (reply.err !== 0) p.reject(new CoordClientError(reply.err, p.path));
    else p.resolve({ zxid: reply.zxid, body: reply.body });
  }

  private deliver(ev: WatchEvent): void {
    const w = this.watches;
    if (ev.type === 3 || ev.type === 2) w.data.delete(ev.path);
    if (ev.type === 1 || ev.type === 2) w.exist.delete(ev.path);
    if (ev.type === 4 || ev.type === 2) w.child.delete(ev.path);
    this.options.onEvent?.(ev);
    this.events.push(ev);
    if (this.events.length > this.eventQueueMax) {
      this.events.shift();
      this.droppedEvents++;
    }
    const waiters = this.eventWaiters;
    this.eventWaiters = [];
    for (const w of waiters) w();
  }

  private onClose(conn: Conn): void {
    if (conn !== this.conn) return;
    this.conn = undefined;
    this.failPending(Code.CONNECTIONLOSS, 'connection lost');
    if (this.closed || this.closing) return;
    this.options.onState?.('disconnected', conn.server);
    this.reconnecting = this.reconnect().finally(() => {
      this.reconnecting = undefined;
    });
  }

  /**
   * Rounds over the servers until one takes the session back, for at most the session timeout
   * (after that the leader has expired it anyway), with a short pause between rounds.
   */
  private async reconnect(): Promise<void> {
    const deadline = Date.now() + Math.max(this.negotiatedTimeoutMs, this.connectTimeoutMs);
    for (;;) {
      try {
        await this.establish();
        return;
      } catch {
        if (this.expired) {
          this.deliver({ type: -1, state: KeeperState.Expired, path: '' });
          return;
        }
        if (this.closed || this.closing || Date.now() >= deadline) return;
        await new Promise((r) => setTimeout(r, RECONNECT_PAUSE_MS));
      }
    }
  }

  private failPending(code: number, why: string): void {
    for (const [xid, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(xid);
      p.reject(new CoordClientError(code, `${p.path}: ${why}`));
    }
  }

  private keepAlive(): void {
    const conn = this.conn;
    if (conn === undefined || this.closed) return;
    if (Date.now() - conn.lastHeard > (this.negotiatedTimeoutMs * 2) / 3) {
      conn.socket.destroy();
      return;
    }
    conn.socket.write(encodeRequest(Xid.ping, { op: 'ping' }));
  }

  /** Sends one request and waits for its reply; a ZooKeeper error is thrown as CoordClientError. */
  async request(req: Request): Promise<{ zxid: number; body: Response | undefined }> {
    if (this.closed) throw new CoordClientError(Code.SESSIONEXPIRED, 'the client is closed');
    if (this.expired) throw new CoordClientError(Code.SESSIONEXPIRED, `session 0x${this.sessionId.toString(16)} expired`);
    if (this.conn === undefined && this.reconnecting !== undefined) {
      await withTimeout(this.reconnecting, this.requestTimeoutMs, () => new CoordClientError(Code.CONNECTIONLOSS, `reconnect: not done within ${this.requestTimeoutMs} ms`));
    }
    const conn = this.conn;
    if (conn === undefined) throw new CoordClientError(Code.CONNECTIONLOSS, 'not connected to any server');
    if (this.pending.size >= this.outstandingMax) throw new CoordClientError(Code.THROTTLEDOP, `${this.pending.size} requests already outstanding`);
    const xid = this.xid;
    this.xid = this.xid >= 0x7fff_fff0 ? 1 : this.xid + 1;
    const path = 'path' in req ? req.path : '';
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(xid);
        reject(new CoordClientError(Code.OPERATIONTIMEOUT, `${path || opCodeOf(req)}: no reply within ${this.requestTimeoutMs} ms`));
      }, this.requestTimeoutMs);
      this.pending.set(xid, { opCode: opCodeOf(req), path, resolve, reject, timer });
      conn.socket.write(encodeRequest(xid, req));
    });
  }

  /** The next watch event (oldest first), waiting at most `timeoutMs`; undefined on timeout. */
  async nextEvent(timeoutMs: number): Promise<WatchEvent | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ev = this.events.shift();
      if (ev !== undefined) return ev;
      const left = deadline - Date.now();
      if (left <= 0 || this.closed) return undefined;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.eventWaiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  // ---- operations --------------------------------------------------------------------------

  async create(path: string, data: Uint8Array | null, acl: readonly Acl[], flags: number): Promise<{ path: string; stat: Stat | undefined }> {
    const r = await this.request({ op: 'create', opCode: OpCode.create2, path, data, acl, flags });
    const b = r.body as Extract<Response, { op: 'create' }>;
    return { path: b.path, stat: b.stat };
  }

  async getData(path: string, watch = false): Promise<{ data: Uint8Array | null; stat: Stat }> {
    const r = await this.request({ op: 'getData', path, watch });
    if (watch) this.watches.data.add(path);
    const b = r.body as Extract<Response, { op: 'getData' }>;
    return { data: b.data, stat: b.stat };
  }

  async setData(path: string, data: Uint8Array | null, version = -1): Promise<Stat> {
    return ((await this.request({ op: 'setData', path, data, version })).body as Extract<Response, { op: 'setData' }>).stat;
  }

  async delete(path: string, version = -1): Promise<void> {
    await this.request({ op: 'delete', path, version });
  }

  /** The node's stat, or undefined when it does not exist (an exists watch is then set on creation). */
  async exists(path: string, watch = false): Promise<Stat | undefined> {
    try {
      const r = await this.request({ op: 'exists', path, watch });
      if (watch) this.watches.data.add(path);
      return (r.body as Extract<Response, { op: 'exists' }>).stat;
    } catch (e) {
      if (e instanceof CoordClientError && e.code === Code.NONODE) {
        if (watch) this.watches.exist.add(path);
        return undefined;
      }
      throw e;
    }
  }

  async getChildren(path: string, watch = false): Promise<{ children: string[]; stat: Stat }> {
    const r = await this.request({ op: 'getChildren', path, watch, withStat: true });
    if (watch) this.watches.child.add(path);
    const b = r.body as Extract<Response, { op: 'getChildren' }>;
    return { children: [...b.children], stat: b.stat as Stat };
  }

  async getACL(path: string): Promise<{ acl: Acl[]; stat: Stat }> {
    const b = (await this.request({ op: 'getACL', path })).body as Extract<Response, { op: 'getACL' }>;
    return { acl: [...b.acl], stat: b.stat };
  }

  async setACL(path: string, acl: readonly Acl[], version = -1): Promise<Stat> {
    return ((await this.request({ op: 'setACL', path, acl, version })).body as Extract<Response, { op: 'setACL' }>).stat;
  }

  async sync(path: string): Promise<string> {
    return ((await this.request({ op: 'sync', path })).body as Extract<Response, { op: 'sync' }>).path;
  }

  /** Ends the session (its ephemeral nodes go) and the connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.pinger !== undefined) clearInterval(this.pinger);
    this.closing = true;
    const conn = this.conn;
    if (conn !== undefined && !this.expired) {
      await this.request({ op: 'closeSession' }).catch(() => undefined);
    }
    this.closed = true;
    this.failPending(Code.CONNECTIONLOSS, 'client closed');
    conn?.socket.destroy();
    this.conn = undefined;
    this.options.onState?.('closed', conn?.server ?? '');
    const waiters = this.eventWaiters;
    this.eventWaiters = [];
    for (const w of waiters) w();
  }
}

/** Sends a four-letter word (`mntr`, `srvr`, …) to one server and returns its text answer. */
export function fourLetterWord(addr: ZkServerAddress, word: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const s = netConnect({ host: addr.host, port: addr.port }, () => s.write(word));
    const t = setTimeout(() => {
      s.destroy();
      reject(new Error(`${word}: no answer from ${addr.host}:${addr.port} within ${timeoutMs} ms`));
    }, timeoutMs);
    s.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.length > 1 << 20) s.destroy();
    });
    s.on('error', (e) => {
      clearTimeout(t);
      reject(e);
    });
    s.on('close', () => {
      clearTimeout(t);
      resolve(out);
    });
  });
}
