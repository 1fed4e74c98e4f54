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

export interface HeartbeatReply {
  /** Chunks this server may delete: unknown to the master, orphaned, or stale (¶73–78). */
  readonly garbage: readonly ChunkHandle[];
  /** Leases extended (¶90), with their new expiry on the master clock. */
  readonly extended: ReadonlyArray<{ readonly handle: ChunkHandle; readonly expiresAt: number }>;
  /** The master does not know this server's chunks (e.g. it restarted): send a full report. */
  readonly needReport: boolean;
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
}

export type MasterRole = 'primary' | 'replica' | 'shadow';

/** One entry of the diagnostic RPC log (patent ¶129–131): requests and replies, never file data. */
export interface RpcLogEntry {
  readonly time: number;
  readonly from: string;
  readonly request: string;
  readonly args: string;
  readonly outcome: string;
  readonly durationMs: number;
}

export type MasterMsg =
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
    }
  // administration
  | { readonly type: 'gfs.master.status' }
  | { readonly type: 'gfs.master.decommission'; readonly server: string }
  | { readonly type: 'gfs.master.rpcLog'; readonly limit?: number }
  // the replicated operation log (¶48, ¶118, ¶121)
  | { readonly type: 'gfs.master.appendLog'; readonly firstLsn: number; readonly records: readonly MasterRecord[] }
  | { readonly type: 'gfs.master.installCheckpoint'; readonly lsn: number; readonly checkpoint: MasterCheckpoint }
  // internal timers
  | { readonly type: 'gfs.master.tick'; readonly task: 'liveness' | 'replication' | 'gc' | 'checkpoint' };

export type ChunkserverMsg =
  | { readonly type: 'gfs.chunkserver.createChunk'; readonly handle: ChunkHandle; readonly version: number }
  /** A new lease: the up-to-date replicas record the new version (¶76–77). */
  | { readonly type: 'gfs.chunkserver.setVersion'; readonly handle: ChunkHandle; readonly version: number }
  | { readonly type: 'gfs.chunkserver.grantLease'; readonly handle: ChunkHandle; readonly version: number; readonly expiresAt: number; readonly secondaries: readonly ReplicaAddr[] }
  | { readonly type: 'gfs.chunkserver.revokeLease'; readonly handle: ChunkHandle }
  /** Copy a chunk from another replica (re-replication, ¶69), at most this fast. */
  | { readonly type: 'gfs.chunkserver.clone'; readonly handle: ChunkHandle; readonly version: number; readonly source: ReplicaAddr; readonly bandwidthBytesPerSecMax: number }
  /** Copy-on-write after a snapshot: duplicate chunk `from` as `to` locally (¶113). */
  | { readonly type: 'gfs.chunkserver.copyLocal'; readonly from: ChunkHandle; readonly to: ChunkHandle; readonly version: number }
  | { readonly type: 'gfs.chunkserver.deleteChunks'; readonly handles: readonly ChunkHandle[] }
  /** A shadow master polls for locations (¶121). */
  | { readonly type: 'gfs.chunkserver.report' };

/** What chunkservers answer to master commands. */
export type ChunkserverReply = GfsResult<{ readonly version?: number; readonly lengthBytes?: number; readonly chunks?: readonly ChunkReport[] }>;

export type MasterReply<T> = GfsResult<T>;
