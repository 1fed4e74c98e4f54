/**
 * Runs a scenario over a list of seeds as vitest cases. A failing seed prints its violations and the
 * command that replays it. With `TROUPE_SIM_REPORT=<dir>` (set by `npm run test:sim -- --report`)
 * every run adds a line to `<dir>/<scenario>.jsonl` for the report.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { simSeeds, withSeed } from '../../../../src/testkit.js';
import { checkAll, formatViolations, type CheckResult } from './checkers.js';
import { runScenario, type RunOptions, type RunRecord } from './run.js';
import { SCENARIOS } from './scenarios.js';

export function replayCommand(scenario: string, seed: number): string {
  return `npm run test:sim -- --seed ${seed} test/sim/gfs/faults/${scenario}.test.ts`;
}

/** One seed: run, check, report; throws with the violations and the replay command. */
export async function runAndCheck(scenario: string, seed: number, o: RunOptions = {}): Promise<{ record: RunRecord; result: CheckResult }> {
  const s = SCENARIOS[scenario];
  if (s === undefined) throw new RangeError(`no scenario ${scenario}`);
  const replay = o.replay ?? replayCommand(scenario, seed);
  const t0 = performance.now();
  const record = await runScenario(s, seed, { ...o, replay });
  const result = checkAll(record);
  report(record, result, performance.now() - t0);
  if (result.violations.length > 0) throw new Error(`${result.violations.length} violation(s) in scenario ${scenario}, seed ${seed}:\n${formatViolations(result.violations)}\n  replay: ${replay}`);
  return { record, result };
}

function report(record: RunRecord, result: CheckResult, wallMs: number): void {
  const dir = process.env['TROUPE_SIM_REPORT'];
  if (dir === undefined || dir === '') return;
  mkdirSync(dir, { recursive: true });
  const h = record.history;
  const line = {
    scenario: record.scenario,
    seed: record.seed,
    servers: record.servers,
    racks: record.racks,
    simulatedMs: Math.round(record.simulatedMs),
    wallMs: Math.round(wallMs),
    faults: record.faults.injected,
    operations: { namespace: h.ns.length, writes: h.writes.length, reads: h.reads.length, snapshots: h.snapshots.length, 'snapshot deletes and undeletes': h.hides.length, appends: h.appends.length },
    acknowledged: { writes: h.writes.filter((w) => w.status === 'ok').length, appends: h.appends.filter((a) => a.status === 'ok').length },
    convergenceMs: record.convergedAt === undefined ? null : Math.round(record.convergedAt - record.faultsEndedAt),
    checks: result.checks,
    violations: result.violations.map((v) => `(${v.checker}) ${v.message}`),
  };
  appendFileSync(join(dir, `${record.scenario}.jsonl`), `${JSON.stringify(line)}\n`);
}

/** Seeds 1..n by default (`--seeds N` / `--seed S` override). */
export function scenarioSuite(scenario: string, seeds: number): void {
  const s = SCENARIOS[scenario];
  describe(`GFS under faults: ${scenario} (${Object.keys(s?.faults ?? {}).join(', ')})`, () => {
    it.each(simSeeds(Array.from({ length: seeds }, (_, i) => i + 1)))('seed %i: every checker holds', async (seed) => {
      await withSeed(seed, async () => {
        const { result } = await runAndCheck(scenario, seed);
        expect(result.violations).toEqual([]);
      }, replayCommand(scenario, seed));
    });
  });
}
