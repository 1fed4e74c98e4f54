import type { Cancel, Clock, Timers } from '../env.js';
import type { Envelope } from '../envelope.js';
import type { Transport, TransportSink } from './transport.js';

/**
 * A cap on the bytes per second a node sends to other nodes: an operator's bandwidth limit, the
 * way HDFS caps a datanode's balancing traffic (`dfs.datanode.balance.bandwidthPerSec`) or Ceph
 * its recovery traffic. It behaves like a network interface of that speed: envelopes leave in the
 * order they were sent, each after its bytes have "crossed the wire" (store and forward: a 1 MiB
 * message at 12.5 MB/s leaves 84 ms after the wire became free for it), so a sender that
 * pipelines small pieces gets its data to the receiver sooner than one sending it whole — as on
 * a real link.
 *
 * It wraps the node's transport (`TroupeNodeOptions.egressBytesPerSecMax` puts one in front of
 * every thread of a process, each its own budget); envelopes to the node itself never reach a
 * transport and are not counted; envelopes a router relays for other nodes are not this node's
 * and are not counted either. The queue is bounded only by the senders' own bounds (asks in
 * flight, push windows): a sender faster than the cap waits, it is not refused.
 *
 * Sizes: the byte length of every binary payload in the message (the message itself, its fields,
 * their array elements and one level below), plus `envelopeOverheadBytes` for the rest.
 */
export interface EgressLimitOptions {
  readonly bytesPerSecMax: number;
  readonly clock: Clock;
  readonly timers: Timers;
  /** Bytes counted per envelope besides its binary payloads (headers, small fields). Default 64. */
  readonly envelopeOverheadBytes?: number;
}

/** Timer resolution: envelopes due sooner than this leave at once. */
const TIMER_TICK_MS = 1;

export class EgressLimitedTransport implements Transport {
  private sink: TransportSink | undefined;
  private readonly queue: { env: Envelope; leavesAt: number }[] = [];
  private head = 0;
  /** When the wire is free again (ms on `clock`): the last queued envelope's departure. */
  private wireFreeAt = 0;
  private timer: Cancel | undefined;
  private closed = false;
  private readonly overheadBytes: number;
  /** Bytes sent through this limiter so far (for metrics and tests). */
  sentBytes = 0;

  constructor(
    private readonly inner: Transport,
    private readonly opts: EgressLimitOptions,
  ) {
    if (!(opts.bytesPerSecMax > 0 && Number.isFinite(opts.bytesPerSecMax))) throw new RangeError(`egress cap must be a positive number of bytes per second, got ${opts.bytesPerSecMax}`);
    this.overheadBytes = opts.envelopeOverheadBytes ?? 64;
  }

  bind(node: string, sink: TransportSink): void {
    this.sink = sink;
    this.inner.bind(node, sink);
  }

  send(env: Envelope): void {
    if (this.closed) {
      // Reported after the sender's turn, never from inside its send.
      void Promise.resolve().then(() => this.sink?.undeliverable(env, 'node_unreachable'));
      return;
    }
    const now = this.opts.clock.now();
    const bytes = envelopeBytes(env.msg, this.overheadBytes);
    this.wireFreeAt = Math.max(this.wireFreeAt, now) + (bytes * 1000) / this.opts.bytesPerSecMax;
    this.sentBytes += bytes;
    this.queue.push({ env, leavesAt: this.wireFreeAt });
    // With a timer set, the envelopes ahead are waiting and this one leaves after them.
    if (this.timer === undefined) this.pump();
  }

  /** Envelopes waiting for the wire. */
  get queued(): number {
    return this.queue.length - this.head;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.timer?.();
    this.timer = undefined;
    // Queued envelopes never left: report them, as a transport closing with a backlog does.
    const left = this.queue.splice(this.head);
    this.queue.length = 0;
    this.head = 0;
    for (const q of left) this.sink?.undeliverable(q.env, 'node_unreachable');
    await this.inner.close();
  }

  /** Hands every envelope whose time has come to the inner transport, then waits for the next. */
  private pump(): void {
    this.timer = undefined;
    const now = this.opts.clock.now();
    while (this.head < this.queue.length) {
      const q = this.queue[this.head] as { env: Envelope; leavesAt: number };
      // Due within a timer tick: it leaves now. Waiting for a timer would add a whole tick (or,
      // on a busy machine, several) to every small message — acks, control requests — while
      // the wire schedule (`wireFreeAt`) still charges each byte, so the rate stays capped.
      if (q.leavesAt - now >= TIMER_TICK_MS) {
        this.timer = this.opts.timers.after(Math.max(1, Math.ceil(q.leavesAt - now)), () => this.pump());
        return;
      }
      this.head++;
      this.inner.send(q.env);
    }
    this.queue.length = 0;
    this.head = 0;
  }
}

/** The bytes an envelope's message puts on the wire, as this limiter counts them. */
export function envelopeBytes(msg: unknown, overheadBytes: number): number {
  return overheadBytes + payloadBytes(msg, 0);
}

function payloadBytes(v: unknown, depth: number): number {
  if (typeof v !== 'object' || v === null) return 0;
  if (ArrayBuffer.isView(v)) return v.byteLength;
  if (v instanceof ArrayBuffer) return v.byteLength;
  if (depth >= 3) return 0;
  let n = 0;
  for (const w of Array.isArray(v) ? v : Object.values(v)) n += payloadBytes(w, depth + 1);
  return n;
}
