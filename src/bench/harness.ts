import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { Bench } from 'tinybench';

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
  /** Runs once before the case's iterations. */
  readonly setup?: () => Promise<void> | void;
  readonly run: () => Promise<void> | void;
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
  readonly teardown?: () => Promise<void> | void;
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
}

export interface RateMeasurement extends RateFields {
  readonly perSec: number;
}

export interface RatioTarget {
  readonly name: string;
  readonly baseline: string;
  /** Compare with this field of the baseline case instead of its rate (e.g. its network limit). */
  readonly baselineField?: 'limitBytesPerSec';
  /**
   * Derive the baseline from other cases of the same run instead of reading case `baseline` (which
   * then only names the bound). `serial`: 1 / Σ(1 / rate) over `cases`, the rate of doing each
   * case's work one after the other on one thread (e.g. a verified read = the read, then the checksum).
   */
  readonly derived?: { readonly kind: 'serial'; readonly cases: readonly string[] };
  /** The ratio name/baseline must reach. */
  readonly atLeast: number;
}

export interface BenchSuite {
  readonly name: string;
  readonly cases: readonly BenchCase[];
  readonly targets?: readonly RatioTarget[];
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
  readonly samples: number;
  readonly medianMs: number;
  readonly rme: number;
  /** The case's `shape`, when it declares one. */
  readonly shape?: string;
}

export interface RatioResult extends RatioTarget {
  readonly suite: string;
  /** A derived baseline's value (bytes/s or ops/s), recorded beside the ratio. */
  readonly baselineRate?: number;
  readonly ratio: number;
  readonly met: boolean;
}

export interface BenchReport {
  readonly env: BenchEnv;
  readonly results: BenchResult[];
  readonly ratios: RatioResult[];
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

export async function runSuite(suite: BenchSuite, log: (line: string) => void): Promise<{ results: BenchResult[]; ratios: RatioResult[] }> {
  const results: BenchResult[] = [];
  for (const c of suite.cases) {
    if (c.measure !== undefined) {
      await c.setup?.();
      let bytes: number;
      try {
        bytes = await c.measure();
      } finally {
        await c.teardown?.();
      }
      results.push({ suite: suite.name, name: c.name, bytes, samples: 1, medianMs: 0, rme: 0 });
      log(`${suite.name.padEnd(10)} ${c.name.padEnd(28)} ${`${bytes.toFixed(0)} bytes`.padStart(16)}`);
      continue;
    }
    if (c.rate !== undefined) {
      await c.setup?.();
      const started = performance.now();
      let m: RateMeasurement;
      try {
        m = await c.rate();
      } finally {
        await c.teardown?.();
      }
      const { perSec, ...fields } = m;
      const result: BenchResult = { suite: suite.name, name: c.name, ...(c.unit === 'ops' ? { opsPerSec: perSec } : { bytesPerSec: perSec }), samples: 1, medianMs: performance.now() - started, rme: 0, ...fields };
      results.push(result);
      const mb = (x: number): string => `${(x / 1e6).toFixed(1)} MB/s`;
      const beside =
        m.limitBytesPerSec === undefined
          ? ''
          : `  = ${((m.limitFraction ?? perSec / m.limitBytesPerSec) * 100).toFixed(0)}% of ${mb(m.limitBytesPerSec)}${m.paperBytesPerSec === undefined ? '' : `; paper: ${mb(m.paperBytesPerSec)} of ${mb(m.paperLimitBytesPerSec ?? m.limitBytesPerSec)}`}`;
      log(`${suite.name.padEnd(10)} ${c.name.padEnd(28)} ${(c.unit === 'bytes' ? mb(perSec) : formatRate(result)).padStart(16)}${beside}`);
      continue;
    }
    // One Bench per case so that each case's setup/teardown brackets only its own iterations.
    const bench = new Bench({ time: suite.timeMs ?? 1500, iterations: suite.iterations ?? 5, warmupIterations: 1, warmupTime: 0 });
    await c.setup?.();
    bench.add(c.name, c.run);
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
    results.push(result);
    log(`${suite.name.padEnd(10)} ${c.name.padEnd(28)} ${formatRate(result).padStart(16)}  (median of ${result.samples}, ±${result.rme.toFixed(1)}%)`);
  }
  const ratios: RatioResult[] = [];
  for (const t of suite.targets ?? []) {
    const a = results.find((r) => r.name === t.name);
    if (t.derived !== undefined) {
      const base = serialRate(results, t.derived.cases);
      if (a === undefined || base === undefined) continue;
      const ratio = rateOf(a) / base;
      ratios.push({ ...t, suite: suite.name, baselineRate: base, ratio, met: ratio >= t.atLeast });
      log(`${suite.name.padEnd(10)} ${`${t.name} / ${t.baseline} = 1/(${t.derived.cases.map((c) => `1/${c}`).join(' + ')})`.padEnd(44)} ${ratio.toFixed(2)}x (target >= ${t.atLeast}x) ${ratio >= t.atLeast ? 'met' : 'NOT MET'}`);
      continue;
    }
    const b = results.find((r) => r.name === t.baseline);
    if (a === undefined || b === undefined) continue;
    const base = t.baselineField === undefined ? rateOf(b) : b[t.baselineField];
    if (base === undefined) continue;
    const ratio = rateOf(a) / base;
    ratios.push({ ...t, suite: suite.name, ratio, met: ratio >= t.atLeast });
    log(`${suite.name.padEnd(10)} ${`${t.name} / ${t.baselineField === undefined ? t.baseline : `limit of ${t.baseline}`}`.padEnd(44)} ${ratio.toFixed(2)}x (target >= ${t.atLeast}x) ${ratio >= t.atLeast ? 'met' : 'NOT MET'}`);
  }
  return { results, ratios };
}

/** 1 / Σ(1 / rate) over the named cases of a run; undefined when one is missing or not a rate. */
export function serialRate(results: readonly BenchResult[], names: readonly string[]): number | undefined {
  let inverse = 0;
  for (const name of names) {
    const r = results.find((x) => x.name === name);
    const rate = r === undefined ? 0 : rateOf(r);
    if (!(rate > 0)) return undefined;
    inverse += 1 / rate;
  }
  return names.length === 0 ? undefined : 1 / inverse;
}

export function rateOf(r: BenchResult): number {
  return r.opsPerSec ?? r.bytesPerSec ?? 0;
}

export function formatRate(r: BenchResult): string {
  if (r.bytesPerSec !== undefined) return r.bytesPerSec < 1e8 ? `${(r.bytesPerSec / 1e6).toFixed(1)} MB/s` : `${(r.bytesPerSec / 1e9).toFixed(2)} GB/s`;
  const ops = r.opsPerSec ?? 0;
  if (ops < 1e3) return `${ops.toFixed(1)} ops/s`;
  return ops >= 1e6 ? `${(ops / 1e6).toFixed(2)} M ops/s` : `${(ops / 1e3).toFixed(1)} k ops/s`;
}
