/**
 * RADOS OSD-map and OSD-monitor configuration with the sources' defaults (thesis ch. 6; digest
 * §3.3–3.6; where the thesis is silent, Ceph's option of the same purpose is named). Every value
 * carries its unit.
 */
export interface OsdMapConfig {
  /**
   * A down OSD that stays down this long is marked out, so its PGs are remapped and re-replicated
   * (Ceph's `mon_osd_down_out_interval`, 600 s; the thesis has no automatic timer, §6.4.2: its
   * experiment marked OSDs out by hand 20 s after down). The simulator uses seconds.
   */
  readonly downOutIntervalMs: number;
  /** Distinct reporters needed before a failed OSD is marked down (Ceph's `mon_osd_min_down_reporters`, 2). */
  readonly failureReportersMin: number;
  /**
   * A failure report counts for this long; older reports are forgotten, so reporters must agree
   * within the window (Ceph's `osd_heartbeat_grace`, 20 s).
   */
  readonly failureReportWindowMs: number;
  /** Failure reports the leader tracks at most (targets × reporters); more are refused until some expire. */
  readonly failureReportsTrackedMax: number;
  /** An OSD sends at most one failure report message per this interval (thesis §6.2.4: reports are throttled). */
  readonly failureReportIntervalMs: number;
  /** Targets in one batched failure report message, at most. */
  readonly failureReportTargetsMax: number;
  /** Failed peers an OSD keeps queued for reporting, at most (the oldest are kept). */
  readonly failureReportQueueMax: number;
  /** A new OSD is marked in at its first boot (Ceph's `mon_osd_auto_mark_new_in`, true). */
  readonly autoMarkNewInOnBoot: boolean;
  /** Largest pg_num (and pgp_num) a pool may have. */
  readonly pgNumMax: number;
  /** Incrementals bundled into one reply at most; a peer further behind gets the full map (thesis §6.2.5). */
  readonly incrementalsPerMessageMax: number;
  /**
   * A booting OSD shares at least this much recent history with its PG peers, since it does not
   * know their epochs (thesis §6.2.5: "at least 30 seconds").
   */
  readonly bootShareHistoryMs: number;
  /** Peers whose epochs an OSD tracks for lazy map sharing, at most. */
  readonly peerEpochsTrackedMax: number;
  /** Replicas per PG of a pool created without `size` (Ceph's `osd_pool_default_size`, 3). */
  readonly poolSizeDefault: number;
  /** Default min_size: size − ⌊size/2⌋ (Ceph's rule); this is its lower bound. */
  readonly poolMinSizeMin: number;
}

export const DEFAULT_OSDMAP_CONFIG: OsdMapConfig = {
  downOutIntervalMs: 600_000,
  failureReportersMin: 2,
  failureReportWindowMs: 20_000,
  failureReportsTrackedMax: 65_536,
  failureReportIntervalMs: 1_000,
  failureReportTargetsMax: 64,
  failureReportQueueMax: 1_024,
  autoMarkNewInOnBoot: true,
  pgNumMax: 65_536,
  incrementalsPerMessageMax: 100,
  bootShareHistoryMs: 30_000,
  peerEpochsTrackedMax: 4_096,
  poolSizeDefault: 3,
  poolMinSizeMin: 1,
};

/** The defaults with some values replaced. */
export function osdMapConfig(overrides: Partial<OsdMapConfig> = {}): OsdMapConfig {
  return { ...DEFAULT_OSDMAP_CONFIG, ...overrides };
}

/**
 * The object data path: OSD limits and timers, with Ceph's option of the same purpose named where
 * the thesis is silent.
 */
export interface DataPathConfig {
  /** Longest object name (Ceph `osd_max_object_name_len`, 2,048). */
  readonly objectNameBytesMax: number;
  /** Longest xattr name (Ceph's on-disk backends: 255). */
  readonly xattrNameBytesMax: number;
  /** Largest xattr value (Ceph `osd_max_attr_size` is unbounded; 64 KiB here). */
  readonly xattrValueBytesMax: number;
  /** Largest object (Ceph `osd_max_object_size`, 128 MiB; 1 GiB here so a 256 MiB object fits). */
  readonly objectSizeBytesMax: number;
  /** Largest data in one op (Ceph `osd_max_write_size`, 90 MB; 8 MiB here: one op is one store transaction). */
  readonly opDataBytesMax: number;
  /** Ops in one compound operation at most. */
  readonly compoundOpsMax: number;
  /** PG log entries kept beyond those not yet durable everywhere (Ceph `osd_min_pg_log_entries`, 250). */
  readonly pgLogEntriesMax: number;
  /** Updates of one PG in flight at once at its first OSD; more wait in the PG's queue. */
  readonly pgInflightMax: number;
  /** Ops waiting for one PG (inactive, or behind an in-flight update of their object); more get `busy`. */
  readonly pgQueueMax: number;
  /**
   * Read lease H (thesis §6.3.3): the read-serving OSD serves reads only while it has heard from
   * every other member of the acting set within H. Must stay below the heartbeat grace, so a deposed
   * OSD stops serving before a new interval can take writes.
   */
  readonly readLeaseMs: number;
  /** How long the primary waits for the answers while peering or activating a PG before it starts over. */
  readonly activateTimeoutMs: number;
  /**
   * Pipelined replication (README D12): an update with more write data than this is sent to replicas
   * as pieces of this size ahead of its header, which chain OSDs pass on as they arrive. 0 = off
   * (whole updates, store-and-forward): on real worker threads each piece is one more message and
   * each replica joins the pieces with one more copy, and the 1-replica-per-thread write path is CPU-bound.
   */
  readonly repSliceBytes: number;
  /** Pieces an OSD buffers waiting for their headers, at most (oldest dropped first; their headers are then refused). */
  readonly repPiecesBufferedBytesMax: number;
  /** Recovery operations (a pull, a push of one object, a backfill batch) one OSD runs at once across its PGs (Ceph `osd_recovery_max_active`, 3). */
  readonly recoveryOpsMax: number;
  /** Recovery operations waiting for a slot per PG; beyond it, objects wait for the next pass over the missing lists. */
  readonly recoveryQueueMax: number;
  /** A recovery operation without an answer within this is abandoned and the PG peers again. */
  readonly recoveryTimeoutMs: number;
  /** Objects per backfill batch (Ceph `osd_backfill_scan_min`, 64; fewer here so a batch is one modest transaction). */
  readonly backfillBatchObjectsMax: number;
  /** Past intervals kept per PG (older ones go once the PG started after them; beyond this, the oldest). */
  readonly pastIntervalsMax: number;
}

export const DEFAULT_DATA_PATH_CONFIG: DataPathConfig = {
  objectNameBytesMax: 2_048,
  xattrNameBytesMax: 255,
  xattrValueBytesMax: 64 * 1024,
  objectSizeBytesMax: 1024 * 1024 * 1024,
  opDataBytesMax: 8 * 1024 * 1024,
  compoundOpsMax: 64,
  pgLogEntriesMax: 250,
  pgInflightMax: 64,
  pgQueueMax: 1_024,
  readLeaseMs: 10_000,
  activateTimeoutMs: 3_000,
  repSliceBytes: 0,
  repPiecesBufferedBytesMax: 256 * 1024 * 1024,
  recoveryOpsMax: 3,
  recoveryQueueMax: 4_096,
  recoveryTimeoutMs: 10_000,
  backfillBatchObjectsMax: 16,
  pastIntervalsMax: 256,
};

/**
 * PG statistics (README "PG statistics"): OSDs report the PGs they are primary of to the monitors,
 * which keep the latest report per PG as soft state (Ceph's MPGStats, kept by its manager).
 */
export interface PgStatsConfig {
  /** An OSD reports at least this often (Ceph `osd_mon_report_interval`, 5 s). */
  readonly reportIntervalMs: number;
  /** A state change is reported at once, but no sooner than this after the previous report. */
  readonly reportMinIntervalMs: number;
  /** A PG whose primary has not reported for this long is shown `stale` (Ceph `mon_osd_report_timeout` is 900 s; the PG goes stale after a few missed reports). */
  readonly staleAfterMs: number;
  /** A report older than this is dropped: the map-derived state is shown again. */
  readonly expireAfterMs: number;
  /** PGs a monitor keeps reports for at most. */
  readonly trackedMax: number;
  /** A PG in a state without `clean` for longer than this is `stuck` in `health detail` (Ceph `mon_pg_stuck_threshold`, 60 s). */
  readonly stuckThresholdMs: number;
}

export const DEFAULT_PG_STATS_CONFIG: PgStatsConfig = {
  reportIntervalMs: 5_000,
  reportMinIntervalMs: 500,
  staleAfterMs: 30_000,
  expireAfterMs: 600_000,
  trackedMax: 65_536,
  stuckThresholdMs: 60_000,
};

/** Scrubbing (README "Scrubbing"; post-thesis, Ceph's `osd_scrub_*` options). */
export interface ScrubConfig {
  /** Light scrub of each PG at least this often (Ceph `osd_scrub_min_interval`, 1 day); 0 = never on a schedule. */
  readonly scrubIntervalMs: number;
  /** Deep scrub of each PG at least this often (Ceph `osd_deep_scrub_interval`, 1 week); 0 = never on a schedule. */
  readonly deepScrubIntervalMs: number;
  /** Scrubs this OSD runs as primary at once (Ceph `osd_max_scrubs`, 1). */
  readonly concurrentMax: number;
  /** Objects per chunk: writes to a chunk's names wait while it is compared (Ceph `osd_scrub_chunk_max`, 25). */
  readonly chunkObjectsMax: number;
  /** Bytes a member reads for one deep chunk at most (the chunk ends early past it). */
  readonly chunkBytesMax: number;
  /** A chunk not finished within this is abandoned, its writes released, and the scrub tried again later. */
  readonly chunkTimeoutMs: number;
  /** After an abandoned scrub, the PG waits this long before the next try. */
  readonly retryAfterMs: number;
  /** Repair inconsistencies as soon as a scrub finds them (Ceph `osd_scrub_auto_repair`, false). */
  readonly autoRepair: boolean;
  /** Inconsistent objects remembered per PG for `pg query` and repair. */
  readonly inconsistentKeptMax: number;
  /** Scrub map requests a member holds while it catches up with the primary's version. */
  readonly pendingRequestsMax: number;
  /** On-demand scrubs queued per OSD. */
  readonly queuedMax: number;
}

export const DEFAULT_SCRUB_CONFIG: ScrubConfig = {
  scrubIntervalMs: 24 * 3600_000,
  deepScrubIntervalMs: 7 * 24 * 3600_000,
  concurrentMax: 1,
  chunkObjectsMax: 25,
  chunkBytesMax: 32 * 1024 * 1024,
  chunkTimeoutMs: 10_000,
  retryAfterMs: 30_000,
  autoRepair: false,
  inconsistentKeptMax: 1_000,
  pendingRequestsMax: 256,
  queuedMax: 1_024,
};
