/**
 * The statistics behind a suite's ratio targets, kept apart from the timing loop so they can be
 * checked with known numbers: which timed cases run interleaved, the per-pair ratios of an
 * interleaved run, and the spread of ratios over repeated runs.
 *
 * Why pairs: on a shared machine the load changes from one second to the next, so a case and its
 * baseline timed one after the other see different machines, and their ratio swings (0.3x–1.9x
 * between runs was seen for one target). Timed in alternation, iteration i of a case and
 * iteration i of its baseline see nearly the same load; the median of the per-pair ratios
 * compares like with like, and their min and max show how far one pair can stray.
 */

/** The median, minimum and maximum of some values, and how many there were. */
export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly n: number;
}

/** The middle value (the mean of the two middle ones for an even count). Throws on an empty list. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function spread(values: readonly number[]): Spread {
  if (values.length === 0) throw new RangeError('spread of no values');
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { median: median(values), min, max, n: values.length };
}

/** A rate from one iteration's wall time: `perIteration` operations or bytes in `ms`. */
export function rateOfIteration(perIteration: number, ms: number): number {
  return perIteration / (ms / 1000);
}

/** The iterations of one interleaved case: what one iteration moves, and each iteration's time in order. */
export interface CaseSamples {
  readonly perIteration: number;
  readonly iterationMs: readonly number[];
}

/**
 * A case's iterations against per-round baseline rates: pair i is iteration i of the case and
 * round i of the baseline (iteration i of the baseline case, or the value a derived baseline
 * computes from the iterations i of the cases it reads). Returns the spread of rate_i / base_i.
 */
export function pairedRatios(a: CaseSamples, baseRates: readonly number[]): Spread {
  const n = Math.min(a.iterationMs.length, baseRates.length);
  if (n === 0) throw new RangeError('no pairs to compare');
  const ratios: number[] = [];
  for (let i = 0; i < n; i++) ratios.push(rateOfIteration(a.perIteration, a.iterationMs[i] as number) / (baseRates[i] as number));
  return spread(ratios);
}

/** Per-round rates of one interleaved case. */
export function iterationRates(s: CaseSamples): number[] {
  return s.iterationMs.map((ms) => rateOfIteration(s.perIteration, ms));
}

/**
 * Per-round values of a derived baseline: round i combines the rates of iteration i of each
 * case it reads (in the order given).
 */
export function derivedRates(cases: readonly CaseSamples[], combine: (rates: readonly number[]) => number): number[] {
  const n = Math.min(...cases.map((c) => c.iterationMs.length));
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(combine(cases.map((c) => rateOfIteration(c.perIteration, c.iterationMs[i] as number))));
  return out;
}

/**
 * The groups of cases that run interleaved: the cases of each target that compares two or more
 * interleavable cases are linked, and each connected group (a baseline shared by two targets
 * joins them) runs as one. Groups come in the order of their first case; each group lists its
 * cases in suite order. Cases in no group are timed on their own.
 */
export function interleaveGroups(caseNames: readonly string[], interleavable: (name: string) => boolean, links: readonly (readonly string[])[]): string[][] {
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    let r = x;
    while (parent.get(r) !== r) r = parent.get(r) as string;
    parent.set(x, r);
    return r;
  };
  for (const link of links) {
    if (link.length < 2 || !link.every((n) => caseNames.includes(n) && interleavable(n))) continue;
    for (const n of link) if (!parent.has(n)) parent.set(n, n);
    const root = find(link[0] as string);
    for (const n of link.slice(1)) parent.set(find(n), root);
  }
  const groups = new Map<string, string[]>();
  for (const name of caseNames) {
    if (!parent.has(name)) continue;
    const root = find(name);
    const g = groups.get(root);
    if (g === undefined) groups.set(root, [name]);
    else if (!g.includes(name)) g.push(name);
  }
  return [...groups.values()];
}

/**
 * The order of round `round` of an interleaved group: forward on even rounds, backward on odd
 * ones (A B, B A, A B, ...), so that neither case always runs right after the other's
 * iteration, whose garbage or cache state it would inherit.
 */
export function roundOrder(size: number, round: number): number[] {
  const forward = Array.from({ length: size }, (_, i) => i);
  return round % 2 === 0 ? forward : forward.reverse();
}
