/**
 * What an administrator sees of a Ceph-style cluster (`troupe ceph status`, `osd tree`, the
 * dashboard and /metrics), computed from the committed OSD map and the monitors' status answers.
 * Pure functions.
 *
 * PG states come from the primaries' reports (`rados.mon.pgStats`, kept by each monitor in
 * `pg-stats-table.ts`) where a monitor has one. A PG without a report gets a state derived from the
 * map alone: `active+clean` when its acting set has `size` OSDs, `active+undersized+degraded` when it
 * has fewer but at least `min_size`, and `undersized+degraded+peered` (not serving I/O) below
 * `min_size`; with no acting OSD at all it is `stale`.
 */
import type { MonitorStatus } from '../monitor/protocol.js';
import { poolMappings } from '../osdmap/mapping.js';
import { OSD_WEIGHT_FULL, crushMapOf } from '../osdmap/osd-map.js';
import type { OsdMap } from '../osdmap/osd-map.js';
import { formatPgid, type PgStat } from '../osd/pg-stats.js';

export type Health = 'HEALTH_OK' | 'HEALTH_WARN' | 'HEALTH_ERR';

export interface MonSummary {
  readonly rank: number;
  readonly name: string;
  /** Undefined when the monitor did not answer. */
  readonly status: MonitorStatus | undefined;
}

export interface CephStatus {
  readonly health: Health;
  readonly checks: readonly string[];
  readonly monitors: { readonly count: number; readonly quorum: readonly number[]; readonly leader: number | undefined; readonly electionEpoch: number | undefined; readonly down: readonly number[] };
  readonly epoch: number;
  readonly osds: { readonly total: number; readonly up: number; readonly in: number };
  readonly pools: number;
  /** `reported`: PGs whose state comes from their primary's report (the rest are derived from the map). */
  readonly pgs: { readonly total: number; readonly byState: Readonly<Record<string, number>>; readonly reported: number };
  /** Inconsistent PGs and the objects their last scrub found bad (from the reports). */
  readonly scrub: { readonly inconsistentPgs: number; readonly inconsistentObjects: number };
}

/** A reported PG stat as a monitor holds it. */
export type ReportedPgStat = PgStat & { readonly reportedAtMs?: number; readonly reporter?: number };

/** One PG of the map with the state shown for it. */
export interface PgRow {
  readonly pgid: string;
  readonly state: string;
  readonly up: readonly number[];
  readonly acting: readonly number[];
  readonly primary: number;
  /** The primary's report, when a monitor has one. */
  readonly stat: ReportedPgStat | undefined;
}

/** The state derived from the map alone (see the file comment). */
function mapState(acting: number, size: number, minSize: number): string {
  return acting === 0 ? 'stale' : acting >= size ? 'active+clean' : acting >= minSize ? 'active+undersized+degraded' : 'undersized+degraded+peered';
}

/** Every PG of the map, in pool then seed order, with its reported state or the map-derived one. Reports of PGs the map no longer has are left out. */
export function pgRows(map: OsdMap, reported: readonly ReportedPgStat[] = []): PgRow[] {
  const byId = new Map<string, ReportedPgStat>();
  for (const r of reported) byId.set(r.pgid, r);
  const rows: PgRow[] = [];
  for (const pool of map.pools) {
    for (const m of poolMappings(map, pool.id)) {
      const pgid = formatPgid(pool.id, m.pg.ps);
      const stat = byId.get(pgid);
      rows.push({ pgid, state: stat?.state ?? mapState(m.acting.length, pool.size, pool.minSize), up: m.up, acting: m.acting, primary: m.primary, stat });
    }
  }
  return rows;
}

/** The PG states of every pool, counted: reported where a report exists, else derived from the map. */
export function pgStates(map: OsdMap, reported: readonly ReportedPgStat[] = []): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of pgRows(map, reported)) out[r.state] = (out[r.state] ?? 0) + 1;
  return out;
}

const hasFlag = (state: string, flag: string): boolean => state.split('+').includes(flag);

export function cephStatus(map: OsdMap, mons: readonly MonSummary[], reported: readonly ReportedPgStat[] = []): CephStatus {
  const answered = mons.filter((m) => m.status !== undefined);
  // The view of the monitor with the newest election epoch that is in a quorum.
  const inQuorum = answered.filter((m) => m.status?.role !== 'electing').sort((a, b) => (b.status?.electionEpoch ?? 0) - (a.status?.electionEpoch ?? 0));
  const view = inQuorum[0]?.status;
  const quorum = view?.quorum ?? [];
  const down = mons.map((m) => m.rank).filter((r) => !quorum.includes(r));
  const up = map.osds.filter((o) => o.up).length;
  const inn = map.osds.filter((o) => o.in).length;
  const rows = pgRows(map, reported);
  const byState: Record<string, number> = {};
  for (const r of rows) byState[r.state] = (byState[r.state] ?? 0) + 1;
  const total = rows.length;
  const inconsistent = rows.filter((r) => hasFlag(r.state, 'inconsistent'));
  const inconsistentObjects = inconsistent.reduce((n, r) => n + (r.stat?.inconsistentObjects ?? 0), 0);
  const inactive = rows.filter((r) => hasFlag(r.state, 'stale') || !hasFlag(r.state, 'active')).length;
  const checks: string[] = [];
  if (quorum.length === 0) checks.push('no monitor quorum');
  else if (down.length > 0) checks.push(`${down.length}/${mons.length} mons down, quorum ${quorum.join(',')}`);
  if (up < map.osds.length) checks.push(`${map.osds.length - up} osds down`);
  const unclean = rows.filter((r) => !hasFlag(r.state, 'active') || !hasFlag(r.state, 'clean') || hasFlag(r.state, 'stale')).length;
  if (unclean > 0) checks.push(`${unclean} pgs not active+clean`);
  if (inconsistent.length > 0) checks.push(`${inconsistent.length} pgs inconsistent (${inconsistentObjects} objects)`);
  if (inactive > 0) checks.push(`${inactive} pgs inactive or stale`);
  // As Ceph grades them: reduced availability (inactive, stale PGs) is a warning; possible data damage (inconsistent PGs) and no quorum are errors.
  const health: Health = quorum.length === 0 || inconsistent.length > 0 ? 'HEALTH_ERR' : checks.length > 0 ? 'HEALTH_WARN' : 'HEALTH_OK';
  return {
    health,
    checks,
    monitors: { count: mons.length, quorum, leader: view?.leader, electionEpoch: view?.electionEpoch, down },
    epoch: map.epoch,
    osds: { total: map.osds.length, up, in: inn },
    pools: map.pools.length,
    pgs: { total, byState, reported: rows.filter((r) => r.stat !== undefined).length },
    scrub: { inconsistentPgs: inconsistent.length, inconsistentObjects },
  };
}

/** One health check of `health detail` (Ceph's codes), with a line per PG or OSD concerned. */
export interface HealthCheck {
  readonly code: string;
  readonly severity: 'HEALTH_WARN' | 'HEALTH_ERR';
  readonly summary: string;
  readonly detail: readonly string[];
}

export interface HealthDetail {
  readonly health: Health;
  readonly checks: readonly HealthCheck[];
}

function ago(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  return s < 120 ? `${s}s` : s < 7200 ? `${Math.floor(s / 60)}m` : `${Math.floor(s / 3600)}h`;
}

/**
 * `health detail`: each problem with the PGs or OSDs behind it (G5). A PG is *stuck* when its
 * reported state has lacked `clean` (or been `stale`) for longer than `stuckThresholdMs`, measured
 * from the state's start as its primary reported it.
 */
export function healthDetail(map: OsdMap, mons: readonly MonSummary[], reported: readonly ReportedPgStat[], nowMs: number, stuckThresholdMs: number): HealthDetail {
  const s = cephStatus(map, mons, reported);
  const rows = pgRows(map, reported);
  const checks: HealthCheck[] = [];
  const line = (r: PgRow, what: string): string => {
    const since = r.stat?.stateSinceMs ?? 0;
    const stuck = since > 0 && nowMs - since > stuckThresholdMs;
    return stuck ? `pg ${r.pgid} is stuck ${what} for ${ago(nowMs - since)}, current state ${r.state}, last acting [${r.acting.join(',')}]` : `pg ${r.pgid} is ${r.state}, acting [${r.acting.join(',')}]`;
  };
  if (s.monitors.down.length > 0) {
    checks.push({ code: 'MON_DOWN', severity: s.monitors.quorum.length === 0 ? 'HEALTH_ERR' : 'HEALTH_WARN', summary: `${s.monitors.down.length}/${s.monitors.count} mons down, quorum ${s.monitors.quorum.join(',') || '(none)'}`, detail: s.monitors.down.map((r) => `mon${r} is down or out of the quorum`) });
  }
  const downOsds = map.osds.filter((o) => !o.up);
  if (downOsds.length > 0) checks.push({ code: 'OSD_DOWN', severity: 'HEALTH_WARN', summary: `${downOsds.length} osds down`, detail: downOsds.map((o) => `osd.${o.id} is down${o.in ? '' : ' and out'}`) });
  const inactive = rows.filter((r) => hasFlag(r.state, 'stale') || !hasFlag(r.state, 'active'));
  if (inactive.length > 0) {
    const stale = inactive.filter((r) => hasFlag(r.state, 'stale')).length;
    const parts = [`${inactive.length - stale} pgs inactive`, `${stale} pgs stale`].filter((p) => !p.startsWith('0 '));
    checks.push({ code: 'PG_AVAILABILITY', severity: 'HEALTH_WARN', summary: `Reduced data availability: ${parts.join(', ')}`, detail: inactive.map((r) => line(r, hasFlag(r.state, 'stale') ? 'stale' : 'inactive')) });
  }
  const degraded = rows.filter((r) => !inactive.includes(r) && (hasFlag(r.state, 'degraded') || hasFlag(r.state, 'undersized')));
  if (degraded.length > 0) {
    const copies = degraded.reduce((n, r) => n + (r.stat?.degradedObjects ?? 0), 0);
    const undersized = degraded.filter((r) => hasFlag(r.state, 'undersized')).length;
    checks.push({ code: 'PG_DEGRADED', severity: 'HEALTH_WARN', summary: `Degraded data redundancy: ${copies} object copies degraded, ${degraded.filter((r) => hasFlag(r.state, 'degraded')).length} pgs degraded, ${undersized} pgs undersized`, detail: degraded.map((r) => line(r, hasFlag(r.state, 'undersized') ? 'undersized' : 'degraded')) });
  }
  const stuckOther = rows.filter((r) => !inactive.includes(r) && !degraded.includes(r) && !hasFlag(r.state, 'clean') && (r.stat?.stateSinceMs ?? 0) > 0 && nowMs - (r.stat?.stateSinceMs ?? 0) > stuckThresholdMs);
  if (stuckOther.length > 0) checks.push({ code: 'PG_NOT_CLEAN', severity: 'HEALTH_WARN', summary: `${stuckOther.length} pgs stuck unclean`, detail: stuckOther.map((r) => line(r, 'unclean')) });
  const inconsistent = rows.filter((r) => hasFlag(r.state, 'inconsistent'));
  if (inconsistent.length > 0) {
    checks.push({ code: 'OSD_SCRUB_ERRORS', severity: 'HEALTH_ERR', summary: `${s.scrub.inconsistentObjects} objects found inconsistent by scrub`, detail: [] });
    checks.push({ code: 'PG_DAMAGED', severity: 'HEALTH_ERR', summary: `Possible data damage: ${inconsistent.length} pgs inconsistent`, detail: inconsistent.map((r) => `pg ${r.pgid} is ${r.state}, acting [${r.acting.join(',')}]; repair with 'troupe ceph pg repair ${r.pgid}'`) });
  }
  const health: Health = checks.some((c) => c.severity === 'HEALTH_ERR') ? 'HEALTH_ERR' : checks.length > 0 ? 'HEALTH_WARN' : 'HEALTH_OK';
  return { health, checks };
}

export interface OsdTreeRow {
  readonly id: number;
  /** CRUSH weight (1.0 = 0x10000). */
  readonly weight: number;
  readonly type: string;
  readonly name: string;
  readonly depth: number;
  /** Devices only. */
  readonly status?: 'up' | 'down';
  readonly reweight?: number;
}

/** The CRUSH hierarchy depth first from each root, with each OSD's state (as `ceph osd tree`). */
export function osdTree(map: OsdMap): OsdTreeRow[] {
  const crush = crushMapOf(map);
  if (crush === null) return [];
  const typeName = (t: number): string => crush.types.find((x) => x.id === t)?.name ?? String(t);
  const rows: OsdTreeRow[] = [];
  const children = new Set<number>();
  for (const b of crush.buckets) if (b !== undefined && b.shadowOf === undefined) for (const i of b.items) children.add(i);
  const visit = (id: number, weight: number, depth: number): void => {
    if (id >= 0) {
      const o = map.osds[id];
      rows.push({ id, weight: weight / OSD_WEIGHT_FULL, type: typeName(0), name: crush.devices.find((d) => d.id === id)?.name ?? `osd.${id}`, depth, status: o?.up === true ? 'up' : 'down', reweight: o?.in === true ? o.weight / OSD_WEIGHT_FULL : 0 });
      return;
    }
    const b = crush.buckets[-1 - id];
    if (b === undefined) return;
    rows.push({ id, weight: b.weight / OSD_WEIGHT_FULL, type: typeName(b.type), name: b.name, depth });
    b.items.forEach((item, k) => visit(item, b.itemWeights[k] ?? 0, depth + 1));
  };
  for (const b of crush.buckets) if (b !== undefined && b.shadowOf === undefined && !children.has(b.id)) visit(b.id, b.weight, 0);
  return rows;
}

/** The rack (or other type-2 ancestor name) each OSD sits under, for the dashboard. */
export function osdLocations(map: OsdMap): Map<number, { host?: string; rack?: string }> {
  const out = new Map<number, { host?: string; rack?: string }>();
  const path: OsdTreeRow[] = [];
  for (const row of osdTree(map)) {
    path.length = row.depth;
    if (row.id >= 0) {
      const host = path.find((p) => p.type === 'host')?.name;
      const rack = path.find((p) => p.type === 'rack')?.name;
      out.set(row.id, { ...(host === undefined ? {} : { host }), ...(rack === undefined ? {} : { rack }) });
    } else {
      path.push(row);
    }
  }
  return out;
}
