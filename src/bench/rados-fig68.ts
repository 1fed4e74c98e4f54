/**
 * Thesis Figs 6.8–6.10 (§6.4.0.2; digest §6.2 B10): write latency under primary-copy, chain and
 * splay replication for 1–6 replicas, for small (4 KiB) and large (1 MiB) writes — here in the
 * actor simulator, with the real OSDs, monitors and object client, on virtual time.
 *
 * Setup: 3 monitors and 7 OSDs, each on its own node; every node has a full-duplex NIC of
 * `--gbps` (default 1 Gbit/s, the thesis's testbed) and every link a fixed one-way latency of
 * `--hop-ms` (default 0.1 ms); disks take no time (the thesis plots the ack: applied in memory on
 * every replica). One pool per (mode, replicas); a client on a node of its own writes `--writes`
 * objects one at a time and the figure is the mean time from the write to its ack.
 *
 * `--slice-kib K` (default 64) sends updates of more than K KiB to replicas in K KiB pieces that
 * OSDs forward as they arrive (README D12); `--slice-kib 0` sends whole updates (store-and-forward).
 *
 * Run: `npm run build && node dist/bench/rados-fig68.js [--writes N] [--hop-ms X] [--gbps G] [--seed S] [--slice-kib K]`.
 */
import { RadosClient } from '../actors/rados/client/client.js';
import { MonitorClient } from '../actors/rados/monitor/client.js';
import type { MonitorMsg } from '../actors/rados/monitor/protocol.js';
import { DiskMonitorStore } from '../actors/rados/monitor/store.js';
import { osdMonitor } from '../actors/rados/mon/osd-monitor.js';
import { radosOsd } from '../actors/rados/osd/osd.js';
import { simpleCrushText } from '../actors/rados/osdmap/bootstrap.js';
import type { OsdMap, ReplicationMode } from '../actors/rados/osdmap/osd-map.js';
import type { ActorRef } from '../runtime/ref.js';
import { Simulation } from '../runtime/sim/simulation.js';
import { SimDisk } from '../storage/sim/sim-disk.js';

export interface Fig68Options {
  readonly writes: number;
  readonly hopMs: number;
  readonly gbps: number;
  readonly seed: number;
  readonly sizes: readonly number[];
  readonly replicas: readonly number[];
  readonly modes: readonly ReplicationMode[];
  /** Pipelined replication: updates with more data are sent to replicas in pieces of this size (0: whole, store-and-forward; README D12). */
  readonly sliceBytes: number;
}

export interface Fig68Point {
  readonly mode: ReplicationMode;
  readonly replicas: number;
  readonly sizeBytes: number;
  readonly ackMs: number;
  readonly commitMs: number;
}

export async function fig68(o: Fig68Options): Promise<Fig68Point[]> {
  const nOsd = Math.max(...o.replicas) + 1;
  const sim = new Simulation({ seed: o.seed, network: { latencyMinMs: o.hopMs, latencyMaxMs: o.hopMs }, logLimit: 1_000, traceLimit: 1_000 });
  const bytesPerSec = (o.gbps * 1e9) / 8;
  const monRefs: ActorRef<MonitorMsg>[] = [0, 1, 2].map((r) => ({ node: `mon${r}`, id: 'mon' }));
  for (let rank = 0; rank < 3; rank++) {
    const disk = new SimDisk({ random: sim.random.fork(`mon${rank}`) });
    sim.addNode(`mon${rank}`, (system) => {
      system.spawn(osdMonitor({ rank, monitors: monRefs, store: new DiskMonitorStore(disk, 'mon') }), { name: 'mon' });
    });
  }
  for (let id = 0; id < nOsd; id++) {
    const disk = new SimDisk({ random: sim.random.fork(`osd${id}`) });
    sim.addNode(`osd${id}`, (system) => {
      system.spawn(radosOsd({ id, monitors: monRefs, storage: { disk, dir: 'osd', config: { checkpointEveryLogBytes: 0 } }, dataPath: { readLeaseMs: 4_000, repSliceBytes: o.sliceBytes } }), { name: 'osd' });
    });
  }
  const admin = sim.addNode('admin', () => {});
  const clientNode = sim.addNode('client', () => {});
  for (const n of [...Array.from({ length: nOsd }, (_, i) => `osd${i}`), 'client']) sim.network.setNic(n, { egressBytesPerSec: bytesPerSec, ingressBytesPerSec: bytesPerSec });
  const sleep = (ms: number): Promise<void> => new Promise((resolve) => sim.after(ms, resolve));
  const mon = new MonitorClient({ ask: (to, msg, opts) => admin.system.ask(to, msg, opts), monitors: monRefs, timeoutMs: 1_000, attemptsMax: 30, sleep, backoffMs: 500 });
  const must = async <T>(p: Promise<{ ok: boolean; error?: { message: string } } & T>): Promise<T> => {
    const r = await sim.result(p);
    if (!r.ok) throw new Error(r.error?.message ?? 'failed');
    return r;
  };
  await must(mon.submit({ type: 'rados.mon.setCrush', crush: simpleCrushText({ osds: nOsd, osdsPerHost: 1, hostsPerRack: nOsd }, 'host') }));
  for (const mode of o.modes) for (const r of o.replicas) await must(mon.submit({ type: 'rados.mon.poolCreate', name: `${mode}-${r}`, pgNum: 8, size: r, minSize: 1, replication: mode }));
  for (let i = 0; ; i++) {
    const m = await sim.result(mon.read<OsdMap>());
    if (m.ok && m.value.state !== undefined && m.value.state.osds.filter((x) => x.up).length === nOsd) break;
    if (i > 300) throw new Error('OSDs did not come up');
    await sim.run({ forMs: 200 });
  }
  await sim.run({ forMs: 3_000 });
  const c = await sim.result(RadosClient.connect({ system: clientNode.system, monitors: monRefs, name: 'fig68' }));
  if (!c.ok) throw new Error(c.error.message);
  const client = c.value;
  const points: Fig68Point[] = [];
  for (const sizeBytes of o.sizes) {
    const data = new Uint8Array(sizeBytes);
    for (const mode of o.modes) {
      for (const r of o.replicas) {
        const io = client.pool(`${mode}-${r}`);
        // Warm-up: one write per PG activates it.
        for (let i = 0; i < 16; i++) await must(io.writeFull(`warm-${i}`, new Uint8Array(1)).commit);
        let ack = 0;
        let commit = 0;
        for (let i = 0; i < o.writes; i++) {
          const t0 = sim.now;
          const h = io.writeFull(`obj-${sizeBytes}-${i}`, data);
          await must(h.ack);
          ack += sim.now - t0;
          await must(h.commit);
          commit += sim.now - t0;
        }
        points.push({ mode, replicas: r, sizeBytes, ackMs: ack / o.writes, commitMs: commit / o.writes });
      }
    }
  }
  client.close();
  return points;
}

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? def : Number(process.argv[i + 1]);
}

if (process.argv[1]?.endsWith('rados-fig68.js') === true) {
  const o: Fig68Options = { writes: arg('writes', 20), hopMs: arg('hop-ms', 0.1), gbps: arg('gbps', 1), seed: arg('seed', 1), sizes: [4 * 1024, 1024 * 1024], replicas: [1, 2, 3, 4, 5, 6], modes: ['primary-copy', 'chain', 'splay'], sliceBytes: arg('slice-kib', 64) * 1024 };
  const points = await fig68(o);
  for (const size of o.sizes) {
    process.stdout.write(`\nwrite size ${size / 1024} KiB: mean ack latency, ms (virtual time; hop ${o.hopMs} ms, ${o.gbps} Gbit/s NICs, ${o.writes} writes, ${o.sliceBytes === 0 ? 'whole updates' : `${o.sliceBytes / 1024} KiB pieces`})\n`);
    process.stdout.write(`| replicas | ${o.modes.join(' | ')} | ${o.modes.map((m) => `${m} ÷ 1×`).join(' | ')} |\n|---|${o.modes.map(() => '---|').join('')}${o.modes.map(() => '---|').join('')}\n`);
    for (const r of o.replicas) {
      const row = o.modes.map((m) => points.find((p) => p.mode === m && p.replicas === r && p.sizeBytes === size)!.ackMs);
      const base = o.modes.map((m) => points.find((p) => p.mode === m && p.replicas === 1 && p.sizeBytes === size)!.ackMs);
      process.stdout.write(`| ${r} | ${row.map((x) => x.toFixed(3)).join(' | ')} | ${row.map((x, i) => (x / base[i]!).toFixed(2)).join(' | ')} | per replica (Fig. 6.10): ${row.map((x) => (x / r).toFixed(2)).join(' / ')} |\n`);
    }
  }
  process.exit(0);
}
