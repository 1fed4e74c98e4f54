import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { Bench } from 'tinybench';
import { derivedRates, interleaveGroups, iterationRates, median, pairedRatios, rateOfIteration, roundOrder, spread } from './ratios.js';

/**
 * The bench convention every suite follows (DESIGN.md §9): a suite is a list of named cases run
 * side by side in one process; each case reports a rate (ops/s or bytes/s) from the median
 * iteration, and a suite may declare ratio targets between its cases ("tell >= 0.5x tell:raw-queue").
 */
export interface BenchCase {
  /** Exact case name, as the issues give it (e.g. `tell:nact`). */
  readonly name: string;
  /** What one iteration moves: `perIteration` operations, or bytes. */
  readonly unit: 'ops' | 'bytes';
  readonly perIteration: number;
  /** The workload's shape in words (sizes, segments, what one iteration does), recorded with the result so a ratio can be read against it. */
  readonly shape?: string;
  /**
   * Runs once before the case's iterations. It starts the case afresh: with `--repeat N` the same
   * case object is set up, run and torn down N times in one process, so state an iteration
   * checks against (e.g. a count of messages sent) is reset here, not at construction.
   */
  readonly setup?: () => Promise<void> | void;
  /**
   * One iteration. With `selfTimed`, it resolves to the iteration's own duration in ms (e.g. the
   * time an external tool reports for its measured phase), used instead of the wall time around it.
   */
  readonly run: () => Promise<void | number> | void | number;
  /**
   * The case times its iterations itself (`run` resolves to ms): for a tool whose start-up and
   * clean-up must not count, such as `rados bench`. Such a case always runs in the interleaved
   * loop (on its own if no target links it to another case).
   */
  readonly selfTimed?: boolean;
  /**
   * For a measurement that is not a rate (e.g. heap bytes per chunk): called once instead of
   * timing `run`, its value is reported as `bytes`.
   */
  readonly measure?: () => Promise<number> | number;
  /**
   * For a rate not measured in wall time (e.g. virtual time in the simulator): called once
   * instead of timing `run`; the rate is reported as bytesPerSec or opsPerSec by `unit`, with
   * the extra fields beside it.
   */
  readonly rate?: () => Promise<RateMeasurement> | RateMeasurement;
  /**
   * For a measurement that is a time, not a rate (e.g. from a cluster restart to the first
   * acknowledged append): called the suite's `iterations` times instead of timing `run`; the
   * median is reported as `ms`. Each call measures one whole episode itself.
   */
  readonly duration?: () => Promise<number> | number;
  readonly teardown?: () => Promise<void> | void;
  /**
   * Whether the case's iterations may run interleaved with those of the cases a target compares
   * it with (default true). The contract of an interleavable case: everything an iteration
   * depends on lives in the case's own state (set up by `setup`, carried from one iteration to
   * the next, like a running count of messages sent), so another case's iteration in between
   * changes nothing it relies on; and `run` finishes its work before it resolves, leaving
   * nothing in flight to be timed in the other case's iteration. A case that cannot keep it
   * (e.g. one whose iteration only makes sense right after its own previous one) sets `false`:
   * it is then timed on its own, and its targets compare rates measured at different moments.
   */
  readonly interleave?: boolean;
  /** Conditions the case ran under, recorded with its result (e.g. an emulated network's speed). */
  readonly fields?: RateFields;
}

/** Fields a rate case may report beside its rate. */
export interface RateFields {
  /** The limit the rate is measured against (e.g. a network's), and rate / limit. */
  readonly limitBytesPerSec?: number;
  readonly limitFraction?: number;
  /** A published figure for the same measurement, and its limit. */
  readonly paperBytesPerSec?: number;
  readonly paperLimitBytesPerSec?: number;
  /** Virtual time of the measured phase, ms. */
  readonly virtualMs?: number;
  /** How the case was scaled down, in words. */
  readonly scale?: string;
  /** The per-thread egress cap the case ran under (`TroupeNodeOptions.egressBytesPerSecMax`), and why. */
  readonly egressBytesPerSecMax?: number;
  readonly conditions?: string;
  /** Latency percentiles of the case's operations, ms. */
  readonly latencyP50Ms?: number;
  readonly latencyP99Ms?: number;
}

export interface RateMeasurement extends RateFields {
  readonly perSec: number;
}

/**
 * A baseline computed from other cases' rates, e.g. the rate a read that also checksums could
 * reach if the two costs simply added: `1 / (1/unverified + 1/crc32c)`, as
 * `{ cases: ['chunk-read-unverified', 'crc32c'], combine: ([u, c]) => 1 / (1 / u + 1 / c) }`.
 * When the target's case and every case listed are timed cases, all of them run interleaved
 * and the baseline is computed per round, from the iterations of that round; otherwise it is
 * computed once from the cases' reported rates.
 */
export interface DerivedBaseline {
  /** The cases whose rates (ops/s or bytes/s, by their unit) the baseline reads. */
  readonly cases: readonly string[];
  /** The baseline rate, from the rates of `cases` in that order. */
  readonly combine: (rates: readonly number[]) => number;
}

/**
 * "`name` >= `atLeast` x `baseline`". The ratio is the case's rate over the baseline's. When
 * both are timed cases (not `measure` or `rate` cases) and neither opts out with
 * `interleave: false`, their iterations run interleaved and the ratio is the median of the
 * per-pair ratios, with their min and max (see `runSuite`).
 */
export interface RatioTarget {
  readonly name: string;
  /** The baseline case; with `derived`, the baseline's name in words (shown in the table). */
  readonly baseline: string;
  /** Compare with this field of the baseline case instead of its rate (e.g. its network limit). */
  readonly baselineField?: 'limitBytesPerSec';
  /** Compare with a rate computed from other cases' rates instead of one case's. */
  readonly derived?: DerivedBaseline;
  /** The ratio name/baseline must reach; 0 reports the ratio without a target. */
  readonly atLeast: number;
}

/** "`name`'s `field` <= `atMost`": an absolute bound on a measurement that is not a rate (e.g. a time). */
export interface LimitTarget {
  readonly name: string;
  readonly field: 'ms';
  readonly atMost: number;
}

/** One limit's outcome: the case's `field` value and whether it stayed within `atMost`. */
export interface LimitResult extends LimitTarget {
  readonly suite: string;
  readonly value: number;
  readonly met: boolean;
}

export interface BenchSuite {
  readonly name: string;
  readonly cases: readonly BenchCase[];
  readonly targets?: readonly RatioTarget[];
  readonly limits?: readonly LimitTarget[];
  /** tinybench time budget per case, ms. */
  readonly timeMs?: number;
  readonly iterations?: number;
}

export interface BenchEnv {
  readonly node: string;
  readonly cpu: string;
  readonly cores: number;
  readonly commit: string;
  readonly date: string;
}

export interface BenchResult extends RateFields {
  readonly suite: string;
  readonly name: string;
  readonly opsPerSec?: number;
  readonly bytesPerSec?: number;
  readonly bytes?: number;
  /** A `duration` case's median time, ms. */
  readonly ms?: number;
  readonly samples: number;
  readonly medianMs: number;
  readonly rme: number;
  /** The case's `shape`, when it declares one. */
  readonly shape?: string;
  /** The cases this one ran interleaved with, iteration by iteration. */
  readonly interleavedWith?: readonly string[];
  /** With `--repeat N`: the rate is the median of the N runs' rates. */
  readonly runs?: number;
}

/**
 * One target's outcome. `ratio` is the case's rate over the baseline's; `met` is
 * `ratio >= atLeast`. The optional fields are added beside the original ones (readers of older
 * results find the same shape):
 * - interleaved cases: `ratio` is the median of `pairs` per-pair ratios, `min`/`max` their range;
 * - with `--repeat N`: `ratio` is the median of the N runs' ratios, `runMin`/`runMax` their
 *   range, `perRun` each run's figures, and `min`/`max`/`pairs` span all runs' pairs.
 */
export interface RatioResult extends Omit<RatioTarget, 'derived'> {
  readonly suite: string;
  readonly ratio: number;
  readonly met: boolean;
  /** The cases a derived baseline was computed from. */
  readonly derivedFrom?: readonly string[];
  readonly min?: number;
  readonly max?: number;
  readonly pairs?: number;
  readonly runs?: number;
  readonly runMin?: number;
  readonly runMax?: number;
  readonly perRun?: readonly RunRatio[];
}

/** One run's figures for a target, kept in a repeated report. */
export interface RunRatio {
  readonly ratio: number;
  readonly min?: number;
  readonly max?: number;
  readonly pairs?: number;
}

export interface BenchReport {
  readonly env: BenchEnv;
  /** How many times each suite ran (`--repeat N`); absent for one run. */
  readonly repeat?: number;
  readonly results: BenchResult[];
  readonly ratios: RatioResult[];
  /** Absolute bounds (`BenchSuite.limits`); absent when no suite run declares one. */
  readonly limits?: LimitResult[];
}

export function benchEnv(): BenchEnv {
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    // Not a git checkout (an installed package): leave it unknown.
  }
  const cpu = cpus();
  return { node: process.version, cpu: cpu[0]?.model.trim() ?? 'unknown', cores: cpu.length, commit, date: new Date().toISOString() };
}

/** How a suite is timed; tests pass a fake clock to get known iteration times. */
export interface RunOptions {
  /** Milliseconds from an arbitrary origin (default `performance.now`). */
  readonly now?: () => number;
}

const DEFAULT_TIME_MS = 1500;
const DEFAULT_ITERATIONS = 5;

/** A timed case's iterations, as `interleaveCases` records them. */
interface Timed {
  readonly c: BenchCase;
  readonly iterationMs: number[];
}

function isTimed(c: BenchCase): boolean {
  return c.measure === undefined && c.rate === undefined && c.duration === undefined;
}

/** The cases a target reads: its own and its baseline's (or its derived baseline's). */
function targetCases(t: RatioTarget): string[] {
  if (t.baselineField !== undefined) return [t.name];
  return [t.name, ...(t.derived?.cases ?? [t.baseline])];
}

/**
 * Runs a suite: `measure` and `rate` cases once each; timed cases (a `run` only) either on their
 * own with tinybench, or — when a target compares them with other timed cases — interleaved with
 * those cases (see `interleaveGroups`): every case of the group is set up, runs one untimed
 * warm-up iteration, then the group runs in rounds, one timed iteration of each case per
 * round, in alternating order (A B, B A, ...), until each case has had the suite's time budget
 * on average and at least its minimum number of iterations; then all are torn down. Each case's
 * rate is still the one from its median iteration. A target over interleaved cases pairs round
 * i of the case with round i of its baseline and reports the median per-pair ratio with its
 * min, max and the number of pairs; other targets divide the two reported rates, as before.
 */
export async function runSuite(suite: BenchSuite, log: (line: string) => void, options: RunOptions = {}): Promise<{ results: BenchResult[]; ratios: RatioResult[]; limits: LimitResult[] }> {
  const now = options.now ?? ((): number => performance.now());
  const byName = new Map(suite.cases.map((c) => [c.name, c]));
  const targets = suite.targets ?? [];
  const groups = interleaveGroups(
    suite.cases.map((c) => c.name),
    (n) => {
      const c = byName.get(n);
      return c !== undefined && isTimed(c) && c.interleave !== false;
    },
    targets.map(targetCases),
  );
  const groupOf = new Map<string, string[]>();
  for (const g of groups) for (const n of g) groupOf.set(n, g);
  const samples = new Map<string, Timed>();
  const resultOf = new Map<string, BenchResult>();
  const line = (name: string, text: string): void => log(`${suite.name.padEnd(10)} ${name.padEnd(28)} ${text}`);

  for (const c of suite.cases) {
    if (resultOf.has(c.name)) continue;
    if (c.measure !== undefined) {
      await c.setup?.();
      let bytes: number;
      try {
        bytes = await c.measure();
      } finally {
        await c.teardown?.();
      }
      resultOf.set(c.name, { suite: suite.name, name: c.name, bytes, samples: 1, medianMs: 0, rme: 0 });
      line(c.name, `${bytes.toFixed(0)} bytes`.padStart(16));
      continue;
    }
    if (c.duration !== undefined) {
      await c.setup?.();
      const times: number[] = [];
      try {
        for (let i = 0; i < (suite.iterations ?? DEFAULT_ITERATIONS); i++) times.push(await c.duration());
      } finally {
        await c.teardown?.();
      }
      const s = spread(times);
      resultOf.set(c.name, { suite: suite.name, name: c.name, ms: s.median, samples: s.n, medianMs: s.median, rme: relativeMarginOfError(times), ...c.fields, ...(c.shape === undefined ? {} : { shape: c.shape }) });
      line(c.name, `${`${s.median.toFixed(0)} ms`.padStart(16)}  (median of ${s.n}, ${s.min.toFixed(0)}–${s.max.toFixed(0)} ms)`);
      continue;
    }
    if (c.rate !== undefined) {
      await c.setup?.();
      const started = now();
      let m: RateMeasurement;
      try {
        m = await c.rate();
      } finally {
        await c.teardown?.();
      }
      const { perSec, ...fields } = m;
      const result: BenchResult = { suite: suite.name, name: c.name, ...(c.unit === 'ops' ? { opsPerSec: perSec } : { bytesPerSec: perSec }), samples: 1, medianMs: now() - started, rme: 0, ...fields };
      resultOf.set(c.name, result);
      const mb = (x: number): string => `${(x / 1e6).toFixed(1)} MB/s`;
      const beside =
        m.limitBytesPerSec === undefined
          ? ''
          : `  = ${((m.limitFraction ?? perSec / m.limitBytesPerSec) * 100).toFixed(0)}% of ${mb(m.limitBytesPerSec)}${m.paperBytesPerSec === undefined ? '' : `; paper: ${mb(m.paperBytesPerSec)} of ${mb(m.paperLimitBytesPerSec ?? m.limitBytesPerSec)}`}`;
      line(c.name, `${(c.unit === 'bytes' ? mb(perSec) : formatRate(result)).padStart(16)}${beside}`);
      continue;
    }
    const group = groupOf.get(c.name) ?? (c.selfTimed === true ? [c.name] : undefined);
    if (group !== undefined) {
      const cases = group.map((n) => byName.get(n) as BenchCase);
      const timed = await interleaveCases(cases, (suite.timeMs ?? DEFAULT_TIME_MS) * cases.length, suite.iterations ?? DEFAULT_ITERATIONS, now);
      for (const t of timed) {
        samples.set(t.c.name, t);
        const result = timedResult(suite.name, t.c, t.iterationMs, group.filter((n) => n !== t.c.name));
        resultOf.set(t.c.name, result);
        line(t.c.name, `${formatRate(result).padStart(16)}  (median of ${result.samples}, ±${result.rme.toFixed(1)}%, interleaved)`);
      }
      continue;
    }
    // One Bench per case so that each case's setup/teardown brackets only its own iterations.
    const bench = new Bench({ time: suite.timeMs ?? DEFAULT_TIME_MS, iterations: suite.iterations ?? DEFAULT_ITERATIONS, warmupIterations: 1, warmupTime: 0 });
    await c.setup?.();
    bench.add(c.name, c.run as () => Promise<void> | void);
    try {
      await bench.run();
    } finally {
      await c.teardown?.();
    }
    const task = bench.tasks[0];
    const r = task?.result;
    if (r === undefined || !('latency' in r)) {
      const err = r !== undefined && 'error' in r ? r.error : new Error('no result');
      throw new Error(`bench ${suite.name}/${c.name} failed: ${String(err)}`);
    }
    const medianMs = r.latency.p50;
    const rate = c.perIteration / (medianMs / 1000);
    const result: BenchResult = {
      suite: suite.name,
      name: c.name,
      ...(c.unit === 'ops' ? { opsPerSec: rate } : { bytesPerSec: rate }),
      samples: r.latency.samplesCount ?? 0,
      medianMs,
      rme: r.latency.rme,
      ...c.fields,
      ...(c.shape === undefined ? {} : { shape: c.shape }),
    };
    resultOf.set(c.name, result);
    line(c.name, `${formatRate(result).padStart(16)}  (median of ${result.samples}, ±${result.rme.toFixed(1)}%)`);
  }
  const results = suite.cases.map((c) => resultOf.get(c.name)).filter((r): r is BenchResult => r !== undefined);

  const ratios: RatioResult[] = [];
  for (const t of targets) {
    const q = targetRatio(suite.name, t, resultOf, samples);
    if (q === undefined) continue;
    ratios.push(q);
    log(formatTargetLine(q));
  }
  const limits = limitResults(suite.name, suite.limits ?? [], resultOf);
  for (const l of limits) log(formatLimitLine(l));
  return { results, ratios, limits };
}

/** Each limit against the case's reported field (a limit whose case did not report is left out). */
function limitResults(suite: string, limits: readonly LimitTarget[], resultOf: ReadonlyMap<string, BenchResult>): LimitResult[] {
  const out: LimitResult[] = [];
  for (const t of limits) {
    const value = resultOf.get(t.name)?.[t.field];
    if (value === undefined) continue;
    out.push({ ...t, suite, value, met: value <= t.atMost });
  }
  return out;
}

/** One limit's progress line: `suite  name  1234 ms (target <= 5000 ms) met`. */
export function formatLimitLine(l: LimitResult): string {
  return `${l.suite.padEnd(10)} ${l.name.padEnd(44)} ${l.value.toFixed(0)} ${l.field} (target <= ${l.atMost} ${l.field}) ${l.met ? 'met' : 'NOT MET'}`;
}

/**
 * Sets up every case, runs one untimed warm-up iteration of each, then rounds of one timed
 * iteration per case (alternating order) until `budgetMs` has passed and at least
 * `minRounds` rounds ran; tears down every case that was set up, last first.
 */
async function interleaveCases(cases: readonly BenchCase[], budgetMs: number, minRounds: number, now: () => number): Promise<Timed[]> {
  const timed: Timed[] = cases.map((c) => ({ c, iterationMs: [] }));
  const ready: BenchCase[] = [];
  try {
    for (const c of cases) {
      await c.setup?.();
      ready.push(c);
    }
    for (const c of cases) await c.run();
    const started = now();
    for (let round = 0; round < minRounds || now() - started < budgetMs; round++) {
      for (const i of roundOrder(cases.length, round)) {
        const t = timed[i] as Timed;
        const t0 = now();
        const own = await t.c.run();
        const wall = now() - t0;
        if (t.c.selfTimed === true && !(typeof own === 'number' && own > 0)) throw new Error(`bench case ${t.c.name} is selfTimed but its run returned ${String(own)}, not a duration in ms`);
        t.iterationMs.push(t.c.selfTimed === true ? (own as number) : wall);
      }
    }
  } finally {
    for (const c of ready.reverse()) await c.teardown?.();
  }
  return timed;
}

/** A timed case's result from its iteration times: the rate of the median iteration. */
function timedResult(suite: string, c: BenchCase, iterationMs: readonly number[], interleavedWith: readonly string[]): BenchResult {
  const s = spread(iterationMs);
  const rate = rateOfIteration(c.perIteration, s.median);
  return {
    suite,
    name: c.name,
    ...(c.unit === 'ops' ? { opsPerSec: rate } : { bytesPerSec: rate }),
    samples: s.n,
    medianMs: s.median,
    rme: relativeMarginOfError(iterationMs),
    ...c.fields,
    ...(c.shape === undefined ? {} : { shape: c.shape }),
    ...(interleavedWith.length === 0 ? {} : { interleavedWith }),
  };
}

/** The 95% margin of error of the mean, in percent of the mean (as tinybench reports `rme`). */
function relativeMarginOfError(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1);
  return mean === 0 ? 0 : ((1.96 * Math.sqrt(variance / xs.length)) / mean) * 100;
}

/** A target's ratio: paired when all its cases ran interleaved, else from the reported rates. */
function targetRatio(suite: string, t: RatioTarget, resultOf: ReadonlyMap<string, BenchResult>, samples: ReadonlyMap<string, Timed>): RatioResult | undefined {
  const a = resultOf.get(t.name);
  if (a === undefined) return undefined;
  const { derived, ...plain } = t;
  const head = { ...plain, suite, ...(derived === undefined ? {} : { derivedFrom: derived.cases }) };
  const baseNames = t.baselineField === undefined ? (derived?.cases ?? [t.baseline]) : [];
  const paired = samples.get(t.name);
  const pairedBase = baseNames.map((n) => samples.get(n));
  if (paired !== undefined && baseNames.length > 0 && pairedBase.every((b) => b !== undefined)) {
    const bases = pairedBase as Timed[];
    const baseRates =
      derived === undefined
        ? iterationRates({ perIteration: bases[0]!.c.perIteration, iterationMs: bases[0]!.iterationMs })
        : derivedRates(bases.map((b) => ({ perIteration: b.c.perIteration, iterationMs: b.iterationMs })), derived.combine);
    const s = pairedRatios({ perIteration: paired.c.perIteration, iterationMs: paired.iterationMs }, baseRates);
    return { ...head, ratio: s.median, met: s.median >= t.atLeast, min: s.min, max: s.max, pairs: s.n };
  }
  let base: number | undefined;
  if (t.baselineField !== undefined) base = resultOf.get(t.baseline)?.[t.baselineField];
  else if (derived !== undefined) {
    const rates = derived.cases.map((n) => resultOf.get(n));
    base = rates.every((r) => r !== undefined) ? derived.combine((rates as BenchResult[]).map(rateOf)) : undefined;
  } else {
    const b = resultOf.get(t.baseline);
    base = b === undefined ? undefined : rateOf(b);
  }
  if (base === undefined) return undefined;
  const ratio = rateOf(a) / base;
  return { ...head, ratio, met: ratio >= t.atLeast };
}

/**
 * One report from N runs of the same suites: each case's rate is the median of its runs' rates
 * (with `runs`); each target's ratio is the median of its runs' ratios, with their range
 * (`runMin`, `runMax`), every run's own figures (`perRun`), and `min`/`max`/`pairs` over all
 * runs' pairs. A target missing from some run (its case failed to report) uses the runs it has.
 */
export function combineRuns(runs: readonly { results: readonly BenchResult[]; ratios: readonly RatioResult[]; limits?: readonly LimitResult[] }[]): { results: BenchResult[]; ratios: RatioResult[]; limits: LimitResult[] } {
  const first = runs[0];
  if (first === undefined) throw new RangeError('combineRuns needs at least one run');
  const results: BenchResult[] = [];
  for (const r of first.results) {
    const same = runs.flatMap((run) => run.results.filter((x) => x.suite === r.suite && x.name === r.name));
    if (r.bytes !== undefined) {
      results.push({ ...r, bytes: median(same.map((x) => x.bytes ?? 0)), runs: same.length });
      continue;
    }
    if (r.ms !== undefined) {
      results.push({ ...r, ms: median(same.map((x) => x.ms ?? 0)), runs: same.length });
      continue;
    }
    const rate = median(same.map(rateOf));
    results.push({ ...r, ...(r.opsPerSec !== undefined ? { opsPerSec: rate } : { bytesPerSec: rate }), runs: same.length });
  }
  const key = (q: RatioResult): string => `${q.suite}\u0000${q.name}\u0000${q.baseline}\u0000${q.baselineField ?? ''}`;
  const ratios: RatioResult[] = [];
  for (const q of first.ratios) {
    const same = runs.flatMap((run) => run.ratios.filter((x) => key(x) === key(q)));
    const s = spread(same.map((x) => x.ratio));
    const perRun: RunRatio[] = same.map((x) => ({ ratio: x.ratio, ...(x.min === undefined ? {} : { min: x.min }), ...(x.max === undefined ? {} : { max: x.max }), ...(x.pairs === undefined ? {} : { pairs: x.pairs }) }));
    const mins = same.flatMap((x) => (x.min === undefined ? [] : [x.min]));
    const maxs = same.flatMap((x) => (x.max === undefined ? [] : [x.max]));
    const pairs = same.reduce((n, x) => n + (x.pairs ?? 0), 0);
    const { min: _min, max: _max, pairs: _pairs, ...rest } = q;
    ratios.push({
      ...rest,
      ratio: s.median,
      met: s.median >= q.atLeast,
      ...(mins.length === 0 ? {} : { min: Math.min(...mins) }),
      ...(maxs.length === 0 ? {} : { max: Math.max(...maxs) }),
      ...(pairs === 0 ? {} : { pairs }),
      runs: s.n,
      runMin: s.min,
      runMax: s.max,
      perRun,
    });
  }
  // Limits are judged again on the combined (median) values.
  const resultOf = new Map(results.map((r) => [r.name, r]));
  const limits = (first.limits ?? []).flatMap((l) => {
    const value = resultOf.get(l.name)?.[l.field];
    return value === undefined ? [] : [{ ...l, value, met: value <= l.atMost }];
  });
  return { results, ratios, limits };
}

/** One target's progress line: `suite  name / baseline  0.93x (pairs …) (target >= 0.8x) met`. */
export function formatTargetLine(q: RatioResult): string {
  const versus = q.baselineField === undefined ? q.baseline : `limit of ${q.baseline}`;
  const verdict = q.atLeast > 0 ? `(target >= ${q.atLeast}x) ${q.met ? 'met' : 'NOT MET'}` : '(reported, no target)';
  return `${q.suite.padEnd(10)} ${`${q.name} / ${versus}`.padEnd(44)} ${formatRatio(q)} ${verdict}`;
}

/** `0.93x (pairs 0.88–0.97, n=15)`, or the bare ratio when it was not paired. */
function formatRatio(q: RatioResult): string {
  const pairs = q.pairs === undefined || q.min === undefined || q.max === undefined ? '' : `pairs ${q.min.toFixed(2)}–${q.max.toFixed(2)}, n=${q.pairs}`;
  const runs = q.runs === undefined || q.runMin === undefined || q.runMax === undefined ? '' : `${q.runs} runs ${q.runMin.toFixed(2)}–${q.runMax.toFixed(2)}`;
  const inside = [runs, pairs].filter((x) => x !== '').join('; ');
  return `${q.ratio.toFixed(2)}x${inside === '' ? '' : ` (${inside})`}`;
}

export function rateOf(r: BenchResult): number {
  return r.opsPerSec ?? r.bytesPerSec ?? 0;
}

export function formatRate(r: BenchResult): string {
  if (r.bytesPerSec !== undefined) return r.bytesPerSec < 1e8 ? `${(r.bytesPerSec / 1e6).toFixed(1)} MB/s` : `${(r.bytesPerSec / 1e9).toFixed(2)} GB/s`;
  const ops = r.opsPerSec ?? 0;
  return ops >= 1e6 ? `${(ops / 1e6).toFixed(2)} M ops/s` : `${(ops / 1e3).toFixed(1)} k ops/s`;
}
