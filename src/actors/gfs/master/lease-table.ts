/**
 * Chunk leases (patent ¶89–90): at most one primary per chunk at any time (invariant M6).
 *
 * A lease runs until `expiresAt` on the master's clock. The master treats it as held until
 * `expiresAt + skewMarginMs`, while the primary stops acting at its own `expiresAt`: with clock
 * skew below the margin, the old primary has stopped before the master could grant a new lease.
 * Revocation (rename, snapshot, ¶90, ¶111) removes a lease only once the primary confirmed it;
 * an unreachable primary's lease simply runs out.
 */
export interface Lease {
  readonly handle: bigint;
  readonly primary: string;
  readonly version: number;
  readonly grantedAt: number;
  expiresAt: number;
}

type ChunkHandleList = bigint[];

/**
 * Who may hold a lease of an earlier master incarnation on a chunk (M6): the server the chunk's
 * current version was leased to, as logged with the version bump; `null` when no lease was granted
 * at the current version (version 1, or a version adopted from reports); `undefined` when the log
 * does not say (records written before the holder was logged): any replica may hold one.
 */
export type LeaseHolder = string | null | undefined;

export class LeaseTable {
  private readonly leases = new Map<bigint, Lease>();
  /**
   * Until when a lease granted or extended by the previous incarnation may still run (after a
   * master restart; the start time when there was none): every such lease was granted or extended
   * before this incarnation started, so it ends by then, skew margin included.
   */
  private readonly inheritedUntil: number;
  /** Servers whose lease report reached this incarnation: every lease they hold is in the table (adopted). */
  private readonly reported = new Set<string>();
  /** Chunks leased by this incarnation within `inheritedUntil`: their holder is known here. */
  private readonly grantedHere = new Set<bigint>();

  constructor(
    readonly durationMs: number,
    readonly skewMarginMs: number,
    startedAt: number,
    afterRestart: boolean,
  ) {
    this.inheritedUntil = afterRestart ? startedAt + durationMs + skewMarginMs : startedAt;
  }

  /**
   * Until when a lease this master does not know of may be in force on `handle`: one granted by
   * its previous incarnation to `holder` (0 when none can be). None can once the lease period since
   * the restart has passed, when no lease was granted at the chunk's current version, when this
   * incarnation leased the chunk itself, or when the holder reported its leases to this incarnation
   * (any it held was adopted into the table then). Whatever must not overlap a lease — a grant, a
   * snapshot (¶111), a clone (M9) — waits until then.
   */
  unknownLeaseEndsAt(handle: bigint, holder: LeaseHolder, now: number): number {
    if (now >= this.inheritedUntil) {
      this.reported.clear();
      this.grantedHere.clear();
      return 0;
    }
    if (holder === null || this.grantedHere.has(handle)) return 0;
    if (holder !== undefined && this.reported.has(holder)) return 0;
    return this.inheritedUntil;
  }

  /** Whether leases of an earlier incarnation may still be unknown to this one (the lease period since the restart runs). */
  inheritedLeasesPossible(now: number): boolean {
    return now < this.inheritedUntil;
  }

  /**
   * `server` reported the leases it holds, fenced against grants of earlier incarnations (it
   * refuses those from now on): each one it named was passed to `adopt` before this call.
   */
  holderReported(server: string, now: number): void {
    if (now < this.inheritedUntil) this.reported.add(server);
  }

  /**
   * A lease a chunkserver reports holding, granted by an earlier incarnation, with `expiresAt`
   * already translated to this master's clock (conservatively: the time it has left, counted from
   * when the report arrived). It becomes a lease of the table: grants wait for it (plus the skew
   * margin), the primary may extend it, revocation removes it. A lease already in the table is
   * only ever lengthened by a report, never shortened.
   */
  adopt(handle: bigint, primary: string, version: number, expiresAt: number, now: number): Lease {
    const l = this.current(handle, now);
    if (l !== undefined) {
      l.expiresAt = Math.max(l.expiresAt, expiresAt);
      return l;
    }
    const lease: Lease = { handle, primary, version, grantedAt: now, expiresAt };
    this.leases.set(handle, lease);
    return lease;
  }

  /** The lease in force for `handle`, as the master must assume it (including the skew margin). */
  current(handle: bigint, now: number): Lease | undefined {
    const l = this.leases.get(handle);
    if (l === undefined) return undefined;
    if (now >= l.expiresAt + this.skewMarginMs) {
      this.leases.delete(handle);
      return undefined;
    }
    return l;
  }

  /**
   * Chunks with a handle above this were created by this incarnation (handles grow with the logical
   * time, ¶43–44, and a chunk is leased only once its creation is logged): no lease of a previous
   * incarnation can exist on them, so the wait after a restart does not apply (S4: appends go on in
   * a new chunk at once).
   */
  private freshAbove: bigint | undefined;

  /** Declares the handles above `handle` fresh (see `freshAbove`): called once the log is recovered. */
  markFreshAbove(handle: bigint): void {
    this.freshAbove = handle;
  }

  /**
   * When a new lease on `handle` may be granted: now, or after the current one surely ended, or
   * after any lease of an earlier incarnation unknown here surely ended (`holder`: see `LeaseHolder`;
   * never for a chunk this incarnation created, see `freshAbove`).
   */
  grantableAt(handle: bigint, now: number, holder?: LeaseHolder): number {
    const l = this.current(handle, now);
    const after = l === undefined ? now : l.expiresAt + this.skewMarginMs;
    if (this.freshAbove !== undefined && handle > this.freshAbove) return after;
    return Math.max(after, this.unknownLeaseEndsAt(handle, holder, now));
  }

  grant(handle: bigint, primary: string, version: number, now: number, holder?: LeaseHolder): Lease {
    if (this.grantableAt(handle, now, holder) > now) throw new Error(`M6: lease on ${handle} granted while another may be in force`);
    const lease: Lease = { handle, primary, version, grantedAt: now, expiresAt: now + this.durationMs };
    this.leases.set(handle, lease);
    if (now < this.inheritedUntil) this.grantedHere.add(handle);
    return lease;
  }

  /** Extends the lease if `primary` holds it (¶90: piggybacked on heartbeats while mutations continue). */
  extend(handle: bigint, primary: string, now: number): Lease | undefined {
    const l = this.current(handle, now);
    if (l === undefined || l.primary !== primary || now >= l.expiresAt) return undefined;
    l.expiresAt = now + this.durationMs;
    return l;
  }

  /** The primary confirmed it gave the lease up. */
  revoked(handle: bigint): void {
    this.leases.delete(handle);
  }

  /** Leases in force per primary: one pass over the leases, for status (not one per server). */
  countByPrimary(now: number): Map<string, number> {
    const out = new Map<string, number>();
    for (const h of [...this.leases.keys()]) {
      const l = this.current(h, now);
      if (l !== undefined) out.set(l.primary, (out.get(l.primary) ?? 0) + 1);
    }
    return out;
  }

  heldBy(primary: string, now: number): Lease[] {
    const out: Lease[] = [];
    for (const h of [...this.leases.keys()]) {
      const l = this.current(h, now);
      if (l !== undefined && l.primary === primary) out.push(l);
    }
    return out;
  }

  /** Chunks that have a lease entry (possibly expired). */
  handles(): ChunkHandleList {
    return [...this.leases.keys()];
  }

  get size(): number {
    return this.leases.size;
  }
}
