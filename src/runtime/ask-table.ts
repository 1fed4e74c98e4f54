import type { Cancel, Clock, Timers } from './env.js';
import { TroupeError } from './errors.js';
import type { ActorRef } from './ref.js';

interface Pending {
  readonly corr: number;
  readonly to: ActorRef<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: TroupeError) => void;
  /** The bucket holding its deadline, until it is answered or times out. */
  bucket: Bucket | undefined;
}

/**
 * The asks whose deadlines fall in one `resolutionMs` slot: `entries[0, n)`. Answered asks leave
 * it by count (`live`), not by removal (an array write and a counter cost less than a set's add
 * and delete at a million asks per second); when no ask in it is outstanding, `n` goes back to 0
 * and the array is reused. The bucket itself goes when its slot expires.
 */
interface Bucket {
  readonly key: number;
  entries: Pending[];
  n: number;
  live: number;
}

/**
 * A bucket emptied by answers keeps its array when it held at most this many asks (serial asks
 * open and answer one at a time: truncating the array to 0 freed its backing store and the next
 * ask allocated a new one); a larger one is released, so answered asks
 * of a burst are not kept until the slot expires. At most this many answered asks per slot stay
 * referenced until overwritten or expired.
 */
const BUCKET_REUSE_MAX = 16;

/**
 * Outstanding asks of one node, with their timeouts. A timer per ask would cost more than the
 * ask itself, so deadlines are grouped in buckets of `resolutionMs` and one host timer is armed
 * for the earliest bucket: an ask times out between `timeoutMs` and `timeoutMs + resolutionMs`.
 * `maxPending` bounds the table; an ask beyond it is refused at once.
 */
export class AskTable {
  private readonly pending = new Map<number, Pending>();
  private readonly buckets = new Map<number, Bucket>();
  /** The bucket the last ask went to: consecutive asks nearly always share one. */
  private lastBucket: Bucket | undefined;
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
    let entry!: Pending;
    const promise = new Promise<R>((resolve, reject) => {
      entry = { corr, to, resolve: resolve as (v: unknown) => void, reject, bucket: undefined };
    });
    this.pending.set(corr, entry);
    const key = Math.ceil((this.clock.now() + timeoutMs) / this.resolutionMs);
    let bucket = this.lastBucket;
    if (bucket === undefined || bucket.key !== key) {
      bucket = this.buckets.get(key);
      if (bucket === undefined) {
        bucket = { key, entries: [], n: 0, live: 0 };
        this.buckets.set(key, bucket);
        this.heapPush(key);
        if (key < this.armedKey) this.arm(key);
      }
      this.lastBucket = bucket;
    }
    const i = bucket.n++;
    if (i < bucket.entries.length) bucket.entries[i] = entry;
    else bucket.entries.push(entry);
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
      if (--b.live === 0) {
        if (b.n > BUCKET_REUSE_MAX) b.entries = [];
        b.n = 0;
      }
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
      if (this.lastBucket === bucket) this.lastBucket = undefined;
      const { entries, n } = bucket;
      for (let i = 0; i < n; i++) {
        const p = entries[i] as Pending;
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
