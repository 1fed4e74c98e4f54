/**
 * Ensemble settings. Defaults follow ZooKeeper 3.8's (zoo.cfg and its admin guide) where one
 * exists; the fault suite shortens the tick so a run covers many elections in little virtual time.
 */
export interface ZabConfig {
  /** One tick: the unit of the other limits, and the period of leader pings and election resends (ZooKeeper `tickTime`, 2000 ms). */
  readonly tickMs: number;
  /** Ticks a follower may take to connect to a new leader and finish synchronizing (ZooKeeper `initLimit`, 10). */
  readonly initLimitTicks: number;
  /** Ticks without a message before a follower drops its leader, or a leader without a quorum steps down (ZooKeeper `syncLimit`, 5). */
  readonly syncLimitTicks: number;
  /** Committed transactions kept in memory after the last applied one, for DIFF synchronization (ZooKeeper `commitLogCount`, 500). */
  readonly committedLogMax: number;
  /** Proposals in flight at the leader (proposed, not committed); requests beyond it are refused with `queue_full` (ZooKeeper `globalOutstandingLimit`, 1000). */
  readonly outstandingProposalsMax: number;
  /** Client requests a server holds at once (waiting for commit, for a sync, or behind a session's earlier request). */
  readonly pendingRequestsMax: number;
  /** How long a server waits for a request's commit (or a sync) before answering `connection_loss`. */
  readonly requestTimeoutMs: number;
  /** Transactions applied between snapshots; each snapshot rolls the log to a new file (ZooKeeper `snapCount`, 100000). */
  readonly snapshotEveryTxns: number;
  /** Snapshots kept on disk, with the log files needed after the oldest (ZooKeeper `autopurge.snapRetainCount`, 3). */
  readonly snapshotsRetained: number;
  /** Records per group-commit batch, and its bytes: one write and one fsync for all (ZooKeeper's SyncRequestProcessor flushes up to 1000). */
  readonly groupCommitMaxRecords: number;
  readonly groupCommitMaxBytes: number;
  /** Largest transaction record accepted in the log (ZooKeeper `jute.maxbuffer`, 1 MiB, plus header room). */
  readonly txnMaxBytes: number;
  /** Largest snapshot read back at recovery. */
  readonly snapshotMaxBytes: number;
  /** Sessions whose last ordered request is remembered (the FIFO guard of Z8); the oldest is forgotten beyond it. */
  readonly sessionsTrackedMax: number;
}

export const zabConfigDefault: ZabConfig = {
  tickMs: 2_000,
  initLimitTicks: 10,
  syncLimitTicks: 5,
  committedLogMax: 500,
  outstandingProposalsMax: 1_000,
  pendingRequestsMax: 10_000,
  requestTimeoutMs: 30_000,
  snapshotEveryTxns: 100_000,
  snapshotsRetained: 3,
  groupCommitMaxRecords: 1_000,
  groupCommitMaxBytes: 4 * 1024 * 1024,
  txnMaxBytes: 1024 * 1024 + 64 * 1024,
  snapshotMaxBytes: 1024 * 1024 * 1024,
  sessionsTrackedMax: 100_000,
};

export function zabConfig(overrides: Partial<ZabConfig> = {}): ZabConfig {
  const c = { ...zabConfigDefault, ...overrides };
  for (const [k, v] of Object.entries(c)) {
    if (!(typeof v === 'number' && Number.isFinite(v) && v > 0)) throw new RangeError(`ZabConfig.${k} must be a positive number, got ${String(v)}`);
  }
  return c;
}
