import { Deque } from '../../mailbox/deque.js';
import type { Dispatcher, Runnable } from '../dispatcher.js';
import type { Cancel, Clock, Env, Timers } from '../env.js';
import type { Envelope } from '../envelope.js';
import type { RuntimeErrorCode } from '../errors.js';
import type { LogEntry, Logger } from '../log.js';
import { seededRandom, type Random } from '../random.js';
import { ActorSystem, type SystemOptions } from '../system.js';
import type { Transport, TransportSink } from '../transport/transport.js';
import { EventQueue } from './event-queue.js';
import { Trace, type TraceEntry } from './trace.js';
import { copyEnvelope } from './message-copy.js';
import { MicrotaskDrain } from './microtask-drain.js';
import { SimNetwork, type LinkConfig } from './network.js';

/**
 * The deterministic simulator (DESIGN.md §3): the actors of many nodes in one thread, on virtual
 * time, with every source of nondeterminism drawn from one seed — which ready actor runs next,
 * message latencies, losses, timer order. The same seed gives the same trace, bit for bit.
 *
 * Between steps the simulator drains the promise continuations a step caused (async handlers, asks,
 * disk completions) with a mechanism of its own (`MicrotaskDrain`), never the host's event loop, so
 * the interleaving depends only on the seed and a step costs no macrotask.
 */
export interface SimulationOptions {
  readonly seed: number;
  /** Defaults for every link. */
  readonly network?: Partial<LinkConfig>;
  /** How long until the other nodes are told that a crashed node's links are down. Default 50 ms. */
  readonly failureDetectionMs?: number;
  /** Trace entries kept for inspection (the hash covers all). Default 10,000. */
  readonly traceLimit?: number;
  /** Log entries kept (printed with a failure). Default 2,000. */
  readonly logLimit?: number;
  /** Also forward every log entry here. */
  readonly logger?: Logger;
  /** Treat an escalation to the top of a node as a failure of the run (default true). */
  readonly failOnEscalation?: boolean;
  /** Options for every node's ActorSystem (mailbox sizes, ask timeout, ...). */
  readonly system?: Omit<SystemOptions, 'node' | 'env' | 'dispatcher' | 'transport' | 'logger' | 'checkInvariants' | 'onDeliver' | 'onInvariantViolation' | 'incarnation'>;
  /** Shown in failure messages: how to replay (default `SEED=<seed> npm run test:sim`). */
  readonly replayHint?: string;
}

export interface RunOptions {
  /** Run for this much virtual time (ms) from now. */
  readonly forMs?: number;
  /** Run until this virtual time. */
  readonly untilMs?: number;
  /** Stop as soon as this returns true (checked between steps). */
  readonly until?: () => boolean;
  /** Safety bound on steps for this call. Default 5,000,000. */
  readonly maxSteps?: number;
}

export interface RunResult {
  readonly steps: number;
  readonly now: number;
  /** Nothing left to do: no ready actor, no event. */
  readonly idle: boolean;
}

export type { TraceEntry } from './trace.js';

export type NodeBoot = (system: ActorSystem, node: SimNode) => void;

/** A simulated node: an ActorSystem that can crash and restart. */
export interface SimNode {
  readonly name: string;
  /** The current incarnation's system (a new one after each restart). */
  readonly system: ActorSystem;
  readonly alive: boolean;
  /** 0 for the first boot, +1 per restart. */
  readonly incarnation: number;
  /** Clock skew of this node, ms (its `ctx.clock` reads virtual time + skew). */
  skewMs: number;
}

export class SimulationError extends Error {
  override readonly name = 'SimulationError';
  constructor(
    message: string,
    readonly seed: number,
    readonly replay: string,
  ) {
    super(`${message}\n  replay: ${replay}`);
  }
}

interface NodeState extends SimNode {
  system: ActorSystem;
  alive: boolean;
  incarnation: number;
  skewMs: number;
  boot: NodeBoot;
  sink: TransportSink | undefined;
  /** Liveness token for this incarnation's timers. */
  token: { live: boolean };
}

export class Simulation {
  readonly seed: number;
  /** The run's root stream; tests draw workloads and fault schedules from forks of it. */
  readonly random: Random;
  readonly network: SimNetwork;
  private nowMs = 0;
  private readonly queue = new EventQueue();
  private readonly ready: Runnable[] = [];
  private readonly nodes = new Map<string, NodeState>();
  private readonly schedRandom: Random;
  private readonly traceLog: Trace;
  private readonly logRing: Deque<LogEntry> = new Deque(256);
  private totalSteps = 0;
  private readonly violations: string[] = [];
  private readonly options: SimulationOptions;

  constructor(options: SimulationOptions) {
    this.options = options;
    this.seed = options.seed;
    this.random = seededRandom(options.seed);
    this.schedRandom = this.random.fork('scheduler');
    this.traceLog = new Trace(options.traceLimit ?? 10_000);
    this.network = new SimNetwork(this.networkHost, this.random.fork('network'), options.network);
  }

  /** Virtual time, ms. */
  get now(): number {
    return this.nowMs;
  }

  get steps(): number {
    return this.totalSteps;
  }

  /** Adds a node and boots it: `boot` spawns the node's actors (again after every restart). */
  addNode(name: string, boot: NodeBoot): SimNode {
    if (this.nodes.has(name)) throw new RangeError(`node ${name} already exists`);
    if (name.includes('|') || name.includes('>')) throw new RangeError(`node name may not contain '|' or '>': ${name}`);
    const state = { name, alive: false, incarnation: -1, skewMs: 0, boot, sink: undefined, token: { live: false } } as unknown as NodeState;
    this.nodes.set(name, state);
    this.startNode(state);
    return state;
  }

  node(name: string): SimNode {
    const n = this.nodes.get(name);
    if (n === undefined) throw new RangeError(`no node ${name}`);
    return n;
  }

  /** The system of a live node. */
  system(name: string): ActorSystem {
    return this.node(name).system;
  }

  get nodeNames(): string[] {
    return [...this.nodes.keys()];
  }

  /**
   * Crashes a node: its actors vanish without running any code, its timers never fire, what was
   * in flight to it is reported undeliverable to the senders, and after `failureDetectionMs` the
   * other nodes see its links go down (watchers get `node_down`).
   */
  crash(name: string): void {
    const n = this.nodes.get(name);
    if (n === undefined || !n.alive) return;
    n.alive = false;
    n.token.live = false;
    n.system.kill();
    this.network.nodeCrashed(name);
    this.traceLog.record(this.nowMs, name, '-', 'crash', '-', '', '-');
    this.at(this.nowMs + (this.options.failureDetectionMs ?? 50), () => {
      for (const other of this.nodes.values()) if (other.alive && other.name !== name) other.sink?.linkDown(name);
    });
  }

  /** Restarts a crashed node: a new ActorSystem, booted again (durable state is the boot function's business). */
  restart(name: string): SimNode {
    const n = this.nodes.get(name);
    if (n === undefined) throw new RangeError(`no node ${name}`);
    if (n.alive) this.crash(name);
    this.startNode(n);
    this.traceLog.record(this.nowMs, name, '-', 'restart', '-', '', '-');
    for (const other of this.nodes.values()) {
      if (other.alive && other.name !== name && !this.network.isCut(name, other.name)) {
        other.sink?.linkUp?.(name);
        n.sink?.linkUp?.(other.name);
      }
    }
    return n;
  }

  partition(groupA: readonly string[], groupB: readonly string[]): void {
    this.traceLog.record(this.nowMs, '-', '-', 'partition', groupA.join(','), '', groupB.join(','));
    this.network.partition(groupA, groupB);
  }

  heal(groupA?: readonly string[], groupB?: readonly string[]): void {
    this.traceLog.record(this.nowMs, '-', '-', 'heal', '-', '', '-');
    this.network.heal(groupA, groupB);
  }

  /** Schedules `fn` at virtual time `time` (fault schedules, workload steps). */
  at(time: number, fn: () => void): void {
    this.queue.push(Math.max(time, this.nowMs), fn);
  }

  after(delayMs: number, fn: () => void): void {
    this.at(this.nowMs + delayMs, fn);
  }

  /**
   * Virtual time and the agenda, for devices that live outside any node and outlast its crashes
   * (a simulated disk completes its operations through it: `new SimDisk({ random, scheduler: sim.scheduler() })`).
   * Callbacks run as steps of `run`, like `at`'s.
   */
  scheduler(): { now(): number; at(timeMs: number, fn: () => void): void } {
    return { now: () => this.nowMs, at: (timeMs, fn) => this.at(timeMs, fn) };
  }

  /**
   * Runs steps until the agenda is empty, a bound is reached, or `until` holds. Throws a
   * `SimulationError` (with the replay command) on an invariant violation or escalation.
   */
  async run(options: RunOptions = {}): Promise<RunResult> {
    MicrotaskDrain.acquire();
    try {
      return await this.runSteps(options);
    } finally {
      MicrotaskDrain.release();
    }
  }

  private async runSteps(options: RunOptions): Promise<RunResult> {
    const deadline = options.untilMs ?? (options.forMs !== undefined ? this.nowMs + options.forMs : Infinity);
    const maxSteps = options.maxSteps ?? 5_000_000;
    let steps = 0;
    let idle = false;
    // Continuations queued before this call (the caller's own) run after its first step, as they
    // would after any step; from then on the queue is empty after every drain, and a step with no
    // promise activity leaves it empty, so it needs no drain.
    let drained = false;
    for (;;) {
      this.check();
      if (options.until?.() === true) break;
      if (steps >= maxSteps) throw this.error(`run exceeded ${maxSteps} steps at t=${this.nowMs.toFixed(3)} ms (livelock?)`);
      const activity = MicrotaskDrain.activityCount;
      if (this.ready.length > 0) {
        const i = this.ready.length === 1 ? 0 : this.schedRandom.int(this.ready.length);
        const r = this.ready[i] as Runnable;
        this.ready[i] = this.ready[this.ready.length - 1] as Runnable;
        this.ready.pop();
        // One message per step, so the seed decides every interleaving.
        if (r.run(1)) this.ready.push(r);
      } else {
        const ev = this.queue.peek();
        if (ev === undefined) {
          // Nothing scheduled, but continuations may still be queued (the caller's, or a
          // completion that needs no virtual time): only when draining them schedules nothing is
          // the run idle.
          await MicrotaskDrain.drain();
          drained = true;
          if (this.ready.length > 0 || this.queue.peek() !== undefined) continue;
          if (options.until?.() === true) break;
          idle = true;
          break;
        }
        if (ev.time > deadline) break;
        this.queue.pop();
        this.nowMs = Math.max(this.nowMs, ev.time);
        ev.run();
      }
      steps++;
      this.totalSteps++;
      if (!drained || MicrotaskDrain.activityCount !== activity) {
        await MicrotaskDrain.drain();
        drained = true;
      }
    }
    this.check();
    if (Number.isFinite(deadline) && this.nowMs < deadline && (idle || this.queue.peek() !== undefined)) this.nowMs = deadline;
    return { steps, now: this.nowMs, idle };
  }

  /** Runs until the promise settles (or the run ends idle / hits `forMs`), then returns its value or throws its error. */
  async result<T>(promise: Promise<T>, options: Omit<RunOptions, 'until'> = {}): Promise<T> {
    let settled = false;
    let value: T | undefined;
    let error: unknown;
    let failed = false;
    promise.then(
      (v) => {
        settled = true;
        value = v;
      },
      (e: unknown) => {
        settled = true;
        failed = true;
        error = e;
      },
    );
    await this.run({ ...options, until: () => settled });
    if (!settled) throw this.error(`promise still pending at t=${this.nowMs.toFixed(3)} ms (the run went idle or hit its bound)`);
    if (failed) throw error;
    return value as T;
  }

  /** Records a failed check; the run stops with a `SimulationError` at the next step. */
  fail(message: string): void {
    this.violations.push(`t=${this.nowMs.toFixed(3)} ${message}`);
  }

  /** A 64-bit hash (hex) over every delivery, crash, restart and partition so far. Equal seeds give equal hashes. */
  traceHash(): string {
    return this.traceLog.hash();
  }

  /** The most recent trace entries (at most `traceLimit`). */
  trace(): TraceEntry[] {
    return this.traceLog.entries();
  }

  /** No actor is ready and nothing is due at the current virtual time. */
  get isQuiet(): boolean {
    const next = this.queue.peek();
    return this.ready.length === 0 && (next === undefined || next.time > this.nowMs);
  }

  get traceLength(): number {
    return this.traceLog.length;
  }

  logs(): LogEntry[] {
    return [...this.logRing];
  }

  get replayCommand(): string {
    return this.options.replayHint ?? `SEED=${this.seed} npm run test:sim`;
  }

  // ----- internals -----

  private check(): void {
    if (this.violations.length > 0) {
      const first = this.violations.slice(0, 5).join('\n  ');
      throw this.error(`simulation check failed (seed ${this.seed}):\n  ${first}`);
    }
  }

  private error(message: string): SimulationError {
    return new SimulationError(`${message}\n  SEED=${this.seed}`, this.seed, this.replayCommand);
  }

  private startNode(n: NodeState): void {
    n.incarnation++;
    n.token = { live: true };
    n.alive = true;
    const token = n.token;
    const clock: Clock = { now: () => this.nowMs + n.skewMs };
    const timers: Timers = {
      after: (delayMs: number, fn: () => void): Cancel => {
        let cancelled = false;
        this.at(this.nowMs + Math.max(0, delayMs), () => {
          if (!cancelled && token.live) fn();
        });
        return () => {
          cancelled = true;
        };
      },
    };
    const env: Env = { clock, timers, random: this.random.fork(`node:${n.name}#${n.incarnation}`) };
    const dispatcher: Dispatcher = { schedule: (r) => void this.ready.push(r) };
    const transport: Transport = {
      bind: (_node, sink) => {
        n.sink = sink;
      },
      send: (e) => this.network.send(n.name, e),
      close: async () => {},
    };
    const logLimit = this.options.logLimit ?? 2_000;
    n.system = new ActorSystem({
      ...this.options.system,
      node: n.name,
      incarnation: String(n.incarnation),
      env,
      dispatcher,
      transport,
      checkInvariants: true,
      logger: (entry) => {
        // RPC log entries (one per request) would crowd out the warnings a failure report shows;
        // they still reach `options.logger`.
        if (entry.stream !== 'rpc') {
          this.logRing.push(entry);
          if (this.logRing.length > logLimit) this.logRing.shift();
        }
        this.options.logger?.(entry);
      },
      onDeliver: (to, kind, from, msg) => this.traceLog.record(this.nowMs, to.node, to.id, kind, from === undefined ? '-' : from.id, from === undefined ? '' : from.node, typeOf(msg)),
      onInvariantViolation: (ref, error) => this.fail(`invariant violated in ${ref.id}@${ref.node}: ${error instanceof Error ? error.message : String(error)}`),
    });
    if (this.options.failOnEscalation ?? true) {
      n.system.events.on('escalated', ({ ref, error }) => this.fail(`actor ${ref.id}@${ref.node} failed and escalated to the top: ${error instanceof Error ? error.message : String(error)}`));
    }
    n.boot(n.system, n);
  }

  private readonly networkHost = {
    now: (): number => this.nowMs,
    at: (time: number, fn: () => void): void => this.at(time, fn),
    deliver: (node: string, env: Envelope): boolean => {
      const n = this.nodes.get(node);
      if (n === undefined || !n.alive) return false;
      n.sink?.deliver(env);
      return true;
    },
    undeliverable: (node: string, env: Envelope, code: RuntimeErrorCode): void => {
      const n = this.nodes.get(node);
      if (n !== undefined && n.alive) n.sink?.undeliverable(env, code);
    },
    linkDown: (observer: string, peer: string): void => {
      const n = this.nodes.get(observer);
      if (n !== undefined && n.alive) n.sink?.linkDown(peer);
    },
    linkUp: (observer: string, peer: string): void => {
      const n = this.nodes.get(observer);
      if (n !== undefined && n.alive) n.sink?.linkUp?.(peer);
    },
    isAlive: (node: string): boolean => this.nodes.get(node)?.alive ?? false,
    exists: (node: string): boolean => this.nodes.has(node),
    copy: (env: Envelope): Envelope => {
      try {
        return copyEnvelope(env);
      } catch (err) {
        this.fail(`message to ${env.to.id}@${env.to.node} is not plain data (${err instanceof Error ? err.message : String(err)}): messages must survive every transport`);
        return env;
      }
    },
  };
}

function typeOf(msg: unknown): string {
  if (msg !== null && typeof msg === 'object') {
    const t = (msg as { type?: unknown }).type;
    if (typeof t === 'string') return t;
    return Array.isArray(msg) ? 'array' : 'object';
  }
  return typeof msg;
}

