/**
 * The monitors' table of reported PG statistics (README "PG statistics", G2–G4): the latest report
 * per PG, soft state (never proposed through Paxos, lost on restart and refilled by the next
 * reports — as Ceph's manager keeps MPGStats). Pure apart from the times passed in.
 *
 *  - a report replaces the PG's entry unless the entry is younger than `staleAfterMs` and was made
 *    at a newer map epoch by another OSD (an old primary's late report does not hide the new one's);
 *  - entries older than `staleAfterMs` are shown with `stale` added (their primary stopped
 *    reporting), entries older than `expireAfterMs` are dropped;
 *  - at most `trackedMax` PGs are kept; reports for more are counted and dropped.
 */
import type { PgStatsConfig } from '../config.js';
import { parsePgState, parsePgid, type PgStat } from '../osd/pg-stats.js';
import type { PgStatsReport, PgStatsView } from '../protocol.js';

interface Entry {
  readonly stat: PgStat;
  readonly reportedAtMs: number;
  readonly reporter: number;
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isIds = (v: unknown): v is number[] => Array.isArray(v) && v.every((x) => Number.isSafeInteger(x));

/** Whether a value from the network has a PgStat's shape. */
export function isPgStat(v: unknown): v is PgStat {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Record<string, unknown>;
  if (typeof s['pgid'] !== 'string' || parsePgid(s['pgid']) === undefined) return false;
  if (typeof s['state'] !== 'string' || parsePgState(s['state']) === undefined) return false;
  if (typeof s['lastUpdate'] !== 'string' || typeof s['lastComplete'] !== 'string') return false;
  if (!isIds(s['up']) || !isIds(s['acting']) || !Number.isSafeInteger(s['primary'])) return false;
  for (const k of ['epoch', 'lastEpochStarted', 'objects', 'bytes', 'logEntries', 'degradedObjects', 'missingObjects', 'misplacedObjects', 'stateSinceMs', 'lastScrubMs', 'lastDeepScrubMs', 'inconsistentObjects']) if (!isNum(s[k])) return false;
  return true;
}

export class PgStatsTable {
  private readonly byPg = new Map<string, Entry>();
  private droppedTotal = 0;

  constructor(private readonly cfg: Pick<PgStatsConfig, 'staleAfterMs' | 'expireAfterMs' | 'trackedMax'>) {}

  get size(): number {
    return this.byPg.size;
  }

  /** Stats refused (malformed, or beyond `trackedMax`) since the table was made. */
  get dropped(): number {
    return this.droppedTotal;
  }

  /** Takes one OSD's report; returns how many stats were kept and dropped. */
  report(r: PgStatsReport, nowMs: number): { kept: number; dropped: number } {
    let kept = 0;
    let dropped = 0;
    if (!Number.isSafeInteger(r.osd) || !Array.isArray(r.stats)) return { kept, dropped };
    this.expire(nowMs);
    for (const s of r.stats as readonly unknown[]) {
      if (!isPgStat(s)) {
        dropped++;
        continue;
      }
      const prev = this.byPg.get(s.pgid);
      if (prev === undefined && this.byPg.size >= this.cfg.trackedMax) {
        dropped++;
        continue;
      }
      if (prev !== undefined && prev.reporter !== r.osd && prev.stat.epoch > s.epoch && nowMs - prev.reportedAtMs < this.cfg.staleAfterMs) continue;
      this.byPg.set(s.pgid, { stat: s, reportedAtMs: nowMs, reporter: r.osd });
      kept++;
    }
    this.droppedTotal += dropped;
    return { kept, dropped };
  }

  /** The table as the CLI and dashboard see it (G3: stale marked, expired gone). */
  view(nowMs: number): PgStatsView {
    this.expire(nowMs);
    const stats = [...this.byPg.values()]
      .map((e) => {
        const stale = nowMs - e.reportedAtMs > this.cfg.staleAfterMs && !e.stat.state.split('+').includes('stale');
        return { ...e.stat, state: stale ? `stale+${e.stat.state}` : e.stat.state, reportedAtMs: e.reportedAtMs, reporter: e.reporter };
      })
      .sort((a, b) => comparePgid(a.pgid, b.pgid));
    return { nowMs, stats };
  }

  private expire(nowMs: number): void {
    for (const [k, e] of this.byPg) if (nowMs - e.reportedAtMs > this.cfg.expireAfterMs) this.byPg.delete(k);
  }
}

/** PG ids in Ceph's order: by pool, then by placement seed. */
export function comparePgid(a: string, b: string): number {
  const x = parsePgid(a);
  const y = parsePgid(b);
  if (x === undefined || y === undefined) return a < b ? -1 : a > b ? 1 : 0;
  return x.pool - y.pool || x.ps - y.ps;
}
