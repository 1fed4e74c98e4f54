import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ChunkserverMsg, ChunkserverStats, ClusterStatus, MasterMsg } from '../actors/gfs/protocol.js';
import type { GfsResult } from '../actors/gfs/errors.js';
import type { ActorRef } from '../runtime/ref.js';
import type { ActorSystem } from '../runtime/system.js';
import type { WorkerPool } from '../runtime/node/worker-pool.js';
import type { WorkerInspection } from '../runtime/node/worker-protocol.js';
import { ClusterWatch, type BacklogSample, type DashboardEvent } from './cluster-watch.js';
import type { ClusterMetrics, MailboxSample } from './metrics.js';
import { dashboardPage } from './page.js';
import { CephPgHistory, pollCeph, type CephSnapshot } from './ceph-watch.js';
import type { MonitorMsg } from '../actors/rados/monitor/protocol.js';
import { pollCoord, type CoordSnapshot, type CoordStatusSource } from './coord-watch.js';

export interface DashboardOptions {
  readonly system: ActorSystem;
  /** The primary master, asked for `gfs.master.status` every poll (none: no GFS in this cluster). */
  readonly master?: ActorRef<MasterMsg>;
  /** The monitors of a Ceph-style cluster, polled for their status and the map every poll. */
  readonly cephMonitors?: readonly ActorRef<MonitorMsg>[];
  /**
   * The coordination servers (ZooKeeper protocol) whose mntr/srvr feed the coordination panel and
   * the `troupe_zk_*` metrics: `coordSourcesOf(connectString)` for servers on TCP ports.
   */
  readonly coordServers?: readonly CoordStatusSource[];
  /** Main-thread actors whose mailbox depth is sampled, with a role label. */
  readonly actors?: ReadonlyArray<{ readonly ref: ActorRef<unknown>; readonly role: string }>;
  readonly pool?: WorkerPool | undefined;
  /** Chunkservers asked for their traffic counters (`gfs.chunkserver.stats`) every poll. */
  readonly chunkservers?: ReadonlyArray<{ readonly id: string; readonly rack: string; readonly ref: ActorRef<unknown> }>;
  readonly metrics: ClusterMetrics;
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly pollIntervalMs?: number;
  /** Time limit of each status ask and worker inspection. */
  readonly pollTimeoutMs?: number;
  /** Cluster id shown in the page title. */
  readonly clusterName?: string;
}

/** The JSON of `/api/status` and of each server-sent event. */
export interface DashboardSnapshot {
  readonly time: number;
  readonly cluster: string;
  readonly status: ClusterStatus | null;
  /** Why the last poll failed, when it did. */
  readonly error: string | null;
  /** Re-replication progress of the current episode (0..1), null without a backlog. */
  readonly replicationProgress: number | null;
  readonly events: readonly DashboardEvent[];
  readonly history: readonly BacklogSample[];
  readonly mailboxes: readonly MailboxSample[];
  readonly workers: readonly WorkerInspection[];
  /** Traffic counters of the chunkservers that answered the last poll, by server id. */
  readonly traffic: Readonly<Record<string, ChunkserverStats>>;
  /** Client connections open now (transport links to nodes that are not this cluster's worker threads, e.g. CLI processes). */
  readonly clients: number;
  /** The Ceph-style cluster, when there is one. */
  readonly ceph: CephSnapshot | null;
  /** The coordination service's servers, when there are any. */
  readonly coord: CoordSnapshot | null;
  readonly pollIntervalMs: number;
}

export interface Dashboard {
  /** Base URL, e.g. `http://127.0.0.1:7080`. */
  readonly url: string;
  readonly watch: ClusterWatch;
  close(): Promise<void>;
}

/** Open server-sent-event streams; more are refused with 503. */
export const SSE_CLIENTS_MAX = 32;
/** A stream that has this much unsent data is a stalled reader and is closed. */
const SSE_BACKLOG_BYTES_MAX = 1 << 20;
const EVENTS_IN_SNAPSHOT_MAX = 50;
/** Client links remembered by node name; more are counted in no set (the count then stops growing). */
const CLIENT_LINKS_MAX = 100_000;

/**
 * The cluster's web endpoint (DESIGN.md §8): `/` the dashboard page, `/api/status` a JSON snapshot,
 * `/events` the same snapshot pushed as server-sent events after every poll, `/metrics` Prometheus
 * text. One poll loop asks the master for its status every `pollIntervalMs` (never two at once)
 * and feeds the page, the event list and the metrics.
 */
export async function startDashboard(o: DashboardOptions): Promise<Dashboard> {
  const pollIntervalMs = o.pollIntervalMs ?? 1_000;
  const pollTimeoutMs = o.pollTimeoutMs ?? 2_000;
  const watch = new ClusterWatch();
  const clients = new Set<ServerResponse>();
  let mailboxes: MailboxSample[] = [];
  let workers: WorkerInspection[] = [];
  let traffic: Record<string, ChunkserverStats> = {};
  let ceph: CephSnapshot | null = null;
  const cephPgHistory = new CephPgHistory();
  let coord: CoordSnapshot | null = null;
  let closed = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let polling: Promise<void> = Promise.resolve();
  const cluster = o.clusterName ?? 'troupe';

  const detachRuntime = o.metrics.attachRuntime(o.system);
  const onFailed = (e: { ref: ActorRef<unknown>; error: unknown }): void => watch.note(Date.now(), 'error', `actor ${e.ref.id}@${e.ref.node} failed: ${String(e.error)}`);
  const onRestarted = (e: { ref: ActorRef<unknown>; attempt: number }): void => watch.note(Date.now(), 'warn', `actor ${e.ref.id}@${e.ref.node} restarted (attempt ${e.attempt})`);
  // Links to the cluster's own worker threads are events; the other peers are clients (e.g. each CLI
  // command), which come and go as they please: a count, not two lines per command in the events.
  const workerNodes = new Set<string>([...(o.chunkservers ?? []).map((c) => c.ref.node), ...(o.pool === undefined ? [] : Array.from({ length: o.pool.workers }, (_, i) => (o.pool as WorkerPool).nodeOf(i)))]);
  const clientLinks = new Set<string>();
  const onLinkDown = (e: { node: string }): void => {
    if (workerNodes.has(e.node)) watch.note(Date.now(), 'warn', `link to worker thread ${e.node} down`);
    else clientLinks.delete(e.node);
    o.metrics.observeClientConnections(clientLinks.size);
  };
  const onLinkUp = (e: { node: string }): void => {
    if (workerNodes.has(e.node)) watch.note(Date.now(), 'info', `link to worker thread ${e.node} up`);
    else if (clientLinks.size < CLIENT_LINKS_MAX) clientLinks.add(e.node);
    o.metrics.observeClientConnections(clientLinks.size);
  };
  o.system.events.on('failed', onFailed);
  o.system.events.on('restarted', onRestarted);
  o.system.events.on('linkDown', onLinkDown);
  o.system.events.on('linkUp', onLinkUp);

  const snapshot = (): DashboardSnapshot => ({
    time: Date.now(),
    cluster,
    status: watch.last ?? null,
    error: watch.lastError ?? null,
    replicationProgress: watch.progress() ?? null,
    events: watch.events.toArray(EVENTS_IN_SNAPSHOT_MAX),
    history: watch.history.toArray(),
    mailboxes,
    workers,
    traffic,
    clients: clientLinks.size,
    ceph,
    coord,
    pollIntervalMs,
  });

  const pollCephCluster = async (): Promise<void> => {
    if (o.cephMonitors === undefined || o.cephMonitors.length === 0) return;
    const polled = await pollCeph(o.system, o.cephMonitors, pollTimeoutMs).catch((err: unknown) => ({ status: null, error: String(err), monitors: [], osds: [] }) as Awaited<ReturnType<typeof pollCeph>>);
    const { pgGroups, ...snap } = polled;
    ceph = cephPgHistory.add(Date.now(), snap, pgGroups);
    o.metrics.observeCeph(ceph);
  };

  const pollCoordServers = async (): Promise<void> => {
    if (o.coordServers === undefined || o.coordServers.length === 0) return;
    coord = await pollCoord(o.coordServers, pollTimeoutMs);
    o.metrics.observeCoord(coord);
  };

  const pollStatus = async (now: number): Promise<void> => {
    if (o.master === undefined) return;
    try {
      const r = await o.system.ask<GfsResult<ClusterStatus>>(o.master, { type: 'gfs.master.status' }, { timeoutMs: pollTimeoutMs });
      if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
      watch.observe(now, r.value);
      o.metrics.observeStatus(r.value);
    } catch (err) {
      watch.observeError(now, err instanceof Error ? err.message : String(err));
      o.metrics.observeStatusError();
    }
  };

  const pollTraffic = async (): Promise<void> => {
    if (o.chunkservers === undefined || o.chunkservers.length === 0) return;
    // A stopped or hung server does not answer; it is left out of this snapshot (the page shows a dash).
    const got = await Promise.all(
      o.chunkservers.map((c) =>
        o.system
          .ask<GfsResult<ChunkserverStats>>(c.ref as ActorRef<ChunkserverMsg>, { type: 'gfs.chunkserver.stats' }, { timeoutMs: pollTimeoutMs })
          .then((r) => (r.ok ? { rack: c.rack, stats: r.value } : undefined))
          .catch(() => undefined),
      ),
    );
    const answered = got.filter((g): g is { rack: string; stats: ChunkserverStats } => g !== undefined);
    traffic = Object.fromEntries(answered.map((g) => [g.stats.server, g.stats]));
    o.metrics.observeChunkservers(answered);
  };

  const pollWorkers = async (): Promise<void> => {
    if (o.pool === undefined) return;
    const pool = o.pool;
    const got = await Promise.all(Array.from({ length: pool.workers }, (_, i) => pool.inspect(i).catch(() => undefined)));
    workers = got.filter((w): w is WorkerInspection => w !== undefined);
    o.metrics.observeWorkers(workers);
  };

  /** One poll: master status, chunkserver counters and worker inspections at once, each within its time limit. */
  const poll = async (): Promise<void> => {
    const now = Date.now();
    mailboxes = [];
    for (const a of o.actors ?? []) {
      const i = o.system.inspect(a.ref);
      if (i !== undefined) mailboxes.push({ actor: a.ref.id, role: a.role, depth: i.mailbox.user, capacity: i.mailbox.capacity });
    }
    o.metrics.observeMailboxes(mailboxes);
    await Promise.all([pollStatus(now), pollTraffic(), pollWorkers(), pollCephCluster(), pollCoordServers()]);
    broadcast();
  };

  const broadcast = (): void => {
    if (clients.size === 0) return;
    const frame = `data: ${JSON.stringify(snapshot())}\n\n`;
    for (const res of clients) {
      if (res.writableLength > SSE_BACKLOG_BYTES_MAX) {
        res.destroy();
        clients.delete(res);
        continue;
      }
      res.write(frame);
    }
  };

  const schedule = (): void => {
    if (closed) return;
    timer = setTimeout(() => {
      polling = poll().finally(schedule);
    }, pollIntervalMs);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    switch (path) {
      case '/':
      case '/index.html':
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(dashboardPage(cluster));
        return;
      case '/api/status':
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(snapshot()));
        return;
      case '/metrics': {
        const body = await o.metrics.text();
        res.writeHead(200, { 'content-type': o.metrics.contentType }).end(body);
        return;
      }
      case '/events':
        if (clients.size >= SSE_CLIENTS_MAX) {
          res.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '5' }).end('too many dashboard streams\n');
          return;
        }
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
        res.write(`retry: ${Math.max(1000, pollIntervalMs)}\n\ndata: ${JSON.stringify(snapshot())}\n\n`);
        clients.add(res);
        req.on('close', () => clients.delete(res));
        return;
      default:
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /, /api/status, /events or /metrics\n');
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`internal error: ${String(err)}\n`);
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  polling = poll().finally(schedule);

  return {
    url: `http://${host}:${addr.port}`,
    watch,
    close: async () => {
      if (closed) return;
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      o.system.events.off('failed', onFailed);
      o.system.events.off('restarted', onRestarted);
      o.system.events.off('linkDown', onLinkDown);
      o.system.events.off('linkUp', onLinkUp);
      detachRuntime();
      for (const res of clients) res.end();
      clients.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      // The poll in progress ends within its own time limits.
      await polling.catch(() => undefined);
    },
  };
}
