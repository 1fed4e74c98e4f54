/**
 * Re-replication (patent ¶66–69): chunks below their replication goal are cloned from a valid
 * replica, in approximate priority order — most replicas missing first; chunks of live files
 * before chunks of deleted files; chunks blocking a client first (¶68) — under a limit on clones
 * in flight in total and per chunkserver (¶69). Pure: the master feeds it its view and starts the
 * clones it returns.
 */
export interface UnderReplicated {
  readonly handle: bigint;
  readonly version: number;
  readonly goal: number;
  /** Servers holding an up-to-date replica. */
  readonly live: readonly string[];
  /** The chunk belongs only to hidden (deleted) files. */
  readonly deletedOnly: boolean;
  /** A client is waiting on this chunk (e.g. a write found too few replicas). */
  readonly blockingClient: boolean;
}

export interface ClonePlan {
  readonly handle: bigint;
  readonly version: number;
  readonly source: string;
  readonly target: string;
}

/** Sort key: lower is more urgent. */
export function priority(c: UnderReplicated): number[] {
  const missing = c.goal - c.live.length;
  return [c.blockingClient ? 0 : 1, -missing, c.deletedOnly ? 1 : 0];
}

export function byPriority(a: UnderReplicated, b: UnderReplicated): number {
  const pa = priority(a);
  const pb = priority(b);
  for (let i = 0; i < pa.length; i++) {
    const d = (pa[i] as number) - (pb[i] as number);
    if (d !== 0) return d;
  }
  return a.handle < b.handle ? -1 : a.handle > b.handle ? 1 : 0;
}

/**
 * Plans clones for the most urgent chunks within the limits. `inFlight` counts clones already
 * running per server (as source or target); `chooseTargets` places new replicas (¶69: "using
 * factors such as those of Fig. 6").
 */
export function planClones(
  chunks: readonly UnderReplicated[],
  inFlight: ReadonlyMap<string, number>,
  limits: { totalMax: number; perServerMax: number },
  chooseTargets: (c: UnderReplicated, count: number, exclude: ReadonlySet<string>) => string[],
): ClonePlan[] {
  const load = new Map(inFlight);
  let total = [...inFlight.values()].reduce((a, b) => a + b, 0) / 2; // each clone counts at source and target
  const plans: ClonePlan[] = [];
  for (const c of [...chunks].sort(byPriority)) {
    if (total >= limits.totalMax) break;
    if (c.live.length === 0) continue; // nothing valid to copy from: the chunk is lost until a replica returns
    const missing = c.goal - c.live.length;
    if (missing <= 0) continue;
    const exclude = new Set(c.live);
    const targets = chooseTargets(c, missing, exclude).filter((t) => (load.get(t) ?? 0) < limits.perServerMax);
    for (const target of targets) {
      if (total >= limits.totalMax) break;
      const source = [...c.live].sort((a, b) => (load.get(a) ?? 0) - (load.get(b) ?? 0) || (a < b ? -1 : 1))[0] as string;
      if ((load.get(source) ?? 0) >= limits.perServerMax) break;
      plans.push({ handle: c.handle, version: c.version, source, target });
      load.set(source, (load.get(source) ?? 0) + 1);
      load.set(target, (load.get(target) ?? 0) + 1);
      total++;
    }
  }
  return plans;
}

/**
 * The replication backlog as the master keeps it (M12): the chunks below their goal and the
 * chunks with no live replica, updated chunk by chunk as the state changes — a record applied, a
 * replica reported, lost, cloned or left stale by a version bump, a chunkserver dead, back or
 * draining — so that status, the dashboard and /metrics read two sizes instead of scanning every
 * file (issue #13). Pure: the master computes each chunk's counts and hands them in.
 */
export class ReplicationBacklog {
  /** Chunks whose up-to-date replicas on live servers not being drained are fewer than the goal (missing ones included). */
  readonly under = new Set<bigint>();
  /** Chunks with no up-to-date replica on a live server (¶68: "missing"). */
  readonly missing = new Set<bigint>();

  /**
   * Records chunk `handle`'s state: `live` up-to-date replicas on live servers, `active` of them
   * on servers not being decommissioned, against `goal`; `goal` undefined when the chunk no longer exists.
   */
  set(handle: bigint, live: number, active: number, goal: number | undefined): void {
    if (goal === undefined) {
      this.under.delete(handle);
      this.missing.delete(handle);
      return;
    }
    if (active < goal) this.under.add(handle);
    else this.under.delete(handle);
    if (live === 0) this.missing.add(handle);
    else this.missing.delete(handle);
  }

  clear(): void {
    this.under.clear();
    this.missing.clear();
  }
}
