/**
 * One seeded run of a scenario: build the ensemble, let it elect, play the fault schedule while the
 * clients work, undo every fault, wait until the ensemble is quiet (one leader, every server
 * following it at the same applied zxid), then collect what the checkers need into a plain
 * `RunRecord`. The checkers (checkers.ts) are pure functions of it, so a planted violation is a
 * small edit of a copy.
 */
import type { DataTree } from '../../../../src/actors/coord/tree/data-tree.js';
import { seededRandom } from '../../../../src/runtime/random.js';
import type { ZabConfig } from '../../../../src/actors/coord/zab/config.js';
import type { Zxid } from '../../../../src/actors/coord/zab/zxid.js';
import { ensembleOf, type LifeEvent } from '../zab/ensemble.js';
import type { CoordServerMsg } from '../../../../src/actors/coord/protocol.js';
import type { ActorRef } from '../../../../src/index.js';
import { coordServing, setupTree, startCoordWorkload, type SessionStream } from './coord.js';
import { drawSchedule, playSchedule, type FaultCounts, type FaultEvent, type Scenario } from './schedule.js';
import { startWorkload, type ClientOp } from './workload.js';

export interface RunRecord {
  readonly scenario: string;
  readonly seed: number;
  readonly servers: number;
  readonly clients: number;
  readonly schedule: readonly FaultEvent[];
  readonly faults: FaultCounts;
  readonly ops: readonly ClientOp[];
  /** Per server, its lives in order, each the events its probes saw. */
  readonly lives: ReadonlyMap<number, readonly (readonly LifeEvent[])[]>;
  readonly faultsEndedAt: number;
  /** When the ensemble was quiet after the faults (undefined: not within the bound). */
  readonly quietAt: number | undefined;
  readonly quietZxid: Zxid | undefined;
  readonly quietBoundMs: number;
  /** Each server's key-value image when quiet (hex). */
  readonly images: ReadonlyMap<number, string>;
  /** Each server's znode tree and session table when quiet (normalized JSON). */
  readonly trees: ReadonlyMap<number, string>;
  /** Every coordination client session's trace (checkers d and e). */
  readonly streams: readonly SessionStream[];
  readonly simulatedMs: number;
  readonly traceHash: string;
}

export interface RunOptions {
  readonly fsyncIsNoop?: boolean;
  /** The mutation check: the transaction log's fsync does nothing. */
  readonly logFsyncIsNoop?: boolean;
  readonly unsyncedOnCrash?: 'prefix-torn' | 'drop';
  readonly extraEvents?: readonly FaultEvent[];
  readonly replay?: string;
  readonly config?: Partial<ZabConfig>;
}

const QUIET_BOUND_MS = 30_000;

export async function runScenario(s: Scenario, seed: number, o: RunOptions = {}): Promise<RunRecord> {
  const shape = seededRandom(seed).fork(`shape:${s.name}`);
  const servers = shape.pick([...s.servers]);
  const clients = servers === 3 ? 6 : 10;
  const coordClients = servers === 3 ? 3 : 4;
  const eo = { seed, servers, ...(o.fsyncIsNoop === true ? { fsyncIsNoop: true } : {}), ...(o.logFsyncIsNoop === true ? { logFsyncIsNoop: true } : {}), ...(o.unsyncedOnCrash === undefined ? {} : { unsyncedOnCrash: o.unsyncedOnCrash }), ...(o.replay === undefined ? {} : { replay: o.replay }), ...(o.config === undefined ? {} : { config: o.config }) };
  const serving = coordServing();
  const e = ensembleOf(eo, serving.machine, serving.serve);
  const { sim } = e;
  const coordRefs: ActorRef<CoordServerMsg>[] = e.ids.map((id) => ({ node: e.nodeOf(id), id: 'coord' }));
  let streams: SessionStream[] = [];
  const trees = new Map<number, string>();
  const schedule = [...drawSchedule(s, sim.random.fork('schedule')), ...(o.extraEvents ?? [])].sort((a, b) => a.at - b.at);
  let faultsEndedAt = 0;
  let quiet: { leader: number; zxid: Zxid } | undefined;
  let ops: ClientOp[] = [];
  let player: ReturnType<typeof playSchedule> | undefined;
  const images = new Map<number, string>();
  await sim.result(
    (async () => {
      await e.quiet(10_000);
      await setupTree(e.clientNode('setup').system, coordRefs);
      const coord = startCoordWorkload(sim, (name) => e.clientNode(name), sim.random.fork('coord'), { clients: coordClients, untilMs: s.windowMs + 1_500, servers: coordRefs });
      streams = coord.streams;
      const workload = startWorkload(e, sim.random.fork('workload'), { clients, untilMs: s.windowMs + 1_500 });
      ops = workload.ops;
      player = playSchedule(e, schedule, sim.random.fork('faults'));
      await player.play();
      if (sim.now < s.windowMs + 500) await e.sleep(s.windowMs + 500 - sim.now);
      await player.stop();
      faultsEndedAt = sim.now;
      await workload.done;
      await coord.done;
      quiet = await e.quiet(QUIET_BOUND_MS);
      if (quiet !== undefined) {
        for (const id of e.ids) {
          const m = e.machines.get(id)!;
          images.set(id, Buffer.from(m.kv.snapshot()).toString('hex'));
          trees.set(id, normalizedTree(m.coord.tree.tree));
        }
      }
    })(),
  );
  return {
    scenario: s.name,
    seed,
    servers,
    clients,
    schedule,
    faults: player!.counts,
    ops,
    lives: e.lives,
    faultsEndedAt,
    quietAt: quiet === undefined ? undefined : sim.now,
    quietZxid: quiet?.zxid,
    quietBoundMs: QUIET_BOUND_MS,
    images,
    trees,
    streams,
    simulatedMs: sim.now,
    traceHash: sim.traceHash(),
  };
}

/** The tree and sessions as data independent of insertion order (a server restored from a snapshot inserts in another order). */
export function normalizedTree(tree: DataTree): string {
  const snap = tree.serialize();
  const nodes = [...snap.nodes].sort((a, b) => (a.path < b.path ? -1 : 1)).map((n) => ({ ...n, data: n.data === null ? null : Buffer.from(n.data).toString('hex'), stat: { ...n.stat, ephemeralOwner: n.stat.ephemeralOwner.toString() } }));
  const sessions = [...snap.sessions].sort((a, b) => (a.sessionId < b.sessionId ? -1 : 1)).map((x) => ({ id: x.sessionId.toString(), t: x.timeoutMs, p: Buffer.from(x.passwd).toString('hex') }));
  return JSON.stringify({ lastZxid: snap.lastZxid, nodes, sessions });
}
