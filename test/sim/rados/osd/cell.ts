/**
 * A Ceph-style cluster with the object data path in the simulator: 3 monitors and N OSDs, each OSD
 * with an object store on its own simulated disk (kept across crashes: a crash loses what was not
 * synced), a pool in the chosen replication mode, and object clients on nodes of their own. A probe
 * records every apply, commit, ack and commit-to-client for the checkers (checkers.ts).
 */
import type { ActorRef } from '../../../../src/index.js';
import { Simulation, SimDisk, simDisks, ssdTiming } from '../../../../src/testkit.js';
import { DiskMonitorStore } from '../../../../src/actors/rados/monitor/store.js';
import { MonitorClient } from '../../../../src/actors/rados/monitor/client.js';
import type { MonitorMsg } from '../../../../src/actors/rados/monitor/protocol.js';
import { osdMonitor } from '../../../../src/actors/rados/mon/osd-monitor.js';
import { radosOsd, type OsdConfig, type OsdMsg, type OsdStatus } from '../../../../src/actors/rados/osd/osd.js';
import type { OsdMap, ReplicationMode } from '../../../../src/actors/rados/osdmap/osd-map.js';
import { simpleCrushText } from '../../../../src/actors/rados/osdmap/bootstrap.js';
import type { DataPathConfig, PgStatsConfig, ScrubConfig } from '../../../../src/actors/rados/config.js';
import type { ObjectStore } from '../../../../src/storage/object-store.js';
import { RadosClient, type RadosClientConfig } from '../../../../src/actors/rados/client/client.js';
import type { DataPathProbe } from '../../../../src/actors/rados/osd/data-path.js';
import type { Eversion } from '../../../../src/actors/rados/osd/pg-log.js';
import type { PgStat } from '../../../../src/actors/rados/osd/pg-stats.js';
import { simOsdConfig, simOsdMapConfig } from '../ceph/cluster.js';

export interface ProbeEvent {
  readonly at: number;
  readonly kind: 'applied' | 'committed' | 'acked' | 'commitSent' | 'recoveryRead' | 'recoveryActive';
  readonly osd: number;
  readonly pg: string;
  readonly version: Eversion;
  readonly reqid: string;
  readonly acting?: readonly number[];
  readonly op?: string;
  /** recoveryRead: the object and the recovery (primary@epoch#peering); recoveryActive: operations in flight. */
  readonly oid?: string;
  readonly recovery?: string;
  readonly n?: number;
}

export interface DataCellOptions {
  readonly seed: number;
  readonly osds?: number;
  readonly replication?: ReplicationMode;
  readonly size?: number;
  /** The pool's min_size (default 1). */
  readonly minSize?: number;
  readonly pgNum?: number;
  readonly clients?: number;
  readonly dataPath?: Partial<DataPathConfig>;
  readonly client?: Partial<RadosClientConfig>;
  /** OSD settings over the simulator's (e.g. a short map history). */
  readonly osd?: Partial<OsdConfig>;
  readonly scrub?: Partial<ScrubConfig>;
  readonly pgStats?: Partial<PgStatsConfig>;
  /** Marks down OSDs out after this long (default: never within a test, so PGs do not remap to empty OSDs). */
  readonly downOutIntervalMs?: number;
}

export const osdNodeName = (id: number): string => `osd${id}`;
export const POOL = 'data';

export const simDataPathConfig: Partial<DataPathConfig> = { readLeaseMs: 4_000, activateTimeoutMs: 1_000 };

export function dataCell(o: DataCellOptions) {
  const nOsd = o.osds ?? 4;
  const sim = new Simulation({ seed: o.seed, network: { latencyMinMs: 0.2, latencyMaxMs: 2 }, logLimit: 5_000, traceLimit: 20_000 });
  const newDisk = simDisks({ random: sim.random, scheduler: sim.scheduler(), timing: ssdTiming });
  const monRefs: ActorRef<MonitorMsg>[] = [0, 1, 2].map((r) => ({ node: `mon${r}`, id: 'mon' }));
  const osdRefs: ActorRef<OsdMsg>[] = Array.from({ length: nOsd }, (_, i) => ({ node: osdNodeName(i), id: 'osd' }));
  const disks = new Map<string, SimDisk>();
  /** Each OSD's object store as last opened (a restart opens a new one). */
  const stores = new Map<number, ObjectStore>();
  const events: ProbeEvent[] = [];
  const probe: DataPathProbe = {
    applied: (osd, pg, version, reqid, op) => events.push({ at: sim.now, kind: 'applied', osd, pg, version, reqid, op }),
    committed: (osd, pg, version, reqid) => events.push({ at: sim.now, kind: 'committed', osd, pg, version, reqid }),
    acked: (osd, pg, version, reqid, acting) => events.push({ at: sim.now, kind: 'acked', osd, pg, version, reqid, acting }),
    commitSent: (osd, pg, version, reqid, acting) => events.push({ at: sim.now, kind: 'commitSent', osd, pg, version, reqid, acting }),
    recoveryRead: (osd, pg, oid, recovery) => events.push({ at: sim.now, kind: 'recoveryRead', osd, pg, version: { epoch: 0, v: 0 }, reqid: '', oid, recovery }),
    recoveryActive: (osd, n) => events.push({ at: sim.now, kind: 'recoveryActive', osd, pg: '', version: { epoch: 0, v: 0 }, reqid: '', n }),
  };
  const osdmap = { ...simOsdMapConfig, downOutIntervalMs: o.downOutIntervalMs ?? 3_600_000 };
  for (let rank = 0; rank < 3; rank++) {
    const node = `mon${rank}`;
    disks.set(node, newDisk(node));
    sim.addNode(node, (system) => {
      system.spawn(osdMonitor({ rank, monitors: monRefs, store: new DiskMonitorStore(disks.get(node) as SimDisk, 'mon'), osdmap, ...(o.pgStats === undefined ? {} : { pgStats: o.pgStats }) }), { name: 'mon', supervision: { strategy: 'stop' } });
    });
  }
  for (let id = 0; id < nOsd; id++) {
    const node = osdNodeName(id);
    disks.set(node, newDisk(node));
    sim.addNode(node, (system) => {
      system.spawn(
        radosOsd({
          id,
          monitors: monRefs,
          config: { ...simOsdConfig, ...o.osd },
          osdmap,
          storage: { disk: disks.get(node) as SimDisk, dir: 'osd', config: { checkpointEveryLogBytes: 0 } },
          dataPath: { ...simDataPathConfig, ...o.dataPath },
          probe,
          onStoreOpened: (store) => stores.set(id, store),
          ...(o.scrub === undefined ? {} : { scrub: o.scrub }),
          ...(o.pgStats === undefined ? {} : { pgStats: o.pgStats }),
        }),
        { name: 'osd', supervision: { strategy: 'stop' } },
      );
    });
  }
  const admin = sim.addNode('admin', () => {});
  const clientNodes = Array.from({ length: o.clients ?? 2 }, (_, i) => sim.addNode(`client${i}`, () => {}));
  const sleep = (ms: number): Promise<void> => new Promise((resolve) => sim.after(ms, resolve));
  const mon = new MonitorClient({ ask: (to, msg, opts) => admin.system.ask(to, msg, opts), monitors: monRefs, timeoutMs: 1_000, attemptsMax: 30, sleep, backoffMs: 1_000 });

  function crash(node: string): void {
    sim.crash(node);
    const d = disks.get(node);
    if (d !== undefined) disks.set(node, d.crash());
  }

  async function map(): Promise<OsdMap> {
    const r = await sim.result(mon.read<OsdMap>());
    if (!r.ok || r.value.state === undefined) throw new Error(`map read failed: ${JSON.stringify(r)}`);
    return r.value.state;
  }

  async function until(what: string, pred: (m: OsdMap) => boolean, limitMs: number): Promise<OsdMap> {
    const start = sim.now;
    for (;;) {
      const m = await map();
      if (pred(m)) return m;
      if (sim.now - start > limitMs) throw new Error(`${what}: not within ${limitMs} ms (epoch ${m.epoch})`);
      await sim.run({ forMs: 200 });
    }
  }

  async function osdStatus(id: number): Promise<OsdStatus | undefined> {
    return sim.result(admin.system.ask<OsdStatus>(osdRefs[id] as ActorRef<OsdMsg>, { type: 'rados.osd.status' }, { timeoutMs: 1_000 }).catch(() => undefined));
  }

  /** Bootstraps the map (2 OSDs per rack, one per host), creates the pool, waits for every OSD up and every PG active. */
  async function start(): Promise<RadosClient[]> {
    const crush = simpleCrushText({ osds: nOsd, osdsPerHost: 1, hostsPerRack: 2 }, 'host');
    const c = await sim.result(mon.submit({ type: 'rados.mon.setCrush', crush }));
    if (!c.ok) throw new Error(`setCrush: ${JSON.stringify(c)}`);
    const size = o.size ?? Math.min(3, nOsd);
    const p = await sim.result(mon.submit({ type: 'rados.mon.poolCreate', name: POOL, pgNum: o.pgNum ?? 8, size, minSize: o.minSize ?? 1, replication: o.replication ?? 'primary-copy' }));
    if (!p.ok) throw new Error(`poolCreate: ${JSON.stringify(p)}`);
    await until('every OSD up', (m) => m.osds.length === nOsd && m.osds.every((x) => x.up && x.in), 60_000);
    await sim.run({ forMs: 3_000 });
    const clients: RadosClient[] = [];
    for (let i = 0; i < clientNodes.length; i++) {
      const r = await sim.result(RadosClient.connect({ system: clientNodes[i]!.system, monitors: monRefs, name: `client.${i}`, ...(o.client === undefined ? {} : { config: o.client }) }));
      if (!r.ok) throw new Error(`client connect: ${r.error.message}`);
      clients.push(r.value);
    }
    return clients;
  }

  /** Every PG's state as its primary reports it (pg-stats.ts), from every OSD that answers. */
  async function pgStats(): Promise<PgStat[]> {
    const out: PgStat[] = [];
    for (let id = 0; id < nOsd; id++) out.push(...((await osdStatus(id))?.pgs ?? []));
    return out;
  }

  /** Waits until every PG of the pool is reported active+clean by its primary. */
  async function untilClean(limitMs: number): Promise<PgStat[]> {
    const start = sim.now;
    for (;;) {
      const m = await map();
      const pool = m.pools.find((p) => p.name === POOL);
      const stats = await pgStats();
      const clean = stats.filter((s) => s.state === 'active+clean' && s.epoch === m.epoch);
      if (pool !== undefined && clean.length === pool.pgNum) return stats;
      if (sim.now - start > limitMs) throw new Error(`PGs not all active+clean within ${limitMs} ms: ${stats.map((s) => `${s.pgid} ${s.state}`).join(', ')}`);
      await sim.run({ forMs: 250 });
    }
  }

  return { sim, monRefs, osdRefs, mon, admin, crash, map, until, osdStatus, start, sleep, events, disks, stores, pgStats, untilClean };
}
