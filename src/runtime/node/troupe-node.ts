import { ActorSystem, type SystemOptions } from '../system.js';
import type { ActorRef } from '../ref.js';
import { RoutingTransport } from '../transport/router.js';
import { EgressLimitedTransport } from '../transport/egress-limit.js';
import { realClock, realTimers } from './env.js';
import { loadFactory } from './behavior-loader.js';
import { TcpTransport, type PeerAddress, type TcpTransportOptions } from './tcp-transport.js';
import { WorkerPool, type WorkerPlacement, type WorkerPoolOptions } from './worker-pool.js';
import { FileLog, type FileLogOptions } from './file-log.js';
import type { BehaviorSpec, RemoteSpawnOptions } from './worker-protocol.js';

/**
 * One Troupe node = one OS process: an ActorSystem in the main thread, optionally a pool of
 * worker threads (each its own ActorSystem, `<node>/w<i>`), and optionally a TCP transport to the
 * other nodes of the cluster. A router joins them, so any actor can reach any other by its ref.
 *
 * Placement per actor (`spawn(spec, { placement })`):
 * - `'local'` (default): in this process's main thread;
 * - `{ worker: i }` or `{ policy: 'round-robin' | 'least-loaded' }`: on a worker thread;
 * - `{ host: 'node-b', placement?: … }`: on another node, which places it by the inner
 *   placement. This asks the remote node's `troupe.placement` actor, so it needs TCP.
 *
 * Behaviors are named by module and export (`BehaviorSpec`) because a factory closure cannot
 * cross a thread or a host; the target loads the module itself.
 */

export type LocalPlacement = 'local' | WorkerPlacement;
export type Placement = LocalPlacement | { readonly host: string; readonly placement?: LocalPlacement };

export interface TroupeNodeOptions {
  /** This node's id, unique in the cluster (no '/'). */
  readonly node: string;
  /** Worker threads: a count (0 = none) or pool options. Default: none. */
  readonly workers?: number | WorkerPoolOptions;
  /** Cross-host transport. Omit for a single-process node. */
  readonly tcp?: Omit<TcpTransportOptions, 'timers'>;
  readonly system?: Omit<SystemOptions, 'node' | 'transport'>;
  /** Time limit of a remote placement request. */
  readonly placementTimeoutMs?: number;
  /**
   * Log to files (`file-log.ts`): this thread's entries to `<dir>/<node>.log` and
   * `<dir>/rpc-<node>.log`, each worker thread's to its own pair. Replaces `system.logger`.
   * `close()` flushes them.
   */
  readonly log?: FileLogOptions;
  /**
   * Caps the bytes per second each thread of this process sends to other nodes (the main
   * thread's system and every worker's, each its own budget, like one network interface per
   * node): `EgressLimitedTransport`. Default: no cap. Set it to keep a node's traffic within a
   * share of the network, or to emulate a slower network on one machine (the `gfs-data` bench).
   */
  readonly egressBytesPerSecMax?: number;
}

export interface SpawnAt extends RemoteSpawnOptions {
  readonly placement?: Placement;
}

/**
 * Ask a node's `troupe.placement` actor (`{ node, id: PLACEMENT_ACTOR }`) with this to place an
 * actor from inside another actor, on any thread: the answer is the new actor's ref.
 */
export interface PlacementRequest {
  readonly type: 'troupe.placement.spawn';
  readonly spec: BehaviorSpec;
  readonly placement: LocalPlacement;
  readonly options: RemoteSpawnOptions;
}

export const PLACEMENT_ACTOR = 'troupe.placement';

export class TroupeNode {
  readonly system: ActorSystem;
  readonly router: RoutingTransport;
  readonly pool: WorkerPool | undefined;
  readonly tcp: TcpTransport | undefined;
  /** The file logger, when started with `log`. */
  readonly fileLog: FileLog | undefined;
  /** The TCP listen address, when listening. */
  address: PeerAddress | undefined;
  private readonly placementTimeoutMs: number;

  private constructor(opts: TroupeNodeOptions) {
    if (opts.node.includes('/')) throw new RangeError(`node id "${opts.node}" must not contain '/' (reserved for worker nodes)`);
    this.router = new RoutingTransport();
    this.tcp = opts.tcp !== undefined ? new TcpTransport(opts.tcp) : undefined;
    if (this.tcp !== undefined) this.router.setDefault(this.tcp);
    this.fileLog = opts.log === undefined ? undefined : new FileLog(opts.node, opts.log);
    const env = opts.system?.env;
    const transport =
      opts.egressBytesPerSecMax === undefined ? this.router : new EgressLimitedTransport(this.router, { bytesPerSecMax: opts.egressBytesPerSecMax, clock: env?.clock ?? realClock, timers: env?.timers ?? realTimers });
    this.system = new ActorSystem({ ...opts.system, ...(this.fileLog === undefined ? {} : { logger: this.fileLog.logger }), node: opts.node, transport });
    const workerOpts = typeof opts.workers === 'number' ? { workers: opts.workers } : opts.workers;
    const poolOpts =
      workerOpts === undefined
        ? undefined
        : { ...workerOpts, ...(opts.egressBytesPerSecMax === undefined ? {} : { egressBytesPerSecMax: opts.egressBytesPerSecMax }), ...(opts.log === undefined ? {} : { log: opts.log }) };
    this.pool = poolOpts !== undefined && poolOpts.workers !== 0 ? new WorkerPool(this.router, opts.node, poolOpts) : undefined;
    this.placementTimeoutMs = opts.placementTimeoutMs ?? 15_000;
  }

  /** Starts the node: workers, TCP listener (if configured), and the placement service. */
  static async start(opts: TroupeNodeOptions): Promise<TroupeNode> {
    const n = new TroupeNode(opts);
    try {
      await n.pool?.start();
      if (n.tcp !== undefined && opts.tcp?.listen !== undefined) n.address = await n.tcp.listen();
    } catch (err) {
      await n.close();
      throw err;
    }
    n.system.spawn<PlacementRequest>(
      () => ({
        receive: (req) => n.spawnHere(req.spec, req.placement, req.options),
      }),
      { name: PLACEMENT_ACTOR },
    );
    return n;
  }

  get node(): string {
    return this.system.node;
  }

  /** Spawns the behavior `spec` names where `placement` says. The ref works from anywhere. */
  async spawn<M = unknown>(spec: BehaviorSpec, options: SpawnAt = {}): Promise<ActorRef<M>> {
    const { placement = 'local', ...rest } = options;
    if (typeof placement === 'object' && 'host' in placement) {
      if (placement.host === this.node) return this.spawnHere(spec, placement.placement ?? 'local', rest) as Promise<ActorRef<M>>;
      const req: PlacementRequest = { type: 'troupe.placement.spawn', spec, placement: placement.placement ?? 'local', options: rest };
      const ref = await this.system.ask<ActorRef<M>>({ node: placement.host, id: PLACEMENT_ACTOR }, req, { timeoutMs: this.placementTimeoutMs });
      return { node: ref.node, id: ref.id } as ActorRef<M>;
    }
    return this.spawnHere(spec, placement, rest) as Promise<ActorRef<M>>;
  }

  private async spawnHere(spec: BehaviorSpec, placement: LocalPlacement, options: RemoteSpawnOptions): Promise<ActorRef<unknown>> {
    if (placement === 'local') return this.system.spawn(await loadFactory(spec), options);
    if (this.pool === undefined) throw new Error(`node ${this.node} has no worker threads (start it with { workers: n })`);
    return this.pool.spawn(spec, placement, options);
  }

  /** Stops the workers, the actors of this thread, and the transports; then flushes and closes the log files. */
  async close(): Promise<void> {
    try {
      await this.pool?.close();
      await this.system.shutdown(); // closes the router, and with it the TCP transport
    } finally {
      await this.fileLog?.close();
    }
  }
}
