/**
 * The OSD's object data path (thesis §6.3, §7.1; README.md "Data path", invariants D1–D11, and
 * "Peering and recovery", PR1–PR12): one object-store collection per PG, updates serialized by the
 * PG's first OSD and replicated by the pool's mode (`replication.ts`), the PG log written in the
 * same store transaction as the data (`pg-log.ts`), ack when applied on every replica and commit
 * when durable on every replica, reads at the read-serving OSD under a read lease; and, when the
 * acting set changes, peering (`peering.ts`: prior set from every intermediate interval, the
 * authoritative log, missing lists, last_epoch_started) and recovery coordinated by the primary
 * (pulls, pushes that read each object once, backfill with a watermark, throttled per OSD).
 *
 * Runs inside the OSD actor's turns: no awaits; store commits come back as messages.
 */
import { decode, encode } from '@msgpack/msgpack';
import type { ActorContext } from '../../../runtime/behavior.js';
import type { ObjectStore, TransactionOp } from '../../../storage/object-store.js';
import type { DataPathConfig } from '../config.js';
import { objectError, type ObjectError } from '../errors.js';
import { pgMapping } from '../osdmap/mapping.js';
import { applyIncremental, validateOsdMap, type OsdMap, type OsdMapIncremental, type ReplicationMode } from '../osdmap/osd-map.js';
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
  PgInfo,
  PgPull,
  PgPush,
  PgPushReply,
  PgQuery,
  PgRecoverNow,
  PgUpdate,
  RepData,
  RecoveredObject,
  RepOp,
  RepProgress,
  RepRefused,
} from '../protocol.js';
import { RESERVED_OID_PREFIX, USER_XATTR_PREFIX, VERSION_ATTR, isMutation, resolveMutation, validateOps, type ObjectOpResult } from './object-ops.js';
import {
  BACKFILL_DONE,
  advanceIntervals,
  backfilled,
  chooseAuthoritative,
  locations,
  mergeIntervals,
  missingFromBacklog,
  nextBackfillBatch,
  pgStateFlags,
  planHolder,
  priorSet,
  pruneIntervals,
  type HolderInfo,
  type HolderPlan,
  type MissingNeed,
  type PastInterval,
} from './peering.js';
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
  trimLog,
  versionEq,
  versionKey,
  type Eversion,
  type PgLog,
  type PgLogEntry,
} from './pg-log.js';
import { PieceTable, reassembleUpdate, shouldSlice, sliceUpdate } from './slicing.js';
import { formatPgState, formatPgid, type PgStat } from './pg-stats.js';
import { INITIAL_REPLICA_STATE, replicaStep, replicationRoles, type ReplicaEffect, type ReplicaEvent, type ReplicaState, type ReplicationRoles } from './replication.js';

/** The PG log's own object in each PG collection (a name no client can use). */
export const PG_LOG_OID = `${RESERVED_OID_PREFIX}pglog`;
const LAST_UPDATE_ATTR = 'lu';
const TAIL_ATTR = 'tail';
const LES_ATTR = 'les';
const ENTRY_ATTR_PREFIX = 'e.';
/** `m.<oid>`: an object this OSD lacks (its missing list, thesis §3.9), written with the log it came from. */
const MISSING_ATTR_PREFIX = 'm.';
/** While a backfill into this OSD is unfinished: its watermark. */
const BACKFILL_ATTR = 'bf';
/** The PG's past intervals as this OSD saw them. */
const INTERVALS_ATTR = 'pi';
/** The OSD's newest map, kept so a restarted OSD can walk the epochs it missed (every intermediate mapping counts, PR1). */
const META_CID = 'meta';
const META_OID = `${RESERVED_OID_PREFIX}osdmap`;
const MAP_ATTR = 'map';
/** The backfill batch's key among a PG's recovery operations (no object name starts with NUL). */
const BACKFILL_OP = `${RESERVED_OID_PREFIX}backfill`;

export const pgCollection = (pool: number, ps: number): string => `pg.${pool}.${ps}`;
const pgKey = (pool: number, ps: number): string => `${pool}.${ps}`;
const actingKey = (acting: readonly number[], mode: ReplicationMode): string => `${mode}:${acting.join(',')}`;
/** A sliced update's pieces: by PG (the prefix dropped on a new interval), version and the sender's acting set. */
const pieceKey = (pool: number, ps: number, version: Eversion, acting: readonly number[]): string => `${pgKey(pool, ps)}/${versionKey(version)}/${acting.join(',')}`;
/** A piece that is a view of a larger buffer is copied, so a message between threads carries the piece, not the whole buffer. */
const ownBytes = (b: Uint8Array): Uint8Array => (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength ? b : b.slice());

/** Where the simulator's checkers watch the data path: every store apply and commit, every ack and commit sent, and recovery's reads and concurrency. */
export interface DataPathProbe {
  applied(osd: number, pg: string, version: Eversion, reqid: string, op: PgLogEntry['op']): void;
  committed(osd: number, pg: string, version: Eversion, reqid: string): void;
  acked(osd: number, pg: string, version: Eversion, reqid: string, acting: readonly number[]): void;
  commitSent(osd: number, pg: string, version: Eversion, reqid: string, acting: readonly number[]): void;
  /** An object read from the store to recover it (`recovery` names the primary and its peering). */
  recoveryRead?(osd: number, pg: string, oid: string, recovery: string): void;
  /** Recovery operations this OSD runs now (after each change). */
  recoveryActive?(osd: number, n: number): void;
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
  /** Objects recovered (pulled or pushed) and backfilled by this OSD as a primary, and their bytes. */
  readonly recoveredObjects: number;
  readonly recoveredBytes: number;
}

/** A PG this OSD holds, as the status command shows it (every holder, not only the primary). */
export interface HeldPg {
  readonly pg: string;
  readonly active: boolean;
  readonly acting: readonly number[];
  readonly lastUpdate: string;
  readonly objects: number;
  /** Logical bytes of its objects (one copy). */
  readonly bytes: number;
}

/** Messages the data path sends itself through the OSD's mailbox. */
export type DataPathSelfMsg =
  | { readonly type: 'rados.osd.localCommitted'; readonly pool: number; readonly ps: number; readonly version: Eversion; readonly reqid: string }
  | { readonly type: 'rados.osd.activationCommitted'; readonly pool: number; readonly ps: number; readonly activation: number; readonly head: number; readonly acting: readonly number[] }
  | { readonly type: 'rados.osd.activateRetry'; readonly pool: number; readonly ps: number; readonly activation: number }
  | { readonly type: 'rados.osd.recoveryTimeout'; readonly token: number };

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
  /** Ask a monitor for the incrementals after `epoch`; they come back through `onPastMaps`. */
  fetchPastMaps(epoch: number): void;
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

/** The primary's peering of one PG (thesis §6.3.5.1). */
interface Peering {
  readonly id: number;
  readonly infos: Map<number, HolderInfo>;
  /** Interval records the answers carried. */
  readonly intervals: PastInterval[][];
  readonly queried: Set<number>;
  readonly waiting: Set<number>;
  phase: 'query' | 'backlog' | 'activate';
  /** Chosen once every prior OSD answered. */
  auth: HolderInfo | undefined;
  plans: Map<number, HolderPlan> | undefined;
}

/** One recovery operation at the primary: a pull then a push of one object, or one backfill batch. */
interface RecoveryOp {
  readonly token: number;
  readonly pgk: string;
  readonly kind: 'object' | 'backfill';
  readonly oid: string;
  stage: 'pull' | 'push';
  readonly waiting: Set<number>;
  /** For a backfill batch: the watermark once it is done, and the range it covers. */
  readonly from: string;
  readonly to: string;
}

/** The primary's recovery state of an active PG (thesis §6.3.5.2). */
interface Recovery {
  /** Names this recovery for the read-once probe: `osd@epoch#peering`. */
  readonly key: string;
  /** Every holder's plan from peering (acting members and strays): where objects can be found. */
  readonly plans: Map<number, HolderPlan>;
  /** What each other acting member lacks. */
  readonly peerMissing: Map<number, Map<string, MissingNeed>>;
  /** Acting members being backfilled, with the objects pushed to them ahead of the scan. */
  readonly backfill: Map<number, Set<string>>;
  /** The scan's watermark (shared by every target of this peering). */
  cursor: string;
  /** Objects waiting for a slot; urgent ones (an op waits) first. */
  readonly queue: string[];
  /** Objects no location holds (they stay missing; ops on them wait). */
  readonly unfound: Set<string>;
  /** Operations in flight by object (`\0backfill` for the batch). */
  readonly inflight: Map<string, RecoveryOp>;
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
  /** What the PG is doing here, for its state flags. */
  phase: 'inactive' | 'peering' | 'down' | 'incomplete' | 'active';
  stateSinceMs: number;
  why: string;
  peering: Peering | undefined;
  recovery: Recovery | undefined;
  /** last_epoch_started as recorded here (0: never). */
  les: number;
  /** Objects this OSD lacks (persisted as `m.` attributes). */
  missing: Map<string, MissingNeed>;
  /** While a backfill into this OSD is unfinished: its watermark, and objects received ahead of it. */
  backfillWm: string | undefined;
  readonly ahead: Set<string>;
  /** Updates not finished here, oldest first (Map keeps insertion = version order). */
  readonly inflight: Map<string, Inflight>;
  /** Client ops waiting (inactive PG, an earlier update of their object not yet applied here, an object being recovered, or a read of data not yet committed). */
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
  private readonly counters = { writeOps: 0, readOps: 0, writeBytes: 0, readBytes: 0, acks: 0, commits: 0, recoveredObjects: 0, recoveredBytes: 0 };
  private readonly ackBuckets: number[] = LATENCY_BUCKETS_MS.map(() => 0).concat(0);
  private readonly commitBuckets: number[] = LATENCY_BUCKETS_MS.map(() => 0).concat(0);
  /** Past intervals of every PG of every pool, from the maps this OSD saw (and, for PGs it holds, from its store). */
  private readonly intervals = new Map<string, PastInterval[]>();
  /** The newest map walked into `intervals`. */
  private walked: OsdMap | undefined;
  /** The map saved before a restart, while the epochs after it are being fetched. */
  private pastBase: OsdMap | undefined;
  private recoverySeq = 0;
  private readonly recoveryOps = new Map<number, RecoveryOp>();

  /** Pieces of sliced updates waiting for their headers (D11, D12). */
  private readonly pieces: PieceTable;

  constructor(private readonly h: DataPathHost) {
    this.pieces = new PieceTable(h.cfg.repPiecesBufferedBytesMax, h.cfg.pgInflightMax * 16);
    this.loadPgs();
  }

  // ----- state from the store (after a restart) -----

  private loadPgs(): void {
    const s = this.h.store;
    if (s.hasCollection(META_CID) && s.stat(META_CID, META_OID) !== undefined) {
      const raw = s.getAttr(META_CID, META_OID, MAP_ATTR);
      const v = raw === undefined ? undefined : validateOsdMap(decode(raw));
      if (v?.ok === true) this.pastBase = v.value;
    }
    for (const cid of s.listCollections()) {
      const m = /^pg\.(\d+)\.(\d+)$/.exec(cid);
      if (m === null) continue;
      const pool = Number(m[1]);
      const ps = Number(m[2]);
      const attrs = s.stat(cid, PG_LOG_OID) === undefined ? new Map<string, Uint8Array>() : s.getAttrs(cid, PG_LOG_OID);
      const entries: PgLogEntry[] = [];
      const missing = new Map<string, MissingNeed>();
      for (const [name, value] of attrs) {
        if (name.startsWith(ENTRY_ATTR_PREFIX)) entries.push(decode(value) as PgLogEntry);
        else if (name.startsWith(MISSING_ATTR_PREFIX)) missing.set(name.slice(MISSING_ATTR_PREFIX.length), decode(value) as MissingNeed);
      }
      const lu = attrs.get(LAST_UPDATE_ATTR);
      const tail = attrs.get(TAIL_ATTR);
      const log = restoreLog(entries, lu === undefined ? ZERO_VERSION : (decode(lu) as Eversion), tail === undefined ? ZERO_VERSION : (decode(tail) as Eversion));
      const pg = this.newPg(pool, ps, log);
      pg.localCommitted = log.lastUpdate;
      const les = attrs.get(LES_ATTR);
      pg.les = les === undefined ? 0 : (decode(les) as number);
      pg.missing = missing;
      const bf = attrs.get(BACKFILL_ATTR);
      pg.backfillWm = bf === undefined ? undefined : (decode(bf) as string);
      const pi = attrs.get(INTERVALS_ATTR);
      if (pi !== undefined) {
        // Every interval change was saved with the map that made it, so the last interval lasted until the saved map's epoch.
        const list = decode(pi) as PastInterval[];
        const last = list[list.length - 1];
        if (last !== undefined && this.pastBase !== undefined && this.pastBase.epoch > last.last) list[list.length - 1] = { ...last, last: this.pastBase.epoch };
        this.intervals.set(pgKey(pool, ps), list);
      }
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
      phase: 'inactive',
      stateSinceMs: this.h.ctx.clock.now(),
      why: '',
      peering: undefined,
      recovery: undefined,
      les: 0,
      missing: new Map(),
      backfillWm: undefined,
      ahead: new Set(),
      inflight: new Map(),
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

  private setPhase(pg: Pg, phase: Pg['phase'], why = ''): void {
    if (pg.phase !== phase) pg.stateSinceMs = this.h.ctx.clock.now();
    pg.phase = phase;
    pg.why = why;
  }

  /** Objects and bytes of the PG's collection here, its log object left out (no listing or sorting: cheap enough for every report). */
  private usage(pg: Pg): { readonly objects: number; readonly bytes: number } {
    return this.h.store.hasCollection(pg.cid) ? this.h.store.collectionUsage(pg.cid, (oid) => oid.startsWith(RESERVED_OID_PREFIX)) : { objects: 0, bytes: 0 };
  }

  private userObjects(pg: Pg): string[] {
    return this.h.store.hasCollection(pg.cid) ? this.h.store.listObjects(pg.cid).filter((o) => !o.startsWith(RESERVED_OID_PREFIX)) : [];
  }

  /** Every PG this OSD holds (any role). */
  heldPgs(): HeldPg[] {
    return [...this.pgs.values()].map((p) => ({ pg: pgKey(p.pool, p.ps), active: p.active, acting: p.acting, lastUpdate: formatVersion(p.log.lastUpdate), ...this.usage(p) }));
  }

  /**
   * The PGs this OSD is primary of, as Ceph's `pg dump` shows them (pg-stats.ts): state flags from
   * peering and recovery, object counts, degraded copies (missing at a member, still to backfill,
   * or absent because the acting set is short), objects missing at the primary, log bounds and
   * last_epoch_started. Misplaced is always 0: acting = up here (no pg_temp), so no copy is ever
   * kept on an OSD outside the acting set on purpose.
   */
  pgStats(nowMs: number): PgStat[] {
    const map = this.h.map();
    const out: PgStat[] = [];
    for (const pg of this.pgs.values()) {
      if (pg.acting[0] !== this.h.id) continue;
      const pool = map.pools.find((p) => p.id === pg.pool);
      if (pool === undefined) continue;
      const { objects, bytes } = this.usage(pg);
      const r = pg.recovery;
      let copiesMissing = pg.missing.size;
      let backfillLeft = 0;
      if (r !== undefined) {
        for (const m of r.peerMissing.values()) copiesMissing += m.size;
        // Only a backfill needs the names (which of them are past each target's watermark).
        const names = r.backfill.size > 0 ? this.userObjects(pg) : [];
        for (const ahead of r.backfill.values()) backfillLeft += names.filter((o) => !backfilled(o, r.cursor, ahead)).length;
      }
      const short = Math.max(0, pool.size - pg.acting.length) * objects;
      const flags = pgStateFlags({
        phase: pg.phase,
        everStarted: pg.les > 0,
        actingSize: pg.acting.length,
        poolSize: pool.size,
        minSize: pool.minSize,
        missingCopies: copiesMissing + backfillLeft,
        recovering: copiesMissing > 0,
        backfilling: r !== undefined && r.backfill.size > 0,
      });
      out.push({
        pgid: formatPgid(pg.pool, pg.ps),
        state: formatPgState(flags),
        epoch: map.epoch,
        up: pgMapping(map, pg.pool, pg.ps)?.up ?? [],
        acting: pg.acting,
        primary: this.h.id,
        lastUpdate: formatVersion(pg.log.lastUpdate),
        lastComplete: formatVersion(this.lastComplete(pg)),
        lastEpochStarted: pg.les,
        objects,
        bytes,
        logEntries: pg.log.entries.length,
        degradedObjects: copiesMissing + backfillLeft + short,
        missingObjects: pg.missing.size,
        misplacedObjects: 0,
        stateSinceMs: pg.stateSinceMs <= nowMs ? pg.stateSinceMs : nowMs,
        lastScrubMs: 0,
        lastDeepScrubMs: 0,
        inconsistentObjects: 0,
      });
    }
    return out;
  }

  /** last_complete: last_update when nothing is missing here, else the version before the oldest logged update of a missing object. */
  private lastComplete(pg: Pg): Eversion {
    if (pg.missing.size === 0 && pg.backfillWm === undefined) return pg.log.lastUpdate;
    const first = pg.log.entries.find((e) => pg.missing.has(e.oid));
    return first?.prior ?? pg.log.tail;
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
      if (pg.recovery !== undefined && pg.recovery.queue.length > this.h.cfg.recoveryQueueMax) throw new Error(`pg ${pgKey(pg.pool, pg.ps)}: recovery queue over its bound`);
    }
    if (this.recoveryOps.size > this.h.cfg.recoveryOpsMax) throw new Error(`${this.recoveryOps.size} recovery operations in flight, more than ${this.h.cfg.recoveryOpsMax} (PR9)`);
  }

  // ----- map changes: past intervals and new intervals -----

  /** Extends every PG's interval record with `map` (after `prev`, or after a gap when they are not consecutive). */
  private walkMap(prev: OsdMap | undefined, map: OsdMap, dirty: Set<string>): void {
    const consecutive = prev !== undefined && prev.epoch === map.epoch - 1;
    for (const pool of map.pools) {
      const before = consecutive ? prev.pools.find((p) => p.id === pool.id) : undefined;
      for (let ps = 0; ps < pool.pgNum; ps++) {
        const k = pgKey(pool.id, ps);
        const m = pgMapping(map, pool.id, ps);
        if (m === undefined) continue;
        const born = consecutive && (before === undefined || ps >= before.pgNum);
        const list = this.intervals.get(k) ?? [];
        const next = advanceIntervals(list, map.epoch, m.acting, pool.minSize, born, this.h.cfg.pastIntervalsMax);
        if (next.length !== list.length || next[next.length - 1]?.first !== list[list.length - 1]?.first) dirty.add(k);
        this.intervals.set(k, next);
      }
    }
  }

  /** The incrementals after the map saved before a restart (PR1: the epochs this OSD was down for count too). */
  onPastMaps(incs: readonly OsdMapIncremental[]): void {
    let base = this.pastBase;
    const upTo = this.walked;
    if (base === undefined || upTo === undefined) return;
    this.pastBase = undefined;
    const gapLists = new Map<string, PastInterval[]>();
    const saved = new Map(this.intervals);
    const dirty = new Set<string>();
    for (const inc of incs) {
      if (inc.epoch <= base.epoch) continue;
      if (inc.epoch >= upTo.epoch) break;
      const r = applyIncremental(base, inc);
      if (!r.ok) break;
      this.intervals.clear();
      for (const [k, v] of gapLists) this.intervals.set(k, v);
      this.walkMap(base, r.value, dirty);
      for (const [k, v] of this.intervals) gapLists.set(k, v);
      base = r.value;
    }
    this.intervals.clear();
    for (const [k, v] of saved) this.intervals.set(k, mergeIntervals([v, gapLists.get(k) ?? []]));
    this.persistIntervals(new Set([...dirty].filter((k) => this.pgs.has(k))), undefined);
    // Peering that waited for these epochs can go on.
    for (const pg of this.pgs.values()) if (pg.acting[0] === this.h.id && !pg.active && pg.phase !== 'peering') this.startPeering(pg);
  }

  /**
   * Called with every new map in epoch order (thesis §6.3.5.1: "it walks through all new map
   * incrementals"; a full map after a gap comes alone).
   */
  onMaps(maps: readonly OsdMap[]): void {
    const dirty = new Set<string>();
    for (const m of maps) {
      if (this.walked !== undefined && m.epoch <= this.walked.epoch) continue;
      if (this.walked === undefined && this.pastBase !== undefined && m.epoch > this.pastBase.epoch + 1) this.h.fetchPastMaps(this.pastBase.epoch);
      this.walkMap(this.walked ?? (this.pastBase?.epoch === m.epoch - 1 ? this.pastBase : undefined), m, dirty);
      this.walked = m;
    }
    const map = this.h.map();
    this.persistIntervals(new Set([...dirty].filter((k) => this.pgs.has(k))), map);
    const me = this.h.id;
    for (const pool of map.pools) {
      for (let ps = 0; ps < pool.pgNum; ps++) {
        const k = pgKey(pool.id, ps);
        const held = this.pgs.get(k);
        const m = pgMapping(map, pool.id, ps);
        if (m === undefined) continue;
        if (held === undefined && !m.acting.includes(me)) continue;
        const pg = held ?? this.pg(pool.id, ps);
        const iv = actingKey(m.acting, pool.replication);
        if (iv !== pg.interval) {
          this.newInterval(pg, m.acting, pool.replication, pool.minSize);
          continue;
        }
        // Same acting set: a PG that could not peer may be able to now (an OSD of its prior set came back).
        if (pg.acting[0] === me && !pg.active && (pg.phase === 'down' || pg.phase === 'incomplete')) this.startPeering(pg);
      }
    }
  }

  /** Saves the map and the interval records that changed with it, in one transaction (so a restart can trust both). */
  private persistIntervals(keys: ReadonlySet<string>, map: OsdMap | undefined): void {
    const s = this.h.store;
    const ops: TransactionOp[] = [];
    if (map !== undefined) {
      if (!s.hasCollection(META_CID)) ops.push({ op: 'createCollection', cid: META_CID }, { op: 'touch', cid: META_CID, oid: META_OID });
      ops.push({ op: 'setAttr', cid: META_CID, oid: META_OID, name: MAP_ATTR, value: encode(map) });
    }
    for (const k of keys) {
      const pg = this.pgs.get(k);
      if (pg === undefined || !s.hasCollection(pg.cid)) continue;
      ops.push({ op: 'setAttr', cid: pg.cid, oid: PG_LOG_OID, name: INTERVALS_ATTR, value: encode(this.intervals.get(k) ?? []) });
    }
    if (ops.length > 0) s.applyNow({ ops });
  }

  private newInterval(pg: Pg, acting: readonly number[], mode: ReplicationMode, minSize: number): void {
    pg.interval = actingKey(acting, mode);
    pg.acting = acting;
    pg.mode = mode;
    pg.roles = acting.length > 0 ? replicationRoles(mode, acting) : undefined;
    pg.active = false;
    this.setPhase(pg, 'inactive');
    pg.peering = undefined;
    this.dropRecovery(pg);
    // Updates of the old interval are abandoned here; peering settles what the members applied, and clients resend.
    pg.inflight.clear();
    pg.early.clear();
    this.pieces.dropPrefix(`${pgKey(pg.pool, pg.ps)}/`);
    this.failQueue(pg, 'pg_inactive', 'the acting set changed');
    if (acting[0] === this.h.id && acting.length >= minSize) this.startPeering(pg);
  }

  private failQueue(pg: Pg, code: 'pg_inactive' | 'busy', why: string): void {
    for (const req of pg.queue.splice(0)) this.replyError(req.client, req.tid, objectError(code, `pg ${pgKey(pg.pool, pg.ps)}: ${why}`));
  }

  // ----- peering (thesis §6.3.5.1; README PR1–PR7) -----

  /** What this OSD holds of a PG: the Notify of §6.3.5.1. */
  private holderInfo(pg: Pg): HolderInfo {
    const empty = !this.h.store.hasCollection(pg.cid) || (pg.les === 0 && pg.log.entries.length === 0 && compareVersions(pg.log.lastUpdate, ZERO_VERSION) === 0 && this.usage(pg).objects === 0);
    return {
      osd: this.h.id,
      les: pg.les,
      lastUpdate: pg.log.lastUpdate,
      lastComplete: this.lastComplete(pg),
      tail: pg.log.tail,
      entries: pg.log.entries.filter((e) => compareVersions(e.version, pg.log.lastUpdate) <= 0),
      missing: [...pg.missing.keys()],
      backfill: pg.backfillWm,
      empty,
    };
  }

  private startPeering(pg: Pg): void {
    const pool = this.h.map().pools.find((p) => p.id === pg.pool);
    if (pool === undefined || pg.acting[0] !== this.h.id || pg.acting.length < pool.minSize) return;
    pg.active = false;
    this.dropRecovery(pg);
    const id = ++this.activationSeq;
    pg.peering = { id, infos: new Map([[this.h.id, this.holderInfo(pg)]]), intervals: [], queried: new Set(), waiting: new Set(), phase: 'query', auth: undefined, plans: undefined };
    this.setPhase(pg, 'peering');
    this.h.ctx.timers.once(`activate.${pgKey(pg.pool, pg.ps)}`, this.h.cfg.activateTimeoutMs, { type: 'rados.osd.activateRetry', pool: pg.pool, ps: pg.ps, activation: id } as never);
    this.peeringStep(pg);
  }

  onActivateRetry(m: Extract<DataPathSelfMsg, { type: 'rados.osd.activateRetry' }>): void {
    const pg = this.pgs.get(pgKey(m.pool, m.ps));
    if (pg === undefined || pg.active || pg.acting[0] !== this.h.id) return;
    if (pg.peering !== undefined && pg.peering.id !== m.activation) return;
    this.startPeering(pg);
  }

  /** Queries the prior set; once all answered, chooses the authoritative log and plans every holder (PR2–PR5). */
  private peeringStep(pg: Pg): void {
    const p = pg.peering;
    if (p === undefined || p.phase !== 'query') return;
    const map = this.h.map();
    const k = pgKey(pg.pool, pg.ps);
    const mine = this.intervals.get(k) ?? [];
    const merged = mergeIntervals([mine, ...p.intervals]);
    let les = 0;
    for (const i of p.infos.values()) les = Math.max(les, i.les);
    const currentFirst = mine[mine.length - 1]?.first ?? map.epoch;
    const isUp = (o: number): boolean => map.osds[o]?.up ?? false;
    const ps = priorSet(merged, les, currentFirst, pg.acting, isUp);
    const ask = new Set(ps.probe);
    // Epochs nobody has told us about: anyone up may know who served then.
    if (ps.gap) for (const o of map.osds) if (o.up) ask.add(o.id);
    for (const o of ask) {
      if (o === this.h.id || p.queried.has(o) || !isUp(o)) continue;
      p.queried.add(o);
      p.waiting.add(o);
      this.h.sendOsd(o, { type: 'rados.osd.pgQuery', epoch: map.epoch, from: this.h.id, pool: pg.pool, ps: pg.ps, acting: pg.acting, peering: p.id, backlog: false });
    }
    if (p.waiting.size > 0) return;
    // A PG nobody ever started, where no record shows its creation (every OSD here saw its first map
    // after the pool existed): starting records les on disk, so if every OSD that ever booted is up
    // and answered les 0, no interval ever served it.
    const neverStarted = les === 0 && ps.gap && map.osds.every((o) => o.up || o.upFrom === 0);
    if ((ps.blocked || ps.gap) && !neverStarted) {
      // PR3: never serve a history that an unreachable OSD may have moved past.
      this.setPhase(pg, 'down', ps.why);
      this.h.ctx.log.warn('osd: PG is down: its prior set cannot be reached', { osd: this.h.id, pg: k, why: ps.why });
      return;
    }
    const auth = chooseAuthoritative([...p.infos.values()], this.h.id) ?? p.infos.get(this.h.id)!;
    const plans = new Map<number, HolderPlan>();
    for (const [o, info] of p.infos) plans.set(o, planHolder(info, auth));
    p.auth = auth;
    p.plans = plans;
    this.h.ctx.log.debug('osd: peered', { osd: this.h.id, pg: k, auth: auth.osd, lu: formatVersion(auth.lastUpdate), infos: [...p.infos.values()].map((i) => `${i.osd}:les${i.les}:lu${formatVersion(i.lastUpdate)}`).join(' ') });
    const own = plans.get(this.h.id)!;
    if (own.kind === 'backfill' && !auth.empty) {
      // PR5: the primary's history is too short: a backlog from a complete holder tells it what the PG holds.
      const source = [...plans].find(([o, pl]) => o !== this.h.id && pl.kind === 'log' && pl.missing.size === 0 && pl.watermark === undefined && isUp(o))?.[0];
      if (source === undefined) {
        this.setPhase(pg, 'incomplete', 'no complete copy to take a backlog from');
        this.h.ctx.log.warn('osd: PG is incomplete: no holder has a complete copy', { osd: this.h.id, pg: k });
        return;
      }
      p.phase = 'backlog';
      p.waiting.add(source);
      this.h.sendOsd(source, { type: 'rados.osd.pgQuery', epoch: map.epoch, from: this.h.id, pool: pg.pool, ps: pg.ps, acting: pg.acting, peering: p.id, backlog: true });
      return;
    }
    this.activate(pg, own.kind === 'log' ? own.missing : new Map());
  }

  private onPgQuery(m: PgQuery): void {
    // A query from an interval this OSD's newer map has replaced is stale: its sender will learn.
    const mine = pgMapping(this.h.map(), m.pool, m.ps);
    if (m.epoch < this.h.map().epoch && mine !== undefined && mine.acting.join() !== m.acting.join()) return;
    if (m.epoch > this.h.map().epoch) this.h.fetchMap();
    const k = pgKey(m.pool, m.ps);
    const pg = this.pgs.get(k);
    // A primary is peering: stop serving this PG until it activates us (thesis §6.3.3).
    if (pg !== undefined) pg.active = false;
    // Pieces of updates not yet applied here will not be: recovery sends what a member lacks whole (D12).
    this.pieces.dropPrefix(`${k}/`);
    const info: HolderInfo = pg === undefined ? { osd: this.h.id, les: 0, lastUpdate: ZERO_VERSION, lastComplete: ZERO_VERSION, tail: ZERO_VERSION, entries: [], missing: [], backfill: undefined, empty: true } : this.holderInfo(pg);
    let backlog: [string, Eversion][] | undefined;
    if (m.backlog && pg !== undefined) {
      backlog = [];
      for (const oid of this.userObjects(pg)) {
        const va = this.h.store.getAttr(pg.cid, oid, VERSION_ATTR);
        backlog.push([oid, va === undefined ? ZERO_VERSION : (decode(va) as Eversion)]);
      }
    }
    const msg: PgInfo = { type: 'rados.osd.pgInfo', epoch: this.h.map().epoch, from: this.h.id, pool: m.pool, ps: m.ps, acting: m.acting, peering: m.peering, info, intervals: this.intervals.get(k) ?? [], ...(backlog === undefined ? {} : { backlog }) };
    this.h.sendOsd(m.from, msg);
  }

  private onPgInfo(m: PgInfo): void {
    const pg = this.pgs.get(pgKey(m.pool, m.ps));
    const p = pg?.peering;
    if (pg === undefined || p === undefined || p.id !== m.peering || !p.waiting.has(m.from)) return;
    p.waiting.delete(m.from);
    if (p.phase === 'backlog') {
      if (m.backlog === undefined) return;
      const local = new Map<string, Eversion>();
      for (const oid of this.userObjects(pg)) {
        const va = this.h.store.getAttr(pg.cid, oid, VERSION_ATTR);
        local.set(oid, va === undefined ? ZERO_VERSION : (decode(va) as Eversion));
      }
      // The backlog is the source's object list; what it lacks (its own missing list) it cannot vouch for.
      this.activate(pg, missingFromBacklog(local, m.backlog));
      return;
    }
    // Between threads and hosts the wire turns an absent watermark (undefined) into null: null means complete too.
    p.infos.set(m.from, { ...m.info, backfill: m.info.backfill ?? undefined });
    p.intervals.push([...m.intervals]);
    this.peeringStep(pg);
  }

  /**
   * Activation (thesis §6.3.5.1 step 7): the primary takes the authoritative log with its own
   * missing list, tells every acting member its log, missing list or backfill, and records
   * last_epoch_started; the PG is active once every member recorded it (PR6).
   */
  private activate(pg: Pg, ownMissing: ReadonlyMap<string, MissingNeed>): void {
    const p = pg.peering;
    if (p === undefined || p.auth === undefined || p.plans === undefined) return;
    const auth = p.auth;
    const map = this.h.map();
    const entries = auth.entries;
    if (!this.installLog(pg, entries, auth.lastUpdate, auth.tail, ownMissing, false)) {
      this.setPhase(pg, 'incomplete', 'the store refused the authoritative log');
      return;
    }
    const key = `${this.h.id}@${map.epoch}#${p.id}`;
    const rec: Recovery = { key, plans: new Map(p.plans), peerMissing: new Map(), backfill: new Map(), cursor: '', queue: [], unfound: new Set(), inflight: new Map() };
    // The primary's own plan now is its missing list against the log it took.
    rec.plans.set(this.h.id, { kind: 'log', missing: new Map(ownMissing), divergent: [] });
    p.phase = 'activate';
    p.waiting.clear();
    for (const o of pg.acting) {
      if (o === this.h.id) continue;
      const plan = p.plans.get(o);
      const backfill = plan === undefined || plan.kind === 'backfill';
      const missing = plan !== undefined && plan.kind === 'log' ? plan.missing : new Map<string, MissingNeed>();
      if (backfill) rec.backfill.set(o, new Set());
      else rec.peerMissing.set(o, new Map(missing));
      p.waiting.add(o);
      const msg: PgActivate = { type: 'rados.osd.pgActivate', epoch: map.epoch, from: this.h.id, pool: pg.pool, ps: pg.ps, acting: pg.acting, peering: p.id, les: map.epoch, entries, lastUpdate: auth.lastUpdate, tail: auth.tail, missing: [...missing], backfill };
      this.h.sendOsd(o, msg);
    }
    pg.recovery = rec;
    p.waiting.add(this.h.id);
    this.markStarted(pg, p.id, this.h.id, map.epoch);
  }

  /**
   * Records last_epoch_started — the primary's epoch when it activated, the same on every member (a
   * member's own map may already be newer) — and reports once it (and everything before it) is durable.
   */
  private markStarted(pg: Pg, activation: number, head: number, epoch: number): void {
    const k = pgKey(pg.pool, pg.ps);
    // Intervals before the PG started no longer matter (PR1).
    const kept = pruneIntervals(this.intervals.get(k) ?? [], epoch);
    this.intervals.set(k, kept);
    const ops: TransactionOp[] = [
      ...this.ensureCollection(pg),
      { op: 'setAttr', cid: pg.cid, oid: PG_LOG_OID, name: LES_ATTR, value: encode(epoch) },
      { op: 'setAttr', cid: pg.cid, oid: PG_LOG_OID, name: INTERVALS_ATTR, value: encode(kept) },
    ];
    const r = this.h.store.applyNow({ ops });
    if (!r.ok) return;
    pg.les = epoch;
    const acting = pg.acting;
    // A store that crashed before the sync leaves activation unrecorded; the OSD restarts and peers again.
    void r.committed.then(
      () => this.h.sendSelf({ type: 'rados.osd.activationCommitted', pool: pg.pool, ps: pg.ps, activation, head, acting }),
      () => undefined,
    );
  }

  onActivationCommitted(m: Extract<DataPathSelfMsg, { type: 'rados.osd.activationCommitted' }>): void {
    const pg = this.pgs.get(pgKey(m.pool, m.ps));
    if (pg === undefined) return;
    if (m.head === this.h.id) {
      this.onActivated({ type: 'rados.osd.pgActivated', epoch: this.h.map().epoch, from: this.h.id, pool: m.pool, ps: m.ps, acting: m.acting, peering: m.activation, ok: true });
      return;
    }
    if (pg.acting.join() !== m.acting.join()) return;
    pg.active = true;
    this.setPhase(pg, 'active');
    pg.committedAll = pg.log.lastUpdate;
    this.h.sendOsd(m.head, { type: 'rados.osd.pgActivated', epoch: this.h.map().epoch, from: this.h.id, pool: m.pool, ps: m.ps, acting: m.acting, peering: m.activation, ok: true });
    this.drainQueue(pg);
  }

  private onPgActivate(m: PgActivate): void {
    const pg = this.pg(m.pool, m.ps);
    const refuse = (reason: string): void => {
      this.h.sendOsd(m.from, { type: 'rados.osd.pgActivated', epoch: this.h.map().epoch, from: this.h.id, pool: m.pool, ps: m.ps, acting: m.acting, peering: m.peering, ok: false, reason });
    };
    const mine = pgMapping(this.h.map(), m.pool, m.ps);
    if (m.epoch < this.h.map().epoch && mine !== undefined && mine.acting.join() !== m.acting.join()) return refuse('stale interval');
    if (m.epoch > this.h.map().epoch) this.h.fetchMap();
    pg.inflight.clear();
    pg.active = false;
    if (!this.installLog(pg, m.entries, m.lastUpdate, m.tail, new Map(m.missing), m.backfill)) return refuse('the store refused the log');
    pg.acting = m.acting;
    const pool = this.h.map().pools.find((p) => p.id === m.pool);
    if (pool !== undefined) {
      pg.mode = pool.replication;
      pg.roles = replicationRoles(pool.replication, m.acting);
      pg.interval = actingKey(m.acting, pool.replication);
    }
    this.markStarted(pg, m.peering, m.from, m.les);
  }

  private onActivated(m: PgActivated): void {
    const pg = this.pgs.get(pgKey(m.pool, m.ps));
    const p = pg?.peering;
    if (pg === undefined || p === undefined || p.id !== m.peering || p.phase !== 'activate') return;
    if (!m.ok) {
      this.h.ctx.log.warn('osd: a member refused activation', { osd: this.h.id, pg: pgKey(m.pool, m.ps), member: m.from, reason: m.reason ?? '' });
      return;
    }
    p.waiting.delete(m.from);
    if (p.waiting.size > 0) return;
    pg.active = true;
    pg.peering = undefined;
    this.setPhase(pg, 'active');
    pg.committedAll = pg.log.lastUpdate;
    this.h.ctx.timers.cancel(`activate.${pgKey(pg.pool, pg.ps)}`);
    const r = pg.recovery;
    if (r !== undefined) {
      // Everything missing anywhere in the acting set, the primary's own first (it must hold an object to push it).
      const want = new Set<string>(pg.missing.keys());
      for (const mm of r.peerMissing.values()) for (const o of mm.keys()) want.add(o);
      r.queue.push(...[...want].slice(0, this.h.cfg.recoveryQueueMax));
    }
    this.scheduleRecovery();
    this.drainQueue(pg);
  }

  /**
   * Replaces this OSD's log of the PG with `entries` (the authoritative log), and its missing list
   * and backfill state, in one transaction (PR6: a restart finds either the old state or all of the
   * new one). Entries only logged here, never applied, are dropped.
   */
  private installLog(pg: Pg, entries: readonly PgLogEntry[], lastUpdate: Eversion, tail: Eversion, missing: ReadonlyMap<string, MissingNeed>, backfill: boolean): boolean {
    const s = this.h.store;
    const ops: TransactionOp[] = [...this.ensureCollection(pg)];
    const attrs = s.hasCollection(pg.cid) && s.stat(pg.cid, PG_LOG_OID) !== undefined ? s.getAttrs(pg.cid, PG_LOG_OID) : new Map<string, Uint8Array>();
    const wantEntries = new Map(entries.map((e) => [ENTRY_ATTR_PREFIX + versionKey(e.version), e] as const));
    for (const name of attrs.keys()) {
      if (name.startsWith(ENTRY_ATTR_PREFIX) && !wantEntries.has(name)) ops.push({ op: 'removeAttr', cid: pg.cid, oid: PG_LOG_OID, name });
      if (name.startsWith(MISSING_ATTR_PREFIX) && !missing.has(name.slice(MISSING_ATTR_PREFIX.length))) ops.push({ op: 'removeAttr', cid: pg.cid, oid: PG_LOG_OID, name });
    }
    for (const [name, e] of wantEntries) {
      const had = attrs.get(name);
      const same = had !== undefined && (decode(had) as PgLogEntry).reqid === e.reqid;
      if (!same) ops.push(this.logEntryOp(pg, e));
    }
    for (const [oid, need] of missing) ops.push({ op: 'setAttr', cid: pg.cid, oid: PG_LOG_OID, name: MISSING_ATTR_PREFIX + oid, value: encode(need) });
    ops.push({ op: 'setAttr', cid: pg.cid, oid: PG_LOG_OID, name: LAST_UPDATE_ATTR, value: encode(lastUpdate) });
    ops.push({ op: 'setAttr', cid: pg.cid, oid: PG_LOG_OID, name: TAIL_ATTR, value: encode(tail) });
    if (backfill) ops.push({ op: 'setAttr', cid: pg.cid, oid: PG_LOG_OID, name: BACKFILL_ATTR, value: encode('') });
    else if (attrs.has(BACKFILL_ATTR)) ops.push({ op: 'removeAttr', cid: pg.cid, oid: PG_LOG_OID, name: BACKFILL_ATTR });
    const r = s.applyNow({ ops });
    if (!r.ok) {
      this.h.ctx.log.error('osd: the store refused a PG log', { osd: this.h.id, pg: pgKey(pg.pool, pg.ps), error: String(r.error) });
      return false;
    }
    pg.log = restoreLog(entries, lastUpdate, tail);
    pg.missing = new Map(missing);
    pg.backfillWm = backfill ? '' : undefined;
    pg.ahead.clear();
    pg.localCommitted = compareVersions(pg.localCommitted, lastUpdate) > 0 ? lastUpdate : pg.localCommitted;
    return true;
  }

  // ----- recovery (thesis §6.3.5.2; README PR8–PR11) -----

  private dropRecovery(pg: Pg): void {
    const r = pg.recovery;
    if (r === undefined) return;
    pg.recovery = undefined;
    for (const op of r.inflight.values()) {
      this.recoveryOps.delete(op.token);
      this.h.ctx.timers.cancel(`recovery.${op.token}`);
    }
    if (r.inflight.size > 0) {
      this.h.probe?.recoveryActive?.(this.h.id, this.recoveryOps.size);
      this.scheduleRecovery();
    }
  }

  /** Whether an op on `oid` must wait for recovery at the primary; starts (or hurries) that recovery (PR8). */
  private waitsForRecovery(pg: Pg, oid: string): boolean {
    const r = pg.recovery;
    if (r === undefined) return pg.missing.has(oid);
    if (r.inflight.has(oid)) return true;
    const batch = r.inflight.get(BACKFILL_OP);
    if (batch !== undefined && oid > batch.from && oid <= batch.to) return true;
    if (!this.needsRecovery(pg, r, oid)) return false;
    const i = r.queue.indexOf(oid);
    if (i >= 0) r.queue.splice(i, 1);
    r.queue.unshift(oid);
    if (r.queue.length > this.h.cfg.recoveryQueueMax) r.queue.pop();
    r.unfound.delete(oid);
    this.scheduleRecovery();
    return true;
  }

  /** Whether `oid` is missing at the primary, at a member, or beyond a backfill target's watermark. */
  private needsRecovery(pg: Pg, r: Recovery, oid: string): boolean {
    if (pg.missing.has(oid)) return true;
    for (const mm of r.peerMissing.values()) if (mm.has(oid)) return true;
    for (const ahead of r.backfill.values()) if (!backfilled(oid, r.cursor, ahead)) return true;
    return false;
  }

  /** Starts recovery operations while this OSD has free slots (`recoveryOpsMax`, PR9), PG by PG. */
  private scheduleRecovery(): void {
    for (const pg of this.pgs.values()) {
      const r = pg.recovery;
      if (r === undefined || !pg.active) continue;
      while (this.recoveryOps.size < this.h.cfg.recoveryOpsMax) {
        const oid = r.queue.shift();
        if (oid === undefined) break;
        if (r.inflight.has(oid) || r.unfound.has(oid) || !this.needsRecovery(pg, r, oid)) continue;
        this.recoverObject(pg, r, oid);
      }
      if (this.recoveryOps.size >= this.h.cfg.recoveryOpsMax) return;
      if (r.queue.length === 0 && r.backfill.size > 0 && pg.missing.size === 0 && !r.inflight.has(BACKFILL_OP)) this.backfillBatch(pg, r);
    }
  }

  private startOp(pg: Pg, r: Recovery, op: RecoveryOp): void {
    r.inflight.set(op.kind === 'backfill' ? BACKFILL_OP : op.oid, op);
    this.recoveryOps.set(op.token, op);
    this.h.probe?.recoveryActive?.(this.h.id, this.recoveryOps.size);
    this.h.ctx.timers.once(`recovery.${op.token}`, this.h.cfg.recoveryTimeoutMs, { type: 'rados.osd.recoveryTimeout', token: op.token } as never);
    void pg;
  }

  private finishOp(pg: Pg, op: RecoveryOp): void {
    const r = pg.recovery;
    this.recoveryOps.delete(op.token);
    this.h.ctx.timers.cancel(`recovery.${op.token}`);
    r?.inflight.delete(op.kind === 'backfill' ? BACKFILL_OP : op.oid);
    this.h.probe?.recoveryActive?.(this.h.id, this.recoveryOps.size);
    this.drainQueue(pg);
    this.scheduleRecovery();
  }

  onRecoveryTimeout(m: Extract<DataPathSelfMsg, { type: 'rados.osd.recoveryTimeout' }>): void {
    const op = this.recoveryOps.get(m.token);
    if (op === undefined) return;
    const pg = this.pgs.get(op.pgk);
    this.recoveryOps.delete(op.token);
    this.h.probe?.recoveryActive?.(this.h.id, this.recoveryOps.size);
    if (pg === undefined) return;
    this.h.ctx.log.warn('osd: a recovery operation got no answer; peering the PG again', { osd: this.h.id, pg: op.pgk, oid: op.oid, waiting: [...op.waiting] });
    this.failQueue(pg, 'pg_inactive', 're-peering after a recovery timeout');
    this.startPeering(pg);
  }

  /** One object: pulled first if the primary lacks it, then pushed from memory to every member that lacks it (read once, PR10). */
  private recoverObject(pg: Pg, r: Recovery, oid: string): void {
    const map = this.h.map();
    const base = { epoch: map.epoch, from: this.h.id, pool: pg.pool, ps: pg.ps, acting: pg.acting };
    const token = ++this.recoverySeq;
    const need = pg.missing.get(oid);
    if (need !== undefined && !need.deleted) {
      const src = locations(oid, r.plans).filter((o) => o !== this.h.id && (map.osds[o]?.up ?? false));
      if (src.length === 0) {
        r.unfound.add(oid);
        this.h.ctx.log.warn('osd: no up OSD holds a missing object (unfound)', { osd: this.h.id, pg: pgKey(pg.pool, pg.ps), oid });
        return;
      }
      const from = src.find((o) => pg.acting.includes(o)) ?? src[0]!;
      const op: RecoveryOp = { token, pgk: pgKey(pg.pool, pg.ps), kind: 'object', oid, stage: 'pull', waiting: new Set([from]), from: '', to: '' };
      this.startOp(pg, r, op);
      const pull: PgPull = { ...base, type: 'rados.osd.pgPull', token, oid, recovery: r.key };
      this.h.sendOsd(from, pull);
      return;
    }
    let obj: RecoveredObject;
    if (need !== undefined) {
      // The authoritative history deleted it: remove it here, then tell the others.
      obj = { oid, exists: false, data: new Uint8Array(0), attrs: [] };
      if (!this.installObjects(pg, [obj], undefined)) return;
    } else {
      obj = this.readForRecovery(pg, oid, r.key);
    }
    const op: RecoveryOp = { token, pgk: pgKey(pg.pool, pg.ps), kind: 'object', oid, stage: 'push', waiting: new Set(), from: '', to: '' };
    this.startOp(pg, r, op);
    this.pushToMembers(pg, r, op, obj);
  }

  private readForRecovery(pg: Pg, oid: string, key: string): RecoveredObject {
    const s = this.h.store;
    const st = s.hasCollection(pg.cid) ? s.stat(pg.cid, oid) : undefined;
    if (st === undefined) return { oid, exists: false, data: new Uint8Array(0), attrs: [] };
    this.h.probe?.recoveryRead?.(this.h.id, pgKey(pg.pool, pg.ps), oid, key);
    return { oid, exists: true, data: s.read(pg.cid, oid), attrs: [...s.getAttrs(pg.cid, oid)] };
  }

  private pushToMembers(pg: Pg, r: Recovery, op: RecoveryOp, obj: RecoveredObject): void {
    const map = this.h.map();
    op.stage = 'push';
    for (const o of pg.acting) {
      if (o === this.h.id) continue;
      const lacks = r.peerMissing.get(o)?.has(obj.oid) === true || (r.backfill.has(o) && !backfilled(obj.oid, r.cursor, r.backfill.get(o)!));
      if (!lacks) continue;
      op.waiting.add(o);
      const push: PgPush = { type: 'rados.osd.pgPush', epoch: map.epoch, from: this.h.id, pool: pg.pool, ps: pg.ps, acting: pg.acting, token: op.token, objects: [obj] };
      this.h.sendOsd(o, push);
    }
    this.counters.recoveredObjects++;
    this.counters.recoveredBytes += obj.data.length;
    if (op.waiting.size === 0) this.finishOp(pg, op);
  }

  /** The next batch of the ordered scan, read once and sent to every backfill target (PR11). */
  private backfillBatch(pg: Pg, r: Recovery): void {
    const sorted = this.userObjects(pg).sort();
    const next = nextBackfillBatch(sorted, r.cursor, this.h.cfg.backfillBatchObjectsMax);
    const token = ++this.recoverySeq;
    const op: RecoveryOp = { token, pgk: pgKey(pg.pool, pg.ps), kind: 'backfill', oid: '', stage: 'push', waiting: new Set(), from: r.cursor, to: next.watermark };
    this.startOp(pg, r, op);
    const read = new Map<string, RecoveredObject>();
    const map = this.h.map();
    for (const [o, ahead] of r.backfill) {
      const objects: RecoveredObject[] = [];
      for (const oid of next.oids) {
        if (ahead.has(oid)) continue;
        let obj = read.get(oid);
        if (obj === undefined) {
          obj = this.readForRecovery(pg, oid, r.key);
          read.set(oid, obj);
          this.counters.recoveredObjects++;
          this.counters.recoveredBytes += obj.data.length;
        }
        objects.push(obj);
      }
      op.waiting.add(o);
      const push: PgPush = { type: 'rados.osd.pgPush', epoch: map.epoch, from: this.h.id, pool: pg.pool, ps: pg.ps, acting: pg.acting, token, objects, range: { from: r.cursor, to: next.watermark } };
      this.h.sendOsd(o, push);
    }
    if (op.waiting.size === 0) this.finishOp(pg, op);
  }

  private onPgPull(m: PgPull): void {
    const pg = this.pgs.get(pgKey(m.pool, m.ps));
    const reply = (objects: RecoveredObject[]): void => this.h.sendOsd(m.from, { type: 'rados.osd.pgPush', epoch: this.h.map().epoch, from: this.h.id, pool: m.pool, ps: m.ps, acting: m.acting, token: m.token, objects });
    if (pg === undefined || pg.missing.has(m.oid) || (pg.backfillWm !== undefined && !backfilled(m.oid, pg.backfillWm, pg.ahead))) {
      this.h.sendOsd(m.from, { type: 'rados.osd.pgPushReply', epoch: this.h.map().epoch, from: this.h.id, pool: m.pool, ps: m.ps, acting: m.acting, token: m.token, ok: false });
      return;
    }
    reply([this.readForRecovery(pg, m.oid, m.recovery)]);
  }

  private onPgPush(m: PgPush): void {
    const pg = this.pgs.get(pgKey(m.pool, m.ps));
    if (pg === undefined) return;
    const op = this.recoveryOps.get(m.token);
    if (op !== undefined && op.stage === 'pull' && op.waiting.has(m.from) && pg.recovery !== undefined) {
      // A pull's answer: install it, then push it on while it is in memory.
      const obj = m.objects[0];
      if (obj === undefined || !this.installObjects(pg, [obj], undefined)) return;
      op.waiting.delete(m.from);
      this.pushToMembers(pg, pg.recovery, op, obj);
      if (pg.recovery.inflight.get(op.oid) === op) this.drainQueue(pg);
      return;
    }
    const ok = pg.acting.join() === m.acting.join() && pg.acting[0] === m.from && this.installObjects(pg, m.objects, m.range);
    this.h.sendOsd(m.from, { type: 'rados.osd.pgPushReply', epoch: this.h.map().epoch, from: this.h.id, pool: m.pool, ps: m.ps, acting: m.acting, token: m.token, ok });
    if (ok) this.drainQueue(pg);
  }

  private onPgPushReply(m: PgPushReply): void {
    const op = this.recoveryOps.get(m.token);
    const pg = this.pgs.get(pgKey(m.pool, m.ps));
    const r = pg?.recovery;
    if (op === undefined || pg === undefined || r === undefined || !op.waiting.has(m.from)) return;
    if (!m.ok) {
      if (op.stage === 'pull') {
        // That holder cannot give it after all: look elsewhere.
        op.waiting.delete(m.from);
        const plan = r.plans.get(m.from);
        if (plan !== undefined && plan.kind === 'log') r.plans.set(m.from, { ...plan, missing: new Map([...plan.missing, [op.oid, { version: ZERO_VERSION, deleted: false }]]) });
        this.finishOp(pg, op);
        r.queue.unshift(op.oid);
        this.scheduleRecovery();
        return;
      }
      this.h.ctx.log.warn('osd: a member refused a push; peering again', { osd: this.h.id, pg: op.pgk, member: m.from });
      this.recoveryOps.delete(op.token);
      this.failQueue(pg, 'pg_inactive', 're-peering');
      this.startPeering(pg);
      return;
    }
    op.waiting.delete(m.from);
    if (op.kind === 'object') {
      r.peerMissing.get(m.from)?.delete(op.oid);
      r.backfill.get(m.from)?.add(op.oid);
    }
    if (op.waiting.size > 0) return;
    if (op.kind === 'backfill') {
      r.cursor = op.to;
      if (r.cursor === BACKFILL_DONE) r.backfill.clear();
    }
    this.finishOp(pg, op);
  }

  private onPgRecoverNow(m: PgRecoverNow): void {
    const pg = this.pgs.get(pgKey(m.pool, m.ps));
    if (pg === undefined || !pg.active || pg.acting[0] !== this.h.id || pg.acting.join() !== m.acting.join()) return;
    this.waitsForRecovery(pg, m.oid);
  }

  /**
   * Installs recovered objects in one transaction with the missing list's update: each object
   * becomes exactly what was sent (or is removed). A backfill batch also removes this OSD's objects
   * in its range that the primary does not have, and moves the watermark.
   */
  private installObjects(pg: Pg, objects: readonly RecoveredObject[], range: { from: string; to: string } | undefined): boolean {
    const s = this.h.store;
    const ops: TransactionOp[] = [...this.ensureCollection(pg)];
    const exists = (oid: string): boolean => s.hasCollection(pg.cid) && s.stat(pg.cid, oid) !== undefined;
    const sent = new Set(objects.map((o) => o.oid));
    for (const o of objects) {
      if (exists(o.oid)) ops.push({ op: 'remove', cid: pg.cid, oid: o.oid });
      if (o.exists) {
        ops.push({ op: 'touch', cid: pg.cid, oid: o.oid });
        if (o.data.length > 0) ops.push({ op: 'write', cid: pg.cid, oid: o.oid, offsetBytes: 0, data: o.data });
        for (const [name, value] of o.attrs) ops.push({ op: 'setAttr', cid: pg.cid, oid: o.oid, name, value });
      }
      if (pg.missing.has(o.oid)) ops.push({ op: 'removeAttr', cid: pg.cid, oid: PG_LOG_OID, name: MISSING_ATTR_PREFIX + o.oid });
    }
    if (range !== undefined) {
      for (const oid of this.userObjects(pg)) if (oid > range.from && oid <= range.to && !sent.has(oid) && !pg.ahead.has(oid)) ops.push({ op: 'remove', cid: pg.cid, oid });
      if (range.to === BACKFILL_DONE) {
        if (s.hasCollection(pg.cid) && s.getAttr(pg.cid, PG_LOG_OID, BACKFILL_ATTR) !== undefined) ops.push({ op: 'removeAttr', cid: pg.cid, oid: PG_LOG_OID, name: BACKFILL_ATTR });
      } else {
        ops.push({ op: 'setAttr', cid: pg.cid, oid: PG_LOG_OID, name: BACKFILL_ATTR, value: encode(range.to) });
      }
    }
    const r = s.applyNow({ ops });
    if (!r.ok) {
      this.h.ctx.log.error('osd: the store refused recovered objects', { osd: this.h.id, pg: pgKey(pg.pool, pg.ps), error: String(r.error) });
      return false;
    }
    for (const o of objects) {
      pg.missing.delete(o.oid);
      if (pg.backfillWm !== undefined && range === undefined) pg.ahead.add(o.oid);
    }
    if (range !== undefined) {
      pg.backfillWm = range.to === BACKFILL_DONE ? undefined : range.to;
      if (pg.backfillWm === undefined) pg.ahead.clear();
    }
    return true;
  }

  /** Whether this OSD lacks `oid` (its missing list, or beyond its backfill watermark). */
  private lacks(pg: Pg, oid: string): boolean {
    return pg.missing.has(oid) || (pg.backfillWm !== undefined && !backfilled(oid, pg.backfillWm, pg.ahead));
  }

  // ----- store helpers -----

  private ensureCollection(pg: Pg): TransactionOp[] {
    if (this.h.store.hasCollection(pg.cid)) return [];
    return [
      { op: 'createCollection', cid: pg.cid },
      { op: 'touch', cid: pg.cid, oid: PG_LOG_OID },
    ];
  }

  private logEntryOp(pg: Pg, e: PgLogEntry): TransactionOp {
    return { op: 'setAttr', cid: pg.cid, oid: PG_LOG_OID, name: ENTRY_ATTR_PREFIX + versionKey(e.version), value: encode(e) };
  }

  /** Write-ahead: the log entry alone, before the data (the delayed write, thesis §6.3.4). */
  private logOnly(pg: Pg, u: PgUpdate): boolean {
    const r = this.h.store.applyNow({ ops: [...this.ensureCollection(pg), this.logEntryOp(pg, u.entry)] });
    if (!r.ok) return false;
    pg.log = appendEntry(pg.log, u.entry);
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
      case 'rados.osd.pgPull':
        this.onPgPull(m);
        return;
      case 'rados.osd.pgPush':
        this.onPgPush(m);
        return;
      case 'rados.osd.pgPushReply':
        this.onPgPushReply(m);
        return;
      case 'rados.osd.pgRecoverNow':
        this.onPgRecoverNow(m);
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
      if (pg.acting[0] === this.h.id && pg.phase === 'peering' && pg.queue.length < this.h.cfg.pgQueueMax) {
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
    // A read of an object this OSD lacks waits for its recovery (thesis §6.3.5.2; PR8).
    if (this.lacks(pg, req.oid)) {
      if (pg.acting[0] === this.h.id) this.waitsForRecovery(pg, req.oid);
      else this.h.sendOsd(pg.acting[0]!, { type: 'rados.osd.pgRecoverNow', epoch: this.h.map().epoch, from: this.h.id, pool: pg.pool, ps: pg.ps, acting: pg.acting, oid: req.oid });
      return this.wait(pg, req);
    }
    const s = this.h.store;
    const st = s.hasCollection(pg.cid) ? s.stat(pg.cid, req.oid) : undefined;
    if (st === undefined) return this.replyError(req.client, req.tid, objectError('not_found', `no object ${req.oid}`));
    const va = s.getAttr(pg.cid, req.oid, VERSION_ATTR);
    const version = va === undefined ? ZERO_VERSION : (decode(va) as Eversion);
    // Reads of data not yet durable on every replica wait for its commit (thesis §6.3.5.4's alternative to the replay window; PR12).
    if (compareVersions(version, pg.committedAll) > 0) return this.wait(pg, req);
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

  /** Queues an op until recovery or a commit lets it go on (bounded: `busy` beyond `pgQueueMax`). */
  private wait(pg: Pg, req: OsdOpRequest): void {
    if (pg.queue.length >= this.h.cfg.pgQueueMax) return this.replyError(req.client, req.tid, objectError('busy', `pg ${pgKey(pg.pool, pg.ps)} has ${pg.queue.length} ops waiting`));
    pg.queue.push(req);
  }

  private onList(req: OsdPgListRequest): void {
    const pg = this.route(req, req.ps, false);
    if (pg === undefined) return;
    if (!pg.active) return this.replyError(req.client, req.tid, objectError('pg_inactive', `pg ${pgKey(pg.pool, pg.ps)} is not active`));
    if (pg.missing.size > 0 || pg.backfillWm !== undefined) return this.replyError(req.client, req.tid, objectError('pg_inactive', `pg ${pgKey(pg.pool, pg.ps)} is recovering on osd.${this.h.id}; its listing would be incomplete`));
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
    if (pg.inflight.size >= this.h.cfg.pgInflightMax || this.objectBusy(pg, req.oid) || this.waitsForRecovery(pg, req.oid) || this.h.scrubBlocks?.(pg.pool, pg.ps, req.oid) === true) return this.wait(pg, req);
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
      if (!pg.active || (isMutation(req.ops) && (pg.inflight.size >= this.h.cfg.pgInflightMax || this.objectBusy(pg, req.oid) || this.h.scrubBlocks?.(pg.pool, pg.ps, req.oid) === true))) {
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
    // The primary pushes a missing object before it modifies it (thesis §6.3.5.2): an update of one still missing here is a broken view.
    if (m.update.entry.op !== 'noop' && this.lacks(pg, m.update.entry.oid)) return refuse(`object ${m.update.entry.oid} is missing on osd.${this.h.id}`);
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
    this.h.ctx.log.warn('osd: a member refused an update; peering the PG again', { osd: this.h.id, pg: pgKey(m.pool, m.ps), member: m.from, reason: m.reason });
    pg.active = false;
    pg.inflight.clear();
    this.failQueue(pg, 'pg_inactive', 'peering again');
    this.startPeering(pg);
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
        // Reads that waited for this commit (PR12).
        if (pg.queue.length > 0) this.drainQueue(pg);
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
