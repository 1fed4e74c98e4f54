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
import { buildCrushMap, printCrushMap, type BucketSpec, type Rule } from '../actors/rados/crush/index.js';
import { crushMapOf, findPool } from '../actors/rados/osdmap/osd-map.js';
import type { OsdRoleArgs } from './roles.js';
import type { ObjectStoreConfig } from '../storage/config.js';

/**
 * The Ceph-style part of the one-node cluster (`troupe up --system ceph`): three monitors on the
 * main thread, each logging the OSD map's Paxos state under `<data-dir>/ceph/mon<rank>`, and N
 * OSDs on worker threads, each with an object store under `<data-dir>/ceph/osd<id>` (the data path:
 * replication, PG logs, ack/commit). A new cluster gets a CRUSH hierarchy of one host per OSD spread over racks and the default
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
  /** Each OSD's object store settings (default: the store's own). */
  readonly storeConfig?: Partial<ObjectStoreConfig>;
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
  const crush = simpleCrushText({ osds: plan.osds, osdsPerHost: 1, hostsPerRack: Math.max(1, Math.ceil(plan.osds / plan.racks)) }, 'host');
  const ready = await bootstrapMap(client, crush, Math.min(3, plan.osds));
  const count = ready.map.osds.length;
  const hostsPerRack = Math.max(1, Math.ceil(plan.osds / plan.racks));
  const module = new URL('./roles.js', import.meta.url).href;
  const osds: Array<CephRoles['osds'][number]> = [];
  for (let id = 0; id < count; id++) {
    const worker = id % Math.max(1, plan.workers);
    const args: OsdRoleArgs = { id, monitors, dir: join(dataDir, 'ceph', `osd${id}`), ...(plan.storeConfig === undefined ? {} : { storeConfig: plan.storeConfig }) };
    const ref = (await node.spawn({ module, export: 'osdRole', args }, { placement: { worker }, name: `osd${id}` })) as ActorRef<OsdMsg>;
    osds.push({ id, rack: `rack${Math.floor(id / hostsPerRack)}`, worker, ref });
  }
  return { monitors, osds, map: ready.map, created: ready.created };
}

/** A monitor client for admin tools: generous retries, since a fresh or restarted cluster elects first. */
export function adminMonitorClient(ask: ConstructorParameters<typeof MonitorClient>[0]['ask'], monitors: readonly ActorRef<MonitorMsg>[], timeoutMs = 3_000): MonitorClient {
  return new MonitorClient({ ask, monitors, timeoutMs, attemptsMax: 10 * monitors.length, sleep: (ms) => new Promise((resolve) => realTimers.after(ms, resolve)), backoffMs: 1_000 });
}

/**
 * A CRUSH map for OSDs placed on named hosts in named racks (a multi-host spec): root `default` →
 * racks → hosts → OSDs, rule 0 placing replicas on distinct hosts (Ceph text syntax).
 */
export function crushTextFor(osds: readonly { readonly id: number; readonly host: string; readonly rack: string }[]): string {
  const devices = osds.map((o) => ({ id: o.id, name: `osd.${o.id}` }));
  const buckets: BucketSpec[] = [];
  let nextId = -2;
  const hostIds = new Map<string, number>();
  const racks = new Map<string, string[]>();
  for (const o of osds) {
    if (!hostIds.has(o.host)) {
      hostIds.set(o.host, nextId--);
      racks.set(o.rack, [...(racks.get(o.rack) ?? []), o.host]);
    }
  }
  for (const [host, id] of hostIds) buckets.push({ id, name: host, type: 1, alg: 'straw2', items: osds.filter((o) => o.host === host).map((o) => o.id) });
  const rackIds: number[] = [];
  for (const [rack, hosts] of racks) {
    const id = nextId--;
    rackIds.push(id);
    buckets.push({ id, name: `rack-${rack}`, type: 2, alg: 'straw2', items: hosts.map((h) => hostIds.get(h) as number) });
  }
  buckets.push({ id: -1, name: 'default', type: 3, alg: 'straw2', items: rackIds });
  const rule: Rule = { id: 0, name: 'replicated_rule', type: 'replicated', minSize: 1, maxSize: 10, steps: [{ op: 'take', item: -1 }, { op: 'choose', leaf: true, mode: 'firstn', num: 0, type: 1 }, { op: 'emit' }] };
  const types = [
    { id: 0, name: 'osd' },
    { id: 1, name: 'host' },
    { id: 2, name: 'rack' },
    { id: 3, name: 'root' },
  ];
  return printCrushMap(buildCrushMap({ devices, types, buckets, rules: [rule] }));
}

/** Sets the CRUSH map and creates the default pool when the map has no hierarchy yet; returns the map. */
export async function bootstrapMap(client: MonitorClient, crush: string, poolSize: number): Promise<{ map: OsdMap; created: boolean }> {
  const read = async (): Promise<OsdMap> => {
    const r = await client.read<OsdMap>();
    if (!r.ok || r.value.state === undefined) throw new Error(`the monitors did not form a quorum: ${r.ok ? 'no state' : r.error.message}`);
    return r.value.state;
  };
  let map = await read();
  let created = false;
  if (crushMapOf(map) === null) {
    const r = await client.submit({ type: 'rados.mon.setCrush', crush });
    if (!r.ok && r.error.serviceCode !== 'no_change') throw new Error(`could not set the CRUSH map: ${r.error.message}`);
    created = true;
    map = await read();
  }
  // Only a map that never had a pool gets the default one (an admin may delete it later; it is
  // not brought back). Not "only when this call set the CRUSH map": a bootstrap cut short between
  // the two commands (its host stopped) must still create the pool when it runs again.
  if (map.poolIdMax === 0 && findPool(map, DEFAULT_POOL) === undefined) {
    const r = await client.submit({ type: 'rados.mon.poolCreate', name: DEFAULT_POOL, pgNum: DEFAULT_POOL_PG_NUM, size: poolSize });
    if (!r.ok && r.error.serviceCode !== 'pool_exists') throw new Error(`could not create pool ${DEFAULT_POOL}: ${r.error.message}`);
    map = await read();
  }
  return { map, created };
}

/**
 * This host's Ceph-style roles in a multi-host spec: its monitor (rank from the spec, Paxos log in
 * `<dataDir>/ceph`) and its OSDs on worker threads. Every monitor's host sets the first CRUSH map
 * (hosts = spec nodes, racks = their `rack`) and the default pool, in the background, once a
 * quorum stands; the first to get there does it, the others find it done.
 */
export async function startSpecCephRoles(
  node: TroupeNode,
  name: string,
  dataDir: string,
  layout: { monitors: ReadonlyArray<{ node: string; id: string }>; osds: ReadonlyArray<{ id: number; node: string; rack: string }> },
  mine: ReadonlyArray<{ id: number }>,
  workers: number,
  log: { readonly cluster: string },
): Promise<void> {
  const monitors = layout.monitors as ActorRef<MonitorMsg>[];
  const rank = monitors.findIndex((m) => m.node === name);
  if (rank >= 0) {
    const disk = withIoTimeout(new NodeDisk(join(dataDir, 'ceph')), realTimers, 30_000);
    node.system.spawn(osdMonitor({ rank, monitors, store: new DiskMonitorStore(disk, `mon${rank}`, deferMacrotask) }), { name: `mon${rank}` });
    // Every monitor's host bootstraps (idempotent: the same CRUSH map again is no_change, the pool
    // is created once), so the cluster gets its map even when one host stops before it is done.
    const crush = crushTextFor(layout.osds.map((o) => ({ id: o.id, host: o.node, rack: o.rack })));
    const client = adminMonitorClient(node.system.ask.bind(node.system), monitors);
    void bootstrapMap(client, crush, Math.min(3, new Set(layout.osds.map((o) => o.node)).size)).catch((err: unknown) => {
      process.stderr.write(`troupe: cluster ${log.cluster}: could not bootstrap the OSD map yet (${String(err)}); restart this node once a monitor quorum can form\n`);
    });
  }
  const module = new URL('./roles.js', import.meta.url).href;
  for (const [i, o] of mine.entries()) {
    const args: OsdRoleArgs = { id: o.id, monitors, dir: join(dataDir, 'ceph', `osd${o.id}`) };
    await node.spawn({ module, export: 'osdRole', args }, { placement: { worker: i % Math.max(1, workers) }, name: `osd${o.id}` });
  }
}
