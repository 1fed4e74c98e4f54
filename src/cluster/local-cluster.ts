import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import type { ActorRef } from '../runtime/ref.js';
import { deferMacrotask, realTimers } from '../runtime/node/env.js';
import { TroupeNode } from '../runtime/node/troupe-node.js';
import type { Logger } from '../runtime/log.js';
import { NodeDisk } from '../storage/node/node-disk.js';
import { withIoTimeout } from '../storage/timed-disk.js';
import { gfsMaster } from '../actors/gfs/master/master.js';
import { DiskJournal } from '../actors/gfs/master/disk-journal.js';
import { defaultGfsConfig, type GfsConfig } from '../actors/gfs/config.js';
import type { MasterMsg } from '../actors/gfs/protocol.js';
import { ClusterMetrics } from '../web/metrics.js';
import { startDashboard, type Dashboard } from '../web/server.js';
import { openDataDir, type DataDir } from './data-dir.js';
import type { ChunkserverRoleArgs } from './roles.js';

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
   * Port of the dashboard and `/metrics` (src/web/README.md), on `host`: default 7080, 0 picks a
   * free one, `false` serves no web endpoint.
   */
  readonly webPort?: number | false;
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
  close(): Promise<void>;
}

export const CLUSTER_NODE = 'troupe';
export const MASTER_REF: ActorRef<MasterMsg> = { node: CLUSTER_NODE, id: 'master' };
export const SHADOW_REF: ActorRef<MasterMsg> = { node: CLUSTER_NODE, id: 'master-shadow' };
const REPLICA_REF: ActorRef<MasterMsg> = { node: CLUSTER_NODE, id: 'master-replica' };

export async function startLocalCluster(o: LocalClusterOptions): Promise<LocalCluster> {
  const dataDir = resolve(o.dataDir);
  const data = await openDataDir(dataDir, { chunkSizeBytes: o.chunkSizeBytes ?? defaultGfsConfig.chunkSizeBytes });
  const config: Partial<GfsConfig> = { ...o.config, chunkSizeBytes: data.identity.chunkSizeBytes };
  const count = o.chunkservers ?? 4;
  const racks = o.racks ?? 2;
  const workers = Math.max(1, Math.min(o.workers ?? 2, count));
  const node = await TroupeNode.start({
    node: CLUSTER_NODE,
    workers,
    tcp: { cluster: data.identity.clusterId, secret: data.secret, listen: { host: o.host ?? '127.0.0.1', port: o.port ?? 7070 } },
    ...(o.logger === undefined ? {} : { system: { logger: o.logger } }),
  });
  const metrics = new ClusterMetrics();
  let dashboard: Dashboard | undefined;
  try {
    const disk = withIoTimeout(new NodeDisk(dataDir), realTimers, 30_000);
    const sys = node.system;
    sys.spawn(gfsMaster({ role: 'shadow', primaryName: 'master@troupe', config, onRequest: metrics.masterRequestHook('shadow') }), { name: SHADOW_REF.id, reentrant: true });
    sys.spawn(gfsMaster({ role: 'replica', journal: new DiskJournal(disk, 'master-replica', deferMacrotask), followers: [SHADOW_REF], primaryName: 'master@troupe', config, onRequest: metrics.masterRequestHook('replica') }), { name: REPLICA_REF.id, reentrant: true });
    sys.spawn(gfsMaster({ role: 'primary', journal: new DiskJournal(disk, 'master', deferMacrotask), replicas: [REPLICA_REF], config, afterRestart: !data.created, onRequest: metrics.masterRequestHook('primary') }), { name: MASTER_REF.id, reentrant: true });
    const module = new URL('./roles.js', import.meta.url).href;
    const chunkservers: { id: string; rack: string; worker: number; ref: ActorRef<unknown> }[] = [];
    for (let i = 0; i < count; i++) {
      const id = `cs${i}`;
      const rack = `rack${i % racks}`;
      const args: ChunkserverRoleArgs = { id, rack, host: hostname(), dir: join(dataDir, id), masters: [MASTER_REF, SHADOW_REF], config };
      const worker = i % workers;
      const ref = await node.spawn({ module, export: 'chunkserverRole', args }, { placement: { worker }, name: id, reentrant: true });
      chunkservers.push({ id, rack, worker, ref });
    }
    const address = node.address ?? { host: o.host ?? '127.0.0.1', port: o.port ?? 7070 };
    const webPort = o.webPort ?? 7080;
    if (webPort !== false) {
      dashboard = await startDashboard({
        system: sys,
        master: MASTER_REF,
        actors: [
          { ref: MASTER_REF, role: 'primary' },
          { ref: REPLICA_REF, role: 'replica' },
          { ref: SHADOW_REF, role: 'shadow' },
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
      await node.close();
    };
    return { node, data, master: MASTER_REF, shadow: SHADOW_REF, chunkservers, address, dashboardUrl: web?.url, metrics, close };
  } catch (err) {
    await dashboard?.close();
    await node.close();
    throw err;
  }
}
