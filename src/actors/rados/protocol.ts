/**
 * RADOS messages for the OSD map (thesis §6.2.2–6.2.5; README.md here). Messages are plain data
 * with a namespaced `type` (DESIGN.md §3); commands are imperative. Every message an OSD, client
 * or monitor sends carries the sender's map epoch (R9, thesis §6.2.5), so a receiver can tell
 * when either side is behind and share the missing incrementals.
 *
 * The monitor's own messages (Paxos, elections, leases) live in monitor/; the OSD data path comes
 * with the OSD actor.
 */
import type { OsdMap, OsdMapIncremental, ReplicationMode } from './osdmap/osd-map.js';

/** Every RADOS message carries the sender's epoch (thesis §6.2.5: "tags all messages with its latest epoch"). */
export interface EpochTagged {
  readonly epoch: number;
}

/**
 * A map update for a party at some epoch: the incrementals it lacks, in order (several bundled to
 * bridge a gap), or the full map when the sender's history does not reach back far enough.
 */
export type MapBundle =
  | { readonly kind: 'none' }
  | { readonly kind: 'incrementals'; readonly incrementals: readonly OsdMapIncremental[] }
  | { readonly kind: 'full'; readonly map: OsdMap };

/**
 * Commands the OSD-map service turns into incrementals (`osdMapService.prepare`, on the leader
 * monitor). OSDs send boots; the failure tracker and the down→out timer produce mark-down and
 * mark-out commands; the rest come from administrators (`troupe ceph osd …`).
 */
export type OsdMonCommand =
  /**
   * An OSD is online at `addr` and has map `epoch` (thesis §6.2.5). Also sent by an OSD that finds
   * itself marked down while alive, to be marked up again. `addr` should name the incarnation
   * (Ceph's addresses carry a nonce): a boot at the address the map already has up is `no_change`.
   */
  | { readonly type: 'rados.mon.osdBoot'; readonly osd: number; readonly addr: string; readonly epoch: number }
  | { readonly type: 'rados.mon.osdMarkDown'; readonly osds: readonly number[]; readonly reason: 'failure' | 'admin' }
  | { readonly type: 'rados.mon.osdMarkOut'; readonly osds: readonly number[]; readonly reason: 'admin' | 'down_out' }
  | { readonly type: 'rados.mon.osdMarkIn'; readonly osds: readonly number[] }
  /** Reweight in [0, 1] (Ceph's `osd reweight`). */
  | { readonly type: 'rados.mon.osdReweight'; readonly osd: number; readonly weight: number }
  /** Replace the CRUSH map (Ceph text syntax); devices without an OSD become new OSDs, down and out until they boot. */
  | { readonly type: 'rados.mon.setCrush'; readonly crush: string }
  | {
      readonly type: 'rados.mon.poolCreate';
      readonly name: string;
      readonly pgNum: number;
      readonly pgpNum?: number;
      readonly size?: number;
      readonly minSize?: number;
      /** Rule id or name; default rule 0. */
      readonly crushRule?: number | string;
      readonly replication?: ReplicationMode;
    }
  | { readonly type: 'rados.mon.poolDelete'; readonly name: string }
  /** Raise pg_num and/or pgp_num (thesis §6.2.1: PGs split; they never merge). */
  | { readonly type: 'rados.mon.poolSet'; readonly name: string; readonly pgNum?: number; readonly pgpNum?: number };

/** One failed peer in a failure report. */
export interface FailedPeer {
  readonly osd: number;
  /** How long the reporter has not heard from it, ms. */
  readonly failedForMs: number;
}

/**
 * OSD → any monitor: peers it found failed, batched and throttled (thesis §6.2.4); `alive` withdraws
 * earlier reports (the peer answered again). Acknowledged by a map update marking them down.
 */
export interface OsdFailureReport extends EpochTagged {
  readonly type: 'rados.mon.osdFailure';
  readonly reporter: number;
  readonly failed: readonly FailedPeer[];
  readonly alive: readonly number[];
}

/** Monitor → OSD or client: the map changes it lacks. */
export interface OsdMapUpdate extends EpochTagged {
  readonly type: 'rados.osdMap';
  readonly bundle: MapBundle;
}

/** OSD ↔ OSD heartbeat (thesis §6.2.3: PG peers exchange heartbeats every 2 s), lazily carrying incrementals (§6.2.5). */
export interface OsdPing extends EpochTagged {
  readonly type: 'rados.osd.ping';
  readonly from: number;
  /** Incrementals the sender believes the receiver lacks; `none` when it believes it current. */
  readonly share: MapBundle;
}

export type RadosMapMsg = OsdFailureReport | OsdMapUpdate | OsdPing;

// ---------------------------------------------------------------------------------------------
// The object data path (thesis §6.3; README.md "Data path"). Every message carries the sender's
// epoch (R9) and, between OSDs, the acting set the sender believes in, so a member with another
// view of the PG refuses it.

import type { ActorRef } from '../../runtime/ref.js';
import type { TransactionOp } from '../../storage/object-store.js';
import type { ObjectError } from './errors.js';
import type { ObjectOp, ObjectOpResult } from './osd/object-ops.js';
import type { Eversion, PgLogEntry } from './osd/pg-log.js';
import type { HolderInfo, MissingNeed, PastInterval } from './osd/peering.js';

/** Client → the PG's first OSD (mutations) or read-serving OSD (reads). */
export interface OsdOpRequest extends EpochTagged {
  readonly type: 'rados.osd.op';
  readonly client: ActorRef<ClientReply>;
  /** The client's id for this attempt's replies (a resend keeps `reqid` and gets a new tid). */
  readonly tid: number;
  /** `client:serial`, the same on every resend (thesis §6.3.5.3). */
  readonly reqid: string;
  readonly pool: number;
  readonly oid: string;
  readonly ops: readonly ObjectOp[];
}

/** Client → the read-serving OSD of one PG: object names after `after`, at most `max`. */
export interface OsdPgListRequest extends EpochTagged {
  readonly type: 'rados.osd.pgList';
  readonly client: ActorRef<ClientReply>;
  readonly tid: number;
  readonly pool: number;
  readonly ps: number;
  readonly after: string;
  readonly max: number;
}

/** OSD → client. A mutation gets `ack` then `commit` (or one `error`); a read or list gets `done`. */
export type ClientReply =
  | {
      readonly type: 'rados.client.reply';
      readonly epoch: number;
      readonly tid: number;
      readonly stage: 'ack' | 'commit' | 'done';
      readonly version: Eversion;
      readonly results: readonly ObjectOpResult[];
      /** For list replies. */
      readonly oids?: readonly string[];
      readonly more?: boolean;
    }
  | {
      readonly type: 'rados.client.error';
      readonly epoch: number;
      readonly tid: number;
      readonly error: ObjectError;
      /** The OSD's newer map, when the client is behind (lazy sharing, §6.2.5). */
      readonly bundle?: MapBundle;
    };

/** Where a PG update's acker answers the client (chain and splay ack from the tail). */
export interface ClientWaiter {
  readonly client: ActorRef<ClientReply>;
  readonly tid: number;
}

/** One update of a PG as replicated: its log entry and the store operations to apply. */
export interface PgUpdate {
  readonly entry: PgLogEntry;
  readonly txn: readonly TransactionOp[];
  readonly results: readonly ObjectOpResult[];
  /** When the first OSD took the client's op (its clock; the acker measures ack and commit latency from it). */
  readonly startedAtMs?: number;
}

interface PgAddressed extends EpochTagged {
  readonly from: number;
  readonly pool: number;
  readonly ps: number;
  /** The acting set the sender believes in. */
  readonly acting: readonly number[];
}

/** Head → replicas (and along the chain): apply (or, at the delayed OSD, log) this update. */
export interface RepOp extends PgAddressed {
  readonly type: 'rados.osd.repOp';
  readonly update: PgUpdate;
  readonly waiters: readonly ClientWaiter[];
  /** Entries at or before this are durable everywhere and may be trimmed. */
  readonly trimTo: Eversion;
  /** Set when the update's write data travels in `repData` pieces ahead of this header (README D12; `osd/slicing.ts`). */
  readonly sliced?: { readonly bytes: number; readonly pieces: number; readonly lengths: readonly number[] };
}

/** A piece of a sliced update's write data, sent ahead of its `repOp` header (README D12). */
export interface RepData extends PgAddressed {
  readonly type: 'rados.osd.repData';
  readonly version: Eversion;
  readonly index: number;
  readonly count: number;
  readonly data: Uint8Array;
}

/** Replica → acker: applied in memory / durable on disk. */
export interface RepProgress extends PgAddressed {
  readonly type: 'rados.osd.repApplied' | 'rados.osd.repCommitted';
  readonly version: Eversion;
}

/** A member refusing an update: another view of the PG, or a hole in its log. */
export interface RepRefused extends PgAddressed {
  readonly type: 'rados.osd.repRefused';
  readonly version: Eversion;
  readonly reason: string;
}

/** The primary, peering a PG, asks an OSD for what it holds (thesis §6.3.5.1: the prior set is queried explicitly). */
export interface PgQuery extends PgAddressed {
  readonly type: 'rados.osd.pgQuery';
  readonly peering: number;
  /** Also send the backlog: every object of the PG with its version (§6.3.5.1 step 5). */
  readonly backlog: boolean;
}

/** An OSD's answer to a query: the Notify of §6.3.5.1 (its copy's bounds, log and missing list) and what it knows of the PG's past intervals. */
export interface PgInfo extends PgAddressed {
  readonly type: 'rados.osd.pgInfo';
  readonly peering: number;
  readonly info: HolderInfo;
  readonly intervals: readonly PastInterval[];
  /** When asked for the backlog. */
  readonly backlog?: readonly (readonly [string, Eversion])[];
}

/**
 * Primary → acting member: take the authoritative log, this missing list (or start a backfill), record
 * last_epoch_started, and go active in this interval.
 */
export interface PgActivate extends PgAddressed {
  readonly type: 'rados.osd.pgActivate';
  readonly peering: number;
  readonly les: number;
  readonly entries: readonly PgLogEntry[];
  readonly lastUpdate: Eversion;
  readonly tail: Eversion;
  readonly missing: readonly (readonly [string, MissingNeed])[];
  readonly backfill: boolean;
}

export interface PgActivated extends PgAddressed {
  readonly type: 'rados.osd.pgActivated';
  readonly peering: number;
  readonly ok: boolean;
  readonly reason?: string;
}

/** One object as recovery moves it: its bytes and attributes, or its absence. */
export interface RecoveredObject {
  readonly oid: string;
  readonly exists: boolean;
  readonly data: Uint8Array;
  readonly attrs: readonly (readonly [string, Uint8Array])[];
}

/** Primary → an OSD holding an object the primary lacks: send it (thesis §6.3.5.2). */
export interface PgPull extends PgAddressed {
  readonly type: 'rados.osd.pgPull';
  readonly token: number;
  readonly oid: string;
  /** Names the recovery (primary and peering) for the read-once probe. */
  readonly recovery: string;
}

/**
 * Objects on their way: a pull's answer (to the primary), a push of recovered objects (primary →
 * replica), or a backfill batch (`range`: the target's copy of every object in (from, to] becomes
 * exactly `objects`, except those it already received ahead of the scan).
 */
export interface PgPush extends PgAddressed {
  readonly type: 'rados.osd.pgPush';
  readonly token: number;
  readonly objects: readonly RecoveredObject[];
  readonly range?: { readonly from: string; readonly to: string };
}

export interface PgPushReply extends PgAddressed {
  readonly type: 'rados.osd.pgPushReply';
  readonly token: number;
  readonly ok: boolean;
}

/** The read-serving OSD (chain, splay) lacks an object a client reads: the primary should recover it now (§6.3.5.2). */
export interface PgRecoverNow extends PgAddressed {
  readonly type: 'rados.osd.pgRecoverNow';
  readonly oid: string;
}

export type OsdDataMsg = OsdOpRequest | OsdPgListRequest | RepOp | RepData | RepProgress | RepRefused | PgQuery | PgInfo | PgActivate | PgActivated | PgPull | PgPush | PgPushReply | PgRecoverNow;

// ---------------------------------------------------------------------------------------------
// PG statistics and scrubbing (README.md "PG statistics" and "Scrubbing"; post-thesis, as Ceph).

import type { PgStat } from './osd/pg-stats.js';
import type { ObjectInconsistency, ScrubMap } from './osd/scrub.js';

/**
 * OSD → every monitor (tell): the PGs this OSD is primary of, as it sees them now (Ceph's
 * MPGStats). Soft state at the monitor, never proposed through Paxos; resent periodically.
 */
export interface PgStatsReport extends EpochTagged {
  readonly type: 'rados.mon.pgStats';
  readonly osd: number;
  readonly stats: readonly PgStat[];
}

/** Admin → a monitor (ask) → `PgStatsView`: the latest report per PG, with stale ones marked. */
export interface PgStatsGet {
  readonly type: 'rados.mon.pgStatsGet';
}

/** A monitor's view of the reported PG statistics. */
export interface PgStatsView {
  /** The monitor's clock when it answered. */
  readonly nowMs: number;
  /** One per PG that has a report young enough to keep; `state` gains `stale` when its primary stopped reporting. */
  readonly stats: readonly (PgStat & { readonly reportedAtMs: number; readonly reporter: number })[];
}

export type PgStatsMonMsg = PgStatsReport | PgStatsGet;

/** Primary → each other acting member: describe the PG's objects with names in (after, upto] once you applied `version`. */
export interface ScrubMapRequest extends PgAddressed {
  readonly type: 'rados.osd.scrubMapRequest';
  readonly scrub: number;
  readonly chunk: number;
  readonly after: string;
  /** Undefined: to the end of the PG. */
  readonly upto?: string;
  readonly deep: boolean;
  /** The primary's log head when the range stopped taking writes: every update of the range is at or before it. */
  readonly version: Eversion;
}

export interface ScrubMapReply extends PgAddressed {
  readonly type: 'rados.osd.scrubMapReply';
  readonly scrub: number;
  readonly chunk: number;
  /** Undefined with `error` when the member cannot answer (not active in that interval). */
  readonly map?: ScrubMap;
  readonly error?: string;
}

/** Primary → the member holding the authoritative copy: send me your copy of these objects. */
export interface ScrubPull extends PgAddressed {
  readonly type: 'rados.osd.scrubPull';
  readonly scrub: number;
  readonly chunk: number;
  readonly oids: readonly string[];
}

/** An object's whole copy for repair: data and every attribute (or its absence). */
export interface ScrubCopy {
  readonly oid: string;
  readonly data?: Uint8Array;
  readonly attrs?: readonly (readonly [string, Uint8Array])[];
}

export interface ScrubPulled extends PgAddressed {
  readonly type: 'rados.osd.scrubPulled';
  readonly scrub: number;
  readonly chunk: number;
  readonly copies: readonly ScrubCopy[];
}

/** Primary → a member with bad copies: replace them with these (one store transaction). */
export interface ScrubPush extends PgAddressed {
  readonly type: 'rados.osd.scrubPush';
  readonly scrub: number;
  readonly chunk: number;
  readonly copies: readonly ScrubCopy[];
}

export interface ScrubPushed extends PgAddressed {
  readonly type: 'rados.osd.scrubPushed';
  readonly scrub: number;
  readonly chunk: number;
  readonly ok: boolean;
  readonly error?: string;
}

export type OsdScrubMsg = ScrubMapRequest | ScrubMapReply | ScrubPull | ScrubPulled | ScrubPush | ScrubPushed;

/** Admin → a PG's primary (ask) → `PgCommandReply`: scrub, deep-scrub or repair now, or describe the PG (`ceph pg <pgid> query`). */
export interface PgCommand {
  readonly type: 'rados.osd.pgCommand';
  readonly pgid: string;
  readonly command: 'scrub' | 'deep-scrub' | 'repair' | 'query';
}

export type PgCommandReply =
  | { readonly ok: true; readonly osd: number; readonly epoch: number; readonly message: string; readonly query?: PgQueryResult }
  | { readonly ok: false; readonly osd: number; readonly epoch: number; readonly code: 'unknown_pg' | 'not_primary' | 'pg_inactive' | 'busy'; readonly message: string };

/** What `ceph pg <pgid> query` shows: the PG's stat and its scrubber's state. */
export interface PgQueryResult {
  readonly stat: PgStat;
  readonly scrub: {
    readonly state: 'idle' | 'queued' | 'scrubbing';
    readonly deep: boolean;
    readonly repair: boolean;
    readonly errors: number;
    readonly inconsistent: readonly ObjectInconsistency[];
  };
}
