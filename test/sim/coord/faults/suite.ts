/**
 * Runs a scenario over a list of seeds as vitest cases. A failing seed prints its violations and
 * the command that replays it.
 */
import { describe, expect, it } from 'vitest';
import { simSeeds, withSeed } from '../../../../src/testkit.js';
import { checkAll, formatViolations, type CheckResult } from './checkers.js';
import { runScenario, type RunOptions, type RunRecord } from './run.js';
import { SCENARIOS } from './scenarios.js';

export function replayCommand(scenario: string, seed: number): string {
  return `npm run test:sim -- --seed ${seed} test/sim/coord/faults/${scenario}.test.ts`;
}

export async function runAndCheck(scenario: string, seed: number, o: RunOptions = {}): Promise<{ record: RunRecord; result: CheckResult }> {
  const s = SCENARIOS[scenario];
  if (s === undefined) throw new RangeError(`no scenario ${scenario}`);
  const replay = o.replay ?? replayCommand(scenario, seed);
  const record = await runScenario(s, seed, { ...o, replay });
  const result = checkAll(record);
  if (result.violations.length > 0) throw new Error(`${result.violations.length} violation(s) in scenario ${scenario}, seed ${seed}:\n${formatViolations(result.violations.slice(0, 20))}\n  replay: ${replay}`);
  return { record, result };
}

/** Seeds 1..n by default (`--seeds N` / `--seed S` override). */
export function scenarioSuite(scenario: string, seeds: number): void {
  const s = SCENARIOS[scenario];
  describe(`coord ensemble under faults: ${scenario} (${Object.keys(s?.faults ?? {}).join(', ')})`, () => {
    it.each(simSeeds(Array.from({ length: seeds }, (_, i) => i + 1)))('seed %i: writes linearizable, FIFO per client, nothing committed lost, servers converge, ephemerals only while their session lives, one-time watches before the change', async (seed) => {
      await withSeed(seed, async () => {
        const { result } = await runAndCheck(scenario, seed);
        expect(result.violations).toEqual([]);
        expect(result.checks.a).toBeGreaterThan(0);
        expect(result.checks.c).toBeGreaterThan(0);
        expect(result.checks.d).toBeGreaterThan(0);
        expect(result.checks.e).toBeGreaterThan(0);
      }, replayCommand(scenario, seed));
    }, 120_000);
  });
}
