import { randomBytes } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { EventEmitter } from 'eventemitter3';
import type { Envelope } from '../envelope.js';
import type { Cancel, Timers } from '../env.js';
import type { RuntimeErrorCode } from '../errors.js';
import type { Transport, TransportSink } from '../transport/transport.js';
import { CodecError, MessageDecoder, MessageEncoder } from '../transport/codec.js';
import { FrameDecoder, FrameError, MAX_FRAME_BYTES_DEFAULT, encodeFrame, type Frame } from '../transport/frame.js';
import {
  NONCE_BYTES,
  answerChallenge,
  answerHello,
  checkAuth,
  makeHello,
  parseHandshake,
  type Challenge,
  type HandshakeIdentity,
  type Hello,
} from '../transport/handshake.js';
import { hostOfNode } from '../transport/router.js';
import { ackHeader, dataHeader, nodeDownHeader, parseWire, pingHeader } from '../transport/wire.js';
import { realTimers } from './env.js';

/**
 * The TCP transport: one per process (a node), carrying envelopes to the other nodes of the
 * cluster. The contract is the Ceph communication model (thesis §3.3; digest §1.5): between each
 * pair of nodes delivery is ordered and fail-stop, and senders are told asynchronously when it fails.
 *
 * How it keeps that contract:
 * - **Connections are one-way for data.** Node A sends to B over the connection A dialed; B's
 *   acks come back on it. B sends to A over its own connection (it dials the address configured
 *   for A, or the listen port A announced in its hello).
 * - **Per-pair order across reconnects.** Every envelope gets a sequence number per destination
 *   and stays in a bounded outbound queue until acked. After a reconnect the server says how far
 *   it got (`welcome.receivedSeq`); the client drops what was acked and resends the rest in order;
 *   the server discards sequence numbers it has already delivered. Nothing is duplicated and
 *   nothing sent later overtakes something sent earlier.
 * - **Fail-stop with notification.** If the link is not re-established within `linkDownAfterMs`,
 *   or the peer comes back as a new incarnation (its receive state is gone), every queued and
 *   unacked envelope is handed to `sink.undeliverable(env, 'link_down')` — those already written
 *   to a socket flagged `maybeDelivered` (they may or may not have arrived), the rest not — and
 *   `sink.linkDown(node)` fires once. Nothing is dropped silently.
 * - **Backpressure.** The outbound queue per peer is bounded (`outboundQueueMax` envelopes,
 *   `outboundQueueMaxBytes` bytes); beyond it `send` reports `outbound_queue_full` to the sender.
 *   Frames are written only while the socket's buffer is below `socketHighWaterBytes`.
 * - **Untrusted input.** Before authentication a connection may only send handshake frames of at
 *   most `handshakeMaxFrameBytes`, within `handshakeTimeoutMs`. Any malformed, oversized,
 *   truncated or unauthenticated input closes that connection with a logged reason
 *   (`logger({ event: 'rejected', reason })`); nothing from it is delivered; the process goes on.
 *
 * Payload ownership: a `Uint8Array` sent in a message is referenced, not copied, until the peer
 * acknowledges it. Do not modify it after sending.
 */

export interface PeerAddress {
  readonly host: string;
  readonly port: number;
}

export interface TransportLogEntry {
  readonly level: 'info' | 'warn';
  readonly event: 'rejected' | 'connect_failed' | 'link_up' | 'link_down' | 'peer_restarted' | 'connection_lost';
  readonly reason?: string;
  readonly node?: string;
  readonly remote?: string;
  readonly conn?: number;
}

export interface TcpTransportOptions {
  /** The cluster id both sides of a handshake must share. */
  readonly cluster: string;
  /** The shared cluster secret; proves membership by HMAC-SHA256 challenge, never sent. */
  readonly secret: string | Uint8Array;
  /** Where to listen; port 0 picks a free port. Omit to only dial out. */
  readonly listen?: { readonly host?: string; readonly port?: number };
  /** Known peers by node id. Peers that dial in with a listen port are learned automatically. */
  readonly peers?: Readonly<Record<string, PeerAddress>>;
  readonly maxFrameBytes?: number;
  readonly handshakeMaxFrameBytes?: number;
  readonly handshakeTimeoutMs?: number;
  readonly outboundQueueMax?: number;
  readonly outboundQueueMaxBytes?: number;
  readonly socketHighWaterBytes?: number;
  readonly reconnectBackoffMinMs?: number;
  readonly reconnectBackoffMaxMs?: number;
  /** How long a link may stay broken (reconnecting) before queued envelopes are reported and `linkDown` fires. */
  readonly linkDownAfterMs?: number;
  /** A client pings this often; a server acks each ping. */
  readonly heartbeatIntervalMs?: number;
  /** A connection silent this long is closed (a frozen or partitioned peer sends no RST). */
  readonly heartbeatTimeoutMs?: number;
  readonly attachmentMinBytes?: number;
  readonly timers?: Timers;
  readonly logger?: (entry: TransportLogEntry) => void;
}

interface Pending {
  readonly seq: number;
  /** The envelope, or undefined for a transport notice (a worker of this node is down). */
  readonly env: Envelope | undefined;
  readonly chunks: Uint8Array[];
  readonly bytes: number;
  /** Written to a socket at least once: if the link fails before an ack, it may have arrived. */
  written?: boolean;
}

interface TransportEvents {
  'link-up': (node: string) => void;
  'link-down': (node: string) => void;
}

type Config = { -readonly [K in keyof Required<Omit<TcpTransportOptions, 'listen' | 'peers' | 'logger' | 'timers' | 'secret' | 'cluster'>>]: number };

const DEFAULTS: Config = {
  maxFrameBytes: MAX_FRAME_BYTES_DEFAULT,
  handshakeMaxFrameBytes: 4096,
  handshakeTimeoutMs: 5000,
  outboundQueueMax: 10_000,
  outboundQueueMaxBytes: 256 * 1024 * 1024,
  socketHighWaterBytes: 16 * 1024 * 1024,
  reconnectBackoffMinMs: 20,
  reconnectBackoffMaxMs: 2000,
  linkDownAfterMs: 3000,
  heartbeatIntervalMs: 1000,
  heartbeatTimeoutMs: 5000,
  attachmentMinBytes: 4096,
};

export class TcpTransport implements Transport {
  readonly events = new EventEmitter<TransportEvents>();
  private readonly cfg: Config;
  private readonly timers: Timers;
  private readonly log: (entry: TransportLogEntry) => void;
  private readonly encoder: MessageEncoder;
  private readonly decoder: MessageDecoder;
  private readonly addresses = new Map<string, PeerAddress>();
  private readonly peers = new Map<string, Peer>();
  private readonly inbound = new Set<InboundConnection>();
  private identity: HandshakeIdentity | undefined;
  private sinkRef: TransportSink | undefined;
  private server: Server | undefined;
  private listenPort: number | undefined;
  private connIds = 0;
  private closed = false;

  constructor(private readonly opts: TcpTransportOptions) {
    this.cfg = { ...DEFAULTS };
    for (const k of Object.keys(DEFAULTS) as (keyof Config)[]) {
      const v = opts[k];
      if (v !== undefined) {
        if (!(v > 0)) throw new RangeError(`TcpTransport: ${k} must be positive, got ${v}`);
        this.cfg[k] = v;
      }
    }
    this.timers = opts.timers ?? realTimers;
    this.log = opts.logger ?? (() => undefined);
    this.encoder = new MessageEncoder({ attachmentMinBytes: this.cfg.attachmentMinBytes });
    this.decoder = new MessageDecoder({ maxItemBytes: this.cfg.maxFrameBytes });
    for (const [node, addr] of Object.entries(opts.peers ?? {})) this.addresses.set(node, addr);
  }

  bind(node: string, sink: TransportSink): void {
    if (this.sinkRef !== undefined) throw new Error('TcpTransport.bind called twice');
    this.identity = { cluster: this.opts.cluster, secret: this.opts.secret, node, incarnation: randomBytes(12).toString('base64url') };
    this.sinkRef = sink;
  }

  /** This node's id (after `bind`). */
  get node(): string {
    return this.me.node;
  }

  /** Starts listening (after `bind`). Resolves with the bound address. */
  async listen(): Promise<PeerAddress> {
    if (this.identity === undefined) throw new Error('TcpTransport.listen() before bind(): handshakes need this node\'s id');
    const host = this.opts.listen?.host ?? '127.0.0.1';
    const server = createServer({ noDelay: true }, (socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.listen?.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.log({ level: 'warn', event: 'rejected', reason: `listener error: ${err.message}` }));
    const addr = server.address();
    if (addr === null || typeof addr === 'string') throw new Error('TcpTransport: listener has no TCP address');
    this.listenPort = addr.port;
    return { host: addr.address, port: addr.port };
  }

  /** Adds or replaces the address of a peer node. */
  addPeer(node: string, address: PeerAddress): void {
    this.addresses.set(node, address);
  }

  /** Envelopes queued or awaiting acknowledgement for `node` (for tests and metrics). */
  pending(node: string): number {
    return this.peers.get(hostOfNode(node))?.length ?? 0;
  }

  send(env: Envelope): void {
    if (this.closed || this.sinkRef === undefined) {
      this.reportLater([env], 'system_stopped');
      return;
    }
    const host = hostOfNode(env.to.node);
    let peer = this.peers.get(host);
    if (peer === undefined) {
      if (!this.addresses.has(host)) {
        this.reportLater([env], 'node_unreachable');
        return;
      }
      peer = new Peer(this, host);
      this.peers.set(host, peer);
    }
    let chunks: Uint8Array[];
    try {
      const { header, attachments } = this.encoder.encode(dataHeader(peer.nextSeq, env));
      chunks = encodeFrame(header, attachments, this.cfg.maxFrameBytes);
    } catch (err) {
      if (!(err instanceof CodecError) && !(err instanceof FrameError)) throw err;
      // A message that cannot be encoded is API misuse (class instances, closures, oversize).
      this.log({ level: 'warn', event: 'rejected', node: host, reason: `outbound message not sent: ${err.message}` });
      this.reportLater([env], 'node_unreachable');
      return;
    }
    peer.enqueue(env, chunks);
  }

  /**
   * Tells every peer this node has links with that `node` — one of this process's worker
   * threads — is down, in order with the envelopes sent before (the router calls it when a worker
   * crashes), so watchers on other hosts see `node_down` too.
   */
  announceNodeDown(node: string): void {
    if (this.closed || hostOfNode(node) !== this.identity?.node || node === this.identity.node) return;
    for (const peer of this.peers.values()) {
      if (peer.down || this.addresses.get(peer.node) === undefined) continue;
      peer.enqueue(undefined, this.encodeControl(nodeDownHeader(peer.nextSeq, node)));
    }
  }

  /**
   * Fault injection: breaks every outbound connection as a network failure would. The links
   * reconnect and resend what was not acknowledged (tests use this to check order across reconnects).
   */
  breakConnections(): void {
    for (const peer of this.peers.values()) peer.breakConnection();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const peer of this.peers.values()) peer.close();
    for (const c of this.inbound) c.destroy();
    this.inbound.clear();
    const server = this.server;
    this.server = undefined;
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  // ---- internals shared with Peer and InboundConnection ----

  /** @internal */
  get me(): HandshakeIdentity {
    if (this.identity === undefined) throw new Error('TcpTransport used before bind()');
    return this.identity;
  }

  /** @internal */
  get sink(): TransportSink {
    if (this.sinkRef === undefined) throw new Error('TcpTransport used before bind()');
    return this.sinkRef;
  }

  /** @internal */
  get config(): Config {
    return this.cfg;
  }

  /** @internal */
  get timer(): Timers {
    return this.timers;
  }

  /** @internal */
  get isClosed(): boolean {
    return this.closed;
  }

  /** @internal */
  get announcedPort(): number | undefined {
    return this.listenPort;
  }

  /** @internal */
  logEntry(entry: TransportLogEntry): void {
    this.log(entry);
  }

  /** @internal */
  addressOf(node: string): PeerAddress | undefined {
    return this.addresses.get(node);
  }

  /** @internal */
  nextConnId(): number {
    return ++this.connIds;
  }

  /** @internal */
  encodeControl(value: unknown): Uint8Array[] {
    const { header, attachments } = this.encoder.encode(value);
    return encodeFrame(header, attachments, this.cfg.maxFrameBytes);
  }

  /** @internal */
  decodeFrame(frame: Frame): unknown {
    return this.decoder.decode(frame.header, frame.attachments);
  }

  /** @internal */
  reportLater(envs: Envelope[], code: RuntimeErrorCode, maybeDelivered = false): void {
    if (envs.length === 0) return;
    // Never call back into the ActorSystem from inside its own `send`.
    queueMicrotask(() => {
      const sink = this.sinkRef;
      if (sink === undefined) return;
      for (const env of envs) sink.undeliverable(env, code, maybeDelivered);
    });
  }

  /** @internal The peer `node` is reachable (again), as incarnation `incarnation`. */
  peerUp(node: string, incarnation: string): void {
    const peer = this.peerFor(node);
    if (peer.incarnation !== undefined && peer.incarnation !== incarnation) {
      this.log({ level: 'info', event: 'peer_restarted', node });
      peer.declareDown('link_down', true);
    }
    peer.incarnation = incarnation;
    if (peer.down) {
      peer.down = false;
      this.log({ level: 'info', event: 'link_up', node });
      this.events.emit('link-up', node);
      this.sinkRef?.linkUp?.(node);
    }
  }

  /** @internal */
  peerFor(node: string): Peer {
    let peer = this.peers.get(node);
    if (peer === undefined) {
      peer = new Peer(this, node);
      this.peers.set(node, peer);
    }
    return peer;
  }

  /** @internal */
  emitLinkDown(node: string): void {
    this.log({ level: 'warn', event: 'link_down', node });
    this.events.emit('link-down', node);
    this.sinkRef?.linkDown(node);
  }

  /** @internal */
  learnAddress(node: string, address: PeerAddress): void {
    if (!this.addresses.has(node)) this.addresses.set(node, address);
  }

  /** @internal */
  forgetInbound(c: InboundConnection): void {
    this.inbound.delete(c);
  }

  private accept(socket: Socket): void {
    if (this.closed || this.identity === undefined) {
      socket.destroy();
      return;
    }
    this.inbound.add(new InboundConnection(this, socket, this.nextConnId()));
  }
}

/**
 * Everything this node knows about one peer node: the outbound link (queue, sequence numbers,
 * the dialed connection), what was received from it, and whether it was reported down.
 */
class Peer {
  nextSeq = 1;
  incarnation: string | undefined;
  /** True until the first handshake, and after `linkDown` was reported. */
  down = true;
  /** Highest sequence number received from this peer's current incarnation. */
  receivedSeq = 0;
  /** The inbound connection currently carrying this peer's data, if any. */
  inbound: InboundConnection | undefined;

  private queue: Pending[] = [];
  private head = 0;
  /** Index into `queue` of the next frame to write on the current socket. */
  private cursor = 0;
  private queuedBytes = 0;
  private socket: Socket | undefined;
  private open = false;
  private attempt = 0;
  private reconnect: Cancel | undefined;
  private grace: Cancel | undefined;
  private lastFailure: RuntimeErrorCode = 'link_down';
  /** The grace period ended while a handshake was under way; give up if that attempt fails. */
  private graceExpired = false;
  /** The incarnation the server named in its challenge, during a handshake. */
  private serverIncarnation: string | undefined;

  constructor(
    private readonly t: TcpTransport,
    readonly node: string,
  ) {}

  get length(): number {
    return this.queue.length - this.head;
  }

  enqueue(env: Envelope | undefined, chunks: Uint8Array[]): void {
    let bytes = 0;
    for (const c of chunks) bytes += c.byteLength;
    const cfg = this.t.config;
    if (env !== undefined && (this.length >= cfg.outboundQueueMax || this.queuedBytes + bytes > cfg.outboundQueueMaxBytes)) {
      this.t.reportLater([env], 'outbound_queue_full');
      return;
    }
    this.queue.push({ seq: this.nextSeq++, env, chunks, bytes });
    this.queuedBytes += bytes;
    if (this.open) this.pump();
    else this.ensureConnecting();
  }

  /** Writes queued frames while the socket has room. */
  private pump(): void {
    const socket = this.socket;
    if (socket === undefined || !this.open) return;
    const high = this.t.config.socketHighWaterBytes;
    if (this.cursor >= this.queue.length) return;
    socket.cork();
    while (this.cursor < this.queue.length && socket.writableLength < high) {
      const p = this.queue[this.cursor++] as Pending;
      p.written = true;
      for (const c of p.chunks) socket.write(c);
    }
    socket.uncork();
  }

  private acked(receivedSeq: number): void {
    while (this.head < this.queue.length && (this.queue[this.head] as Pending).seq <= receivedSeq) {
      this.queuedBytes -= (this.queue[this.head] as Pending).bytes;
      this.queue[this.head] = undefined as unknown as Pending;
      this.head++;
    }
    if (this.cursor < this.head) this.cursor = this.head;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.cursor -= this.head;
      this.head = 0;
    }
  }

  private ensureConnecting(): void {
    if (this.socket !== undefined || this.reconnect !== undefined || this.t.isClosed) return;
    this.startGrace();
    this.dial();
  }

  private startGrace(): void {
    if (this.grace !== undefined) return;
    this.graceExpired = false;
    this.grace = this.t.timer.after(this.t.config.linkDownAfterMs, () => {
      this.grace = undefined;
      if (this.open) return;
      // A connection attempt is under way: its own limit (handshakeTimeoutMs) decides, so a slow
      // but live peer is not reported down in the middle of its handshake.
      if (this.socket !== undefined) this.graceExpired = true;
      else this.giveUp();
    });
  }

  /** The link stayed broken past its grace period: fail stop, and dial again only when someone sends. */
  private giveUp(): void {
    this.graceExpired = false;
    this.declareDown(this.lastFailure, false);
    this.reconnect?.();
    this.reconnect = undefined;
    this.attempt = 0;
  }

  /** Reports everything queued as undeliverable. */
  private failQueue(code: RuntimeErrorCode): void {
    // Written to some connection and not acknowledged: they may have arrived. Never written: they did not.
    const written: Envelope[] = [];
    const unwritten: Envelope[] = [];
    for (let i = this.head; i < this.queue.length; i++) {
      const p = this.queue[i] as Pending;
      if (p.env !== undefined) (p.written === true ? written : unwritten).push(p.env);
    }
    this.queue = [];
    this.head = 0;
    this.cursor = 0;
    this.queuedBytes = 0;
    this.t.reportLater(written, code, true);
    this.t.reportLater(unwritten, code);
  }

  /** Reports everything queued as undeliverable and, once per outage, `linkDown`. */
  declareDown(code: RuntimeErrorCode, keepConnection: boolean): void {
    this.failQueue(code);
    if (!keepConnection) this.open = false;
    if (!this.down) {
      this.down = true;
      this.t.emitLinkDown(this.node);
    }
  }

  private dial(): void {
    const addr = this.t.addressOf(this.node);
    if (addr === undefined) {
      // Known only from its inbound connection, without a listen address: it cannot be reached.
      this.grace?.();
      this.grace = undefined;
      this.failQueue('node_unreachable');
      return;
    }
    const me = this.t.me;
    const socket = connect({ host: addr.host, port: addr.port, noDelay: true });
    socket.setKeepAlive(true, 1000);
    this.socket = socket;
    const decoder = new FrameDecoder(this.t.config.handshakeMaxFrameBytes);
    const hello: Hello = makeHello(me, new Uint8Array(randomBytes(NONCE_BYTES)), this.t.announcedPort);
    let stage: 'challenge' | 'welcome' | 'open' = 'challenge';
    const cfg = this.t.config;
    let lastHeardMs = Date.now();
    let heartbeat: Cancel | undefined;
    const beat = (): void => {
      heartbeat = undefined;
      if (this.socket !== socket) return;
      if (Date.now() - lastHeardMs > cfg.heartbeatTimeoutMs) {
        fail(`nothing heard from ${this.node} for ${cfg.heartbeatTimeoutMs} ms`);
        return;
      }
      for (const c of this.t.encodeControl(pingHeader())) socket.write(c);
      heartbeat = this.t.timer.after(cfg.heartbeatIntervalMs, beat);
    };
    const fail = (reason: string, code: RuntimeErrorCode = 'link_down'): void => {
      heartbeat?.();
      heartbeat = undefined;
      if (this.socket !== socket) return;
      this.lastFailure = code;
      this.t.logEntry({ level: 'warn', event: stage === 'open' ? 'connection_lost' : 'connect_failed', node: this.node, reason });
      socket.destroy();
      this.lostConnection();
    };
    const handshakeTimer = this.t.timer.after(this.t.config.handshakeTimeoutMs, () => {
      if (stage !== 'open') fail('handshake timed out');
    });
    socket.on('connect', () => {
      for (const c of this.t.encodeControl(hello)) socket.write(c);
    });
    socket.on('data', (chunk: Buffer) => {
      lastHeardMs = Date.now();
      let frames: Frame[];
      try {
        frames = decoder.push(chunk);
      } catch (err) {
        fail(`malformed frame from server: ${(err as Error).message}`);
        return;
      }
      for (const frame of frames) {
        if (this.socket !== socket) return;
        let value: unknown;
        try {
          value = this.t.decodeFrame(frame);
        } catch (err) {
          fail(`undecodable frame from server: ${(err as Error).message}`);
          return;
        }
        if (stage === 'open') {
          const m = parseWire(value);
          if (typeof m === 'string' || m.type !== 'ack') {
            fail(`unexpected message from server: ${typeof m === 'string' ? m : m.type}`);
            return;
          }
          this.acked(m.receivedSeq);
          continue;
        }
        const parsed = parseHandshake(value, stage);
        if (!parsed.ok) {
          fail(parsed.reason, 'auth_failed');
          return;
        }
        const msg = parsed.value;
        if (msg.t === 'reject') {
          fail(`server rejected the handshake: ${msg.reason}`, 'auth_failed');
          return;
        }
        if (stage === 'challenge' && msg.t === 'challenge') {
          const verdict = answerChallenge(me, hello, msg as Challenge, this.node);
          if (!verdict.ok) {
            fail(verdict.reason, 'auth_failed');
            return;
          }
          for (const c of this.t.encodeControl(verdict.value)) socket.write(c);
          this.serverIncarnation = msg.incarnation;
          stage = 'welcome';
        } else if (stage === 'welcome' && msg.t === 'welcome') {
          stage = 'open';
          handshakeTimer();
          decoder.setMaxFrameBytes(this.t.config.handshakeMaxFrameBytes);
          heartbeat = this.t.timer.after(cfg.heartbeatIntervalMs, beat);
          this.established(socket, msg.receivedSeq);
        }
      }
    });
    socket.on('error', (err) => fail(err.message));
    socket.on('close', () => {
      handshakeTimer();
      fail('connection closed');
    });
    socket.on('drain', () => this.pump());
  }

  private established(socket: Socket, receivedSeq: number): void {
    const incarnation = this.serverIncarnation as string;
    this.attempt = 0;
    this.grace?.();
    this.grace = undefined;
    this.graceExpired = false;
    const restarted = this.incarnation !== undefined && this.incarnation !== incarnation;
    this.t.peerUp(this.node, incarnation);
    if (!restarted) this.acked(receivedSeq);
    this.cursor = this.head;
    this.open = true;
    this.socket = socket;
    this.pump();
  }

  private lostConnection(): void {
    this.socket = undefined;
    this.open = false;
    this.cursor = this.head;
    if (this.t.isClosed) return;
    if (this.graceExpired) {
      this.giveUp();
      return;
    }
    // Nothing to send to a peer already reported down: dial again only when someone sends.
    if (this.length === 0 && this.down) return;
    // Otherwise reconnect, and report the peer down if it does not come back in time.
    this.startGrace();
    const cfg = this.t.config;
    // Exponential backoff with jitter (half to all of the step), so peers that lost one host do not redial in lockstep.
    const stepMs = Math.min(cfg.reconnectBackoffMaxMs, cfg.reconnectBackoffMinMs * 2 ** this.attempt);
    const delayMs = stepMs / 2 + Math.random() * (stepMs / 2);
    this.attempt = Math.min(this.attempt + 1, 30);
    this.reconnect?.();
    this.reconnect = this.t.timer.after(delayMs, () => {
      this.reconnect = undefined;
      if (this.grace === undefined && this.length === 0) return;
      this.dial();
    });
  }

  breakConnection(): void {
    this.socket?.destroy();
  }

  close(): void {
    this.reconnect?.();
    this.reconnect = undefined;
    this.grace?.();
    this.grace = undefined;
    this.failQueue('system_stopped');
    const s = this.socket;
    this.socket = undefined;
    s?.destroy();
  }
}

/** A connection accepted by the listener: handshake as server, then receive data and ack it. */
class InboundConnection {
  private readonly decoder: FrameDecoder;
  private stage: 'hello' | 'auth' | 'open' = 'hello';
  private hello: Hello | undefined;
  private serverNonce: Uint8Array | undefined;
  private peer: Peer | undefined;
  private readonly handshakeTimer: Cancel;
  private heartbeat: Cancel | undefined;
  private lastHeardMs = Date.now();
  private done = false;
  private readonly remote: string;

  constructor(
    private readonly t: TcpTransport,
    private readonly socket: Socket,
    private readonly id: number,
  ) {
    this.remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    this.decoder = new FrameDecoder(t.config.handshakeMaxFrameBytes);
    this.handshakeTimer = t.timer.after(t.config.handshakeTimeoutMs, () => {
      if (this.stage !== 'open') this.reject(`no complete handshake within ${t.config.handshakeTimeoutMs} ms`);
    });
    socket.on('data', (chunk: Buffer) => {
      this.lastHeardMs = Date.now();
      this.onData(chunk);
    });
    socket.on('end', () => {
      if (this.stage !== 'open') this.reject(this.decoder.partial ? 'truncated frame during handshake' : 'connection closed during handshake');
      else if (this.decoder.partial) this.reject('truncated frame');
      else this.closed();
    });
    socket.on('error', (err) => {
      if (this.stage !== 'open') this.reject(`socket error during handshake: ${err.message}`);
      else this.closed();
    });
    socket.on('close', () => {
      if (this.stage !== 'open') this.reject('connection closed during handshake');
      else this.closed();
    });
  }

  /** Closes the connection without a log entry (transport shutdown, or superseded by a newer one). */
  destroy(): void {
    this.done = true;
    this.handshakeTimer();
    this.heartbeat?.();
    this.socket.destroy();
    this.t.forgetInbound(this);
  }

  /** Closes the connection if the client (which pings every heartbeat interval) went silent. */
  private watchHeartbeat(): void {
    const cfg = this.t.config;
    this.heartbeat = this.t.timer.after(cfg.heartbeatIntervalMs, () => {
      this.heartbeat = undefined;
      if (this.done) return;
      if (Date.now() - this.lastHeardMs > cfg.heartbeatTimeoutMs) {
        this.t.logEntry({ level: 'warn', event: 'connection_lost', node: this.hello?.node ?? '?', reason: `nothing heard for ${cfg.heartbeatTimeoutMs} ms`, remote: this.remote, conn: this.id });
        this.closed();
        return;
      }
      this.watchHeartbeat();
    });
  }

  private reject(reason: string): void {
    if (this.done) return;
    this.done = true;
    this.handshakeTimer();
    this.heartbeat?.();
    this.t.logEntry({ level: 'warn', event: 'rejected', reason, remote: this.remote, conn: this.id, ...(this.hello !== undefined && this.stage === 'open' ? { node: this.hello.node } : {}) });
    this.socket.destroy();
    this.t.forgetInbound(this);
    this.detach();
  }

  private closed(): void {
    if (this.done) return;
    this.done = true;
    this.handshakeTimer();
    this.heartbeat?.();
    this.socket.destroy();
    this.t.forgetInbound(this);
    this.detach();
  }

  private detach(): void {
    const peer = this.peer;
    this.peer = undefined;
    if (peer !== undefined && peer.inbound === this) peer.inbound = undefined;
  }

  private send(value: unknown): void {
    for (const c of this.t.encodeControl(value)) this.socket.write(c);
  }

  private onData(chunk: Buffer): void {
    if (this.done) return;
    let frames: Frame[];
    try {
      frames = this.decoder.push(chunk);
    } catch (err) {
      this.reject(`malformed frame: ${(err as Error).message}`);
      return;
    }
    let delivered = false;
    for (const frame of frames) {
      if (this.done) return;
      let value: unknown;
      try {
        value = this.t.decodeFrame(frame);
      } catch (err) {
        this.reject(`undecodable frame: ${(err as Error).message}`);
        return;
      }
      if (this.stage === 'open') {
        const m = parseWire(value);
        if (typeof m === 'string') {
          this.reject(m);
          return;
        }
        if (m.type === 'ack') {
          this.reject('unexpected ack from client');
          return;
        }
        if (m.type === 'ping') {
          if (this.peer !== undefined) this.send(ackHeader(this.peer.receivedSeq));
          continue;
        }
        const peer = this.peer as Peer;
        if (m.type === 'nodeDown') {
          if (hostOfNode(m.node) !== peer.node || m.node === peer.node) {
            this.reject(`peer ${peer.node} announced node ${m.node.slice(0, 64)} down, which is not one of its workers`);
            return;
          }
          if (m.seq <= peer.receivedSeq) continue;
          peer.receivedSeq = m.seq;
          delivered = true;
          this.t.sink.linkDown(m.node);
          continue;
        }
        if (hostOfNode(m.env.to.node) !== this.t.me.node) {
          this.reject(`envelope for node ${m.env.to.node.slice(0, 64)} arrived at ${this.t.me.node}`);
          return;
        }
        if (m.seq <= peer.receivedSeq) continue; // a resend of something already delivered
        peer.receivedSeq = m.seq;
        delivered = true;
        this.t.sink.deliver(m.env);
      } else if (!this.handshake(value)) {
        return;
      }
    }
    if (delivered && !this.done && this.peer !== undefined) this.send(ackHeader(this.peer.receivedSeq));
  }

  private handshake(value: unknown): boolean {
    const me = this.t.me;
    if (this.stage === 'hello') {
      const parsed = parseHandshake(value, 'hello');
      if (!parsed.ok) {
        this.reject(parsed.reason);
        return false;
      }
      const hello = parsed.value as Hello;
      this.serverNonce = new Uint8Array(randomBytes(NONCE_BYTES));
      const verdict = answerHello(me, hello, this.serverNonce);
      if (!verdict.ok) {
        this.send({ t: 'reject', reason: verdict.reason });
        this.reject(verdict.reason);
        return false;
      }
      this.hello = hello;
      this.send(verdict.value);
      this.stage = 'auth';
      return true;
    }
    if (this.stage === 'auth') {
      const parsed = parseHandshake(value, 'auth');
      const hello = this.hello as Hello;
      if (!parsed.ok) {
        this.reject(parsed.reason);
        return false;
      }
      const verdict = checkAuth(me, hello, this.serverNonce as Uint8Array, parsed.value as { t: 'auth'; proof: Uint8Array });
      if (!verdict.ok) {
        this.send({ t: 'reject', reason: 'authentication failed' });
        this.reject(verdict.reason);
        return false;
      }
      this.handshakeTimer();
      this.stage = 'open';
      this.decoder.setMaxFrameBytes(this.t.config.maxFrameBytes);
      const peer = this.t.peerFor(hello.node);
      if (peer.incarnation !== hello.incarnation) peer.receivedSeq = 0;
      this.t.peerUp(hello.node, hello.incarnation);
      // A newer connection from the same peer supersedes an older one (its old socket is dead or dying).
      const old = peer.inbound;
      peer.inbound = this;
      this.peer = peer;
      old?.destroy();
      if (hello.listenPort !== undefined && this.socket.remoteAddress !== undefined) {
        this.t.learnAddress(hello.node, { host: this.socket.remoteAddress, port: hello.listenPort });
      }
      this.send({ t: 'welcome', receivedSeq: peer.receivedSeq });
      this.watchHeartbeat();
      return true;
    }
    return false;
  }
}
