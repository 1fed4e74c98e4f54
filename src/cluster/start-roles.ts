import { join } from 'node:path';
import type { ActorSystem } from '../runtime/system.js';
import type { ActorRef } from '../runtime/ref.js';
import { deferMacrotask, realTimers } from '../runtime/node/env.js';
import type { TroupeNode } from '../runtime/node/troupe-node.js';
import { NodeDisk } from '../storage/node/node-disk.js';
import { withIoTimeout } from '../storage/timed-disk.js';
import { gfsMaster } from '../actors/gfs/master/master.js';
import { DiskJournal } from '../actors/gfs/master/disk-journal.js';
import type { GfsConfig } from '../actors/gfs/config.js';
import type { MasterMsg } from '../actors/gfs/protocol.js';
import type { ChunkserverRoleArgs } from './roles.js';
import type { ManagedServer } from './admin.js';

/** Actor names of the master roles on whatever node hosts them. */
export const MASTER_ID = 'master';
export const REPLICA_ID = 'master-replica';
export const SHADOW_ID = 'master-shadow';

export function masterRef(node: string): ActorRef<MasterMsg> {
  return { node, id: MASTER_ID };
}
export function replicaRef(node: string): ActorRef<MasterMsg> {
  return { node, id: REPLICA_ID };
}
export function shadowRef(node: string): ActorRef<MasterMsg> {
  return { node, id: SHADOW_ID };
}

/** Where the master roles of a cluster live, by node. */
export interface MasterLayout {
  readonly primary: string;
  readonly replicas: readonly string[];
  readonly shadows: readonly string[];
}

/**
 * Starts this node's master roles (patent ¶48, ¶118–121): a replica's journal in
 * `<dataDir>/master-replica`, the primary's in `<dataDir>/master`; the primary commits to every
 * replica; replicas pass the log on to the shadows.
 */
export function startMasterRoles(sys: ActorSystem, here: { readonly node: string; readonly dataDir: string; readonly roles: ReadonlySet<'master' | 'master-replica' | 'shadow-master'> }, layout: MasterLayout, config: Partial<GfsConfig>, afterRestart: boolean): void {
  const disk = withIoTimeout(new NodeDisk(here.dataDir), realTimers, 30_000);
  const primaryName = `${MASTER_ID}@${layout.primary}`;
  const shadows = layout.shadows.map(shadowRef);
  if (here.roles.has('shadow-master')) sys.spawn(gfsMaster({ role: 'shadow', primaryName, config }), { name: SHADOW_ID, reentrant: true });
  if (here.roles.has('master-replica')) {
    sys.spawn(gfsMaster({ role: 'replica', journal: new DiskJournal(disk, 'master-replica', deferMacrotask), followers: shadows, primaryName, config }), { name: REPLICA_ID, reentrant: true });
  }
  if (here.roles.has('master')) {
    // Without replicas, the primary tells the shadows itself.
    sys.spawn(
      gfsMaster({ role: 'primary', journal: new DiskJournal(disk, 'master', deferMacrotask), replicas: layout.replicas.map(replicaRef), followers: layout.replicas.length === 0 ? shadows : [], config, afterRestart }),
      { name: MASTER_ID, reentrant: true },
    );
  }
}

export interface ChunkserverPlan {
  readonly id: string;
  readonly rack: string;
  readonly host: string;
  readonly dir: string;
  readonly worker: number;
}

/** Starts chunkservers on this node's worker threads, each on its own directory. */
export async function startChunkservers(node: TroupeNode, plans: readonly ChunkserverPlan[], layout: MasterLayout, config: Partial<GfsConfig>): Promise<Map<string, ManagedServer>> {
  const module = new URL('./roles.js', import.meta.url).href;
  const masters = [masterRef(layout.primary), ...layout.shadows.map(shadowRef)];
  const managed = new Map<string, ManagedServer>();
  for (const p of plans) {
    const args: ChunkserverRoleArgs = { id: p.id, rack: p.rack, host: p.host, dir: p.dir, masters, config };
    const spec = { module, export: 'chunkserverRole', args };
    const ref = await node.spawn(spec, { placement: { worker: p.worker }, name: p.id, reentrant: true });
    managed.set(p.id, { id: p.id, spec, worker: p.worker, ref });
  }
  return managed;
}

export function chunkserverDir(dataDir: string, id: string): string {
  return join(dataDir, id);
}
