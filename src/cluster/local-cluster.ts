import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import type { ActorRef } from '../runtime/ref.js';
import { TroupeNode } from '../runtime/node/troupe-node.js';
import type { Logger } from '../runtime/log.js';
import type { FileLogOptions } from '../runtime/node/file-log.js';
import { defaultGfsConfig, type GfsConfig } from '../actors/gfs/config.js';
import type { MasterMsg } from '../actors/gfs/protocol.js';
import { ClusterMetrics } from '../web/metrics.js';
import { startDashboard, type Dashboard } from '../web/server.js';
import { coordSourcesOf } from '../web/coord-watch.js';
import { openDataDir, type DataDir } from './data-dir.js';
import { startCephRoles, type CephRoles } from './ceph-cluster.js';
import type { ObjectStoreConfig } from '../storage/config.js';
import { startCoordEnsemble, type CoordEnsembleHandle } from '../actors/coord/node/ensemble.js';
import { ADMIN_ACTOR, adminActor, type ManagedServer } from './admin.js';
import { chunkserverDir, masterRef, replicaRef, shadowRef, startChunkservers, startMasterRoles, type ChunkserverPlan, type MasterLayout } from './start-roles.js';

/**
 * The one-node cluster of `troupe up` / `npm start` (DESIGN.md §8): one process hosting the GFS
 * master, a master replica (the master commits nothing it has not also logged there, patent ¶48),
 * a shadow master (read-only, ¶120) and `chunkservers` chunkservers spread over the worker
 * threads, each with its own directory under the data directory and a rack label; clients reach
 * it over the authenticated TCP transport.
 */
export interface LocalClusterOptions {
  readonly dataDir: string;
  readonly chunkservers?: number;
  readonly racks?: number;
  /** TCP listen address for clients (default 127.0.0.1:7070). */
  readonly host?: string;
  readonly port?: number;
  /** Worker threads for the chunkservers (default: min(cores, chunkservers)). */
  readonly workers?: number;
  /** Only used when the cluster is created; an existing cluster keeps its chunk size. */
  readonly chunkSizeBytes?: number;
  readonly config?: Partial<GfsConfig>;
  readonly logger?: Logger;
  /**
   * Log to files under `<dataDir>/logs` (README: Logs and tracing): `troupe.log` and
   * `rpc-troupe.log` for the main thread, `troupe-w<i>.log` and `rpc-troupe-w<i>.log` for each
   * worker thread. Replaces `logger`.
   */
  readonly log?: Omit<FileLogOptions, 'dir'>;
  /**
   * Port of the dashboard and `/metrics` (src/web/README.md), on `host`: default 7080, 0 picks a
   * free one, `false` serves no web endpoint.
   */
  readonly webPort?: number | false;
  /**
   * Caps what each thread of the cluster (the masters' thread, each chunkserver worker) sends to
   * other threads and hosts, bytes per second, like a network interface of that speed per thread
   * (`TroupeNodeOptions.egressBytesPerSecMax`). Default: no cap.
   */
  readonly egressBytesPerSecMax?: number;
  /** Run the GFS roles (default true; `troupe up --system ceph` turns them off). */
  readonly gfs?: boolean;
  /** Also run a Ceph-style cluster (monitors and OSDs; `ceph-cluster.ts`) in this process. */
  readonly ceph?: { readonly osds: number; readonly racks?: number; readonly storeConfig?: Partial<ObjectStoreConfig> };
  /** Also run the coordination service: a 3-server Zab ensemble with ZooKeeper client ports (`startCoordEnsemble`; data in `<dataDir>/coord/zk<i>`). */
  readonly coord?: { readonly servers?: number; readonly basePort?: number };
}

export interface LocalCluster {
  readonly node: TroupeNode;
  readonly data: DataDir;
  readonly master: ActorRef<MasterMsg>;
  readonly shadow: ActorRef<MasterMsg>;
  readonly chunkservers: readonly { readonly id: string; readonly rack: string; readonly worker: number; readonly ref: ActorRef<unknown> }[];
  readonly address: { readonly host: string; readonly port: number };
  /** The dashboard's base URL (`/metrics` beside it), unless started with `webPort: false`. */
  readonly dashboardUrl: string | undefined;
  /** The cluster's Prometheus registry, also served at `/metrics`. */
  readonly metrics: ClusterMetrics;
  /** The Ceph-style roles, when started with `ceph`. */
  readonly ceph: CephRoles | undefined;
  /** The coordination ensemble, when started with `coord`. */
  readonly coord: CoordEnsembleHandle | undefined;
  close(): Promise<void>;
}

export const CLUSTER_NODE = 'troupe';
export const MASTER_REF: ActorRef<MasterMsg> = masterRef(CLUSTER_NODE);
export const SHADOW_REF: ActorRef<MasterMsg> = shadowRef(CLUSTER_NODE);

/** Where a data directory's log files are. */
export function logDirOf(dataDir: string): string {
  return join(dataDir, 'logs');
}

export async function startLocalCluster(o: LocalClusterOptions): Promise<LocalCluster> {
  const dataDir = resolve(o.dataDir);
  const data = await openDataDir(dataDir, { chunkSizeBytes: o.chunkSizeBytes ?? defaultGfsConfig.chunkSizeBytes });
  const config: Partial<GfsConfig> = { ...o.config, chunkSizeBytes: data.identity.chunkSizeBytes };
  const count = o.chunkservers ?? 4;
  const racks = o.racks ?? 2;
  const gfs = o.gfs ?? true;
  const workers = Math.max(1, Math.min(o.workers ?? 2, Math.max(gfs ? count : 1, o.ceph?.osds ?? 1)));
  const node = await TroupeNode.start({
    node: CLUSTER_NODE,
    workers,
    tcp: { cluster: data.identity.clusterId, secret: data.secret, listen: { host: o.host ?? '127.0.0.1', port: o.port ?? 7070 } },
    ...(o.logger === undefined ? {} : { system: { logger: o.logger } }),
    ...(o.log === undefined ? {} : { log: { ...o.log, dir: logDirOf(dataDir) } }),
    ...(o.egressBytesPerSecMax === undefined ? {} : { egressBytesPerSecMax: o.egressBytesPerSecMax }),
  });
  const metrics = new ClusterMetrics();
  let dashboard: Dashboard | undefined;
  let coord: CoordEnsembleHandle | undefined;
  try {
    const sys = node.system;
    const layout: MasterLayout = { primary: CLUSTER_NODE, replicas: [CLUSTER_NODE], shadows: [CLUSTER_NODE] };
    if (gfs) startMasterRoles(node.system, { node: CLUSTER_NODE, dataDir, roles: new Set(['master', 'master-replica', 'shadow-master']) }, layout, config, !data.created, (role) => metrics.masterRequestHook(role));
    const plans: ChunkserverPlan[] = Array.from({ length: gfs ? count : 0 }, (_, i) => ({ id: `cs${i}`, rack: `rack${i % racks}`, host: hostname(), dir: chunkserverDir(dataDir, `cs${i}`), worker: i % workers }));
    const managed = await startChunkservers(node, plans, layout, config);
    node.system.spawn(adminActor(node, managed), { name: ADMIN_ACTOR, reentrant: true });
    const chunkservers = plans.map((p) => ({ id: p.id, rack: p.rack, worker: p.worker, ref: (managed.get(p.id) as ManagedServer).ref as ActorRef<unknown> }));
    const ceph = o.ceph === undefined ? undefined : await startCephRoles(node, dataDir, { osds: o.ceph.osds, racks: o.ceph.racks ?? racks, workers, ...(o.ceph.storeConfig === undefined ? {} : { storeConfig: o.ceph.storeConfig }) });
    coord = o.coord === undefined ? undefined : await startCoordEnsemble({ dataDir, node, host: o.host ?? '127.0.0.1', ...(o.coord.servers === undefined ? {} : { servers: o.coord.servers }), ...(o.coord.basePort === undefined ? {} : { basePort: o.coord.basePort }) });
    const address = node.address ?? { host: o.host ?? '127.0.0.1', port: o.port ?? 7070 };
    const webPort = o.webPort ?? 7080;
    if (webPort !== false) {
      dashboard = await startDashboard({
        system: sys,
        ...(gfs ? { master: MASTER_REF } : {}),
        ...(ceph === undefined ? {} : { cephMonitors: ceph.monitors }),
        ...(coord === undefined ? {} : { coordServers: coordSourcesOf(coord.connectString) }),
        actors: [
          ...(gfs
            ? [
                { ref: MASTER_REF as ActorRef<unknown>, role: 'primary' },
                { ref: replicaRef(CLUSTER_NODE) as ActorRef<unknown>, role: 'replica' },
                { ref: SHADOW_REF as ActorRef<unknown>, role: 'shadow' },
              ]
            : []),
          ...(ceph?.monitors.map((ref) => ({ ref: ref as ActorRef<unknown>, role: 'monitor' })) ?? []),
        ],
        pool: node.pool,
        chunkservers,
        metrics,
        host: o.host ?? '127.0.0.1',
        port: webPort,
        clusterName: data.identity.clusterId,
      });
    }
    const web = dashboard;
    const close = async (): Promise<void> => {
      await web?.close();
      await coord?.close();
      await node.close();
    };
    return { node, data, master: MASTER_REF, shadow: SHADOW_REF, chunkservers, address, dashboardUrl: web?.url, metrics, ceph, coord, close };
  } catch (err) {
    await dashboard?.close();
    await coord?.close();
    await node.close();
    throw err;
  }
}
