/**
 * The whole GFS cell of the fault-injection suite: a primary master with a master replica (both
 * logging to simulated disks, ¶47–51, ¶118) and a shadow (¶120–121); 5 to 8 real chunkservers on
 * 2 or 3 racks, each on its own simulated disk; clients on nodes of their own. Every durable thing
 * lives outside the nodes' boot functions, so a crash (`SimDisk.crash()`: unsynced writes lost,
 * the last one possibly torn, operations in flight lost) and a restart behave like a power cut and
 * a reboot. The disks take virtual time (an SSD by default, `disk-timing.ts`).
 *
 * Probes on the chunkservers record, in virtual time, each serial a primary assigns (checker d) and
 * each replica deleted (checker g).
 */
import type { ActorRef } from '../../../../src/index.js';
import { Simulation, SimDisk, simDisks, ssdTiming, type DiskTiming } from '../../../../src/testkit.js';
import { gfsMaster } from '../../../../src/actors/gfs/master/master.js';
import { DiskJournal } from '../../../../src/actors/gfs/master/disk-journal.js';
import { gfsChunkserver } from '../../../../src/actors/gfs/chunkserver/chunkserver.js';
import { GfsClient } from '../../../../src/actors/gfs/client/client.js';
import type { GfsConfig } from '../../../../src/actors/gfs/config.js';
import type { GfsResult } from '../../../../src/actors/gfs/errors.js';
import type { ChunkHandle, ClusterStatus, MasterMsg } from '../../../../src/actors/gfs/protocol.js';
import { chunkserverTestConfig, KiB } from '../chunkserver-cluster.js';

export const MASTER: ActorRef<MasterMsg> = { node: 'master', id: 'master' };
export const REPLICA: ActorRef<MasterMsg> = { node: 'replica', id: 'master' };
export const SHADOW: ActorRef<MasterMsg> = { node: 'shadow', id: 'master' };
export const MASTER_NODES = ['master', 'replica', 'shadow'] as const;

/**
 * Timing of the suite's cell: 64 KiB chunks (appends fill them), a 10 s lease with a 500 ms
 * skew margin at the master and 250 ms at the primary (clock skew is injected within these),
 * deleted files kept longer than any run (so the namespace checker never sees a reclaim).
 */
export const faultConfig: Partial<GfsConfig> = {
  ...chunkserverTestConfig,
  chunkSizeBytes: 64 * KiB,
  deletedRetentionMs: 24 * 3_600_000,
  checkpointEveryRecords: 200,
  scrubIdleAfterMs: 1_000,
  scrubRestMs: 1_000,
  scrubBandwidthBytesPerSecMax: 4 * 1024 * KiB,
  checkpointCheckIntervalMs: 2_000,
};

export interface FaultCellOptions {
  readonly seed: number;
  readonly servers: number;
  readonly racks: number;
  /** How long every disk takes (default `ssdTiming`). */
  readonly diskTiming?: DiskTiming | 'instant';
  /** A lying disk under every node (fsync does nothing): the mutation check. */
  readonly fsyncIsNoop?: boolean;
  readonly config?: Partial<GfsConfig>;
  /** The command that replays this run, printed with any failure. */
  readonly replay?: string;
}

export interface PrimaryAct {
  readonly at: number;
  readonly server: string;
  readonly handle: ChunkHandle;
  readonly version: number;
  readonly serial: number;
}

export interface ReplicaDeletion {
  readonly at: number;
  readonly server: string;
  readonly handle: ChunkHandle;
  /** The deleted replica's version. */
  readonly version: number;
  readonly why: 'master' | 'garbage';
}

export type FaultCell = ReturnType<typeof faultCell>;

export function faultCell(o: FaultCellOptions) {
  const sim = new Simulation({ seed: o.seed, network: { latencyMinMs: 0.2, latencyMaxMs: 2 }, logLimit: 2_000, traceLimit: 20_000, ...(o.replay === undefined ? {} : { replayHint: o.replay }) });
  const config: Partial<GfsConfig> = { ...faultConfig, ...o.config };
  // Every disk a modest SSD on virtual time (ssdTiming, the default with a scheduler).
  const newDisk = simDisks({ random: sim.random, scheduler: sim.scheduler(), timing: o.diskTiming ?? ssdTiming, ...(o.fsyncIsNoop === true ? { fsyncIsNoop: true } : {}) });
  const disks = new Map<string, SimDisk>();
  const acts: PrimaryAct[] = [];
  const deletions: ReplicaDeletion[] = [];
  /** Mutations each secondary applied (checker g: a replica that missed one at its version is stale). */
  const applied: PrimaryAct[] = [];
  const boots = new Map<string, number>();
  const booted = (node: string): number => {
    const n = boots.get(node) ?? 0;
    boots.set(node, n + 1);
    return n;
  };

  disks.set('master', newDisk('master'));
  disks.set('replica', newDisk('replica'));
  sim.addNode('master', (system) => {
    const journal = new DiskJournal(disks.get('master') as SimDisk, 'master');
    system.spawn(gfsMaster({ role: 'primary', journal, replicas: [REPLICA], followers: [SHADOW], config, afterRestart: booted('master') > 0 }), { name: 'master', reentrant: true, supervision: { strategy: 'stop' } });
  });
  sim.addNode('replica', (system) => {
    const journal = new DiskJournal(disks.get('replica') as SimDisk, 'master');
    system.spawn(gfsMaster({ role: 'replica', journal, primaryName: 'master@master', config }), { name: 'master', reentrant: true, supervision: { strategy: 'stop' } });
  });
  sim.addNode('shadow', (system) => {
    system.spawn(gfsMaster({ role: 'shadow', primaryName: 'master@master', config }), { name: 'master', reentrant: true });
  });

  const servers: string[] = [];
  const rackOf = new Map<string, string>();
  for (let i = 0; i < o.servers; i++) {
    const id = `cs${i}`;
    servers.push(id);
    rackOf.set(id, `rack${i % o.racks}`);
    disks.set(id, newDisk(id));
    sim.addNode(id, (system) => {
      system.spawn(
        gfsChunkserver({
          id,
          rack: rackOf.get(id) as string,
          host: `host-${id}`,
          masters: [MASTER, SHADOW],
          disk: disks.get(id) as SimDisk,
          dir: 'chunks',
          config,
          probe: {
            ordered: (e) => void acts.push({ at: sim.now, server: id, ...e }),
            deleted: (e) => void deletions.push({ at: sim.now, server: id, ...e }),
            applied: (e) => void applied.push({ at: sim.now, server: id, ...e }),
          },
        }),
        { name: 'chunkserver', reentrant: true, supervision: { strategy: 'stop' } },
      );
    });
  }

  const clientNodes: string[] = [];
  /**
   * A client on a node of its own. `primaryOnly`: namespace reads go to the primary master only —
   * a shadow may lag (¶120), so reads it serves are not part of the linearizable history.
   */
  function client(name: string, primaryOnly = false): GfsClient {
    const node = sim.addNode(name, () => {});
    clientNodes.push(name);
    return GfsClient.on(node.system, {
      masters: primaryOnly ? [MASTER] : [MASTER, SHADOW],
      clientId: name,
      host: `host-${name}`,
      rack: 'rack0',
      config,
      // Attempts bounded so an operation under faults ends (failed or ok) well within the run.
      retriesMax: 4,
    });
  }

  /** A power cut: the node's actors vanish and its disk keeps what a crash keeps. */
  function crash(node: string): void {
    sim.crash(node);
    const d = disks.get(node);
    if (d !== undefined) disks.set(node, d.crash());
  }

  function restart(node: string): void {
    if (!sim.node(node).alive) sim.restart(node);
  }

  const observer = sim.addNode('observer', () => {});
  /** Asks a master directly (the checkers' view, not a client's). */
  function ask<T>(msg: MasterMsg, to: ActorRef<MasterMsg> = MASTER, timeoutMs = 5_000): Promise<GfsResult<T>> {
    return observer.system.ask<GfsResult<T>>(to, msg, { timeoutMs }).catch((e: unknown) => ({ ok: false, error: { code: 'chunkserver_failed', message: `no answer: ${String(e)}` } }) as GfsResult<T>);
  }

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => sim.after(ms, resolve));
  }

  /** Runs until every chunkserver has joined the master. */
  async function start(): Promise<void> {
    await sim.run({ forMs: 1_000 });
    for (let i = 0; i < 100; i++) {
      const st = await sim.result(ask<ClusterStatus>({ type: 'gfs.master.status' }));
      if (st.ok && st.value.servers.filter((x) => x.alive).length === servers.length) return;
      await sim.run({ forMs: 200 });
    }
    sim.fail('chunkservers did not join the master');
  }

  return { sim, config, disks, servers, rackOf, clientNodes, acts, applied, deletions, client, crash, restart, ask, sleep, start, observer };
}
