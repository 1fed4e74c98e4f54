/**
 * A Ceph-style cluster in the simulator: monitors (`mon0`..) hosting the OSD map on simulated disks
 * kept across crashes, and OSDs (`osd0`..) on nodes of their own. The map is bootstrapped by an
 * admin client through the monitors (CRUSH hierarchy of racks and hosts, one pool), as
 * `troupe up --system ceph` does.
 */
import type { ActorRef } from '../../../../src/index.js';
import { Simulation, SimDisk, simDisks, ssdTiming } from '../../../../src/testkit.js';
import { DiskMonitorStore } from '../../../../src/actors/rados/monitor/store.js';
import { MonitorClient } from '../../../../src/actors/rados/monitor/client.js';
import type { MonResult } from '../../../../src/actors/rados/monitor/errors.js';
import type { MonitorMsg, MonitorStatus } from '../../../../src/actors/rados/monitor/protocol.js';
import { osdMonitor } from '../../../../src/actors/rados/mon/osd-monitor.js';
import { radosOsd, type OsdConfig, type OsdMsg, type OsdStatus } from '../../../../src/actors/rados/osd/osd.js';
import type { OsdMapConfig } from '../../../../src/actors/rados/config.js';
import type { OsdMap } from '../../../../src/actors/rados/osdmap/osd-map.js';
import { simpleCrushText } from '../../../../src/actors/rados/osdmap/bootstrap.js';

/** Short timers, so scenarios take simulated seconds. */
export const simOsdMapConfig: Partial<OsdMapConfig> = { downOutIntervalMs: 10_000, failureReportersMin: 2, failureReportWindowMs: 20_000 };
export const simOsdConfig: Partial<OsdConfig> = { heartbeatIntervalMs: 2_000, heartbeatGraceMs: 6_000, subscribeRenewMs: 3_000, monitorTimeoutMs: 1_000 };

export interface CephCellOptions {
  readonly seed: number;
  readonly monitors?: number;
  readonly osds?: number;
  /** Create the pool `rbd` at start (default true); without it no OSD shares a PG with another. */
  readonly pool?: boolean;
}

export const monNode = (rank: number): string => `mon${rank}`;
export const osdNode = (id: number): string => `osd${id}`;

export function cephCell(o: CephCellOptions) {
  const nMon = o.monitors ?? 3;
  const nOsd = o.osds ?? 4;
  const sim = new Simulation({ seed: o.seed, network: { latencyMinMs: 0.2, latencyMaxMs: 2 }, logLimit: 2_000, traceLimit: 20_000 });
  const newDisk = simDisks({ random: sim.random, scheduler: sim.scheduler(), timing: ssdTiming });
  const monRefs: ActorRef<MonitorMsg>[] = Array.from({ length: nMon }, (_, r) => ({ node: monNode(r), id: 'mon' }));
  const osdRefs: ActorRef<OsdMsg>[] = Array.from({ length: nOsd }, (_, i) => ({ node: osdNode(i), id: 'osd' }));
  const disks = new Map<string, SimDisk>();
  for (let rank = 0; rank < nMon; rank++) {
    const node = monNode(rank);
    disks.set(node, newDisk(node));
    sim.addNode(node, (system) => {
      system.spawn(osdMonitor({ rank, monitors: monRefs, store: new DiskMonitorStore(disks.get(node) as SimDisk, 'mon'), osdmap: simOsdMapConfig }), { name: 'mon', supervision: { strategy: 'stop' } });
    });
  }
  for (let id = 0; id < nOsd; id++) {
    sim.addNode(osdNode(id), (system) => {
      system.spawn(radosOsd({ id, monitors: monRefs, config: simOsdConfig, osdmap: simOsdMapConfig }), { name: 'osd', supervision: { strategy: 'stop' } });
    });
  }
  const admin = sim.addNode('admin', () => {});
  const sleep = (ms: number): Promise<void> => new Promise((resolve) => sim.after(ms, resolve));
  const client = new MonitorClient({ ask: (to, msg, opts) => admin.system.ask(to, msg, opts), monitors: monRefs, timeoutMs: 1_000, attemptsMax: 30 * nMon, sleep, backoffMs: 1_000 });

  function crash(node: string): void {
    sim.crash(node);
    const d = disks.get(node);
    if (d !== undefined) disks.set(node, d.crash());
  }

  async function monStatus(rank: number): Promise<MonitorStatus | undefined> {
    const r = await sim.result(admin.system.ask<MonResult<MonitorStatus>>(monRefs[rank] as ActorRef<MonitorMsg>, { type: 'rados.mon.status' }, { timeoutMs: 1_000 }).catch(() => undefined));
    return r?.ok === true ? r.value : undefined;
  }

  async function osdStatus(id: number): Promise<OsdStatus | undefined> {
    return sim.result(admin.system.ask<OsdStatus>(osdRefs[id] as ActorRef<OsdMsg>, { type: 'rados.osd.status' }, { timeoutMs: 1_000 }).catch(() => undefined));
  }

  /** The committed map, read through the monitors' leases. */
  async function map(): Promise<OsdMap> {
    const r = await sim.result(client.read<OsdMap>());
    if (!r.ok || r.value.state === undefined) throw new Error(`map read failed: ${JSON.stringify(r)}`);
    return r.value.state;
  }

  /** Runs until `pred` holds on the committed map (checked every 200 ms), or throws after `limitMs`. Returns the simulated time it took. */
  async function until(what: string, pred: (m: OsdMap) => boolean, limitMs: number): Promise<{ map: OsdMap; tookMs: number }> {
    const start = sim.now;
    for (;;) {
      const m = await map();
      if (pred(m)) return { map: m, tookMs: sim.now - start };
      if (sim.now - start > limitMs) throw new Error(`${what}: not within ${limitMs} ms (epoch ${m.epoch}, osds ${JSON.stringify(m.osds.map((x) => [x.id, x.up, x.in]))})`);
      await sim.run({ forMs: 200 });
    }
  }

  /** Bootstraps the map (CRUSH: 2 OSDs per rack, one per host; pool `rbd`) and waits for every OSD to be up. */
  async function start(): Promise<OsdMap> {
    const crush = simpleCrushText({ osds: nOsd, osdsPerHost: 1, hostsPerRack: 2 }, 'host');
    const c = await sim.result(client.submit({ type: 'rados.mon.setCrush', crush }));
    if (!c.ok) throw new Error(`setCrush: ${JSON.stringify(c)}`);
    if (o.pool ?? true) {
      const p = await sim.result(client.submit({ type: 'rados.mon.poolCreate', name: 'rbd', pgNum: 32, size: Math.min(3, nOsd) }));
      if (!p.ok) throw new Error(`poolCreate: ${JSON.stringify(p)}`);
    }
    return (await until('every OSD up', (m) => m.osds.length === nOsd && m.osds.every((x) => x.up && x.in), 60_000)).map;
  }

  return { sim, monRefs, osdRefs, client, admin, crash, monStatus, osdStatus, map, until, start, sleep };
}
