import type { ActorRef } from '../runtime/ref.js';
import type { ActorSystem } from '../runtime/system.js';
import { MonitorClient } from '../actors/rados/monitor/client.js';
import type { MonitorMsg, MonitorRole } from '../actors/rados/monitor/protocol.js';
import { cephStatus, osdLocations, type CephStatus } from '../actors/rados/mon/cluster-status.js';
import { OSD_WEIGHT_FULL, type OsdMap } from '../actors/rados/osdmap/osd-map.js';

/** The Ceph-style cluster in the dashboard snapshot: monitors (quorum, leader, epoch) and OSDs (up/in, rack, weight). */
export interface CephSnapshot {
  readonly status: CephStatus | null;
  readonly error: string | null;
  readonly monitors: ReadonlyArray<{ readonly rank: number; readonly name: string; readonly role: MonitorRole | 'unreachable'; readonly lastCommitted: number | null; readonly electionEpoch: number | null }>;
  readonly osds: ReadonlyArray<{ readonly id: number; readonly up: boolean; readonly in: boolean; readonly host: string | null; readonly rack: string | null; readonly weight: number }>;
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
  return {
    status: cephStatus(map, mons),
    error: null,
    monitors: monitorRows,
    osds: map.osds.map((o) => ({ id: o.id, up: o.up, in: o.in, host: where.get(o.id)?.host ?? null, rack: where.get(o.id)?.rack ?? null, weight: o.weight / OSD_WEIGHT_FULL })),
  };
}
