/**
 * When an OSD reports its PG statistics to the monitors (README "PG statistics", G1): every
 * `reportIntervalMs`, and as soon as a PG's state text changes but no sooner than
 * `reportMinIntervalMs` after the previous report. It also stamps each PG's `stateSinceMs` (when
 * the state text last changed here) for the stuck-PG check. Pure apart from the times passed in.
 */
import type { PgStatsConfig } from '../config.js';
import type { PgStat } from './pg-stats.js';

export class PgStatReporter {
  private readonly since = new Map<string, { state: string; sinceMs: number }>();
  private readonly sent = new Map<string, string>();
  private lastSentMs = Number.NEGATIVE_INFINITY;

  constructor(private readonly cfg: Pick<PgStatsConfig, 'reportIntervalMs' | 'reportMinIntervalMs'>) {}

  /** The stats with `stateSinceMs` filled where the source left it 0; forgets PGs not in `stats`. */
  observe(stats: readonly PgStat[], nowMs: number): PgStat[] {
    const seen = new Set<string>();
    const out = stats.map((s) => {
      seen.add(s.pgid);
      const prev = this.since.get(s.pgid);
      const entry = prev !== undefined && prev.state === s.state ? prev : { state: s.state, sinceMs: nowMs };
      this.since.set(s.pgid, entry);
      return s.stateSinceMs > 0 ? s : { ...s, stateSinceMs: entry.sinceMs };
    });
    for (const k of [...this.since.keys()]) if (!seen.has(k)) this.since.delete(k);
    return out;
  }

  /** One stat with the state start time this reporter tracks for it (no change to what it tracks). */
  stamped(s: PgStat): PgStat {
    const t = this.since.get(s.pgid);
    return s.stateSinceMs > 0 || t === undefined || t.state !== s.state ? s : { ...s, stateSinceMs: t.sinceMs };
  }

  /** Whether `stats` should go to the monitors now. */
  due(stats: readonly PgStat[], nowMs: number): boolean {
    const age = nowMs - this.lastSentMs;
    if (age >= this.cfg.reportIntervalMs) return true;
    if (age < this.cfg.reportMinIntervalMs) return false;
    if (stats.length !== this.sent.size) return true;
    return stats.some((s) => this.sent.get(s.pgid) !== s.state);
  }

  /** Records that `stats` went out at `nowMs`. */
  sentAt(stats: readonly PgStat[], nowMs: number): void {
    this.lastSentMs = nowMs;
    this.sent.clear();
    for (const s of stats) this.sent.set(s.pgid, s.state);
  }
}
