/**
 * What an administrator sees of a Ceph-style cluster (`troupe ceph status`, `osd tree`, the
 * dashboard and /metrics), computed from the committed OSD map and the monitors' status answers.
 * Pure functions.
 *
 * PG states are derived from the map alone, since there is no peering yet: a PG is `active+clean`
 * when its acting set has `size` OSDs, `active+undersized+degraded` when it has fewer but at least
 * `min_size`, and `undersized+degraded+peered` (not serving I/O) below `min_size`; with no acting
 * OSD at all it is `stale`. Once OSDs peer, their reports will replace this.
 */
import type { MonitorStatus } from '../monitor/protocol.js';
import { poolMappings } from '../osdmap/mapping.js';
import { OSD_WEIGHT_FULL, crushMapOf } from '../osdmap/osd-map.js';
import type { OsdMap } from '../osdmap/osd-map.js';

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
  readonly pgs: { readonly total: number; readonly byState: Readonly<Record<string, number>> };
}

/** The PG states of every pool, counted (see the file comment for how they are derived). */
export function pgStates(map: OsdMap): Record<string, number> {
  const out: Record<string, number> = {};
  for (const pool of map.pools) {
    for (const m of poolMappings(map, pool.id)) {
      const n = m.acting.length;
      const state = n === 0 ? 'stale' : n >= pool.size ? 'active+clean' : n >= pool.minSize ? 'active+undersized+degraded' : 'undersized+degraded+peered';
      out[state] = (out[state] ?? 0) + 1;
    }
  }
  return out;
}

export function cephStatus(map: OsdMap, mons: readonly MonSummary[]): CephStatus {
  const answered = mons.filter((m) => m.status !== undefined);
  // The view of the monitor with the newest election epoch that is in a quorum.
  const inQuorum = answered.filter((m) => m.status?.role !== 'electing').sort((a, b) => (b.status?.electionEpoch ?? 0) - (a.status?.electionEpoch ?? 0));
  const view = inQuorum[0]?.status;
  const quorum = view?.quorum ?? [];
  const down = mons.map((m) => m.rank).filter((r) => !quorum.includes(r));
  const up = map.osds.filter((o) => o.up).length;
  const inn = map.osds.filter((o) => o.in).length;
  const byState = pgStates(map);
  const total = Object.values(byState).reduce((a, b) => a + b, 0);
  const checks: string[] = [];
  if (quorum.length === 0) checks.push('no monitor quorum');
  else if (down.length > 0) checks.push(`${down.length}/${mons.length} mons down, quorum ${quorum.join(',')}`);
  if (up < map.osds.length) checks.push(`${map.osds.length - up} osds down`);
  const unclean = total - (byState['active+clean'] ?? 0);
  if (unclean > 0) checks.push(`${unclean} pgs not active+clean`);
  const health: Health = quorum.length === 0 || (byState['stale'] ?? 0) > 0 || (byState['undersized+degraded+peered'] ?? 0) > 0 ? 'HEALTH_ERR' : checks.length > 0 ? 'HEALTH_WARN' : 'HEALTH_OK';
  return {
    health,
    checks,
    monitors: { count: mons.length, quorum, leader: view?.leader, electionEpoch: view?.electionEpoch, down },
    epoch: map.epoch,
    osds: { total: map.osds.length, up, in: inn },
    pools: map.pools.length,
    pgs: { total, byState },
  };
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
