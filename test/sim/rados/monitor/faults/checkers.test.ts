/**
 * Each checker catches a planted violation: one real run passes every checker, then each test plants
 * one violation in a copy of its record and the checker must report it. The mutation check runs the
 * monitors on disks whose fsync does nothing: a power cut of every monitor must then show committed
 * versions lost — a monitor that comes back below what it had committed (b), or a version committed
 * twice with different values (a).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { checkAll, checkLinearizableReads, checkLiveness, checkMonotonic, checkOnce, checkOneValue, type Violation } from './checkers.js';
import { canonical, runScenario, type RunRecord } from './run.js';
import { SCENARIOS } from './scenarios.js';
import { kvService } from '../../../../../src/actors/rados/monitor/kv-service.js';

const SEED = 2;
let base: RunRecord;

beforeAll(async () => {
  base = await runScenario(SCENARIOS['mixed']!, SEED);
}, 120_000);

function copy(): RunRecord {
  return structuredClone(base);
}

function names(vs: readonly Violation[]): string {
  return vs.map((v) => `(${v.checker}) ${v.message}`).join('\n');
}

describe('the monitor checkers catch planted violations', () => {
  it('the unplanted run passes every checker, and exercised what the plants need', () => {
    const { violations } = checkAll(base);
    expect(names(violations)).toBe('');
    expect(base.acknowledged).toBeGreaterThan(0);
    expect(base.reads.some((r) => r.version > 0)).toBe(true);
    expect(base.held.length).toBeGreaterThan(0);
    expect(base.recoveries.length).toBeGreaterThan(base.monitors);
  });

  it('(a) a monitor commits another value for a version', () => {
    const r = copy();
    const version = r.commits.find((c) => c.value !== undefined && r.commits.filter((x) => x.version === c.version && x.value !== undefined).length > 1)!.version;
    const later = r.commits.filter((c) => c.version === version && c.value !== undefined)[1]!;
    (later as { value: string }).value = JSON.stringify({ epoch: 999, set: { planted: 'x' }, del: [] });
    expect(names(checkOneValue(r))).toMatch(/version \d+: monitor \d committed .* monitor \d committed/);
  });

  it('(a) a read returns a state that is not the committed one at its version', () => {
    const r = copy();
    const read = r.reads.find((x) => x.version > 0)!;
    (read as { state: string }).state = canonical({ epoch: 12345, entries: { planted: 'x' } });
    expect(names(checkOneValue(r))).toMatch(/the committed history gives/);
  });

  it('(e) a command with a request id committed in two versions', () => {
    const r = copy();
    const first = r.commits.find((c) => c.value !== undefined && /"w\d+:\d+"/.test(c.value))!;
    const value = Object.values((JSON.parse(first.value as string) as { set: Record<string, string> }).set).find((x) => /^w\d+:\d+$/.test(x))!;
    const last = Math.max(...r.commits.map((c) => c.version));
    (r.commits as unknown[]).push({ at: first.at + 1, monitor: first.monitor, version: last + 1, value: JSON.stringify({ epoch: 1e6, set: { planted: value }, del: [] }) });
    expect(names(checkOnce(r))).toMatch(new RegExp(`command ${value} committed in versions \\d+ and ${last + 1}`));
  });

  it('(b) a monitor recovers below a version it had committed', () => {
    const r = copy();
    const c = r.commits.find((x) => x.version > 1)!;
    (r.recoveries as unknown[]).push({ at: c.at + 1, monitor: c.monitor, version: c.version - 1 });
    expect(names(checkMonotonic(r))).toMatch(new RegExp(`monitor ${c.monitor} recovered version ${c.version - 1}`));
  });

  it('(b) a client sees an older version after a newer one', () => {
    const r = copy();
    const o = r.observations.find((x) => x.version > 0)!;
    (r.observations as unknown[]).push({ party: o.party, at: o.at + 1, version: o.version - 1 });
    expect(names(checkMonotonic(r))).toMatch(new RegExp(`${o.party} observed version ${o.version - 1}`));
  });

  it('(c) a read returns a version older than one committed before it began', () => {
    const r = copy();
    const firstCommit = Math.min(...r.commits.filter((c) => c.version === 1).map((c) => c.at));
    const read = r.reads.find((x) => x.start > firstCommit)!;
    // Consistent with the history (the initial state at version 0), only stale.
    Object.assign(read, { version: 0, state: canonical(kvService.initial()) });
    expect(names(checkLinearizableReads(r))).toMatch(/returned version 0, but version \d+ was committed/);
    expect(names(checkOneValue(r))).toBe('');
  });

  it('(d) the command after the faults is never committed, or too late', () => {
    const r = copy();
    (r as { liveness: RunRecord['liveness'] }).liveness = { ...r.liveness, committedAt: undefined };
    expect(names(checkLiveness(r))).toMatch(/was not committed within/);
    const late = copy();
    (late as { liveness: RunRecord['liveness'] }).liveness = { ...late.liveness, committedAt: late.liveness.submittedAt + late.liveness.boundMs + 1 };
    expect(names(checkLiveness(late))).toMatch(/committed only \d+ ms later/);
  });
});

/**
 * A power cut of all three monitors while commands commit. With working fsync nothing committed is
 * lost; with fsync a no-op, the crash keeps a random prefix of everything ever written, and the
 * monitors come back without versions they had committed.
 */
describe.each([1, 2])('mutation check: monitor fsync that does nothing (seed %i)', (seed) => {
  const cut = { kind: 'total-crash' as const, at: 9_000, durationMs: 1_000 };
  it('with working fsync, a power cut of every monitor loses no committed version', async () => {
    const r = await runScenario(SCENARIOS['crashes-3']!, seed, { extraEvents: [cut] });
    expect(r.faults.injected['total-crash']).toBeGreaterThan(0);
    expect(names(checkAll(r).violations)).toBe('');
  }, 120_000);

  it('with fsync a no-op on every monitor disk, checker (b) or (a) reports committed versions lost', async () => {
    const r = await runScenario(SCENARIOS['crashes-3']!, seed, { extraEvents: [cut], fsyncIsNoop: true });
    const lost = [...checkMonotonic(r), ...checkOneValue(r)];
    expect(lost.length).toBeGreaterThan(0);
  }, 120_000);
});
