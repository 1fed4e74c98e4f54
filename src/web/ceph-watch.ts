import type { ActorRef } from '../runtime/ref.js';
import type { ActorSystem } from '../runtime/system.js';
import { MonitorClient } from '../actors/rados/monitor/client.js';
import type { MonitorMsg, MonitorRole } from '../actors/rados/monitor/protocol.js';
import { cephStatus, osdLocations, type CephStatus } from '../actors/rados/mon/cluster-status.js';
import { OSD_WEIGHT_FULL, type OsdMap } from '../actors/rados/osdmap/osd-map.js';
import { refOfAddr, type OsdMsg, type OsdStatus } from '../actors/rados/osd/osd.js';
import type { DataPathStats } from '../actors/rados/osd/data-path.js';

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
  const poolObjects: Record<string, number> = {};
  for (const st of statuses) {
    for (const pg of st?.pgs ?? []) {
      if (!pg.state.split('+').includes('active')) continue;
      const poolId = Number(pg.pgid.split('.')[0]);
      const name = map.pools.find((p) => p.id === poolId)?.name;
      if (name !== undefined) poolObjects[name] = (poolObjects[name] ?? 0) + pg.objects;
    }
  }
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
        pgs: st === undefined ? null : st.held.length,
        pgsActive: st === undefined ? null : st.held.filter((p) => p.active).length,
        usedBytes: st === undefined ? null : st.usedBytes,
        stats: st?.stats ?? null,
      };
    }),
    poolObjects,
  };
}
