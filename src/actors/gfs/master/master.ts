import type { ActorContext, ActorFactory, Behavior } from '../../../runtime/behavior.js';
import { Deque } from '../../../mailbox/deque.js';
import type { ActorRef } from '../../../runtime/ref.js';
import { defaultGfsConfig, type GfsConfig } from '../config.js';
import { fail, ok, type GfsError, type GfsResult } from '../errors.js';
import { ridField } from '../protocol.js';
import type {
  ChunkHandle,
  ChunkLease,
  ChunkLocation,
  ChunkReport,
  ChunkserverMsg,
  ChunkserverReply,
  ClusterStatus,
  FileInfo,
  FsckProblem,
  FsckReport,
  HeartbeatReply,
  MasterEvent,
  MasterMsg,
  MasterRole,
  ReplicaAddr,
  RpcLogEntry,
  SealReply,
  ServerStatus,
} from '../protocol.js';
import type { Journal } from './journal.js';
import { LeaseTable, type LeaseHolder } from './lease-table.js';
import { LockTable, lockSet, type LockMode } from './lock-table.js';
import { MasterState, type MasterCheckpoint, type MasterRecord } from './master-state.js';
import { expiredHidden, info, planCreate, planDelete, planRename, planSetPolicy, planSnapshot, planUndelete, type PlanContext } from './namespace.js';
import { pathProblem } from './paths.js';
import { choosePlacement, planRebalance, type ServerView } from './placement.js';
import { planClones, ReplicationBacklog, type UnderReplicated } from './replication.js';

/**
 * The GFS master as an actor (patent ¶41–81, ¶89–90, ¶110–121). Pure cores — the lock table,
 * the state and its records, leases, placement, re-replication — live in their own files; this
 * shell does the I/O: the replicated log, chunkserver commands, heartbeats and timers.
 *
 * Turns: the master is *reentrant* (DESIGN.md §3). Long operations (waiting for a lock, a log
 * flush, a chunkserver) yield at `await`, and other requests proceed meanwhile; the namespace
 * locks of ¶53–59 isolate operations that touch the same paths.
 *
 * Roles: the `primary` accepts mutations. A `replica` keeps a durable copy of the log; the primary
 * replies to a client only after its own journal *and every replica* have the record (¶48, ¶118).
 * A `shadow` follows the log without a journal of its own (¶120–121). Replicas and shadows serve
 * read-only requests (list, stat, chunk locations) and answer mutations with `not_primary`.
 */
export interface MasterOptions {
  readonly role: MasterRole;
  /** Durable log; required for the primary and replicas. */
  readonly journal?: Journal;
  /** Master replicas the primary must reach before a change is committed (¶118). */
  readonly replicas?: readonly ActorRef<MasterMsg>[];
  /** Followers told about records asynchronously (shadows, ¶121). */
  readonly followers?: readonly ActorRef<MasterMsg>[];
  /** The primary's address, named in `not_primary` errors. */
  readonly primaryName?: string;
  readonly config?: Partial<GfsConfig>;
  /** Start in recovery mode: no lease before the previous incarnation's could have expired. Default true. */
  readonly afterRestart?: boolean;
  /**
   * Called after each logged client or administrative request completes (the same requests the RPC
   * log keeps, ¶129), with the request type, `ok` or the error code, and the duration in ms on the
   * master clock. For metrics; it must not throw or block.
   */
  readonly onRequest?: (type: string, outcome: string, durationMs: number) => void;
}

interface ServerState {
  readonly id: string;
  ref: ActorRef<ChunkserverMsg>;
  rack: string;
  host: string;
  usedBytes: number;
  capacityBytes: number;
  lastHeartbeat: number;
  alive: boolean;
  reported: boolean;
  lastReportAt: number;
  /** Replicas as last reported or since created: handle → version, length. */
  readonly chunks: Map<ChunkHandle, { version: number; lengthBytes: number }>;
  decommission: 'none' | 'draining' | 'done';
  readonly recentCreations: number[];
  /**
   * A command to it got no answer from the runtime (link down, no such actor, timeout) since its
   * last heartbeat: new replicas go elsewhere until it heartbeats again, rather than for the
   * heartbeat timeout's worth of chunk creations that would each come out a replica short.
   */
  silent: boolean;
}

const TAIL_RECORDS_MAX = 10_000;
/** Events kept for status (the dashboard's recent events). */
const EVENTS_MAX = 32;

export function gfsMaster(options: MasterOptions): ActorFactory<MasterMsg> {
  return (ctx) => new Master(ctx, options).behavior();
}

class Master {
  private readonly cfg: GfsConfig;
  private state = new MasterState();
  private readonly locks = new LockTable();
  private readonly leases: LeaseTable;
  private readonly servers = new Map<string, ServerState>();
  /** Up-to-date replica holders per chunk (locations, ¶45): rebuilt from reports, never persisted. */
  private readonly locations = new Map<ChunkHandle, Set<string>>();
  private readonly clones = new Map<string, { handle: ChunkHandle; source: string; target: string }>();
  private readonly blocking = new Set<ChunkHandle>();
  /** Replicas found stale (¶77) or corrupt (¶124), per chunk, until the chunk is healthy again: for fsck. */
  private readonly staleReplicas = new Map<ChunkHandle, Set<string>>();
  private readonly corruptReplicas = new Map<ChunkHandle, Set<string>>();
  /**
   * Replicas that did not confirm the latest version bump of a chunk (¶77). One may still have made
   * the bump (its answer was lost, or came too late) and later report the new version, yet it was
   * left out of the lease and misses its mutations: it stays stale until a newer bump.
   */
  /** Versions newer than the log's, found in reports and being logged (one record per chunk). */
  private readonly adopting = new Map<ChunkHandle, number>();
  private readonly missedBump = new Map<ChunkHandle, { readonly version: number; readonly servers: Set<string> }>();
  /**
   * Chunks a replica refused a lease on because it is fenced for a seal this master has not logged
   * (a previous incarnation crashed between fencing and logging, S2): sealed on the next request,
   * without the check that a lease could be granted instead. Bounded like `missedBump`.
   */
  private readonly fencedUnsealed = new Set<ChunkHandle>();
  /** Under-replicated and missing chunks, kept current with every change (M12): status reads their sizes. */
  private readonly backlog = new ReplicationBacklog();
  /** Chunks whose metadata the records just applied changed (filled by `MasterState.apply`). */
  private readonly touched = new Set<ChunkHandle>();
  /**
   * Chunk lengths clients reported after an acknowledged write or append (`reportLength`): a floor
   * under the replicas' reported lengths, which lag by a heartbeat and may be older than the
   * acknowledgement. Only grows; dropped with the chunk. Not persisted: after a restart, reports
   * of the (synced) replicas carry every acknowledged byte.
   */
  private readonly ackedLengths = new Map<ChunkHandle, number>();
  /** Handles being created or copied but not yet logged: a report naming them is not garbage. */
  private readonly pendingChunks = new Set<ChunkHandle>();
  /**
   * The last requests (¶129). An entry keeps the outcome's code and message, not the reply: a
   * reply can be large (a status, a listing of a big directory), and the log would keep up to
   * `rpcLogEntriesMax` of them alive, each copied by young garbage collections before promotion.
   */
  private readonly rpcLog: Deque<{ time: number; from: ActorRef<unknown> | undefined; request: MasterMsg; outcome: string; durationMs: number }> = new Deque(64);
  /** Recent records for catching up lagging replicas and followers. */
  private readonly tail: Deque<MasterRecord> = new Deque(64);
  private lsn = 0;
  private checkpointLsn = 0;
  private hiddenSeq = 0;
  private ready = false;
  /** Replica lsn as last acknowledged. */
  private readonly replicaLsn = new Map<string, number>();
  /** The last journal append in flight (appends are issued in lsn order and complete in order). */
  private lastAppend: Promise<unknown> = Promise.resolve();
  /**
   * This incarnation's name (random, fresh at every start). Chunkservers learn it from heartbeat
   * replies and from then on refuse lease grants of any other incarnation, so a lease report they
   * send naming it is complete for good (M6).
   */
  private readonly incarnation: string;
  /** Recent events an operator should see (status, the dashboard). */
  private readonly events: Deque<MasterEvent> = new Deque(EVENTS_MAX);
  private eventSeq = 0;

  constructor(
    private readonly ctx: ActorContext<MasterMsg>,
    private readonly opts: MasterOptions,
  ) {
    this.cfg = { ...defaultGfsConfig, ...opts.config };
    this.leases = new LeaseTable(this.cfg.leaseDurationMs, this.cfg.leaseSkewMarginMs, ctx.clock.now(), opts.afterRestart ?? true);
    this.incarnation = `${ctx.random.uint32().toString(16).padStart(8, '0')}${ctx.random.uint32().toString(16).padStart(8, '0')}`;
    if (opts.role !== 'shadow' && opts.journal === undefined) throw new Error(`a ${opts.role} master needs a journal`);
  }

  behavior(): Behavior<MasterMsg> {
    return {
      preStart: () => this.start(),
      receive: (m) => this.receive(m),
      // A clean stop closes the log (records already acknowledged are durable either way).
      postStop: () => this.opts.journal?.close?.(),
      invariants: () => this.invariants(),
    };
  }

  // ----- startup and recovery (¶49, ¶51) -----

  private async start(): Promise<void> {
    const journal = this.opts.journal;
    if (journal !== undefined) {
      const { checkpoint, records } = await journal.load();
      if (checkpoint !== undefined) {
        this.state = MasterState.fromCheckpoint(checkpoint.state);
        this.lsn = checkpoint.lsn;
        this.checkpointLsn = checkpoint.lsn;
      }
      for (const r of records) {
        this.state.apply(r);
        this.lsn++;
        this.remember(r);
      }
    }
    this.recountBacklog();
    // Chunks created from now on cannot carry a lease of a previous incarnation (S4).
    this.leases.markFreshAbove(BigInt(this.state.logicalTime) << 16n);
    this.ready = true;
    if (this.opts.role === 'primary') {
      const t = this.ctx.timers;
      t.repeat('liveness', this.cfg.heartbeatIntervalMs, { type: 'gfs.master.tick', task: 'liveness' });
      t.repeat('replication', this.cfg.replicationScanIntervalMs, { type: 'gfs.master.tick', task: 'replication' });
      t.repeat('gc', this.cfg.gcScanIntervalMs, { type: 'gfs.master.tick', task: 'gc' });
      t.repeat('checkpoint', this.cfg.checkpointCheckIntervalMs, { type: 'gfs.master.tick', task: 'checkpoint' });
      this.ctx.log.info('master ready', { lsn: this.lsn, files: this.state.nodes.size, chunks: this.state.chunks.size });
    }
  }

  private receive(m: MasterMsg): unknown {
    const arrived = this.ctx.log.now();
    const started = this.ctx.clock.now();
    const from = this.ctx.sender;
    const result = this.dispatch(m);
    if (m.type === 'gfs.master.tick' || m.type === 'gfs.master.heartbeat' || m.type === 'gfs.master.appendLog') return result;
    // Diagnostic RPC log (¶129–131): request, arguments (no file data), outcome and duration.
    const log = (outcome: unknown): void => {
      // Kept as data and formatted only when read: logging costs little on the request path (¶130).
      const durationMs = this.ctx.clock.now() - started;
      const described = describeOutcome(outcome);
      this.rpcLog.push({ time: started, from, request: m, outcome: described, durationMs });
      if (this.rpcLog.length > this.cfg.rpcLogEntriesMax) this.rpcLog.shift();
      this.opts.onRequest?.(m.type, outcomeCode(outcome), durationMs);
      // The same entry to the node's RPC log stream: written to disk off the request path (the
      // real environment's file logger buffers it, bounded, and writes asynchronously).
      this.ctx.log.rpc(m.type, { ...ridField(m.rid), from: from === undefined ? '-' : `${from.id}@${from.node}`, args: describeArgs(m), outcome: described, durationMs }, arrived);
    };
    if (result instanceof Promise) return result.then((v) => (log(v), v));
    log(result);
    return result;
  }

  private dispatch(m: MasterMsg): unknown {
    switch (m.type) {
      case 'gfs.master.mkdir':
        return this.mutate([{ path: m.path, mode: 'write' }], (c) => planCreate(c, m.path, 'dir'));
      case 'gfs.master.create':
        return this.mutate([{ path: m.path, mode: 'write' }], (c) => planCreate(c, m.path, 'file'));
      case 'gfs.master.delete':
        return this.mutate([{ path: m.path, mode: 'write' }], (c) => planDelete(c, m.path, m.recursive ?? false));
      case 'gfs.master.undelete':
        return this.mutate([{ path: m.path, mode: 'write' }], (c) => planUndelete(c, m.path));
      case 'gfs.master.rename':
        return this.renameOrSnapshot(m.from, m.to, 'rename');
      case 'gfs.master.snapshot':
        return this.renameOrSnapshot(m.source, m.target, 'snapshot');
      case 'gfs.master.setPolicy':
        return this.mutate([{ path: m.path, mode: 'write' }], (c) => planSetPolicy(c, m.path, m.replication, m.reclaimImmediately));
      case 'gfs.master.list':
        return this.read(m.path, () => this.list(m.path, m.includeDeleted ?? false));
      case 'gfs.master.stat':
        return this.read(m.path, () => this.stat(m.path));
      case 'gfs.master.getChunkLocations':
        return this.read(m.path, () => this.chunkLocations(m.path, m.index, m.count));
      case 'gfs.master.findLeaseHolder':
        return this.findLeaseHolder(m.path, m.index, m.rid);
      case 'gfs.master.reportCorrupt':
        return this.reportCorrupt(m.server, m.handle);
      case 'gfs.master.reportLength':
        return this.reportLength(m.handle, m.version, m.lengthBytes);
      case 'gfs.master.sealChunk':
        return this.sealChunk(m.path, m.index, m.version, m.rid);
      case 'gfs.master.heartbeat':
        return this.heartbeat(m);
      case 'gfs.master.status':
        return ok(this.status());
      case 'gfs.master.decommission':
        return this.decommission(m.server);
      case 'gfs.master.rpcLog':
        return ok(this.rpcLogEntries(m.limit ?? 100));
      case 'gfs.master.fsck':
        return this.read(m.path ?? '/', () => ok(this.fsck(m.path ?? '/')));
      case 'gfs.master.appendLog':
        return this.follow(m.firstLsn, m.records);
      case 'gfs.master.installCheckpoint':
        return this.install(m.lsn, m.checkpoint);
      case 'gfs.master.tick':
        return this.tick(m.task);
      default: {
        const never: never = m;
        this.ctx.log.warn('unknown message dropped', { message: JSON.stringify(never) });
        return undefined;
      }
    }
  }

  // ----- the replicated log (¶47–48, ¶118) -----

  private planContext(): PlanContext {
    return { state: this.state, now: this.ctx.clock.now(), pathLengthMax: this.cfg.pathLengthMax, replicationDefault: this.cfg.replicationDefault, seq: ++this.hiddenSeq };
  }

  private notPrimary<T>(): GfsResult<T> {
    return fail('not_primary', `this is a ${this.opts.role} master; send changes to the primary`, this.opts.primaryName === undefined ? {} : { master: this.opts.primaryName });
  }

  /** Runs a namespace mutation under its locks: plan, log on every replica, apply, reply. */
  private async mutate(paths: { path: string; mode: LockMode }[], plan: (c: PlanContext) => GfsResult<MasterRecord[]>): Promise<GfsResult<null>> {
    if (this.opts.role !== 'primary') return this.notPrimary();
    for (const p of paths) {
      const bad = pathProblem(p.path, this.cfg.pathLengthMax);
      if (bad !== undefined) return fail(bad.code, bad.message);
    }
    const locks = this.cfg.namespaceLocking === 'global' ? [{ path: '/', mode: 'write' as const }] : lockSet(paths);
    const release = await this.locks.acquire(locks);
    try {
      const planned = plan(this.planContext());
      if (!planned.ok) return planned;
      return await this.commit(planned.value);
    } finally {
      release();
    }
  }

  /**
   * Makes records durable on this master and every replica, then applies them. Appends are issued
   * synchronously in lsn order, and the journal group-commits: concurrent operations share one
   * flush (¶47: "possibly in batches"). Waiting for one append before issuing the next would cost
   * an fsync per record.
   */
  private commit(records: readonly MasterRecord[]): Promise<GfsResult<null>> {
    if (records.length === 0) return Promise.resolve(ok(null));
    const firstLsn = this.lsn + 1;
    this.lsn += records.length;
    const journal = this.opts.journal as Journal;
    const local = journal.append(firstLsn, records);
    this.lastAppend = local.catch(() => undefined);
    const remote = (this.opts.replicas ?? []).map((r) => this.replicateTo(r, firstLsn, records));
    return Promise.allSettled([local, ...remote]).then((outcomes) => {
      const [localOutcome, ...remoteOutcomes] = outcomes;
      if (localOutcome?.status === 'rejected') {
        // Not in our log: not applied. The log rejects later appends until the master restarts.
        this.ctx.log.error('operation log append failed', { error: String(localOutcome.reason) });
        this.lsn = firstLsn - 1;
        return fail('io_error', `the master could not write its operation log: ${String(localOutcome.reason)}`);
      }
      for (const r of records) {
        this.state.apply(r, this.touched);
        this.remember(r);
      }
      this.refreshTouched();
      // Erased chunks keep no lease (their primary's lease runs out harmlessly on garbage).
      for (const h of this.leases.handles()) if (!this.state.chunks.has(h)) this.leases.revoked(h);
      for (const f of this.opts.followers ?? []) this.ctx.tell(f, { type: 'gfs.master.appendLog', firstLsn, records });
      const lagging = remoteOutcomes.filter((o) => o.status === 'rejected' || (o.status === 'fulfilled' && o.value !== true));
      if (lagging.length > 0) {
        // Applied here (it is in our log) but not on every replica: the client must not treat it as committed.
        return fail('log_unavailable', `${lagging.length} master replica(s) did not confirm the log record; the change may or may not survive a master failure`);
      }
      return ok(null);
    });
  }

  /** Sends records to a replica, first catching it up from the tail if it lags. Resolves true when it has them durably. */
  private async replicateTo(replica: ActorRef<MasterMsg>, firstLsn: number, records: readonly MasterRecord[]): Promise<boolean> {
    const key = `${replica.id}@${replica.node}`;
    const known = this.replicaLsn.get(key) ?? firstLsn - 1;
    let from = firstLsn;
    let batch = records;
    if (known < firstLsn - 1) {
      const tailStart = this.lsn - records.length - this.tail.length + 1;
      if (known + 1 >= tailStart) {
        const missing = [...this.tail].slice(known + 1 - tailStart);
        batch = [...missing, ...records];
        from = known + 1;
      }
    }
    const reply = await this.ctx.ask<GfsResult<{ lsn: number }>>(replica, { type: 'gfs.master.appendLog', firstLsn: from, records: batch }, { timeoutMs: this.cfg.rpcTimeoutMs }).catch((e: unknown) => fail<{ lsn: number }>('log_unavailable', String(e)));
    if (reply.ok) this.replicaLsn.set(key, reply.value.lsn);
    return reply.ok && reply.value.lsn >= firstLsn + records.length - 1;
  }

  private remember(r: MasterRecord): void {
    this.tail.push(r);
    if (this.tail.length > TAIL_RECORDS_MAX) this.tail.shift();
  }

  /** A replica or shadow receives log records (¶121: it applies the same sequence of changes). */
  private async follow(firstLsn: number, records: readonly MasterRecord[]): Promise<GfsResult<{ lsn: number }>> {
    if (this.opts.role === 'primary') return fail('not_primary', 'the primary does not follow another log');
    if (!this.ready) return fail('log_unavailable', 'still recovering');
    // Skip what we already have; refuse a gap (the primary resends from our lsn).
    const skip = this.lsn + 1 - firstLsn;
    if (skip < 0) return ok({ lsn: this.lsn });
    const fresh = records.slice(skip);
    if (fresh.length === 0) return ok({ lsn: this.lsn });
    const at = this.lsn + 1;
    this.lsn += fresh.length;
    const work = (this.opts.journal?.append(at, fresh) ?? Promise.resolve()).then(() => {
      for (const r of fresh) {
        this.state.apply(r, this.touched);
        this.remember(r);
      }
      this.refreshTouched();
    });
    this.lastAppend = work.catch(() => undefined);
    try {
      await work;
    } catch (e) {
      this.lsn = at - 1;
      return fail('io_error', `replica could not write its log: ${String(e)}`);
    }
    for (const f of this.opts.followers ?? []) this.ctx.tell(f, { type: 'gfs.master.appendLog', firstLsn: at, records: fresh });
    return ok({ lsn: this.lsn });
  }

  private async install(lsn: number, cp: MasterCheckpoint): Promise<GfsResult<{ lsn: number }>> {
    if (this.opts.role === 'primary') return fail('not_primary', 'the primary does not install checkpoints');
    await this.opts.journal?.checkpoint(lsn, cp);
    this.state = MasterState.fromCheckpoint(cp);
    this.recountBacklog();
    this.lsn = lsn;
    return ok({ lsn });
  }

  // ----- reads -----

  private async read<T>(path: string, f: () => GfsResult<T>): Promise<GfsResult<T>> {
    const bad = pathProblem(path, this.cfg.pathLengthMax);
    if (bad !== undefined) return fail(bad.code, bad.message);
    const locks = lockSet([{ path, mode: 'read' }]);
    // Uncontended (the common case for lookups): take the read locks now, without an await.
    const now = this.locks.tryAcquire(locks);
    const release = now ?? (await this.locks.acquire(locks));
    try {
      return f();
    } finally {
      release();
    }
  }

  private list(path: string, includeDeleted: boolean): GfsResult<FileInfo[]> {
    const n = this.state.get(path);
    if (n === undefined) return fail('not_found', `${path} does not exist`);
    if (n.kind === 'file') return ok([this.info(path)]);
    const out: FileInfo[] = [];
    for (const p of this.state.children(path)) {
      const c = this.state.get(p);
      if (c === undefined || (!includeDeleted && c.deletedAt !== undefined)) continue;
      out.push(this.info(p));
    }
    return ok(out);
  }

  private stat(path: string): GfsResult<FileInfo> {
    if (this.state.get(path) === undefined) return fail('not_found', `${path} does not exist`);
    return ok(this.info(path));
  }

  private info(path: string): FileInfo {
    return info(this.state, path, this.state.get(path) as NonNullable<ReturnType<MasterState['get']>>, this.cfg.chunkSizeBytes, (h) => this.chunkLength(h));
  }

  private chunkLength(h: ChunkHandle): number {
    // A sealed chunk's length is final (S1); a replica not yet cut to it may report more.
    const sealed = this.state.chunks.get(h)?.sealedBytes;
    if (sealed !== undefined) return sealed;
    let len = this.ackedLengths.get(h) ?? 0;
    for (const s of this.locations.get(h) ?? []) len = Math.max(len, this.servers.get(s)?.chunks.get(h)?.lengthBytes ?? 0);
    return len;
  }

  /** Live, up-to-date replicas of a chunk (stale ones are treated as absent, ¶78). */
  private replicasOf(h: ChunkHandle): ReplicaAddr[] {
    const out: ReplicaAddr[] = [];
    const version = this.state.chunks.get(h)?.version;
    for (const id of this.locations.get(h) ?? []) {
      const s = this.liveReplica(h, version, id);
      if (s !== undefined) out.push(addr(s));
    }
    return out.sort((a, b) => (a.server < b.server ? -1 : 1));
  }

  /** The server `id` when it is live and holds chunk `h` at `version` (what `replicasOf` counts); else undefined. */
  private liveReplica(h: ChunkHandle, version: number | undefined, id: string): ServerState | undefined {
    const s = this.servers.get(id);
    return s !== undefined && s.alive && s.chunks.get(h)?.version === version ? s : undefined;
  }

  private chunkLocations(path: string, index: number, count: number): GfsResult<ChunkLocation[]> {
    const f = this.state.get(path);
    if (f === undefined) return fail('not_found', `${path} does not exist`);
    if (f.kind !== 'file') return fail('is_a_directory', `${path} is a directory`);
    if (!Number.isInteger(index) || index < 0) return fail('chunk_not_found', `bad chunk index ${index}`);
    const out: ChunkLocation[] = [];
    // Batched, with the following chunks prefetched (¶88).
    for (let i = index; i < Math.min(f.chunks.length, index + Math.max(1, Math.min(count, 64))); i++) {
      const h = f.chunks[i] as ChunkHandle;
      const meta = this.state.chunks.get(h);
      if (meta === undefined) continue;
      out.push({ index: i, handle: h, version: meta.version, lengthBytes: this.chunkLength(h), replicas: this.replicasOf(h), ...(meta.sealedBytes === undefined ? {} : { sealedBytes: meta.sealedBytes }) });
    }
    if (out.length === 0) return fail('chunk_not_found', `${path} has no chunk ${index} (it has ${f.chunks.length})`);
    return ok(out);
  }

  // ----- chunk creation, copy-on-write and leases (¶61–64, ¶89–90, ¶113) -----

  private async findLeaseHolder(path: string, index: number, rid?: string): Promise<GfsResult<ChunkLease>> {
    if (this.opts.role !== 'primary') return this.notPrimary();
    const bad = pathProblem(path, this.cfg.pathLengthMax);
    if (bad !== undefined) return fail(bad.code, bad.message);
    const release = await this.locks.acquire(lockSet([{ path, mode: 'write' }]));
    try {
      const f = this.state.get(path);
      if (f === undefined) return fail('not_found', `${path} does not exist`);
      if (f.kind !== 'file') return fail('is_a_directory', `${path} is a directory`);
      if (!Number.isInteger(index) || index < 0 || index > f.chunks.length) return fail('chunk_not_found', `chunk ${index} of ${path} (it has ${f.chunks.length}; only the next one can be created)`);
      if (index === f.chunks.length) {
        const created = await this.createChunk(path, index, rid);
        if (!created.ok) return created;
      }
      let handle = (this.state.get(path) as { chunks: ChunkHandle[] }).chunks[index] as ChunkHandle;
      const meta = this.state.chunks.get(handle);
      if (meta === undefined) return fail('chunk_not_found', `chunk ${handle} has no metadata`);
      // S3: a sealed chunk is never leased again (appends go on in the next chunk).
      if (meta.sealedBytes !== undefined) return fail('chunk_sealed', `chunk ${index} of ${path} is sealed at ${meta.sealedBytes} bytes; record appends go on in chunk ${index + 1}`);
      if (meta.refs > 1) {
        const copied = await this.copyOnWrite(path, index, handle, rid);
        if (!copied.ok) return copied;
        handle = copied.value;
      }
      return await this.leaseFor(index, handle, rid);
    } finally {
      release();
    }
  }

  private serverViews(): ServerView[] {
    const now = this.ctx.clock.now();
    return [...this.servers.values()].map((s) => {
      while (s.recentCreations.length > 0 && now - (s.recentCreations[0] as number) > this.cfg.recentCreationWindowMs) s.recentCreations.shift();
      return { id: s.id, rack: s.rack, usedBytes: s.usedBytes, capacityBytes: s.capacityBytes, recentCreations: s.recentCreations.length, eligible: s.alive && !s.silent && s.decommission === 'none' };
    });
  }

  /** Creates chunk `index` of `path` on servers chosen by the placement policy (¶61–64). */
  private async createChunk(path: string, index: number, rid?: string): Promise<GfsResult<null>> {
    const goal = this.state.policy(path, this.cfg.replicationDefault).replication;
    const targets = choosePlacement(this.serverViews(), goal, { recentCreationsMax: this.cfg.recentCreationsPerServerMax });
    if (targets.length === 0) return fail('no_chunkservers', 'no live chunkserver can take a new chunk');
    const handle = this.state.nextHandle();
    const version = 1;
    this.pendingChunks.add(handle);
    try {
      const create = async (on: readonly string[]): Promise<{ created: string[]; errors: string[] }> => {
        // Counted when chosen, not when done: creations in flight at once must see each other, or a
        // burst of them (many clients starting files together) all land on the same servers.
        const chosenAt = this.ctx.clock.now();
        for (const t of on) this.servers.get(t)?.recentCreations.push(chosenAt);
        const results = await Promise.all(on.map((t) => this.command(t, { type: 'gfs.chunkserver.createChunk', handle, version, ...ridField(rid) })));
        return { created: on.filter((_, i) => results[i]?.ok === true), errors: results.flatMap((r) => (r.ok ? [] : [r.error.message])) };
      };
      const first = await create(targets);
      const created = first.created;
      // Servers that did not answer are passed over from now on (`silent`): place the missing
      // replicas once more, elsewhere, so the chunk starts with its full goal when servers allow.
      if (created.length < targets.length) {
        const more = choosePlacement(this.serverViews(), targets.length - created.length, { exclude: new Set(targets), recentCreationsMax: this.cfg.recentCreationsPerServerMax, racksInUse: new Set(created.map((t) => this.servers.get(t)?.rack ?? '')) });
        if (more.length > 0) created.push(...(await create(more)).created);
      }
      if (created.length === 0) return fail('chunkserver_failed', `no chunkserver could create the chunk: ${first.errors.join('; ')}`);
      return await this.chunkCreated(path, index, handle, version, created);
    } finally {
      this.pendingChunks.delete(handle);
    }
  }

  private async chunkCreated(path: string, index: number, handle: ChunkHandle, version: number, created: readonly string[]): Promise<GfsResult<null>> {
    const committed = await this.commit([{ op: 'addChunk', path, index, handle, version, at: this.ctx.clock.now() }]);
    if (!committed.ok && committed.error.code === 'io_error') return committed;
    for (const t of created) {
      const s = this.servers.get(t) as ServerState;
      s.chunks.set(handle, { version, lengthBytes: 0 });
      this.addLocation(handle, t);
    }
    return committed;
  }

  /** Copy-on-write after a snapshot (¶113): C' on the same servers as C, copied locally. */
  private async copyOnWrite(path: string, index: number, from: ChunkHandle, rid?: string): Promise<GfsResult<ChunkHandle>> {
    const holders = this.replicasOf(from).map((r) => r.server);
    if (holders.length === 0) return fail('chunk_not_found', `no live replica of chunk ${from} to copy`);
    const to = this.state.nextHandle();
    const version = 1;
    this.pendingChunks.add(to);
    let copied: string[];
    let committed: GfsResult<null>;
    try {
      const results = await Promise.all(holders.map((s) => this.command(s, { type: 'gfs.chunkserver.copyLocal', from, to, version, ...ridField(rid) })));
      copied = holders.filter((_, i) => results[i]?.ok === true);
      if (copied.length === 0) return fail('chunkserver_failed', `no replica could copy chunk ${from}`);
      committed = await this.commit([{ op: 'cow', path, index, from, to, version }]);
    } finally {
      this.pendingChunks.delete(to);
    }
    if (!committed.ok && committed.error.code === 'io_error') return committed;
    // The copy is as long as the original was (its lease was revoked before the snapshot: no mutation since).
    const length = this.chunkLength(from);
    if (length > 0) this.ackedLengths.set(to, length);
    for (const id of copied) {
      const s = this.servers.get(id) as ServerState;
      s.chunks.set(to, { version, lengthBytes: s.chunks.get(from)?.lengthBytes ?? 0 });
      this.addLocation(to, id);
    }
    if (!this.state.chunks.has(from)) this.dropLocations(from);
    return committed.ok ? ok(to) : (committed as GfsResult<never>);
  }

  /** The current lease, or a new one: bump the version on the up-to-date replicas, log it, tell the primary (¶76–77, ¶89). */
  private async leaseFor(index: number, handle: ChunkHandle, rid?: string): Promise<GfsResult<ChunkLease>> {
    const now = this.ctx.clock.now();
    const meta = this.state.chunks.get(handle);
    if (meta === undefined) return fail('chunk_not_found', `chunk ${handle} is gone`);
    const current = this.leases.current(handle, now);
    if (current !== undefined && current.version === meta.version) {
      const primary = this.servers.get(current.primary);
      if (primary !== undefined && primary.alive && current.expiresAt > now) {
        return ok({ index, handle, version: meta.version, primary: addr(primary), secondaries: this.replicasOf(handle).filter((r) => r.server !== current.primary), expiresAt: current.expiresAt });
      }
    }
    // M6: after a restart, the server the current version was leased to may still hold that lease
    // until it reported its leases to this incarnation (a heartbeat after the restart, normally).
    const holder = this.holderOf(meta);
    const at = this.leases.grantableAt(handle, now, holder);
    if (at > now) {
      const unknown = this.leases.unknownLeaseEndsAt(handle, holder, now) > now;
      // Waiting on a holder's report: retry after a heartbeat or two, not the whole lease period.
      const retryAfterMs = Math.ceil(unknown && this.leases.current(handle, now) === undefined ? Math.min(at - now, 2 * this.cfg.heartbeatIntervalMs) : at - now);
      const why = unknown ? `chunk ${handle} was leased to ${holder ?? 'a replica'} before the master restarted, and that server has not reported its leases yet` : `a lease on chunk ${handle} may still be in force`;
      return fail('lease_unavailable', `${why}; retry in ${retryAfterMs} ms`, { retryAfterMs, ...(unknown ? { awaitingReport: true } : {}) });
    }
    const replicas = this.replicasOf(handle);
    if (replicas.length === 0) {
      this.blocking.add(handle);
      return fail('chunk_not_found', `no live up-to-date replica of chunk ${handle}`);
    }
    const version = meta.version + 1;
    const acks = await Promise.all(replicas.map((r) => this.command(r.server, { type: 'gfs.chunkserver.setVersion', handle, version, ...ridField(rid) })));
    const upToDate = replicas.filter((_, i) => acks[i]?.ok === true);
    if (upToDate.length === 0) return fail('chunkserver_failed', `no replica of chunk ${handle} accepted version ${version}`);
    const primary = upToDate[0] as ReplicaAddr;
    // The holder is logged with the version, before the lease exists: a restarted master knows whose report to wait for (M6).
    const committed = await this.commit([{ op: 'bumpVersion', handle, version, primary: primary.server }]);
    if (!committed.ok && committed.error.code === 'io_error') return committed;
    // Replicas that missed the bump are stale from now on (¶77), whatever version they report later.
    const missed = new Set<string>();
    for (const r of replicas) {
      const s = this.servers.get(r.server) as ServerState;
      if (upToDate.includes(r)) s.chunks.set(handle, { version, lengthBytes: s.chunks.get(handle)?.lengthBytes ?? 0 });
      else {
        this.locations.get(handle)?.delete(r.server);
        missed.add(r.server);
      }
    }
    this.refresh(handle);
    if (missed.size > 0 && this.missedBump.size < 100_000) this.missedBump.set(handle, { version, servers: missed });
    else this.missedBump.delete(handle);
    if (this.leases.grantableAt(handle, this.ctx.clock.now(), holder) > this.ctx.clock.now()) return fail('lease_unavailable', `chunk ${handle} was leased meanwhile; retry`);
    const lease = this.leases.grant(handle, primary.server, version, this.ctx.clock.now(), holder);
    const secondaries = upToDate.slice(1);
    const granted = await this.command(primary.server, { type: 'gfs.chunkserver.grantLease', handle, version, expiresAt: lease.expiresAt, secondaries, incarnation: this.incarnation, ...ridField(rid) });
    if (!granted.ok) {
      // An error other than chunkserver_failed is the server's own answer: it did not take the lease
      // (e.g. it still knew the previous master incarnation, M6), so nobody holds it.
      if (granted.error.code !== 'chunkserver_failed') this.leases.revoked(handle);
      if (granted.error.code === 'chunk_sealed') {
        // Fenced by a seal this incarnation does not know of (S2): no lease can be granted, so an
        // appender seals the chunk again and goes on in the next one (S4).
        if (this.fencedUnsealed.size < 100_000) this.fencedUnsealed.add(handle);
        return fail('lease_unavailable', `primary ${primary.server} refused the lease: ${granted.error.message}`);
      }
      return fail('chunkserver_failed', `primary ${primary.server} refused the lease: ${granted.error.message}`);
    }
    this.blocking.delete(handle);
    return ok({ index, handle, version, primary, secondaries, expiresAt: lease.expiresAt });
  }

  /**
   * Seals chunk `index` of `path` (README S1–S5, after Windows Azure Storage's extent sealing):
   * fence every reachable up-to-date replica at a new version — durably, so none accepts a mutation
   * of the old lease again (S2) — take the shortest length they answer (every acknowledged append
   * is below it, S1), log the seal, then have the fenced replicas cut to that length. Replicas not
   * fenced missed the version and are stale (¶77–78). No lease is ever granted on the chunk again
   * (S3), so appends move to the next chunk without waiting for the old lease to end (S4).
   *
   * `version` is the version the caller's failed append used; omitted when the master could not
   * grant a lease. Only the file's last chunk is sealed (S5): plain writes never ask for a seal.
   */
  private async sealChunk(path: string, index: number, version: number | undefined, rid?: string): Promise<SealReply> {
    if (this.opts.role !== 'primary') return this.notPrimary();
    const bad = pathProblem(path, this.cfg.pathLengthMax);
    if (bad !== undefined) return fail(bad.code, bad.message);
    const release = await this.locks.acquire(lockSet([{ path, mode: 'write' }]));
    try {
      const f = this.state.get(path);
      if (f === undefined) return fail('not_found', `${path} does not exist`);
      if (f.kind !== 'file') return fail('is_a_directory', `${path} is a directory`);
      const handle = Number.isInteger(index) && index >= 0 ? f.chunks[index] : undefined;
      const meta = handle === undefined ? undefined : this.state.chunks.get(handle);
      if (handle === undefined || meta === undefined) return fail('chunk_not_found', `${path} has no chunk ${index} (it has ${f.chunks.length})`);
      if (meta.sealedBytes !== undefined) return ok({ handle, sealedBytes: meta.sealedBytes });
      if (index !== f.chunks.length - 1) return fail('invalid_request', `chunk ${index} of ${path} is not its last chunk (it has ${f.chunks.length}); only the chunk record appends go to is sealed (S5)`);
      if (meta.refs > 1) return fail('invalid_request', `chunk ${index} of ${path} is shared with a snapshot; an append copies it first (¶113)`);
      const now = this.ctx.clock.now();
      if (version !== undefined && version < meta.version) return fail('stale_version', `chunk ${index} of ${path} is at version ${meta.version} since the attempt at version ${version}: ask for its lease again`);
      if (version === undefined && !this.fencedUnsealed.has(handle)) {
        // The caller could not get a lease: seal only if none can be handed out now.
        const l = this.leases.current(handle, now);
        const primary = l === undefined ? undefined : this.servers.get(l.primary);
        if (l !== undefined && primary !== undefined && primary.alive && l.expiresAt > now) return fail('stale_version', `chunk ${index} of ${path} has a lease in force: ask for it again`);
        if (l === undefined && this.leases.grantableAt(handle, now, this.holderOf(meta)) <= now) return fail('stale_version', `a lease on chunk ${index} of ${path} can be granted now: ask for it again`);
      }
      const replicas = this.replicasOf(handle);
      if (replicas.length === 0) {
        this.blocking.add(handle);
        return fail('chunk_not_found', `no live up-to-date replica of chunk ${handle} to seal`);
      }
      const sealVersion = meta.version + 1;
      const answers = await Promise.all(replicas.map((r) => this.command(r.server, { type: 'gfs.chunkserver.sealChunk', handle, version: sealVersion, ...ridField(rid) })));
      const fenced: Array<{ server: string; lengthBytes: number }> = [];
      answers.forEach((a, i) => {
        if (a.ok && typeof a.value.lengthBytes === 'number') fenced.push({ server: (replicas[i] as ReplicaAddr).server, lengthBytes: a.value.lengthBytes });
      });
      if (fenced.length === 0) return fail('chunkserver_failed', `no replica of chunk ${handle} could be fenced: ${answers.map((a) => (a.ok ? 'ok' : a.error.message)).join('; ')}`);
      // S1: every acknowledged append is on every fenced replica, so below the shortest of them.
      const lengthBytes = Math.min(...fenced.map((x) => x.lengthBytes));
      // The old lease can no longer complete a mutation (S2); no new one is ever granted (S3).
      this.leases.revoked(handle);
      const committed = await this.commit([{ op: 'seal', handle, version: sealVersion, lengthBytes }]);
      if (committed.ok) this.fencedUnsealed.delete(handle);
      if (!committed.ok && committed.error.code === 'io_error') return committed;
      const sealedBytes = this.state.chunks.get(handle)?.sealedBytes ?? lengthBytes;
      // Replicas that were not fenced missed the version: stale (¶77), whatever they report later.
      const isFenced = new Set(fenced.map((x) => x.server));
      const missed = new Set<string>();
      for (const r of replicas) {
        const s = this.servers.get(r.server) as ServerState;
        if (isFenced.has(r.server)) s.chunks.set(handle, { version: sealVersion, lengthBytes: sealedBytes });
        else {
          this.locations.get(handle)?.delete(r.server);
          missed.add(r.server);
        }
      }
      this.refresh(handle);
      if (missed.size > 0 && this.missedBump.size < 100_000) this.missedBump.set(handle, { version: sealVersion, servers: missed });
      else this.missedBump.delete(handle);
      this.ctx.log.info('chunk sealed', { path, index, handle: String(handle), version: sealVersion, lengthBytes: sealedBytes, fenced: fenced.length, replicas: replicas.length });
      // Cut the fenced replicas to the sealed length; one that does not answer is cut when it next reports.
      await Promise.all(fenced.map((x) => this.command(x.server, { type: 'gfs.chunkserver.sealChunk', handle, version: sealVersion, lengthBytes: sealedBytes, ...ridField(rid) })));
      if (!committed.ok) return committed as GfsResult<never>;
      return ok({ handle, sealedBytes });
    } finally {
      release();
    }
  }

  /** Revokes the leases on every chunk of the files under `path` (¶90, ¶111); with `waitForExpiry`, waits out leases whose primary does not answer. */
  private async revokeLeases(path: string, waitForExpiry: boolean, why: string): Promise<void> {
    const now = this.ctx.clock.now();
    const waits: Promise<void>[] = [];
    let revoked = 0;
    let waited = 0;
    // Soon after a restart, a primary may hold a lease the previous incarnation granted: this master
    // cannot revoke what it does not know, so it waits until any such lease has run out — for the
    // chunks whose holder has not reported its leases yet (M10).
    let unknownUntil = 0;
    for (const p of this.state.subtree(path)) {
      const n = this.state.get(p);
      if (n === undefined || n.kind !== 'file') continue;
      for (const h of n.chunks) {
        const meta = this.state.chunks.get(h);
        if (meta !== undefined) unknownUntil = Math.max(unknownUntil, this.leases.unknownLeaseEndsAt(h, this.holderOf(meta), now));
        const l = this.leases.current(h, now);
        if (l === undefined) continue;
        waits.push(
          this.command(l.primary, { type: 'gfs.chunkserver.revokeLease', handle: h }).then(async (r) => {
            if (r.ok) {
              this.leases.revoked(h);
              revoked++;
            } else if (waitForExpiry) {
              waited++;
              await this.sleep(this.leases.grantableAt(h, this.ctx.clock.now(), null) - this.ctx.clock.now());
            }
          }),
        );
      }
    }
    if (waitForExpiry && unknownUntil > now) waits.push(this.sleep(unknownUntil - now));
    await Promise.all(waits);
    if (revoked + waited > 0) this.event('info', `${revoked} lease(s) revoked for the ${why}${waited > 0 ? `; ${waited} primary(ies) did not answer, their leases were waited out` : ''}`);
  }

  private async renameOrSnapshot(from: string, to: string, op: 'rename' | 'snapshot'): Promise<GfsResult<null>> {
    if (this.opts.role !== 'primary') return this.notPrimary();
    for (const p of [from, to]) {
      const bad = pathProblem(p, this.cfg.pathLengthMax);
      if (bad !== undefined) return fail(bad.code, bad.message);
    }
    // ¶57: write locks on both full paths, read locks on their ancestors.
    const release = await this.locks.acquire(lockSet([{ path: from, mode: 'write' }, { path: to, mode: 'write' }]));
    try {
      const planned = op === 'rename' ? planRename(this.planContext(), from, to) : planSnapshot(this.planContext(), from, to);
      if (!planned.ok) return planned;
      await this.revokeLeases(from, op === 'snapshot', `${op} of ${from}`);
      return await this.commit(planned.value);
    } finally {
      release();
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => void this.ctx.env.timers.after(Math.max(0, ms), resolve));
  }

  /** An event for operators (status → the dashboard's recent events); bounded. */
  private event(level: MasterEvent['level'], text: string): void {
    if (this.opts.role !== 'primary') return;
    this.events.push({ seq: ++this.eventSeq, time: this.ctx.clock.now(), level, text });
    while (this.events.length > EVENTS_MAX) this.events.shift();
  }

  /** Who may hold a lease on the chunk's current version that this incarnation did not grant (M6). */
  private holderOf(meta: { version: number; leaseHolder?: string | null } | undefined): LeaseHolder {
    if (meta === undefined || meta.version <= 1) return null; // never leased: every grant bumps the version
    return meta.leaseHolder;
  }

  // ----- chunkservers: heartbeats, reports, liveness (¶45–46, ¶73–78, ¶90) -----

  private heartbeat(m: Extract<MasterMsg, { type: 'gfs.master.heartbeat' }>): GfsResult<HeartbeatReply> {
    const now = this.ctx.clock.now();
    let s = this.servers.get(m.server);
    if (s === undefined) {
      s = { id: m.server, ref: m.ref, rack: m.rack, host: m.host, usedBytes: 0, capacityBytes: 0, lastHeartbeat: now, alive: true, reported: false, lastReportAt: now, chunks: new Map(), decommission: 'none', recentCreations: [], silent: false };
      this.servers.set(m.server, s);
      this.ctx.log.info('chunkserver joined', { server: m.server, rack: m.rack });
    }
    s.ref = m.ref;
    s.rack = m.rack;
    s.host = m.host;
    s.usedBytes = m.usedBytes;
    s.capacityBytes = m.capacityBytes;
    s.lastHeartbeat = now;
    s.silent = false;
    if (!s.alive) {
      s.alive = true;
      s.reported = false;
      // Replicas placed on it while it was down (a clone finishing late) count again.
      for (const h of s.chunks.keys()) this.refresh(h);
    }
    const garbage: ChunkHandle[] = [];
    for (const u of m.updates ?? []) {
      // Only lengths of up-to-date replicas the master already counts; anything else waits for a full report.
      const known = s.chunks.get(u.handle);
      if (known !== undefined && known.version === u.version && this.state.chunks.get(u.handle)?.version === u.version) known.lengthBytes = u.lengthBytes;
    }
    if (m.chunks !== undefined) {
      this.applyReport(s, m.chunks, garbage);
      s.reported = true;
      s.lastReportAt = now;
    }
    // A shadow polls for locations now and then (¶121): it learns of new replicas only from reports.
    if (this.opts.role !== 'primary' && now - s.lastReportAt >= this.cfg.shadowReportIntervalMs) s.reported = false;
    const extended: Array<{ handle: ChunkHandle; expiresAt: number }> = [];
    if (this.opts.role === 'primary' && m.leaseReport !== undefined && m.leaseReport.incarnation === this.incarnation) this.adoptLeases(s.id, m.leaseReport, now);
    if (this.opts.role === 'primary') {
      for (const h of m.leaseExtensions ?? []) {
        const l = this.leases.extend(h, m.server, now);
        if (l !== undefined) extended.push({ handle: h, expiresAt: l.expiresAt });
      }
    }
    return ok({ garbage: this.opts.role === 'primary' ? garbage : [], extended, needReport: !s.reported, ...(this.opts.role === 'primary' ? { incarnation: this.incarnation } : {}) });
  }

  /**
   * A chunkserver's lease report, fenced: it was made after the server learned this incarnation, so
   * it names every lease of earlier incarnations the server holds or will hold (M6). Each becomes a
   * lease of this master's table, ending when the time it had left runs out counted from now — later
   * than on the server, since the report was made before it arrived; the skew margin covers clocks
   * that run at different rates. Its primary keeps ordering mutations, and this master extends it.
   */
  private adoptLeases(server: string, report: NonNullable<Extract<MasterMsg, { type: 'gfs.master.heartbeat' }>['leaseReport']>, now: number): void {
    let adopted = 0;
    if (!Array.isArray(report.leases) || typeof report.reportedAt !== 'number') {
      this.ctx.log.warn('malformed lease report ignored', { server });
      return;
    }
    for (const l of report.leases) {
      if (typeof l?.handle !== 'bigint' || typeof l.version !== 'number' || typeof l.expiresAt !== 'number') continue;
      const leftMs = l.expiresAt - report.reportedAt;
      const meta = this.state.chunks.get(l.handle);
      // A sealed chunk is never leased again (S3): its replicas were fenced, so whatever lease the
      // server still remembers can complete no mutation (S2).
      if (!(leftMs > 0) || meta === undefined || meta.sealedBytes !== undefined) continue;
      const held = this.leases.current(l.handle, now);
      if (held !== undefined && held.primary !== server) {
        // Cannot happen while M6 holds (one holder per version, logged); kept safe anyway: no grant before both ended.
        this.ctx.log.error('M6: two servers report a lease on one chunk', { handle: String(l.handle), held: held.primary, reported: server });
      }
      this.leases.adopt(l.handle, server, l.version, now + leftMs, now);
      if (held === undefined) {
        adopted++;
        this.ctx.log.info('lease of an earlier master incarnation adopted', { handle: String(l.handle), primary: server, version: l.version, leftMs });
      }
    }
    if (adopted > 0) this.event('info', `${server} still holds ${adopted} lease(s) granted before the master restarted: adopted, its writes go on`);
    this.leases.holderReported(server, now);
  }

  /** A full chunk report: rebuild this server's locations; unknown, orphaned and stale replicas are garbage (¶73–78). */
  private applyReport(s: ServerState, report: readonly ChunkReport[], garbage: ChunkHandle[]): void {
    const changed = [...s.chunks.keys()];
    for (const h of changed) this.locations.get(h)?.delete(s.id);
    s.chunks.clear();
    try {
      this.applyReportEntries(s, report, garbage);
    } finally {
      for (const h of changed) this.refresh(h);
      for (const c of report) this.refresh(c.handle);
    }
  }

  private applyReportEntries(s: ServerState, report: readonly ChunkReport[], garbage: ChunkHandle[]): void {
    for (const c of report) {
      const meta = this.state.chunks.get(c.handle);
      if (meta === undefined && this.opts.role !== 'primary') {
        // A follower may not have the record yet: keep the location; reads check the version.
        s.chunks.set(c.handle, { version: c.version, lengthBytes: c.lengthBytes });
        this.addLocation(c.handle, s.id);
        continue;
      }
      if (meta === undefined) {
        if (this.pendingChunks.has(c.handle)) continue; // being created: its record is on the way
        garbage.push(c.handle); // no file references it (deleted, orphaned, or never committed)
        continue;
      }
      const missed = this.missedBump.get(c.handle);
      if (c.version < meta.version || (missed !== undefined && missed.version === c.version && missed.servers.has(s.id))) {
        garbage.push(c.handle); // stale: missed mutations while down, or left out of the lease its bump was for (¶77)
        noteReplica(this.staleReplicas, c.handle, s.id);
        continue;
      }
      if (c.version > meta.version) {
        // The master failed between bumping the replicas and logging: the higher version is current.
        this.ctx.log.warn('replica newer than the master record; adopting its version', { handle: String(c.handle), replica: c.version, master: meta.version });
        if (this.opts.role !== 'primary') meta.version = c.version;
        else if ((this.adopting.get(c.handle) ?? 0) < c.version) {
          // Several replicas report it: one record, and none once a newer version is logged meanwhile.
          this.adopting.set(c.handle, c.version);
          const handle = c.handle;
          const version = c.version;
          void this.lastAppend
            .then(() => ((this.state.chunks.get(handle)?.version ?? version) < version ? this.commit([{ op: 'bumpVersion', handle, version, primary: null }]) : undefined))
            .catch((err: unknown) => this.ctx.log.warn('could not log an adopted chunk version', { handle: String(handle), version, error: String(err) }))
            .finally(() => {
              if (this.adopting.get(handle) === version) this.adopting.delete(handle);
            });
        }
      }
      if (meta.sealedBytes !== undefined && c.version === meta.version && c.lengthBytes !== meta.sealedBytes) {
        if (c.lengthBytes < meta.sealedBytes) {
          // S2: shorter than the seal — it cannot hold every acknowledged append: stale.
          garbage.push(c.handle);
          noteReplica(this.staleReplicas, c.handle, s.id);
          continue;
        }
        // Fenced but not yet cut (the cut was lost, or the master restarted): cut it now; readers
        // never read past the sealed length meanwhile (S1).
        if (this.opts.role === 'primary') this.ctx.tell(s.ref, { type: 'gfs.chunkserver.sealChunk', handle: c.handle, version: meta.version, lengthBytes: meta.sealedBytes });
      }
      s.chunks.set(c.handle, { version: c.version, lengthBytes: c.lengthBytes });
      this.addLocation(c.handle, s.id);
    }
  }

  private addLocation(h: ChunkHandle, server: string): void {
    let set = this.locations.get(h);
    if (set === undefined) {
      set = new Set();
      this.locations.set(h, set);
    }
    set.add(server);
    this.refresh(h);
  }

  private dropLocations(h: ChunkHandle): void {
    this.locations.delete(h);
    this.refresh(h);
  }

  // ----- the replication backlog (M12) -----

  /** Re-classifies one chunk: O(its replicas). Called after every change that can alter its replication. */
  private refresh(h: ChunkHandle): void {
    const meta = this.state.chunks.get(h);
    if (meta === undefined) {
      this.backlog.set(h, 0, 0, undefined);
      return;
    }
    const { live, active } = this.liveReplicaCounts(h, meta.version);
    this.backlog.set(h, live, active, MasterState.goalOf(meta, this.cfg.replicationDefault));
  }

  private liveReplicaCounts(h: ChunkHandle, version: number): { live: number; active: number } {
    let live = 0;
    let active = 0;
    for (const id of this.locations.get(h) ?? []) {
      const s = this.servers.get(id);
      if (s === undefined || !s.alive || s.chunks.get(h)?.version !== version) continue;
      live++;
      if (s.decommission === 'none') active++;
    }
    return { live, active };
  }

  private refreshTouched(): void {
    for (const h of this.touched) {
      this.refresh(h);
      if (!this.state.chunks.has(h)) this.ackedLengths.delete(h);
    }
    this.touched.clear();
  }

  /** A full recount: after loading a state (startup, an installed checkpoint). O(chunks). */
  private recountBacklog(): void {
    this.backlog.clear();
    this.touched.clear();
    for (const h of this.state.chunks.keys()) this.refresh(h);
  }

  private reportCorrupt(server: string, handle: ChunkHandle): GfsResult<null> {
    noteReplica(this.corruptReplicas, handle, server);
    // ¶124: the replica no longer counts; re-replication restores the goal, then the bad copy is deleted.
    this.locations.get(handle)?.delete(server);
    this.servers.get(server)?.chunks.delete(handle);
    this.refresh(handle);
    const s = this.servers.get(server);
    if (s !== undefined && this.opts.role === 'primary') this.ctx.tell(s.ref, { type: 'gfs.chunkserver.deleteChunks', handles: [handle] });
    this.ctx.log.warn('corrupt replica reported', { server, handle: String(handle) });
    this.event('warn', `corrupt replica of chunk ${handle.toString(16)} on ${server}: dropped, re-replicating from a good copy`);
    return ok(null);
  }

  /** A client's acknowledged mutation ends at `lengthBytes` (sizes at once: see `ackedLengths`). */
  private reportLength(handle: ChunkHandle, version: number, lengthBytes: number): GfsResult<null> {
    if (this.opts.role !== 'primary') return this.notPrimary();
    const meta = this.state.chunks.get(handle);
    if (meta === undefined) return fail('chunk_not_found', `no chunk ${handle}`);
    if (!Number.isSafeInteger(lengthBytes) || lengthBytes < 0 || lengthBytes > this.cfg.chunkSizeBytes) return fail('invalid_request', `chunk length ${lengthBytes} is outside 0..${this.cfg.chunkSizeBytes}`);
    if (!Number.isSafeInteger(version) || version > meta.version) return fail('stale_version', `chunk ${handle} is at version ${meta.version}, the report names ${version}`);
    // Bytes acknowledged at an older version are still there: a version bump never shortens a chunk.
    if (lengthBytes > (this.ackedLengths.get(handle) ?? 0)) this.ackedLengths.set(handle, lengthBytes);
    return ok(null);
  }

  private decommission(server: string): GfsResult<null> {
    if (this.opts.role !== 'primary') return this.notPrimary();
    const s = this.servers.get(server);
    if (s === undefined) return fail('not_found', `no chunkserver ${server}`);
    if (s.decommission === 'none') {
      s.decommission = 'draining';
      // Its replicas stop counting toward the goal (they remain clone sources).
      for (const h of s.chunks.keys()) this.refresh(h);
    }
    return ok(null);
  }

  private command(server: string, msg: ChunkserverMsg): Promise<ChunkserverReply> {
    const s = this.servers.get(server);
    if (s === undefined || !s.alive) return Promise.resolve(fail('chunkserver_failed', `chunkserver ${server} is not live`));
    return this.ctx.ask<ChunkserverReply>(s.ref, msg, { timeoutMs: this.cfg.rpcTimeoutMs }).catch((e: unknown) => {
      s.silent = true;
      return fail('chunkserver_failed', `${server}: ${e instanceof Error ? e.message : String(e)}`);
    });
  }

  // ----- background work: liveness, re-replication, rebalancing, GC (¶66–81) -----

  private tick(task: 'liveness' | 'replication' | 'gc' | 'checkpoint'): unknown {
    if (!this.ready || this.opts.role !== 'primary') return undefined;
    switch (task) {
      case 'liveness':
        return this.checkLiveness();
      case 'replication':
        return this.replicate();
      case 'gc':
        return this.collectGarbage();
      case 'checkpoint':
        return this.checkpoint();
    }
  }

  private checkLiveness(): void {
    const now = this.ctx.clock.now();
    for (const s of this.servers.values()) {
      if (s.alive && now - s.lastHeartbeat > this.cfg.chunkserverTimeoutMs) {
        s.alive = false;
        for (const h of s.chunks.keys()) {
          this.locations.get(h)?.delete(s.id);
          this.refresh(h);
        }
        this.ctx.log.warn('chunkserver missed its heartbeats: its replicas no longer count', { server: s.id });
      }
    }
  }

  /** The chunk's replication goal (the highest setting among its files, ¶66). */
  private goalOf(h: ChunkHandle): number | undefined {
    const meta = this.state.chunks.get(h);
    return meta === undefined ? undefined : MasterState.goalOf(meta, this.cfg.replicationDefault);
  }

  /** The chunks below their goal, from the maintained backlog (M12): O(backlog), not a scan of the files. */
  private underReplicated(): UnderReplicated[] {
    const out: UnderReplicated[] = [];
    for (const h of this.backlog.under) {
      const meta = this.state.chunks.get(h);
      if (meta === undefined) continue;
      const goal = MasterState.goalOf(meta, this.cfg.replicationDefault);
      const live = this.replicasOf(h).map((r) => r.server).filter((id) => this.servers.get(id)?.decommission === 'none');
      if (live.length >= goal) continue;
      // Draining servers still serve as clone sources.
      const sources = this.replicasOf(h).map((r) => r.server);
      out.push({ handle: h, version: meta.version, goal, live: live.length > 0 ? live : sources, deletedOnly: meta.liveRefs === 0, blockingClient: this.blocking.has(h) });
    }
    return out;
  }

  private async replicate(): Promise<void> {
    const inFlight = new Map<string, number>();
    for (const c of this.clones.values()) {
      inFlight.set(c.source, (inFlight.get(c.source) ?? 0) + 1);
      inFlight.set(c.target, (inFlight.get(c.target) ?? 0) + 1);
    }
    const views = this.serverViews();
    const plans = planClones(this.underReplicated(), inFlight, { totalMax: this.cfg.clonesInFlightMax, perServerMax: this.cfg.clonesPerServerMax }, (c, count, exclude) => {
      const racks = new Set(c.live.map((id) => this.servers.get(id)?.rack ?? ''));
      return choosePlacement(views, count, { exclude, recentCreationsMax: this.cfg.recentCreationsPerServerMax, racksInUse: racks });
    });
    const moves =
      plans.length === 0
        ? planRebalance(views, (id) => [...(this.servers.get(id)?.chunks.keys() ?? [])].filter((h) => this.state.chunks.has(h)), (h) => this.locations.get(h) ?? new Set(), {
            threshold: this.cfg.rebalanceThreshold,
            movesMax: Math.min(this.cfg.rebalanceMovesPerPassMax, this.cfg.clonesInFlightMax - this.clones.size),
            rackOf: (id) => this.servers.get(id)?.rack,
          })
        : [];
    const work = [
      ...plans.map((p) => this.clone(p.handle, p.version, p.source, p.target, undefined)),
      ...moves.map((mv) => this.clone(mv.handle, this.state.chunks.get(mv.handle)?.version ?? 0, mv.from, mv.to, mv.from)),
    ];
    this.finishDecommissions();
    await Promise.all(work);
  }

  /** Clones `handle` from `source` to `target` (¶69); for a rebalancing move, then deletes it from `moveFrom` (¶71). */
  private async clone(handle: ChunkHandle, version: number, source: string, target: string, moveFrom: string | undefined): Promise<void> {
    const key = `${handle}>${target}`;
    if (this.clones.has(key)) return;
    const src = this.servers.get(source);
    if (src === undefined) return;
    this.clones.set(key, { handle, source, target });
    try {
      // M9: never clone a chunk that can be mutated meanwhile. A copy made under a lease could miss
      // mutations the primary orders after it read, yet carry the current version. So the lease is
      // revoked first (the primary finishes the mutations under way, C9); if the primary cannot
      // confirm, the clone waits for a later pass, after the lease ran out. A lease granted while
      // the clone runs bumps the version, and the copy is then discarded as stale (below, M8).
      const lease = this.leases.current(handle, this.ctx.clock.now());
      if (lease !== undefined) {
        const revoked = await this.command(lease.primary, { type: 'gfs.chunkserver.revokeLease', handle });
        if (!revoked.ok) return;
        this.leases.revoked(handle);
        this.event('info', `lease on chunk ${handle.toString(16)} revoked from ${lease.primary} to re-replicate it`);
      } else if (this.leases.unknownLeaseEndsAt(handle, this.holderOf(this.state.chunks.get(handle)), this.ctx.clock.now()) > 0) {
        return; // a lease of the previous incarnation may be running (unknown to this one): a later pass clones
      }
      const r = await this.command(target, { type: 'gfs.chunkserver.clone', handle, version, source: addr(src), bandwidthBytesPerSecMax: this.cfg.cloneBandwidthBytesPerSecMax });
      const meta = this.state.chunks.get(handle);
      const t = this.servers.get(target);
      if (!r.ok || meta === undefined || t === undefined || meta.version !== version) return;
      t.chunks.set(handle, { version, lengthBytes: r.value.lengthBytes ?? this.chunkLength(handle) });
      this.addLocation(handle, target);
      this.missedBump.get(handle)?.servers.delete(target); // a fresh, complete copy
      if (moveFrom !== undefined) {
        this.locations.get(handle)?.delete(moveFrom);
        this.servers.get(moveFrom)?.chunks.delete(handle);
        this.refresh(handle);
        const from = this.servers.get(moveFrom);
        if (from !== undefined) this.ctx.tell(from.ref, { type: 'gfs.chunkserver.deleteChunks', handles: [handle] });
      }
    } finally {
      this.clones.delete(key);
    }
  }

  private finishDecommissions(): void {
    for (const s of this.servers.values()) {
      if (s.decommission !== 'draining') continue;
      const pending = [...s.chunks.keys()].filter((h) => {
        const goal = this.goalOf(h);
        if (goal === undefined) return false;
        const elsewhere = this.replicasOf(h).filter((r) => r.server !== s.id && this.servers.get(r.server)?.decommission === 'none').length;
        return elsewhere < goal;
      });
      if (pending.length === 0) {
        s.decommission = 'done';
        this.ctx.log.info('chunkserver decommissioned', { server: s.id });
      }
    }
  }

  /** The regular namespace scan (¶73–74): expired hidden files are erased; their chunks become orphans and are dropped. */
  private async collectGarbage(): Promise<void> {
    const expired = expiredHidden(this.state, this.ctx.clock.now(), this.cfg.deletedRetentionMs);
    for (const p of expired) {
      await this.mutate([{ path: p, mode: 'write' }], (c) => (c.state.get(p) === undefined ? ok([]) : ok([{ op: 'remove', path: p } satisfies MasterRecord])));
    }
    for (const h of [...this.locations.keys()]) if (!this.state.chunks.has(h)) this.dropLocations(h);
    for (const h of [...this.missedBump.keys()]) if (!this.state.chunks.has(h)) this.missedBump.delete(h);
  }

  /** Writes a checkpoint of the state as of the current lsn (¶49–50): the log keeps going meanwhile. */
  private async checkpoint(): Promise<void> {
    const journal = this.opts.journal;
    if (journal === undefined) return;
    const lsn = this.lsn;
    if (lsn - this.checkpointLsn < this.cfg.checkpointEveryRecords) return;
    await this.lastAppend;
    if (lsn !== this.lsn) return; // records arrived meanwhile; take it next time
    // The image is taken now, synchronously; writing it does not delay requests (¶50).
    const image = this.state.toCheckpoint();
    try {
      await journal.checkpoint(lsn, image);
      this.checkpointLsn = lsn;
      this.ctx.log.info('checkpoint written', { lsn });
    } catch (err) {
      this.ctx.log.error('checkpoint failed; the log keeps every record', { lsn, error: String(err) });
    }
  }

  // ----- status -----

  /**
   * The cluster at a glance, in O(servers + leases): every count is kept current with the state
   * (M12), so the cost does not grow with the files or chunks (issue #13: status with 1M files).
   */
  private status(): ClusterStatus {
    const now = this.ctx.clock.now();
    const leases = this.leases.countByPrimary(now);
    const servers: ServerStatus[] = [...this.servers.values()]
      .map((s) => ({
        server: s.id,
        rack: s.rack,
        host: s.host,
        alive: s.alive,
        decommission: s.decommission,
        chunks: s.chunks.size,
        usedBytes: s.usedBytes,
        capacityBytes: s.capacityBytes,
        leases: leases.get(s.id) ?? 0,
        recentCreations: s.recentCreations.filter((t) => now - t <= this.cfg.recentCreationWindowMs).length,
      }))
      .sort((a, b) => (a.server < b.server ? -1 : 1));
    return {
      role: this.opts.role,
      master: `${this.ctx.self.id}@${this.ctx.self.node}`,
      lsn: this.lsn,
      files: this.state.fileCount,
      directories: this.state.dirCount,
      chunks: this.state.chunks.size,
      underReplicated: this.backlog.under.size,
      missing: this.backlog.missing.size,
      leases: this.leases.size,
      clonesInFlight: this.clones.size,
      servers,
      incarnation: this.incarnation,
      events: [...this.events],
    };
  }

  private fsck(root: string): FsckReport {
    const problems: FsckProblem[] = [];
    let files = 0;
    let chunks = 0;
    let missing = 0;
    let under = 0;
    let stale = 0;
    let corrupt = 0;
    for (const p of this.state.subtree(root)) {
      const n = this.state.get(p);
      if (n === undefined || n.kind !== 'file') continue;
      files++;
      n.chunks.forEach((handle, index) => {
        chunks++;
        const goal = this.goalOf(handle) ?? this.cfg.replicationDefault;
        const live = this.replicasOf(handle).map((r) => r.server);
        const st = [...(this.staleReplicas.get(handle) ?? [])];
        const bad = [...(this.corruptReplicas.get(handle) ?? [])];
        const state = live.length === 0 ? 'missing' : live.length < goal ? 'under-replicated' : 'ok';
        if (state === 'ok') {
          // Healthy again: forget the history (the bad copies were deleted).
          this.staleReplicas.delete(handle);
          this.corruptReplicas.delete(handle);
        }
        if (state === 'missing') missing++;
        if (state === 'under-replicated') under++;
        stale += st.length;
        corrupt += bad.length;
        if ((state !== 'ok' || st.length > 0 || bad.length > 0) && problems.length < 1_000) problems.push({ path: p, index, handle, goal, live, state, stale: st, corrupt: bad });
      });
    }
    return { files, chunks, missing, underReplicated: under, staleReplicas: stale, corruptReplicas: corrupt, problems };
  }

  private rpcLogEntries(limit: number): RpcLogEntry[] {
    const all = [...this.rpcLog];
    return all.slice(Math.max(0, all.length - limit)).map((e) => ({
      time: e.time,
      from: e.from === undefined ? '-' : `${e.from.id}@${e.from.node}`,
      request: e.request.type,
      args: describeArgs(e.request),
      outcome: e.outcome,
      durationMs: e.durationMs,
    }));
  }

  private invariants(): void {
    if (!this.ready) return;
    this.state.invariants();
    // M12: the maintained backlog equals a full scan of the chunks and their replicas. Replicas are
    // counted as the read path counts them (`liveReplica`, what replicasOf returns), not with the
    // helper the backlog is kept with. Every chunk's membership is compared, then the sizes (so the
    // backlog holds nothing else); this runs after every message, so it builds no sets.
    let under = 0;
    let missing = 0;
    for (const [h, meta] of this.state.chunks) {
      let live = 0;
      let active = 0;
      const holders = this.locations.get(h);
      if (holders !== undefined) {
        for (const id of holders) {
          const s = this.liveReplica(h, meta.version, id);
          if (s === undefined) continue;
          live++;
          if (s.decommission === 'none') active++;
        }
      }
      const isUnder = active < MasterState.goalOf(meta, this.cfg.replicationDefault);
      const isMissing = live === 0;
      if (isUnder) under++;
      if (isMissing) missing++;
      if (isUnder !== this.backlog.under.has(h)) throw new Error(`M12: chunk ${h} ${isUnder ? 'is under-replicated but not counted as such' : 'is counted as under-replicated but is not'}`);
      if (isMissing !== this.backlog.missing.has(h)) throw new Error(`M12: chunk ${h} ${isMissing ? 'is missing but not counted as such' : 'is counted as missing but is not'}`);
    }
    for (const [name, kept, scanned] of [['under-replicated', this.backlog.under, under], ['missing', this.backlog.missing, missing]] as const) {
      if (kept.size === scanned) continue;
      const extra = [...kept].find((h) => !this.state.chunks.has(h));
      throw new Error(`M12: chunk ${extra} is counted as ${name} but does not exist`);
    }
    const now = this.ctx.clock.now();
    // M6: at most one primary per chunk: the lease table holds one lease per handle by construction;
    // check that every lease a known server holds names a chunk that exists.
    for (const h of this.leases.handles()) {
      const l = this.leases.current(h, now);
      if (l === undefined || !this.servers.has(l.primary)) continue;
      if (!this.state.chunks.has(l.handle) && this.opts.role === 'primary') throw new Error(`M6: lease on unknown chunk ${l.handle}`);
      if (this.state.chunks.get(l.handle)?.sealedBytes !== undefined) throw new Error(`S3: lease on sealed chunk ${l.handle}`);
    }
  }
}

function noteReplica(map: Map<ChunkHandle, Set<string>>, handle: ChunkHandle, server: string): void {
  let set = map.get(handle);
  if (set === undefined) {
    if (map.size >= 100_000) return; // bounded: fsck reports at most this many damaged chunks in detail
    set = new Set();
    map.set(handle, set);
  }
  set.add(server);
}

function addr(s: ServerState): ReplicaAddr {
  return { server: s.id, ref: s.ref, rack: s.rack, host: s.host };
}

function describeArgs(m: MasterMsg): string {
  const { type: _type, rid: _rid, ...rest } = m as Record<string, unknown>;
  return JSON.stringify(rest, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? `<${v.byteLength} bytes>` : v));
}

function outcomeCode(r: unknown): string {
  if (r !== null && typeof r === 'object' && 'ok' in r) {
    const res = r as GfsResult<unknown>;
    return res.ok ? 'ok' : (res.error as GfsError).code;
  }
  return 'ok';
}

function describeOutcome(r: unknown): string {
  if (r !== null && typeof r === 'object' && 'ok' in r) {
    const res = r as GfsResult<unknown>;
    return res.ok ? 'ok' : `${(res.error as GfsError).code}: ${(res.error as GfsError).message}`;
  }
  return 'ok';
}
