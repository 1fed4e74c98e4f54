import { Deque } from './deque.js';

/**
 * An actor's mailbox (DESIGN.md §3): two ordered lanes.
 *
 * - The system lane (stop, watch/terminated, link failure, undeliverable notices) is always read
 *   first and is never refused or evicted: the runtime bounds it by construction (at most a few
 *   entries per watched actor and per lifecycle event).
 * - The user lane is bounded by `capacity`. When full, the `overflow` policy decides — explicitly,
 *   observably, never by silently growing:
 *   - `reject`: the new message is refused; the caller answers its sender with `mailbox_full`.
 *   - `drop`: the new message is dropped and counted (for gossip and metrics, where the next
 *     message supersedes this one).
 *
 * Messages are FIFO within each lane, so messages from one sender arrive in send order.
 *
 * The user lane is a ring buffer stored as three parallel arrays (message, sender, correlation id)
 * rather than one envelope object per message: a queued tell allocates nothing, which keeps the
 * garbage collector out of the hot path (it took 70% of the time with per-message envelopes).
 */
export type OverflowPolicy = 'reject' | 'drop';

export type EnqueueResult = 'ok' | 'rejected' | 'dropped';

export interface MailboxStats {
  readonly system: number;
  readonly user: number;
  readonly capacity: number;
  readonly overflow: OverflowPolicy;
  /** User messages refused under `reject` since creation. */
  readonly rejected: number;
  /** User messages dropped under `drop` since creation. */
  readonly dropped: number;
  /** High-water mark of the user lane. */
  readonly maxUser: number;
}

/** One user message as queued: the payload, who sent it, and its ask correlation id (0 for a tell). */
export interface UserEntry<F> {
  readonly msg: unknown;
  readonly from: F | undefined;
  readonly corr: number;
}

export class Mailbox<S, F> {
  private readonly systemLane = new Deque<S>(4);
  private msgs: unknown[];
  private froms: (F | undefined)[];
  private corrs: number[];
  private head = 0;
  private count = 0;
  private mask: number;
  private rejectedCount = 0;
  private droppedCount = 0;
  private maxUser = 0;
  /** The entry `shiftUser` just took (fields, not an object, so nothing is allocated). */
  outMsg: unknown = undefined;
  outFrom: F | undefined = undefined;
  outCorr = 0;

  constructor(
    readonly capacity: number,
    readonly overflow: OverflowPolicy,
  ) {
    if (!(Number.isInteger(capacity) && capacity > 0)) throw new RangeError(`mailbox capacity must be a positive integer, got ${capacity}`);
    const cap = 16;
    this.msgs = new Array<unknown>(cap);
    this.froms = new Array<F | undefined>(cap);
    this.corrs = new Array<number>(cap).fill(0);
    this.mask = cap - 1;
  }

  /** Enqueues a user message under the overflow policy. */
  enqueueUser(msg: unknown, from: F | undefined, corr: number): EnqueueResult {
    const n = this.count;
    if (n >= this.capacity) {
      if (this.overflow === 'reject') {
        this.rejectedCount++;
        return 'rejected';
      }
      this.droppedCount++;
      return 'dropped';
    }
    if (n === this.msgs.length) this.grow();
    const i = (this.head + n) & this.mask;
    this.msgs[i] = msg;
    this.froms[i] = from;
    this.corrs[i] = corr;
    this.count = n + 1;
    if (n + 1 > this.maxUser) this.maxUser = n + 1;
    return 'ok';
  }

  /** Takes the oldest user message into `outMsg`/`outFrom`/`outCorr`; false when the lane is empty. */
  shiftUser(): boolean {
    if (this.count === 0) return false;
    const i = this.head;
    this.outMsg = this.msgs[i];
    this.outFrom = this.froms[i];
    this.outCorr = this.corrs[i] as number;
    this.msgs[i] = undefined; // release references for GC
    this.froms[i] = undefined;
    this.head = (i + 1) & this.mask;
    this.count--;
    return true;
  }

  /** Enqueues a system message; never refused. */
  enqueueSystem(item: S): void {
    this.systemLane.push(item);
  }

  dequeueSystem(): S | undefined {
    return this.systemLane.shift();
  }

  get hasSystem(): boolean {
    return this.systemLane.length > 0;
  }

  get isEmpty(): boolean {
    return this.count === 0 && this.systemLane.length === 0;
  }

  get size(): number {
    return this.systemLane.length + this.count;
  }

  get userSize(): number {
    return this.count;
  }

  /** Removes and returns every system message left. */
  drainSystem(): S[] {
    return this.systemLane.drain();
  }

  /** Removes and returns every user message left, oldest first (used when the actor stops). */
  drainUser(): UserEntry<F>[] {
    const out: UserEntry<F>[] = [];
    while (this.shiftUser()) out.push({ msg: this.outMsg, from: this.outFrom, corr: this.outCorr });
    this.outMsg = undefined;
    this.outFrom = undefined;
    return out;
  }

  /** The queued user messages, oldest first, without removing them (for inspection in tests). */
  peekUser(): unknown[] {
    const out: unknown[] = [];
    for (let k = 0; k < this.count; k++) out.push(this.msgs[(this.head + k) & this.mask]);
    return out;
  }

  stats(): MailboxStats {
    return {
      system: this.systemLane.length,
      user: this.count,
      capacity: this.capacity,
      overflow: this.overflow,
      rejected: this.rejectedCount,
      dropped: this.droppedCount,
      maxUser: this.maxUser,
    };
  }

  private grow(): void {
    const cap = this.msgs.length * 2;
    const msgs = new Array<unknown>(cap);
    const froms = new Array<F | undefined>(cap);
    const corrs = new Array<number>(cap).fill(0);
    for (let k = 0; k < this.count; k++) {
      const i = (this.head + k) & this.mask;
      msgs[k] = this.msgs[i];
      froms[k] = this.froms[i];
      corrs[k] = this.corrs[i] as number;
    }
    this.msgs = msgs;
    this.froms = froms;
    this.corrs = corrs;
    this.head = 0;
    this.mask = cap - 1;
  }
}
