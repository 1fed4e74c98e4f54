/**
 * GFS configuration with the paper's defaults (DESIGN.md §5). Every value carries its unit and
 * the source it comes from.
 */
export interface GfsConfig {
  /** Chunk size: 64 MiB (patent ¶37; slides 13). */
  readonly chunkSizeBytes: number;
  /** Replicas per chunk unless a directory says otherwise: 3 (patent ¶66). */
  readonly replicationDefault: number;
  /** Initial lease: 60 s (patent ¶90). */
  readonly leaseDurationMs: number;
  /**
   * Margin the master adds before it treats a lease as expired, covering clock skew between the
   * master and chunkservers (a chunkserver stops acting as primary at its own expiry time).
   */
  readonly leaseSkewMarginMs: number;
  /** Hidden (deleted) files are reclaimed after 3 days (patent ¶73; slides). */
  readonly deletedRetentionMs: number;
  /** Heartbeat period of chunkservers. */
  readonly heartbeatIntervalMs: number;
  /** A chunkserver not heard from for this long is considered dead; its replicas are missing. */
  readonly chunkserverTimeoutMs: number;
  /** Namespace scan (GC, orphan chunks) period (patent ¶73–74). */
  readonly gcScanIntervalMs: number;
  /** Re-replication and rebalancing pass period (patent ¶66–71). */
  readonly replicationScanIntervalMs: number;
  /** Concurrent clones, in total and per chunkserver (patent ¶69). */
  readonly clonesInFlightMax: number;
  readonly clonesPerServerMax: number;
  /** Per-clone bandwidth cap a chunkserver applies (patent ¶69). */
  readonly cloneBandwidthBytesPerSecMax: number;
  /** A "recent" creation, for spreading new chunks (patent ¶62). */
  readonly recentCreationWindowMs: number;
  /** Creations per chunkserver within the window before it is avoided (patent ¶62). */
  readonly recentCreationsPerServerMax: number;
  /** Rebalance when a server's utilization exceeds the average by this fraction (patent ¶70–71). */
  readonly rebalanceThreshold: number;
  /** Moves started per rebalancing pass. */
  readonly rebalanceMovesPerPassMax: number;
  /** How often a shadow master asks each chunkserver for a full chunk report (¶121: it polls for locations). */
  readonly shadowReportIntervalMs: number;
  /** Checkpoint once the log holds this many records past the last checkpoint (¶49: keep the log small). */
  readonly checkpointEveryRecords: number;
  /** How often the master checks whether a checkpoint is due. */
  readonly checkpointCheckIntervalMs: number;
  /** Timeout of the master's requests to chunkservers and replicas. */
  readonly rpcTimeoutMs: number;
  /** Diagnostic RPC log entries kept in memory (patent ¶129–131). */
  readonly rpcLogEntriesMax: number;
  /**
   * `per-path` (the patent's scheme, ¶53–59) or `global`: one lock around the whole namespace for
   * every mutation. `global` exists only as the baseline of the `create-same-dir` benchmark.
   */
  readonly namespaceLocking: 'per-path' | 'global';
  /** Longest accepted path, bytes. */
  readonly pathLengthMax: number;

  // ----- chunkservers (patent ¶89–109, ¶122–128) -----
  /**
   * Bytes of pushed data a chunkserver holds at most, over all pushes not yet used by a mutation
   * (¶94: pushed data waits "in an internal buffer ... until the data is used or aged out"). A push
   * that would exceed it is refused with `busy`; nothing still in use is evicted.
   */
  readonly pushBufferBytesMax: number;
  /** Pushes held at most (bounds the bookkeeping for many tiny pushes). */
  readonly pushBufferEntriesMax: number;
  /** A push not used by a mutation within this long is dropped (¶94: "aged out"). */
  readonly pushBufferTtlMs: number;
  /** Largest slice of one `pushData` message; the unit of pipelining (¶97). 1 MiB. */
  readonly sliceBytesMax: number;
  /** A chunkserver sends a full chunk report every this many heartbeats (and whenever a master asks, ¶45). */
  readonly fullReportEveryHeartbeats: number;
  /**
   * How long a secondary holds an out-of-order mutation waiting for the ones before it (¶99) before
   * failing it. Must stay well below `rpcTimeoutMs / 2` (the primary's wait for its secondaries),
   * so the failure reaches the primary, and through it the client, before they give up.
   */
  readonly mutationOrderTimeoutMs: number;
  /** Out-of-order mutations held per chunk at most; more are refused with `busy`. */
  readonly mutationOrderHeldMax: number;
  /**
   * A primary stops acting as primary this long before the lease expiry the master gave it (on the
   * master's clock). With the master's own `leaseSkewMarginMs`, clocks may disagree by the sum of
   * the two before two primaries could overlap (invariant M6).
   */
  readonly primaryLeaseMarginMs: number;
  /** Background verification of idle chunks reads at most this many bytes per second (¶128). */
  readonly scrubBandwidthBytesPerSecMax: number;
  /** A chunk counts as idle for the scrubber after this long without reads or writes (¶128). */
  readonly scrubIdleAfterMs: number;
  /** The scrubber's pause after a full pass over the idle chunks, or when none is idle. */
  readonly scrubRestMs: number;
  /**
   * The chunkserver's write-ahead journal (storage README, "Chunk journal"): a mutation is durable
   * once its record is in the journal, and one fsync per round covers every chunk's mutations of
   * that round (C10). A journal file is closed at this size and the chunk files are checkpointed;
   * 0 (the default) turns the journal off (each chunk's data and checksum files are fsynced per
   * sync round); 64 MiB is the size it was measured with.
   */
  readonly chunkJournalSegmentBytes: number;
  /** Journal files on disk at most, per chunkserver; past it mutations wait for a checkpoint. */
  readonly chunkJournalBytesMax: number;
}

export const defaultGfsConfig: GfsConfig = {
  chunkSizeBytes: 64 * 1024 * 1024,
  replicationDefault: 3,
  leaseDurationMs: 60_000,
  leaseSkewMarginMs: 1_000,
  deletedRetentionMs: 3 * 24 * 3600 * 1000,
  heartbeatIntervalMs: 1_000,
  chunkserverTimeoutMs: 10_000,
  gcScanIntervalMs: 60_000,
  replicationScanIntervalMs: 2_000,
  clonesInFlightMax: 8,
  clonesPerServerMax: 2,
  cloneBandwidthBytesPerSecMax: 50 * 1024 * 1024,
  recentCreationWindowMs: 60_000,
  recentCreationsPerServerMax: 8,
  rebalanceThreshold: 0.1,
  rebalanceMovesPerPassMax: 2,
  shadowReportIntervalMs: 10_000,
  checkpointEveryRecords: 10_000,
  checkpointCheckIntervalMs: 5_000,
  rpcTimeoutMs: 5_000,
  rpcLogEntriesMax: 10_000,
  namespaceLocking: 'per-path',
  pathLengthMax: 4096,
  pushBufferBytesMax: 256 * 1024 * 1024,
  pushBufferEntriesMax: 4096,
  pushBufferTtlMs: 60_000,
  sliceBytesMax: 1024 * 1024,
  fullReportEveryHeartbeats: 60,
  mutationOrderTimeoutMs: 1_000,
  mutationOrderHeldMax: 256,
  primaryLeaseMarginMs: 1_000,
  scrubBandwidthBytesPerSecMax: 16 * 1024 * 1024,
  scrubIdleAfterMs: 60_000,
  scrubRestMs: 10_000,
  // Off by default until it is faster through the cluster (GFS README, Data path performance).
  chunkJournalSegmentBytes: 0,
  chunkJournalBytesMax: 192 * 1024 * 1024,
};
