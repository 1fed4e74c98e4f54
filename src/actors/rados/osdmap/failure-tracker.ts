/**
 * Failure reports (thesis §6.2.3–6.2.4; digest §3.4, §3.6). OSDs batch and throttle what they
 * report (`FailureReportBatcher`); the leader monitor counts distinct reporters per failed OSD
 * within a window and marks it down when enough agree (`FailureTracker`). Both are soft state:
 * pure classes with bounded tables, no I/O, time passed in. README R12–R13.
 */
import { DEFAULT_OSDMAP_CONFIG } from '../config.js';
import type { OsdMapConfig } from '../config.js';
import type { FailedPeer, OsdFailureReport, OsdMonCommand } from '../protocol.js';
import type { OsdMap } from './osd-map.js';

/** Why a reported failure did not count. */
export type IgnoredReason =
  /** The map already has the target down: answer the reporter with the incrementals it lacks (thesis §6.2.4). */
  | 'already_down'
  /** The reporter is down or unknown in the map: its view does not count. */
  | 'reporter_down'
  | 'unknown_osd'
  | 'self_report'
  /** The report predates the target's current incarnation (sent at an epoch before it was last marked up). */
  | 'stale'
  /** The tracker's table is full (`failureReportsTrackedMax`); the reporter will repeat it. */
  | 'tracker_full';

export interface FailureDecision {
  /** Mark-down to propose, when enough distinct reporters agree on some targets. */
  readonly command: OsdMonCommand | null;
  readonly ignored: ReadonlyArray<{ readonly osd: number; readonly reason: IgnoredReason }>;
}

type TrackerConfig = Pick<OsdMapConfig, 'failureReportersMin' | 'failureReportWindowMs' | 'failureReportsTrackedMax'>;

/**
 * The leader's table of failure reports: target → reporter → when last reported. A target is
 * marked down once `failureReportersMin` distinct up reporters have reported it within
 * `failureReportWindowMs` (R12); in a cluster with fewer other up OSDs than that, all of them.
 */
export class FailureTracker {
  private readonly reports = new Map<number, Map<number, number>>();
  private tracked = 0;

  constructor(private readonly cfg: TrackerConfig = DEFAULT_OSDMAP_CONFIG) {}

  /** Reports held (target, reporter pairs). */
  get size(): number {
    return this.tracked;
  }

  /** Distinct reporters currently counted against `target`. */
  reportersOf(target: number): number[] {
    return [...(this.reports.get(target)?.keys() ?? [])].sort((a, b) => a - b);
  }

  /** Drops reports older than the window, about OSDs the map has down, or from reporters the map has down. */
  prune(map: OsdMap, now: number): void {
    for (const [target, byReporter] of this.reports) {
      const t = map.osds[target];
      for (const [reporter, at] of byReporter) {
        if (t === undefined || !t.up || !(map.osds[reporter]?.up ?? false) || now - at > this.cfg.failureReportWindowMs) {
          byReporter.delete(reporter);
          this.tracked--;
        }
      }
      if (byReporter.size === 0) this.reports.delete(target);
    }
  }

  /** Handles one batched report from an OSD. */
  report(map: OsdMap, rep: OsdFailureReport, now: number): FailureDecision {
    this.prune(map, now);
    const ignored: Array<{ osd: number; reason: IgnoredReason }> = [];
    const reporterUp = map.osds[rep.reporter]?.up ?? false;
    for (const osd of rep.alive) this.withdraw(osd, rep.reporter);
    const upCount = map.osds.reduce((n, o) => n + (o.up ? 1 : 0), 0);
    const down: number[] = [];
    for (const f of rep.failed) {
      const reason = this.check(map, rep, f, reporterUp);
      if (reason) {
        ignored.push({ osd: f.osd, reason });
        continue;
      }
      let byReporter = this.reports.get(f.osd);
      if (!byReporter?.has(rep.reporter)) {
        if (this.tracked >= this.cfg.failureReportsTrackedMax) {
          ignored.push({ osd: f.osd, reason: 'tracker_full' });
          continue;
        }
        this.tracked++;
      }
      if (!byReporter) this.reports.set(f.osd, (byReporter = new Map()));
      byReporter.set(rep.reporter, now);
      // Reporters other than the target that could report at most: every other up OSD.
      const needed = Math.max(1, Math.min(this.cfg.failureReportersMin, upCount - 1));
      if (byReporter.size >= needed) down.push(f.osd);
    }
    for (const osd of down) this.clear(osd);
    return { command: down.length > 0 ? { type: 'rados.mon.osdMarkDown', osds: down.sort((a, b) => a - b), reason: 'failure' } : null, ignored };
  }

  private check(map: OsdMap, rep: OsdFailureReport, f: FailedPeer, reporterUp: boolean): IgnoredReason | null {
    const t = map.osds[f.osd];
    if (t === undefined) return 'unknown_osd';
    if (f.osd === rep.reporter) return 'self_report';
    if (!reporterUp) return 'reporter_down';
    if (!t.up) return 'already_down';
    if (rep.epoch < t.upFrom) return 'stale';
    return null;
  }

  private withdraw(target: number, reporter: number): void {
    const byReporter = this.reports.get(target);
    if (byReporter?.delete(reporter)) {
      this.tracked--;
      if (byReporter.size === 0) this.reports.delete(target);
    }
  }

  private clear(target: number): void {
    const byReporter = this.reports.get(target);
    if (byReporter) {
      this.tracked -= byReporter.size;
      this.reports.delete(target);
    }
  }
}

type BatcherConfig = Pick<OsdMapConfig, 'failureReportIntervalMs' | 'failureReportTargetsMax' | 'failureReportQueueMax'>;

/**
 * An OSD's outgoing failure reports, batched and throttled (thesis §6.2.4: "OSDs throttle and batch
 * reports"; R13): failed peers queue up (bounded) until a map marks them down or they answer
 * again; at most one report message per `failureReportIntervalMs`, with at most
 * `failureReportTargetsMax` targets. Unacknowledged targets are sent again in later messages,
 * which lets the OSD try another monitor when one does not answer.
 */
export class FailureReportBatcher {
  /** Failed peer → when it was first found failed. */
  private readonly failed = new Map<number, number>();
  private readonly alive = new Set<number>();
  private lastSentMs = Number.NEGATIVE_INFINITY;

  constructor(private readonly cfg: BatcherConfig = DEFAULT_OSDMAP_CONFIG) {}

  get pending(): number {
    return this.failed.size + this.alive.size;
  }

  /** A peer stopped answering (heartbeat timeout or a broken link, thesis §6.2.3) at `sinceMs`. */
  peerFailed(osd: number, sinceMs: number): void {
    this.alive.delete(osd);
    if (this.failed.has(osd) || this.failed.size >= this.cfg.failureReportQueueMax) return;
    this.failed.set(osd, sinceMs);
  }

  /** A peer answered again: withdraw its report. */
  peerAlive(osd: number): void {
    if (this.failed.delete(osd) && this.alive.size < this.cfg.failureReportQueueMax) this.alive.add(osd);
  }

  /** A new map: reports it acknowledges (the target is down) are done. */
  onMap(map: OsdMap): void {
    for (const osd of this.failed.keys()) if (!(map.osds[osd]?.up ?? false)) this.failed.delete(osd);
  }

  /** The next report message, or null when there is nothing to send or the throttle holds. */
  take(reporter: number, epoch: number, now: number): OsdFailureReport | null {
    if (this.pending === 0 || now - this.lastSentMs < this.cfg.failureReportIntervalMs) return null;
    this.lastSentMs = now;
    const failed: FailedPeer[] = [];
    for (const [osd, since] of this.failed) {
      if (failed.length >= this.cfg.failureReportTargetsMax) break;
      failed.push({ osd, failedForMs: Math.max(0, now - since) });
    }
    const alive = [...this.alive].slice(0, this.cfg.failureReportTargetsMax);
    for (const osd of alive) this.alive.delete(osd);
    return { type: 'rados.mon.osdFailure', epoch, reporter, failed, alive };
  }
}
