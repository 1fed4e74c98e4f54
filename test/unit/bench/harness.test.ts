import { describe, expect, it } from 'vitest';
import { combineRuns, runSuite, type BenchCase, type BenchSuite, type RatioResult, type RatioTarget } from '../../../src/bench/harness.js';
import { interleaveGroups, median, pairedRatios, roundOrder, spread } from '../../../src/bench/ratios.js';
import { benchCommand, ratioCell } from '../../../scripts/bench-cells.mjs';

/**
 * A fake clock and cases whose iterations take known times on it: iteration k of a case (k = 0
 * is the warm-up) advances the clock by `ms[k]`, so every rate and ratio is known exactly.
 */
function fakeBench(): { now: () => number; timedCase: (name: string, perIteration: number, ms: readonly number[]) => BenchCase; calls: string[] } {
  let t = 0;
  const calls: string[] = [];
  return {
    now: () => t,
    calls,
    timedCase: (name, perIteration, ms) => {
      let k = 0;
      return {
        name,
        unit: 'ops',
        perIteration,
        setup: () => void calls.push(`setup ${name}`),
        run: () => {
          calls.push(name);
          t += ms[Math.min(k, ms.length - 1)] as number;
          k++;
        },
        teardown: () => void calls.push(`teardown ${name}`),
      };
    },
  };
}

const quiet = (): void => undefined;
/** Budget 0 ms: exactly `iterations` rounds run after the warm-up. */
const suiteOf = (cases: BenchCase[], targets: readonly RatioTarget[], iterations: number): BenchSuite => ({ name: 'fake', cases, targets, timeMs: 0, iterations });

describe('ratio statistics', () => {
  it('median of an odd count is the middle value, of an even count the mean of the two middle ones', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow(RangeError);
  });

  it('per-pair ratios divide iteration i of the case by round i of the baseline', () => {
    // Rates 1000/1 ms = 1e6, 1000/2 ms = 5e5, 1000/4 ms = 2.5e5 against a baseline of 5e5 each round.
    const s = pairedRatios({ perIteration: 1000, iterationMs: [1, 2, 4] }, [5e5, 5e5, 5e5]);
    expect(s).toEqual({ median: 1, min: 0.5, max: 2, n: 3 });
  });

  it('spread reports median, min, max and count', () => {
    expect(spread([0.9, 0.7, 1.2, 1.0])).toEqual({ median: 0.95, min: 0.7, max: 1.2, n: 4 });
  });

  it('rounds alternate their order so neither case always follows the other', () => {
    expect([0, 1, 2, 3].map((r) => roundOrder(2, r))).toEqual([[0, 1], [1, 0], [0, 1], [1, 0]]);
  });

  it('a baseline shared by two targets joins them in one interleaved group; cases outside targets stay alone', () => {
    const names = ['a', 'c', 'alone', 'b', 'rated', 'd'];
    const groups = interleaveGroups(names, (n) => n !== 'rated', [['a', 'b'], ['c', 'b'], ['d', 'rated']]);
    expect(groups).toEqual([['a', 'c', 'b']]);
  });
});

describe('runSuite pairs a target\'s case with its baseline', () => {
  it('runs their iterations interleaved after one warm-up each, inside their setups and teardowns', async () => {
    const f = fakeBench();
    const suite = suiteOf([f.timedCase('a', 100, [1]), f.timedCase('b', 100, [1])], [{ name: 'a', baseline: 'b', atLeast: 1 }], 3);
    await runSuite(suite, quiet, { now: f.now });
    expect(f.calls).toEqual(['setup a', 'setup b', 'a', 'b', 'a', 'b', 'b', 'a', 'a', 'b', 'teardown b', 'teardown a']);
  });

  it('reports the median per-pair ratio with its min, max and pair count, and evaluates the target on it', async () => {
    const f = fakeBench();
    // Pairs (after the warm-up): a 1/2/3 ms, b 1/4/1 ms, 1000 ops each: ratios 1, 2, 1/3, median 1.
    // The ratio of the two medians would be (1000/2 ms) / (1000/1 ms) = 0.5 and miss the target.
    const suite = suiteOf([f.timedCase('a', 1000, [9, 1, 2, 3]), f.timedCase('b', 1000, [9, 1, 4, 1])], [{ name: 'a', baseline: 'b', atLeast: 0.8 }], 3);
    const { results, ratios } = await runSuite(suite, quiet, { now: f.now });
    const [q] = ratios;
    expect(q?.ratio).toBeCloseTo(1, 12);
    expect(q?.min).toBeCloseTo(1 / 3, 12);
    expect(q?.max).toBeCloseTo(2, 12);
    expect(q?.pairs).toBe(3);
    expect(q?.met).toBe(true);
    // Each case keeps its own rate from its median iteration.
    expect(results.map((r) => [r.name, r.opsPerSec, r.samples, r.interleavedWith])).toEqual([
      ['a', 500_000, 3, ['b']],
      ['b', 1_000_000, 3, ['a']],
    ]);
  });

  it('a selfTimed case is timed by the durations its run reports (an external tool\'s own figure), not the wall time around it, alone or paired', async () => {
    const f = fakeBench();
    let k = 0;
    const reported = [5, 2, 4, 8];
    const tool: BenchCase = {
      name: 'tool',
      unit: 'ops',
      perIteration: 1000,
      selfTimed: true,
      run: () => {
        f.timedCase('x', 1, [100]).run(); // the wall clock moves 100 ms, which must not count
        return reported[k++] as number;
      },
    };
    const paired = await runSuite(suiteOf([f.timedCase('a', 1000, [9, 2, 2, 2]), tool], [{ name: 'a', baseline: 'tool', atLeast: 1 }], 3), quiet, { now: f.now });
    // tool's timed iterations (after the warm-up) report 2, 4, 8 ms: median 4 ms = 250k ops/s.
    expect(paired.results.find((r) => r.name === 'tool')?.opsPerSec).toBe(250_000);
    expect(paired.ratios[0]?.ratio).toBeCloseTo(2, 12);
    k = 0;
    const alone = await runSuite(suiteOf([tool], [], 3), quiet, { now: f.now });
    expect(alone.results[0]?.opsPerSec).toBe(250_000);
    const broken: BenchCase = { name: 'broken', unit: 'ops', perIteration: 1, selfTimed: true, run: () => undefined };
    await expect(runSuite(suiteOf([broken], [], 1), quiet, { now: f.now })).rejects.toThrow(/selfTimed/);
  });

  it('pairs a baseline used by two targets with each of them, round by round', async () => {
    const f = fakeBench();
    const suite = suiteOf(
      [f.timedCase('fast', 100, [1]), f.timedCase('slow', 100, [4]), f.timedCase('base', 100, [2])],
      [
        { name: 'fast', baseline: 'base', atLeast: 1 },
        { name: 'slow', baseline: 'base', atLeast: 1 },
      ],
      4,
    );
    const { ratios } = await runSuite(suite, quiet, { now: f.now });
    expect(ratios.map((q) => [q.name, q.ratio, q.pairs, q.met])).toEqual([
      ['fast', 2, 4, true],
      ['slow', 0.5, 4, false],
    ]);
  });

  it('computes a derived baseline per round from the rates of the cases it reads', async () => {
    const f = fakeBench();
    // Rates: verified 1000/3 ms, unverified 1000/1 ms, check 1000/2 ms; the combined cost bound
    // 1 / (1/u + 1/c) is 1000/3 ms, so the ratio is 1 in every round.
    const suite = suiteOf(
      [f.timedCase('verified', 1000, [3]), f.timedCase('unverified', 1000, [1]), f.timedCase('check', 1000, [2])],
      [{ name: 'verified', baseline: '1 / (1/unverified + 1/check)', derived: { cases: ['unverified', 'check'], combine: ([u, c]) => 1 / (1 / (u as number) + 1 / (c as number)) }, atLeast: 0.9 }],
      2,
    );
    const { ratios } = await runSuite(suite, quiet, { now: f.now });
    expect(ratios[0]?.ratio).toBeCloseTo(1, 12);
    expect(ratios[0]?.pairs).toBe(2);
    expect(ratios[0]?.derivedFrom).toEqual(['unverified', 'check']);
    expect(ratios[0]).not.toHaveProperty('derived');
  });

  it('leaves rate cases and their targets as before: measured once, compared without pairs', async () => {
    const f = fakeBench();
    const rated: BenchCase = { name: 'sim', unit: 'bytes', perIteration: 1, run: quiet, rate: () => ({ perSec: 90, limitBytesPerSec: 100 }) };
    const suite = suiteOf([rated, f.timedCase('alone', 100, [1])], [{ name: 'sim', baseline: 'sim', baselineField: 'limitBytesPerSec', atLeast: 0.8 }], 2);
    const { results, ratios } = await runSuite(suite, quiet, { now: f.now });
    expect(ratios).toEqual([{ name: 'sim', baseline: 'sim', baselineField: 'limitBytesPerSec', atLeast: 0.8, suite: 'fake', ratio: 0.9, met: true }]);
    expect(results[1]?.interleavedWith).toBeUndefined();
  });

  it('times a case that opts out of interleaving on its own, and its target divides the two rates', async () => {
    const f = fakeBench();
    const own = { ...f.timedCase('own', 100, [1]), interleave: false };
    const rated: BenchCase = { name: 'r', unit: 'ops', perIteration: 1, run: quiet, rate: () => ({ perSec: 50 }) };
    const suite: BenchSuite = { name: 'fake', cases: [rated, own], targets: [{ name: 'r', baseline: 'own', atLeast: 0 }], timeMs: 1, iterations: 2 };
    const { ratios } = await runSuite(suite, quiet);
    expect(ratios[0]?.pairs).toBeUndefined();
    expect(f.calls.filter((c) => c === 'own').length).toBeGreaterThan(0);
  });
});

describe('duration cases and limits', () => {
  it('a duration case is measured `iterations` times, reports the median as ms, and a limit judges it (<= atMost)', async () => {
    const times = [900, 400, 7_000];
    let k = 0;
    const restart: BenchCase = { name: 'restart-ms', unit: 'ops', perIteration: 1, run: quiet, duration: () => times[k++ % times.length] as number };
    const suite: BenchSuite = { name: 'fake', cases: [restart], limits: [{ name: 'restart-ms', field: 'ms', atMost: 5_000 }], iterations: 3 };
    const { results, ratios, limits } = await runSuite(suite, quiet);
    expect(k).toBe(3);
    expect(results[0]).toMatchObject({ name: 'restart-ms', ms: 900, samples: 3 });
    expect(ratios).toEqual([]);
    expect(limits).toEqual([{ suite: 'fake', name: 'restart-ms', field: 'ms', atMost: 5_000, value: 900, met: true }]);
    const slow = await runSuite({ ...suite, limits: [{ name: 'restart-ms', field: 'ms', atMost: 500 }] }, quiet);
    expect(slow.limits[0]?.met).toBe(false);
  });

  it('repeated runs take the median of the runs\' times and judge the limit on it', () => {
    const one = (ms: number) => ({ results: [{ suite: 's', name: 'a', ms, samples: 3, medianMs: ms, rme: 0 }], ratios: [], limits: [{ suite: 's', name: 'a', field: 'ms' as const, atMost: 5_000, value: ms, met: ms <= 5_000 }] });
    const { results, limits } = combineRuns([one(6_000), one(1_000), one(2_000)]);
    expect(results[0]?.ms).toBe(2_000);
    expect(limits).toEqual([{ suite: 's', name: 'a', field: 'ms', atMost: 5_000, value: 2_000, met: true }]);
  });
});

describe('repeated runs', () => {
  const run = (ratio: number, min: number, max: number, rate: number): { results: [{ suite: string; name: string; opsPerSec: number; samples: number; medianMs: number; rme: number }]; ratios: RatioResult[] } => ({
    results: [{ suite: 's', name: 'a', opsPerSec: rate, samples: 5, medianMs: 1, rme: 0 }],
    ratios: [{ suite: 's', name: 'a', baseline: 'b', atLeast: 1, ratio, met: ratio >= 1, min, max, pairs: 10 }],
  });

  it('reports the median of the runs\' ratios, their range, each run\'s figures, and judges the target on the median', () => {
    const { results, ratios } = combineRuns([run(0.9, 0.5, 1.5, 10), run(1.2, 0.8, 2.5, 30), run(1.1, 0.6, 1.4, 20)]);
    expect(ratios).toEqual([
      {
        suite: 's', name: 'a', baseline: 'b', atLeast: 1,
        ratio: 1.1, met: true, min: 0.5, max: 2.5, pairs: 30, runs: 3, runMin: 0.9, runMax: 1.2,
        perRun: [{ ratio: 0.9, min: 0.5, max: 1.5, pairs: 10 }, { ratio: 1.2, min: 0.8, max: 2.5, pairs: 10 }, { ratio: 1.1, min: 0.6, max: 1.4, pairs: 10 }],
      },
    ]);
    expect(results[0]?.opsPerSec).toBe(20);
    expect(results[0]?.runs).toBe(3);
  });
});

describe('README table cells', () => {
  it('show a paired ratio with its pair spread, a repeated one with its run spread, a plain one bare', () => {
    expect(ratioCell({ ratio: 0.934, min: 0.881, max: 0.97, pairs: 15 })).toBe('0.93× (0.88–0.97, 15 pairs)');
    expect(ratioCell({ ratio: 0.934, min: 0.41, max: 2.1, pairs: 45, runs: 3, runMin: 0.88, runMax: 0.97 })).toBe('0.93× (runs 0.88–0.97 over 3; pairs 0.41–2.10)');
    expect(ratioCell({ ratio: 1.084 })).toBe('1.08×');
  });

  it('name the command that produced the results', () => {
    expect(benchCommand('transport')).toBe('npm run bench -- transport');
    expect(benchCommand('transport', 3)).toBe('npm run bench -- --repeat 3 transport');
  });
});
