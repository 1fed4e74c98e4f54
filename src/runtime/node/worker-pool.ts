import { availableParallelism } from 'node:os';
import { MessageChannel, Worker, type ResourceLimits } from 'node:worker_threads';
import { wrap, releaseProxy, type Remote } from 'comlink';
import { EventEmitter } from 'eventemitter3';
import type { ActorRef } from '../ref.js';
import type { RoutingTransport } from '../transport/router.js';
import { PortTransport, TRANSFER_MIN_BYTES_DEFAULT } from './port-transport.js';
import { portEndpoint } from './port-endpoint.js';
import type { FileLogOptions } from './file-log.js';
import { withTimeout } from './timeout.js';
import type { BehaviorSpec, ChannelControl, RemoteSpawnOptions, WorkerBoot, WorkerControl, WorkerInspection } from './worker-protocol.js';

/**
 * The worker-thread scheduler of one process: N worker threads (default: the number of cores),
 * each running its own ActorSystem as node `<host>/w<i>`, connected to the host's router by a
 * batched data port (`PortTransport`) and controlled through comlink on a separate port.
 *
 * Placement: `spawn(spec, { worker: i })` pins an actor to a worker; `{ policy: 'round-robin' }`
 * rotates; `{ policy: 'least-loaded' }` picks the worker with the fewest actors spawned through
 * this pool and still running. The returned ref is an ordinary ActorRef: `tell`/`ask`/`watch`
 * work on it from any thread or host (location transparency).
 *
 * Direct channels: when a worker first sends to an actor on another worker, the pool brokers a
 * `MessageChannel` between the two (once per pair; `WorkerTransport` has the protocol), and from
 * then on they talk directly. The pool forgets a pair when either worker exits.
 *
 * Failure: when a worker exits or crashes, its data link fails: envelopes it had not acked, and
 * those not yet posted, are reported undeliverable (`link_down`); the router announces
 * `linkDown('<host>/w<i>')` locally, to the other workers and to other hosts (watchers see
 * `node_down`, pending asks reject `link_down`); and the pool emits `worker-exit`. `restartWorker(i)` starts a fresh thread under the same node id.
 */

export type WorkerPlacement = { readonly worker: number } | { readonly policy: 'round-robin' | 'least-loaded' };

export interface WorkerPoolOptions {
  /** Number of worker threads. Default: `os.availableParallelism()`. */
  readonly workers?: number;
  /** The compiled worker entry script. Default: `worker-entry.js` beside this module (in `dist/`). */
  readonly entry?: URL;
  /** Payloads marked with `transferOwnership` at least this long are transferred, not copied. */
  readonly transferMinBytes?: number;
  /** Caps each worker's sends to other nodes, bytes per second (`EgressLimitedTransport`). Default: none. */
  readonly egressBytesPerSecMax?: number;
  /** Time limit of each control call (spawn, stop, inspect, shutdown). */
  readonly controlTimeoutMs?: number;
  /** Default ask timeout inside the workers' systems. */
  readonly askTimeoutMs?: number;
  /** Heap limits per worker thread. */
  readonly resourceLimits?: ResourceLimits;
  /** Each worker logs to its own files in this directory (`file-log.ts`), flushed at shutdown. */
  readonly log?: FileLogOptions;
  /**
   * Workers that talk to each other get a direct channel, brokered once (default true); false
   * routes every worker-to-worker envelope through the main thread.
   */
  readonly directChannels?: boolean;
}

interface PoolEvents {
  'worker-exit': (info: { index: number; node: string; code: number; error?: Error }) => void;
}

interface Slot {
  readonly index: number;
  readonly node: string;
  worker: Worker;
  control: Remote<WorkerControl>;
  link: PortTransport;
  alive: boolean;
  actors: Set<string>;
}

/**
 * Where the compiled worker entry is. Under a TypeScript loader (tests run sources) this module's
 * URL ends in `.ts`; the thread still needs JavaScript, so the built copy in `dist/` is used.
 */
export function defaultWorkerEntry(): URL {
  const here = new URL('./worker-entry.js', import.meta.url);
  if (!import.meta.url.endsWith('.ts')) return here;
  return new URL(here.href.replace('/src/runtime/node/', '/dist/runtime/node/'));
}

export class WorkerPool {
  readonly events = new EventEmitter<PoolEvents>();
  private readonly slots: Slot[] = [];
  private readonly size: number;
  private readonly entry: URL;
  private readonly controlTimeoutMs: number;
  private readonly transferMinBytes: number;
  private nextRoundRobin = 0;
  private closing = false;
  /** Worker pairs with a direct channel, as `i:j` with i < j (at most size × (size − 1) / 2), and the channel's id. */
  private readonly channels = new Map<string, number>();
  private nextChannelId = 1;

  constructor(
    private readonly router: RoutingTransport,
    private readonly hostNode: string,
    private readonly opts: WorkerPoolOptions = {},
  ) {
    this.size = opts.workers ?? availableParallelism();
    if (!Number.isInteger(this.size) || this.size < 1) throw new RangeError(`WorkerPool: workers must be a positive integer, got ${this.size}`);
    this.entry = opts.entry ?? defaultWorkerEntry();
    this.controlTimeoutMs = opts.controlTimeoutMs ?? 10_000;
    this.transferMinBytes = opts.transferMinBytes ?? TRANSFER_MIN_BYTES_DEFAULT;
  }

  /** Node id of worker `i`. */
  nodeOf(index: number): string {
    return `${this.hostNode}/w${index}`;
  }

  get workers(): number {
    return this.size;
  }

  /** Starts every worker thread and waits until each answers on its control port. */
  async start(): Promise<void> {
    await Promise.all(Array.from({ length: this.size }, (_, i) => this.startWorker(i)));
  }

  private async startWorker(index: number): Promise<void> {
    const node = this.nodeOf(index);
    const data = new MessageChannel();
    const ctl = new MessageChannel();
    const boot: WorkerBoot & { dataPort: unknown; controlPort: unknown } = {
      node,
      hostNode: this.hostNode,
      index,
      transferMinBytes: this.transferMinBytes,
      workers: this.size,
      directChannels: this.opts.directChannels ?? true,
      ...(this.opts.askTimeoutMs !== undefined ? { askTimeoutMs: this.opts.askTimeoutMs } : {}),
      ...(this.opts.log !== undefined ? { log: this.opts.log } : {}),
      ...(this.opts.egressBytesPerSecMax !== undefined ? { egressBytesPerSecMax: this.opts.egressBytesPerSecMax } : {}),
      dataPort: data.port2,
      controlPort: ctl.port2,
    };
    const worker = new Worker(this.entry, {
      workerData: boot,
      transferList: [data.port2, ctl.port2],
      ...(this.opts.resourceLimits !== undefined ? { resourceLimits: this.opts.resourceLimits } : {}),
    });
    const link: PortTransport = new PortTransport(data.port1, {
      peerNode: node,
      transferMinBytes: this.transferMinBytes,
      onChannel: (c) => {
        const current = this.slots[index];
        if (current !== undefined && current.link === link) this.broker(current, c);
      },
    });
    const control = wrap<WorkerControl>(portEndpoint(ctl.port1));
    const slot: Slot = { index, node, worker, control, link, alive: true, actors: new Set() };
    this.slots[index] = slot;
    this.router.addRoute(node, link);
    let startError: Error | undefined;
    worker.on('error', (err) => {
      startError = err;
    });
    worker.on('exit', (code) => {
      if (this.slots[index] !== slot) return;
      slot.alive = false;
      this.forgetChannels(index);
      ctl.port1.close();
      link.fail();
      if (!this.closing) this.events.emit('worker-exit', { index, node, code, ...(startError !== undefined ? { error: startError } : {}) });
    });
    await this.control(control.inspect(), `worker ${node} start`).catch((err: unknown) => {
      throw startError ?? err;
    });
  }

  /** Replaces a worker that exited with a fresh thread (same node id, new actors). */
  async restartWorker(index: number): Promise<void> {
    const slot = this.slotAt(index);
    if (slot.alive) throw new Error(`worker ${slot.node} is still running`);
    await this.startWorker(index);
    // Siblings refused a channel to the dead thread; this one may be dialed again.
    for (const other of this.slots) if (other !== undefined && other.index !== index && other.alive) other.link.postChannel({ t: 'chan', op: 'reset', node: slot.node });
  }

  /**
   * A channel request from worker `from`: `dial` makes the pair's channel (once) and sends each
   * worker its end; `fence` is passed on to the other worker as `fenced`, behind every envelope
   * of `from` routed there before it (`postChannel` flushes first).
   */
  private broker(from: Slot, c: ChannelControl): void {
    if (c.op !== 'dial' && c.op !== 'fence') return;
    const to = this.slots.find((s) => s !== undefined && s.node === c.node);
    const live = from.alive && this.slots[from.index] === from && to !== undefined && to.alive && to !== from;
    const key = to === undefined ? '' : `${Math.min(from.index, to.index)}:${Math.max(from.index, to.index)}`;
    if (c.op === 'fence') {
      // A fence for a pair forgotten since (either side exited) is stale: its channel is gone.
      if (live && this.channels.get(key) === c.id) to.link.postChannel({ t: 'chan', op: 'fenced', node: from.node, id: c.id });
      return;
    }
    if (!live) {
      from.link.postChannel({ t: 'chan', op: 'refuse', node: c.node });
      return;
    }
    if (this.channels.has(key)) return; // both dialed at once: the ends are on their way
    const { port1, port2 } = new MessageChannel();
    const id = this.nextChannelId++;
    this.channels.set(key, id);
    from.link.postChannel({ t: 'chan', op: 'open', node: to.node, id, port: port1 }, [port1]);
    to.link.postChannel({ t: 'chan', op: 'open', node: from.node, id, port: port2 }, [port2]);
  }

  /** Worker `index` exited: its channels died with it. */
  private forgetChannels(index: number): void {
    for (const key of this.channels.keys()) {
      const [a, b] = key.split(':').map(Number);
      if (a === index || b === index) this.channels.delete(key);
    }
  }

  /** Chooses the worker for a placement. */
  pick(placement: WorkerPlacement): number {
    const live = this.slots.filter((s) => s.alive);
    if (live.length === 0) throw new Error('WorkerPool: no live workers');
    if ('worker' in placement) {
      const slot = this.slotAt(placement.worker);
      if (!slot.alive) throw new Error(`worker ${slot.node} is not running (restart it with restartWorker)`);
      return slot.index;
    }
    if (placement.policy === 'round-robin') {
      for (let k = 0; k < this.size; k++) {
        const i = (this.nextRoundRobin + k) % this.size;
        if (this.slots[i]?.alive) {
          this.nextRoundRobin = i + 1;
          return i;
        }
      }
    }
    let best = live[0] as Slot;
    for (const s of live) if (s.actors.size < best.actors.size) best = s;
    return best.index;
  }

  /** Spawns an actor on a worker. The factory is loaded in the worker from `spec`. */
  async spawn<M = unknown>(spec: BehaviorSpec, placement: WorkerPlacement = { policy: 'least-loaded' }, options: RemoteSpawnOptions = {}): Promise<ActorRef<M>> {
    const slot = this.slotAt(this.pick(placement));
    const ref = await this.control(slot.control.spawn(spec, options), `spawn on ${slot.node}`);
    slot.actors.add(ref.id);
    return { node: ref.node, id: ref.id } as ActorRef<M>;
  }

  /** Stops an actor that lives on one of this pool's workers. */
  async stop(ref: ActorRef<unknown>): Promise<void> {
    const slot = this.slots.find((s) => s.node === ref.node);
    if (slot === undefined || !slot.alive) return;
    slot.actors.delete(ref.id);
    await this.control(slot.control.stop({ node: ref.node, id: ref.id }), `stop on ${slot.node}`);
  }

  async inspect(index: number): Promise<WorkerInspection> {
    const slot = this.slotAt(index);
    return this.control(slot.control.inspect(), `inspect ${slot.node}`);
  }

  /** Shuts every worker down (actors' postStop hooks run), then terminates the threads. */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(
      this.slots.map(async (slot) => {
        if (slot.alive) {
          slot.link.flush();
          await this.control(slot.control.shutdown(), `shutdown of ${slot.node}`).catch(() => undefined);
        }
        slot.control[releaseProxy]();
        slot.alive = false;
        await slot.worker.terminate();
        this.router.removeRoute(slot.node);
      }),
    );
  }

  /** Test hook: terminates worker `i` abruptly, as a crash would. */
  async crash(index: number): Promise<void> {
    await this.slotAt(index).worker.terminate();
  }

  /** A control call to a worker, failed after `controlTimeoutMs` (a worker that hangs is not waited for). */
  private control<T>(p: Promise<T>, what: string): Promise<T> {
    return withTimeout(p, this.controlTimeoutMs, () => new Error(`${what} timed out after ${this.controlTimeoutMs} ms`));
  }

  private slotAt(index: number): Slot {
    const slot = this.slots[index];
    if (slot === undefined) throw new RangeError(`no worker ${index} (pool has ${this.size})`);
    return slot;
  }
}
