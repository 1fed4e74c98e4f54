import type { MessagePort } from 'node:worker_threads';
import type { Envelope, EnvelopeKind } from '../envelope.js';
import type { RuntimeErrorCode } from '../errors.js';
import { Ref, type ActorRef } from '../ref.js';
import type { TransportSink } from '../transport/transport.js';
import type { RelayTransport } from '../transport/router.js';
import { isTransferable } from '../transport/ownership.js';
import type { ChannelControl } from './worker-protocol.js';

/**
 * One end of the data plane between two threads of a process: envelopes cross a `MessagePort` in
 * batches (machine-limits.md §3b: ~0.94 M msg/s one per postMessage, 3–4 M batched).
 *
 * - **Batching.** `send` appends to an outbox flushed once per microtask checkpoint, so a burst
 *   of sends in one turn becomes one `postMessage` (up to `batchMaxEnvelopes` each). A batch is
 *   `[refs, msgs, meta]`: a table of the refs it mentions (node, id pairs, each ref once), the
 *   messages, and two numbers per envelope (kind and ref indexes packed in one, correlation id),
 *   as a `Float64Array` from 8 envelopes on. Structured clone handles that much faster than
 *   envelope objects, whose node and id strings it would serialize again for every envelope, and
 *   copies the typed array in one piece instead of number by number.
 * - **Order.** A port is FIFO and each end has one outbox, so per-pair order holds (thesis §3.3).
 * - **Zero-copy payloads.** A `Uint8Array` its sender marked with `transferOwnership` (found as
 *   the message itself, a field, an array element of a field, or the same one level down, as in a
 *   reply's `{ ok, value: { data } }`) is *transferred*, not copied:
 *   ownership moves to the receiver and the sender's view becomes detached (length 0). Unmarked
 *   arrays are copied by structured clone, because the sender may still use them.
 *   `SharedArrayBuffer`-backed arrays are never copied: both sides see the same memory, which is
 *   the way to hand read-mostly data to several actors.
 * - **Failure.** Each side acks the batches it has handed to its ActorSystem, and keeps the
 *   batches it posted until they are acked. The ack rides on the next batch the
 *   receiver posts in the same turn (a batch's optional fourth slot, as in `[refs, msgs, meta, acks]`)
 *   — an ask's reply carries the ack of the ask — and goes as one small message of its own only
 *   when the turn posts nothing back. A round trip is thus one `postMessage` each way, not two. `fail()` (the pool calls it when the worker exits or crashes) reports every
 *   envelope posted but not acked, then everything still in the outbox, as `link_down` (they may
 *   or may not have been delivered), then `linkDown(peerNode)`; later sends are reported
 *   `node_unreachable`. Nothing is dropped silently (thesis §3.3). The reported envelopes are rebuilt
 *   from the kept batches: their refs equal the sender's by node and id, as separate objects. A payload that was transferred
 *   comes back to its sender detached (length 0).
 */

export interface PortTransportOptions {
  /** The node id at the far end (a worker's node, or the parent's). */
  readonly peerNode: string;
  readonly transferMinBytes?: number;
  readonly batchMaxEnvelopes?: number;
  /** Handles channel-brokering messages (`ChannelControl`) arriving on this port. */
  readonly onChannel?: (c: ChannelControl) => void;
  /**
   * Start without reading the port: messages the far side posts wait in the port, unread, until
   * `start()`. Sending works meanwhile. A direct channel starts this way (see `WorkerTransport`).
   */
  readonly paused?: boolean;
}

/** Control messages on the data port; data batches are plain arrays. */
type PortControl =
  | { readonly t: 'undeliverable'; readonly rec: Batch; readonly code: RuntimeErrorCode; readonly maybe?: boolean }
  | { readonly t: 'down'; readonly node: string }
  | { readonly t: 'up'; readonly node: string }
  | { readonly t: 'ack'; readonly batches: number }
  | ChannelControl;

const KINDS: readonly EnvelopeKind[] = ['tell', 'ask', 'reply', 'fail', 'sys'];
const KIND_INDEX: Readonly<Record<EnvelopeKind, number>> = { tell: 0, ask: 1, reply: 2, fail: 3, sys: 4 };
/** head = kind + 8 × (toIndex + REF_SPAN × (fromIndex + 1)); fromIndex + 1 = 0 means no sender. Below 2^47: exact in a double. */
const REF_SPAN = 2 ** 22;
export const TRANSFER_MIN_BYTES_DEFAULT = 64 * 1024;
/**
 * From this many envelopes a batch's heads and correlation ids are posted as a `Float64Array`
 * whose buffer is transferred: no per-element serialization (a plain array costs a tag and a
 * number per element on both sides, two of every envelope's three values) and no copy. Below
 * it, a plain array: a buffer of its own costs more than a few numbers. Measured on 1,000
 * envelopes: posting `[refs, msgs, meta]` took ~28 ns per envelope this way, ~40 copying the
 * typed array, ~58 as one plain array of three slots per envelope (~34–50 for the hand-written
 * RPC's two slots per request).
 */
const TYPED_META_MIN = 8;

/** `meta` as a `Float64Array` to transfer. */
function typedMeta(meta: readonly number[]): Float64Array {
  const t = new Float64Array(meta.length);
  for (let i = 0; i < meta.length; i++) t[i] = meta[i] as number;
  return t;
}

/**
 * A data batch: the ref table (node, id pairs), the messages, two numbers per envelope (head,
 * correlation id) as a plain array or a `Float64Array`, and optionally how many of the far side's
 * batches it acks.
 */
type Batch = [string[], unknown[], ArrayLike<number>] | [string[], unknown[], ArrayLike<number>, number];

/** Builds one batch: a table of the refs its envelopes mention, their messages, and their heads and correlation ids. */
class BatchBuilder {
  private refs: string[] = [];
  private msgs: unknown[] = [];
  private meta: number[] = [];
  /** Ref objects already in the table, by identity (senders reuse one ref object for a burst). */
  private index = new Map<ActorRef<unknown>, number>();
  /** The last `to` and `from` refs and their indexes: a burst names the same ones, so most envelopes skip the map. */
  private lastTo: ActorRef<unknown> | undefined;
  private lastToIndex = 0;
  private lastFrom: ActorRef<unknown> | undefined;
  private lastFromIndex = 0;

  get size(): number {
    return this.msgs.length;
  }

  add(env: Envelope): void {
    let to = this.lastToIndex;
    if (env.to !== this.lastTo) {
      to = this.lastToIndex = this.refIndex(env.to);
      this.lastTo = env.to;
    }
    let from = 0;
    if (env.from !== undefined) {
      from = this.lastFromIndex;
      if (env.from !== this.lastFrom) {
        from = this.lastFromIndex = this.refIndex(env.from) + 1;
        this.lastFrom = env.from;
      }
    }
    this.meta.push(KIND_INDEX[env.kind] + 8 * (to + REF_SPAN * from), env.corr);
    this.msgs.push(env.msg);
  }

  /** The batch so far (not emptied): for reporting what it holds. */
  peek(): Batch {
    return [this.refs, this.msgs, this.meta];
  }

  take(): [string[], unknown[], number[]] {
    const batch: [string[], unknown[], number[]] = [this.refs, this.msgs, this.meta];
    this.refs = [];
    this.msgs = [];
    this.meta = [];
    this.index = new Map();
    this.lastTo = undefined;
    this.lastFrom = undefined;
    return batch;
  }

  private refIndex(ref: ActorRef<unknown>): number {
    let i = this.index.get(ref);
    if (i === undefined) {
      i = this.refs.length / 2;
      if (i >= REF_SPAN - 1) throw new RangeError('batch ref table overflow');
      this.refs.push(ref.node, ref.id);
      this.index.set(ref, i);
    }
    return i;
  }
}

/**
 * Adds to `out` the buffers of `msg`'s payloads marked with `transferOwnership` and at least
 * `minBytes` long: the message itself, its fields and their array elements, and the same one
 * level down (a reply's `{ ok, value: { data } }`).
 */
function collectTransfers(msg: unknown, minBytes: number, out: ArrayBuffer[], depth = 0): void {
  if (typeof msg !== 'object' || msg === null) return;
  if (msg instanceof Uint8Array) {
    transferable(msg, minBytes, out);
    return;
  }
  if (depth > 1 || ArrayBuffer.isView(msg)) return;
  const values = Array.isArray(msg) ? msg : Object.values(msg);
  for (const v of values) {
    if (v instanceof Uint8Array) transferable(v, minBytes, out);
    else if (Array.isArray(v)) {
      for (const w of v) if (w instanceof Uint8Array) transferable(w, minBytes, out);
    } else if (typeof v === 'object' && v !== null && depth === 0) collectTransfers(v, minBytes, out, 1);
  }
}

/** Small arrays are cheaper to copy than to detach and re-attach, marked or not. */
function transferable(u8: Uint8Array, minBytes: number, out: ArrayBuffer[]): void {
  if (u8.byteLength < minBytes || !isTransferable(u8)) return;
  const buf = u8.buffer as ArrayBuffer;
  if (!out.includes(buf)) out.push(buf);
}

/**
 * A batch of one envelope, as posted: `[acks, head, corr, msg, ...refs]`, the ref table's node and
 * id pairs inline (one or two refs; `head` indexes them as in a batch). One flat array instead of three nested ones and a count: structured
 * clone costs per array, and one round trip of a serial ask is two such posts (measured with a
 * bare worker echoing each shape: ~26.6 µs per round trip flat against ~28 µs nested, the bare
 * string ping 23.7 µs). The sender keeps the batch in its usual form for failure reports.
 */
type Single = [number, number, number, unknown, string, string] | [number, number, number, unknown, string, string, string, string];

function isSingle(m: unknown): m is Single {
  return Array.isArray(m) && (m.length === 6 || m.length === 8) && typeof m[0] === 'number';
}

function readSingle(m: Single, deliver: (env: Envelope) => void): void {
  const head = m[1];
  const kind = head % 8;
  const rest = (head - kind) / 8;
  const to = rest % REF_SPAN;
  const from = (rest - to) / REF_SPAN;
  const ref = (i: number): Ref => new Ref(m[4 + 2 * i] as string, m[5 + 2 * i] as string);
  deliver({ kind: KINDS[kind] as EnvelopeKind, to: ref(to), from: from === 0 ? undefined : ref(from - 1), msg: m[3], corr: m[2] });
}

function isBatch(m: unknown): m is Batch {
  return Array.isArray(m) && (m.length === 3 || (m.length === 4 && typeof m[3] === 'number')) && Array.isArray(m[0]) && Array.isArray(m[1]);
}

/** Decodes a batch; every ref of the table becomes one `Ref` shared by the envelopes naming it. */
function readBatch(batch: Batch, deliver: (env: Envelope) => void): void {
  const [names, msgs, meta] = batch;
  const refs: Ref[] = [];
  for (let i = 0; i < names.length; i += 2) refs.push(new Ref(names[i] as string, names[i + 1] as string));
  for (let i = 0; i < msgs.length; i++) {
    const head = meta[2 * i] as number;
    const kind = head % 8;
    const rest = (head - kind) / 8;
    const to = rest % REF_SPAN;
    const from = (rest - to) / REF_SPAN;
    deliver({ kind: KINDS[kind] as EnvelopeKind, to: refs[to] as Ref, from: from === 0 ? undefined : refs[from - 1], msg: msgs[i], corr: meta[2 * i + 1] as number });
  }
}

/** The envelopes of a batch, rebuilt (refs equal by node and id to the sender's, not the same objects). */
function envelopesOf(batch: Batch, out: Envelope[]): void {
  readBatch(batch, (env) => out.push(env));
}

function oneEnvelope(env: Envelope, acks = 0): Batch {
  const b = new BatchBuilder();
  b.add(env);
  const [refs, msgs, meta] = b.take();
  return acks > 0 ? [refs, msgs, meta, acks] : [refs, msgs, meta];
}

function readOne(batch: Batch): Envelope {
  let env: Envelope | undefined;
  readBatch(batch, (e) => (env = e));
  if (env === undefined) throw new Error('empty envelope record');
  return env;
}

export class PortTransport implements RelayTransport {
  private sink: TransportSink | undefined;
  private readonly outbox = new BatchBuilder();
  private transfer: ArrayBuffer[] = [];
  private flushQueued = false;
  private dead = false;
  private started = false;
  /**
   * Posted batches the far side has not acked yet, oldest first: the sender's own arrays (a post
   * copies them), kept whole rather than as envelopes, which `fail` rebuilds only if needed.
   */
  private inflight: (Batch | undefined)[] = [];
  private inflightHead = 0;
  /** Batches received and delivered since the last ack. */
  private unacked = 0;
  private readonly ackFn = (): void => {
    // A batch is queued to go this turn: it carries the ack (see `flush`).
    if (this.flushQueued) return;
    const batches = this.unacked;
    this.unacked = 0;
    if (batches > 0 && !this.dead) this.post({ t: 'ack', batches } satisfies PortControl);
  };
  private readonly transferMinBytes: number;
  private readonly batchMaxEnvelopes: number;
  private readonly flushFn = (): void => this.flush();
  private readonly deliverFn = (env: Envelope): void => this.sink?.deliver(env);

  constructor(
    private readonly port: MessagePort,
    private readonly opts: PortTransportOptions,
  ) {
    this.transferMinBytes = opts.transferMinBytes ?? TRANSFER_MIN_BYTES_DEFAULT;
    this.batchMaxEnvelopes = opts.batchMaxEnvelopes ?? 4096;
    if (opts.paused !== true) this.start();
  }

  /** Starts reading the port (once; a transport not made `paused` starts at construction). */
  start(): void {
    if (this.started || this.dead) return;
    this.started = true;
    this.port.on('message', (m: unknown) => this.receive(m));
  }

  /**
   * Posts a channel-brokering message after everything sent so far (the outbox is flushed
   * first), transferring `transfer`. False if the link is dead (nothing posted).
   */
  postChannel(c: ChannelControl, transfer: readonly MessagePort[] = []): boolean {
    if (this.dead) return false;
    this.flush();
    this.port.postMessage(c, transfer as MessagePort[]);
    return true;
  }

  get peerNode(): string {
    return this.opts.peerNode;
  }

  bind(_node: string, sink: TransportSink): void {
    if (this.sink !== undefined) throw new Error('PortTransport.bind called twice');
    this.sink = sink;
  }

  send(env: Envelope): void {
    if (this.dead) {
      queueMicrotask(() => this.sink?.undeliverable(env, 'node_unreachable'));
      return;
    }
    this.outbox.add(env);
    collectTransfers(env.msg, this.transferMinBytes, this.transfer);
    if (this.outbox.size >= this.batchMaxEnvelopes) this.flush();
    else if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(this.flushFn);
    }
  }

  relayUndeliverable(env: Envelope, code: RuntimeErrorCode, maybeDelivered?: boolean): void {
    if (this.dead) return;
    this.flush();
    this.post({ t: 'undeliverable', rec: oneEnvelope(env), code, ...(maybeDelivered === true ? { maybe: true } : {}) } satisfies PortControl);
  }

  relayLinkDown(node: string): void {
    if (this.dead) return;
    this.flush();
    this.post({ t: 'down', node } satisfies PortControl);
  }

  relayLinkUp(node: string): void {
    if (this.dead) return;
    this.flush();
    this.post({ t: 'up', node } satisfies PortControl);
  }

  /** The far side is gone (worker exited or crashed): report what is queued, then the link. */
  fail(): void {
    if (this.dead) return;
    this.dead = true;
    // Posted and not yet acknowledged: the other side may have handled them. Still in the outbox: never sent.
    const posted: Envelope[] = [];
    for (let i = this.inflightHead; i < this.inflight.length; i++) envelopesOf(this.inflight[i] as Batch, posted);
    const unsent: Envelope[] = [];
    envelopesOf(this.outbox.peek(), unsent);
    this.inflight = [];
    this.inflightHead = 0;
    this.outbox.take();
    this.transfer = [];
    this.port.close();
    const sink = this.sink;
    if (sink === undefined) return;
    for (const env of posted) sink.undeliverable(env, 'link_down', true);
    for (const env of unsent) sink.undeliverable(env, 'link_down');
    sink.linkDown(this.opts.peerNode);
  }

  async close(): Promise<void> {
    this.flush();
    this.dead = true;
    this.port.close();
  }

  /** Posts the outbox now (normally done at the end of the current turn). */
  flush(): void {
    this.flushQueued = false;
    if (this.dead) return;
    if (this.outbox.size === 0) {
      this.ackFn();
      return;
    }
    const [refs, msgs, meta] = this.outbox.take();
    const acks = this.unacked;
    this.unacked = 0;
    const transfer = this.transfer;
    this.transfer = [];
    if (msgs.length === 1 && transfer.length === 0) {
      const single = [acks, meta[0], meta[1], msgs[0], ...refs] as Single;
      try {
        this.port.postMessage(single);
        this.inflight.push(acks > 0 ? [refs, msgs, meta, acks] : [refs, msgs, meta]);
        return;
      } catch {
        // Not cloneable: reported below, as for a batch.
      }
    }
    let posted: ArrayLike<number> = meta;
    if (msgs.length >= TYPED_META_MIN) {
      const typed = typedMeta(meta);
      transfer.push(typed.buffer as ArrayBuffer);
      posted = typed;
    }
    // The plain `meta` stays here (the typed one is transferred away): `fail` reads the kept batch.
    const batch: Batch = acks > 0 ? [refs, msgs, meta, acks] : [refs, msgs, meta];
    try {
      this.port.postMessage(acks > 0 ? [refs, msgs, posted, acks] : [refs, msgs, posted], transfer);
      this.inflight.push(batch);
    } catch {
      // Something in the batch cannot be cloned (a function, a class with private state...):
      // nothing was sent or transferred; post one by one so only the offending envelopes are reported.
      let acks = batch[3] ?? 0;
      const envs: Envelope[] = [];
      envelopesOf(batch, envs);
      for (const env of envs) {
        const own: ArrayBuffer[] = [];
        collectTransfers(env.msg, this.transferMinBytes, own);
        const one = oneEnvelope(env, acks);
        try {
          this.port.postMessage(one, own);
          acks = 0;
          this.inflight.push(one);
        } catch {
          queueMicrotask(() => this.sink?.undeliverable(env, 'node_unreachable'));
        }
      }
      if (acks > 0) this.post({ t: 'ack', batches: acks } satisfies PortControl);
    }
  }

  /** Envelopes posted and not yet acknowledged by the far side (for tests and metrics). */
  get inflightEnvelopes(): number {
    let n = 0;
    for (let i = this.inflightHead; i < this.inflight.length; i++) n += (this.inflight[i] as Batch)[1].length;
    return n;
  }

  private acked(batches: number): void {
    for (let k = 0; k < batches && this.inflightHead < this.inflight.length; k++) this.inflight[this.inflightHead++] = undefined;
    if (this.inflightHead === this.inflight.length) {
      this.inflight = [];
      this.inflightHead = 0;
    } else if (this.inflightHead > 1024) {
      this.inflight = this.inflight.slice(this.inflightHead);
      this.inflightHead = 0;
    }
  }

  private post(m: PortControl): void {
    this.port.postMessage(m);
  }

  private receive(m: unknown): void {
    const sink = this.sink;
    if (sink === undefined) return;
    if (isSingle(m)) {
      if (m[0] > 0) this.acked(m[0]);
      readSingle(m, this.deliverFn);
      if (this.unacked++ === 0) queueMicrotask(this.ackFn);
      return;
    }
    if (isBatch(m)) {
      if (m.length === 4) this.acked(m[3]);
      readBatch(m, this.deliverFn);
      if (this.unacked++ === 0) queueMicrotask(this.ackFn);
      return;
    }
    const c = m as PortControl;
    switch (c.t) {
      case 'undeliverable':
        sink.undeliverable(readOne(c.rec), c.code, c.maybe === true);
        break;
      case 'down':
        sink.linkDown(c.node);
        break;
      case 'up':
        sink.linkUp?.(c.node);
        break;
      case 'ack':
        this.acked(c.batches);
        break;
      case 'chan':
        this.opts.onChannel?.(c);
        break;
    }
  }
}
