import type { MessagePort } from 'node:worker_threads';
import type { Envelope, EnvelopeKind } from '../envelope.js';
import type { RuntimeErrorCode } from '../errors.js';
import { Ref } from '../ref.js';
import type { TransportSink } from '../transport/transport.js';
import type { RelayTransport } from '../transport/router.js';

/**
 * One end of the data plane between two threads of a process: envelopes cross a `MessagePort` in
 * batches (machine-limits.md §3b: ~0.94 M msg/s one per postMessage, 3–4 M batched).
 *
 * - **Batching.** `send` appends to an outbox flushed once per microtask checkpoint, so a burst
 *   of sends in one turn becomes one `postMessage` (up to `batchMaxEnvelopes` each). A batch is
 *   one flat array of primitives and messages (7 slots per envelope), which structured clone
 *   handles faster than an array of envelope objects.
 * - **Order.** A port is FIFO and each end has one outbox, so per-pair order holds (thesis §3.3).
 * - **Zero-copy payloads.** A `Uint8Array` of at least `transferMinBytes` that is the whole of
 *   its own `ArrayBuffer`, found as the message itself or as a field (or array element) of it, is
 *   *transferred*, not copied: ownership moves to the receiver and the sender's view becomes
 *   detached (length 0) — send it and let go of it. Views into a larger buffer (e.g. Node's
 *   pooled Buffers) are copied, since transferring would take their neighbours too.
 *   `SharedArrayBuffer`-backed arrays are never copied: both sides see the same memory, which is
 *   the way to hand read-mostly data to several actors.
 * - **Failure.** `fail(reason)` (the pool calls it when the worker exits or crashes) reports
 *   everything still in the outbox as `link_down`, then `linkDown(peerNode)`; later sends are
 *   reported `node_unreachable`. Envelopes already posted to a thread that then crashed are
 *   lost with it; their senders learn of it through `linkDown` (pending asks reject with
 *   `link_down`, watchers see `node_down`).
 */

export interface PortTransportOptions {
  /** The node id at the far end (a worker's node, or the parent's). */
  readonly peerNode: string;
  readonly transferMinBytes?: number;
  readonly batchMaxEnvelopes?: number;
}

/** Control messages on the data port; data batches are plain arrays. */
type PortControl =
  | { readonly t: 'undeliverable'; readonly rec: unknown[]; readonly code: RuntimeErrorCode }
  | { readonly t: 'down'; readonly node: string }
  | { readonly t: 'up'; readonly node: string };

const SLOTS = 7;
export const TRANSFER_MIN_BYTES_DEFAULT = 64 * 1024;

function pushRecord(out: unknown[], env: Envelope): void {
  out.push(env.kind, env.to.node, env.to.id, env.from?.node ?? null, env.from?.id ?? null, env.msg, env.corr);
}

function readRecord(b: unknown[], i: number): Envelope {
  const fromNode = b[i + 3] as string | null;
  return {
    kind: b[i] as EnvelopeKind,
    to: new Ref(b[i + 1] as string, b[i + 2] as string),
    from: fromNode === null ? undefined : new Ref(fromNode, b[i + 4] as string),
    msg: b[i + 5],
    corr: b[i + 6] as number,
  };
}

export class PortTransport implements RelayTransport {
  private sink: TransportSink | undefined;
  private outbox: unknown[] = [];
  private outboxEnvelopes: Envelope[] = [];
  private transfer: ArrayBuffer[] = [];
  private flushQueued = false;
  private dead = false;
  private readonly transferMinBytes: number;
  private readonly batchMaxEnvelopes: number;
  private readonly flushFn = (): void => this.flush();

  constructor(
    private readonly port: MessagePort,
    private readonly opts: PortTransportOptions,
  ) {
    this.transferMinBytes = opts.transferMinBytes ?? TRANSFER_MIN_BYTES_DEFAULT;
    this.batchMaxEnvelopes = opts.batchMaxEnvelopes ?? 4096;
    port.on('message', (m: unknown) => this.receive(m));
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
    pushRecord(this.outbox, env);
    this.outboxEnvelopes.push(env);
    this.collectTransfers(env.msg);
    if (this.outboxEnvelopes.length >= this.batchMaxEnvelopes) this.flush();
    else if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(this.flushFn);
    }
  }

  relayUndeliverable(env: Envelope, code: RuntimeErrorCode): void {
    if (this.dead) return;
    const rec: unknown[] = [];
    pushRecord(rec, env);
    this.flush();
    this.post({ t: 'undeliverable', rec, code } satisfies PortControl);
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
    const lost = this.outboxEnvelopes;
    this.outbox = [];
    this.outboxEnvelopes = [];
    this.transfer = [];
    this.port.close();
    const sink = this.sink;
    if (sink === undefined) return;
    for (const env of lost) sink.undeliverable(env, 'link_down');
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
    if (this.outboxEnvelopes.length === 0 || this.dead) return;
    const batch = this.outbox;
    const envs = this.outboxEnvelopes;
    const transfer = this.transfer;
    this.outbox = [];
    this.outboxEnvelopes = [];
    this.transfer = [];
    try {
      this.port.postMessage(batch, transfer);
    } catch {
      // Something in the batch cannot be cloned (a function, a class with private state...):
      // post one by one so only the offending envelopes are reported.
      for (let i = 0; i < envs.length; i++) {
        const rec = batch.slice(i * SLOTS, (i + 1) * SLOTS);
        try {
          this.port.postMessage(rec, transfer.filter((b) => b.byteLength > 0));
        } catch {
          const env = envs[i] as Envelope;
          queueMicrotask(() => this.sink?.undeliverable(env, 'node_unreachable'));
        }
      }
    }
  }

  private post(m: PortControl): void {
    this.port.postMessage(m);
  }

  private collectTransfers(msg: unknown): void {
    if (typeof msg !== 'object' || msg === null) return;
    if (msg instanceof Uint8Array) {
      this.maybeTransfer(msg);
      return;
    }
    const values = Array.isArray(msg) ? msg : Object.values(msg);
    for (const v of values) {
      if (v instanceof Uint8Array) this.maybeTransfer(v);
      else if (Array.isArray(v)) for (const w of v) if (w instanceof Uint8Array) this.maybeTransfer(w);
    }
  }

  private maybeTransfer(u8: Uint8Array): void {
    const buf = u8.buffer;
    if (u8.byteLength < this.transferMinBytes || !(buf instanceof ArrayBuffer)) return;
    if (u8.byteOffset !== 0 || u8.byteLength !== buf.byteLength) return;
    if (!this.transfer.includes(buf)) this.transfer.push(buf);
  }

  private receive(m: unknown): void {
    const sink = this.sink;
    if (sink === undefined) return;
    if (Array.isArray(m)) {
      for (let i = 0; i < m.length; i += SLOTS) sink.deliver(readRecord(m, i));
      return;
    }
    const c = m as PortControl;
    switch (c.t) {
      case 'undeliverable':
        sink.undeliverable(readRecord(c.rec, 0), c.code);
        break;
      case 'down':
        sink.linkDown(c.node);
        break;
      case 'up':
        sink.linkUp?.(c.node);
        break;
    }
  }
}
