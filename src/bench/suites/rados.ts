/**
 * Bench suite `rados`: the object data path on this machine (thesis ch. 6–7), the shape of
 * `rados bench`. A one-node Ceph-style cluster (`startLocalCluster` with `ceph`: 3 monitors on the
 * main thread, 4 OSDs on 2 worker threads, each with an object store on the real disk), and an
 * object client in the main thread. Every write waits for its commit (on disk on every replica).
 *
 * - `write-4m-t16` / `read-4m-t16`: 4 MiB objects, 16 in flight, pool of size 3 (bytes/s);
 * - `write-4k-t16` / `read-4k-t16`: 4 KiB objects, 16 in flight (ops/s);
 * - `write-4k-t1`: 4 KiB writes one at a time (ops/s, with p50/p99 latency);
 * - baselines: `write-4m-t16:1-replica` (pool of size 1) and `write-4m-t16:oplog` (the same bytes
 *   through the storage layer's object store alone, 16 transactions in flight, each awaited to its
 *   commit);
 * - with `TROUPE_CEPH_CONF` (a running Ceph's ceph.conf) and `rados` on the PATH: real Ceph's
 *   `rados bench` with the same sizes and concurrency (`…:ceph`), in pool `TROUPE_CEPH_POOL`
 *   (default `rep3`).
 * Targets (issue): write-4m-t16 ≥ 0.5 × write-4m-t16:1-replica; 1-replica ≥ 0.7 × oplog.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalCluster, type LocalCluster } from '../../cluster/local-cluster.js';
import { adminMonitorClient } from '../../cluster/ceph-cluster.js';
import { RadosClient, type IoCtx } from '../../actors/rados/client/client.js';
import { ObjectStore, type TransactionOp } from '../../storage/object-store.js';
import { NodeDisk } from '../../storage/node/node-disk.js';
import { deferMacrotask } from '../../runtime/node/env.js';
import type { BenchCase, BenchSuite } from '../harness.js';

const MIB = 1024 * 1024;
const BIG = 4 * MIB;
const SMALL = 4 * 1024;
const T = 16;
const BIG_PER_ITER = 32;
const SMALL_PER_ITER = 512;
const T1_PER_ITER = 64;
/** Object names cycle through this many per case, so the stores stay bounded. */
const RING = 64;

interface Real {
  readonly cluster: LocalCluster;
  readonly dir: string;
  readonly client: RadosClient;
  readonly r3: IoCtx;
  readonly r1: IoCtx;
}

let real: Promise<Real> | undefined;

async function startReal(): Promise<Real> {
  const dir = mkdtempSync(join(tmpdir(), 'troupe-bench-rados-'));
  const cluster = await startLocalCluster({ dataDir: dir, gfs: false, ceph: { osds: 4 }, workers: 2, port: 0, webPort: false, logger: () => {} });
  const ceph = cluster.ceph;
  if (ceph === undefined) throw new Error('the cluster has no Ceph roles');
  const sys = cluster.node.system;
  const mon = adminMonitorClient((to, msg, opts) => sys.ask(to, msg, opts), ceph.monitors);
  for (const [name, size] of [['bench3', 3], ['bench1', 1]] as const) {
    const r = await mon.submit({ type: 'rados.mon.poolCreate', name, pgNum: 32, size, minSize: 1 });
    if (!r.ok && r.error.serviceCode !== 'pool_exists') throw new Error(`pool ${name}: ${r.error.message}`);
  }
  const c = await RadosClient.connect({ system: sys, monitors: ceph.monitors, name: 'bench', config: { opTimeoutMs: 120_000 } });
  if (!c.ok) throw new Error(`client: ${c.error.message}`);
  const client = c.value;
  const r3 = client.pool('bench3');
  const r1 = client.pool('bench1');
  // Every OSD up and every PG active: a write to each PG's objects commits.
  for (const io of [r3, r1]) {
    for (let i = 0; i < 64; i++) {
      const w = await io.writeFull(`warm-${i}`, new Uint8Array(1)).commit;
      if (!w.ok) throw new Error(`warm-up write: ${w.error.message}`);
    }
  }
  return { cluster, dir, client, r3, r1 };
}

function realCluster(): Promise<Real> {
  real ??= startReal();
  return real;
}

async function closeReal(): Promise<void> {
  if (real === undefined) return;
  const r = await real;
  real = undefined;
  r.client.close();
  await r.cluster.close();
  rmSync(r.dir, { recursive: true, force: true });
}

/** `n` operations, `t` in flight. */
async function inFlight(n: number, t: number, op: (i: number) => Promise<{ ok: boolean; error?: { message: string } }>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      const r = await op(i);
      if (!r.ok) throw new Error(`operation ${i} failed: ${r.error?.message ?? '?'}`);
    }
  };
  await Promise.all(Array.from({ length: t }, worker));
}

function pattern(size: number, seed: number): Uint8Array {
  const b = new Uint8Array(size);
  for (let i = 0; i < size; i += 64) b[i] = (i + seed) & 0xff;
  return b;
}

function writeCase(name: string, pool: 'r3' | 'r1', size: number, count: number, t: number, shape: string): BenchCase {
  const data = pattern(size, 1);
  let round = 0;
  return {
    name,
    unit: size === BIG ? 'bytes' : 'ops',
    perIteration: size === BIG ? count * size : count,
    shape,
    setup: async () => {
      await realCluster();
    },
    run: async () => {
      const r = await realCluster();
      const base = round++ * count;
      await inFlight(count, t, (i) => r[pool].writeFull(`${name}-${(base + i) % RING}`, data).commit);
    },
  };
}

function readCase(name: string, size: number, count: number, t: number, shape: string): BenchCase {
  return {
    name,
    unit: size === BIG ? 'bytes' : 'ops',
    perIteration: size === BIG ? count * size : count,
    shape,
    setup: async () => {
      const r = await realCluster();
      const data = pattern(size, 2);
      await inFlight(Math.min(count, RING), t, (i) => r.r3.writeFull(`${name}-${i}`, data).commit);
    },
    run: async () => {
      const r = await realCluster();
      await inFlight(count, t, (i) => r.r3.read(`${name}-${i % Math.min(count, RING)}`));
    },
  };
}

function oplogCase(): BenchCase {
  let store: ObjectStore | undefined;
  let dir = '';
  let round = 0;
  const data = pattern(BIG, 3);
  return {
    name: 'write-4m-t16:oplog',
    unit: 'bytes',
    perIteration: BIG_PER_ITER * BIG,
    shape: `${BIG_PER_ITER} transactions writing a 4 MiB object each, ${T} in flight, each awaited to its commit, on one ObjectStore on the real disk (no network, no replication)`,
    setup: async () => {
      dir = mkdtempSync(join(tmpdir(), 'troupe-bench-rados-oplog-'));
      store = await ObjectStore.open(new NodeDisk(dir), { dir: 'store', defer: deferMacrotask });
      await store.submit({ ops: [{ op: 'createCollection', cid: 'c' }] }).committed;
    },
    run: async () => {
      const s = store as ObjectStore;
      const base = round++ * BIG_PER_ITER;
      await inFlight(BIG_PER_ITER, T, async (i) => {
        const oid = `o${(base + i) % RING}`;
        const ops: TransactionOp[] = s.stat('c', oid) === undefined ? [] : [{ op: 'truncate', cid: 'c', oid, sizeBytes: 0 }];
        ops.push({ op: 'write', cid: 'c', oid, offsetBytes: 0, data });
        await s.submit({ ops }).committed;
        return { ok: true };
      });
    },
    teardown: async () => {
      await store?.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function latencyCase(): BenchCase {
  const data = pattern(SMALL, 4);
  return {
    name: 'write-4k-t1',
    unit: 'ops',
    perIteration: T1_PER_ITER,
    shape: `${T1_PER_ITER * 4} writes of 4 KiB objects one at a time (each awaited to its commit), pool of size 3; p50/p99 over all of them`,
    run: () => undefined,
    rate: async () => {
      const r = await realCluster();
      const lat: number[] = [];
      const start = performance.now();
      for (let i = 0; i < T1_PER_ITER * 4; i++) {
        const t0 = performance.now();
        const w = await r.r3.writeFull(`lat-${i % RING}`, data).commit;
        if (!w.ok) throw new Error(w.error.message);
        lat.push(performance.now() - t0);
      }
      const secs = (performance.now() - start) / 1000;
      lat.sort((a, b) => a - b);
      const p = (q: number): number => lat[Math.min(lat.length - 1, Math.floor(q * lat.length))] ?? 0;
      return { perSec: lat.length / secs, latencyP50Ms: p(0.5), latencyP99Ms: p(0.99) };
    },
  };
}

/** Real Ceph's `rados bench` beside the Troupe cases (see the module comment). */
function cephCases(): BenchCase[] {
  const conf = process.env['TROUPE_CEPH_CONF'];
  if (conf === undefined || conf === '') {
    process.stderr.write('rados: TROUPE_CEPH_CONF is not set, so the :ceph cases are skipped; start a Ceph cluster and set it to its ceph.conf to compare with real Ceph\n');
    return [];
  }
  if (spawnSync('sh', ['-c', 'command -v rados'], { stdio: 'ignore' }).status !== 0) {
    process.stderr.write('rados: rados (Ceph) is not on the PATH, so the :ceph cases are skipped\n');
    return [];
  }
  const pool = process.env['TROUPE_CEPH_POOL'] ?? 'rep3';
  const secs = Number(process.env['TROUPE_CEPH_SECS'] ?? '10');
  const bench = (name: string, size: number, t: number, objects: number): BenchCase => ({
    name,
    unit: size === BIG ? 'bytes' : 'ops',
    perIteration: size === BIG ? objects * size : objects,
    selfTimed: true,
    shape: `rados -c $TROUPE_CEPH_CONF -p ${pool} bench ${secs} write -b ${size} -t ${t} --max-objects ${objects} (real Ceph); time and count as rados reports them`,
    run: async () => {
      const out = await new Promise<string>((resolve, reject) => {
        execFile('rados', ['-c', conf, '-p', pool, 'bench', String(secs), 'write', '-b', String(size), '-t', String(t), '--max-objects', String(objects)], { maxBuffer: 16 << 20 }, (err, stdout, stderr) => (err === null ? resolve(stdout) : reject(new Error(`rados bench failed: ${err.message}\n${stderr}`))));
      });
      const time = /Total time run:\s+([\d.]+)/.exec(out);
      const writes = /Total writes made:\s+(\d+)/.exec(out);
      if (time === null || writes === null) throw new Error(`cannot read rados bench output:\n${out}`);
      const made = Number(writes[1]);
      if (!(made > 0)) throw new Error(`rados bench wrote nothing:\n${out}`);
      return (objects / made) * Number(time[1]) * 1000;
    },
  });
  return [bench('write-4m-t16:ceph', BIG, T, 64), bench('write-4k-t16:ceph', SMALL, T, 2_000), bench('write-4k-t1:ceph', SMALL, 1, 500)];
}

const cases: BenchCase[] = [
  writeCase('write-4m-t16', 'r3', BIG, BIG_PER_ITER, T, `${BIG_PER_ITER} writes of 4 MiB objects, ${T} in flight, each awaited to its commit; pool size 3 (primary-copy), 4 OSDs on 2 worker threads, real disk`),
  writeCase('write-4m-t16:1-replica', 'r1', BIG, BIG_PER_ITER, T, 'as write-4m-t16 with a pool of size 1'),
  oplogCase(),
  readCase('read-4m-t16', BIG, BIG_PER_ITER, T, `${BIG_PER_ITER} reads of 4 MiB objects, ${T} in flight; pool size 3`),
  writeCase('write-4k-t16', 'r3', SMALL, SMALL_PER_ITER, T, `${SMALL_PER_ITER} writes of 4 KiB objects, ${T} in flight, each awaited to its commit; pool size 3`),
  readCase('read-4k-t16', SMALL, SMALL_PER_ITER, T, `${SMALL_PER_ITER} reads of 4 KiB objects, ${T} in flight; pool size 3`),
  { ...latencyCase(), teardown: closeReal },
  ...cephCases(),
];

const suite: BenchSuite = {
  name: 'rados',
  cases,
  targets: [
    { name: 'write-4m-t16', baseline: 'write-4m-t16:1-replica', atLeast: 0.5 },
    { name: 'write-4m-t16:1-replica', baseline: 'write-4m-t16:oplog', atLeast: 0.7 },
  ],
  timeMs: 2_000,
  iterations: 3,
};

export default suite;
