import type { ActorRef } from '../runtime/ref.js';
import type { ActorSystem } from '../runtime/system.js';
import { MonitorClient } from '../actors/rados/monitor/client.js';
import type { MonitorMsg, MonitorRole } from '../actors/rados/monitor/protocol.js';
import { cephStatus, osdLocations, pgRows, type CephStatus } from '../actors/rados/mon/cluster-status.js';
import { OSD_WEIGHT_FULL, type OsdMap } from '../actors/rados/osdmap/osd-map.js';
import { refOfAddr, type OsdMsg, type OsdStatus } from '../actors/rados/osd/osd.js';
import { LATENCY_BUCKETS_MS, type DataPathStats } from '../actors/rados/osd/data-path.js';
import type { ScrubCounters } from '../actors/rados/osd/scrubber.js';
import type { PgStatsGet, PgStatsView } from '../actors/rados/protocol.js';

/** The Ceph-style cluster in the dashboard snapshot: monitors (quorum, leader, epoch) and OSDs (up/in, rack, weight). */
export interface CephSnapshot {
  readonly status: CephStatus | null;
  readonly error: string | null;
  readonly monitors: ReadonlyArray<{ readonly rank: number; readonly name: string; readonly role: MonitorRole | 'unreachable'; readonly lastCommitted: number | null; readonly electionEpoch: number | null }>;
  readonly osds: ReadonlyArray<{
    readonly id: number;
    readonly up: boolean;
    readonly in: boolean;
    readonly host: string | null;
    readonly rack: string | null;
    readonly weight: number;
    /** From the OSD itself (null when it did not answer): PGs held and active, store bytes, data-path totals. */
    readonly pgs?: number | null;
    readonly pgsActive?: number | null;
    readonly usedBytes?: number | null;
    readonly stats?: DataPathStats | null;
    readonly scrub?: ScrubCounters | null;
  }>;
  /** Objects per pool, counted at each PG's first OSD. */
  readonly poolObjects?: Readonly<Record<string, number>>;
  /** Each pool of the map with its usage, counted at each PG's first OSD (the data-path panel). */
  readonly pools?: readonly CephPoolUsage[];
  /** Upper bounds (ms) of the OSDs' latency histogram buckets; the last bucket is everything above. */
  readonly latencyBucketsMs?: readonly number[];
  /** PGs by whether their first OSD reports them active (activation done) or not; PGs whose first OSD did not answer are `unreported`. */
  readonly pgActivity?: { readonly active: number; readonly inactive: number; readonly unreported: number };
  /** From the PG statistics the primaries report (undefined when no monitor answered for them). */
  readonly pgStats?: CephPgSummary;
  /** PG states and recovery over time (filled by the dashboard's `CephPgHistory`). */
  readonly pgHistory?: readonly CephPgSample[];
  readonly recovery?: CephRecovery;
}

export interface CephPoolUsage {
  readonly id: number;
  readonly name: string;
  readonly size: number;
  readonly pgNum: number;
  readonly replication: string;
  readonly objects: number;
  /** Logical bytes (object sizes), one copy. */
  readonly bytes: number;
}

/** The reported PG statistics summed over the cluster. */
export interface CephPgSummary {
  /** PGs with a report (the others' states come from the map). */
  readonly reported: number;
  readonly objects: number;
  readonly bytes: number;
  /** Object copies missing from the acting sets, objects missing at a primary, objects on OSDs that should not hold them. */
  readonly degradedObjects: number;
  readonly missingObjects: number;
  readonly misplacedObjects: number;
  /** Bytes those objects hold, estimated from each PG's average object size. */
  readonly bytesToRecover: number;
  readonly inconsistentPgs: number;
  readonly inconsistentObjects: number;
}

/** One point of the PG-state chart: PGs per state group, and what recovery has left. */
export interface CephPgSample {
  readonly time: number;
  readonly clean: number;
  /** Active but not clean (degraded, undersized, recovering, remapped …). */
  readonly degraded: number;
  /** Not active, or stale. */
  readonly inactive: number;
  readonly inconsistent: number;
  readonly objectsToRecover: number;
  readonly bytesToRecover: number;
}

/** Recovery progress: what is left and how fast it shrinks (over the last `RATE_WINDOW_MS` of samples). */
export interface CephRecovery {
  readonly objectsToRecover: number;
  readonly bytesToRecover: number;
  /** Objects and bytes per second recovered lately (0 when nothing shrank). */
  readonly objectsPerSec: number;
  readonly bytesPerSec: number;
}

const PG_HISTORY_MAX = 300;
const RATE_WINDOW_MS = 10_000;

const flagsOf = (state: string): string[] => state.split('+');

/** Sums the reported stats (and counts state groups over every PG of the map, reported or derived). */
export function summarizePgStats(map: OsdMap, view: PgStatsView): { summary: CephPgSummary; groups: Omit<CephPgSample, 'time' | 'objectsToRecover' | 'bytesToRecover'> } {
  const rows = pgRows(map, view.stats);
  let objects = 0, bytes = 0, degraded = 0, missing = 0, misplaced = 0, toRecover = 0, inconsistentObjects = 0;
  const groups = { clean: 0, degraded: 0, inactive: 0, inconsistent: 0 };
  for (const r of rows) {
    const f = flagsOf(r.state);
    if (f.includes('stale') || !f.includes('active')) groups.inactive++;
    else if (f.includes('clean')) groups.clean++;
    else groups.degraded++;
    if (f.includes('inconsistent')) groups.inconsistent++;
    const st = r.stat;
    if (st === undefined) continue;
    objects += st.objects;
    bytes += st.bytes;
    degraded += st.degradedObjects;
    missing += st.missingObjects;
    misplaced += st.misplacedObjects;
    inconsistentObjects += st.inconsistentObjects;
    if (st.objects > 0) toRecover += Math.round(((st.degradedObjects + st.missingObjects + st.misplacedObjects) * st.bytes) / st.objects);
  }
  return {
    summary: { reported: rows.filter((r) => r.stat !== undefined).length, objects, bytes, degradedObjects: degraded, missingObjects: missing, misplacedObjects: misplaced, bytesToRecover: toRecover, inconsistentPgs: groups.inconsistent, inconsistentObjects },
    groups,
  };
}

/** The dashboard's bounded history of PG states and recovery (one sample per poll, the last `PG_HISTORY_MAX`). */
export class CephPgHistory {
  private readonly samples: CephPgSample[] = [];

  /** Adds the snapshot's point and returns the snapshot with the history and recovery progress. */
  add(time: number, snap: CephSnapshot, groups: Omit<CephPgSample, 'time' | 'objectsToRecover' | 'bytesToRecover'> | undefined): CephSnapshot {
    const p = snap.pgStats;
    if (p === undefined || groups === undefined) return { ...snap, pgHistory: [...this.samples] };
    const objectsToRecover = p.degradedObjects + p.missingObjects + p.misplacedObjects;
    this.samples.push({ time, ...groups, objectsToRecover, bytesToRecover: p.bytesToRecover });
    if (this.samples.length > PG_HISTORY_MAX) this.samples.splice(0, this.samples.length - PG_HISTORY_MAX);
    const old = this.samples.find((x) => x.time >= time - RATE_WINDOW_MS) ?? this.samples[0];
    const secs = old === undefined ? 0 : (time - old.time) / 1000;
    const rate = (a: number, b: number): number => (secs > 0 && a > b ? (a - b) / secs : 0);
    const recovery: CephRecovery = { objectsToRecover, bytesToRecover: p.bytesToRecover, objectsPerSec: rate(old?.objectsToRecover ?? 0, objectsToRecover), bytesPerSec: rate(old?.bytesToRecover ?? 0, p.bytesToRecover) };
    return { ...snap, pgHistory: [...this.samples], recovery };
  }
}

/** The reported PG statistics from the first monitor that answers (each monitor gets every report). */
async function pollPgStats(system: ActorSystem, monitors: readonly ActorRef<MonitorMsg>[], timeoutMs: number): Promise<PgStatsView | undefined> {
  for (const m of monitors) {
    const msg: PgStatsGet = { type: 'rados.mon.pgStatsGet' };
    const v = await system.ask<PgStatsView>(m as unknown as ActorRef<PgStatsGet>, msg, { timeoutMs }).catch(() => undefined);
    if (v !== undefined && Array.isArray(v.stats)) return v;
  }
  return undefined;
}

/** One poll of the monitors: each one's status, the committed map from any of them (under a lease), and the reported PG statistics. */
export async function pollCeph(system: ActorSystem, monitors: readonly ActorRef<MonitorMsg>[], timeoutMs: number): Promise<CephSnapshot & { readonly pgGroups?: Omit<CephPgSample, 'time' | 'objectsToRecover' | 'bytesToRecover'> }> {
  const client = new MonitorClient({ ask: (to, msg, o) => system.ask(to, msg, o), monitors, timeoutMs, attemptsMax: monitors.length });
  const mons = await Promise.all(
    monitors.map(async (_, rank) => {
      const r = await client.status(rank);
      return { rank, name: `mon${rank}`, status: r.ok ? r.value : undefined };
    }),
  );
  const monitorRows = mons.map((m) => ({ rank: m.rank, name: m.name, role: m.status?.role ?? ('unreachable' as const), lastCommitted: m.status?.lastCommitted ?? null, electionEpoch: m.status?.electionEpoch ?? null }));
  const read = await client.read<OsdMap>();
  if (!read.ok || read.value.state === undefined) return { status: null, error: read.ok ? 'no map' : `${read.error.code}: ${read.error.message}`, monitors: monitorRows, osds: [] };
  const map = read.value.state;
  const where = osdLocations(map);
  const statuses = await Promise.all(
    map.osds.map(async (o) => {
      const ref = o.up ? refOfAddr<OsdMsg>(o.addr) : undefined;
      if (ref === undefined) return undefined;
      return system.ask<OsdStatus>(ref, { type: 'rados.osd.status' }, { timeoutMs }).catch(() => undefined);
    }),
  );
  const usage = poolUsage(map, statuses);
  const pgView = await pollPgStats(system, monitors, timeoutMs);
  const pg = pgView === undefined ? undefined : summarizePgStats(map, pgView);
  const poolObjects: Record<string, number> = {};
  for (const p of usage.pools) poolObjects[p.name] = p.objects;
  return {
    status: cephStatus(map, mons, pgView?.stats ?? []),
    error: null,
    monitors: monitorRows,
    osds: map.osds.map((o, i) => {
      const st = statuses[i];
      return {
        id: o.id,
        up: o.up,
        in: o.in,
        host: where.get(o.id)?.host ?? null,
        rack: where.get(o.id)?.rack ?? null,
        weight: o.weight / OSD_WEIGHT_FULL,
        pgs: st === undefined ? null : st.held.length,
        pgsActive: st === undefined ? null : st.held.filter((p) => p.active).length,
        usedBytes: st === undefined ? null : st.usedBytes,
        stats: st?.stats ?? null,
        scrub: st?.scrub ?? null,
      };
    }),
    poolObjects,
    pools: usage.pools,
    pgActivity: usage.pgActivity,
    latencyBucketsMs: LATENCY_BUCKETS_MS,
    ...(pg === undefined ? {} : { pgStats: pg.summary, pgGroups: pg.groups }),
  };
}

/**
 * Pool usage and PG activity from the OSDs' own reports: each PG counted once, at the first OSD of
 * its acting set (where updates are serialized), and only if that OSD holds it active.
 */
export function poolUsage(map: OsdMap, statuses: readonly (OsdStatus | undefined)[]): { pools: CephPoolUsage[]; pgActivity: { active: number; inactive: number; unreported: number } } {
  const pools = new Map(map.pools.map((p) => [p.id, { id: p.id, name: p.name, size: p.size, pgNum: p.pgNum, replication: p.replication, objects: 0, bytes: 0 }]));
  const seen = new Set<string>();
  let active = 0;
  let inactive = 0;
  for (const st of statuses) {
    if (st === undefined) continue;
    for (const pg of st.held) {
      if (pg.acting[0] !== st.osd || seen.has(pg.pg)) continue;
      const pool = pools.get(Number(pg.pg.split('.')[0]));
      if (pool === undefined) continue;
      seen.add(pg.pg);
      if (!pg.active) {
        inactive++;
        continue;
      }
      active++;
      pool.objects += pg.objects;
      pool.bytes += pg.bytes;
    }
  }
  const total = map.pools.reduce((n, p) => n + p.pgNum, 0);
  return { pools: [...pools.values()], pgActivity: { active, inactive, unreported: Math.max(0, total - active - inactive) } };
}
