/**
 * Storage defaults, each with the source's value and section. Callers pass a partial override;
 * `withDefaults` fills the rest.
 */

/** GFS chunk size: 64 MB (GFS paper §2.5; DESIGN.md §5). Chunk files grow lazily up to this. */
export const chunkSizeBytesDefault = 64 * 1024 * 1024;

/** Checksum block: "a series of 64 KB blocks, each with a corresponding 32-bit checksum" (patent ¶123). */
export const checksumBlockSizeBytesDefault = 64 * 1024;

export interface ChunkStoreConfig {
  /** Largest chunk; writes past it are refused (GFS: 64 MiB). */
  readonly chunkSizeBytes: number;
  /** Checksum granularity (patent ¶123: 64 KB). */
  readonly blockSizeBytes: number;
  /** Reads are issued in segments of this size; up to `readAheadSegments` segments are read ahead while one is verified (patent ¶125: checksum work overlapped with I/O). */
  readonly readSegmentBytes: number;
  /** Segments read ahead while one is verified (bounded read-ahead). */
  readonly readAheadSegments: number;
  /** Most chunks one store holds; creation beyond it fails with `no_space`. */
  readonly chunksMax: number;
  /**
   * The write-ahead journal (storage README, "Chunk journal"): a journal file is closed and a new
   * one started once it holds this many bytes. 0: no journal (each `sync` fsyncs the chunk's data
   * and checksum files). BlueStore's idea (thesis digest §3.7): many mutations, one device flush.
   */
  readonly journalSegmentBytes: number;
  /** Bytes of journal files on disk at most (more by one record only when a record alone is larger); a round that would pass it waits for a checkpoint. */
  readonly journalBytesMax: number;
  /** Bytes written by one journal round (one fsync) at most, unless one record is larger. */
  readonly journalRoundBytesMax: number;
  /** Bytes of journal records admitted and not yet durable at most; later mutations wait for rounds to complete. */
  readonly journalPendingBytesMax: number;
  /** Mutations waiting for journal room at most; more fail with `backlog_full`. */
  readonly journalAdmitWaitersMax: number;
  /**
   * Writes smaller than this carry their data in the journal (one flush for many small
   * mutations); the others are fdatasynced in the chunk's data file before the round holding their
   * record, which then carries only their checksums and size (BlueStore writes small data deferred
   * through its log and large data in place: `bluestore_prefer_deferred_size`, 64 KiB for HDDs).
   */
  readonly journalInlineBelowBytes: number;
  /** Chunks checkpointed at once (data fsync and checksum slot) when journal files are trimmed. */
  readonly checkpointParallelChunks: number;
}

export const chunkStoreConfigDefault: ChunkStoreConfig = {
  chunkSizeBytes: chunkSizeBytesDefault,
  blockSizeBytes: checksumBlockSizeBytesDefault,
  readSegmentBytes: 1024 * 1024,
  readAheadSegments: 2,
  chunksMax: 1_000_000,
  journalSegmentBytes: 0,
  journalBytesMax: 96 * 1024 * 1024,
  journalRoundBytesMax: 16 * 1024 * 1024,
  journalPendingBytesMax: 64 * 1024 * 1024,
  journalAdmitWaitersMax: 4096,
  journalInlineBelowBytes: 64 * 1024,
  checkpointParallelChunks: 16,
};

/** Journal settings a GFS chunkserver uses (one journal per chunkserver; see `ChunkStoreConfig`). */
export const chunkJournalDefault: Pick<ChunkStoreConfig, 'journalSegmentBytes' | 'journalBytesMax'> = {
  journalSegmentBytes: 32 * 1024 * 1024,
  journalBytesMax: 96 * 1024 * 1024,
};

export interface ScrubberConfig {
  /** Upper bound on the bytes the scrubber reads per second, averaged over each pause (patent ¶128 scans "during idle periods"). */
  readonly scrubBandwidthBytesPerSec: number;
  /** A chunk counts as inactive when it was not read or written for this long (patent ¶128: "inactive chunks"). */
  readonly idleAfterMs: number;
  /** Bytes verified per step; the pause after a step is `bytes / bandwidth`. */
  readonly sliceBytes: number;
  /** Pause when no chunk is idle, or after a full pass. */
  readonly restMs: number;
}

export const scrubberConfigDefault: ScrubberConfig = {
  scrubBandwidthBytesPerSec: 16 * 1024 * 1024,
  idleAfterMs: 60_000,
  sliceBytes: 1024 * 1024,
  restMs: 10_000,
};

export interface OpLogConfig {
  /** Records committed by one fsync at most (group commit; patent ¶47: records appended "possibly in batches"). */
  readonly groupCommitMaxRecords: number;
  /** Bytes committed by one fsync at most. */
  readonly groupCommitMaxBytes: number;
  /** Records waiting for commit at most; more are refused with `backlog_full`. */
  readonly pendingMaxRecords: number;
  /** Largest record payload. */
  readonly recordMaxBytes: number;
  /** A segment is closed and a new one started once it reaches this size (rotation; patent ¶50 "switch to a new log file"). */
  readonly segmentMaxBytes: number;
}

export const opLogConfigDefault: OpLogConfig = {
  groupCommitMaxRecords: 1024,
  groupCommitMaxBytes: 4 * 1024 * 1024,
  pendingMaxRecords: 16_384,
  recordMaxBytes: 16 * 1024 * 1024,
  segmentMaxBytes: 64 * 1024 * 1024,
};

export interface CheckpointConfig {
  /** Complete checkpoints kept (patent ¶51: "a few older versions may be kept to guard against catastrophes"). Log segments needed by the oldest kept checkpoint are kept too. */
  readonly checkpointsKept: number;
  /** Largest checkpoint accepted on load. */
  readonly checkpointMaxBytes: number;
}

export const checkpointConfigDefault: CheckpointConfig = {
  checkpointsKept: 3,
  checkpointMaxBytes: 1024 * 1024 * 1024,
};

export interface ObjectStoreConfig {
  /** Bytes of object data and attributes held at most; a transaction that would exceed it fails with `no_space`. */
  readonly storeMaxBytes: number;
  /** Operations in one transaction at most. */
  readonly transactionMaxOps: number;
  /** A checkpoint is taken once the log since the last one holds this many bytes. 0 disables automatic checkpoints. */
  readonly checkpointEveryLogBytes: number;
  /**
   * Object data is held in pages of this size, copied on write page by page (a write copies only
   * the pages it touches), and checkpoints write only the pages changed since the last one. 64 KiB:
   * the chunk store's checksum block (patent ¶123), and 1/64 of a 4 MiB RADOS object.
   */
  readonly pageBytes: number;
  /**
   * A checkpoint rewrites the live pages of a data segment whose live bytes fell below this
   * fraction of its size, so the segment can be removed: the data segments on disk stay under
   * 1 / fraction times the live data (plus what the older kept checkpoints still reference).
   */
  readonly segmentCompactBelowLiveFraction: number;
}

export const objectStoreConfigDefault: ObjectStoreConfig = {
  storeMaxBytes: 1024 * 1024 * 1024,
  transactionMaxOps: 1024,
  checkpointEveryLogBytes: 64 * 1024 * 1024,
  pageBytes: 64 * 1024,
  segmentCompactBelowLiveFraction: 0.5,
};

export function withDefaults<T extends object>(defaults: T, overrides: Partial<T> | undefined): T {
  return { ...defaults, ...overrides };
}
