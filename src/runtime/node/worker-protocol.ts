import type { MessagePort } from 'node:worker_threads';
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
  /** Direct channels to sibling workers open in this worker. */
  readonly directChannels: number;
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
  /** Workers in the pool: siblings are `<host>/w0` … `<host>/w<workers-1>`. */
  readonly workers: number;
  /** Dial direct channels to sibling workers (`ChannelControl`); otherwise everything goes through the parent. */
  readonly directChannels: boolean;
}

/**
 * Brokering of direct worker-to-worker channels, on the data port between a worker and the parent
 * (port-transport README: "Direct channels"). Worker → parent: `dial` (this worker sends to
 * `node` and would like a channel), `fence` (this worker has switched its sends to `node` onto
 * the channel; everything it sent to `node` before went through the parent, ahead of this).
 * Parent → worker: `open` (one end of the channel to `node`; the other end goes to `node`),
 * `refuse` (no channel to `node`: it is not a live worker of this pool; keep sending through
 * the parent), `fenced` (everything `node` sent here through the parent has been posted ahead of
 * this: start reading the channel from `node`), `reset` (`node` was restarted: it may be dialed
 * again).
 */
export type ChannelControl =
  | { readonly t: 'chan'; readonly op: 'dial' | 'refuse' | 'reset'; readonly node: string }
  /** `id` names one channel of the pair: a fence for a channel since replaced is dropped. */
  | { readonly t: 'chan'; readonly op: 'fence' | 'fenced'; readonly node: string; readonly id: number }
  | { readonly t: 'chan'; readonly op: 'open'; readonly node: string; readonly id: number; readonly port: MessagePort };
