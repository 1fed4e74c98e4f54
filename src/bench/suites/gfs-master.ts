/**
 * Bench suite `gfs-master` (issue: GFS master). Lookups and creates through a real ActorSystem
 * with the master actor; creates log to a real disk with group commit. `create-same-dir` compares
 * the patent's per-path locks (¶58: concurrent creates in one directory) with one global lock.
 * Heap per chunk and per file are measured on the master's state after loading 1M of each
 * (the paper: under 64 bytes per chunk in C++, ¶41). `status-1m-files` against `status-10k-files`
 * checks that `troupe status` (and the dashboard's poll) costs the same with 100x the files
 * (issue #13 item 7: maintained counters, invariant M12).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { BenchCase, BenchSuite } from '../harness.js';
import { ActorSystem } from '../../runtime/system.js';
import type { ActorRef } from '../../runtime/ref.js';
import { deferMacrotask } from '../../runtime/node/env.js';
import { NodeDisk } from '../../storage/node/node-disk.js';
import { gfsMaster } from '../../actors/gfs/master/master.js';
import { MemoryJournal } from '../../actors/gfs/master/journal.js';
import { DiskJournal } from '../../actors/gfs/master/disk-journal.js';
import { MasterState, type MasterRecord } from '../../actors/gfs/master/master-state.js';
import type { GfsResult } from '../../actors/gfs/errors.js';
import type { ChunkReport, ChunkserverMsg, ClusterStatus, MasterMsg } from '../../actors/gfs/protocol.js';
import type { Journal } from '../../actors/gfs/master/journal.js';

const CLIENTS = 16;
/**
 * `create` measures the master's create throughput under group commit, which is bounded by
 * fsync round trips times the requests in flight: with 16 clients the run sits idle half the
 * time waiting for the disk, so the case uses 64. The same-directory pair keeps the 16.
 */
const CREATE_CLIENTS = 64;
const LOOKUPS = 20_000;
const CREATES = 4_000;
const FILES_FOR_LOOKUP = 1_000;

const quiet = (): void => {};

async function concurrently(n: number, total: number, op: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < total) await op(next++);
    }),
  );
}

function expectOk(r: GfsResult<unknown>): void {
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
}

function lookup(): BenchCase {
  let sys: ActorSystem;
  let master: ActorRef<MasterMsg>;
  return {
    name: 'lookup',
    unit: 'ops',
    perIteration: LOOKUPS,
    setup: async () => {
      sys = new ActorSystem({ node: 'bench', logger: quiet });
      // A namespace of 1,000 one-chunk files, as if recovered from the log.
      const journal = new MemoryJournal();
      const state = new MasterState();
      const records: MasterRecord[] = [{ op: 'mkdir', path: '/data', at: 0 }];
      const report: { handle: bigint; version: number; lengthBytes: number }[] = [];
      for (let i = 0; i < FILES_FOR_LOOKUP; i++) {
        const handle = state.nextHandle();
        records.push({ op: 'create', path: `/data/f${i}`, at: 0 }, { op: 'addChunk', path: `/data/f${i}`, index: 0, handle, version: 1, at: 0 });
        report.push({ handle, version: 1, lengthBytes: 1 << 20 });
      }
      await journal.append(1, records);
      master = sys.spawn(gfsMaster({ role: 'primary', journal, afterRestart: false }), { name: 'master', reentrant: true });
      const cs = sys.spawn<ChunkserverMsg>(() => ({ receive: () => ({ ok: true, value: {} }) }), { name: 'cs' });
      for (let s = 0; s < 3; s++) {
        expectOk(await sys.ask<GfsResult<unknown>>(master, { type: 'gfs.master.heartbeat', server: `cs${s}`, ref: cs, rack: `r${s}`, host: `h${s}`, usedBytes: 0, capacityBytes: 1e12, chunks: report }));
      }
    },
    run: () =>
      concurrently(CLIENTS, LOOKUPS, async (i) => {
        expectOk(await sys.ask<GfsResult<unknown>>(master, { type: 'gfs.master.getChunkLocations', path: `/data/f${i % FILES_FOR_LOOKUP}`, index: 0, count: 1 }));
      }),
    teardown: () => sys.shutdown(),
  };
}

const STATUS_ASKS = 2_000;
const STATUS_SERVERS = 5;
const STATUS_REPLICAS = 3;

/**
 * Status asks (`gfs.master.status`, what `troupe status` and the dashboard send) from 16 clients, to
 * a primary holding `files` one-chunk files in 1,000 directories, each chunk with 3 replicas over
 * 5 chunkservers that reported them all. The master recovers the state from a log of create and
 * addChunk records (1M create RPCs would take minutes) and counts as after a restart; the
 * chunkservers' full reports (¶45) then place every replica.
 */
function status(name: string, files: number): BenchCase {
  let sys: ActorSystem;
  let master: ActorRef<MasterMsg>;
  return {
    name,
    unit: 'ops',
    perIteration: STATUS_ASKS,
    shape: `${files} files of one chunk in 1,000 directories, ${STATUS_REPLICAS} replicas on ${STATUS_SERVERS} chunkservers; ${STATUS_ASKS} status asks from ${CLIENTS} clients per iteration`,
    setup: async () => {
      sys = new ActorSystem({ node: 'bench', logger: quiet });
      // What the master keeps (path strings, handles) is allocated first, then what it discards
      // (log records, chunk reports), so that the discarded objects fill pages of their own and
      // free them whole: interleaved, they left hundreds of MB of holes in the old generation.
      const dirs = Math.min(1_000, files);
      const paths = Array.from({ length: files }, (_, i) => `/data/d${i % dirs}/f${i}`);
      const handles = Array.from({ length: files }, (_, i) => BigInt(i + 1) << 16n);
      let records: MasterRecord[] | undefined = [{ op: 'mkdir', path: '/data', at: 0 }];
      for (let d = 0; d < dirs; d++) records.push({ op: 'mkdir', path: `/data/d${d}`, at: 0 });
      for (let i = 0; i < files; i++) {
        const path = paths[i] as string;
        records.push({ op: 'create', path, at: 0 }, { op: 'addChunk', path, index: 0, handle: handles[i] as bigint, version: 1, at: 0 });
      }
      const reports: ChunkReport[][] = Array.from({ length: STATUS_SERVERS }, () => []);
      for (let i = 0; i < files; i++) {
        for (let r = 0; r < STATUS_REPLICAS; r++) (reports[(i + r) % STATUS_SERVERS] as ChunkReport[]).push({ handle: handles[i] as bigint, version: 1, lengthBytes: 1 << 20 });
      }
      // The master recovers by replaying the log (its pure core's `apply`); handed over once, so
      // the records do not stay alive in the journal the master keeps.
      const journal: Journal = {
        load: async () => {
          const out = records ?? [];
          records = undefined;
          return { checkpoint: undefined, records: out };
        },
        append: async () => {},
        checkpoint: async () => {},
      };
      // The fake chunkservers send no heartbeats after their report: keep them counted as live for the run.
      master = sys.spawn(gfsMaster({ role: 'primary', journal, afterRestart: false, config: { chunkserverTimeoutMs: 3_600_000 } }), { name: 'master', reentrant: true });
      const cs = sys.spawn<ChunkserverMsg>(() => ({ receive: () => ({ ok: true, value: {} }) }), { name: 'cs' });
      for (let s = 0; s < STATUS_SERVERS; s++) {
        expectOk(await sys.ask<GfsResult<unknown>>(master, { type: 'gfs.master.heartbeat', server: `cs${s}`, ref: cs, rack: `r${s}`, host: `h${s}`, usedBytes: 0, capacityBytes: 1e12, chunks: reports[s] as ChunkReport[] }, { timeoutMs: 600_000 }));
        reports[s] = [];
      }
      const st = await sys.ask<GfsResult<ClusterStatus>>(master, { type: 'gfs.master.status' });
      // Measure from a settled heap: the setup's garbage (records, reports) collected in both cases alike.
      heapGc()();
      if (!st.ok || st.value.files !== files || st.value.chunks !== files || st.value.underReplicated !== 0 || st.value.missing !== 0) throw new Error(`unexpected status ${JSON.stringify(st.ok ? { ...st.value, servers: undefined } : st.error)}`);
    },
    run: () =>
      concurrently(CLIENTS, STATUS_ASKS, async () => {
        expectOk(await sys.ask<GfsResult<unknown>>(master, { type: 'gfs.master.status' }));
      }),
    teardown: () => sys.shutdown(),
  };
}

function creates(name: string, sameDir: boolean, locking: 'per-path' | 'global', clients = CLIENTS): BenchCase {
  let sys: ActorSystem;
  let master: ActorRef<MasterMsg>;
  let dir: string;
  let journal: DiskJournal;
  let round = 0;
  return {
    name,
    unit: 'ops',
    perIteration: CREATES,
    setup: async () => {
      dir = mkdtempSync(join(tmpdir(), 'troupe-bench-master-'));
      sys = new ActorSystem({ node: 'bench', logger: quiet });
      journal = new DiskJournal(new NodeDisk(dir), 'master', deferMacrotask);
      master = sys.spawn(gfsMaster({ role: 'primary', journal, afterRestart: false, config: { namespaceLocking: locking } }), { name: 'master', reentrant: true });
      for (let c = 0; c < clients; c++) expectOk(await sys.ask<GfsResult<unknown>>(master, { type: 'gfs.master.mkdir', path: `/c${c}` }));
    },
    run: async () => {
      const r = round++;
      expectOk(await sys.ask<GfsResult<unknown>>(master, { type: 'gfs.master.mkdir', path: `/r${r}` }));
      await concurrently(clients, CREATES, async (i) => {
        const path = sameDir ? `/r${r}/f${i}` : `/c${i % clients}/r${r}-f${i}`;
        expectOk(await sys.ask<GfsResult<unknown>>(master, { type: 'gfs.master.create', path }, { timeoutMs: 30_000 }));
      });
    },
    teardown: async () => {
      await sys.shutdown();
      await journal.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function heapGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

async function heapPer(count: number, load: (state: MasterState) => void): Promise<number> {
  const gc = heapGc();
  gc();
  const before = process.memoryUsage().heapUsed;
  const state = new MasterState();
  load(state);
  gc();
  const after = process.memoryUsage().heapUsed;
  if (state.nodes.size === 0) throw new Error('unreachable');
  return (after - before) / count;
}

const MILLION = 1_000_000;

const suite: BenchSuite = {
  name: 'gfs-master',
  timeMs: 2_000,
  iterations: 3,
  cases: [
    lookup(),
    creates('create', false, 'per-path', CREATE_CLIENTS),
    creates('create-same-dir', true, 'per-path'),
    creates('create-same-dir:global-lock', true, 'global'),
    status('status-10k-files', 10_000),
    status('status-1m-files', MILLION),
    {
      name: 'heap-bytes-per-chunk',
      unit: 'bytes',
      perIteration: 1,
      run: quiet,
      // 1M chunks in 15,625 files of 64 chunks (4 TiB each at 64 MiB per chunk).
      measure: () =>
        heapPer(MILLION, (s) => {
          s.apply({ op: 'mkdir', path: '/big', at: 0 });
          for (let f = 0; f < MILLION / 64; f++) {
            const path = `/big/f${f}`;
            s.apply({ op: 'create', path, at: 0 });
            for (let i = 0; i < 64; i++) s.apply({ op: 'addChunk', path, index: i, handle: s.nextHandle(), version: 1, at: 0 });
          }
        }),
    },
    {
      name: 'heap-bytes-per-file',
      unit: 'bytes',
      perIteration: 1,
      run: quiet,
      // 1M empty files in 1,000 directories, names like /home/user123/file-000456.log.
      measure: () =>
        heapPer(MILLION, (s) => {
          s.apply({ op: 'mkdir', path: '/home', at: 0 });
          for (let d = 0; d < 1_000; d++) s.apply({ op: 'mkdir', path: `/home/user${d}`, at: 0 });
          for (let f = 0; f < MILLION; f++) s.apply({ op: 'create', path: `/home/user${f % 1_000}/file-${String(f).padStart(6, '0')}.log`, at: 0 });
        }),
    },
  ],
  targets: [
    { name: 'create-same-dir', baseline: 'create-same-dir:global-lock', atLeast: 2 },
    { name: 'status-1m-files', baseline: 'status-10k-files', atLeast: 0.5 },
  ],
};

export default suite;
