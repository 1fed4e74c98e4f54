/**
 * The OSD's object data path (thesis §6.3, §7.1; README.md "Data path", invariants D1–D10): one
 * object-store collection per PG, updates serialized by the PG's first OSD and replicated by the
 * pool's mode (`replication.ts`), the PG log written in the same store transaction as the data
 * (`pg-log.ts`), ack when applied on every replica and commit when durable on every replica, reads
 * at the read-serving OSD under a read lease, and a small activation step when the acting set
 * changes (the members' logs are brought to the newest applied update from the members' recent
 * updates, or the PG stays inactive until peering, the next issue).
 *
 * Runs inside the OSD actor's turns: no awaits; store commits come back as messages.
 */
import { decode, encode } from '@msgpack/msgpack';
import type { ActorContext } from '../../../runtime/behavior.js';
import type { ObjectStore, TransactionOp } from '../../../storage/object-store.js';
import type { DataPathConfig } from '../config.js';
import { objectError, type ObjectError } from '../errors.js';
import { pgMapping } from '../osdmap/mapping.js';
import type { OsdMap, ReplicationMode } from '../osdmap/osd-map.js';
import { objectPg } from '../osdmap/mapping.js';
import type {
  ClientReply,
  ClientWaiter,
  MapBundle,
  OsdDataMsg,
  OsdOpRequest,
  OsdPgListRequest,
  PgActivate,
  PgActivated,
  PgFull,
  PgInfo,
  PgQuery,
  PgUpdate,
  RepData,
  RepOp,
  RepProgress,
  RepRefused,
} from '../protocol.js';
import { RESERVED_OID_PREFIX, USER_XATTR_PREFIX, VERSION_ATTR, isMutation, resolveMutation, validateOps, type ObjectOpResult } from './object-ops.js';
import {
  ZERO_VERSION,
  appendEntry,
  checkPgLog,
  compareVersions,
  emptyPgLog,
  findReqid,
  formatVersion,
  markApplied,
  nextVersion,
  restoreLog,
  rollBackUnapplied,
  trimLog,
  versionEq,
  versionKey,
  type Eversion,
  type PgLog,
  type PgLogEntry,
} from './pg-log.js';
import { PieceTable, reassembleUpdate, shouldSlice, sliceUpdate } from './slicing.js';
import { formatPgState, formatPgid, type PgStat, type PgStateFlag } from './pg-stats.js';
import { INITIAL_REPLICA_STATE, replicaStep, replicationRoles, type ReplicaEffect, type ReplicaEvent, type ReplicaState, type ReplicationRoles } from './replication.js';

/** The PG log's own object in each PG collection (a name no client can use). */
export const PG_LOG_OID = `${RESERVED_OID_PREFIX}pglog`;
const LAST_UPDATE_ATTR = 'lu';
const TAIL_ATTR = 'tail';
const LES_ATTR = 'les';
const ENTRY_ATTR_PREFIX = 'e.';

export const pgCollection = (pool: number, ps: number): string => `pg.${pool}.${ps}`;
const pgKey = (pool: number, ps: number): string => `${pool}.${ps}`;
const actingKey = (acting: readonly number[], mode: ReplicationMode): string => `${mode}:${acting.join(',')}`;
/** A sliced update's pieces: by PG (the prefix dropped on a new interval), version and the sender's acting set. */
const pieceKey = (pool: number, ps: number, version: Eversion, acting: readonly number[]): string => `${pgKey(pool, ps)}/${versionKey(version)}/${acting.join(',')}`;
/** A piece that is a view of a larger buffer is copied, so a message between threads carries the piece, not the whole buffer. */
const ownBytes = (b: Uint8Array): Uint8Array => (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength ? b : b.slice());

/** Where the simulator's checkers watch the data path (test (d) of the issue): every store apply and commit, and every ack and commit sent. */
export interface DataPathProbe {
  applied(osd: number, pg: string, version: Eversion, reqid: string, op: PgLogEntry['op']): void;
  committed(osd: number, pg: string, version: Eversion, reqid: string): void;
  acked(osd: number, pg: string, version: Eversion, reqid: string, acting: readonly number[]): void;
  commitSent(osd: number, pg: string, version: Eversion, reqid: string, acting: readonly number[]): void;
}

/** Upper bounds (ms) of the latency histogram buckets; the last bucket is everything above. */
export const LATENCY_BUCKETS_MS: readonly number[] = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000];

/** Running totals of one OSD's data path (the dashboard and `/metrics` read them through `rados.osd.status`). */
export interface DataPathStats {
  /** Client ops served here, by kind. */
  readonly writeOps: number;
  readonly readOps: number;
  readonly writeBytes: number;
  readonly readBytes: number;
  /** Acks and commits this OSD sent as the acker, with latency histograms (counts per `LATENCY_BUCKETS_MS` bucket, plus one for above), from the first OSD's receipt. */
  readonly acks: number;
  readonly commits: number;
  readonly ackLatencyBuckets: readonly number[];
  readonly commitLatencyBuckets: readonly number[];
}

/** Messages the data path sends itself through the OSD's mailbox. */
export type DataPathSelfMsg =
  | { readonly type: 'rados.osd.localCommitted'; readonly pool: number; readonly ps: number; readonly version: Eversion; readonly reqid: string }
  | { readonly type: 'rados.osd.activationCommitted'; readonly pool: number; readonly ps: number; readonly activation: number; readonly head: number; readonly acting: readonly number[] }
  | { readonly type: 'rados.osd.activateRetry'; readonly pool: number; readonly ps: number; readonly activation: number };

export interface DataPathHost {
  readonly id: number;
  readonly ctx: ActorContext<never>;
  readonly store: ObjectStore;
  readonly cfg: DataPathConfig;
  readonly probe: DataPathProbe | undefined;
  map(): OsdMap;
  /** The map bundle a party at `epoch` lacks. */
  bundleFor(epoch: number): MapBundle;
  /** Ask a monitor for newer maps. */
  fetchMap(): void;
  sendOsd(osd: number, msg: OsdDataMsg): void;
  sendSelf(msg: DataPathSelfMsg): void;
  /** Last time a message from `osd` arrived (heartbeats included). */
  lastHeardMs(osd: number): number | undefined;
  /** Whether a scrub holds writes to `oid` of the PG for now (`scrubber.ts`); such writes wait in the PG's queue. */
  scrubBlocks?(pool: number, ps: number, oid: string): boolean;
}

interface Inflight {
  readonly update: PgUpdate;
  rs: ReplicaState;
  readonly waiters: ClientWaiter[];
  /** The `apply` effect is due but waits for its turn (per-PG version order, D2). */
  applyDue: boolean;
  /** The entry is in this OSD's log (logged alone, or with the data). */
  logged: boolean;
  /** OSDs this OSD already passed the update's pieces on to as they arrived (a chain's next OSD; D12). */
  readonly piecesSentTo?: ReadonlySet<number>;
}

interface Activation {
  readonly id: number;
  readonly waiting: Set<number>;
  readonly infos: Map<number, PgInfo>;
  phase: 'query' | 'activate';
}

interface Pg {
  readonly pool: number;
  readonly ps: number;
  readonly cid: string;
  log: PgLog;
  acting: readonly number[];
  mode: ReplicationMode;
  roles: ReplicationRoles | undefined;
  interval: string;
  /** Serving in `interval` (reads at the reader, updates at every member). */
  active: boolean;
  activation: Activation | undefined;
  /** Updates not finished here, oldest first (Map keeps insertion = version order). */
  readonly inflight: Map<string, Inflight>;
  /** Recent updates this OSD holds with their data (bounded), to bring other members forward. */
  recent: PgUpdate[];
  /** Client ops waiting at the first OSD (inactive PG, or an earlier update of their object not yet applied here). */
  readonly queue: OsdOpRequest[];
  /** Newest version durable on every member (known at the acker). */
  committedAll: Eversion;
  /** Newest version durable here. */
  localCommitted: Eversion;
  /** Progress from members that arrived before the update itself (a commit can overtake a chain), bounded. */
  readonly early: Map<string, ReplicaEvent[]>;
}

export class DataPath {
  private readonly pgs = new Map<string, Pg>();
  private activationSeq = 0;
  private readonly counters = { writeOps: 0, readOps: 0, writeBytes: 0, readBytes: 0, acks: 0, commits: 0 };
  private readonly ackBuckets: number[] = LATENCY_BUCKETS_MS.map(() => 0).concat(0);
  private readonly commitBuckets: number[] = LATENCY_BUCKETS_MS.map(() => 0).concat(0);

  /** Pieces of sliced updates waiting for their headers (D11, D12). */
  private readonly pieces: PieceTable;

  constructor(private readonly h: DataPathHost) {
    this.pieces = new PieceTable(h.cfg.repPiecesBufferedBytesMax, h.cfg.pgInflightMax * 16);
    this.loadPgs();
  }

  // ----- state from the store (after a restart) -----

  private loadPgs(): void {
    const s = this.h.store;
    for (const cid of s.listCollections()) {
      const m = /^pg\.(\d+)\.(\d+)$/.exec(cid);
      if (m === null) continue;
      const pool = Number(m[1]);
      const ps = Number(m[2]);
      const attrs = s.stat(cid, PG_LOG_OID) === undefined ? new Map<string, Uint8Array>() : s.getAttrs(cid, PG_LOG_OID);
      const entries: PgLogEntry[] = [];
      for (const [name, value] of attrs) if (name.startsWith(ENTRY_ATTR_PREFIX)) entries.push(decode(value) as PgLogEntry);
      const lu = attrs.get(LAST_UPDATE_ATTR);
      const tail = attrs.get(TAIL_ATTR);
      const log = restoreLog(entries, lu === undefined ? ZERO_VERSION : (decode(lu) as Eversion), tail === undefined ? ZERO_VERSION : (decode(tail) as Eversion));
      const pg = this.newPg(pool, ps, log);
      pg.localCommitted = log.lastUpdate;
      this.pgs.set(pgKey(pool, ps), pg);
    }
  }

  private newPg(pool: number, ps: number, log: PgLog = emptyPgLog()): Pg {
    return {
      pool,
      ps,
      cid: pgCollection(pool, ps),
      log,
      acting: [],
      mode: 'primary-copy',
      roles: undefined,
      interval: '',
      active: false,
      activation: undefined,
      inflight: new Map(),
      recent: [],
      queue: [],
      committedAll: log.lastUpdate,
      localCommitted: ZERO_VERSION,
      early: new Map(),
    };
  }

  private pg(pool: number, ps: number): Pg {
    const k = pgKey(pool, ps);
    let pg = this.pgs.get(k);
    if (pg === undefined) {
      pg = this.newPg(pool, ps);
      this.pgs.set(k, pg);
    }
    return pg;
  }

  /** PG states for status and metrics. */
  pgStates(): { pg: string; active: boolean; acting: readonly number[]; lastUpdate: string; objects: number; bytes: number }[] {
    const s = this.h.store;
    return [...this.pgs.values()].map((p) => ({
      pg: pgKey(p.pool, p.ps),
      active: p.active,
      acting: p.acting,
      lastUpdate: formatVersion(p.log.lastUpdate),
      ...(s.hasCollection(p.cid) ? s.collectionUsage(p.cid, (oid) => oid.startsWith(RESERVED_OID_PREFIX)) : { objects: 0, bytes: 0 }),
    }));
  }

  /**
   * Every PG held here as a `PgStat`, from what the data path knows today: the activation flag and
   * the acting set against the pool's size and min_size (peering replaces the state flags). Scrub
   * fields and the state's start time are filled by the OSD (`scrubber.ts`, `pg-stat-reporter.ts`).
   */
  pgStats(nowMs: number): PgStat[] {
    const map = this.h.map();
    const s = this.h.store;
    const out: PgStat[] = [];
    for (const p of this.pgs.values()) {
      const pool = map.pools.find((x) => x.id === p.pool);
      if (pool === undefined || p.ps >= pool.pgNum) continue;
      const n = p.acting.length;
      const flags: PgStateFlag[] = [];
      if (p.active) flags.push('active');
      else flags.push(n >= pool.minSize ? 'peering' : 'peered');
      if (n < pool.size) flags.push('undersized', 'degraded');
      else if (p.active) flags.push('clean');
      const { objects, bytes } = s.hasCollection(p.cid) ? s.collectionUsage(p.cid, (oid) => oid.startsWith(RESERVED_OID_PREFIX)) : { objects: 0, bytes: 0 };
      const les = s.hasCollection(p.cid) && s.stat(p.cid, PG_LOG_OID) !== undefined ? s.getAttr(p.cid, PG_LOG_OID, LES_ATTR) : undefined;
      out.push({
        pgid: formatPgid(p.pool, p.ps),
        state: formatPgState(flags),
        epoch: map.epoch,
        up: pgMapping(map, p.pool, p.ps)?.up ?? [],
        acting: p.acting,
        primary: p.acting[0] ?? -1,
        lastUpdate: formatVersion(p.log.lastUpdate),
        lastComplete: formatVersion(p.log.lastUpdate),
        lastEpochStarted: les === undefined ? 0 : (decode(les) as number),
        objects,
        bytes,
        logEntries: p.log.entries.length,
        degradedObjects: objects * Math.max(0, pool.size - n),
        missingObjects: 0,
        misplacedObjects: 0,
        stateSinceMs: 0,
        lastScrubMs: 0,
        lastDeepScrubMs: 0,
        inconsistentObjects: 0,
      });
    }
    // `nowMs` is for the peering version, which stamps when each state began; this one leaves that to the reporter.
    void nowMs;
    return out;
  }

  // ----- scrub hooks (scrubber.ts) -----

  /**
   * A PG as the scrubber needs it: whether it is active here, its acting set, the log's head and
   * last_update, and the objects with an update in flight not yet applied here.
   */
  scrubView(pool: number, ps: number): { active: boolean; acting: readonly number[]; head: Eversion; lastUpdate: Eversion; unapplied: ReadonlySet<string> } | undefined {
    const pg = this.pgs.get(pgKey(pool, ps));
    if (pg === undefined) return undefined;
    const unapplied = new Set<string>();
    for (const inf of pg.inflight.values()) if (!inf.rs.applied) unapplied.add(inf.update.entry.oid);
    return { active: pg.active, acting: pg.acting, head: pg.log.head, lastUpdate: pg.log.lastUpdate, unapplied };
  }

  /** The scrubber released writes it held: run the PG's queued ops. */
  scrubReleased(pool: number, ps: number): void {
    const pg = this.pgs.get(pgKey(pool, ps));
    if (pg !== undefined && pg.queue.length > 0) this.drainQueue(pg);
  }

  stats(): DataPathStats {
    return { ...this.counters, ackLatencyBuckets: [...this.ackBuckets], commitLatencyBuckets: [...this.commitBuckets] };
  }

  private observe(buckets: number[], ms: number): void {
    let i = LATENCY_BUCKETS_MS.findIndex((b) => ms <= b);
    if (i < 0) i = LATENCY_BUCKETS_MS.length;
    buckets[i] = (buckets[i] ?? 0) + 1;
  }

  invariants(): void {
    this.pieces.invariants();
    for (const pg of this.pgs.values()) {
      checkPgLog(pg.log);
      if (pg.inflight.size > this.h.cfg.pgInflightMax * 4 + 16) throw new Error(`pg ${pgKey(pg.pool, pg.ps)}: ${pg.inflight.size} updates in flight`);
      if (pg.queue.length > this.h.cfg.pgQueueMax) throw new Error(`pg ${pgKey(pg.pool, pg.ps)}: queue over its bound`);
    }
  }

  // ----- map changes: new intervals -----

  /** Called after every new map (thesis §6.3.3: every member notices every membership change). */
  onMap(prev: OsdMap): void {
    const map = this.h.map();
    const me = this.h.id;
    const seen = new Set<string>();
    for (const pool of map.pools) {
      for (let ps = 0; ps < pool.pgNum; ps++) {
        const k = pgKey(pool.id, ps);
        const held = this.pgs.get(k);
        const m = pgMapping(map, pool.id, ps);
        if (m === undefined) continue;
        if (held === undefined && !m.acting.includes(me)) continue;
        seen.add(k);
        const pg = held ?? this.pg(pool.id, ps);
        const iv = actingKey(m.acting, pool.replication);
        if (iv === pg.interval) continue;
        const prevActing = pg.acting.length > 0 ? pg.acting : (pgMapping(prev, pool.id, ps)?.acting ?? []);
        this.newInterval(pg, m.acting, pool.replication, prevActing, pool.minSize);
      }
    }
  }

  private newInterval(pg: Pg, acting: readonly number[], mode: ReplicationMode, prevActing: readonly number[], minSize: number): void {
    pg.interval = actingKey(acting, mode);
    pg.acting = acting;
    pg.mode = mode;
    pg.roles = acting.length > 0 ? replicationRoles(mode, acting) : undefined;
    pg.active = false;
    pg.activation = undefined;
    // Updates of the old interval are abandoned here; activation settles what the members applied, and clients resend.
    pg.inflight.clear();
    pg.early.clear();
    this.pieces.dropPrefix(`${pgKey(pg.pool, pg.ps)}/`);
    this.failQueue(pg, 'pg_inactive', 'the acting set changed');
    if (acting[0] === this.h.id && acting.length >= minSize) this.startActivation(pg, prevActing);
  }

  private failQueue(pg: Pg, code: 'pg_inactive' | 'busy', why: string): void {
    for (const req of pg.queue.splice(0)) this.replyError(req.client, req.tid, objectError(code, `pg ${pgKey(pg.pool, pg.ps)}: ${why}`));
  }

  // ----- activation (a minimal stand-in for peering; thesis §6.3.3 "new members cannot go active without contacting the prior members") -----

  private startActivation(pg: Pg, prevActing: readonly number[]): void {
    const map = this.h.map();
    const id = ++this.activationSeq;
    const ask = new Set<number>();
    for (const o of [...pg.acting, ...prevActing]) if (o !== this.h.id && (map.osds[o]?.up ?? false)) ask.add(o);
    // Members must answer; prior members that are up too (they may hold newer updates or serve reads).
    pg.activation = { id, waiting: new Set(ask), infos: new Map(), phase: 'query' };
    for (const o of ask) {
      this.h.sendOsd(o, { type: 'rados.osd.pgQuery', epoch: map.epoch, from: this.h.id, pool: pg.pool, ps: pg.ps, acting: pg.acting, activation: id, since: pg.log.lastUpdate });
    }
    this.h.ctx.timers.once(`activate.${pgKey(pg.pool, pg.ps)}`, this.h.cfg.activateTimeoutMs, { type: 'rados.osd.activateRetry', pool: pg.pool, ps: pg.ps, activation: id } as never);
    if (ask.size === 0) this.decide(pg);
  }

  onActivateRetry(m: Extract<DataPathSelfMsg, { type: 'rados.osd.activateRetry' }>): void {
    const pg = this.pgs.get(pgKey(m.pool, m.ps));
    if (pg === undefined || pg.active || pg.acting[0] !== this.h.id) return;
    if (pg.activation !== undefined && pg.activation.id !== m.activation) return;
    const pool = this.h.map().pools.find((p) => p.id === pg.pool);
    if (pool === undefined || pg.acting.length < pool.minSize) return;
    this.startActivation(pg, pg.acting);
  }

  private onPgQuery(m: PgQuery): void {
    // A query from an interval this OSD's newer map has replaced is stale: its sender will learn.
    const mine = pgMapping(this.h.map(), m.pool, m.ps);
    if (m.epoch < this.h.map().epoch && mine !== undefined && mine.acting.join() !== m.acting.join()) return;
    const pg = this.pg(m.pool, m.ps);
    // A newer interval is activating: stop serving reads of this PG until it activates us (thesis §6.3.3).
    pg.active = false;
    // Pieces of updates not yet applied here will not be: activation sends what a member lacks whole (D12).
    this.pieces.dropPrefix(`${pgKey(m.pool, m.ps)}/`);
    if (m.epoch > this.h.map().epoch) this.h.fetchMap();
    const lu = pg.log.lastUpdate;
    const behind = compareVersions(lu, m.since) <= 0;
    const hasSince = behind || versionEq(m.since, ZERO_VERSION) || pg.log.entries.some((e) => versionEq(e.version, m.since)) || versionEq(pg.log.tail, m.since);
    const updates = behind ? [] : pg.recent.filter((u) => compareVersions(u.entry.version, m.since) > 0 && compareVersions(u.entry.version, lu) <= 0);
    const complete = behind || (updates.length > 0 && versionEq(updates[0]!.entry.prior, m.since) && versionEq(updates[updates.length - 1]!.entry.version, lu));
    const full = !behind && (!hasSince || !complete) ? this.buildFull(pg) : undefined;
    const info: PgInfo = { type: 'rados.osd.pgInfo', epoch: this.h.map().epoch, from: this.h.id, pool: m.pool, ps: m.ps, acting: m.acting, activation: m.activation, lastUpdate: lu, hasSince, updates, complete, ...(full === undefined ? {} : { full }) };
    this.h.sendOsd(m.from, info);
  }

  private onPgInfo(m: PgInfo): void {
    const pg = this.pgs.get(pgKey(m.pool, m.ps));
    const a = pg?.activation;
    if (pg === undefined || a === undefined || a.id !== m.activation || a.phase !== 'query' || !a.waiting.has(m.from)) return;
    a.waiting.delete(m.from);
    a.infos.set(m.from, m);
    if (a.waiting.size === 0) this.decide(pg);
  }

  /** Every member answered: bring this OSD to the newest applied update, then each member to this OSD's. */
  private decide(pg: Pg): void {
    const a = pg.activation;
    if (a === undefined) return;
    const stuck = (why: string): void => {
      this.h.ctx.log.warn('osd: PG cannot activate without peering', { osd: this.h.id, pg: pgKey(pg.pool, pg.ps), why });
      a.phase = 'activate';
      a.waiting.clear();
    };
    let best: PgInfo | undefined;
    for (const info of a.infos.values()) if (compareVersions(info.lastUpdate, best?.lastUpdate ?? pg.log.lastUpdate) > 0) best = info;
    // Roll this OSD forward with the updates the most advanced member applied (D9).
    const rb = rollBackUnapplied(pg.log);
    if (rb.dropped.length > 0) this.persistLogDrop(pg, rb.log, rb.dropped);
    if (best !== undefined && (!best.hasSince || !best.complete)) {
      // This OSD diverged from, or fell too far behind, the most advanced member: take its whole copy.
      if (best.full === undefined || !this.installFull(pg, best.full)) return stuck(`osd.${best.from} is ahead (${formatVersion(best.lastUpdate)}) and cannot supply the updates after ${formatVersion(pg.log.lastUpdate)}`);
    } else if (best !== undefined) {
      for (const u of best.updates) {
        if (!versionEq(u.entry.prior, pg.log.head)) return stuck(`update ${formatVersion(u.entry.version)} does not follow ${formatVersion(pg.log.head)}`);
        if (!this.applyUpdate(pg, u, false)) return stuck('the store refused a roll-forward');
      }
    }
    // Each acting member must be on this OSD's history, with the updates it lacks in this OSD's memory.
    const plan = new Map<number, { updates: PgUpdate[]; full?: PgFull }>();
    for (const o of pg.acting) {
      if (o === this.h.id) continue;
      const info = a.infos.get(o);
      if (info === undefined) return stuck(`member osd.${o} did not answer`);
      const lu = info.lastUpdate;
      const known = versionEq(lu, pg.log.lastUpdate) || pg.log.entries.some((e) => versionEq(e.version, lu)) || (versionEq(lu, pg.log.tail) && compareVersions(lu, ZERO_VERSION) >= 0);
      const need = pg.recent.filter((u) => compareVersions(u.entry.version, lu) > 0);
      const missing = pg.log.entries.filter((e) => compareVersions(e.version, lu) > 0).length;
      if (known && need.length === missing) {
        plan.set(o, { updates: need });
        continue;
      }
      // Diverged, or behind by more than memory holds: send the whole PG (within the bound).
      const full = this.buildFull(pg);
      if (full === undefined) return stuck(`osd.${o} (at ${formatVersion(lu)}) needs the whole PG, which exceeds the copy bound`);
      plan.set(o, { updates: [], full });
    }
    a.phase = 'activate';
    a.waiting.clear();
    const epoch = this.h.map().epoch;
    for (const [o, { updates, full }] of plan) {
      a.waiting.add(o);
      const msg: PgActivate = { type: 'rados.osd.pgActivate', epoch, from: this.h.id, pool: pg.pool, ps: pg.ps, acting: pg.acting, activation: a.id, updates, lastUpdate: pg.log.lastUpdate, ...(full === undefined ? {} : { full }) };
      this.h.sendOsd(o, msg);
    }
    a.waiting.add(this.h.id);
    this.markStarted(pg, a.id, this.h.id);
  }

  /** Records last_epoch_started and reports once it (and everything before it) is durable. */
  private markStarted(pg: Pg, activation: number, head: number): void {
    const epoch = this.h.map().epoch;
    const ops: TransactionOp[] = [...this.ensureCollection(pg), { op: 'setAttr', cid: pg.cid, oid: PG_LOG_OID, name: LES_ATTR, value: encode(epoch) }];
    const r = this.h.store.applyNow({ ops });
    if (!r.ok) return;
    const acting = pg.acting;
    void r.committed.then(() => this.h.sendSelf({ type: 'rados.osd.activationCommitted', pool: pg.pool, ps: pg.ps, activation, head, acting }));
  }

  onActivationCommitted(m: Extract<DataPathSelfMsg, { type: 'rados.osd.activationCommitted' }>): void {
    const pg = this.pgs.get(pgKey(m.pool, m.ps));
    if (pg === undefined) return;
    if (m.head === this.h.id) {
      this.onActivated({ type: 'rados.osd.pgActivated', epoch: this.h.map().epoch, from: this.h.id, pool: m.pool, ps: m.ps, acting: m.acting, activation: m.activation, ok: true });
      return;
    }
    if (pg.acting.join() !== m.acting.join()) return;
    pg.active = true;
    pg.committedAll = pg.log.lastUpdate;
    this.h.sendOsd(m.head, { type: 'rados.osd.pgActivated', epoch: this.h.map().epoch, from: this.h.id, pool: m.pool, ps: m.ps, acting: m.acting, activation: m.activation, ok: true });
  }

  private onPgActivate(m: PgActivate): void {
    const pg = this.pg(m.pool, m.ps);
    const refuse = (reason: string): void => {
      this.h.sendOsd(m.from, { type: 'rados.osd.pgActivated', epoch: this.h.map().epoch, from: this.h.id, pool: m.pool, ps: m.ps, acting: m.acting, activation: m.activation, ok: false, reason });
    };
    const mine = pgMapping(this.h.map(), m.pool, m.ps);
    if (m.epoch < this.h.map().epoch && mine !== undefined && mine.acting.join() !== m.acting.join()) return refuse('stale interval');
    if (m.epoch > this.h.map().epoch) this.h.fetchMap();
    pg.inflight.clear();
    if (m.full !== undefined && !this.installFull(pg, m.full)) return refuse('could not install the whole PG');
    const rb = rollBackUnapplied(pg.log);
    if (rb.dropped.length > 0) this.persistLogDrop(pg, rb.log, rb.dropped);
    for (const u of m.updates) {
      if (compareVersions(u.entry.version, pg.log.lastUpdate) <= 0) continue;
      if (!versionEq(u.entry.prior, pg.log.head)) return refuse(`update ${formatVersion(u.entry.version)} does not follow ${formatVersion(pg.log.head)}`);
      if (!this.applyUpdate(pg, u, false)) return refuse('the store refused an update');
    }
    if (!versionEq(pg.log.lastUpdate, m.lastUpdate)) return refuse(`at ${formatVersion(pg.log.lastUpdate)}, not ${formatVersion(m.lastUpdate)}`);
    pg.acting = m.acting;
    const pool = this.h.map().pools.find((p) => p.id === m.pool);
    if (pool !== undefined) {
      pg.mode = pool.replication;
      pg.roles = replicationRoles(pool.replication, m.acting);
      pg.interval = actingKey(m.acting, pool.replication);
    }
    this.markStarted(pg, m.activation, m.from);
  }

  private onActivated(m: PgActivated): void {
    const pg = this.pgs.get(pgKey(m.pool, m.ps));
    const a = pg?.activation;
    if (pg === undefined || a === undefined || a.id !== m.activation || a.phase !== 'activate') return;
    if (!m.ok) {
      this.h.ctx.log.warn('osd: a member refused activation', { osd: this.h.id, pg: pgKey(m.pool, m.ps), member: m.from, reason: m.reason ?? '' });
      return;
    }
    a.waiting.delete(m.from);
    if (a.waiting.size > 0) return;
    pg.active = true;
    pg.activation = undefined;
    pg.committedAll = pg.log.lastUpdate;
    this.h.ctx.timers.cancel(`activate.${pgKey(pg.pool, pg.ps)}`);
    this.drainQueue(pg);
  }

  // ----- store helpers -----

  private ensureCollection(pg: Pg): TransactionOp[] {
    if (this.h.store.hasCollection(pg.cid)) return [];
    return [
      { op: 'createCollection', cid: pg.cid },
      { op: 'touch', cid: pg.cid, oid: PG_LOG_OID },
    ];
  }

  /** The whole PG as this OSD holds it, or undefined when it exceeds the bound (one op's data, one transaction's ops). */
  private buildFull(pg: Pg): PgFull | undefined {
    const s = this.h.store;
    const objects: { oid: string; data: Uint8Array; attrs: (readonly [string, Uint8Array])[] }[] = [];
    let bytes = 0;
    let ops = pg.log.entries.length + 4;
    if (s.hasCollection(pg.cid)) {
      for (const oid of s.listObjects(pg.cid)) {
        if (oid.startsWith(RESERVED_OID_PREFIX)) continue;
        const data = s.read(pg.cid, oid);
        const attrs = [...s.getAttrs(pg.cid, oid)];
        bytes += data.length + attrs.reduce((n, [, v]) => n + v.length, 0);
        ops += 3 + attrs.length;
        objects.push({ oid, data, attrs });
      }
    }
    if (bytes > this.h.cfg.opDataBytesMax || ops * 2 > s.config.transactionMaxOps) return undefined;
    return { objects, entries: pg.log.entries, lastUpdate: pg.log.lastUpdate, tail: pg.log.tail };
  }

  /** Replaces this OSD's copy of the PG (objects and log) with `full`, in one transaction. */
  private installFull(pg: Pg, full: PgFull): boolean {
    const s = this.h.store;
    const ops: TransactionOp[] = [...this.ensureCollection(pg)];
    if (s.hasCollection(pg.cid)) for (const oid of s.listObjects(pg.cid)) ops.push({ op: 'remove', cid: pg.cid, oid });
    for (const o of full.objects) {
      ops.push({ op: 'touch', cid: pg.cid, oid: o.oid });
      if (o.data.length > 0) ops.push({ op: 'write', cid: pg.cid, oid: o.oid, offsetBytes: 0, data: o.data });
      for (const [name, value] of o.attrs) ops.push({ op: 'setAttr', cid: pg.cid, oid: o.oid, name, value });
    }
    if (s.hasCollection(pg.cid)) ops.push({ op: 'touch', cid: pg.cid, oid: PG_LOG_OID });
    for (const e of full.entries) ops.push(this.logEntryOp(pg, e));
    ops.push({ op: 'setAttr', cid: pg.cid, oid: PG_LOG_OID, name: LAST_UPDATE_ATTR, value: encode(full.lastUpdate) });
    ops.push({ op: 'setAttr', cid: pg.cid, oid: PG_LOG_OID, name: TAIL_ATTR, value: encode(full.tail) });
    const r = s.applyNow({ ops });
    if (!r.ok) {
      this.h.ctx.log.error('osd: could not install a whole PG', { osd: this.h.id, pg: pgKey(pg.pool, pg.ps), error: String(r.error) });
      return false;
    }
    pg.log = restoreLog(full.entries, full.lastUpdate, full.tail);
    pg.recent = [];
    this.h.ctx.log.info('osd: replaced a PG with a member\'s whole copy', { osd: this.h.id, pg: pgKey(pg.pool, pg.ps), lastUpdate: formatVersion(full.lastUpdate) });
    return true;
  }

  private persistLogDrop(pg: Pg, log: PgLog, dropped: readonly PgLogEntry[]): void {
    pg.log = log;
    const ops: TransactionOp[] = dropped.map((e) => ({ op: 'removeAttr', cid: pg.cid, oid: PG_LOG_OID, name: ENTRY_ATTR_PREFIX + versionKey(e.version) }));
    if (ops.length > 0 && this.h.store.hasCollection(pg.cid)) this.h.store.applyNow({ ops });
    pg.recent = pg.recent.filter((u) => !dropped.some((d) => versionEq(d.version, u.entry.version)));
  }

  private logEntryOp(pg: Pg, e: PgLogEntry): TransactionOp {
    return { op: 'setAttr', cid: pg.cid, oid: PG_LOG_OID, name: ENTRY_ATTR_PREFIX + versionKey(e.version), value: encode(e) };
  }

  /** Write-ahead: the log entry alone, before the data (the delayed write, thesis §6.3.4). */
  private logOnly(pg: Pg, u: PgUpdate): boolean {
    const r = this.h.store.applyNow({ ops: [...this.ensureCollection(pg), this.logEntryOp(pg, u.entry)] });
    if (!r.ok) return false;
    pg.log = appendEntry(pg.log, u.entry);
    this.remember(pg, u);
    return true;
  }

  /** Applies an update's data with its log entry (unless already logged) and last_update in one transaction (D3). */
  private applyUpdate(pg: Pg, u: PgUpdate, alreadyLogged: boolean): boolean {
    const ops: TransactionOp[] = [...this.ensureCollection(pg)];
    if (!alreadyLogged) ops.push(this.logEntryOp(pg, u.entry));
    ops.push(...u.txn);
    ops.push({ op: 'setAttr', cid: pg.cid, oid: PG_LOG_OID, name: LAST_UPDATE_ATTR, value: encode(u.entry.version) });
    const r = this.h.store.applyNow({ ops });
    if (!r.ok) {
      this.h.ctx.log.error('osd: the store refused an update', { osd: this.h.id, pg: pgKey(pg.pool, pg.ps), version: formatVersion(u.entry.version), error: String(r.error) });
      return false;
    }
    if (!alreadyLogged) pg.log = appendEntry(pg.log, u.entry);
    pg.log = markApplied(pg.log, u.entry.version);
    if (!alreadyLogged) this.remember(pg, u);
    this.h.probe?.applied(this.h.id, pgKey(pg.pool, pg.ps), u.entry.version, u.entry.reqid, u.entry.op);
    const { pool, ps } = pg;
    const version = u.entry.version;
    const reqid = u.entry.reqid;
    void r.committed.then(
      () => this.h.sendSelf({ type: 'rados.osd.localCommitted', pool, ps, version, reqid }),
      () => undefined,
    );
    return true;
  }

  private remember(pg: Pg, u: PgUpdate): void {
    pg.recent.push(u);
    if (pg.recent.length > this.h.cfg.pgRecentUpdatesMax) pg.recent.splice(0, pg.recent.length - this.h.cfg.pgRecentUpdatesMax);
  }

  private trim(pg: Pg, trimTo: Eversion): void {
    const t = trimLog(pg.log, trimTo, this.h.cfg.pgLogEntriesMax);
    if (t.trimmed.length === 0) return;
    pg.log = t.log;
    const ops: TransactionOp[] = t.trimmed.map((e) => ({ op: 'removeAttr', cid: pg.cid, oid: PG_LOG_OID, name: ENTRY_ATTR_PREFIX + versionKey(e.version) }));
    ops.push({ op: 'setAttr', cid: pg.cid, oid: PG_LOG_OID, name: TAIL_ATTR, value: encode(t.log.tail) });
    this.h.store.applyNow({ ops });
  }

  // ----- messages -----

  receive(m: OsdDataMsg): void {
    switch (m.type) {
      case 'rados.osd.op':
        this.onOp(m);
        return;
      case 'rados.osd.pgList':
        this.onList(m);
        return;
      case 'rados.osd.repOp':
        this.onRepOp(m);
        return;
      case 'rados.osd.repData':
        this.onRepData(m);
        return;
      case 'rados.osd.repApplied':
      case 'rados.osd.repCommitted':
        this.onRepProgress(m);
        return;
      case 'rados.osd.repRefused':
        this.onRepRefused(m);
        return;
      case 'rados.osd.pgQuery':
        this.onPgQuery(m);
        return;
      case 'rados.osd.pgInfo':
        this.onPgInfo(m);
        return;
      case 'rados.osd.pgActivate':
        this.onPgActivate(m);
        return;
      case 'rados.osd.pgActivated':
        this.onActivated(m);
        return;
      default: {
        const never: never = m;
        this.h.ctx.log.warn('osd: dropped an unknown data message', { type: String((never as { type?: unknown }).type) });
      }
    }
  }

  private replyError(client: OsdOpRequest['client'], tid: number, error: ObjectError, clientEpoch?: number): void {
    const epoch = this.h.map().epoch;
    const bundle = clientEpoch !== undefined && clientEpoch < epoch ? this.h.bundleFor(clientEpoch) : undefined;
    const msg: ClientReply = { type: 'rados.client.error', epoch, tid, error, ...(bundle === undefined ? {} : { bundle }) };
    this.h.ctx.tell(client, msg);
  }

  private reply(w: ClientWaiter, stage: 'ack' | 'commit' | 'done', version: Eversion, results: readonly ObjectOpResult[], extra: { oids?: readonly string[]; more?: boolean } = {}): void {
    const msg: ClientReply = { type: 'rados.client.reply', epoch: this.h.map().epoch, tid: w.tid, stage, version, results, ...extra };
    this.h.ctx.tell(w.client, msg);
  }

  /** Where a client's op on a PG must go, or the error that says otherwise (D1). */
  private route(req: { epoch: number; pool: number; client: OsdOpRequest['client']; tid: number }, ps: number, mutation: boolean): Pg | undefined {
    const map = this.h.map();
    if (req.epoch > map.epoch) {
      this.h.fetchMap();
      this.replyError(req.client, req.tid, objectError('osd_behind', `osd.${this.h.id} is at epoch ${map.epoch}, the client at ${req.epoch}; retry`));
      return undefined;
    }
    const pool = map.pools.find((p) => p.id === req.pool);
    if (pool === undefined) {
      this.replyError(req.client, req.tid, objectError('no_pool', `no pool ${req.pool} at epoch ${map.epoch}`), req.epoch);
      return undefined;
    }
    const m = pgMapping(map, pool.id, ps);
    const roles = m === undefined || m.acting.length === 0 ? undefined : replicationRoles(pool.replication, m.acting);
    const target = roles === undefined ? -1 : mutation ? roles.head : roles.reader;
    if (target !== this.h.id) {
      this.replyError(req.client, req.tid, objectError('misdirected', `osd.${this.h.id} does not serve ${mutation ? 'writes' : 'reads'} of pg ${pool.id}.${ps.toString(16)} at epoch ${map.epoch} (osd.${target} does)`), req.epoch);
      return undefined;
    }
    return this.pg(pool.id, ps);
  }

  private leaseHeld(pg: Pg): boolean {
    const now = this.h.ctx.clock.now();
    return pg.acting.every((o) => {
      if (o === this.h.id) return true;
      const t = this.h.lastHeardMs(o);
      return t !== undefined && now - t <= this.h.cfg.readLeaseMs;
    });
  }

  private onOp(req: OsdOpRequest): void {
    const map = this.h.map();
    const ps = objectPg(map, req.pool, typeof req.oid === 'string' ? req.oid : '')?.ps;
    const bad = validateOps(req.oid, req.ops, this.h.cfg);
    if (bad !== undefined) return this.replyError(req.client, req.tid, bad);
    const mutation = isMutation(req.ops);
    const pg = this.route(req, ps ?? 0, mutation);
    if (pg === undefined) return;
    if (!pg.active) {
      if (pg.activation !== undefined && pg.queue.length < this.h.cfg.pgQueueMax) {
        pg.queue.push(req);
        return;
      }
      return this.replyError(req.client, req.tid, objectError('pg_inactive', `pg ${pgKey(pg.pool, pg.ps)} is not active on osd.${this.h.id}`));
    }
    if (!mutation) return this.read(pg, req);
    this.mutate(pg, req);
  }

  private read(pg: Pg, req: OsdOpRequest): void {
    if (!this.leaseHeld(pg)) return this.replyError(req.client, req.tid, objectError('lease_expired', `osd.${this.h.id} has not heard from every replica of pg ${pgKey(pg.pool, pg.ps)} within the read lease`));
    const s = this.h.store;
    const st = s.hasCollection(pg.cid) ? s.stat(pg.cid, req.oid) : undefined;
    if (st === undefined) return this.replyError(req.client, req.tid, objectError('not_found', `no object ${req.oid}`));
    const va = s.getAttr(pg.cid, req.oid, VERSION_ATTR);
    const version = va === undefined ? ZERO_VERSION : (decode(va) as Eversion);
    const results: ObjectOpResult[] = [];
    for (const o of req.ops) {
      switch (o.op) {
        case 'read':
          results.push({ op: 'read', data: s.read(pg.cid, req.oid, o.offset, o.length === 0 ? Number.MAX_SAFE_INTEGER : o.length) });
          break;
        case 'stat':
          results.push({ op: 'stat', sizeBytes: st.sizeBytes, version: formatVersion(version) });
          break;
        case 'getxattr': {
          const v = s.getAttr(pg.cid, req.oid, USER_XATTR_PREFIX + o.name);
          if (v === undefined) return this.replyError(req.client, req.tid, objectError('not_found', `object ${req.oid} has no xattr ${o.name}`));
          results.push({ op: 'getxattr', value: v });
          break;
        }
        case 'getxattrs':
          results.push({ op: 'getxattrs', attrs: [...s.getAttrs(pg.cid, req.oid)].filter(([n]) => n.startsWith(USER_XATTR_PREFIX)).map(([n, v]) => [n.slice(USER_XATTR_PREFIX.length), v] as const) });
          break;
        case 'cmpxattr': {
          const v = s.getAttr(pg.cid, req.oid, USER_XATTR_PREFIX + o.name);
          if (v === undefined || v.length !== o.value.length || v.some((x, i) => x !== o.value[i])) return this.replyError(req.client, req.tid, objectError('canceled', `xattr ${o.name} of ${req.oid} does not hold the expected value`));
          results.push({ op: 'none' });
          break;
        }
        default:
          results.push({ op: 'none' });
      }
    }
    this.counters.readOps++;
    for (const r of results) if (r.op === 'read') this.counters.readBytes += r.data.length;
    this.reply(req, 'done', version, results);
  }

  private onList(req: OsdPgListRequest): void {
    const pg = this.route(req, req.ps, false);
    if (pg === undefined) return;
    if (!pg.active) return this.replyError(req.client, req.tid, objectError('pg_inactive', `pg ${pgKey(pg.pool, pg.ps)} is not active`));
    if (!this.leaseHeld(pg)) return this.replyError(req.client, req.tid, objectError('lease_expired', 'read lease not held'));
    const all = this.h.store.hasCollection(pg.cid) ? this.h.store.listObjects(pg.cid).filter((o) => !o.startsWith(RESERVED_OID_PREFIX) && o > req.after) : [];
    const max = Math.max(1, Math.min(req.max, 10_000));
    this.reply(req, 'done', pg.log.lastUpdate, [], { oids: all.slice(0, max), more: all.length > max });
  }

  /** Whether an update of `oid` is in flight but not yet applied here (primary-copy's delayed write). */
  private objectBusy(pg: Pg, oid: string): boolean {
    for (const inf of pg.inflight.values()) if (inf.update.entry.oid === oid && !inf.rs.applied) return true;
    return false;
  }

  private mutate(pg: Pg, req: OsdOpRequest): void {
    // A resent request: attach to the update in flight, or replicate a no-op that answers with the logged version (thesis §6.3.5.3).
    for (const inf of pg.inflight.values()) {
      if (inf.update.entry.reqid === req.reqid) {
        inf.waiters.push({ client: req.client, tid: req.tid });
        if (inf.rs.acked) this.reply(req, 'ack', inf.update.entry.version, inf.update.results);
        return;
      }
    }
    if (pg.inflight.size >= this.h.cfg.pgInflightMax || this.objectBusy(pg, req.oid) || this.h.scrubBlocks?.(pg.pool, pg.ps, req.oid) === true) {
      if (pg.queue.length >= this.h.cfg.pgQueueMax) return this.replyError(req.client, req.tid, objectError('busy', `pg ${pgKey(pg.pool, pg.ps)} has ${pg.queue.length} ops waiting`));
      pg.queue.push(req);
      return;
    }
    const map = this.h.map();
    const version = nextVersion(pg.log, map.epoch);
    const prior = pg.log.head;
    const dup = findReqid(pg.log, req.reqid);
    let update: PgUpdate;
    if (dup !== undefined) {
      update = { entry: { oid: req.oid, op: 'noop', version, prior, reqid: req.reqid }, txn: [], results: [], startedAtMs: this.h.ctx.clock.now() };
    } else {
      const s = this.h.store;
      const exists = s.hasCollection(pg.cid) && s.stat(pg.cid, req.oid) !== undefined;
      const view = {
        exists,
        sizeBytes: exists ? (s.stat(pg.cid, req.oid)?.sizeBytes ?? 0) : 0,
        xattr: (n: string) => (exists ? s.getAttr(pg.cid, req.oid, USER_XATTR_PREFIX + n) : undefined),
      };
      const r = resolveMutation(view, pg.cid, req.oid, req.ops, encode(version), this.h.cfg);
      if (!r.ok) return this.replyError(req.client, req.tid, r.error);
      const bytes = req.ops.reduce((n, o) => n + ('data' in o ? o.data.length : 0), 0);
      if (s.usedSpaceBytes + bytes > s.config.storeMaxBytes) return this.replyError(req.client, req.tid, objectError('full', `osd.${this.h.id} is full`));
      update = { entry: { oid: req.oid, op: r.deletes ? 'delete' : 'modify', version, prior, reqid: req.reqid }, txn: r.txn, results: r.results, startedAtMs: this.h.ctx.clock.now() };
    }
    this.trim(pg, pg.roles?.acker === this.h.id ? pg.committedAll : pg.localCommitted);
    this.counters.writeOps++;
    this.counters.writeBytes += req.ops.reduce((n, o) => n + ('data' in o ? o.data.length : 0), 0);
    const inf: Inflight = { update, rs: INITIAL_REPLICA_STATE, waiters: [{ client: req.client, tid: req.tid }], applyDue: false, logged: false };
    pg.inflight.set(versionKey(version), inf);
    this.step(pg, inf, { kind: 'received' });
  }

  private draining = false;

  private drainQueue(pg: Pg): void {
    if (!pg.active || this.draining) return;
    this.draining = true;
    try {
      this.drainQueueOnce(pg);
    } finally {
      this.draining = false;
    }
  }

  private drainQueueOnce(pg: Pg): void {
    const waiting = pg.queue.splice(0);
    for (const req of waiting) {
      if (!pg.active || pg.inflight.size >= this.h.cfg.pgInflightMax || (isMutation(req.ops) && (this.objectBusy(pg, req.oid) || this.h.scrubBlocks?.(pg.pool, pg.ps, req.oid) === true))) {
        pg.queue.push(req);
        continue;
      }
      if (isMutation(req.ops)) this.mutate(pg, req);
      else this.read(pg, req);
    }
  }

  private onRepOp(m: RepOp): void {
    const pg = this.pg(m.pool, m.ps);
    const refuse = (reason: string): void => {
      const msg: RepRefused = { type: 'rados.osd.repRefused', epoch: this.h.map().epoch, from: this.h.id, pool: m.pool, ps: m.ps, acting: m.acting, version: m.update.entry.version, reason };
      this.h.sendOsd(m.from, msg);
    };
    if (m.epoch > this.h.map().epoch) this.h.fetchMap();
    // A sliced update's pieces came ahead of it on the same link (per-link FIFO), so they are all here unless some were lost or dropped (D12).
    const pieces = m.sliced === undefined ? undefined : this.pieces.take(pieceKey(m.pool, m.ps, m.update.entry.version, m.acting));
    if (!pg.active || pg.acting.join() !== m.acting.join()) return refuse(`osd.${this.h.id} is not active in that interval of the PG`);
    const k = versionKey(m.update.entry.version);
    if (pg.inflight.has(k) || compareVersions(m.update.entry.version, pg.log.head) <= 0) return;
    if (!versionEq(m.update.entry.prior, pg.log.head)) return refuse(`update ${formatVersion(m.update.entry.version)} follows ${formatVersion(m.update.entry.prior)}, this log's head is ${formatVersion(pg.log.head)}`);
    let update = m.update;
    if (m.sliced !== undefined) {
      const whole = pieces === undefined ? undefined : reassembleUpdate(m.update, m.sliced, pieces.pieces);
      if (whole === undefined) return refuse(`update ${formatVersion(m.update.entry.version)}: its data pieces are missing or do not fit its header`);
      update = whole;
    }
    this.trim(pg, m.trimTo);
    const inf: Inflight = { update, rs: INITIAL_REPLICA_STATE, waiters: [...m.waiters], applyDue: false, logged: false, ...(pieces === undefined ? {} : { piecesSentTo: pieces.forwardedTo }) };
    pg.inflight.set(k, inf);
    this.step(pg, inf, { kind: 'received' });
    const early = pg.early.get(k);
    if (early !== undefined) {
      pg.early.delete(k);
      for (const ev of early) if (pg.inflight.get(k) === inf) this.step(pg, inf, ev);
    }
  }

  /**
   * A piece of a sliced update (D12): kept until its header comes, and under chain passed on to the
   * next OSD at once, so the data flows down the chain while each OSD still applies and forwards
   * the header only after its predecessor did (the ack still needs every replica applied, D5).
   */
  private onRepData(m: RepData): void {
    const pg = this.pgs.get(pgKey(m.pool, m.ps));
    // Not active in that interval: the header will be refused, and the first OSD re-activates.
    if (pg === undefined || !pg.active || pg.acting.join() !== m.acting.join()) return;
    const key = pieceKey(m.pool, m.ps, m.version, m.acting);
    if (!this.pieces.add(key, m.index, m.count, m.data)) return;
    if (pg.mode !== 'chain') return;
    const next = pg.acting[pg.acting.indexOf(this.h.id) + 1];
    if (next === undefined || pg.acting.indexOf(this.h.id) < 0) return;
    this.pieces.markForwarded(key, next);
    this.h.sendOsd(next, { ...m, epoch: this.h.map().epoch, from: this.h.id });
  }

  private onRepProgress(m: RepProgress): void {
    const pg = this.pgs.get(pgKey(m.pool, m.ps));
    if (pg === undefined || pg.acting.join() !== m.acting.join()) return;
    const ev: ReplicaEvent = m.type === 'rados.osd.repApplied' ? { kind: 'peerApplied', osd: m.from } : { kind: 'peerCommitted', osd: m.from };
    const k = versionKey(m.version);
    const inf = pg.inflight.get(k);
    if (inf !== undefined) return this.step(pg, inf, ev);
    if (compareVersions(m.version, pg.log.head) <= 0) return;
    // Not here yet: keep it for when the update arrives (bounded by the in-flight window).
    if (!pg.early.has(k) && pg.early.size >= this.h.cfg.pgInflightMax * 2) return;
    const list = pg.early.get(k) ?? [];
    if (list.length < pg.acting.length * 2) list.push(ev);
    pg.early.set(k, list);
  }

  private onRepRefused(m: RepRefused): void {
    const pg = this.pgs.get(pgKey(m.pool, m.ps));
    if (pg === undefined || pg.acting[0] !== this.h.id || pg.acting.join() !== m.acting.join() || !pg.active) return;
    this.h.ctx.log.warn('osd: a member refused an update; re-activating the PG', { osd: this.h.id, pg: pgKey(m.pool, m.ps), member: m.from, reason: m.reason });
    pg.active = false;
    pg.inflight.clear();
    this.failQueue(pg, 'pg_inactive', 're-activating');
    this.startActivation(pg, pg.acting);
  }

  onLocalCommitted(m: Extract<DataPathSelfMsg, { type: 'rados.osd.localCommitted' }>): void {
    const pg = this.pgs.get(pgKey(m.pool, m.ps));
    this.h.probe?.committed(this.h.id, pgKey(m.pool, m.ps), m.version, m.reqid);
    if (pg === undefined) return;
    if (compareVersions(m.version, pg.localCommitted) > 0) pg.localCommitted = m.version;
    const inf = pg.inflight.get(versionKey(m.version));
    if (inf !== undefined) this.step(pg, inf, { kind: 'selfCommitted' });
  }

  // ----- the replication state machine's effects -----

  private step(pg: Pg, inf: Inflight, ev: ReplicaEvent): void {
    const roles = pg.roles;
    if (roles === undefined) return;
    const r = replicaStep(roles, this.h.id, inf.rs, ev);
    inf.rs = r.state;
    for (const e of r.effects) this.effect(pg, inf, e);
    this.retire(pg, inf);
  }

  private effect(pg: Pg, inf: Inflight, e: ReplicaEffect): void {
    const roles = pg.roles!;
    const map = this.h.map();
    const version = inf.update.entry.version;
    const base = { epoch: map.epoch, from: this.h.id, pool: pg.pool, ps: pg.ps, acting: pg.acting };
    switch (e.kind) {
      case 'log':
        if (!this.logOnly(pg, inf.update)) return this.failPg(pg, 'the store refused a log entry');
        inf.logged = true;
        return;
      case 'apply':
        inf.applyDue = true;
        this.drainApplies(pg);
        return;
      case 'forward': {
        const trimTo = roles.acker === this.h.id ? pg.committedAll : pg.localCommitted;
        if (!shouldSlice(inf.update, this.h.cfg.repSliceBytes)) {
          for (const to of e.to) this.h.sendOsd(to, { ...base, type: 'rados.osd.repOp', update: inf.update, waiters: inf.waiters, trimTo });
          return;
        }
        // Pipelined (D12): the pieces first, interleaved so that every replica's copy advances together
        // (a chain's middle OSD already passed them on as they came), then the header.
        const sliced = sliceUpdate(inf.update, this.h.cfg.repSliceBytes);
        const targets = e.to.filter((to) => inf.piecesSentTo?.has(to) !== true);
        sliced.pieces.forEach((piece, index) => {
          const data = ownBytes(piece);
          for (const to of targets) this.h.sendOsd(to, { ...base, type: 'rados.osd.repData', version, index, count: sliced.pieces.length, data });
        });
        for (const to of e.to) this.h.sendOsd(to, { ...base, type: 'rados.osd.repOp', update: sliced.header, waiters: inf.waiters, trimTo, sliced: sliced.info });
        return;
      }
      case 'sendApplied':
        this.h.sendOsd(e.to, { ...base, type: 'rados.osd.repApplied', version });
        return;
      case 'sendCommitted':
        this.h.sendOsd(e.to, { ...base, type: 'rados.osd.repCommitted', version });
        return;
      case 'ackClient':
        this.h.probe?.acked(this.h.id, pgKey(pg.pool, pg.ps), version, inf.update.entry.reqid, pg.acting);
        this.counters.acks++;
        if (inf.update.startedAtMs !== undefined) this.observe(this.ackBuckets, this.h.ctx.clock.now() - inf.update.startedAtMs);
        for (const w of inf.waiters) this.reply(w, 'ack', version, inf.update.results);
        return;
      case 'commitClient':
        this.h.probe?.commitSent(this.h.id, pgKey(pg.pool, pg.ps), version, inf.update.entry.reqid, pg.acting);
        this.counters.commits++;
        if (inf.update.startedAtMs !== undefined) this.observe(this.commitBuckets, this.h.ctx.clock.now() - inf.update.startedAtMs);
        if (compareVersions(version, pg.committedAll) > 0) pg.committedAll = version;
        for (const w of inf.waiters) this.reply(w, 'commit', version, inf.update.results);
        return;
      default: {
        const never: never = e;
        throw new Error(`unknown replica effect ${JSON.stringify(never)}`);
      }
    }
  }

  /** Applies due updates in version order (D2): an update applies only right after its prior. */
  private drainApplies(pg: Pg): void {
    for (;;) {
      let next: Inflight | undefined;
      for (const inf of pg.inflight.values()) {
        if (inf.rs.applied) continue;
        next = inf;
        break;
      }
      if (next === undefined || !next.applyDue) return;
      const alreadyLogged = next.logged;
      const expectPrior = alreadyLogged ? pg.log.lastUpdate : pg.log.head;
      if (!versionEq(next.update.entry.prior, expectPrior)) return;
      if (!this.applyUpdate(pg, next.update, alreadyLogged)) return this.failPg(pg, 'the store refused an update');
      next.applyDue = false;
      next.logged = true;
      this.step(pg, next, { kind: 'selfApplied' });
      if (!pg.active) return;
      if (pg.roles?.head === this.h.id && pg.queue.length > 0) this.drainQueue(pg);
    }
  }

  private retire(pg: Pg, inf: Inflight): void {
    const roles = pg.roles;
    if (roles === undefined) return;
    const done = roles.acker === this.h.id ? inf.rs.commitSent : inf.rs.committed && inf.rs.applied;
    if (!done) return;
    pg.inflight.delete(versionKey(inf.update.entry.version));
    if (roles.head === this.h.id) this.drainQueue(pg);
  }

  private failPg(pg: Pg, why: string): void {
    this.h.ctx.log.error('osd: PG deactivated', { osd: this.h.id, pg: pgKey(pg.pool, pg.ps), why });
    pg.active = false;
    pg.inflight.clear();
    this.failQueue(pg, 'pg_inactive', why);
  }
}
