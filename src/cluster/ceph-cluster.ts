import { join } from 'node:path';
import type { ActorRef } from '../runtime/ref.js';
import { deferMacrotask, realTimers } from '../runtime/node/env.js';
import type { TroupeNode } from '../runtime/node/troupe-node.js';
import { NodeDisk } from '../storage/node/node-disk.js';
import { withIoTimeout } from '../storage/timed-disk.js';
import { osdMonitor } from '../actors/rados/mon/osd-monitor.js';
import { DiskMonitorStore } from '../actors/rados/monitor/store.js';
import { MonitorClient } from '../actors/rados/monitor/client.js';
import type { MonitorMsg } from '../actors/rados/monitor/protocol.js';
import type { OsdMsg } from '../actors/rados/osd/osd.js';
import type { OsdMap } from '../actors/rados/osdmap/osd-map.js';
import { simpleCrushText } from '../actors/rados/osdmap/bootstrap.js';
import { crushMapOf, findPool } from '../actors/rados/osdmap/osd-map.js';
import type { OsdRoleArgs } from './roles.js';

/**
 * The Ceph-style part of the one-node cluster (`troupe up --system ceph`): three monitors on the
 * main thread, each logging the OSD map's Paxos state under `<data-dir>/ceph/mon<rank>`, and N
 * OSDs on worker threads (map side only: boot, heartbeats, failure reports; no object data path
 * yet). A new cluster gets a CRUSH hierarchy of one host per OSD spread over racks and the default
 * pool `rbd`; a restarted one recovers its maps from the monitors' logs.
 */
export const MONITORS = 3;
export const DEFAULT_POOL = 'rbd';
export const DEFAULT_POOL_PG_NUM = 64;

export function monRefs(node: string, count = MONITORS): ActorRef<MonitorMsg>[] {
  return Array.from({ length: count }, (_, rank) => ({ node, id: `mon${rank}` }));
}

export function osdRefOf(node: string, id: number): ActorRef<OsdMsg> {
  return { node, id: `osd${id}` };
}

export interface CephPlan {
  readonly osds: number;
  readonly racks: number;
  readonly workers: number;
}

export interface CephRoles {
  readonly monitors: readonly ActorRef<MonitorMsg>[];
  readonly osds: readonly { readonly id: number; readonly rack: string; readonly worker: number; readonly ref: ActorRef<OsdMsg> }[];
  /** The map after start-up (bootstrapped for a new cluster, recovered otherwise). */
  readonly map: OsdMap;
  readonly created: boolean;
}

/** Starts the monitors and OSDs on `node` and waits until the map has a hierarchy and the default pool. */
export async function startCephRoles(node: TroupeNode, dataDir: string, plan: CephPlan): Promise<CephRoles> {
  const monitors = monRefs(node.node);
  for (let rank = 0; rank < MONITORS; rank++) {
    const disk = withIoTimeout(new NodeDisk(join(dataDir, 'ceph')), realTimers, 30_000);
    node.system.spawn(osdMonitor({ rank, monitors, store: new DiskMonitorStore(disk, `mon${rank}`, deferMacrotask) }), { name: `mon${rank}` });
  }
  const client = adminMonitorClient(node.system.ask.bind(node.system), monitors);
  const ready = await bootstrapMap(client, plan);
  const count = ready.map.osds.length;
  const hostsPerRack = Math.max(1, Math.ceil(plan.osds / plan.racks));
  const module = new URL('./roles.js', import.meta.url).href;
  const osds: Array<CephRoles['osds'][number]> = [];
  for (let id = 0; id < count; id++) {
    const worker = id % Math.max(1, plan.workers);
    const args: OsdRoleArgs = { id, monitors };
    const ref = (await node.spawn({ module, export: 'osdRole', args }, { placement: { worker }, name: `osd${id}` })) as ActorRef<OsdMsg>;
    osds.push({ id, rack: `rack${Math.floor(id / hostsPerRack)}`, worker, ref });
  }
  return { monitors, osds, map: ready.map, created: ready.created };
}

/** A monitor client for admin tools: generous retries, since a fresh or restarted cluster elects first. */
export function adminMonitorClient(ask: ConstructorParameters<typeof MonitorClient>[0]['ask'], monitors: readonly ActorRef<MonitorMsg>[], timeoutMs = 3_000): MonitorClient {
  return new MonitorClient({ ask, monitors, timeoutMs, attemptsMax: 10 * monitors.length, sleep: (ms) => new Promise((resolve) => realTimers.after(ms, resolve)), backoffMs: 1_000 });
}

async function bootstrapMap(client: MonitorClient, plan: CephPlan): Promise<{ map: OsdMap; created: boolean }> {
  const read = async (): Promise<OsdMap> => {
    const r = await client.read<OsdMap>();
    if (!r.ok || r.value.state === undefined) throw new Error(`the monitors did not form a quorum: ${r.ok ? 'no state' : r.error.message}`);
    return r.value.state;
  };
  let map = await read();
  let created = false;
  if (crushMapOf(map) === null) {
    const crush = simpleCrushText({ osds: plan.osds, osdsPerHost: 1, hostsPerRack: Math.max(1, Math.ceil(plan.osds / plan.racks)) }, 'host');
    const r = await client.submit({ type: 'rados.mon.setCrush', crush });
    if (!r.ok && r.error.serviceCode !== 'no_change') throw new Error(`could not set the CRUSH map: ${r.error.message}`);
    created = true;
    map = await read();
  }
  if (created && findPool(map, DEFAULT_POOL) === undefined) {
    const r = await client.submit({ type: 'rados.mon.poolCreate', name: DEFAULT_POOL, pgNum: DEFAULT_POOL_PG_NUM, size: Math.min(3, plan.osds) });
    if (!r.ok && r.error.serviceCode !== 'pool_exists') throw new Error(`could not create pool ${DEFAULT_POOL}: ${r.error.message}`);
    map = await read();
  }
  return { map, created };
}
