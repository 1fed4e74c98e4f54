/**
 * A monitor cluster in the simulator: 1, 3 or 5 monitors (`mon0`..) hosting the kv test service,
 * each logging to its own simulated disk kept outside the node's boot function, so a crash
 * (`SimDisk.crash()`: unsynced writes lost, the last one possibly torn) and a restart behave like a
 * power cut and a reboot. Probes record, in virtual time, every version each monitor commits (with
 * its incremental) and what each monitor recovered at startup.
 */
import type { ActorRef } from '../../../../src/index.js';
import { Simulation, SimDisk, simDisks, ssdTiming } from '../../../../src/testkit.js';
import { radosMonitor } from '../../../../src/actors/rados/monitor/monitor.js';
import { DiskMonitorStore } from '../../../../src/actors/rados/monitor/store.js';
import { MonitorClient } from '../../../../src/actors/rados/monitor/client.js';
import { kvService, type KvInc } from '../../../../src/actors/rados/monitor/kv-service.js';
import type { MonitorConfig } from '../../../../src/actors/rados/monitor/config.js';
import type { MonResult } from '../../../../src/actors/rados/monitor/errors.js';
import type { MonitorMsg, MonitorStatus } from '../../../../src/actors/rados/monitor/protocol.js';

/** Small history and frequent checkpoints, so runs exercise trimming and snapshot catch-up. */
export const cellConfig: Partial<MonitorConfig> = {
  historyVersionsMax: 20,
  historyTrimSlackVersions: 5,
  checkpointEveryVersions: 10,
  shareVersionsMax: 20,
  subscriptionTtlMs: 10_000,
};

export interface CommitEvent {
  readonly at: number;
  readonly monitor: number;
  readonly version: number;
  /** The incremental, as JSON (undefined: it arrived inside a snapshot). */
  readonly value: string | undefined;
}

export interface RecoveryEvent {
  readonly at: number;
  readonly monitor: number;
  readonly version: number;
  /** Set when the monitor could not read its durable state (it stops; it holds nothing). */
  readonly error?: string;
}

export interface MonitorCellOptions {
  readonly seed: number;
  readonly monitors: number;
  /** A lying disk under every monitor (fsync does nothing): the mutation check. */
  readonly fsyncIsNoop?: boolean;
  readonly config?: Partial<MonitorConfig>;
  readonly replay?: string;
}

export type MonitorCell = ReturnType<typeof monitorCell>;

export function monNode(rank: number): string {
  return `mon${rank}`;
}

export function monitorCell(o: MonitorCellOptions) {
  const sim = new Simulation({ seed: o.seed, network: { latencyMinMs: 0.2, latencyMaxMs: 2 }, logLimit: 2_000, traceLimit: 20_000, ...(o.replay === undefined ? {} : { replayHint: o.replay }) });
  const config = { ...cellConfig, ...o.config };
  const newDisk = simDisks({ random: sim.random, scheduler: sim.scheduler(), timing: ssdTiming, ...(o.fsyncIsNoop === true ? { fsyncIsNoop: true } : {}) });
  const ranks = Array.from({ length: o.monitors }, (_, i) => i);
  const refs: ActorRef<MonitorMsg>[] = ranks.map((r) => ({ node: monNode(r), id: 'mon' }));
  const disks = new Map<string, SimDisk>();
  const commits: CommitEvent[] = [];
  const recoveries: RecoveryEvent[] = [];
  for (const rank of ranks) {
    const node = monNode(rank);
    disks.set(node, newDisk(node));
    sim.addNode(node, (system) => {
      const store = new DiskMonitorStore(disks.get(node) as SimDisk, 'mon');
      system.spawn(
        radosMonitor({
          service: kvService,
          rank,
          monitors: refs,
          store,
          config,
          probe: {
            recovered: (version, error) => void recoveries.push({ at: sim.now, monitor: rank, version, ...(error === undefined ? {} : { error }) }),
            committed: (version, inc: KvInc | undefined) => void commits.push({ at: sim.now, monitor: rank, version, value: inc === undefined ? undefined : JSON.stringify(inc) }),
          },
        }),
        { name: 'mon', supervision: { strategy: 'stop' } },
      );
    });
  }

  const clientNodes: string[] = [];
  function client(name: string, options: { timeoutMs?: number; attemptsMax?: number; preferred?: number; idempotent?: boolean } = {}): MonitorClient {
    const node = sim.addNode(name, () => {});
    clientNodes.push(name);
    return new MonitorClient({
      ask: (to, msg, opts) => node.system.ask(to, msg, opts),
      monitors: refs,
      timeoutMs: options.timeoutMs ?? 2_000,
      attemptsMax: options.attemptsMax ?? 2 * o.monitors,
      sleep,
      backoffMs: 300,
      preferred: options.preferred ?? 0,
      idempotent: options.idempotent ?? false,
    });
  }

  function crash(node: string): void {
    sim.crash(node);
    const d = disks.get(node);
    if (d !== undefined) disks.set(node, d.crash());
  }

  function restart(node: string): void {
    if (!sim.node(node).alive) sim.restart(node);
  }

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => sim.after(ms, resolve));
  }

  const observer = sim.addNode('observer', () => {});
  async function status(rank: number): Promise<MonitorStatus | undefined> {
    const r = await observer.system.ask<MonResult<MonitorStatus>>(refs[rank] as ActorRef<MonitorMsg>, { type: 'rados.mon.status' }, { timeoutMs: 1_000 }).catch(() => undefined);
    return r?.ok === true ? r.value : undefined;
  }

  /** Runs until some monitor leads a quorum of every monitor. */
  async function settle(limitMs = 30_000): Promise<MonitorStatus> {
    const until = sim.now + limitMs;
    while (sim.now < until) {
      for (const r of ranks) {
        const s = await sim.result(status(r));
        if (s !== undefined && s.role === 'leader' && s.quorum.length === o.monitors && s.readable) return s;
      }
      await sim.run({ forMs: 200 });
    }
    throw new Error(`no quorum of all ${o.monitors} monitors within ${limitMs} ms`);
  }

  return { sim, config, ranks, refs, disks, commits, recoveries, clientNodes, client, crash, restart, sleep, status, settle, observer };
}
