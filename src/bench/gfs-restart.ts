/**
 * `restart-first-append-ms` (bench `gfs-data`): how long a one-node cluster takes from a restart
 * to the first acknowledged record append to a file that existed before it — what a user meets
 * after Ctrl-C and `npm start` (issue 14, item 3). Real disks, the same data directory each time.
 *
 * Setup starts a cluster in a temp directory, creates the file and appends to it (its primary then
 * holds a lease), and stops the cluster. Each measurement starts the cluster again on that
 * directory — the master replays its log, the chunkservers open their chunk stores and report —
 * and times from the start call to the acknowledgement of one append by an in-process client
 * (which waits for a lease as the master tells it to), then stops the cluster again. Before the
 * chunkservers reported their leases (GFS invariant M6), the master granted none for a lease period
 * after a restart: 60 s.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchCase } from './harness.js';
import { realClock, realTimers } from '../runtime/node/env.js';
import { startLocalCluster, MASTER_REF, type LocalCluster } from '../cluster/local-cluster.js';
import { GfsClient } from '../actors/gfs/client/client.js';

const CHUNK_BYTES = 16 * 1024 * 1024;
const RECORD_BYTES = 4 * 1024;
const PATH = '/bench-restart/log';

function start(dir: string): Promise<LocalCluster> {
  return startLocalCluster({ dataDir: dir, chunkservers: 4, workers: 2, port: 0, webPort: false, chunkSizeBytes: CHUNK_BYTES, logger: () => {} });
}

function clientOf(cluster: LocalCluster, id: string): GfsClient {
  const sys = cluster.node.system;
  return new GfsClient({
    ask: (to, msg, opts) => sys.ask(to, msg, opts),
    clock: realClock,
    timers: realTimers,
    masters: [MASTER_REF],
    clientId: id,
    host: hostname(),
    // Enough attempts to ride out the chunkservers joining the restarted master.
    retriesMax: 20,
    config: { chunkSizeBytes: CHUNK_BYTES },
  });
}

/** The case: setup makes the file; each `duration` call is one restart, measured. */
export function restartFirstAppend(name = 'restart-first-append-ms'): BenchCase {
  let dir: string | undefined;
  let restarts = 0;
  const record = new Uint8Array(RECORD_BYTES).fill(7);
  return {
    name,
    unit: 'ops',
    perIteration: 1,
    shape: `one-node cluster (master, replica, shadow; 4 chunkservers on 2 worker threads) on a temp directory of the real disk, 16 MiB chunks; the file's primary held a lease when the cluster stopped; time from startLocalCluster on the same directory to one acknowledged ${RECORD_BYTES / 1024} KiB record append`,
    setup: async () => {
      dir = mkdtempSync(join(tmpdir(), 'troupe-bench-gfs-restart-'));
      restarts = 0;
      const cluster = await start(dir);
      try {
        const c = clientOf(cluster, 'bench-restart-setup');
        await c.mkdirs('/bench-restart');
        await c.create(PATH);
        await c.append(PATH, record);
      } finally {
        await cluster.close();
      }
    },
    run: () => {
      throw new Error(`${name} is measured by duration(), not timed runs`);
    },
    duration: async () => {
      if (dir === undefined) throw new Error(`${name}: setup did not run`);
      const t0 = performance.now();
      const cluster = await start(dir);
      try {
        await clientOf(cluster, `bench-restart-${++restarts}`).append(PATH, record);
        return performance.now() - t0;
      } finally {
        await cluster.close();
      }
    },
    teardown: () => {
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
      dir = undefined;
    },
  };
}
