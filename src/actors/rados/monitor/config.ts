/**
 * Monitor configuration (DESIGN.md §6). Every value carries its unit; defaults follow the thesis
 * (§6.2.4: T = 2 s for probes and leases) where it gives one, and Ceph's monitor defaults
 * otherwise.
 */
export interface MonitorConfig {
  /**
   * Lease term T: how long a lease lets a monitor serve reads after the leader sent it (thesis
   * §6.2.4: "currently two seconds"). Also the time candidates wait for votes.
   */
  readonly leaseMs: number;
  /** The leader renews leases this often while no update is in flight. */
  readonly leaseRenewIntervalMs: number;
  /** A lease (or a collect, begin) not acknowledged by every quorum member within this calls a new election (§6.2.4). */
  readonly leaseAckTimeoutMs: number;
  /**
   * Clocks of any two monitors differ by less than this. A monitor stops serving this long before
   * its lease ends; a new leader waits twice this beyond the longest lease a predecessor could have
   * granted before it commits anything (invariant P6).
   */
  readonly clockSkewMaxMs: number;
  /** How long a candidate gathers votes (thesis: T); then it wins with a majority or starts over. */
  readonly electionTimeoutMs: number;
  /** Added per rank to a monitor's election timeout, so the lowest reachable rank calls the next election first and wins it. */
  readonly electionRankStaggerMs: number;
  /** A collect or a begin not answered by the whole quorum within this calls a new election. */
  readonly proposalTimeoutMs: number;
  /** How often the actor's timer drives the core (deadlines are checked on each tick). */
  readonly tickIntervalMs: number;
  /** Commands queued at the leader before new ones get `busy`. */
  readonly pendingCommandsMax: number;
  /**
   * After a commit, the leader waits this long before it proposes again, so the clients it just
   * answered can submit their next commands into the same proposal (Ceph's paxos_propose_interval,
   * there 1 s). Default 0: propose at once. On the `map-commit` bench even 1 ms halved the rate (the
   * timer fires late on a busy thread, and answered clients did not come back within it).
   */
  readonly proposalBatchDelayMs: number;
  /** Commands folded into one proposal at most (with a service that composes incrementals). */
  readonly proposalCommandsMax: number;
  /**
   * Committed incrementals kept (in memory, on disk, and for catching up peers); older ones are
   * folded into a full snapshot (Ceph's paxos_max_join_drift / mon_min_osdmap_epochs: 500). A peer
   * further behind gets the snapshot.
   */
  readonly historyVersionsMax: number;
  /** Fold the history only when it exceeds the maximum by this many versions (amortizes the fold). */
  readonly historyTrimSlackVersions: number;
  /**
   * Request ids of committed commands remembered for deduplication (README P10), the newest ones:
   * kept with the committed state (checkpoints, snapshots), independent of the history above, so
   * a retry is recognised as long as this many newer commands have not committed since.
   */
  readonly requestIdsMax: number;
  /** Write a checkpoint of the durable state (and drop older log segments) after this many commits. */
  readonly checkpointEveryVersions: number;
  /** Subscribers a monitor pushes versions to at most. */
  readonly subscribersMax: number;
  /** A subscription lapses unless renewed within this (Ceph's subscriptions are renewed too). */
  readonly subscriptionTtlMs: number;
  /** Versions carried by one push or catch-up message at most (the rest follow, or a snapshot replaces them). */
  readonly shareVersionsMax: number;
}

export const defaultMonitorConfig: MonitorConfig = {
  leaseMs: 2_000,
  leaseRenewIntervalMs: 1_000,
  leaseAckTimeoutMs: 1_000,
  clockSkewMaxMs: 500,
  electionTimeoutMs: 2_000,
  electionRankStaggerMs: 200,
  proposalTimeoutMs: 2_000,
  tickIntervalMs: 100,
  pendingCommandsMax: 10_000,
  proposalBatchDelayMs: 0,
  proposalCommandsMax: 1_000,
  historyVersionsMax: 500,
  historyTrimSlackVersions: 50,
  requestIdsMax: 100_000,
  checkpointEveryVersions: 500,
  subscribersMax: 1_000,
  subscriptionTtlMs: 30_000,
  shareVersionsMax: 500,
};

/**
 * How long a new leader waits after its victory before it commits anything (invariant P6): the
 * longest a lease granted by a previous leader can still be in force. The previous leader granted
 * its last lease at most one renew interval plus one ack timeout after a member of the new quorum
 * stopped acknowledging it, and that lease runs for `leaseMs`; clocks differ by at most
 * `clockSkewMaxMs` each way.
 */
export function commitWaitAfterVictoryMs(c: MonitorConfig): number {
  return c.leaseRenewIntervalMs + c.leaseAckTimeoutMs + c.leaseMs + 2 * c.clockSkewMaxMs;
}
