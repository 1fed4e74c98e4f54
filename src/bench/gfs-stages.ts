#!/usr/bin/env node
/**
 * Where a GFS write's time goes, stage by stage (a diagnostic, not a bench case):
 * `node dist/bench/gfs-stages.js [--writes N] [--clients K] [--slice KiB] [--no-storage] [--only-16] [--no-journal]`,
 * optionally under `--cpu-prof` (a profile per thread). `--no-journal`: chunk stores without their
 * write-ahead journal (each sync fsyncs the chunk's data and checksum files), for a before/after.
 *
 * 1. Storage alone, on a temp folder of the real disk: 1 MiB writes to a `ChunkStore`, each
 *    followed by `sync`, with every disk call timed (write, data fsync, checksum-file work).
 * 2. A one-node cluster (`startLocalCluster`, 4 chunkservers on 2 worker threads, RPC logs on):
 *    K clients each write N MiB in 1 MiB writes to their own 3-replica file; then 16 clients write
 *    4 MiB at a time to their own files. The client's asks are
 *    timed per message type (the push of a 1 MiB slice down the chain, the write request to the
 *    primary), and the chunkservers' RPC logs give the time each request spent on each server
 *    (the push at the head includes its forward; the primary's write includes its secondaries').
 * Prints medians and 90th percentiles in ms.
 */
// First: sizes libuv's thread pool as the cluster's entry points do.
import '../runtime/node/threadpool.js';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { realClock, realTimers } from '../runtime/node/env.js';
import { NodeDisk } from '../storage/node/node-disk.js';
import type { Disk, DiskFile } from '../storage/disk.js';
import { ChunkStore } from '../storage/chunk-store.js';
import { startLocalCluster, MASTER_REF, SHADOW_REF } from '../cluster/local-cluster.js';
import { GfsClient } from '../actors/gfs/client/client.js';
import type { ClusterStatus, MasterMsg } from '../actors/gfs/protocol.js';
import type { GfsResult } from '../actors/gfs/errors.js';
import { defaultGfsConfig } from '../actors/gfs/config.js';

const MIB = 1024 * 1024;

class Timings {
  readonly by = new Map<string, number[]>();
  add(what: string, ms: number): void {
    const l = this.by.get(what);
    if (l === undefined) this.by.set(what, [ms]);
    else l.push(ms);
  }
  print(title: string): void {
    console.log(`\n${title}`);
    for (const [what, xs] of [...this.by].sort()) {
      const s = [...xs].sort((a, b) => a - b);
      const q = (p: number): number => s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? 0;
      console.log(`  ${what.padEnd(44)} n=${String(s.length).padStart(5)}  p50 ${q(0.5).toFixed(2).padStart(7)}  p90 ${q(0.9).toFixed(2).padStart(7)}  sum ${s.reduce((a, b) => a + b, 0).toFixed(0).padStart(7)} ms`);
    }
  }
}

function timedDisk(inner: Disk, t: Timings): Disk {
  const time = async <T>(what: string, p: Promise<T>): Promise<T> => {
    const started = performance.now();
    try {
      return await p;
    } finally {
      t.add(what, performance.now() - started);
    }
  };
  const kind = (path: string): string => (path.endsWith('.chunk') ? 'data' : path.endsWith('.tmp') ? 'crc-tmp' : path.includes('/journal-') ? 'journal' : 'crc');
  const wrap = (f: DiskFile): DiskFile => ({
    path: f.path,
    sizeBytes: () => f.sizeBytes(),
    read: (o, n) => time(`read ${kind(f.path)}`, f.read(o, n)),
    readInto: (o, into) => time(`read ${kind(f.path)}`, f.readInto(o, into)),
    write: (o, d) => time(`write ${kind(f.path)}`, f.write(o, d)),
    append: (d) => time(`append ${kind(f.path)}`, f.append(d)),
    truncate: (n) => time(`truncate ${kind(f.path)}`, f.truncate(n)),
    fsync: () => time(`fsync ${kind(f.path)}`, f.fsync()),
    close: () => time(`close ${kind(f.path)}`, f.close()),
  });
  return {
    open: async (path, options) => wrap(await time(`open ${kind(path)}`, inner.open(path, options))),
    stat: (path) => inner.stat(path),
    list: (dir) => inner.list(dir),
    rename: (from, to) => time('rename (+dir sync)', inner.rename(from, to)),
    remove: (path, options) => inner.remove(path, options),
    freeSpaceBytes: () => inner.freeSpaceBytes(),
  };
}

const journal = !process.argv.includes('--no-journal');
const journalConfig = journal ? { journalSegmentBytes: defaultGfsConfig.chunkJournalSegmentBytes, journalBytesMax: defaultGfsConfig.chunkJournalBytesMax } : { journalSegmentBytes: 0 };

async function storageStages(writes: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'troupe-stages-'));
  const t = new Timings();
  try {
    const store = await ChunkStore.open(timedDisk(new NodeDisk(dir), t), { dir: 'c', clock: realClock, config: { chunkSizeBytes: 64 * MIB, ...journalConfig } });
    await store.create('a', 1);
    const data = new Uint8Array(MIB).fill(7);
    const started = performance.now();
    for (let i = 0; i < writes; i++) {
      const w0 = performance.now();
      await store.write('a', i * MIB, data);
      const w1 = performance.now();
      await store.sync('a');
      t.add('store.write (incl. CRC)', w1 - w0);
      t.add('store.sync', performance.now() - w1);
    }
    const ms = performance.now() - started;
    await store.close();
    t.print(`storage (${journal ? 'journal' : 'no journal'}): ${writes} x 1 MiB write + sync: ${((writes * MIB) / (ms / 1000) / 1e6).toFixed(0)} MB/s`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function clusterStages(writesPerClient: number, clients: number, sliceBytes: number | undefined, writeBytes = MIB): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'troupe-stages-cluster-'));
  const t = new Timings();
  const cluster = await startLocalCluster({ dataDir: dir, chunkservers: 4, workers: 2, port: 0, webPort: false, chunkSizeBytes: 64 * MIB, log: { stderrLevel: false }, config: { chunkJournalSegmentBytes: journalConfig.journalSegmentBytes } });
  try {
    const sys = cluster.node.system;
    for (let i = 0; ; i++) {
      const s = await sys.ask<GfsResult<ClusterStatus>>(MASTER_REF, { type: 'gfs.master.status' } satisfies MasterMsg);
      if (s.ok && s.value.servers.filter((v) => v.alive).length >= 4) break;
      if (i > 200) throw new Error('chunkservers did not register');
      await new Promise((r) => setTimeout(r, 50));
    }
    const make = (n: number): GfsClient =>
      new GfsClient({
        ask: async (to, msg, opts) => {
          const started = performance.now();
          try {
            return await sys.ask(to, msg, opts);
          } finally {
            t.add(`client ask ${(msg as { type: string }).type}`, performance.now() - started);
          }
        },
        clock: realClock,
        timers: realTimers,
        masters: [MASTER_REF, SHADOW_REF],
        clientId: `stages-${n}`,
        host: hostname(),
        config: { chunkSizeBytes: 64 * MIB, rpcTimeoutMs: 30_000 },
        ...(sliceBytes === undefined ? {} : { sliceBytes }),
      });
    const cs = Array.from({ length: clients }, (_, i) => make(i));
    await cs[0]!.mkdirs('/s');
    const data = new Uint8Array(writeBytes).fill(9);
    for (const [i, c] of cs.entries()) {
      await c.create(`/s/f${i}`);
      await c.write(`/s/f${i}`, 0, data); // warm: chunk created, lease granted
    }
    t.by.clear();
    const started = performance.now();
    await Promise.all(
      cs.map(async (c, i) => {
        for (let k = 1; k <= writesPerClient; k++) {
          const w0 = performance.now();
          await c.write(`/s/f${i}`, k * writeBytes, data);
          t.add(`client.write (${writeBytes / MIB} MiB, whole)`, performance.now() - w0);
        }
      }),
    );
    const ms = performance.now() - started;
    t.print(`cluster (${journal ? 'journal' : 'no journal'}): ${clients} client(s) x ${writesPerClient} x ${writeBytes / MIB} MiB 3-replica writes: ${((clients * writesPerClient * writeBytes) / (ms / 1000) / 1e6).toFixed(0)} MB/s`);
    if (clients === 1) {
      // Verified reads back, 4 MiB at a time (as the read-verified bench case).
      t.by.clear();
      const r0 = performance.now();
      let bytes = 0;
      for (let round = 0; round < 4; round++) {
        for (let at = 0; at + 4 * MIB <= (writesPerClient + 1) * MIB; at += 4 * MIB) {
          const w0 = performance.now();
          bytes += (await cs[0]!.read('/s/f0', at, 4 * MIB)).length;
          t.add('client.read (4 MiB, whole)', performance.now() - w0);
        }
      }
      t.print(`cluster: 1 client, 4 MiB verified reads: ${(bytes / ((performance.now() - r0) / 1000) / 1e6).toFixed(0)} MB/s`);
    }
  } finally {
    await cluster.close();
  }
  const rpc = new Timings();
  const logs = join(dir, 'logs');
  for (const f of readdirSync(logs).filter((n) => n.startsWith('rpc-'))) {
    for (const line of readFileSync(join(logs, f), 'utf8').split('\n')) {
      if (line === '') continue;
      const e = JSON.parse(line) as { msg?: string; fields?: Record<string, unknown> } & Record<string, unknown>;
      const fields = (e.fields ?? e) as Record<string, unknown>;
      const type = String(e.msg ?? fields['msg'] ?? '');
      const ms = Number(fields['durationMs']);
      if (!type.startsWith('gfs.chunkserver.') || !Number.isFinite(ms)) continue;
      const extra = type === 'gfs.chunkserver.pushData' ? ` (chain left ${String(fields['chainLeft'])})` : '';
      rpc.add(`server ${type.slice('gfs.chunkserver.'.length)}${extra}`, ms);
    }
  }
  rpc.print('chunkserver RPC log (time from receipt to reply; pushes: last slice only)');
  rmSync(dir, { recursive: true, force: true });
}

async function main(): Promise<void> {
  const arg = (name: string, dflt: number): number => {
    const i = process.argv.indexOf(name);
    return i < 0 ? dflt : Number(process.argv[i + 1]);
  };
  const slice = process.argv.includes('--slice') ? arg('--slice', 0) * 1024 : undefined;
  if (!process.argv.includes('--no-storage')) await storageStages(arg('--writes', 32));
  if (!process.argv.includes('--only-16')) await clusterStages(arg('--writes', 32), arg('--clients', 1), slice);
  // 16 clients, 4 MiB writes (the shape of write-3-replicas-16-clients and rados bench -t 16 -b 4M).
  await clusterStages(Math.max(2, Math.floor(arg('--writes', 32) / 8)), 16, slice, 4 * MIB);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
