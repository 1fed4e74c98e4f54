import type { ActorRef } from '../../../src/index.js';
import { Simulation, SimulationError } from '../../../src/testkit.js';
import { gfsMaster } from '../../../src/actors/gfs/master/master.js';
import { MemoryJournal } from '../../../src/actors/gfs/master/journal.js';
import type { GfsConfig } from '../../../src/actors/gfs/config.js';
import type { GfsResult } from '../../../src/actors/gfs/errors.js';
import type { MasterMsg } from '../../../src/actors/gfs/protocol.js';
import { DiskJournal } from '../../../src/actors/gfs/master/disk-journal.js';
import type { Journal } from '../../../src/actors/gfs/master/journal.js';
import { SimDisk } from '../../../src/storage/sim/sim-disk.js';
import { fakeChunkserver, type CloneStats, type FakeDisk, type LeaseRecord } from './fake-chunkserver.js';

export const MASTER: ActorRef<MasterMsg> = { node: 'master', id: 'master' };
export const REPLICA: ActorRef<MasterMsg> = { node: 'replica', id: 'master' };
export const SHADOW: ActorRef<MasterMsg> = { node: 'shadow', id: 'master' };

export const testConfig: Partial<GfsConfig> = {
  leaseDurationMs: 10_000,
  leaseSkewMarginMs: 500,
  heartbeatIntervalMs: 500,
  chunkserverTimeoutMs: 2_000,
  replicationScanIntervalMs: 500,
  gcScanIntervalMs: 1_000,
  deletedRetentionMs: 30_000,
  rpcTimeoutMs: 1_000,
  mutationOrderTimeoutMs: 200,
  shadowReportIntervalMs: 1_000,
};

export interface ClusterOptions {
  readonly seed: number;
  readonly servers?: number;
  readonly racks?: number;
  readonly replica?: boolean;
  readonly shadow?: boolean;
  readonly config?: Partial<GfsConfig>;
  readonly cloneMs?: number;
  /** Keep the primary's log on a simulated disk (crashes lose unsynced writes) instead of in memory. */
  readonly diskJournal?: boolean;
}

/** A simulated GFS master (with optional replica and shadow) and fake chunkservers on 2–3 racks. */
export function gfsCluster(o: ClusterOptions) {
  const sim = new Simulation({ seed: o.seed, network: { latencyMinMs: 0.2, latencyMaxMs: 2 } });
  const config = { ...testConfig, ...o.config };
  const journal = new MemoryJournal();
  const replicaJournal = new MemoryJournal();
  const leases: LeaseRecord[] = [];
  const clones: CloneStats = { running: 0, maxRunningPerServer: new Map(), started: 0, startedAt: [] };
  const disks = new Map<string, FakeDisk>();
  const masters = [MASTER, ...(o.shadow === true ? [SHADOW] : [])];
  let restarts = 0;
  let masterDisk = new SimDisk({ random: sim.random.fork('master-disk') });
  const masterJournal = (): Journal => (o.diskJournal === true ? new DiskJournal(masterDisk, 'master') : journal);
  sim.addNode('master', (system) => {
    system.spawn(
      gfsMaster({
        role: 'primary',
        journal: masterJournal(),
        replicas: o.replica === true ? [REPLICA] : [],
        followers: o.shadow === true && o.replica !== true ? [SHADOW] : [],
        config,
        afterRestart: restarts++ > 0,
      }),
      { name: 'master', reentrant: true, supervision: { strategy: 'stop' } },
    );
  });
  if (o.replica === true) {
    sim.addNode('replica', (system) => {
      system.spawn(gfsMaster({ role: 'replica', journal: replicaJournal, followers: o.shadow === true ? [SHADOW] : [], primaryName: 'master@master', config }), { name: 'master', reentrant: true });
    });
  }
  if (o.shadow === true) {
    sim.addNode('shadow', (system) => {
      system.spawn(gfsMaster({ role: 'shadow', primaryName: 'master@master', config }), { name: 'master', reentrant: true });
    });
  }
  const servers: string[] = [];
  const n = o.servers ?? 5;
  for (let i = 0; i < n; i++) {
    const id = `cs${i}`;
    servers.push(id);
    const disk: FakeDisk = { chunks: new Map() };
    disks.set(id, disk);
    sim.addNode(id, (system) => {
      system.spawn(
        fakeChunkserver({ id, rack: `rack${i % (o.racks ?? 3)}`, host: `host-${id}`, masters, disk, leases, clones, heartbeatMs: config.heartbeatIntervalMs ?? 500, now: () => sim.now, cloneMs: o.cloneMs ?? 50 }),
        { name: 'chunkserver', reentrant: true },
      );
    });
  }
  const client = sim.addNode('client', () => {});

  /** Crashes the master node (a power cut for its disk: unsynced log writes may be lost or torn). */
  function crashMaster(): void {
    sim.crash('master');
    masterDisk = masterDisk.crash();
  }
  /** Sends a request to a master and runs the simulation until it answers. */
  async function call<T>(msg: MasterMsg, to: ActorRef<MasterMsg> = MASTER): Promise<GfsResult<T>> {
    return sim.result(client.system.ask<GfsResult<T>>(to, msg, { timeoutMs: 30_000 }));
  }
  /** Like `call`, but a request lost with a crashed master gives undefined. */
  async function attempt<T>(msg: MasterMsg, to: ActorRef<MasterMsg> = MASTER): Promise<GfsResult<T> | undefined> {
    return sim.result(client.system.ask<GfsResult<T>>(to, msg, { timeoutMs: 30_000 })).catch(() => undefined);
  }
  /** Like `call`, but the request must succeed. */
  async function must<T>(msg: MasterMsg, to: ActorRef<MasterMsg> = MASTER): Promise<T> {
    const r = await call<T>(msg, to);
    if (!r.ok) throw new SimulationError(`${msg.type} failed: ${r.error.code}: ${r.error.message}`, sim.seed, sim.replayCommand);
    return r.value;
  }
  return { sim, crashMaster, journal, replicaJournal, leases, clones, disks, servers, client, call, attempt, must, config };
}
