import type { ActorRef } from '../runtime/ref.js';
import type { ActorSystem } from '../runtime/system.js';
import { MonitorClient } from '../actors/rados/monitor/client.js';
import type { MonitorMsg, MonitorRole } from '../actors/rados/monitor/protocol.js';
import { cephStatus, osdLocations, type CephStatus } from '../actors/rados/mon/cluster-status.js';
import { OSD_WEIGHT_FULL, type OsdMap } from '../actors/rados/osdmap/osd-map.js';
import { refOfAddr, type OsdMsg, type OsdStatus } from '../actors/rados/osd/osd.js';
import { LATENCY_BUCKETS_MS, type DataPathStats } from '../actors/rados/osd/data-path.js';

/** The Ceph-style cluster in the dashboard snapshot: monitors (quorum, leader, epoch) and OSDs (up/in, rack, weight). */
export interface CephSnapshot {
  readonly status: CephStatus | null;
  readonly error: string | null;
  readonly monitors: ReadonlyArray<{ readonly rank: number; readonly name: string; readonly role: MonitorRole | 'unreachable'; readonly lastCommitted: number | null; readonly electionEpoch: number | null }>;
  readonly osds: ReadonlyArray<{
    readonly id: number;
    readonly up: boolean;
    readonly in: boolean;
    readonly host: string | null;
    readonly rack: string | null;
    readonly weight: number;
    /** From the OSD itself (null when it did not answer): PGs held and active, store bytes, data-path totals. */
    readonly pgs?: number | null;
    readonly pgsActive?: number | null;
    readonly usedBytes?: number | null;
    readonly stats?: DataPathStats | null;
  }>;
  /** Objects per pool, counted at each PG's first OSD. */
  readonly poolObjects?: Readonly<Record<string, number>>;
  /** Each pool of the map with its usage, counted at each PG's first OSD (the data-path panel). */
  readonly pools?: readonly CephPoolUsage[];
  /** Upper bounds (ms) of the OSDs' latency histogram buckets; the last bucket is everything above. */
  readonly latencyBucketsMs?: readonly number[];
  /** PGs by whether their first OSD reports them active (activation done) or not; PGs whose first OSD did not answer are `unreported`. */
  readonly pgActivity?: { readonly active: number; readonly inactive: number; readonly unreported: number };
}

export interface CephPoolUsage {
  readonly id: number;
  readonly name: string;
  readonly size: number;
  readonly pgNum: number;
  readonly replication: string;
  readonly objects: number;
  /** Logical bytes (object sizes), one copy. */
  readonly bytes: number;
}

/** One poll of the monitors: each one's status, and the committed map from any of them (under a lease). */
export async function pollCeph(system: ActorSystem, monitors: readonly ActorRef<MonitorMsg>[], timeoutMs: number): Promise<CephSnapshot> {
  const client = new MonitorClient({ ask: (to, msg, o) => system.ask(to, msg, o), monitors, timeoutMs, attemptsMax: monitors.length });
  const mons = await Promise.all(
    monitors.map(async (_, rank) => {
      const r = await client.status(rank);
      return { rank, name: `mon${rank}`, status: r.ok ? r.value : undefined };
    }),
  );
  const monitorRows = mons.map((m) => ({ rank: m.rank, name: m.name, role: m.status?.role ?? ('unreachable' as const), lastCommitted: m.status?.lastCommitted ?? null, electionEpoch: m.status?.electionEpoch ?? null }));
  const read = await client.read<OsdMap>();
  if (!read.ok || read.value.state === undefined) return { status: null, error: read.ok ? 'no map' : `${read.error.code}: ${read.error.message}`, monitors: monitorRows, osds: [] };
  const map = read.value.state;
  const where = osdLocations(map);
  const statuses = await Promise.all(
    map.osds.map(async (o) => {
      const ref = o.up ? refOfAddr<OsdMsg>(o.addr) : undefined;
      if (ref === undefined) return undefined;
      return system.ask<OsdStatus>(ref, { type: 'rados.osd.status' }, { timeoutMs }).catch(() => undefined);
    }),
  );
  const usage = poolUsage(map, statuses);
  const poolObjects: Record<string, number> = {};
  for (const p of usage.pools) poolObjects[p.name] = p.objects;
  return {
    status: cephStatus(map, mons),
    error: null,
    monitors: monitorRows,
    osds: map.osds.map((o, i) => {
      const st = statuses[i];
      return {
        id: o.id,
        up: o.up,
        in: o.in,
        host: where.get(o.id)?.host ?? null,
        rack: where.get(o.id)?.rack ?? null,
        weight: o.weight / OSD_WEIGHT_FULL,
        pgs: st === undefined ? null : st.pgs.length,
        pgsActive: st === undefined ? null : st.pgs.filter((p) => p.active).length,
        usedBytes: st === undefined ? null : st.usedBytes,
        stats: st?.stats ?? null,
      };
    }),
    poolObjects,
    pools: usage.pools,
    pgActivity: usage.pgActivity,
    latencyBucketsMs: LATENCY_BUCKETS_MS,
  };
}

/**
 * Pool usage and PG activity from the OSDs' own reports: each PG counted once, at the first OSD of
 * its acting set (where updates are serialized), and only if that OSD holds it active.
 */
export function poolUsage(map: OsdMap, statuses: readonly (OsdStatus | undefined)[]): { pools: CephPoolUsage[]; pgActivity: { active: number; inactive: number; unreported: number } } {
  const pools = new Map(map.pools.map((p) => [p.id, { id: p.id, name: p.name, size: p.size, pgNum: p.pgNum, replication: p.replication, objects: 0, bytes: 0 }]));
  const seen = new Set<string>();
  let active = 0;
  let inactive = 0;
  for (const st of statuses) {
    if (st === undefined) continue;
    for (const pg of st.pgs) {
      if (pg.acting[0] !== st.osd || seen.has(pg.pg)) continue;
      const pool = pools.get(Number(pg.pg.split('.')[0]));
      if (pool === undefined) continue;
      seen.add(pg.pg);
      if (!pg.active) {
        inactive++;
        continue;
      }
      active++;
      pool.objects += pg.objects;
      pool.bytes += pg.bytes;
    }
  }
  const total = map.pools.reduce((n, p) => n + p.pgNum, 0);
  return { pools: [...pools.values()], pgActivity: { active, inactive, unreported: Math.max(0, total - active - inactive) } };
}
