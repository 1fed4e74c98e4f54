/**
 * An ensemble in the simulator: servers `z1..zN` on nodes of their own, each with a simulated disk
 * that outlives its node (a crash is a power cut: `SimDisk.crash()` keeps what a crash keeps), and
 * clients on nodes of their own. Probes record, per server life, every transaction applied and
 * every state replaced by a snapshot (checker c).
 */
import type { ActorRef, ActorSystem } from '../../../../src/index.js';
import { Simulation, SimDisk, simDisks, ssdTiming, type DiskTiming } from '../../../../src/testkit.js';
import { zabServer } from '../../../../src/actors/coord/zab/server.js';
import type { ZabConfig } from '../../../../src/actors/coord/zab/config.js';
import type { ServerMsg, SubmitMsg, SubmitReply, ZabStatus, ZabTxn } from '../../../../src/actors/coord/zab/protocol.js';
import type { Zxid } from '../../../../src/actors/coord/zab/zxid.js';
import type { Disk, DiskFile } from '../../../../src/storage/disk.js';
import { KvMachine } from './kv-machine.js';
import type { ZabStateMachine } from '../../../../src/actors/coord/zab/state-machine.js';

/** A disk whose transaction-log files ignore fsync: what a crash keeps of them is left to chance. */
function lyingLog(disk: Disk): Disk {
  return {
    open: async (path, options) => {
      const f = await disk.open(path, options);
      if (!/\/log\./.test(path)) return f;
      const lying: DiskFile = {
        path: f.path,
        sizeBytes: () => f.sizeBytes(),
        read: (o, n) => f.read(o, n),
        readInto: (o, into) => f.readInto(o, into),
        write: (o, d) => f.write(o, d),
        append: (d) => f.append(d),
        truncate: (n) => f.truncate(n),
        fsync: async () => {},
        close: () => f.close(),
      };
      return lying;
    },
    stat: (p) => disk.stat(p),
    list: (d) => disk.list(d),
    rename: (a, b) => disk.rename(a, b),
    remove: (p, o) => disk.remove(p, o),
    freeSpaceBytes: () => disk.freeSpaceBytes(),
  };
}

/** Timing of the suite: a 100 ms tick, so failure detection (syncLimit) takes 0.5 s and a run sees many elections. */
export const ensembleConfig: Partial<ZabConfig> = {
  tickMs: 100,
  initLimitTicks: 10,
  syncLimitTicks: 5,
  requestTimeoutMs: 3_000,
  snapshotEveryTxns: 150,
  snapshotsRetained: 2,
  committedLogMax: 100,
  outstandingProposalsMax: 200,
  pendingRequestsMax: 500,
};

/** One event of a server's life as the probes saw it. */
export type LifeEvent =
  | { readonly kind: 'start'; readonly at: number; readonly snapshotZxid: Zxid; readonly logEntries: number; readonly tornBytes: number }
  | { readonly kind: 'restore'; readonly at: number; readonly zxid: Zxid }
  | { readonly kind: 'apply'; readonly at: number; readonly zxid: Zxid; readonly txn: ZabTxn; readonly probe?: unknown };

export interface EnsembleOptions {
  readonly seed: number;
  readonly servers: number;
  readonly diskTiming?: DiskTiming | 'instant';
  readonly fsyncIsNoop?: boolean;
  /** The mutation check: fsync of the transaction log does nothing (snapshots and epochs stay durable). */
  readonly logFsyncIsNoop?: boolean;
  /** What a crash keeps of unsynced writes: a random prefix, the last maybe torn (default), or nothing. */
  readonly unsyncedOnCrash?: 'prefix-torn' | 'drop';
  readonly config?: Partial<ZabConfig>;
  readonly replay?: string;
}

export type Ensemble = ReturnType<typeof build<ZabStateMachine>>;

/** The ensemble with another replicated state machine than the key-value one (the assembled coordination service's tests). */
export function ensembleOf<M extends ZabStateMachine>(o: EnsembleOptions, machine: (sim: Simulation, id: number) => M, serve?: ServeHook) {
  return build(o, machine, serve);
}

/**
 * Runs on each server node at every (re)start, before its Zab actor: spawns what serves clients
 * beside Zab (the coordination core) and returns the Zab hooks it needs.
 */
export type ServeHook = (sim: Simulation, id: number, system: ActorSystem, zab: ActorRef<ServerMsg>) => { readonly onTouch?: (sessions: readonly string[]) => void; readonly onRole?: (e: { readonly role: ZabStatus['role']; readonly serving: boolean }) => void; readonly probe?: (txn: ZabTxn) => unknown };

export function ensemble(o: EnsembleOptions) {
  return build(o, () => new KvMachine());
}

function build<M extends ZabStateMachine>(o: EnsembleOptions, newMachine: (sim: Simulation, id: number) => M, serve?: ServeHook) {
  const sim = new Simulation({ seed: o.seed, network: { latencyMinMs: 0.2, latencyMaxMs: 2 }, logLimit: 2_000, traceLimit: 20_000, ...(o.replay === undefined ? {} : { replayHint: o.replay }) });
  const config: Partial<ZabConfig> = { ...ensembleConfig, ...o.config };
  const newDisk = simDisks({ random: sim.random, scheduler: sim.scheduler(), timing: o.diskTiming ?? ssdTiming, ...(o.fsyncIsNoop === true ? { fsyncIsNoop: true } : {}), ...(o.unsyncedOnCrash === undefined ? {} : { unsyncedOnCrash: o.unsyncedOnCrash }) });
  const ids = Array.from({ length: o.servers }, (_, i) => i + 1);
  const nodeOf = (id: number): string => `z${id}`;
  const refs = new Map<number, ActorRef<ServerMsg>>(ids.map((id) => [id, { node: nodeOf(id), id: 'zab' }]));
  const disks = new Map<number, SimDisk>();
  const lives = new Map<number, LifeEvent[][]>();
  /** The state machine of each server's current life (the checkers compare them when quiet). */
  const machines = new Map<number, M>();

  for (const id of ids) {
    disks.set(id, newDisk(nodeOf(id)));
    lives.set(id, []);
    sim.addNode(nodeOf(id), (system) => {
      const life: LifeEvent[] = [];
      (lives.get(id) as LifeEvent[][]).push(life);
      const hooks = serve?.(sim, id, system, refs.get(id) as ActorRef<ServerMsg>) ?? {};
      system.spawn(
        zabServer({
          id,
          peers: refs,
          disk: o.logFsyncIsNoop === true ? lyingLog(disks.get(id) as SimDisk) : (disks.get(id) as SimDisk),
          dir: 'zab',
          config,
          stateMachine: () => {
            const m = newMachine(sim, id);
            machines.set(id, m);
            return m;
          },
          onRecovered: (e) => void life.push({ kind: 'start', at: sim.now, snapshotZxid: e.snapshotZxid, logEntries: e.logEntries, tornBytes: e.tornBytes }),
          onApply: (e) => {
            const probe = hooks.probe?.(e.txn);
            life.push({ kind: 'apply', at: sim.now, zxid: e.zxid, txn: e.txn, ...(probe === undefined ? {} : { probe }) });
          },
          onRestore: (e) => void life.push({ kind: 'restore', at: sim.now, zxid: e.zxid }),
          ...(hooks.onTouch === undefined ? {} : { onTouch: hooks.onTouch }),
          ...(hooks.onRole === undefined ? {} : { onRole: hooks.onRole }),
        }),
        { name: 'zab', supervision: { strategy: 'stop' } },
      );
    });
  }

  const clientNodes: string[] = [];
  function clientNode(name: string) {
    clientNodes.push(name);
    return sim.addNode(name, () => {});
  }

  /** A power cut of a server's node; its disk keeps what a crash keeps. */
  function crash(id: number): void {
    sim.crash(nodeOf(id));
    disks.set(id, (disks.get(id) as SimDisk).crash());
  }

  function restart(id: number): void {
    if (!sim.node(nodeOf(id)).alive) sim.restart(nodeOf(id));
  }

  const observer = sim.addNode('observer', () => {});

  async function status(id: number, timeoutMs = 1_000): Promise<ZabStatus | undefined> {
    if (!sim.node(nodeOf(id)).alive) return undefined;
    return observer.system.ask<ZabStatus>(refs.get(id) as ActorRef<ServerMsg>, { type: 'coord.zab.status' }, { timeoutMs }).catch(() => undefined);
  }

  function submit(from: ReturnType<typeof clientNode>, server: number, msg: SubmitMsg, timeoutMs = 5_000): Promise<SubmitReply> {
    return from.system.ask<SubmitReply>(refs.get(server) as ActorRef<ServerMsg>, msg, { timeoutMs });
  }

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => sim.after(ms, resolve));
  }

  /** Runs until one leader serves with every live server following it, all at the same applied zxid (or the bound passes). */
  async function quiet(boundMs: number): Promise<{ leader: number; zxid: Zxid } | undefined> {
    const end = sim.now + boundMs;
    while (sim.now < end) {
      const all = await Promise.all(ids.map((id) => status(id)));
      const live = all.filter((s): s is ZabStatus => s !== undefined);
      const leader = live.find((s) => s.role === 'leading' && s.serving);
      if (leader !== undefined && live.length === ids.length && live.every((s) => s.serving && s.leader === leader.id && s.appliedZxid === leader.appliedZxid && s.appliedZxid === leader.lastZxid && s.outstandingRequests === 0)) {
        return { leader: leader.id, zxid: leader.appliedZxid };
      }
      await sleep(200);
    }
    return undefined;
  }

  return { sim, ids, refs, nodeOf, disks, lives, machines, clientNode, clientNodes, crash, restart, status, submit, sleep, quiet, observer };
}
