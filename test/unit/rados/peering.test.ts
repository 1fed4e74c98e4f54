/** The pure peering core (thesis §6.3.5.1–6.3.5.2; README "Peering and recovery", PR1–PR11). */
import { describe, expect, it } from 'vitest';
import {
  BACKFILL_DONE,
  advanceIntervals,
  backfilled,
  chooseAuthoritative,
  locations,
  mergeIntervals,
  missingFromBacklog,
  nextBackfillBatch,
  pgStateFlags,
  planHolder,
  priorSet,
  pruneIntervals,
  type HolderInfo,
  type HolderPlan,
  type PastInterval,
} from '../../../src/actors/rados/osd/peering.js';
import type { PgLogEntry } from '../../../src/actors/rados/osd/pg-log.js';
import { formatPgState } from '../../../src/actors/rados/osd/pg-stats.js';

const v = (epoch: number, n: number) => ({ epoch, v: n });

/** A history of entries e(epoch, 1..n), each on object o<n mod 3>. */
function entries(list: [number, number, string, PgLogEntry['op']?][]): PgLogEntry[] {
  const out: PgLogEntry[] = [];
  let prior = v(0, 0);
  for (const [epoch, n, oid, op] of list) {
    const e: PgLogEntry = { oid, op: op ?? 'modify', version: v(epoch, n), prior, reqid: `c:${epoch}.${n}` };
    out.push(e);
    prior = e.version;
  }
  return out;
}

function info(osd: number, les: number, log: PgLogEntry[], extra: Partial<HolderInfo> = {}): HolderInfo {
  const last = log[log.length - 1];
  return { osd, les, lastUpdate: last?.version ?? v(0, 0), lastComplete: last?.version ?? v(0, 0), tail: v(0, 0), entries: log, missing: [], backfill: undefined, empty: false, ...extra };
}

/** Walks a sequence of (epoch, acting) into an interval record, min_size 2. */
function walk(seq: [number, number[]][], bornFirst = true): PastInterval[] {
  let ivs: PastInterval[] = [];
  seq.forEach(([epoch, acting], i) => (ivs = advanceIntervals(ivs, epoch, acting, 2, bornFirst && i === 0, 100)));
  return ivs;
}

describe('past intervals and the prior set (thesis §6.3.5.1)', () => {
  it('every intermediate mapping is an interval, even one that lasted a single epoch (PR1)', () => {
    const ivs = walk([
      [10, [0, 1, 2]],
      [11, [0, 1, 2]],
      [12, [3, 4]],
      [13, [0, 1, 2]],
    ]);
    expect(ivs.map((i) => [i.first, i.last, i.acting.join()])).toEqual([
      [10, 11, '0,1,2'],
      [12, 12, '3,4'],
      [13, 13, '0,1,2'],
    ]);
    // The one-epoch detour to [3, 4] may have served writes: 3 and 4 are in the prior set.
    const up = (o: number) => o !== 9;
    const ps = priorSet(ivs, 10, 13, [0, 1, 2], up);
    expect(ps.probe).toEqual([0, 1, 2, 3, 4]);
    expect(ps.blocked).toBe(false);
    expect(ps.gap).toBe(false);
  });

  it('an interval below min_size could not have served and does not count', () => {
    const ivs = walk([
      [10, [0, 1]],
      [11, [5]],
      [12, [0, 1]],
    ]);
    const ps = priorSet(ivs, 10, 12, [0, 1], (o) => o !== 5);
    expect(ps.probe).toEqual([0, 1]);
    expect(ps.blocked).toBe(false);
  });

  it('a PG whose prior interval has no OSD up is down, not served from older data (PR3)', () => {
    const ivs = walk([
      [10, [0, 1]],
      [11, [2, 3]],
      [12, [0, 1]],
    ]);
    const ps = priorSet(ivs, 11, 12, [0, 1], (o) => o === 0 || o === 1);
    expect(ps.blocked).toBe(true);
    expect(ps.down).toEqual([2, 3]);
    expect(ps.why).toMatch(/interval 11–11 \[2,3\] may have served and none of it is up/);
  });

  it('intervals that ended before last_epoch_started no longer matter', () => {
    const ivs = walk([
      [10, [2, 3]],
      [11, [0, 1]],
      [12, [0, 1, 4]],
    ]);
    expect(priorSet(ivs, 11, 12, [0, 1, 4], (o) => o < 2 || o === 4).blocked).toBe(false);
    expect(pruneIntervals(ivs, 11).map((i) => i.first)).toEqual([11, 12]);
  });

  it('epochs no record covers are a gap: the PG waits until someone who saw them answers', () => {
    // This OSD saw 10–11, then came back at 15 (a full map after a restart).
    const mine = walk([
      [10, [0, 1]],
      [11, [0, 1]],
    ]);
    const later = advanceIntervals(mine, 15, [0, 1], 2, false, 100);
    expect(later.map((i) => [i.first, i.last])).toEqual([
      [10, 11],
      [15, 15],
    ]);
    const ps = priorSet(later, 10, 15, [0, 1], () => true);
    expect(ps.gap).toBe(true);
    expect(ps.why).toMatch(/epochs 12–14/);
    // Another OSD's record of 12–14 closes it, and brings its interval into the prior set.
    const theirs: PastInterval[] = [{ first: 12, last: 14, acting: [1, 2], maybeRw: true, born: false }];
    const merged = mergeIntervals([later, theirs]);
    const ps2 = priorSet(merged, 10, 15, [0, 1], () => true);
    expect(ps2.gap).toBe(false);
    expect(ps2.probe).toEqual([0, 1, 2]);
  });

  it('a PG that never started needs its birth in the record; a new pool is "born" at its first epoch', () => {
    const born = walk([[7, [0, 1]]]);
    expect(priorSet(born, 0, 7, [0, 1], () => true).gap).toBe(false);
    const unknown = walk([[7, [0, 1]]], false);
    expect(priorSet(unknown, 0, 7, [0, 1], () => true).gap).toBe(true);
  });

  it('the record is bounded', () => {
    let ivs: PastInterval[] = [];
    for (let e = 1; e <= 50; e++) ivs = advanceIntervals(ivs, e, [e % 2, 2], 1, e === 1, 8);
    expect(ivs).toHaveLength(8);
    expect(ivs[7]!.last).toBe(50);
  });
});

describe('the authoritative log and missing lists (thesis §6.3.5.1 steps 4–6)', () => {
  const shared = entries([
    [5, 1, 'a'],
    [5, 2, 'b'],
    [5, 3, 'c'],
  ]);

  it('the newest last_epoch_started wins over a longer history from an older interval (PR4)', () => {
    // osd.2 applied 5'4 alone in interval 5 (never acknowledged); osds 0 and 1 peered at 8 and wrote 8'4.
    const stale = info(2, 5, [...shared, ...entries([[5, 4, 'a']]).map((e) => ({ ...e, prior: v(5, 3) }))]);
    const newer = [...shared, { oid: 'b', op: 'modify' as const, version: v(8, 4), prior: v(5, 3), reqid: 'c:8.4' }];
    const a = info(0, 8, newer);
    const b = info(1, 8, newer.slice(0, 3));
    expect(chooseAuthoritative([stale, a, b], 1)!.osd).toBe(0);
    // Same les and last_update: prefer the primary (no log to fetch), then the longer log.
    expect(chooseAuthoritative([info(3, 8, newer), a], 3)!.osd).toBe(3);
    expect(chooseAuthoritative([info(0, 0, [], { empty: true })], 0)).toBeUndefined();
  });

  it('a holder behind on the same history lacks the objects updated after its last_update (newest version, deletes too)', () => {
    const log = [...shared, ...entries([[6, 4, 'd']]).map((e) => ({ ...e, prior: v(5, 3) })), { oid: 'a', op: 'delete' as const, version: v(6, 5), prior: v(6, 4), reqid: 'c:6.5' }];
    const auth = info(0, 6, log);
    const behind = info(1, 5, shared.slice(0, 2));
    const p = planHolder(behind, auth);
    expect(p.kind).toBe('log');
    if (p.kind !== 'log') return;
    expect([...p.missing].sort()).toEqual([
      ['a', { version: v(6, 5), deleted: true }],
      ['c', { version: v(5, 3), deleted: false }],
      ['d', { version: v(6, 4), deleted: false }],
    ]);
    expect(p.divergent).toEqual([]);
  });

  it('divergent entries (applied only by an old head) make their objects missing, to be rolled back by a push', () => {
    const auth = info(0, 8, [...shared, { oid: 'b', op: 'modify', version: v(8, 4), prior: v(5, 3), reqid: 'c:8.4' }]);
    const div = info(2, 5, [...shared, { oid: 'x', op: 'modify', version: v(5, 4), prior: v(5, 3), reqid: 'c:5.4' }]);
    const p = planHolder(div, auth);
    if (p.kind !== 'log') throw new Error(p.why);
    expect(p.divergent.map((e) => e.oid)).toEqual(['x']);
    expect([...p.missing.keys()].sort()).toEqual(['b', 'x']);
  });

  it('a holder whose history ends before the authoritative log\'s tail needs backfill (PR5)', () => {
    const auth = info(0, 9, entries([[9, 7, 'a']]).map((e) => ({ ...e, prior: v(9, 6) })), { tail: v(9, 6) });
    expect(planHolder(info(1, 5, shared), auth).kind).toBe('backfill');
    expect(planHolder(info(1, 0, [], { empty: true }), auth).kind).toBe('backfill');
    // With the whole history in the log, an empty holder just replays it.
    const whole = info(0, 9, shared);
    const p = planHolder(info(1, 0, [], { empty: true }), whole);
    expect(p.kind === 'log' && [...p.missing.keys()].sort()).toEqual(['a', 'b', 'c']);
    // A holder still being backfilled starts over.
    expect(planHolder(info(1, 9, shared, { backfill: 'm' }), whole).kind).toBe('backfill');
  });

  it("an object's locations are the holders whose log has it and whose missing list does not", () => {
    const auth = info(0, 6, [...shared, ...entries([[6, 4, 'd']]).map((e) => ({ ...e, prior: v(5, 3) }))]);
    const plans = new Map<number, HolderPlan>([
      [0, planHolder(auth, auth)],
      [1, planHolder(info(1, 5, shared), auth)],
      [2, planHolder(info(2, 6, [...auth.entries], { missing: ['a'] }), auth)],
      [3, planHolder(info(3, 1, [], { empty: true }), { ...auth, tail: v(5, 1) })],
    ]);
    expect(locations('d', plans)).toEqual([0, 2]);
    expect(locations('a', plans)).toEqual([0, 1]);
    expect(locations('b', plans)).toEqual([0, 1, 2]);
  });

  it('a backlog tells a primary with a short history what to pull and what to delete', () => {
    const local = new Map([
      ['a', v(5, 1)],
      ['b', v(5, 2)],
      ['gone', v(3, 1)],
    ]);
    const m = missingFromBacklog(local, [
      ['a', v(5, 1)],
      ['b', v(7, 9)],
      ['new', v(7, 8)],
    ]);
    expect([...m].sort()).toEqual([
      ['b', { version: v(7, 9), deleted: false }],
      ['gone', { version: v(0, 0), deleted: true }],
      ['new', { version: v(7, 8), deleted: false }],
    ]);
  });
});

describe('backfill (PR11)', () => {
  it('the scan goes in name order in bounded batches, and the watermark says what is current', () => {
    const oids = ['a', 'b', 'c', 'd', 'e'];
    const b1 = nextBackfillBatch(oids, '', 2);
    expect(b1).toEqual({ oids: ['a', 'b'], watermark: 'b' });
    const b2 = nextBackfillBatch(oids, b1.watermark, 2);
    expect(b2).toEqual({ oids: ['c', 'd'], watermark: 'd' });
    const b3 = nextBackfillBatch(oids, b2.watermark, 2);
    expect(b3).toEqual({ oids: ['e'], watermark: BACKFILL_DONE });
    expect(nextBackfillBatch([], '', 2)).toEqual({ oids: [], watermark: BACKFILL_DONE });
    // Objects at or below the watermark, or pushed ahead of it (an op needed them), are current.
    expect(backfilled('c', 'd', new Set())).toBe(true);
    expect(backfilled('z', 'd', new Set())).toBe(false);
    expect(backfilled('z', 'd', new Set(['z']))).toBe(true);
    expect(backfilled('anything', BACKFILL_DONE, new Set())).toBe(true);
  });
});

describe('PG state flags (Ceph names)', () => {
  const base = { phase: 'active' as const, everStarted: true, actingSize: 3, poolSize: 3, minSize: 2, missingCopies: 0, recovering: false, backfilling: false };
  it('active+clean, degraded while recovering, undersized when short, down and incomplete when peering cannot finish', () => {
    expect(formatPgState(pgStateFlags(base))).toBe('active+clean');
    expect(formatPgState(pgStateFlags({ ...base, missingCopies: 4, recovering: true }))).toBe('active+recovering+degraded');
    expect(formatPgState(pgStateFlags({ ...base, missingCopies: 9, backfilling: true }))).toBe('active+backfilling+degraded');
    expect(formatPgState(pgStateFlags({ ...base, actingSize: 2 }))).toBe('active+undersized+degraded');
    expect(formatPgState(pgStateFlags({ ...base, phase: 'down' }))).toBe('down');
    expect(formatPgState(pgStateFlags({ ...base, phase: 'incomplete', actingSize: 1 }))).toBe('incomplete+undersized');
    expect(formatPgState(pgStateFlags({ ...base, phase: 'peering', everStarted: false }))).toBe('creating+peering');
    // Below min_size the PG does not go active (it takes no writes).
    expect(formatPgState(pgStateFlags({ ...base, phase: 'inactive', actingSize: 1 }))).toBe('undersized+degraded+peered');
  });
});
