import type { Cancel, Clock, Timers } from './env.js';
import { TroupeError } from './errors.js';
import type { ActorRef } from './ref.js';

interface Pending {
  readonly corr: number;
  readonly to: ActorRef<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: TroupeError) => void;
  readonly deadline: number;
  /** The bucket holding its deadline, until it is answered or times out. */
  bucket: Bucket | undefined;
}

/**
 * The asks whose deadlines fall in one `resolutionMs` slot. Answered asks leave it by count
 * (`live`), not by removal (an array push and a counter cost less than a set's add and delete at
 * a million asks per second); the array is emptied when no ask in it is outstanding, and the
 * bucket itself goes when its slot expires.
 */
interface Bucket {
  entries: Pending[];
  live: number;
}

/**
 * Outstanding asks of one node, with their timeouts. A timer per ask would cost more than the
 * ask itself, so deadlines are grouped in buckets of `resolutionMs` and one host timer is armed
 * for the earliest bucket: an ask times out between `timeoutMs` and `timeoutMs + resolutionMs`.
 * `maxPending` bounds the table; an ask beyond it is refused at once.
 */
export class AskTable {
  private readonly pending = new Map<number, Pending>();
  private readonly buckets = new Map<number, Bucket>();
  /** Bucket keys, kept as a binary min-heap. */
  private readonly heap: number[] = [];
  private armedKey = Infinity;
  private cancelTimer: Cancel | undefined;
  private seq = 0;

  constructor(
    private readonly clock: Clock,
    private readonly timers: Timers,
    private readonly resolutionMs: number,
    readonly maxPending: number,
  ) {}

  get size(): number {
    return this.pending.size;
  }

  /** Registers an ask; returns its correlation id and the promise of its reply. */
  open<R>(to: ActorRef<unknown>, timeoutMs: number): { corr: number; promise: Promise<R> } {
    if (this.pending.size >= this.maxPending) {
      return { corr: 0, promise: Promise.reject(new TroupeError('mailbox_full', `too many outstanding asks (${this.maxPending})`)) };
    }
    const corr = ++this.seq;
    const deadline = this.clock.now() + timeoutMs;
    let entry!: Pending;
    const promise = new Promise<R>((resolve, reject) => {
      entry = { corr, to, resolve: resolve as (v: unknown) => void, reject, deadline, bucket: undefined };
    });
    this.pending.set(corr, entry);
    const key = Math.ceil(deadline / this.resolutionMs);
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      bucket = { entries: [], live: 0 };
      this.buckets.set(key, bucket);
      this.heapPush(key);
      if (key < this.armedKey) this.arm(key);
    }
    bucket.entries.push(entry);
    bucket.live++;
    entry.bucket = bucket;
    return { corr, promise };
  }

  resolve(corr: number, value: unknown): boolean {
    const p = this.take(corr);
    if (p === undefined) return false;
    p.resolve(value);
    return true;
  }

  reject(corr: number, err: TroupeError): boolean {
    const p = this.take(corr);
    if (p === undefined) return false;
    p.reject(err);
    return true;
  }

  /** Rejects every outstanding ask addressed to `node` (its link went down). */
  rejectNode(node: string, err: () => TroupeError): number {
    let n = 0;
    for (const p of [...this.pending.values()]) {
      if (p.to.node === node && this.reject(p.corr, err())) n++;
    }
    return n;
  }

  rejectAll(err: () => TroupeError): void {
    for (const corr of [...this.pending.keys()]) this.reject(corr, err());
    this.cancelTimer?.();
    this.cancelTimer = undefined;
  }

  private take(corr: number): Pending | undefined {
    const p = this.pending.get(corr);
    if (p === undefined) return undefined;
    this.pending.delete(corr);
    const b = p.bucket;
    if (b !== undefined) {
      p.bucket = undefined;
      if (--b.live === 0) b.entries.length = 0;
    }
    return p;
  }

  private arm(key: number): void {
    this.cancelTimer?.();
    this.armedKey = key;
    this.cancelTimer = this.timers.after(key * this.resolutionMs - this.clock.now(), this.expire);
  }

  private readonly expire = (): void => {
    this.cancelTimer = undefined;
    this.armedKey = Infinity;
    const now = this.clock.now();
    for (;;) {
      const key = this.heap[0];
      if (key === undefined) return;
      if (key * this.resolutionMs > now) {
        this.arm(key);
        return;
      }
      this.heapPop();
      const bucket = this.buckets.get(key);
      this.buckets.delete(key);
      if (bucket === undefined) continue;
      for (const p of bucket.entries) {
        // Answered asks left the bucket by count only: skip them.
        if (p.bucket !== bucket) continue;
        p.bucket = undefined;
        if (this.pending.delete(p.corr)) {
          p.reject(new TroupeError('ask_timeout', `no reply from ${p.to.id}@${p.to.node} within the timeout`));
        }
      }
    }
  };

  private heapPush(key: number): void {
    const h = this.heap;
    h.push(key);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((h[parent] as number) <= key) break;
      h[i] = h[parent] as number;
      i = parent;
    }
    h[i] = key;
  }

  private heapPop(): void {
    const h = this.heap;
    const last = h.pop();
    if (last === undefined || h.length === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const c = r < h.length && (h[r] as number) < (h[l] as number) ? r : l;
      if ((h[c] as number) >= last) break;
      h[i] = h[c] as number;
      i = c;
    }
    h[i] = last;
  }
}
