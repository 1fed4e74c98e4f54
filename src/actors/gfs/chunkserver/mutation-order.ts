/**
 * A secondary's ordering of one chunk's mutations (patent ¶99: "each of the secondary replicas may
 * apply the received write requests in the assigned serial number order").
 *
 * The primary numbers the mutations of a lease 1, 2, 3, …; a new lease always comes with a new
 * chunk version (¶76–77), so (version, serial) orders every mutation of a chunk. `offer` hands back
 * the mutations that are now next in line, in order; a mutation that arrives early is held until the
 * gap before it fills. Invariant C3: a mutation with serial k is never released after one with a
 * higher serial of the same version, and never twice.
 *
 * Bounded in space and time (C5): at most `heldMax` held mutations; when the oldest has waited
 * `timeoutMs`, the missing ones are declared lost and *every* held mutation fails (all of them were
 * behind the gap): the client sees the error and retries (¶100). Ordering then resumes after the
 * highest serial seen, so one lost message does not block the chunk for the rest of the lease.
 *
 * A fresh instance (a restarted replica) starts from the first serial it is offered.
 *
 * Pure: callers pass `now`.
 */

export interface OrderOutcome<T> {
  /** Mutations to apply now, in serial order. */
  readonly ready: T[];
  /** Mutations that will never be applied (lost gap, superseded lease): answer them with an error. */
  readonly failed: Array<{ readonly item: T; readonly message: string }>;
  /** Set when the offered mutation itself was refused at once. */
  readonly refused?: { readonly reason: 'late' | 'duplicate' | 'busy' | 'old_version'; readonly message: string };
}

interface Held<T> {
  readonly item: T;
  readonly since: number;
}

export class MutationOrder<T> {
  private version = -1;
  private next = 1;
  private readonly held = new Map<number, Held<T>>();

  constructor(
    private readonly heldMax: number,
    private readonly timeoutMs: number,
  ) {
    if (!(heldMax > 0 && timeoutMs > 0)) throw new Error('MutationOrder needs positive bounds');
  }

  /** The serial expected next, and the version it belongs to. */
  get expected(): { readonly version: number; readonly serial: number } {
    return { version: this.version, serial: this.next };
  }

  get heldCount(): number {
    return this.held.size;
  }

  /** When `expire` has work to do, or undefined when nothing is held. */
  deadline(): number | undefined {
    let min: number | undefined;
    for (const h of this.held.values()) if (min === undefined || h.since < min) min = h.since;
    return min === undefined ? undefined : min + this.timeoutMs;
  }

  offer(version: number, serial: number, item: T, now: number): OrderOutcome<T> {
    if (!Number.isSafeInteger(serial) || serial < 1) throw new Error(`serial must be a positive integer, got ${serial}`);
    const failed: Array<{ item: T; message: string }> = [];
    if (version < this.version) return { ready: [], failed, refused: { reason: 'old_version', message: `mutation for version ${version}, but this replica follows version ${this.version}` } };
    if (version > this.version) {
      // A new lease: mutations still held from the old one can never be applied.
      for (const [s, h] of this.held) failed.push({ item: h.item, message: `mutation ${s} of version ${this.version} superseded by version ${version} before the mutations ahead of it arrived` });
      this.held.clear();
      // Fresh (this replica restarted, or never saw this chunk mutated): start at the first serial
      // that arrives. Delivery between two actors is FIFO (DESIGN.md §3), so every earlier serial
      // was lost with the link or the old incarnation, and the primary already failed it (¶100).
      this.next = this.version === -1 ? serial : 1;
      this.version = version;
    }
    if (serial < this.next) return { ready: [], failed, refused: { reason: 'late', message: `mutation ${serial} arrived after this replica moved on to ${this.next} (it was declared lost or already applied)` } };
    if (this.held.has(serial)) return { ready: [], failed, refused: { reason: 'duplicate', message: `mutation ${serial} is already waiting here` } };
    if (serial > this.next && this.held.size >= this.heldMax) return { ready: [], failed, refused: { reason: 'busy', message: `${this.held.size} mutations already wait for mutation ${this.next}` } };
    this.held.set(serial, { item, since: now });
    return { ready: this.release(), failed };
  }

  /** After the deadline: the gap is lost; every held mutation fails and ordering resumes after them. */
  expire(now: number): OrderOutcome<T> {
    const d = this.deadline();
    if (d === undefined || now < d) return { ready: [], failed: [] };
    const failed: Array<{ item: T; message: string }> = [];
    let highest = this.next - 1;
    const lost = this.next;
    for (const [s, h] of [...this.held].sort((a, b) => a[0] - b[0])) {
      failed.push({ item: h.item, message: `mutation ${s} waited ${this.timeoutMs} ms for mutation ${lost}, which never arrived; the region may be inconsistent: retry (¶100)` });
      highest = Math.max(highest, s);
    }
    this.held.clear();
    this.next = highest + 1;
    return { ready: [], failed };
  }

  private release(): T[] {
    const out: T[] = [];
    for (;;) {
      const h = this.held.get(this.next);
      if (h === undefined) break;
      this.held.delete(this.next);
      out.push(h.item);
      this.next++;
    }
    return out;
  }
}
