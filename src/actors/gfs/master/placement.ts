/**
 * Replica placement (patent ¶61–65): prefer chunkservers with below-average disk utilization
 * (¶61), avoid those with many recent creations, which predict heavy write traffic (¶62), and
 * spread a chunk's replicas across racks so that a rack failure leaves one available (¶63, ¶65).
 * Pure: the inputs are the master's view of the servers; the output is a list of server ids.
 */
export interface ServerView {
  readonly id: string;
  readonly rack: string;
  readonly usedBytes: number;
  readonly capacityBytes: number;
  /** Chunks created on it within the recent window. */
  readonly recentCreations: number;
  /** Accepts new replicas (live and not being decommissioned). */
  readonly eligible: boolean;
}

export function utilization(s: ServerView): number {
  return s.capacityBytes <= 0 ? 1 : s.usedBytes / s.capacityBytes;
}

/**
 * Chooses up to `count` servers for new replicas, none of them in `exclude` (servers that
 * already hold the chunk). Ties are broken by id so the choice is deterministic.
 */
export function choosePlacement(
  servers: readonly ServerView[],
  count: number,
  options: { exclude?: ReadonlySet<string>; recentCreationsMax: number; racksInUse?: ReadonlySet<string> },
): string[] {
  const candidates = servers.filter((s) => s.eligible && !(options.exclude?.has(s.id) ?? false));
  if (candidates.length === 0 || count <= 0) return [];
  const avg = candidates.reduce((a, s) => a + utilization(s), 0) / candidates.length;
  // Lower score is better: busy-with-creations and above-average servers go last.
  const score = (s: ServerView): number[] => [
    s.recentCreations >= options.recentCreationsMax ? 1 : 0,
    utilization(s) > avg ? 1 : 0,
    s.recentCreations,
    utilization(s),
  ];
  const ranked = [...candidates].sort((a, b) => compareTuples(score(a), score(b)) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const chosen: ServerView[] = [];
  const racks = new Set(options.racksInUse ?? []);
  // First pass: one per rack not yet used; second pass: fill from the rest (¶63).
  for (const s of ranked) {
    if (chosen.length >= count) break;
    if (!racks.has(s.rack)) {
      chosen.push(s);
      racks.add(s.rack);
    }
  }
  for (const s of ranked) {
    if (chosen.length >= count) break;
    if (!chosen.includes(s)) chosen.push(s);
  }
  return chosen.map((s) => s.id);
}

function compareTuples(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * Rebalancing (¶70–71): moves from servers well above the average utilization to servers below
 * it — which also fills a new, empty server gradually, a few moves per pass.
 */
export function planRebalance(
  servers: readonly ServerView[],
  chunksOn: (server: string) => readonly bigint[],
  holders: (handle: bigint) => ReadonlySet<string>,
  options: { threshold: number; movesMax: number; rackOf: (server: string) => string | undefined },
): Array<{ handle: bigint; from: string; to: string }> {
  const live = servers.filter((s) => s.eligible);
  if (live.length < 2) return [];
  const avg = live.reduce((a, s) => a + utilization(s), 0) / live.length;
  const donors = live.filter((s) => utilization(s) > avg + options.threshold).sort((a, b) => utilization(b) - utilization(a));
  const takers = live.filter((s) => utilization(s) < avg).sort((a, b) => utilization(a) - utilization(b) || (a.id < b.id ? -1 : 1));
  const moves: Array<{ handle: bigint; from: string; to: string }> = [];
  const busy = new Set<bigint>();
  for (const donor of donors) {
    for (const handle of chunksOn(donor.id)) {
      if (moves.length >= options.movesMax) return moves;
      if (busy.has(handle)) continue;
      const have = holders(handle);
      const otherRacks = new Set([...have].filter((h) => h !== donor.id).map((h) => options.rackOf(h)));
      // Keep the rack spread: prefer a taker on a rack the other replicas do not use.
      const taker =
        takers.find((t) => !have.has(t.id) && !otherRacks.has(t.rack)) ?? takers.find((t) => !have.has(t.id));
      if (taker === undefined) continue;
      moves.push({ handle, from: donor.id, to: taker.id });
      busy.add(handle);
    }
  }
  return moves;
}
