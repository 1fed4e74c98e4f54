/**
 * The OSD monitor: the Paxos monitor (`monitor/monitor.ts`) hosting the OSD-map service
 * (`osdmap/service.ts`) plus the two things the map service alone does not decide (thesis §6.2.4;
 * digest §3.4, §3.6):
 *
 *  - failure reports (`rados.mon.osdFailure`): peons forward them to the leader like any command
 *    (Ceph's peons forward `MOSDFailure` too); the leader counts distinct reporters in a
 *    `FailureTracker` and proposes a mark-down only once enough agree. The tracker is the leader's
 *    soft state: a new leader starts with an empty table and the reporters, which resend what is
 *    not yet acknowledged by a map (`FailureReportBatcher`), fill it again;
 *  - the down → out timer: on each monitor tick the leader proposes marking out the OSDs that have
 *    been down for `downOutIntervalMs`.
 *
 * A report that does not (yet) lead to a mark-down is answered `rejected` with service code
 * `no_change` ("noted, nothing to commit"); the reporter learns the outcome from the maps it
 * subscribes to.
 */
import type { ActorContext, ActorFactory, Behavior } from '../../../runtime/behavior.js';
import type { ActorRef } from '../../../runtime/ref.js';
import { DEFAULT_OSDMAP_CONFIG, DEFAULT_PG_STATS_CONFIG } from '../config.js';
import type { OsdMapConfig, PgStatsConfig } from '../config.js';
import { PgStatsTable } from './pg-stats-table.js';
import { radosMonitor } from '../monitor/monitor.js';
import type { MonitorOptions } from '../monitor/monitor.js';
import type { MonitorMsg } from '../monitor/protocol.js';
import type { MonitorService } from '../monitor/service.js';
import { FailureTracker } from '../osdmap/failure-tracker.js';
import type { OsdMap, OsdMapIncremental } from '../osdmap/osd-map.js';
import { downOutCommands, prepareOsdMapCommand } from '../osdmap/service.js';
import { applyIncrementalOrThrow, emptyOsdMap } from '../osdmap/osd-map.js';
import type { OsdFailureReport, OsdMonCommand, PgStatsMonMsg } from '../protocol.js';

/** What an OSD monitor accepts as a command: the map service's commands and failure reports. */
export type OsdMonitorCommand = OsdMonCommand | OsdFailureReport;

/**
 * The OSD-map service with failure reports and the down → out tick. `prepare` is pure except for
 * the failure tracker, which only the leader consults (the monitor calls `prepare` on the leader
 * only, once per command).
 */
export function osdMonitorService(cfg: OsdMapConfig = DEFAULT_OSDMAP_CONFIG): MonitorService<OsdMap, OsdMonitorCommand, OsdMapIncremental> & { readonly tracker: FailureTracker } {
  const tracker = new FailureTracker(cfg);
  return {
    name: 'osdmap',
    tracker,
    initial: emptyOsdMap,
    prepare(state, cmd, now) {
      if (typeof cmd === 'object' && cmd !== null && cmd.type === 'rados.mon.osdFailure') {
        if (!Array.isArray(cmd.failed) || !Array.isArray(cmd.alive) || typeof cmd.reporter !== 'number' || typeof cmd.epoch !== 'number') {
          return { ok: false, error: { code: 'invalid_command', message: 'a failure report needs reporter, epoch, failed[] and alive[]' } };
        }
        const decision = tracker.report(state, cmd, now);
        if (decision.command === null) {
          const why = decision.ignored.map((i) => `osd.${i.osd}: ${i.reason}`).join(', ');
          return { ok: false, error: { code: 'no_change', message: why === '' ? 'report noted; not enough reporters yet' : `report noted (${why})` } };
        }
        return prepareOsdMapCommand(state, decision.command, now, cfg);
      }
      return prepareOsdMapCommand(state, cmd, now, cfg);
    },
    apply: applyIncrementalOrThrow,
    tick: (state, now) => downOutCommands(state, now, cfg),
  };
}

export interface OsdMonitorOptions extends Omit<MonitorOptions<OsdMap, OsdMonitorCommand, OsdMapIncremental>, 'service'> {
  readonly osdmap?: Partial<OsdMapConfig>;
  readonly pgStats?: Partial<PgStatsConfig>;
}

/** What an OSD monitor actor accepts: the Paxos monitor's messages and the PG statistics (soft state beside it). */
export type OsdMonitorMsg = MonitorMsg | PgStatsMonMsg;

/**
 * A monitor actor hosting the OSD map (spawn one per rank, each with its own store). Beside the
 * Paxos-replicated map it keeps the PG statistics the OSDs report (`pg-stats-table.ts`): every
 * monitor gets every report, so any of them answers `rados.mon.pgStatsGet`, quorum or not.
 */
export function osdMonitor(o: OsdMonitorOptions): ActorFactory<OsdMonitorMsg> {
  // One service (and failure tracker, and PG-stats table) per incarnation of the actor: a restart starts with no reports.
  return (ctx) => {
    const inner = radosMonitor({ ...o, service: osdMonitorService({ ...DEFAULT_OSDMAP_CONFIG, ...o.osdmap }) })(ctx as unknown as ActorContext<MonitorMsg>);
    const table = new PgStatsTable({ ...DEFAULT_PG_STATS_CONFIG, ...o.pgStats });
    return {
      ...inner,
      receive: (m: OsdMonitorMsg, c: ActorContext<OsdMonitorMsg>): unknown => {
        if (typeof m === 'object' && m !== null && m.type === 'rados.mon.pgStats') {
          const r = table.report(m, ctx.clock.now());
          if (r.dropped > 0) ctx.log.warn('monitor: dropped PG stats', { osd: m.osd, dropped: r.dropped, tracked: table.size });
          return undefined;
        }
        if (typeof m === 'object' && m !== null && m.type === 'rados.mon.pgStatsGet') return table.view(ctx.clock.now());
        return inner.receive(m, c as unknown as ActorContext<MonitorMsg>);
      },
    } as unknown as Behavior<OsdMonitorMsg>;
  };
}

export type MonitorRefs = readonly ActorRef<MonitorMsg>[];
