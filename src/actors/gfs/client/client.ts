import type { AskOptions } from '../../../runtime/behavior.js';
import type { Clock, Timers } from '../../../runtime/env.js';
import type { Log } from '../../../runtime/log.js';
import { TroupeError, type Delivery, type RuntimeErrorCode } from '../../../runtime/errors.js';
import type { ActorRef } from '../../../runtime/ref.js';
import type { ActorSystem } from '../../../runtime/system.js';
import { transferOwnership } from '../../../runtime/transport/ownership.js';
import { defaultGfsConfig, type GfsConfig } from '../config.js';
import { runtimeCause, type GfsError, type GfsErrorCode, type GfsResult, type RuntimeCause } from '../errors.js';
import type { AppendReply, ChunkLease, ChunkLocation, ChunkserverMsg, FileInfo, FsckReport, MasterMsg, ReadReply, ReplicaAddr } from '../protocol.js';
import { DuplicateFilter, encodeRecord, parseRecords, RECORD_HEADER_BYTES, type ParseStats } from './record.js';

/**
 * The GFS client library (patent ¶82–109). Applications call it; it asks the master for metadata
 * and talks to chunkservers for data, so file data never passes through the master (¶82).
 *
 * - Reads: offset → chunk index (¶84); locations come from a cache keyed by (file, chunk index)
 *   with expiry, filled by batched requests that prefetch the following chunks (¶86, ¶88); the
 *   nearest replica is tried first, the others on failure (¶87).
 * - Writes and record appends: the lease holder from the master (cached until the lease ends),
 *   data pushed along a chain ordered by network distance (¶95–97), then the control request to
 *   the primary (¶98); on failure the whole operation is retried (¶100, ¶106).
 *
 * Everything the client waits for has a timeout. Reads retry `retriesMax` times; writes and record
 * appends retry until their deadline (`operationTimeoutMs`), waiting out a lease the master cannot
 * grant yet (a write) or sealing the chunk and going on in the next one (a record append, README S4).
 * Errors are thrown as `GfsClientError` with a `code` from `errors.ts`; when the runtime failed a
 * request (no server answered), also its `runtimeCode` and `delivery` — whether the request can
 * have taken effect.
 */
export interface GfsClientOptions {
  /** How the client sends requests: `system.ask` outside actors, `ctx.ask` inside one. */
  readonly ask: <R>(to: ActorRef<never>, message: unknown, options?: AskOptions) => Promise<R>;
  readonly clock: Clock;
  readonly timers: Timers;
  /** The primary master first; shadows after it serve reads when the primary is unreachable (¶120). */
  readonly masters: readonly ActorRef<MasterMsg>[];
  /** Unique per client: names its pushes. */
  readonly clientId: string;
  /** Where the client runs, for choosing the nearest replica (¶87). */
  readonly host?: string;
  readonly rack?: string;
  readonly config?: Partial<GfsConfig>;
  /** Location cache entry lifetime (¶86). Default 30 s. */
  readonly locationCacheTtlMs?: number;
  /** Chunks asked for per location request (the requested one plus prefetch, ¶88). Default 4. */
  readonly prefetchChunks?: number;
  /** Retries of a failed read before giving up. Default 5. (Writes and appends retry until `operationTimeoutMs`.) */
  readonly retriesMax?: number;
  /**
   * The deadline of one write (per chunk it touches) or record append: failed attempts are retried
   * with backoff until it passes. A write to a chunk whose primary failed waits for the master to
   * grant a new lease (up to a lease period, ¶90), so the default covers a lease period and its
   * margins: lease + 2 × skew margin + 10 s (72 s with the paper's 60 s lease). A record append
   * seals the chunk instead (README S4) and needs far less.
   */
  readonly operationTimeoutMs?: number;
  /**
   * Called before each wait between attempts of a write or append (progress for a terminal: the CLI
   * shows it while a write waits out a lease). Must not throw.
   */
  readonly onWait?: (w: RetryWait) => void;
  /**
   * Reads of one chunk longer than this are split into sub-reads of this size, spread over the
   * equally nearest replicas (at most `readReplicasMax` at once; ¶87 names the nearest replica,
   * and when several are equally near, reading from all of them at once spreads the load instead
   * of queueing on one server's NIC). Default 4 MiB: a read up to that size is one request to one
   * replica, as ¶87 describes, and larger reads are spread in 4 MiB pieces. Smaller pieces spread
   * reads over slow NICs better (the Fig. 3 testbed's 100 Mbps uses 1 MiB) but cost, on one host
   * or a fast network, a reassembly copy and a message per piece (bench `read-verified`: 0.47 GB/s
   * in 1 MiB pieces, 1.06 GB/s in 4 MiB ones, in two quiet runs; GFS README, performance).
   */
  readonly readPieceBytes?: number;
  /** Replicas one chunk read uses at once. 1 reads from the nearest replica only. Default 3. */
  readonly readReplicasMax?: number;
  /** Slice size of a data push (≤ 1 MiB) and slices in flight per push. */
  readonly sliceBytes?: number;
  readonly slicesInFlightMax?: number;
  /**
   * How a write's data reaches the replicas: `chain` (the paper's pipeline, ¶95–97: the client
   * sends each slice once, to the nearest replica, which forwards it along the chain) or `star`
   * (the client sends every slice to each replica itself — the baseline the chain is measured
   * against in the `gfs-data` bench). Default `chain`.
   */
  readonly pushTopology?: 'chain' | 'star';
  /** Former name of `operationTimeoutMs` (used when that is not set). */
  readonly leaseWaitMaxMs?: number;
  /** Where the client logs each operation (start, end, failure) with its request id. Default: nowhere. */
  readonly log?: Log;
  /** Makes request ids (the CLI: 21 random letters and digits, `newRequestId`). Default: `<clientId>:r<n>`, deterministic for the simulator. */
  readonly requestIds?: () => string;
  /**
   * Carries the current request across `await`s (AsyncLocalStorage in the real environment,
   * `runtime/node/async-context.ts`), so every message an operation sends carries its request id
   * (`rid`). Without one, operations are logged with their id but their messages carry none.
   */
  readonly requestContext?: RequestContext;
}

/** A write or append about to wait before its next attempt (`GfsClientOptions.onWait`). */
export interface RetryWait {
  readonly op: 'write' | 'append';
  readonly path: string;
  readonly chunkIndex: number;
  /** Why: the last attempt's error (`lease_unavailable` while a write waits out a failed primary's lease). */
  readonly code: GfsErrorCode;
  readonly message: string;
  /** This wait, the time since the operation started, and its whole deadline. */
  readonly waitMs: number;
  readonly elapsedMs: number;
  readonly timeoutMs: number;
}

/** The request an operation runs under (see `GfsClient.request`). */
export interface RequestScope {
  readonly rid: string;
  /** The outermost client operation running in this scope, if one is. */
  readonly op?: string;
}

/** An async context: `run(scope, fn)` makes `current()` return `scope` in everything `fn` starts. */
export interface RequestContext {
  run<T>(scope: RequestScope, fn: () => T): T;
  current(): RequestScope | undefined;
}

export class GfsClientError extends Error {
  override readonly name = 'GfsClientError';
  /** The request id of the operation that failed (`troupe trace <id>` follows it in the logs). */
  requestId?: string;
  /** When no server answered and the runtime failed the request: its code (`ask_timeout`, `link_down`, `mailbox_full`, …). */
  readonly runtimeCode?: RuntimeErrorCode;
  /**
   * With `runtimeCode`: `not_delivered` — the operation never reached a server and had no effect,
   * so it is safe to retry; `unknown` — it may have taken effect (no answer; or, for a write or
   * append that was retried, an earlier attempt may have reached some replicas).
   */
  readonly delivery?: Delivery;
  constructor(
    readonly code: GfsErrorCode,
    message: string,
    cause: RuntimeCause = {},
  ) {
    super(`${code}: ${message}`);
    if (cause.runtimeCode !== undefined) this.runtimeCode = cause.runtimeCode;
    if (cause.delivery !== undefined) this.delivery = cause.delivery;
  }

  /** The error a failed reply carries, thrown. */
  static of(e: GfsError): GfsClientError {
    return new GfsClientError(e.code, e.message, runtimeCause(e));
  }
}

interface Cached<T> {
  readonly value: T;
  readonly expiresAt: number;
}

/** How long a client sends no length reports after the master did not answer one. */
const LENGTH_REPORT_PAUSE_MS = 5_000;
/** Sub-reads a reader keeps in flight on its replica (a chunkserver reads the next piece while the last one travels back). */
const READS_IN_FLIGHT_PER_REPLICA = 2;
/** Errors worth another attempt after refreshing metadata. */
const RETRYABLE: ReadonlySet<string> = new Set(['lease_expired', 'lease_unavailable', 'stale_version', 'data_not_found', 'chunkserver_failed', 'corrupt_replica', 'busy', 'log_unavailable', 'chunk_not_found', 'io_error']);

export class GfsClient {
  readonly cfg: GfsConfig;
  private readonly locations = new Map<string, Cached<ChunkLocation>>();
  private readonly leases = new Map<string, Cached<ChunkLease>>();
  private pushSeq = 0;
  /** No length reports before this time: the master did not answer the last one (see `reportLength`). */
  private lengthReportsPausedUntil = 0;
  private readonly ttlMs: number;
  private readonly prefetch: number;
  private readonly retries: number;
  private readonly sliceBytes: number;
  private readonly slicesInFlight: number;
  private readonly readPieceBytes: number;
  private readonly readReplicasMax: number;
  private readonly operationTimeoutMs: number;
  /** Where this client runs, for network distances (¶87, ¶95). */
  private readonly here: Place;

  private requestSeq = 0;

  /** A client that sends through `system` with its clock and timers (outside actors: a simulated node's system, a test's). */
  static on(system: Pick<ActorSystem, 'ask' | 'env'>, options: Omit<GfsClientOptions, 'ask' | 'clock' | 'timers'>): GfsClient {
    return new GfsClient({ ask: (to, msg, opts) => system.ask(to, msg, opts), clock: system.env.clock, timers: system.env.timers, ...options });
  }

  constructor(private readonly o: GfsClientOptions) {
    // Every message an operation sends carries its request id (protocol.ts `Traced`).
    const context = o.requestContext;
    if (context !== undefined) {
      this.o = {
        ...o,
        ask: (to, message, options) => {
          const rid = context.current()?.rid;
          const traced = rid === undefined || message === null || typeof message !== 'object' ? message : { ...(message as object), rid };
          return o.ask(to, traced, options);
        },
      };
    }
    this.cfg = { ...defaultGfsConfig, ...o.config };
    this.ttlMs = o.locationCacheTtlMs ?? 30_000;
    this.prefetch = o.prefetchChunks ?? 4;
    this.retries = o.retriesMax ?? 5;
    this.sliceBytes = Math.min(o.sliceBytes ?? 1 << 20, 1 << 20);
    this.slicesInFlight = o.slicesInFlightMax ?? 4;
    this.readPieceBytes = o.readPieceBytes ?? 4 << 20;
    this.readReplicasMax = o.readReplicasMax ?? 3;
    if (!(Number.isSafeInteger(this.readPieceBytes) && this.readPieceBytes > 0)) throw new RangeError(`readPieceBytes must be a positive integer, got ${this.readPieceBytes}`);
    if (!(Number.isSafeInteger(this.readReplicasMax) && this.readReplicasMax >= 1)) throw new RangeError(`readReplicasMax must be at least 1, got ${this.readReplicasMax}`);
    this.here = { ...(o.host === undefined ? {} : { host: o.host }), ...(o.rack === undefined ? {} : { rack: o.rack }) };
    this.operationTimeoutMs = o.operationTimeoutMs ?? o.leaseWaitMaxMs ?? this.cfg.leaseDurationMs + 2 * this.cfg.leaseSkewMarginMs + 10_000;
    if (!(this.operationTimeoutMs > 0)) throw new RangeError(`operationTimeoutMs must be positive, got ${this.operationTimeoutMs}`);
    if (o.masters.length === 0) throw new RangeError('GfsClient needs at least one master');
  }

  // ----- namespace -----

  mkdir(path: string): Promise<void> {
    return this.mutation({ type: 'gfs.master.mkdir', path });
  }

  /** Creates each missing directory on the way to `path`. */
  async mkdirs(path: string): Promise<void> {
    const parts = path.split('/').filter((p) => p !== '');
    for (let i = 1; i <= parts.length; i++) {
      const p = `/${parts.slice(0, i).join('/')}`;
      try {
        await this.mkdir(p);
      } catch (e) {
        if (!(e instanceof GfsClientError && e.code === 'already_exists')) throw e;
      }
    }
  }

  create(path: string): Promise<void> {
    return this.mutation({ type: 'gfs.master.create', path });
  }

  delete(path: string, options: { recursive?: boolean } = {}): Promise<void> {
    this.forget(path);
    return this.mutation({ type: 'gfs.master.delete', path, ...(options.recursive === undefined ? {} : { recursive: options.recursive }) });
  }

  undelete(path: string): Promise<void> {
    return this.mutation({ type: 'gfs.master.undelete', path });
  }

  rename(from: string, to: string): Promise<void> {
    this.forget(from);
    return this.mutation({ type: 'gfs.master.rename', from, to });
  }

  snapshot(source: string, target: string): Promise<void> {
    return this.mutation({ type: 'gfs.master.snapshot', source, target });
  }

  setPolicy(path: string, policy: { replication?: number; reclaimImmediately?: boolean }): Promise<void> {
    return this.mutation({ type: 'gfs.master.setPolicy', path, ...policy });
  }

  list(path: string, options: { includeDeleted?: boolean } = {}): Promise<FileInfo[]> {
    return this.query<FileInfo[]>({ type: 'gfs.master.list', path, ...(options.includeDeleted === undefined ? {} : { includeDeleted: options.includeDeleted }) });
  }

  stat(path: string): Promise<FileInfo> {
    return this.query<FileInfo>({ type: 'gfs.master.stat', path });
  }

  /** The file's length now: full chunks plus the last chunk's length as its replica says (stat's size may lag). */
  async size(path: string): Promise<number> {
    const chunks = (await this.stat(path)).chunks ?? 0;
    if (chunks === 0) return 0;
    const start = (chunks - 1) * this.cfg.chunkSizeBytes;
    return start + (await this.read(path, start, this.cfg.chunkSizeBytes)).length;
  }

  /** Missing, under-replicated, stale and corrupt chunks under `path`, with their files. */
  fsck(path = '/'): Promise<FsckReport> {
    return this.query<FsckReport>({ type: 'gfs.master.fsck', path });
  }

  /**
   * Follows a growing file (`tail -f`): yields the bytes appended after `fromOffset`, polling the
   * last chunk every `pollMs` until `signal` aborts.
   */
  async *follow(path: string, options: { fromOffset?: number; pollMs?: number; signal?: AbortSignal } = {}): AsyncGenerator<Uint8Array> {
    let offset = options.fromOffset ?? 0;
    const pollMs = options.pollMs ?? 500;
    while (options.signal?.aborted !== true) {
      const piece = await this.read(path, offset, 1 << 20);
      if (piece.length > 0) {
        offset += piece.length;
        yield piece;
        continue;
      }
      await this.sleep(pollMs);
    }
  }

  // ----- reads (¶84–88) -----

  /**
   * Reads up to `length` bytes at `offset`, across chunk boundaries; fewer at the end of the file.
   * The end of the file is the length of its last chunk as its replica says now (the master's
   * `stat` size lags: it knows lengths from chunkserver reports). Chunks before the last are full
   * size; a range never written (a hole left by a write past the end) reads as zeros.
   */
  async read(path: string, offset: number, length: number): Promise<Uint8Array> {
    if (!(Number.isSafeInteger(offset) && offset >= 0 && Number.isSafeInteger(length) && length >= 0)) throw new GfsClientError('invalid_path', `bad range ${offset}+${length}`);
    const chunks = (await this.stat(path)).chunks ?? 0;
    const chunk = this.cfg.chunkSizeBytes;
    const end = Math.min(offset + length, chunks * chunk);
    if (end <= offset) return new Uint8Array(0);
    const single = Math.floor(offset / chunk) === Math.floor((end - 1) / chunk);
    const out = single ? new Uint8Array(0) : new Uint8Array(end - offset);
    let filled = 0;
    for (let pos = offset; pos < end; ) {
      const index = Math.floor(pos / chunk);
      const within = pos - index * chunk;
      const n = Math.min(end - pos, chunk - within);
      const data = await this.readChunk(path, index, within, n);
      // A range within one chunk: its bytes as they came (no second copy).
      if (pos === offset && n === end - offset) return data.length > n ? data.subarray(0, n) : data;
      out.set(data.subarray(0, n), pos - offset);
      const last = index === chunks - 1;
      filled = pos - offset + (last ? Math.min(data.length, n) : n);
      if (last && data.length < n) break; // the end of the file
      pos += n;
    }
    return filled === out.length ? out : out.slice(0, filled);
  }

  /** The file's bytes in pieces (a stream for large files; `Readable.from(client.chunks(path))` gives a Node stream). */
  async *chunks(path: string, pieceBytes = 1 << 20): AsyncGenerator<Uint8Array> {
    for (let pos = 0; ; pos += pieceBytes) {
      const piece = await this.read(path, pos, pieceBytes);
      if (piece.length > 0) yield piece;
      if (piece.length < pieceBytes) return;
    }
  }

  /**
   * Reads one chunk's range from the nearest replicas, trying the others on failure (¶87).
   *
   * A range longer than `readPieceBytes` is cut into pieces, and one reader per equally near
   * replica (up to `readReplicasMax`) takes the next piece until none is left: a faster replica
   * serves more pieces. A reader whose replica fails puts its piece back and hands over to the
   * next replica not yet tried (nearest first); when every replica failed, the pieces still
   * missing are retried with fresh locations. A piece shorter than asked is the end of the chunk:
   * the result stops there.
   */
  private async readChunk(path: string, index: number, offset: number, wanted: number): Promise<Uint8Array> {
    // A sealed chunk ends at its sealed length (S1): a replica not yet cut to it may hold more.
    const sealed = (await this.location(path, index, false)).sealedBytes;
    const length = sealed === undefined ? wanted : Math.max(0, Math.min(wanted, sealed - offset));
    if (length === 0) return new Uint8Array(0);
    const pieceBytes = this.readPieceBytes;
    const pieces = Math.max(1, Math.ceil(length / pieceBytes));
    const got: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(pieces).fill(undefined);
    /** The first piece that came back short: the chunk ends in it, later pieces are not needed. */
    let endPiece = pieces;
    let lastError = '';
    let last: GfsError | undefined;
    for (let attempt = 0; attempt <= this.retries; attempt++) {
      const loc = await this.location(path, index, attempt > 0);
      const order = this.nearestFirst(loc.replicas, loc.handle);
      const todo: number[] = [];
      for (let p = 0; p < endPiece; p++) if (got[p] === undefined) todo.push(p);
      let nextReplica = 0;
      const reader = async (): Promise<void> => {
        while (todo.length > 0 && nextReplica < order.length) {
          const r = order[nextReplica++] as ReplicaAddr;
          let broken = false;
          // Up to READS_IN_FLIGHT_PER_REPLICA sub-reads at once on this replica: it starts the
          // next piece as soon as it has answered one, instead of idling for a round trip.
          const lane = async (): Promise<void> => {
            while (!broken) {
              const p = todo.shift();
              if (p === undefined) return;
              if (p >= endPiece) continue;
              const at = p * pieceBytes;
              const n = Math.min(pieceBytes, length - at);
              const reply = await this.o
                .ask<ReadReply>(r.ref as ActorRef<never>, { type: 'gfs.chunkserver.read', handle: loc.handle, version: loc.version, offset: offset + at, lengthBytes: n } satisfies ChunkserverMsg, { timeoutMs: this.cfg.rpcTimeoutMs })
                .catch((e: unknown) => failure<ReadReply>(e));
              if (!reply.ok) {
                lastError = `${r.server}: ${reply.error.code}: ${reply.error.message}`;
                last = reply.error;
                todo.unshift(p);
                broken = true; // on to the next replica not yet tried
                return;
              }
              got[p] = reply.value.data;
              if (reply.value.data.length < n && p < endPiece) endPiece = p + 1;
            }
          };
          await Promise.all(Array.from({ length: READS_IN_FLIGHT_PER_REPLICA }, lane));
          if (!broken) return;
        }
      };
      // One reader per equally near replica (they share the pieces); farther ones only take over.
      const nearest = order.filter((r) => this.distance(r) === this.distance(order[0] as ReplicaAddr)).length;
      await Promise.all(Array.from({ length: Math.max(1, Math.min(this.readReplicasMax, nearest, pieces)) }, reader));
      let missing = false;
      for (let p = 0; p < endPiece; p++) if (got[p] === undefined) missing = true;
      if (!missing) return assemble(got, endPiece, pieceBytes);
      if (loc.replicas.length === 0) {
        lastError = `no live replica of chunk ${index} of ${path}`;
        last = undefined;
      }
      this.locations.delete(key(path, index));
      await this.sleep(this.backoffMs(attempt));
    }
    // With the last replica's runtime failure, if that is how it failed (a read changes nothing either way).
    throw new GfsClientError('chunkserver_failed', `reading chunk ${index} of ${path} failed on every replica: ${lastError}`, runtimeCause(last));
  }

  private async location(path: string, index: number, refresh: boolean): Promise<ChunkLocation> {
    const k = key(path, index);
    const cached = this.locations.get(k);
    if (!refresh && cached !== undefined && cached.expiresAt > this.o.clock.now()) return cached.value;
    const locs = await this.query<ChunkLocation[]>({ type: 'gfs.master.getChunkLocations', path, index, count: this.prefetch });
    const expiresAt = this.o.clock.now() + this.ttlMs;
    for (const l of locs) this.locations.set(key(path, l.index), { value: l, expiresAt });
    const hit = locs.find((l) => l.index === index);
    if (hit === undefined) throw new GfsClientError('chunk_not_found', `${path} has no chunk ${index}`);
    return hit;
  }

  // ----- writes (¶89–100) -----

  /** Writes `data` at `offset` (creating chunks as needed). Serial successful writes leave the region defined. */
  async write(path: string, offset: number, data: Uint8Array): Promise<void> {
    if (!(Number.isSafeInteger(offset) && offset >= 0)) throw new GfsClientError('invalid_path', `bad offset ${offset}`);
    const chunk = this.cfg.chunkSizeBytes;
    // The master creates only the next chunk of a file: create any missing ones before the range.
    const first = Math.floor(offset / chunk);
    for (let i = await this.chunkCount('write', path, this.o.clock.now(), new Attempts()); i < first; i++) {
      const l = await this.leaseFor(path, i, false);
      if (!l.ok) throw new GfsClientError('chunkserver_failed', `cannot create chunk ${i} of ${path}: ${describe(l.error)}`, runtimeCause(l.error));
    }
    for (let pos = 0; pos < data.length; ) {
      const at = offset + pos;
      const index = Math.floor(at / chunk);
      const within = at - index * chunk;
      const n = Math.min(data.length - pos, chunk - within);
      await this.writeChunk(path, index, within, data.subarray(pos, pos + n));
      pos += n;
    }
  }

  private async writeChunk(path: string, index: number, offset: number, data: Uint8Array): Promise<void> {
    const tried = new Attempts();
    const started = this.o.clock.now();
    for (let attempt = 0; ; attempt++) {
      const lease = await this.leaseFor(path, index, attempt > 0);
      if (!lease.ok) {
        tried.failedBefore(lease.error);
        if (lease.error.code === 'chunk_sealed') throw tried.error('chunk_sealed', lease.error.message);
        // A failed primary's lease: the paper's way is to wait until it ends (¶90); within the deadline.
        if (await this.pause('write', path, index, lease.error, attempt, started)) continue;
        break;
      }
      const l = lease.value;
      const pushed = await this.push([l.primary, ...l.secondaries], data);
      if (!pushed.ok) {
        tried.failedBefore(pushed.error);
        this.leases.delete(key(path, index));
        if (await this.pause('write', path, index, pushed.error, attempt, started)) continue;
        break;
      }
      const reply = await this.o
        .ask<GfsResult<unknown>>(l.primary.ref as ActorRef<never>, { type: 'gfs.chunkserver.write', handle: l.handle, version: l.version, offset, pushId: pushed.value, lengthBytes: data.length, secondaries: l.secondaries } satisfies ChunkserverMsg, { timeoutMs: this.cfg.rpcTimeoutMs })
        .catch((e: unknown) => failure<GfsResult<unknown>>(e));
      if (reply.ok) return this.reportLength(l, offset + data.length);
      tried.failedMutation(reply.error);
      if (!RETRYABLE.has(reply.error.code)) throw tried.error(reply.error.code, reply.error.message);
      this.leases.delete(key(path, index));
      if (!(await this.pause('write', path, index, reply.error, attempt, started))) break;
    }
    throw tried.error('chunkserver_failed', `write to chunk ${index} of ${path} did not succeed within ${this.operationTimeoutMs} ms (${tried.count} attempts): ${tried.lastText}`);
  }

  /**
   * Atomic record append (¶101–108): GFS picks the offset and writes the record at least once as
   * a unit; the returned offset is where this (successful) copy is. A failed attempt is retried,
   * possibly leaving a duplicate or a partial record elsewhere — readers of such files use
   * `RecordReader`, which skips them. Records are at most a quarter chunk (¶104).
   */
  async append(path: string, record: Uint8Array): Promise<{ offset: number }> {
    const max = Math.floor(this.cfg.chunkSizeBytes / 4);
    if (record.length > max) throw new GfsClientError('record_too_large', `record of ${record.length} bytes exceeds a quarter chunk (${max} bytes, ¶104)`);
    const tried = new Attempts();
    const started = this.o.clock.now();
    let index = Math.max(0, (await this.chunkCount('append', path, started, tried)) - 1);
    // Whether the last failure already led to a seal: a second one in a row waits a backoff first,
    // so a client that cannot reach any chunkserver does not seal chunk after chunk.
    let sealedLast = false;
    for (let attempt = 0; ; ) {
      const lease = await this.leaseFor(path, index, attempt > 0);
      if (!lease.ok) {
        tried.failedBefore(lease.error);
        // S3: a sealed chunk takes no more appends; the record goes to the next one.
        if (lease.error.code === 'chunk_sealed') {
          index++;
          continue;
        }
        // S4: no lease can be granted now (its primary failed, or the master restarted): rather
        // than wait for the old lease to end, seal the chunk and go on in the next one.
        // After a master restart the wait is for a heartbeat that names the lease holder (M6), not
        // for a lease: wait for it rather than seal a chunk that is healthy.
        if (lease.error.code === 'lease_unavailable' && !sealedLast && lease.error.awaitingReport !== true) {
          const next = await this.sealFor(path, index, undefined);
          if (next !== undefined) {
            index = next;
            sealedLast = true;
            continue;
          }
        }
        sealedLast = false;
        attempt++;
        if (await this.pause('append', path, index, lease.error, attempt, started)) continue;
        break;
      }
      const l = lease.value;
      const pushed = await this.push([l.primary, ...l.secondaries], record);
      let reply: AppendReply;
      if (!pushed.ok) {
        tried.failedBefore(pushed.error);
        reply = { ok: false, error: pushed.error };
      } else {
        reply = await this.o
          .ask<AppendReply>(l.primary.ref as ActorRef<never>, { type: 'gfs.chunkserver.append', handle: l.handle, version: l.version, pushId: pushed.value, lengthBytes: record.length, secondaries: l.secondaries } satisfies ChunkserverMsg, { timeoutMs: this.cfg.rpcTimeoutMs })
          .catch((e: unknown) => failure<AppendReply>(e));
      }
      if (reply.ok) {
        if ('offset' in reply.value) {
          await this.reportLength(l, reply.value.offset + record.length);
          return { offset: index * this.cfg.chunkSizeBytes + reply.value.offset };
        }
        index++; // the chunk was padded: the record goes to the next one (¶104); not a failure
        continue;
      }
      if (pushed.ok) tried.failedMutation(reply.error);
      this.leases.delete(key(path, index));
      if (reply.error.code === 'chunk_sealed') {
        // Sealed meanwhile (another producer's failure, S2): on to the next chunk.
        index++;
        continue;
      }
      if (!RETRYABLE.has(reply.error.code)) throw tried.error(reply.error.code, reply.error.message);
      if (failedReplica(reply.error) && !sealedLast) {
        // S4: a replica failed (no answer, or the primary reports a failed secondary): seal the
        // chunk at what its reachable replicas agree on and go on in the next one.
        const next = await this.sealFor(path, index, l.version);
        if (next !== undefined) {
          index = next;
          sealedLast = true;
          continue;
        }
      }
      sealedLast = false;
      attempt++;
      if (!(await this.pause('append', path, index, reply.error, attempt, started))) break;
    }
    throw tried.error('chunkserver_failed', `record append to ${path} did not succeed within ${this.operationTimeoutMs} ms (${tried.count} attempts): ${tried.lastText}`);
  }

  /**
   * Asks the master to seal chunk `index` of `path` (README S1–S5) after an append failed there at
   * `version` (undefined: no lease could be granted). Resolves with the chunk index to append to
   * next, or undefined when the chunk was not sealed (retry as usual).
   */
  private async sealFor(path: string, index: number, version: number | undefined): Promise<number | undefined> {
    const r = await this.askMaster<{ handle: bigint; sealedBytes: number }>({ type: 'gfs.master.sealChunk', path, index, ...(version === undefined ? {} : { version }) }, true);
    this.leases.delete(key(path, index));
    this.locations.delete(key(path, index));
    if (r.ok) return index + 1;
    // Not the last chunk any more (padded, or sealed and followed by another): append to the last.
    if (r.error.code === 'invalid_request') {
      const st = await this.askMaster<FileInfo>({ type: 'gfs.master.stat', path }, false);
      return st.ok ? Math.max(index, (st.value.chunks ?? 1) - 1) : undefined;
    }
    return undefined;
  }

  /** The file's chunk count, asking again while no master answers, within the operation's deadline. */
  private async chunkCount(op: 'write' | 'append', path: string, started: number, tried: Attempts): Promise<number> {
    for (let attempt = 0; ; attempt++) {
      const r = await this.askMaster<FileInfo>({ type: 'gfs.master.stat', path }, false);
      if (r.ok) return r.value.chunks ?? 0;
      if (!isUnreachable(r.error.code)) throw GfsClientError.of(r.error);
      tried.failedBefore(r.error);
      if (!(await this.pause(op, path, 0, r.error, attempt, started))) throw tried.error(r.error.code, `${op} to ${path}: no master answered within ${this.operationTimeoutMs} ms: ${tried.lastText}`);
    }
  }

  /**
   * Waits before the next attempt of a write or append: for a write, the time the master named for
   * a lease to become grantable, else a backoff; never past the operation's deadline. False when the deadline
   * leaves no room for another attempt (or the lease cannot be granted before it).
   */
  private async pause(op: 'write' | 'append', path: string, chunkIndex: number, e: GfsError, attempt: number, started: number): Promise<boolean> {
    const now = this.o.clock.now();
    const deadline = started + this.operationTimeoutMs;
    // A write waits for the lease the master names (¶90); an append never needs that lease: it
    // seals the chunk and moves on (S4), so it only backs off before trying the seal again.
    const wanted = e.retryAfterMs !== undefined && (op === 'write' || e.awaitingReport === true) ? e.retryAfterMs + 1 : this.backoffMs(attempt);
    if (now + wanted >= deadline) return false;
    this.o.onWait?.({ op, path, chunkIndex, code: e.code, message: e.message, waitMs: wanted, elapsedMs: now - started, timeoutMs: this.operationTimeoutMs });
    await this.sleep(wanted);
    return true;
  }

  /** The lease holder for a chunk, from the cache while the lease runs (¶92), else from the master. */
  private async leaseFor(path: string, index: number, refresh: boolean): Promise<GfsResult<ChunkLease>> {
    const k = key(path, index);
    const cached = this.leases.get(k);
    const now = this.o.clock.now();
    if (!refresh && cached !== undefined && cached.expiresAt > now) return { ok: true, value: cached.value };
    const r = await this.askMaster<ChunkLease>({ type: 'gfs.master.findLeaseHolder', path, index }, true);
    if (!r.ok) {
      if (!RETRYABLE.has(r.error.code) && r.error.code !== 'chunk_sealed') throw GfsClientError.of(r.error);
      return r;
    }
    // Trust the lease a little less long than the master says, for clock skew.
    this.leases.set(k, { value: r.value, expiresAt: Math.min(r.value.expiresAt, now + this.cfg.leaseDurationMs) - this.cfg.leaseSkewMarginMs });
    return { ok: true, value: r.value };
  }

  /**
   * Pushes data to every replica (¶94–97): slices go to the nearest replica, which forwards each
   * one along the chain as it arrives; up to `slicesInFlightMax` slices are in flight at once
   * (per replica in a star push).
   */
  private async push(replicas: readonly ReplicaAddr[], data: Uint8Array): Promise<GfsResult<string>> {
    const chain = this.chainOrder(replicas);
    if (chain.length === 0) return { ok: false, error: { code: 'chunkserver_failed', message: 'no replica to push to' } };
    const pushId = `${this.o.clientId}:${++this.pushSeq}`;
    const slices = Math.max(1, Math.ceil(data.length / this.sliceBytes));
    let error: GfsError | undefined;
    // One stream of slices per target: the chain's head (which forwards to the rest), or, in a
    // star, every replica with an empty chain of its own.
    const streams = this.o.pushTopology === 'star' ? chain.map((r) => ({ head: r, rest: [] as ReplicaAddr[] })) : [{ head: chain[0] as ReplicaAddr, rest: chain.slice(1) }];
    await Promise.all(
      streams.map(async ({ head, rest }) => {
        let next = 0;
        const sender = async (): Promise<void> => {
          while (next < slices && error === undefined) {
            const slice = next++;
            const view = data.subarray(slice * this.sliceBytes, Math.min(data.length, (slice + 1) * this.sliceBytes));
            // The caller's data stays the caller's (and serves a retry and the other replicas of a
            // star push): send a copy of the slice and give that copy away, so a thread transport
            // moves it instead of copying it again (ownership.ts).
            const part = transferOwnership(view.slice());
            const r = await this.o
              .ask<GfsResult<unknown>>(head.ref as ActorRef<never>, { type: 'gfs.chunkserver.pushData', pushId, slice, slices, data: part, chain: rest } satisfies ChunkserverMsg, { timeoutMs: this.cfg.rpcTimeoutMs })
              .catch((e: unknown) => failure<GfsResult<unknown>>(e));
            // A full push buffer stays `busy` (retry later), anything else counts as a failed replica.
            if (!r.ok) error = { ...r.error, code: r.error.code === 'busy' ? 'busy' : 'chunkserver_failed', message: `push to ${head.server}: ${r.error.code}: ${r.error.message}` };
          }
        };
        await Promise.all(Array.from({ length: Math.min(this.slicesInFlight, slices) }, sender));
      }),
    );
    return error === undefined ? { ok: true, value: pushId } : { ok: false, error };
  }

  /**
   * Replicas by network distance (same host, then same rack, then the rest; ¶87). Equally near
   * replicas are ordered by a hash of this client and the chunk and server, not by name: by name,
   * every client would read each chunk from the same replica, and the servers whose names sort
   * first would serve most reads.
   */
  private nearestFirst(replicas: readonly ReplicaAddr[], handle: bigint): ReplicaAddr[] {
    const salt = `${this.o.clientId}/${handle}/`;
    const rank = new Map(replicas.map((r) => [r.server, fnv1a(salt + r.server)]));
    return [...replicas].sort((a, b) => this.distance(a) - this.distance(b) || (rank.get(a.server) ?? 0) - (rank.get(b.server) ?? 0) || (a.server < b.server ? -1 : 1));
  }

  /**
   * The push chain: from the client, always on to the closest replica not yet in the chain (¶95).
   * Closest of all is a replica in the same runtime node (the same thread of the same process):
   * that hop costs no copy between threads, let alone a network transfer.
   */
  private chainOrder(replicas: readonly ReplicaAddr[]): ReplicaAddr[] {
    const left = [...replicas];
    const chain: ReplicaAddr[] = [];
    let from: Place = this.here;
    while (left.length > 0) {
      left.sort((a, b) => hops(from, a) - hops(from, b) || (a.server < b.server ? -1 : 1));
      const next = left.shift() as ReplicaAddr;
      chain.push(next);
      from = { node: next.ref.node, host: next.host, rack: next.rack };
    }
    return chain;
  }

  private distance(r: ReplicaAddr): number {
    return hops(this.here, r);
  }

  // ----- master requests -----

  /**
   * Tells the primary master that an acknowledged mutation made the chunk at least `endBytes` long,
   * and waits for the answer: when a write or append returns, `stat` and `ls` show its bytes (the
   * master's own view of lengths lags by a heartbeat). Best effort: heartbeats carry the length too,
   * so a master that does not answer is left alone for a while instead of slowing every write.
   */
  private async reportLength(l: ChunkLease, endBytes: number): Promise<void> {
    const now = this.o.clock.now();
    if (now < this.lengthReportsPausedUntil) return;
    const r = await this.askMaster<null>({ type: 'gfs.master.reportLength', handle: l.handle, version: l.version, lengthBytes: endBytes }, true);
    if (!r.ok && isUnreachable(r.error.code)) this.lengthReportsPausedUntil = this.o.clock.now() + LENGTH_REPORT_PAUSE_MS;
  }

  private async mutation(m: MasterMsg): Promise<void> {
    const r = await this.askMaster<unknown>(m, true);
    if (!r.ok) throw GfsClientError.of(r.error);
  }

  private async query<T>(m: MasterMsg): Promise<T> {
    const r = await this.askMaster<T>(m, false);
    if (!r.ok) throw GfsClientError.of(r.error);
    return r.value;
  }

  /** Asks the primary master; reads fall back to shadows when the primary cannot be reached (¶120). */
  private async askMaster<T>(m: MasterMsg, mutation: boolean): Promise<GfsResult<T>> {
    const targets = mutation ? this.o.masters.slice(0, 1) : this.o.masters;
    let last: GfsResult<T> = { ok: false, error: { code: 'not_primary', message: 'no master answered' } };
    for (const master of targets) {
      last = await this.o.ask<GfsResult<T>>(master as ActorRef<never>, m, { timeoutMs: this.cfg.rpcTimeoutMs }).catch((e: unknown) => failure<GfsResult<T>>(e));
      if (last.ok || !isUnreachable(last.error.code)) return last;
    }
    return last;
  }

  private forget(path: string): void {
    const prefix = `${path}#`;
    for (const k of [...this.locations.keys()]) if (k.startsWith(prefix)) this.locations.delete(k);
    for (const k of [...this.leases.keys()]) if (k.startsWith(prefix)) this.leases.delete(k);
  }

  private backoffMs(attempt: number): number {
    return Math.min(2_000, 50 * 2 ** attempt);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => void this.o.timers.after(ms, resolve));
  }

  /** Runs `fn` after `ms` on the client's timers. */
  after(ms: number, fn: () => void): void {
    this.o.timers.after(ms, fn);
  }

  /** A new request id. */
  newRequestId(): string {
    return this.o.requestIds?.() ?? `${this.o.clientId}:r${++this.requestSeq}`;
  }

  /**
   * Runs `fn` as one request: every client operation it calls, and every message they send, carry
   * `rid` (default: a new id), so a command made of several operations (a CLI `put` is a create
   * and writes) is one request in the logs. Needs `requestContext`; without it `fn` just runs.
   * A `GfsClientError` thrown out of it names the request id.
   */
  async request<T>(fn: () => Promise<T>, rid: string = this.newRequestId()): Promise<T> {
    const context = this.o.requestContext;
    try {
      return await (context === undefined ? fn() : context.run({ rid }, fn));
    } catch (err) {
      if (err instanceof GfsClientError && err.requestId === undefined) err.requestId = rid;
      throw err;
    }
  }

  /** Runs public operation `op` under a request id (its caller's, or a new one), and logs it. */
  private traced<T>(op: string, args: readonly unknown[], fn: () => Promise<T>): Promise<T> {
    const context = this.o.requestContext;
    const log = this.o.log;
    // Nothing would carry or record the id (the simulator's clients): run the operation as it is,
    // without the extra turns of the wrapper, so simulated schedules stay as they were.
    if (context === undefined && log === undefined) return fn();
    const outer = context?.current();
    // An operation another one calls (write → stat, mkdirs → mkdir) is part of it: not logged again.
    if (outer?.op !== undefined) return fn();
    const rid = outer?.rid ?? this.newRequestId();
    const started = this.o.clock.now();
    const what = { rid, op, ...describeArgs(args) };
    log?.info(`client ${op}`, what);
    const run = async (): Promise<T> => {
      try {
        const value = await fn();
        log?.info(`client ${op} done`, { ...what, durationMs: this.o.clock.now() - started });
        return value;
      } catch (err) {
        if (err instanceof GfsClientError && err.requestId === undefined) err.requestId = rid;
        log?.warn(`client ${op} failed`, { ...what, durationMs: this.o.clock.now() - started, error: err instanceof Error ? err.message : String(err) });
        throw err;
      }
    };
    return context === undefined ? run() : context.run({ rid, op }, run);
  }
}

/** Operation arguments for the log: paths and numbers as they are, data as its length. */
function describeArgs(args: readonly unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  args.forEach((a, i) => {
    if (typeof a === 'string') out[i === 0 ? 'path' : `arg${i}`] = a;
    else if (typeof a === 'number') out[i === 1 ? 'offset' : `arg${i}`] = a;
    else if (a instanceof Uint8Array) out['bytes'] = a.byteLength;
  });
  return out;
}

/** The public operations that get a request id and a log entry each (streams like `chunks` and `follow` are made of reads). */
const TRACED_OPERATIONS = ['mkdir', 'mkdirs', 'create', 'delete', 'undelete', 'rename', 'snapshot', 'setPolicy', 'list', 'stat', 'size', 'fsck', 'read', 'write', 'append'] as const;
for (const op of TRACED_OPERATIONS) {
  const method = GfsClient.prototype[op] as (this: GfsClient, ...args: unknown[]) => Promise<unknown>;
  Object.defineProperty(GfsClient.prototype, op, {
    configurable: true,
    writable: true,
    value: function (this: GfsClient, ...args: unknown[]): Promise<unknown> {
      return (this as unknown as { traced: GfsClient['traced'] }).traced(op, args, () => method.apply(this, args));
    },
  });
}

/**
 * Writes framed records to an append file (¶107): each record gets a unique id and a checksum,
 * so `RecordReader` can drop duplicates from retried appends and skip padding and partial records.
 */
export class RecordWriter {
  private seq = 0n;

  /** `writerId`: a random 64-bit number, unique among this file's writers. */
  constructor(
    private readonly client: GfsClient,
    readonly path: string,
    readonly writerId: bigint,
  ) {}

  /** Appends one record; resolves with its offset once GFS acknowledged it (at-least-once). */
  append(data: Uint8Array): Promise<{ offset: number }> {
    return this.client.append(this.path, encodeRecord({ writer: this.writerId, seq: ++this.seq }, data));
  }
}

/** Reads an append file's records: each acknowledged record exactly once, in file order (R1). */
export class RecordReader {
  readonly stats: ParseStats = { skippedBytes: 0, paddingBytes: 0 };
  private readonly seen = new DuplicateFilter();

  constructor(
    private readonly client: GfsClient,
    readonly path: string,
  ) {}

  /** Every record now in the file, in file order. */
  async *records(): AsyncGenerator<{ readonly writer: bigint; readonly seq: bigint; readonly data: Uint8Array; readonly offset: number }> {
    const info = await this.client.stat(this.path);
    const chunkBytes = this.client.cfg.chunkSizeBytes;
    for (let index = 0; index < (info.chunks ?? 0); index++) {
      const start = index * chunkBytes;
      const bytes = await this.client.read(this.path, start, chunkBytes);
      const { records } = parseRecords(bytes, Math.floor(chunkBytes / 4), this.stats);
      for (const r of records) {
        if (this.seen.firstTime(r)) yield { writer: r.writer, seq: r.seq, data: r.data, offset: start + r.offset };
      }
    }
  }

  /**
   * Follows the file as producers append (a queue consumer): yields each record once as it
   * becomes readable, polling every `pollMs`, until `signal` aborts. A frame still being written
   * at the end of a chunk is picked up on a later poll.
   */
  async *follow(options: { pollMs?: number; signal?: AbortSignal } = {}): AsyncGenerator<{ readonly writer: bigint; readonly seq: bigint; readonly data: Uint8Array; readonly offset: number }> {
    const chunkBytes = this.client.cfg.chunkSizeBytes;
    let index = 0;
    let at = 0; // where parsing resumes within chunk `index`
    while (options.signal?.aborted !== true) {
      const chunks = (await this.client.stat(this.path)).chunks ?? 0;
      let progressed = false;
      while (index < chunks) {
        const start = index * chunkBytes;
        const bytes = await this.client.read(this.path, start + at, chunkBytes - at);
        const { records, consumed } = parseRecords(bytes, Math.floor(chunkBytes / 4), this.stats);
        for (const r of records) {
          if (this.seen.firstTime(r)) yield { writer: r.writer, seq: r.seq, data: r.data, offset: start + at + r.offset };
        }
        if (consumed > 0) progressed = true;
        // A later chunk exists: this one is complete (padded or full); move on.
        if (index < chunks - 1) {
          index++;
          at = 0;
          continue;
        }
        at += consumed;
        break;
      }
      if (!progressed) await new Promise<void>((resolve) => this.client.after(options.pollMs ?? 200, resolve));
    }
  }
}

export const recordOverheadBytes = RECORD_HEADER_BYTES;

/** The pieces of a chunk read, up to `count`, as one array (the piece itself when there is one). */
function assemble(got: readonly (Uint8Array | undefined)[], count: number, pieceBytes: number): Uint8Array {
  if (count === 1) return got[0] as Uint8Array;
  const last = got[count - 1] as Uint8Array;
  const out = new Uint8Array((count - 1) * pieceBytes + last.length);
  for (let p = 0; p < count; p++) out.set(got[p] as Uint8Array, p * pieceBytes);
  return out;
}

function key(path: string, index: number): string {
  return `${path}#${index}`;
}

/** FNV-1a, 32 bits: a cheap, stable spread of equally near replicas over clients. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** Where a client or replica runs: its runtime node (a thread), host and rack, as far as known. */
interface Place {
  readonly node?: string;
  readonly host?: string;
  readonly rack?: string;
}

/** Network distance: same runtime node, same host, same rack, elsewhere. */
function hops(from: Place, to: ReplicaAddr): number {
  if (from.node !== undefined && from.node === to.ref.node) return 0;
  if (from.host !== undefined && from.host === to.host) return 1;
  if (from.rack !== undefined && from.rack === to.rack) return 2;
  return 3;
}

function isUnreachable(code: GfsErrorCode): boolean {
  return code === 'chunkserver_failed' || code === 'log_unavailable' || code === 'io_error';
}

/** A failed ask (timeout, link down, no such actor) as a result value, with the runtime's code and whether the request can have been delivered. */
function failure<R extends GfsResult<unknown>>(e: unknown): R {
  if (e instanceof TroupeError) return { ok: false, error: { code: 'chunkserver_failed', message: e.message, runtimeCode: e.code, delivery: e.delivery } } as R;
  return { ok: false, error: { code: 'io_error', message: e instanceof Error ? e.message : String(e) } } as R;
}

/**
 * Whether an append's failure points at a replica that failed (README S4): no answer from a
 * chunkserver (the push or the append request), a primary reporting failed replicas, or a disk
 * error. A lease that lapsed or pushed data that aged out is retried without sealing.
 */
function failedReplica(e: GfsError): boolean {
  return e.runtimeCode !== undefined || e.code === 'chunkserver_failed' || e.code === 'io_error';
}

function describe(e: GfsError): string {
  return `${e.code}: ${e.message}`;
}

/**
 * The failures of a write's or an append's attempts, for the error it ends with: the last
 * failure's text and runtime code, and whether any attempt may have changed a replica. Only the
 * mutation request itself (write, append) changes data; a failed lease request or data push
 * changes nothing (pushed data is only buffered, ¶94). So the operation had no effect — is safe to
 * retry as a whole — only if no mutation request may have been delivered.
 */
class Attempts {
  lastText = '';
  /** Failed attempts so far. */
  count = 0;
  private last: GfsError | undefined;
  private mayHaveApplied = false;

  failedBefore(e: GfsError): void {
    this.count++;
    this.lastText = describe(e);
    this.last = e;
  }

  failedMutation(e: GfsError): void {
    if (this.last !== e) this.failedBefore(e);
    // A GFS error answer (the primary failed a secondary, a lease ran out mid-way) or no answer at
    // all may leave the region changed on some replicas (Table 1: inconsistent).
    if (!(e.runtimeCode !== undefined && e.delivery === 'not_delivered')) this.mayHaveApplied = true;
  }

  error(code: GfsErrorCode, message: string): GfsClientError {
    const cause = runtimeCause(this.last);
    if (cause.runtimeCode === undefined) return new GfsClientError(code, message);
    return new GfsClientError(code, message, { runtimeCode: cause.runtimeCode, delivery: this.mayHaveApplied ? 'unknown' : (cause.delivery ?? 'unknown') });
  }
}
