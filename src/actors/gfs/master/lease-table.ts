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

export class LeaseTable {
  private readonly leases = new Map<bigint, Lease>();
  /** No lease may be granted before this time (after a master restart: leases granted by the previous incarnation may still run). */
  private grantsAllowedFrom: number;

  constructor(
    readonly durationMs: number,
    readonly skewMarginMs: number,
    startedAt: number,
    afterRestart: boolean,
  ) {
    this.grantsAllowedFrom = afterRestart ? startedAt + durationMs + skewMarginMs : startedAt;
  }

  /**
   * Until when a lease this master does not know of may be in force: one granted by its previous
   * incarnation, before a restart (0 when none can be). Whatever must not overlap a lease — a
   * snapshot (¶111), a clone (M9) — waits until then.
   */
  unknownLeasesEndAt(now: number): number {
    return now < this.grantsAllowedFrom ? this.grantsAllowedFrom : 0;
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

  /** When a new lease on `handle` may be granted (now, or after the current one surely ended). */
  grantableAt(handle: bigint, now: number): number {
    const l = this.current(handle, now);
    const after = l === undefined ? now : l.expiresAt + this.skewMarginMs;
    if (this.freshAbove !== undefined && handle > this.freshAbove) return after;
    return Math.max(after, this.grantsAllowedFrom);
  }

  grant(handle: bigint, primary: string, version: number, now: number): Lease {
    if (this.grantableAt(handle, now) > now) throw new Error(`M6: lease on ${handle} granted while another may be in force`);
    const lease: Lease = { handle, primary, version, grantedAt: now, expiresAt: now + this.durationMs };
    this.leases.set(handle, lease);
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

  /** Every lease in force held by `primary`. */
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
