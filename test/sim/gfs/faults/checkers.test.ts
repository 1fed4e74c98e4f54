/**
 * Each checker catches a planted violation: one real run passes every checker, then each test plants
 * one violation in a copy of its record and the checker must report it. The mutation check runs the
 * cell on disks whose fsync does nothing: a master crash must then show lost acknowledged changes.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { checkAll, checkAppends, checkAppendsKeepGoing, checkConverged, checkDefined, checkGcKeepsReferenced, checkNoCorruptRead, checkOnePrimary, checkRecovery, expectedImage, type Violation } from './checkers.js';
import { checkNamespace } from './namespace-check.js';
import { runScenario, type RunRecord } from './run.js';
import { SCENARIOS } from './scenarios.js';
import { QUEUE } from './workload.js';

// A mixed-faults seed with a master crash, record appends, snapshots and reads.
const SEED = 3;
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

describe('the checkers catch planted violations', () => {
  it('the unplanted run passes every checker, and exercised what the plants need', () => {
    const { violations, checks } = checkAll(base);
    expect(names(violations)).toBe('');
    expect(base.history.appends.some((a) => a.status === 'ok')).toBe(true);
    expect(base.history.reads.length).toBeGreaterThan(0);
    expect(base.acts.length).toBeGreaterThan(0);
    expect(checks.c).toBeGreaterThan(0);
  });

  it('(a) a byte of an acknowledged record changed on one replica', () => {
    const r = copy();
    const a = r.history.appends.find((x) => x.status === 'ok')!;
    const index = Math.floor(a.offset! / r.chunkSizeBytes);
    const rep = r.files.get(QUEUE)!.find((c) => c.index === index)!.replicas[0]!;
    rep.data![a.offset! - index * r.chunkSizeBytes + 30]! ^= 0x40;
    expect(names(checkAppends(r))).toMatch(/is not intact on/);
  });

  it('(a) the RecordReader misses an acknowledged record, or yields one twice', () => {
    const r = copy();
    const a = r.history.appends.find((x) => x.status === 'ok')!;
    const i = r.reader.findIndex((x) => x.writer === a.writer && x.seq === a.seq);
    (r.reader as unknown[]).splice(i, 1);
    expect(names(checkAppends(r))).toMatch(/0 times/);
    const twice = copy();
    (twice.reader as unknown[]).push(twice.reader[0]);
    expect(names(checkAppends(twice))).toMatch(/2 times/);
  });

  it('(b) one replica of a serially written region holds other bytes', () => {
    const r = copy();
    const path = r.history.owned[0]!;
    const img = expectedImage(r.history.writes.filter((w) => w.path === path));
    const word = img.findIndex((x) => x > 0);
    const index = Math.floor((word * 8) / r.chunkSizeBytes);
    const rep = r.files.get(path)!.find((c) => c.index === index)!.replicas[1]!;
    rep.data!.fill(0, word * 8 - index * r.chunkSizeBytes, word * 8 - index * r.chunkSizeBytes + 8);
    expect(names(checkDefined(r))).toMatch(/expected write \d+, found zero/);
  });

  it('(c) a listing that misses a file whose create completed before it', () => {
    const r = copy();
    const list = r.history.ns.find((x) => x.input.op === 'list' && x.status === 'ok' && Array.isArray(x.output?.value) && x.output.value.length > 0)!;
    list.output = { code: 'ok', value: [] };
    expect(names(checkNamespace(r).violations)).toMatch(/not linearizable/);
  });

  it('(d) a second server orders a mutation of the same chunk inside another primary\'s lease', () => {
    const r = copy();
    const a = r.acts[0]!;
    const other = r.acts.find((x) => x.handle === a.handle && x.server === a.server && x.at > a.at) ?? a;
    (r.acts as unknown[]).push({ ...a, at: (a.at + other.at) / 2, server: a.server === 'cs0' ? 'cs1' : 'cs0', version: a.version + 1 });
    expect(names(checkOnePrimary(r))).toMatch(/at the same time|both/);
  });

  it('(e) the cell never got back to its replication goal, or a replica stayed unreadable', () => {
    const r = copy();
    (r as { convergedAt: number | undefined }).convergedAt = undefined;
    expect(names(checkConverged(r))).toMatch(/still reported problems/);
    const bad = copy();
    const chunk = bad.files.get(QUEUE)![0]!;
    (chunk.replicas as unknown[])[0] = { server: chunk.replicas[0]!.server, error: 'corrupt_replica: block 0' };
    expect(names(checkConverged(bad))).toMatch(/unreadable after convergence/);
  });

  it('(f) a client read returned a flipped bit', () => {
    const r = copy();
    const read = r.history.reads.find((x) => x.data.some((b) => b !== 0))!;
    const at = read.data.findIndex((b) => b !== 0);
    read.data[at]! ^= 0x01;
    expect(names(checkNoCorruptRead(r))).toMatch(/bytes no write put there/);
  });

  it('(g) a current replica of a referenced chunk deleted as garbage', () => {
    const r = copy();
    const [handle, version] = [...r.referenced][0]!;
    (r.deletions as unknown[]).push({ at: 1_000, server: 'cs0', handle, version, why: 'garbage' });
    expect(names(checkGcKeepsReferenced(r))).toMatch(/as garbage/);
  });

  it('(g) but not a replica at the current version that missed a mutation ordered at it (stale, M8)', () => {
    const r = copy();
    const act = r.acts.find((a) => r.referenced.get(a.handle) === a.version)!;
    const other = ['cs0', 'cs1', 'cs2', 'cs3', 'cs4'].find((s) => s !== act.server)!;
    (r.applied as unknown[]).splice(0, r.applied.length, ...r.applied.filter((a) => !(a.server === other && a.handle === act.handle && a.version === act.version)));
    (r.deletions as unknown[]).push({ at: act.at + 1, server: other, handle: act.handle, version: act.version, why: 'garbage' });
    expect(names(checkGcKeepsReferenced(r))).toBe('');
    // The same deletion of a replica that applied that mutation is caught.
    (r.applied as unknown[]).push({ at: act.at, server: other, handle: act.handle, version: act.version, serial: act.serial });
    for (const a of r.acts.filter((x) => x.handle === act.handle && x.version === act.version)) (r.applied as unknown[]).push({ ...a, server: other });
    expect(names(checkGcKeepsReferenced(r))).toMatch(/as garbage/);
  });

  it('(h) a recovered master without a file that had acknowledged writes', () => {
    const r = copy();
    const end = r.faultsEndedAt;
    (r.recoveries as unknown[]).push({ crashedAt: end, restartedAt: end + 1, readyAt: end + 2, chunks: new Map(r.history.owned.map((p) => [p, 'gone'])) });
    expect(names(checkRecovery(r))).toMatch(/is gone/);
  });
});

describe('checker (i): record appends keep going while one chunkserver is down (GFS README S4)', () => {
  // A primary-kills seed that kills the queue's primary twice.
  let kills: RunRecord;
  beforeAll(async () => {
    kills = await runScenario(SCENARIOS['primary-kills']!, 1);
  }, 120_000);

  it('the unplanted run passes every checker, with the queue\'s primary killed and every append checked by (i)', () => {
    const { violations, checks } = checkAll(kills);
    expect(names(violations)).toBe('');
    expect(kills.faults.injected['primary-kill']).toBeGreaterThan(0);
    expect(kills.appendBoundMs).toBeGreaterThan(0);
    expect(checks.i).toBe(kills.history.appends.length);
    expect(checks.i).toBeGreaterThan(0);
  });

  it('(i) a record append that failed, or one that waited longer than the bound', () => {
    const failed = structuredClone(kills);
    failed.history.appends[0]!.status = 'fail';
    expect(names(checkAppendsKeepGoing(failed))).toMatch(/failed after/);
    const slow = structuredClone(kills);
    const a = slow.history.appends[1]!;
    a.completedAt = a.invokedAt + (slow.appendBoundMs as number) + 1;
    expect(names(checkAppendsKeepGoing(slow))).toMatch(/over the bound/);
  });

  it('(i) holds appends to nothing in scenarios with more than one server down or other faults', () => {
    const r = copy();
    expect(r.appendBoundMs).toBeUndefined();
    r.history.appends[0]!.status = 'fail';
    expect(checkAppendsKeepGoing(r)).toEqual([]);
  });
});

/**
 * Whether a crash of a lying disk loses something a checker can see depends on the random prefix of
 * unsynced changes the crash keeps, so each seed here was picked because it does (with the timed SSD
 * disks: 12, 14, 15 and 16 of seeds 11–16; seed 11, used before the disks took time, keeps enough).
 * Two seeds, both of which must show the loss.
 */
describe.each([12, 16])('mutation check: fsync that does nothing (seed %i)', (seed) => {
  const crash = { kind: 'master-crash' as const, at: 14_000, durationMs: 1_000 };
  it('with working fsync, a master crash loses nothing acknowledged', async () => {
    const r = await runScenario(SCENARIOS['crashes']!, seed, { extraEvents: [crash] });
    expect(r.recoveries.length).toBeGreaterThan(0);
    expect(names([...checkRecovery(r), ...checkAppends(r), ...checkNamespace(r).violations])).toBe('');
  }, 120_000);

  it('with fsync a no-op on every disk, checker (h) or (a) reports acknowledged changes lost', async () => {
    const r = await runScenario(SCENARIOS['crashes']!, seed, { extraEvents: [crash], fsyncIsNoop: true });
    const lost = [...checkRecovery(r), ...checkAppends(r)];
    expect(lost.length).toBeGreaterThan(0);
  }, 120_000);
});
