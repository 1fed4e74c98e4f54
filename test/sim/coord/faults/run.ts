/**
 * One seeded run of a scenario: build the ensemble, let it elect, play the fault schedule while the
 * clients work, undo every fault, wait until the ensemble is quiet (one leader, every server
 * following it at the same applied zxid), then collect what the checkers need into a plain
 * `RunRecord`. The checkers (checkers.ts) are pure functions of it, so a planted violation is a
 * small edit of a copy.
 */
import { seededRandom } from '../../../../src/runtime/random.js';
import type { ZabConfig } from '../../../../src/actors/coord/zab/config.js';
import type { Zxid } from '../../../../src/actors/coord/zab/zxid.js';
import { ensemble, type LifeEvent } from '../zab/ensemble.js';
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
  /** Each server's state machine image when quiet (hex). */
  readonly images: ReadonlyMap<number, string>;
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
  const e = ensemble({ seed, servers, ...(o.fsyncIsNoop === true ? { fsyncIsNoop: true } : {}), ...(o.logFsyncIsNoop === true ? { logFsyncIsNoop: true } : {}), ...(o.unsyncedOnCrash === undefined ? {} : { unsyncedOnCrash: o.unsyncedOnCrash }), ...(o.replay === undefined ? {} : { replay: o.replay }), ...(o.config === undefined ? {} : { config: o.config }) });
  const { sim } = e;
  const schedule = [...drawSchedule(s, sim.random.fork('schedule')), ...(o.extraEvents ?? [])].sort((a, b) => a.at - b.at);
  let faultsEndedAt = 0;
  let quiet: { leader: number; zxid: Zxid } | undefined;
  let ops: ClientOp[] = [];
  let player: ReturnType<typeof playSchedule> | undefined;
  const images = new Map<number, string>();
  await sim.result(
    (async () => {
      await e.quiet(10_000);
      const workload = startWorkload(e, sim.random.fork('workload'), { clients, untilMs: s.windowMs + 1_500 });
      ops = workload.ops;
      player = playSchedule(e, schedule, sim.random.fork('faults'));
      await player.play();
      if (sim.now < s.windowMs + 500) await e.sleep(s.windowMs + 500 - sim.now);
      await player.stop();
      faultsEndedAt = sim.now;
      await workload.done;
      quiet = await e.quiet(QUIET_BOUND_MS);
      if (quiet !== undefined) for (const id of e.ids) images.set(id, Buffer.from(e.machines.get(id)!.snapshot()).toString('hex'));
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
    simulatedMs: sim.now,
    traceHash: sim.traceHash(),
  };
}
