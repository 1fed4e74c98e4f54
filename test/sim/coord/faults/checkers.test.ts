/**
 * Each checker catches a planted violation: one real run passes every checker, then each test plants
 * one violation in a copy of its record and the checker must report it. The mutation check runs the
 * ensemble on disks whose fsync does nothing: a power cut of every server must then show committed
 * transactions lost (checker c).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { LifeEvent } from '../zab/ensemble.js';
import { checkAll, checkConverged, checkFifo, checkHistory, checkWrites, type Violation } from './checkers.js';
import { runScenario, type RunRecord } from './run.js';
import { SCENARIOS } from './scenarios.js';
import type { ClientOp } from './workload.js';

// A mixed-faults seed with leader changes, crashes and pipelined clients.
const SEED = 2;
let base: RunRecord;

beforeAll(async () => {
  base = await runScenario(SCENARIOS['mixed']!, SEED);
}, 120_000);

/** A deep copy (maps of arrays of events included). */
function copy(): RunRecord {
  return structuredClone(base);
}

function names(vs: readonly Violation[]): string {
  return vs.map((v) => `(${v.checker}) ${v.message}`).join('\n');
}

function okWrites(r: RunRecord): ClientOp[] {
  return r.ops.filter((o) => o.kind === 'write' && o.status === 'ok');
}

function applies(r: RunRecord, server: number): Array<Extract<LifeEvent, { kind: 'apply' }>> {
  const lives = r.lives.get(server)!;
  return lives[lives.length - 1]!.filter((e): e is Extract<LifeEvent, { kind: 'apply' }> => e.kind === 'apply');
}

describe('the coord checkers catch planted violations', () => {
  it('the unplanted run passes every checker, and exercised what the plants need', () => {
    const { violations, checks } = checkAll(base);
    expect(names(violations)).toBe('');
    expect(okWrites(base).length).toBeGreaterThan(10);
    expect(checks.a).toBeGreaterThan(0);
    expect(checks.b).toBeGreaterThan(0);
    expect(checks.c).toBeGreaterThan(0);
    expect(base.quietAt).toBeDefined();
  });

  it('(a) two acknowledged writes of one key report the same version (a lost update)', () => {
    const r = copy();
    const ws = okWrites(r).filter((o) => o.request?.key === 'a');
    const [w1, w2] = [ws[0]!, ws.find((o) => o.invokedAt > ws[0]!.completedAt!)!];
    w2.result = { version: (w1.result as { version: number }).version };
    expect(names(checkWrites(r).violations)).toMatch(/key a: writes not linearizable/);
  });

  it('(a) a conditional write that failed although its version was current', () => {
    const r = copy();
    const ws = okWrites(r);
    const w = ws.find((o) => o.request?.op === 'cas')!;
    w.status = 'fail';
    w.error = 'bad_version';
    expect(names(checkWrites(r).violations)).toMatch(/not linearizable/);
  });

  it('(b) a session\'s later request took effect before its earlier one', () => {
    const r = copy();
    const server = r.lives.keys().next().value as number;
    const evs = applies(r, server);
    // Swap the cxids of two consecutive transactions of one session on every server.
    const i = evs.findIndex((e, k) => k > 0 && evs.slice(0, k).some((p) => p.txn.session === e.txn.session));
    const session = evs[i]!.txn.session;
    const j = evs.slice(0, i).map((e) => e.txn.session).lastIndexOf(session);
    const [a, b] = [evs[j]!.txn.cxid, evs[i]!.txn.cxid];
    for (const lives of r.lives.values())
      for (const life of lives)
        for (const e of life)
          if (e.kind === 'apply' && e.txn.session === session) {
            if (e.txn.cxid === a) (e.txn as { cxid: number }).cxid = b;
            else if (e.txn.cxid === b) (e.txn as { cxid: number }).cxid = a;
          }
    expect(names(checkFifo(r).violations)).toMatch(new RegExp(`session ${session}: request ${a} took effect`));
  });

  it('(b) a client told a zxid older than one it was told for an earlier request', () => {
    const r = copy();
    const client = okWrites(r)[5]!.client;
    const mine = r.ops.filter((o) => o.client === client && o.status === 'ok' && o.kind === 'write');
    mine[mine.length - 1]!.zxid = mine[0]!.zxid as number;
    expect(names(checkFifo(r).violations)).toMatch(new RegExp(`client ${client}: request`));
  });

  it('(c) a server skipped a committed transaction (lost after recovery)', () => {
    const r = copy();
    const lives = r.lives.get(1)!;
    const life = lives[lives.length - 1] as LifeEvent[];
    const k = life.findIndex((e, n) => e.kind === 'apply' && n > 5);
    life.splice(k, 1);
    expect(names(checkHistory(r).violations)).toMatch(/server 1 life \d+: applied zxid \d+ after \d+, but the committed sequence has \d+ next/);
  });

  it('(c) a server that never got back the transactions committed while it was down', () => {
    const r = copy();
    const lives = r.lives.get(2)!;
    const life = lives[lives.length - 1] as LifeEvent[];
    life.splice(life.length - 3, 3);
    expect(names(checkHistory(r).violations)).toMatch(/server 2 is quiet at zxid \d+: 3 committed transaction\(s\) after it are lost/);
  });

  it('(c) two servers applied different transactions at one zxid', () => {
    const r = copy();
    const evs = applies(r, 2);
    const e = evs[evs.length - 1]!;
    (e as { txn: unknown }).txn = { ...e.txn, cxid: e.txn.cxid + 1000 };
    expect(names(checkHistory(r).violations)).toMatch(/zxid \d+: server \d+ applied/);
  });

  it('(c) an acknowledged write missing from the committed sequence', () => {
    const r = copy();
    const w = okWrites(r)[0]!;
    (w as { zxid: number }).zxid = (w.zxid as number) + 0.5;
    expect(names(checkHistory(r).violations)).toMatch(/acknowledged write .* is not in the committed sequence/);
  });

  it('(d) servers that differ when quiet, or never got quiet', () => {
    const r = copy();
    (r.images as Map<number, string>).set(1, `${r.images.get(1)}00`);
    expect(names(checkConverged(r).violations)).toMatch(/server 1's state differs/);
    const never = copy();
    (never as { quietAt: number | undefined }).quietAt = undefined;
    expect(names(checkConverged(never).violations)).toMatch(/not quiet/);
  });
});

/**
 * With the log's fsync a no-op, a power cut of every server loses the log's contents (the disks
 * here keep nothing unsynced across a crash, so the loss does not depend on chance): transactions
 * the ensemble committed, applied and answered after the last snapshot vanish everywhere, and the
 * next leader's epoch goes on without them. Checker (c) must see it. The same runs with a working
 * fsync lose nothing.
 */
describe.each([1, 2])('mutation check: log fsync that does nothing (seed %i)', (seed) => {
  const cut = { kind: 'power-cut' as const, at: 5_000, durationMs: 500 };
  it('with working fsync, a power cut of every server loses nothing committed', async () => {
    const r = await runScenario(SCENARIOS['crashes']!, seed, { extraEvents: [cut], unsyncedOnCrash: 'drop' });
    expect(r.faults.injected['power-cut']).toBeGreaterThan(0);
    expect(names([...checkHistory(r).violations, ...checkConverged(r).violations])).toBe('');
  }, 120_000);

  it('with the log\'s fsync a no-op, checker (c) reports committed transactions lost or reordered', async () => {
    const r = await runScenario(SCENARIOS['crashes']!, seed, { extraEvents: [cut], unsyncedOnCrash: 'drop', logFsyncIsNoop: true });
    expect(names(checkHistory(r).violations)).toMatch(/lost or reordered|are lost|not in the committed sequence/);
  }, 120_000);
});
