import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Transferable } from 'node:worker_threads';
import { Piscina } from 'piscina';

/**
 * A pool of worker threads for CPU-bound pure jobs (DESIGN.md §3: bulk checksum verification,
 * scrubbing, bulk CRUSH mapping), on piscina. Actors are not jobs: they live in the actor runtime's
 * worker pool (worker-pool.ts); a job is one call of an exported pure function on plain data that
 * returns plain data, with no state kept between calls that could change a result.
 *
 * A job names its function by module URL and export name (`jobRef`), so the pool needs no list of
 * job kinds and the runtime does not depend on the systems whose jobs it runs. Workers load the
 * compiled JavaScript: under a TypeScript loader (tests run the sources) a module's URL ends in
 * `.ts`, and the copy in `dist/` is used instead, as for the actor workers.
 *
 * Callers own the pool: `close()` it when done, or the worker threads keep the process alive.
 */

/** A job's function: `export function name(input: I): O` in the module at `module`. */
export interface JobRef<I, O> {
  /** file: URL of the compiled module. */
  readonly module: string;
  readonly export: string;
  /** Phantom: carries I and O for `run`'s types. */
  readonly _types?: (input: I) => O;
}

/**
 * Names `exportName` of the module at `moduleUrl` (pass `new URL('./x.js', import.meta.url).href`
 * from the module that declares the job). A `.ts` caller URL means sources run under a TypeScript
 * loader; the job then points at the same path under `dist/`.
 */
export function jobRef<I, O>(moduleUrl: string, exportName: string): JobRef<I, O> {
  return { module: compiledModuleUrl(moduleUrl), export: exportName };
}

/** `…/src/a/b.js` or `…/src/a/b.ts` → `…/dist/a/b.js` when sources run; compiled URLs unchanged. */
export function compiledModuleUrl(moduleUrl: string): string {
  const url = new URL(moduleUrl);
  const srcAt = url.pathname.lastIndexOf('/src/');
  const underDist = url.pathname.lastIndexOf('/dist/') > srcAt;
  if (srcAt < 0 || underDist) return url.href;
  // Only a module loaded as TypeScript has a `src/` path: point at its build output.
  url.pathname = `${url.pathname.slice(0, srcAt)}/dist/${url.pathname.slice(srcAt + '/src/'.length).replace(/\.ts$/, '.js')}`;
  return url.href;
}

/** A job that threw in its worker; `cause` is the error as the worker reported it. */
export class JobError extends Error {
  override readonly name = 'JobError';
  constructor(
    readonly job: string,
    cause: unknown,
  ) {
    super(`job ${job} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

export interface JobPoolOptions {
  /** Worker threads. Default: the machine's available parallelism. */
  readonly threads?: number;
  /** An idle worker exits after this long; the next job starts one again (ms). */
  readonly idleTimeoutMs?: number;
  /**
   * Jobs waiting for a free worker, at most (default 1,024; bulk callers split a request into a
   * few pieces per thread). Past it `run` rejects with a `JobError` rather than queue without bound.
   */
  readonly queuedJobsMax?: number;
}

export class JobPool {
  readonly threads: number;
  private readonly piscina: Piscina;
  private closed = false;

  constructor(options: JobPoolOptions = {}) {
    const threads = options.threads ?? availableParallelism();
    if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`JobPool threads must be an integer >= 1, got ${threads}`);
    this.threads = threads;
    // No default module: every run names its own (piscina's per-task filename and name).
    const queuedJobsMax = options.queuedJobsMax ?? 1_024;
    if (!Number.isInteger(queuedJobsMax) || queuedJobsMax < 1) throw new RangeError(`JobPool queuedJobsMax must be an integer >= 1, got ${queuedJobsMax}`);
    this.piscina = new Piscina({ minThreads: threads, maxThreads: threads, idleTimeout: options.idleTimeoutMs ?? 30_000, maxQueue: queuedJobsMax });
  }

  /** Runs one job on a worker. `transfer` moves buffers instead of copying them (the caller loses them). */
  async run<I, O>(job: JobRef<I, O>, input: I, transfer?: readonly Transferable[]): Promise<O> {
    if (this.closed) throw new Error(`job pool is closed: cannot run ${job.export}`);
    try {
      return (await this.piscina.run(input, {
        filename: fileURLToPath(job.module),
        name: job.export,
        ...(transfer === undefined ? {} : { transferList: transfer as never }),
      })) as O;
    } catch (err) {
      throw new JobError(`${job.export} (${job.module})`, err);
    }
  }

  /** Waits for queued jobs, then stops every worker. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.piscina.close();
  }

  /** Live worker threads (0 after `close`). */
  get liveThreads(): number {
    return this.piscina.threads.length;
  }
}

/**
 * Splits [first, end) into at most `pieces` contiguous ranges of nearly equal size, in order,
 * none smaller than `minPieceSize` unless the whole range is. For spreading one bulk request over
 * a pool with results kept in order.
 */
export function splitRange(first: number, end: number, pieces: number, minPieceSize = 1): Array<readonly [number, number]> {
  const n = end - first;
  if (n <= 0) return [];
  const count = Math.max(1, Math.min(pieces, Math.floor(n / Math.max(1, minPieceSize))));
  const out: Array<readonly [number, number]> = [];
  for (let i = 0; i < count; i++) out.push([first + Math.floor((n * i) / count), first + Math.floor((n * (i + 1)) / count)]);
  return out;
}
