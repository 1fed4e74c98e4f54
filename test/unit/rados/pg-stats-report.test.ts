/**
 * PG statistics (README "PG statistics", G1–G5): when an OSD reports, how the monitors' soft-state
 * table keeps, ages and bounds the reports, and how `ceph status` / `health detail` use them.
 */
import { describe, expect, it } from 'vitest';
import { bootstrapOsdMap, commit } from '../../../src/actors/rados/osdmap/bootstrap.js';
import { cephStatus, healthDetail, pgRows, pgStates } from '../../../src/actors/rados/mon/cluster-status.js';
import { PgStatsTable } from '../../../src/actors/rados/mon/pg-stats-table.js';
import { PgStatReporter } from '../../../src/actors/rados/osd/pg-stat-reporter.js';
import type { PgStat } from '../../../src/actors/rados/osd/pg-stats.js';
import type { MonitorStatus } from '../../../src/actors/rados/monitor/protocol.js';
import { pgMapping } from '../../../src/actors/rados/osdmap/mapping.js';

const stat = (pgid: string, state: string, o: Partial<PgStat> = {}): PgStat => ({
  pgid, state, epoch: 5, up: [0, 1, 2], acting: [0, 1, 2], primary: 0, lastUpdate: "5'3", lastComplete: "5'3", lastEpochStarted: 5,
  objects: 4, bytes: 400, logEntries: 3, degradedObjects: 0, missingObjects: 0, misplacedObjects: 0, stateSinceMs: 0, lastScrubMs: 0, lastDeepScrubMs: 0, inconsistentObjects: 0, ...o,
});
const mon = (rank: number): { rank: number; name: string; status: MonitorStatus } => ({ rank, name: `mon${rank}`, status: { service: 'osdmap', rank, monitors: 3, role: rank === 0 ? 'leader' : 'peon', electionEpoch: 4, leader: 0, quorum: [0, 1, 2], lastCommitted: 7, firstCommitted: 1, readable: true, pendingCommands: 0, subscribers: 0 } });
const mons = [0, 1, 2].map(mon);
const cfg = { staleAfterMs: 10_000, expireAfterMs: 60_000, trackedMax: 3 };

describe('an OSD reports periodically and soon after a change (G1)', () => {
  it('reports at the interval, on a state change after the minimum gap, and stamps each state start', () => {
    const r = new PgStatReporter({ reportIntervalMs: 5_000, reportMinIntervalMs: 500 });
    const a = r.observe([stat('1.0', 'peering')], 1_000);
    expect(a[0]?.stateSinceMs).toBe(1_000);
    expect(r.due(a, 1_000)).toBe(true);
    r.sentAt(a, 1_000);
    expect(r.due(r.observe([stat('1.0', 'peering')], 2_000), 2_000)).toBe(false);
    const b = r.observe([stat('1.0', 'active+clean')], 1_200);
    expect(b[0]?.stateSinceMs).toBe(1_200);
    expect(r.due(b, 1_200)).toBe(false);
    expect(r.due(b, 1_500)).toBe(true);
    r.sentAt(b, 1_500);
    expect(r.due(r.observe([stat('1.0', 'active+clean')], 6_400), 6_400)).toBe(false);
    expect(r.due(r.observe([stat('1.0', 'active+clean')], 6_500), 6_500)).toBe(true);
    expect(r.stamped(stat('1.0', 'active+clean')).stateSinceMs).toBe(1_200);
  });
});

describe('the monitors keep the latest report per PG (G2–G4)', () => {
  it('keeps the latest, marks a silent primary stale, then forgets it', () => {
    const t = new PgStatsTable(cfg);
    t.report({ type: 'rados.mon.pgStats', epoch: 5, osd: 0, stats: [stat('1.0', 'active+clean'), stat('1.1', 'active+clean')] }, 1_000);
    t.report({ type: 'rados.mon.pgStats', epoch: 6, osd: 0, stats: [stat('1.0', 'active+undersized+degraded', { epoch: 6 })] }, 8_000);
    expect(t.view(9_000).stats.map((s) => [s.pgid, s.state])).toEqual([['1.0', 'active+undersized+degraded'], ['1.1', 'active+clean']]);
    expect(t.view(12_000).stats.map((s) => s.state)).toEqual(['active+undersized+degraded', 'stale+active+clean']);
    expect(t.view(62_000).stats.map((s) => s.pgid)).toEqual(['1.0']);
    expect(t.view(69_000).stats).toEqual([]);
  });

  it('a late report from an older epoch does not hide the new primary\'s, unless the new one went silent', () => {
    const t = new PgStatsTable(cfg);
    t.report({ type: 'rados.mon.pgStats', epoch: 9, osd: 2, stats: [stat('1.0', 'active+clean', { epoch: 9, primary: 2 })] }, 1_000);
    t.report({ type: 'rados.mon.pgStats', epoch: 7, osd: 0, stats: [stat('1.0', 'active+undersized+degraded', { epoch: 7 })] }, 2_000);
    expect(t.view(2_000).stats[0]).toMatchObject({ state: 'active+clean', reporter: 2 });
    t.report({ type: 'rados.mon.pgStats', epoch: 7, osd: 0, stats: [stat('1.0', 'peering', { epoch: 7 })] }, 12_000);
    expect(t.view(12_000).stats[0]).toMatchObject({ state: 'peering', reporter: 0 });
  });

  it('is bounded and drops malformed stats', () => {
    const t = new PgStatsTable(cfg);
    const r = t.report({ type: 'rados.mon.pgStats', epoch: 5, osd: 0, stats: ['1.0', '1.1', '1.2', '1.3'].map((p) => stat(p, 'active+clean')) }, 0);
    expect(r).toEqual({ kept: 3, dropped: 1 });
    const bad = t.report({ type: 'rados.mon.pgStats', epoch: 5, osd: 0, stats: [{ ...stat('1.0', 'active+clean'), state: 'active+bogus' }, { ...stat('1.1', 'x'), pgid: 'nope' }, { ...stat('1.2', 'active+clean'), objects: 'many' } as unknown as PgStat] }, 0);
    expect(bad).toEqual({ kept: 0, dropped: 3 });
    expect(t.size).toBe(3);
    expect(t.dropped).toBe(4);
  });
});

describe('status and health detail with reports (G5)', () => {
  const { map } = bootstrapOsdMap({ osds: 4, osdsPerHost: 1, hostsPerRack: 2, pools: [{ name: 'rbd', pgNum: 8, size: 3 }] });
  const P = map.pools[0]!.id;
  const pg = (ps: number): string => `${P}.${ps}`;

  it('uses a reported state where there is one and the map-derived one elsewhere, with byState keeping its shape', () => {
    const reported = [stat(pg(1), 'active+clean+inconsistent', { inconsistentObjects: 2 }), stat(pg(2), 'peering')];
    expect(pgStates(map, reported)).toEqual({ 'active+clean': 6, 'active+clean+inconsistent': 1, peering: 1 });
    const s = cephStatus(map, mons, reported);
    expect(s.pgs).toEqual({ total: 8, byState: { 'active+clean': 6, 'active+clean+inconsistent': 1, peering: 1 }, reported: 2 });
    expect(s.scrub).toEqual({ inconsistentPgs: 1, inconsistentObjects: 2 });
    expect(s.health).toBe('HEALTH_ERR');
    expect(cephStatus(map, mons, []).health).toBe('HEALTH_OK');
    // A report for a PG the map no longer has (pool 9) is left out.
    expect(pgRows(map, [stat('9.0', 'active+clean')]).some((r) => r.pgid === '9.0')).toBe(false);
  });

  it('lists degraded, undersized, inconsistent, inactive and stuck PGs with what to do', () => {
    const down = commit(map, { type: 'rados.mon.osdMarkDown', osds: [1], reason: 'admin' }, 100).map;
    const degradedPg = pgRows(down).find((r) => r.state === 'active+undersized+degraded');
    expect(degradedPg).toBeDefined();
    const acting = pgMapping(down, P, Number.parseInt(degradedPg!.pgid.split('.')[1]!, 16))!.acting;
    const reported = [
      stat(degradedPg!.pgid, 'active+undersized+degraded', { acting, degradedObjects: 4, stateSinceMs: 1_000 }),
      stat(pg(5), 'active+clean+inconsistent', { inconsistentObjects: 1 }),
    ];
    const d = healthDetail(down, mons, reported, 200_000, 60_000);
    expect(d.health).toBe('HEALTH_ERR');
    const codes = d.checks.map((c) => c.code);
    expect(codes).toEqual(expect.arrayContaining(['OSD_DOWN', 'PG_DEGRADED', 'OSD_SCRUB_ERRORS', 'PG_DAMAGED']));
    const deg = d.checks.find((c) => c.code === 'PG_DEGRADED')!;
    expect(deg.detail).toContain(`pg ${degradedPg!.pgid} is stuck undersized for 3m, current state active+undersized+degraded, last acting [${acting.join(',')}]`);
    expect(d.checks.find((c) => c.code === 'PG_DAMAGED')!.detail[0]).toBe(`pg ${pg(5)} is active+clean+inconsistent, acting [${pgMapping(down, P, 5)!.acting.join(',')}]; repair with 'troupe ceph pg repair ${pg(5)}'`);
    const fresh = healthDetail(down, mons, [stat(degradedPg!.pgid, 'active+undersized+degraded', { acting, stateSinceMs: 190_000 })], 200_000, 60_000);
    expect(fresh.checks.find((c) => c.code === 'PG_DEGRADED')!.detail.find((l) => l.startsWith(`pg ${degradedPg!.pgid} `))).toMatch(/ is active\+undersized\+degraded, acting/);
    const stale = healthDetail(map, mons, [{ ...stat(pg(3), 'stale+active+clean'), stateSinceMs: 1 }], 100_000, 60_000);
    expect(stale.checks.find((c) => c.code === 'PG_AVAILABILITY')).toMatchObject({ severity: 'HEALTH_WARN', summary: 'Reduced data availability: 1 pgs stale' });
    expect(healthDetail(map, mons, [], 0, 60_000)).toEqual({ health: 'HEALTH_OK', checks: [] });
  });
});
