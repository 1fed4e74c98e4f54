import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../runtime/log.js';
import type { FileLogOptions } from '../runtime/node/file-log.js';
import { TroupeNode } from '../runtime/node/troupe-node.js';
import type { GfsConfig } from '../actors/gfs/config.js';
import { ADMIN_ACTOR, adminActor } from './admin.js';
import { cephLayoutOf, coordLayoutOf, dataDirOf, layoutOf, SpecError, type ClusterSpec } from './spec.js';
import { startCoordEnsembleServer, coordEnsembleZabDefaults, type CoordEnsembleServer } from '../actors/coord/node/ensemble.js';
import { zabConfig } from '../actors/coord/zab/config.js';
import type { ServerMsg } from '../actors/coord/zab/protocol.js';
import type { ActorRef } from '../runtime/ref.js';
import { startSpecCephRoles } from './ceph-cluster.js';
import { chunkserverDir, startChunkservers, startMasterRoles, type ChunkserverPlan } from './start-roles.js';

/**
 * One host of a multi-host cluster (`troupe node --config FILE --name NAME`): a Troupe node that
 * listens where the spec says, knows every other node's address, and runs the roles the spec
 * gives it. Chunkservers run on worker threads, each on its own directory.
 */
export interface SpecNode {
  readonly node: TroupeNode;
  readonly dataDir: string;
  readonly roles: readonly string[];
  readonly chunkservers: readonly string[];
  /** This node's coordination server, when it has the `coord` role; `connectString` covers the whole ensemble. */
  readonly coord: { readonly server: CoordEnsembleServer; readonly connectString: string } | undefined;
  close(): Promise<void>;
}

export async function startSpecNode(spec: ClusterSpec, name: string, options: { secret: string; logger?: Logger; config?: Partial<GfsConfig>; /** Log to files under `<dataDir>/logs` (replaces `logger`). */ log?: Omit<FileLogOptions, 'dir'> }): Promise<SpecNode> {
  const me = spec.nodes[name];
  if (me === undefined) throw new SpecError(`no node "${name}" in the cluster spec (it names ${Object.keys(spec.nodes).join(', ')})`);
  const peers = Object.fromEntries(Object.entries(spec.nodes).filter(([n]) => n !== name).map(([n, s]) => [n, { host: s.host, port: s.port }]));
  const count = me.roles.includes('chunkserver') ? (me.chunkservers ?? 1) : 0;
  const ceph = cephLayoutOf(spec);
  const myOsds = ceph.osds.filter((o) => o.node === name);
  const threaded = Math.max(count, myOsds.length);
  const workers = threaded === 0 ? 0 : Math.max(1, Math.min(me.workers ?? 2, threaded));
  const dataDir = dataDirOf(spec, name);
  mkdirSync(dataDir, { recursive: true });
  const afterRestart = existsSync(join(dataDir, 'master'));
  const config: Partial<GfsConfig> = { ...options.config, ...(spec.chunkSizeBytes === undefined ? {} : { chunkSizeBytes: spec.chunkSizeBytes }) };
  const node = await TroupeNode.start({
    node: name,
    workers,
    tcp: { cluster: spec.cluster, secret: options.secret, listen: { host: me.listenHost ?? me.host, port: me.port }, peers },
    ...(options.logger === undefined ? {} : { system: { logger: options.logger } }),
    ...(options.log === undefined ? {} : { log: { ...options.log, dir: join(dataDir, 'logs') } }),
  });
  try {
    const layout = layoutOf(spec);
    const masterRoles = new Set(me.roles.filter((r): r is 'master' | 'master-replica' | 'shadow-master' => r === 'master' || r === 'master-replica' || r === 'shadow-master'));
    if (masterRoles.size > 0) startMasterRoles(node.system, { node: name, dataDir, roles: masterRoles }, layout, config, afterRestart);
    await startSpecCephRoles(node, name, dataDir, ceph, myOsds, workers, spec);
    const plans: ChunkserverPlan[] = Array.from({ length: count }, (_, i) => ({ id: `${name}-cs${i}`, rack: me.rack ?? name, host: me.host, dir: chunkserverDir(dataDir, `cs${i}`), worker: i % Math.max(1, workers) }));
    const managed = count === 0 ? new Map() : await startChunkservers(node, plans, layout, config);
    node.system.spawn(adminActor(node, managed), { name: ADMIN_ACTOR, reentrant: true });
    let coord: SpecNode['coord'];
    if (me.roles.includes('coord')) {
      const layout = coordLayoutOf(spec);
      const mine = layout.servers.find((x) => x.node === name);
      if (mine === undefined) throw new SpecError(`node "${name}" has the coord role but no coord server`);
      const peers = new Map<number, ActorRef<ServerMsg>>(layout.servers.map((x) => [x.id, { node: x.node, id: `zk${x.id}` }]));
      const server = await startCoordEnsembleServer({ id: mine.id, peers, node, dir: join(dataDir, 'coord', `zk${mine.id}`), host: me.listenHost ?? me.host, port: mine.zkPort, zab: zabConfig(coordEnsembleZabDefaults) });
      coord = { server, connectString: layout.connectString };
    }
    const server = coord?.server;
    return {
      node,
      dataDir,
      roles: me.roles,
      chunkservers: plans.map((p) => p.id),
      coord,
      close: async () => {
        await server?.stop();
        await node.close();
      },
    };
  } catch (err) {
    await node.close();
    throw err;
  }
}
