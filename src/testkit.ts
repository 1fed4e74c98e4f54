/**
 * `troupe/testkit`: test your own actors deterministically, the way Troupe tests its protocols.
 *
 * ```ts
 * const kit = createTestKit({ seed: 42 });
 * const counter = kit.spawn(counterBehavior);
 * kit.system.tell(counter, { type: 'inc' });
 * expect(await kit.ask(counter, { type: 'get' })).toBe(1);
 * await kit.advance(60_000); // a minute of virtual time, instantly
 * ```
 *
 * Everything runs on virtual time from one seed; a failure carries `SEED=<n>` and the command
 * that replays it.
 */
import type { ActorFactory, AskOptions, SpawnOptions } from './runtime/behavior.js';
import type { ActorInspection } from './runtime/cell.js';
import type { ActorRef } from './runtime/ref.js';
import { Simulation, SimulationError, type SimulationOptions } from './runtime/sim/simulation.js';
import type { ActorSystem } from './runtime/system.js';

export { Simulation, SimulationError } from './runtime/sim/simulation.js';
export type { NodeBoot, RunOptions, RunResult, SimNode, SimulationOptions, TraceEntry } from './runtime/sim/simulation.js';
export type { LinkConfig, NicConfig } from './runtime/sim/network.js';
export { SimDisk, simDisks } from './storage/sim/sim-disk.js';
export type { DiskScheduler, SimDiskDefaults, SimDiskFaultRecord, SimDiskFaults, SimDiskMemory, SimDiskOp, SimDiskOptions } from './storage/sim/sim-disk.js';
export { diskTimingPresets, sata7200Timing, ssdTiming } from './storage/sim/disk-timing.js';
export type { DiskTiming } from './storage/sim/disk-timing.js';
export { CrashPointDisk } from './storage/sim/crash-point-disk.js';
// Histories and a linearizability checker, for checking what clients saw against a sequential model.
export { History, HISTORY_OPS_MAX_DEFAULT } from './check/history.js';
export type { HistoryOp, HistoryOptions, OpStatus } from './check/history.js';
export { checkLinearizable, LINEARIZABILITY_STATES_MAX_DEFAULT } from './check/linearizability.js';
export type { LinearizabilityOptions, LinearizabilityResult, Model } from './check/linearizability.js';

export interface TestKitOptions extends Partial<SimulationOptions> {
  /** Node name of the test system. Default `test`. */
  readonly node?: string;
}

/** A message a probe received, with when and from whom. */
export interface Received<T = unknown> {
  readonly message: T;
  readonly from: ActorRef<unknown> | undefined;
  readonly time: number;
}

/** An actor that records what it receives, for asserting on what your actors send. */
export interface TestProbe<T = unknown> {
  readonly ref: ActorRef<T>;
  readonly received: Received<T>[];
  /** Runs the simulation until a matching message arrives (within `withinMs` of virtual time, default 10 s) and returns it, consuming it. */
  expectMessage(match?: (message: T) => boolean, withinMs?: number): Promise<T>;
  /** Runs for `forMs` of virtual time and checks that no message arrived. */
  expectNoMessage(forMs?: number): Promise<void>;
}

export interface TestKit {
  readonly sim: Simulation;
  readonly system: ActorSystem;
  spawn<M>(factory: ActorFactory<M>, options?: SpawnOptions): ActorRef<M>;
  /** Asks and runs the simulation until the answer (or the typed error) arrives. */
  ask<R = unknown, M = unknown>(to: ActorRef<M>, message: M, options?: AskOptions): Promise<R>;
  /** Advances virtual time by `ms`, running everything due. */
  advance(ms: number): Promise<void>;
  /** Runs until no actor is ready and nothing is due now (timers in the future stay pending). */
  settle(): Promise<void>;
  /** Mailbox, state, timers and children of an actor. */
  inspect(ref: ActorRef<unknown>): ActorInspection | undefined;
  /** The user messages queued for an actor, oldest first. */
  mailbox(ref: ActorRef<unknown>): unknown[];
  probe<T = unknown>(name?: string): TestProbe<T>;
}

/** A one-node simulated system for unit tests of actors. */
export function createTestKit(options: TestKitOptions = {}): TestKit {
  const sim = new Simulation({ seed: 1, failOnEscalation: false, ...options });
  const node = sim.addNode(options.node ?? 'test', () => {});
  const system = (): ActorSystem => node.system;
  let probes = 0;
  return {
    sim,
    get system() {
      return system();
    },
    spawn: (factory, spawnOptions) => system().spawn(factory, spawnOptions),
    ask: (to, message, askOptions) => sim.result(system().ask(to, message, askOptions)),
    advance: async (ms) => {
      await sim.run({ forMs: ms });
    },
    settle: async () => {
      await sim.run({ until: () => sim.isQuiet });
    },
    inspect: (ref) => system().inspect(ref),
    mailbox: (ref) => system().queuedMessages(ref),
    probe<T>(name?: string): TestProbe<T> {
      const received: Received<T>[] = [];
      const ref = system().spawn<T>(
        (ctx) => ({
          receive(message) {
            received.push({ message, from: ctx.sender, time: sim.now });
          },
        }),
        { name: name ?? `probe-${++probes}`, mailboxCapacity: 1_000_000 },
      );
      return {
        ref,
        received,
        async expectMessage(match, withinMs = 10_000) {
          const find = (): number => received.findIndex((r) => match === undefined || match(r.message));
          await sim.run({ forMs: withinMs, until: () => find() >= 0 });
          const i = find();
          if (i < 0) throw new SimulationError(`probe ${ref.id}: no matching message within ${withinMs} ms of virtual time`, sim.seed, sim.replayCommand);
          const [hit] = received.splice(i, 1);
          return (hit as Received<T>).message;
        },
        async expectNoMessage(forMs = 1_000) {
          const before = received.length;
          await sim.run({ forMs });
          if (received.length > before) throw new SimulationError(`probe ${ref.id}: unexpected message ${JSON.stringify(received[before]?.message)}`, sim.seed, sim.replayCommand);
        },
      };
    },
  };
}

/**
 * The seeds a simulated test should run: `defaults`, unless the environment asks otherwise —
 * `TROUPE_SEED` (or `SEED`) replays one seed; `TROUPE_SEEDS=N` runs N seeds (the defaults first,
 * then seeds derived from them). `npm run test:sim -- --seed S | --seeds N` sets these.
 */
export function simSeeds(defaults: readonly number[]): number[] {
  const one = process.env['TROUPE_SEED'] ?? process.env['SEED'];
  if (one !== undefined && one !== '') {
    const s = Number(one);
    if (!Number.isSafeInteger(s)) throw new RangeError(`SEED must be an integer, got '${one}'`);
    return [s];
  }
  const many = process.env['TROUPE_SEEDS'];
  if (many !== undefined && many !== '') {
    const n = Number(many);
    if (!(Number.isSafeInteger(n) && n > 0)) throw new RangeError(`TROUPE_SEEDS must be a positive integer, got '${many}'`);
    const out = defaults.slice(0, n);
    for (let i = out.length; i < n; i++) out.push(1_000_003 * (i + 1) + 7919 * i);
    return out;
  }
  return [...defaults];
}

/** Runs a seeded test body; a failure's message gains `SEED=<seed>` and the replay command. */
export async function withSeed<T>(seed: number, body: (seed: number) => Promise<T>, replay = `SEED=${seed} npm run test:sim`): Promise<T> {
  try {
    return await body(seed);
  } catch (err) {
    if (err instanceof SimulationError) throw err;
    const e = err instanceof Error ? err : new Error(String(err));
    e.message = `${e.message}\n  SEED=${seed}\n  replay: ${replay}`;
    throw e;
  }
}
