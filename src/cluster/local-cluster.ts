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
import { openDataDir, type DataDir } from './data-dir.js';
import type { ChunkserverRoleArgs } from './roles.js';
import { ADMIN_ACTOR, adminActor, type ManagedServer } from './admin.js';

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
}

export interface LocalCluster {
  readonly node: TroupeNode;
  readonly data: DataDir;
  readonly master: ActorRef<MasterMsg>;
  readonly shadow: ActorRef<MasterMsg>;
  readonly chunkservers: readonly { readonly id: string; readonly rack: string; readonly worker: number; readonly ref: ActorRef<unknown> }[];
  readonly address: { readonly host: string; readonly port: number };
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
  try {
    const disk = withIoTimeout(new NodeDisk(dataDir), realTimers, 30_000);
    const sys = node.system;
    sys.spawn(gfsMaster({ role: 'shadow', primaryName: 'master@troupe', config }), { name: SHADOW_REF.id, reentrant: true });
    sys.spawn(gfsMaster({ role: 'replica', journal: new DiskJournal(disk, 'master-replica', deferMacrotask), followers: [SHADOW_REF], primaryName: 'master@troupe', config }), { name: REPLICA_REF.id, reentrant: true });
    sys.spawn(gfsMaster({ role: 'primary', journal: new DiskJournal(disk, 'master', deferMacrotask), replicas: [REPLICA_REF], config, afterRestart: !data.created }), { name: MASTER_REF.id, reentrant: true });
    const module = new URL('./roles.js', import.meta.url).href;
    const chunkservers: { id: string; rack: string; worker: number; ref: ActorRef<unknown> }[] = [];
    const managed = new Map<string, ManagedServer>();
    for (let i = 0; i < count; i++) {
      const id = `cs${i}`;
      const rack = `rack${i % racks}`;
      const args: ChunkserverRoleArgs = { id, rack, host: hostname(), dir: join(dataDir, id), masters: [MASTER_REF, SHADOW_REF], config };
      const worker = i % workers;
      const spec = { module, export: 'chunkserverRole', args };
      const ref = await node.spawn(spec, { placement: { worker }, name: id, reentrant: true });
      chunkservers.push({ id, rack, worker, ref });
      managed.set(id, { id, spec, worker, ref });
    }
    sys.spawn(adminActor(node, managed), { name: ADMIN_ACTOR, reentrant: true });
    const address = node.address ?? { host: o.host ?? '127.0.0.1', port: o.port ?? 7070 };
    return { node, data, master: MASTER_REF, shadow: SHADOW_REF, chunkservers, address, close: () => node.close() };
  } catch (err) {
    await node.close();
    throw err;
  }
}
