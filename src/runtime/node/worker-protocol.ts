import type { SpawnOptions } from '../behavior.js';
import type { ActorRef } from '../ref.js';
import type { FileLogOptions } from './file-log.js';

/**
 * The control plane into a worker thread (comlink): spawn, stop, inspect, shut down. Envelopes
 * never travel here; they use the batched data port (`PortTransport`).
 */

/**
 * Names a behavior a thread can load by itself (factories are closures and cannot cross threads):
 * `module` is an import specifier resolvable from the worker (a `file:` URL or a package name),
 * `export` the name of an exported factory `(ctx, args) => Behavior`. `args` is plain data
 * (structured-cloneable), handed to the factory as its second argument.
 */
export interface BehaviorSpec {
  readonly module: string;
  readonly export: string;
  readonly args?: unknown;
}

/** Spawn options crossing a thread boundary: all plain data (supervision strategies are data too). */
export type RemoteSpawnOptions = SpawnOptions;

export interface WorkerInspection {
  readonly node: string;
  readonly actors: number;
  readonly heapUsedBytes: number;
  readonly pendingAsks: number;
}

export interface WorkerControl {
  spawn(spec: BehaviorSpec, options: RemoteSpawnOptions): Promise<ActorRef<unknown>>;
  stop(ref: ActorRef<unknown>): Promise<void>;
  inspect(): Promise<WorkerInspection>;
  /** Stops every actor (postStop hooks run), flushes the log files, and closes the data port; the parent then terminates the thread. */
  shutdown(): Promise<void>;
}

/** What a worker thread receives as `workerData`. */
export interface WorkerBoot {
  readonly node: string;
  readonly hostNode: string;
  readonly index: number;
  readonly transferMinBytes: number;
  readonly askTimeoutMs?: number;
  /** Log to files of this worker's own (`<host>-w<i>.log`), flushed at shutdown. */
  readonly log?: FileLogOptions;
  readonly egressBytesPerSecMax?: number;
}
