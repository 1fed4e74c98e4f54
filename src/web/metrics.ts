import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CephSnapshot } from './ceph-watch.js';
import { LATENCY_BUCKETS_MS } from '../actors/rados/osd/data-path.js';
import { MNTR_GAUGES, type CoordSnapshot } from './coord-watch.js';
import type { ChunkserverStats, ClusterStatus } from '../actors/gfs/protocol.js';
import type { ActorSystem } from '../runtime/system.js';
import type { WorkerInspection } from '../runtime/node/worker-protocol.js';

/** Seconds; master requests run in microseconds to a few seconds (a lease grant waits on the replica). */
const REQUEST_BUCKETS_SECONDS = [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** Request types are a closed set (MasterMsg); anything else is folded into one label value so label cardinality stays bounded. */
const REQUEST_TYPE_PATTERN = /^gfs\.master\.[A-Za-z]+$/;
const OUTCOME_PATTERN = /^[a-z_]{1,40}$/;

export interface MailboxSample {
  /** Actor name, e.g. `master`. */
  readonly actor: string;
  readonly role: string;
  readonly depth: number;
  readonly capacity: number;
}

/**
 * The cluster's Prometheus metrics (src/web/README.md lists them with units), in a registry of its
 * own so that two clusters in one process (tests) do not share series.
 *
 * Fed from three places: the master's `onRequest` hook (per-request counters and latencies), the
 * dashboard's status poll (`observeStatus`, `observeMailboxes`, `observeWorkers`), and the main
 * thread's runtime events (`attachRuntime`).
 */
export class ClusterMetrics {
  readonly registry = new Registry();

  private readonly requests = new Counter({ name: 'troupe_gfs_master_requests_total', help: 'Master requests completed, by master role, request type and outcome (ok or error code)', labelNames: ['role', 'type', 'outcome'], registers: [this.registry] });
  private readonly requestSeconds = new Histogram({ name: 'troupe_gfs_master_request_duration_seconds', help: 'Master request latency on the master clock, by role and request type', labelNames: ['role', 'type'], buckets: REQUEST_BUCKETS_SECONDS, registers: [this.registry] });

  private readonly chunkservers = new Gauge({ name: 'troupe_gfs_chunkservers', help: 'Chunkservers known to the master, by state (up, down)', labelNames: ['state'], registers: [this.registry] });
  private readonly files = new Gauge({ name: 'troupe_gfs_files', help: 'Files in the namespace (including hidden deleted ones)', registers: [this.registry] });
  private readonly directories = new Gauge({ name: 'troupe_gfs_directories', help: 'Directories in the namespace', registers: [this.registry] });
  private readonly chunks = new Gauge({ name: 'troupe_gfs_chunks', help: 'Chunks the master knows', registers: [this.registry] });
  private readonly underReplicated = new Gauge({ name: 'troupe_gfs_chunks_under_replicated', help: 'Chunks with fewer live replicas than their goal (the re-replication backlog)', registers: [this.registry] });
  private readonly missing = new Gauge({ name: 'troupe_gfs_chunks_missing', help: 'Chunks with no live replica', registers: [this.registry] });
  private readonly leases = new Gauge({ name: 'troupe_gfs_leases', help: 'Chunk leases the master has granted and not yet seen expire', registers: [this.registry] });
  private readonly clones = new Gauge({ name: 'troupe_gfs_clones_in_flight', help: 'Re-replication clones the master has started and not yet seen finish (the re-replication queue in progress)', registers: [this.registry] });
  private readonly lsn = new Gauge({ name: 'troupe_gfs_master_lsn', help: 'Last operation-log sequence number of the primary master', registers: [this.registry] });
  private readonly serverUp = new Gauge({ name: 'troupe_gfs_chunkserver_up', help: '1 if the master considers the chunkserver alive, else 0', labelNames: ['server', 'rack'], registers: [this.registry] });
  private readonly serverUsed = new Gauge({ name: 'troupe_gfs_chunkserver_used_bytes', help: 'Disk bytes used by chunks, as last reported in a heartbeat', labelNames: ['server', 'rack'], registers: [this.registry] });
  private readonly serverCapacity = new Gauge({ name: 'troupe_gfs_chunkserver_capacity_bytes', help: 'Disk capacity, as last reported in a heartbeat', labelNames: ['server', 'rack'], registers: [this.registry] });
  private readonly serverChunks = new Gauge({ name: 'troupe_gfs_chunkserver_chunks', help: 'Chunk replicas on the server, as the master knows them', labelNames: ['server', 'rack'], registers: [this.registry] });
  private readonly serverLeases = new Gauge({ name: 'troupe_gfs_chunkserver_leases', help: 'Leases the server holds as primary', labelNames: ['server', 'rack'], registers: [this.registry] });
  private readonly serverReads = new Counter({ name: 'troupe_gfs_chunkserver_reads_total', help: 'Reads a chunkserver served (clients and clone sources)', labelNames: ['server', 'rack'], registers: [this.registry] });
  private readonly serverReadBytes = new Counter({ name: 'troupe_gfs_chunkserver_read_bytes_total', help: 'Bytes a chunkserver served by reads', labelNames: ['server', 'rack'], registers: [this.registry] });
  private readonly serverMutations = new Counter({ name: 'troupe_gfs_chunkserver_mutations_total', help: 'Mutations (writes, appends, pads) a chunkserver applied, as primary or secondary', labelNames: ['server', 'rack'], registers: [this.registry] });
  private readonly serverWrittenBytes = new Counter({ name: 'troupe_gfs_chunkserver_written_bytes_total', help: 'Bytes a chunkserver wrote by mutations', labelNames: ['server', 'rack'], registers: [this.registry] });
  private readonly serverPushedBytes = new Counter({ name: 'troupe_gfs_chunkserver_pushed_bytes_total', help: 'Bytes a chunkserver received by data pushes', labelNames: ['server', 'rack'], registers: [this.registry] });
  private readonly serverClonedBytes = new Counter({ name: 'troupe_gfs_chunkserver_cloned_bytes_total', help: 'Bytes a chunkserver copied in by re-replication clones', labelNames: ['server', 'rack'], registers: [this.registry] });
  /** Last counter values seen per server, to turn the chunkservers' running totals into increments. */
  private readonly lastStats = new Map<string, ChunkserverStats>();
  private readonly statusPolls = new Counter({ name: 'troupe_dashboard_status_polls_total', help: 'Status polls of the master by the dashboard, by outcome (ok, error)', labelNames: ['outcome'], registers: [this.registry] });

  private readonly cephEpoch = new Gauge({ name: 'troupe_ceph_osdmap_epoch', help: 'Epoch of the committed OSD map', registers: [this.registry] });
  private readonly cephOsds = new Gauge({ name: 'troupe_ceph_osds', help: 'OSDs in the map, by state (up, down, in, out)', labelNames: ['state'], registers: [this.registry] });
  private readonly cephQuorum = new Gauge({ name: 'troupe_ceph_mon_quorum_size', help: 'Monitors in the quorum (0: none)', registers: [this.registry] });
  private readonly cephMonCommitted = new Gauge({ name: 'troupe_ceph_mon_last_committed', help: 'Last committed map version at each monitor that answered', labelNames: ['mon'], registers: [this.registry] });
  private readonly cephPgs = new Gauge({ name: 'troupe_ceph_pgs', help: 'PGs by state (as their primaries report them; from the map for PGs not reported yet)', labelNames: ['state'], registers: [this.registry] });
  private readonly cephPools = new Gauge({ name: 'troupe_ceph_pools', help: 'Pools in the map', registers: [this.registry] });
  private readonly osdOps = new Gauge({ name: 'troupe_ceph_osd_ops_total', help: 'Client ops an OSD served (running total), by kind (read, write)', labelNames: ['osd', 'kind'], registers: [this.registry] });
  private readonly osdBytes = new Gauge({ name: 'troupe_ceph_osd_bytes_total', help: 'Client bytes an OSD served (running total), by kind (read, write)', labelNames: ['osd', 'kind'], registers: [this.registry] });
  private readonly osdLatency = new Gauge({ name: 'troupe_ceph_osd_latency_ms_bucket', help: 'Acks and commits an OSD sent with latency at most le ms (cumulative, from the first OSD taking the op), by stage (ack, commit)', labelNames: ['osd', 'stage', 'le'], registers: [this.registry] });
  private readonly osdUsed = new Gauge({ name: 'troupe_ceph_osd_used_bytes', help: 'Bytes of object data and attributes in an OSD store', labelNames: ['osd'], registers: [this.registry] });
  private readonly osdPgs = new Gauge({ name: 'troupe_ceph_osd_pgs', help: 'PGs an OSD holds, by state (active, inactive)', labelNames: ['osd', 'state'], registers: [this.registry] });
  private readonly pgObjects = new Gauge({ name: 'troupe_ceph_pg_objects', help: 'Objects recovery has left, from the primaries\' PG reports, by kind (degraded copies, missing, misplaced)', labelNames: ['kind'], registers: [this.registry] });
  private readonly recoveryBytes = new Gauge({ name: 'troupe_ceph_recovery_bytes_remaining', help: 'Bytes of the objects recovery has left (estimated from each PG\'s average object size)', registers: [this.registry] });
  private readonly recoveryRate = new Gauge({ name: 'troupe_ceph_recovery_objects_per_second', help: 'Objects recovered per second over the last 10 s of polls', registers: [this.registry] });
  private readonly pgsInconsistent = new Gauge({ name: 'troupe_ceph_pgs_inconsistent', help: 'PGs whose last scrub found inconsistent objects', registers: [this.registry] });
  private readonly scrubs = new Gauge({ name: 'troupe_ceph_osd_scrubs_total', help: 'Scrubs an OSD completed as primary (running total), by depth (light, deep)', labelNames: ['osd', 'depth'], registers: [this.registry] });
  private readonly scrubErrors = new Gauge({ name: 'troupe_ceph_osd_scrub_errors_total', help: 'Bad copies an OSD\'s scrubs found (running total, one per member and object)', labelNames: ['osd'], registers: [this.registry] });
  private readonly scrubRepaired = new Gauge({ name: 'troupe_ceph_osd_scrub_repaired_objects_total', help: 'Objects an OSD\'s scrubs repaired (running total)', labelNames: ['osd'], registers: [this.registry] });
  private readonly scrubAborted = new Gauge({ name: 'troupe_ceph_osd_scrubs_aborted_total', help: 'Scrubs an OSD abandoned (interval change, timeout; running total)', labelNames: ['osd'], registers: [this.registry] });
  private readonly poolObjects = new Gauge({ name: 'troupe_ceph_pool_objects', help: 'Objects in a pool (counted at each PG\'s first OSD)', labelNames: ['pool'], registers: [this.registry] });
  private readonly poolBytes = new Gauge({ name: 'troupe_ceph_pool_bytes', help: 'Logical bytes in a pool, one copy (counted at each PG\'s first OSD)', labelNames: ['pool'], registers: [this.registry] });
  private readonly zkGauges = new Map(Object.entries(MNTR_GAUGES).map(([key, help]) => [key, new Gauge({ name: `troupe_zk_${key}`, help, labelNames: ['server'], registers: [this.registry] })]));
  private readonly zkUp = new Gauge({ name: 'troupe_zk_server_up', help: '1 if the coordination server answered the last status poll (mntr), else 0', labelNames: ['server'], registers: [this.registry] });
  private readonly zkRole = new Gauge({ name: 'troupe_zk_server_role', help: '1 for the role the coordination server reported (leader, follower, observer, standalone)', labelNames: ['server', 'role'], registers: [this.registry] });
  private readonly zkLag = new Gauge({ name: 'troupe_zk_follower_lag_zxids', help: "Transactions a follower is behind the leader's last zxid", labelNames: ['server'], registers: [this.registry] });
  private readonly mailboxDepth = new Gauge({ name: 'troupe_actor_mailbox_depth', help: 'User messages queued in the mailbox of a main-thread actor', labelNames: ['actor', 'role'], registers: [this.registry] });
  private readonly mailboxCapacity = new Gauge({ name: 'troupe_actor_mailbox_capacity', help: 'Mailbox capacity of a main-thread actor', labelNames: ['actor', 'role'], registers: [this.registry] });
  private readonly spawned = new Counter({ name: 'troupe_actors_spawned_total', help: 'Actors spawned on the main thread', registers: [this.registry] });
  private readonly stopped = new Counter({ name: 'troupe_actors_stopped_total', help: 'Actors stopped on the main thread', registers: [this.registry] });
  private readonly failed = new Counter({ name: 'troupe_actors_failed_total', help: 'Actor failures (a handler threw) on the main thread', registers: [this.registry] });
  private readonly restarted = new Counter({ name: 'troupe_actors_restarted_total', help: 'Actor restarts by a supervisor on the main thread', registers: [this.registry] });
  private readonly deadLetters = new Counter({ name: 'troupe_dead_letters_total', help: 'Messages that reached no actor, by reason', labelNames: ['reason'], registers: [this.registry] });
  private readonly clientConnections = new Gauge({ name: 'troupe_client_connections', help: 'Client connections open now (transport links to nodes other than the cluster\'s worker threads, e.g. CLI processes)', registers: [this.registry] });
  private readonly links = new Counter({ name: 'troupe_link_changes_total', help: 'Transport link changes to other nodes, by direction (down, up)', labelNames: ['direction'], registers: [this.registry] });

  private readonly workerActors = new Gauge({ name: 'troupe_worker_actors', help: 'Actors on a worker thread', labelNames: ['worker'], registers: [this.registry] });
  private readonly workerHeap = new Gauge({ name: 'troupe_worker_heap_used_bytes', help: 'V8 heap used by a worker thread', labelNames: ['worker'], registers: [this.registry] });
  private readonly workerAsks = new Gauge({ name: 'troupe_worker_pending_asks', help: 'Asks a worker thread is waiting on', labelNames: ['worker'], registers: [this.registry] });

  constructor(options: { readonly processMetrics?: boolean } = {}) {
    // Standard process_* and nodejs_* metrics (CPU, memory, event-loop lag) of this process.
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** A `MasterOptions.onRequest` callback for the master of this role. */
  masterRequestHook(role: string): (type: string, outcome: string, durationMs: number) => void {
    return (type, outcome, durationMs) => {
      const t = REQUEST_TYPE_PATTERN.test(type) ? type : 'other';
      const o = OUTCOME_PATTERN.test(outcome) ? outcome : 'other';
      this.requests.inc({ role, type: t, outcome: o });
      this.requestSeconds.observe({ role, type: t }, Math.max(0, durationMs) / 1000);
    };
  }

  /** Recovery left and scrub totals, from the PG reports and the OSDs' scrub counters. */
  private observeCephPgsAndScrubs(c: CephSnapshot): void {
    const p = c.pgStats;
    if (p !== undefined) {
      this.pgObjects.set({ kind: 'degraded' }, p.degradedObjects);
      this.pgObjects.set({ kind: 'missing' }, p.missingObjects);
      this.pgObjects.set({ kind: 'misplaced' }, p.misplacedObjects);
      this.recoveryBytes.set(p.bytesToRecover);
      this.pgsInconsistent.set(p.inconsistentPgs);
    }
    if (c.recovery !== undefined) this.recoveryRate.set(c.recovery.objectsPerSec);
    for (const o of c.osds) {
      const sc = o.scrub;
      if (sc === undefined || sc === null) continue;
      const osd = `osd.${o.id}`;
      this.scrubs.set({ osd, depth: 'light' }, sc.scrubsCompleted - sc.deepScrubsCompleted);
      this.scrubs.set({ osd, depth: 'deep' }, sc.deepScrubsCompleted);
      this.scrubErrors.set({ osd }, sc.errorsFound);
      this.scrubRepaired.set({ osd }, sc.objectsRepaired);
      this.scrubAborted.set({ osd }, sc.scrubsAborted);
    }
  }

  observeCeph(c: CephSnapshot): void {
    for (const m of c.monitors) if (m.lastCommitted !== null) this.cephMonCommitted.set({ mon: m.name }, m.lastCommitted);
    const s = c.status;
    if (s === null) {
      this.cephQuorum.set(0);
      return;
    }
    this.cephEpoch.set(s.epoch);
    this.cephQuorum.set(s.monitors.quorum.length);
    this.cephOsds.set({ state: 'up' }, s.osds.up);
    this.cephOsds.set({ state: 'down' }, s.osds.total - s.osds.up);
    this.cephOsds.set({ state: 'in' }, s.osds.in);
    this.cephOsds.set({ state: 'out' }, s.osds.total - s.osds.in);
    this.cephPools.set(s.pools);
    this.cephPgs.reset();
    for (const [state, n] of Object.entries(s.pgs.byState)) this.cephPgs.set({ state }, n);
    this.observeCephPgsAndScrubs(c);
    for (const o of c.osds) {
      const osd = `osd.${o.id}`;
      if (o.usedBytes !== undefined && o.usedBytes !== null) this.osdUsed.set({ osd }, o.usedBytes);
      if (o.pgs !== undefined && o.pgs !== null && o.pgsActive !== undefined && o.pgsActive !== null) {
        this.osdPgs.set({ osd, state: 'active' }, o.pgsActive);
        this.osdPgs.set({ osd, state: 'inactive' }, o.pgs - o.pgsActive);
      }
      const st = o.stats;
      if (st === undefined || st === null) continue;
      this.osdOps.set({ osd, kind: 'write' }, st.writeOps);
      this.osdOps.set({ osd, kind: 'read' }, st.readOps);
      this.osdBytes.set({ osd, kind: 'write' }, st.writeBytes);
      this.osdBytes.set({ osd, kind: 'read' }, st.readBytes);
      for (const [stage, buckets] of [['ack', st.ackLatencyBuckets], ['commit', st.commitLatencyBuckets]] as const) {
        let cum = 0;
        buckets.forEach((n, i) => {
          cum += n;
          this.osdLatency.set({ osd, stage, le: i < LATENCY_BUCKETS_MS.length ? String(LATENCY_BUCKETS_MS[i]) : '+Inf' }, cum);
        });
      }
    }
    for (const [pool, n] of Object.entries(c.poolObjects ?? {})) this.poolObjects.set({ pool }, n);
    for (const p of c.pools ?? []) this.poolBytes.set({ pool: p.name }, p.bytes);
  }

  /** The coordination servers' mntr values; a server that did not answer keeps no stale values. */
  observeCoord(c: CoordSnapshot): void {
    for (const row of c.servers) {
      const server = row.name;
      this.zkUp.set({ server }, row.role === 'unreachable' ? 0 : 1);
      for (const role of ['leader', 'follower', 'observer', 'standalone']) this.zkRole.set({ server, role }, row.role === role ? 1 : 0);
      if (row.lag !== null) this.zkLag.set({ server }, row.lag);
      else this.zkLag.remove({ server });
      for (const [key, gauge] of this.zkGauges) {
        const v = row.mntr[key];
        if (v === undefined) gauge.remove({ server });
        else gauge.set({ server }, v);
      }
    }
  }

  observeStatus(s: ClusterStatus): void {
    this.statusPolls.inc({ outcome: 'ok' });
    const up = s.servers.filter((x) => x.alive).length;
    this.chunkservers.set({ state: 'up' }, up);
    this.chunkservers.set({ state: 'down' }, s.servers.length - up);
    this.files.set(s.files);
    this.directories.set(s.directories);
    this.chunks.set(s.chunks);
    this.underReplicated.set(s.underReplicated);
    this.missing.set(s.missing);
    this.leases.set(s.leases);
    this.clones.set(s.clonesInFlight);
    this.lsn.set(s.lsn);
    // Servers are never forgotten by the master, so the label set only grows with the cluster.
    for (const x of s.servers) {
      const l = { server: x.server, rack: x.rack };
      this.serverUp.set(l, x.alive ? 1 : 0);
      this.serverUsed.set(l, x.usedBytes);
      this.serverCapacity.set(l, x.capacityBytes);
      this.serverChunks.set(l, x.chunks);
      this.serverLeases.set(l, x.leases);
    }
  }

  /**
   * Adds what each chunkserver did since the last sample. A total below the last one means the
   * server restarted (its counters start from zero): the new total is the increment.
   */
  observeChunkservers(stats: ReadonlyArray<{ readonly rack: string; readonly stats: ChunkserverStats }>): void {
    for (const { rack, stats: now } of stats) {
      const before = this.lastStats.get(now.server);
      const delta = (k: Exclude<keyof ChunkserverStats, 'server'>): number => {
        const b = before?.[k] ?? 0;
        return now[k] >= b ? now[k] - b : now[k];
      };
      const l = { server: now.server, rack };
      this.serverReads.inc(l, delta('reads'));
      this.serverReadBytes.inc(l, delta('readBytes'));
      this.serverMutations.inc(l, delta('mutations'));
      this.serverWrittenBytes.inc(l, delta('writtenBytes'));
      this.serverPushedBytes.inc(l, delta('pushedBytes'));
      this.serverClonedBytes.inc(l, delta('clonedBytes'));
      this.lastStats.set(now.server, now);
    }
  }

  observeStatusError(): void {
    this.statusPolls.inc({ outcome: 'error' });
  }

  observeMailboxes(samples: readonly MailboxSample[]): void {
    for (const m of samples) {
      this.mailboxDepth.set({ actor: m.actor, role: m.role }, m.depth);
      this.mailboxCapacity.set({ actor: m.actor, role: m.role }, m.capacity);
    }
  }

  observeClientConnections(open: number): void {
    this.clientConnections.set(open);
  }

  observeWorkers(workers: readonly WorkerInspection[]): void {
    for (const w of workers) {
      this.workerActors.set({ worker: w.node }, w.actors);
      this.workerHeap.set({ worker: w.node }, w.heapUsedBytes);
      this.workerAsks.set({ worker: w.node }, w.pendingAsks);
    }
  }

  /** Counts the runtime events of `system`; returns the function that stops counting. */
  attachRuntime(system: ActorSystem): () => void {
    const ev = system.events;
    const onSpawned = (): void => this.spawned.inc();
    const onStopped = (): void => this.stopped.inc();
    const onFailed = (): void => this.failed.inc();
    const onRestarted = (): void => this.restarted.inc();
    const onDead = (d: { reason: string }): void => this.deadLetters.inc({ reason: d.reason });
    const onDown = (): void => this.links.inc({ direction: 'down' });
    const onUp = (): void => this.links.inc({ direction: 'up' });
    ev.on('spawned', onSpawned);
    ev.on('stopped', onStopped);
    ev.on('failed', onFailed);
    ev.on('restarted', onRestarted);
    ev.on('deadLetter', onDead);
    ev.on('linkDown', onDown);
    ev.on('linkUp', onUp);
    return () => {
      ev.off('spawned', onSpawned);
      ev.off('stopped', onStopped);
      ev.off('failed', onFailed);
      ev.off('restarted', onRestarted);
      ev.off('deadLetter', onDead);
      ev.off('linkDown', onDown);
      ev.off('linkUp', onUp);
    };
  }

  /** The Prometheus text exposition of every metric. */
  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
