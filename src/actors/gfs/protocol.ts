/**
 * GFS messages (STYLE.md: one protocol file per system; types namespaced by system and role;
 * commands imperative). Everything here is plain data: it crosses threads, hosts and the
 * simulator. Chunk handles are 64-bit (`bigint`, patent ¶43). Replies are `GfsResult` values.
 */
import type { ActorRef } from '../../runtime/ref.js';
import type { GfsResult } from './errors.js';
import type { MasterCheckpoint, MasterRecord } from './master/master-state.js';

export type ChunkHandle = bigint;

/** A chunkserver as clients and other chunkservers address it. */
export interface ReplicaAddr {
  readonly server: string;
  readonly ref: ActorRef<ChunkserverMsg>;
  readonly rack: string;
  /** Host name, for choosing the nearest replica and ordering the write chain (¶87, ¶95). */
  readonly host: string;
}

export interface FileInfo {
  readonly path: string;
  readonly kind: 'file' | 'dir';
  readonly ctime: number;
  readonly mtime?: number;
  readonly chunks?: number;
  readonly sizeBytes?: number;
  /** Set for deleted (hidden) entries. */
  readonly deletedAt?: number;
}

/** Where a chunk's up-to-date replicas are (stale replicas are left out, ¶78). */
export interface ChunkLocation {
  readonly index: number;
  readonly handle: ChunkHandle;
  readonly version: number;
  readonly lengthBytes: number;
  readonly replicas: readonly ReplicaAddr[];
  /** Set when the chunk is sealed (README S1–S4): its final length, which readers must not read past. */
  readonly sealedBytes?: number;
}

/** Who holds the lease on a chunk, and the other replicas (¶89, ¶92). */
export interface ChunkLease {
  readonly index: number;
  readonly handle: ChunkHandle;
  readonly version: number;
  readonly primary: ReplicaAddr;
  readonly secondaries: readonly ReplicaAddr[];
  /** Master clock. */
  readonly expiresAt: number;
}

export interface ChunkReport {
  readonly handle: ChunkHandle;
  readonly version: number;
  readonly lengthBytes: number;
}

/** A lease a chunkserver holds as primary, as it reports it to a master (M6). */
export interface HeldLease {
  readonly handle: ChunkHandle;
  readonly version: number;
  /** When the lease ends, on the chunkserver's clock (the value the master gave it, or extended to). */
  readonly expiresAt: number;
}

/**
 * The leases a chunkserver holds, with the time on its own clock when it listed them (so a master
 * can count the time they have left from the report's arrival, whatever the clocks' offset), and
 * the primary master incarnation it knew then: from that moment it refuses grants of any other
 * incarnation, so a report naming the receiving incarnation lists every lease of earlier ones it
 * will ever hold (M6).
 */
export interface LeaseReport {
  readonly incarnation?: string;
  readonly reportedAt: number;
  readonly leases: readonly HeldLease[];
}

export interface HeartbeatReply {
  /** Chunks this server may delete: unknown to the master, orphaned, or stale (¶73–78). */
  readonly garbage: readonly ChunkHandle[];
  /** Leases extended (¶90), with their new expiry on the master clock. */
  readonly extended: ReadonlyArray<{ readonly handle: ChunkHandle; readonly expiresAt: number }>;
  /** The master does not know this server's chunks (e.g. it restarted): send a full report. */
  readonly needReport: boolean;
  /** The primary master's incarnation (fresh at every start): a new one wants a lease report (M6). */
  readonly incarnation?: string;
}

export interface ServerStatus {
  readonly server: string;
  readonly rack: string;
  readonly host: string;
  readonly alive: boolean;
  readonly decommission: 'none' | 'draining' | 'done';
  readonly chunks: number;
  readonly usedBytes: number;
  readonly capacityBytes: number;
  /** Leases this server holds as primary (its share of mutation ordering, ¶90). */
  readonly leases: number;
  /** Chunks recently created on it (the placement's creation-rate limit, ¶62). */
  readonly recentCreations: number;
}

/**
 * Something an operator should see that only the master knows of when it happens (a corrupt replica
 * reported, leases revoked): the dashboard's recent events. `seq` counts from 1 per master
 * incarnation; `time` is the master clock.
 */
export interface MasterEvent {
  readonly seq: number;
  readonly time: number;
  readonly level: 'info' | 'warn' | 'error';
  readonly text: string;
}

export interface ClusterStatus {
  readonly role: MasterRole;
  readonly master: string;
  readonly lsn: number;
  readonly files: number;
  readonly directories: number;
  readonly chunks: number;
  readonly underReplicated: number;
  readonly missing: number;
  readonly leases: number;
  readonly clonesInFlight: number;
  readonly servers: readonly ServerStatus[];
  /** The master's incarnation (fresh at every start). */
  readonly incarnation?: string;
  /** The master's latest events, oldest first (at most 32). */
  readonly events?: readonly MasterEvent[];
}

export type MasterRole = 'primary' | 'replica' | 'shadow';

export interface FsckProblem {
  readonly path: string;
  readonly index: number;
  readonly handle: ChunkHandle;
  readonly goal: number;
  /** Up-to-date replicas on live servers. */
  readonly live: readonly string[];
  readonly state: 'missing' | 'under-replicated' | 'ok';
  /** Servers that reported an older version (¶77). */
  readonly stale: readonly string[];
  /** Servers whose replica failed its checksum (¶124). */
  readonly corrupt: readonly string[];
}

export interface FsckReport {
  readonly files: number;
  readonly chunks: number;
  readonly missing: number;
  readonly underReplicated: number;
  readonly staleReplicas: number;
  readonly corruptReplicas: number;
  /** Every chunk with a problem (bounded: the first 1,000). */
  readonly problems: readonly FsckProblem[];
}

/** One entry of the diagnostic RPC log (patent ¶129–131): requests and replies, never file data. */
export interface RpcLogEntry {
  readonly time: number;
  readonly from: string;
  readonly request: string;
  readonly args: string;
  readonly outcome: string;
  readonly durationMs: number;
}

/**
 * The request id of the client operation a message belongs to (21 random letters and digits in the CLI): set by the
 * client on every message of an operation, passed on by the master to the chunkserver commands it
 * issues for it and by chunkservers down the push chain and to secondaries, and logged by each
 * actor that handles it, so `troupe trace <rid>` can follow one operation across actors. Optional:
 * background work (heartbeats, re-replication, GC) has none.
 */
export type Traced = { readonly rid?: string };

/** The `rid` field of a message or log entry, when there is a request id (ids from peers are capped). */
export function ridField(rid: string | undefined): { rid?: string } {
  return typeof rid === 'string' ? { rid: rid.slice(0, 64) } : {};
}

export type MasterMsg = Traced &
  (
  // namespace (clients)
  | { readonly type: 'gfs.master.mkdir'; readonly path: string }
  | { readonly type: 'gfs.master.create'; readonly path: string }
  | { readonly type: 'gfs.master.delete'; readonly path: string; readonly recursive?: boolean }
  | { readonly type: 'gfs.master.undelete'; readonly path: string }
  | { readonly type: 'gfs.master.rename'; readonly from: string; readonly to: string }
  | { readonly type: 'gfs.master.list'; readonly path: string; readonly includeDeleted?: boolean }
  | { readonly type: 'gfs.master.stat'; readonly path: string }
  | { readonly type: 'gfs.master.snapshot'; readonly source: string; readonly target: string }
  | { readonly type: 'gfs.master.setPolicy'; readonly path: string; readonly replication?: number; readonly reclaimImmediately?: boolean }
  // chunks (clients)
  | { readonly type: 'gfs.master.getChunkLocations'; readonly path: string; readonly index: number; readonly count: number }
  | { readonly type: 'gfs.master.findLeaseHolder'; readonly path: string; readonly index: number }
  | { readonly type: 'gfs.master.reportCorrupt'; readonly server: string; readonly handle: ChunkHandle }
  /**
   * A client's write or record append to the chunk was acknowledged and ends at `lengthBytes`: the
   * chunk is at least that long, so `stat`, `ls` and the dashboard show it before the next
   * heartbeat (like HDFS's complete()). `version`: the lease's. Answered `ok(null)`.
   */
  | { readonly type: 'gfs.master.reportLength'; readonly handle: ChunkHandle; readonly version: number; readonly lengthBytes: number }
  /**
   * A record append to chunk `index` (version `version`) failed at a replica, or no lease could be
   * granted: seal the chunk at a length its reachable replicas agree on, so appends go on in the
   * next chunk (README S1–S4). Only the file's last chunk is sealed; answered with `SealReply`.
   */
  | { readonly type: 'gfs.master.sealChunk'; readonly path: string; readonly index: number; readonly version?: number }
  // chunkservers
  | {
      readonly type: 'gfs.master.heartbeat';
      readonly server: string;
      readonly ref: ActorRef<ChunkserverMsg>;
      readonly rack: string;
      readonly host: string;
      readonly usedBytes: number;
      readonly capacityBytes: number;
      /** A full chunk report, when sent. */
      readonly chunks?: readonly ChunkReport[];
      /** Primaries ask to extend these leases (mutations continue, ¶90). */
      readonly leaseExtensions?: readonly ChunkHandle[];
      /** Between full reports: the chunks whose length changed since the last heartbeat. */
      readonly updates?: readonly ChunkReport[];
      /** The leases this server holds, sent to a primary master incarnation it has not reported them to yet (M6). */
      readonly leaseReport?: LeaseReport;
    }
  // administration
  | { readonly type: 'gfs.master.status' }
  | { readonly type: 'gfs.master.decommission'; readonly server: string }
  | { readonly type: 'gfs.master.rpcLog'; readonly limit?: number }
  /** Chunks that are missing, under-replicated, or have stale or corrupt replicas, with their files. */
  | { readonly type: 'gfs.master.fsck'; readonly path?: string }
  // the replicated operation log (¶48, ¶118, ¶121)
  | { readonly type: 'gfs.master.appendLog'; readonly firstLsn: number; readonly records: readonly MasterRecord[] }
  | { readonly type: 'gfs.master.installCheckpoint'; readonly lsn: number; readonly checkpoint: MasterCheckpoint }
  // internal timers
  | { readonly type: 'gfs.master.tick'; readonly task: 'liveness' | 'replication' | 'gc' | 'checkpoint' }
  );

export type ChunkserverMsg = Traced &
  (
  | { readonly type: 'gfs.chunkserver.createChunk'; readonly handle: ChunkHandle; readonly version: number }
  /** A new lease: the up-to-date replicas record the new version (¶76–77). */
  | { readonly type: 'gfs.chunkserver.setVersion'; readonly handle: ChunkHandle; readonly version: number }
  /** `incarnation`: the granting master's; a server that last heard from another incarnation refuses the grant (M6). */
  | { readonly type: 'gfs.chunkserver.grantLease'; readonly handle: ChunkHandle; readonly version: number; readonly expiresAt: number; readonly secondaries: readonly ReplicaAddr[]; readonly incarnation?: string }
  | { readonly type: 'gfs.chunkserver.revokeLease'; readonly handle: ChunkHandle }
  /**
   * Sealing (README S1–S4), in two steps. Without `lengthBytes`: fence — make everything written
   * durable, record `version` durably (mutations at older versions are refused from now on), drop
   * any lease, and answer the replica's length. With `lengthBytes`: seal — cut the replica to that
   * length durably; it stays read-only.
   */
  | { readonly type: 'gfs.chunkserver.sealChunk'; readonly handle: ChunkHandle; readonly version: number; readonly lengthBytes?: number }
  /** Copy a chunk from another replica (re-replication, ¶69), at most this fast. */
  | { readonly type: 'gfs.chunkserver.clone'; readonly handle: ChunkHandle; readonly version: number; readonly source: ReplicaAddr; readonly bandwidthBytesPerSecMax: number }
  /** Copy-on-write after a snapshot: duplicate chunk `from` as `to` locally (¶113). */
  | { readonly type: 'gfs.chunkserver.copyLocal'; readonly from: ChunkHandle; readonly to: ChunkHandle; readonly version: number }
  | { readonly type: 'gfs.chunkserver.deleteChunks'; readonly handles: readonly ChunkHandle[] }
  /** A shadow master polls for locations (¶121). */
  | { readonly type: 'gfs.chunkserver.report' }
  /** Traffic counters since the server started (for metrics); answered with `ChunkserverStats`. */
  | { readonly type: 'gfs.chunkserver.stats' }
  // ----- the data path (clients and other chunkservers) -----
  /**
   * Data flow (¶94–97): slice `slice` (0-based) of `slices` of push `pushId`, at most
   * `sliceBytesMax` (1 MiB). The server keeps it in its bounded push buffer (aged out after
   * `pushBufferTtlMs`, ¶94) and forwards it at once to `chain[0]` with the rest of the chain —
   * each slice as soon as it arrives, not after the whole push (pipelining, ¶96). The reply comes
   * when the whole remaining chain holds the slice.
   */
  | { readonly type: 'gfs.chunkserver.pushData'; readonly pushId: string; readonly slice: number; readonly slices: number; readonly data: Uint8Array; readonly chain: readonly ReplicaAddr[] }
  /** Control flow of a write, to the primary (¶98–100): apply the pushed data at `offset`, in serial order on every replica. */
  | { readonly type: 'gfs.chunkserver.write'; readonly handle: ChunkHandle; readonly version: number; readonly offset: number; readonly pushId: string; readonly lengthBytes: number; readonly secondaries: readonly ReplicaAddr[] }
  /** Record append, to the primary (¶101–108): the primary picks the offset; see `AppendReply`. */
  | { readonly type: 'gfs.chunkserver.append'; readonly handle: ChunkHandle; readonly version: number; readonly pushId: string; readonly lengthBytes: number; readonly secondaries: readonly ReplicaAddr[] }
  /** Primary → secondaries: apply mutation `serial` (consecutive per chunk from 1 within a lease) in serial order (¶99). */
  | { readonly type: 'gfs.chunkserver.applyMutation'; readonly handle: ChunkHandle; readonly version: number; readonly serial: number; readonly mutation: Mutation }
  /** Read bytes of a chunk; every checksum block overlapping the range is verified first (¶124). */
  | { readonly type: 'gfs.chunkserver.read'; readonly handle: ChunkHandle; readonly version: number; readonly offset: number; readonly lengthBytes: number }
  // internal timers (the chunkserver sends these to itself)
  | { readonly type: 'gfs.chunkserver.tick'; readonly task: 'heartbeat' | 'expire' }
  );

/** A mutation as the primary orders it. Data was pushed beforehand under `pushId`. */
export type Mutation =
  | { readonly kind: 'write'; readonly offset: number; readonly pushId: string; readonly lengthBytes: number }
  /** Record append at the primary's offset (secondaries write exactly there, ¶103). */
  | { readonly kind: 'append'; readonly offset: number; readonly pushId: string; readonly lengthBytes: number }
  /** Pad the chunk to `toBytes` (the record did not fit, ¶104). */
  | { readonly kind: 'pad'; readonly toBytes: number };

/** The master's answer to `sealChunk`: the chunk's sealed length (it may have been sealed before). */
export type SealReply = GfsResult<{ readonly handle: ChunkHandle; readonly sealedBytes: number }>;

/** The primary's answer to a record append: the offset it was written at, or "retry on the next chunk" after padding (¶104). */
export type AppendReply = GfsResult<{ readonly offset: number } | { readonly retryNextChunk: true }>;

export type ReadReply = GfsResult<{ readonly data: Uint8Array; readonly chunkLengthBytes: number }>;

/** What chunkservers answer to master commands. */
/** What a chunkserver has served and stored since it started (counters only grow; a restart resets them). */
export interface ChunkserverStats {
  readonly server: string;
  /** Reads served, to clients and to cloning servers, and their bytes. */
  readonly reads: number;
  readonly readBytes: number;
  /** Mutations applied to chunks here (writes, appends, pads; as primary or secondary), and their bytes. */
  readonly mutations: number;
  readonly writtenBytes: number;
  /** Bytes received by data pushes (¶83), whether or not a mutation used them. */
  readonly pushedBytes: number;
  /** Bytes copied here by re-replication clones (¶67–69). */
  readonly clonedBytes: number;
}

export type ChunkserverReply = GfsResult<{ readonly version?: number; readonly lengthBytes?: number; readonly chunks?: readonly ChunkReport[] }>;

export type MasterReply<T> = GfsResult<T>;
