/**
 * Bench case `append-during-primary-kill` (suite `gfs-data`): record appends that keep going when
 * the chunkserver holding the file's lease dies (GFS README, Sealing, S4).
 *
 * A one-node cluster of its own (`startLocalCluster`: 4 chunkservers on 2 worker threads, chunk
 * files on the real disk, 16 MiB chunks, 3 replicas, no egress cap) so the faults it injects and
 * the re-replication after them stay out of the other cases' cluster. Each iteration is the shape
 * of `append-4` — 4 producers append 256 KiB records to one file, 16 MiB in all — and once a quarter
 * of the records is acknowledged, the chunkserver that holds the lease on the file's last chunk is
 * killed (its actor stopped, as `troupe admin kill` does); it is restarted on its data directory
 * when the iteration's appends are done. The producers see the failure, the chunk is sealed and
 * they go on in a new chunk; bytesPerSec counts acknowledged record bytes. Compared with `append-4`
 * (the undisturbed run), the ratio is what a primary's death costs a queue.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchCase } from './harness.js';
import { realClock, realTimers } from '../runtime/node/env.js';
import { startLocalCluster, CLUSTER_NODE, MASTER_REF, SHADOW_REF, type LocalCluster } from '../cluster/local-cluster.js';
import { ADMIN_ACTOR, type AdminMsg } from '../cluster/admin.js';
import { GfsClient } from '../actors/gfs/client/client.js';
import type { ChunkLease, ClusterStatus, FileInfo, MasterMsg } from '../actors/gfs/protocol.js';
import type { GfsResult } from '../actors/gfs/errors.js';

const MIB = 1024 * 1024;
const CHUNK = 16 * MIB;
const APPEND_TOTAL = 16 * MIB;
const RECORD = 256 * 1024;
const PRODUCERS = 4;

export function appendDuringPrimaryKill(): BenchCase {
  let cluster: LocalCluster | undefined;
  let dir = '';
  let writers: GfsClient[] = [];
  let iteration = 0;
  const kills: string[] = [];
  /**
   * Replies to kills still to come. The admin actor stops the chunkserver at once, then waits (up
   * to 10 s) for word that it terminated before it answers; the appends measured do not wait for
   * that answer, and teardown collects it.
   */
  const killReplies: Array<Promise<void>> = [];
  const record = new Uint8Array(RECORD).fill(7);
  const path = '/bench/append-kill/log';
  const each = APPEND_TOTAL / RECORD / PRODUCERS;
  const admin = { node: CLUSTER_NODE, id: ADMIN_ACTOR };

  /** The server holding the lease on the file's last chunk now (the master's answer, ¶92). */
  async function leaseHolder(c: LocalCluster): Promise<string | undefined> {
    const sys = c.node.system;
    const st = await sys.ask<GfsResult<FileInfo>>(MASTER_REF, { type: 'gfs.master.stat', path } satisfies MasterMsg);
    const chunks = st.ok ? (st.value.chunks ?? 0) : 0;
    if (chunks === 0) return undefined;
    const l = await sys.ask<GfsResult<ChunkLease>>(MASTER_REF, { type: 'gfs.master.findLeaseHolder', path, index: chunks - 1 } satisfies MasterMsg);
    return l.ok ? l.value.primary.server : undefined;
  }

  return {
    name: 'append-during-primary-kill',
    unit: 'bytes',
    perIteration: APPEND_TOTAL,
    shape: `${PRODUCERS} producers append 256 KiB records to one file, 16 MiB per iteration; after a quarter of them the chunkserver holding the file's lease is killed (restarted when the iteration ends); 16 MiB chunks, 3 replicas, real disk, no egress cap`,
    setup: async () => {
      dir = mkdtempSync(join(tmpdir(), 'troupe-bench-append-kill-'));
      const c = await startLocalCluster({ dataDir: dir, chunkservers: 4, workers: 2, port: 0, webPort: false, chunkSizeBytes: CHUNK, logger: () => {} });
      cluster = c;
      const sys = c.node.system;
      for (let i = 0; ; i++) {
        const s = await sys.ask<GfsResult<ClusterStatus>>(MASTER_REF, { type: 'gfs.master.status' } satisfies MasterMsg);
        if (s.ok && s.value.servers.filter((v) => v.alive).length >= 4) break;
        if (i > 200) throw new Error('chunkservers did not register with the master');
        await new Promise((r) => setTimeout(r, 50));
      }
      writers = Array.from(
        { length: PRODUCERS },
        (_, k) =>
          new GfsClient({
            ask: (to, msg, opts) => sys.ask(to, msg, opts),
            clock: realClock,
            timers: realTimers,
            masters: [MASTER_REF, SHADOW_REF],
            clientId: `bench-append-kill-${k}`,
            host: hostname(),
            config: { chunkSizeBytes: CHUNK, rpcTimeoutMs: 30_000 },
          }),
      );
      const first = writers[0] as GfsClient;
      await first.mkdirs('/bench/append-kill');
      await first.create(path);
      iteration = 0;
      kills.length = 0;
    },
    run: async () => {
      const c = cluster as LocalCluster;
      const sys = c.node.system;
      let acked = 0;
      let victim: string | undefined;
      let killing: Promise<void> | undefined;
      let killSent: () => void = () => {};
      const sent = new Promise<void>((resolve) => (killSent = resolve));
      const killAt = Math.floor((APPEND_TOTAL / RECORD) / 4);
      iteration++;
      await Promise.all(
        writers.map(async (w) => {
          for (let k = 0; k < each; k++) {
            await w.append(path, record);
            if (++acked === killAt) {
              killing = (async () => {
                victim = await leaseHolder(c);
                if (victim === undefined) return killSent();
                const server = victim;
                const reply = sys.ask<GfsResult<unknown>>(admin, { type: 'troupe.admin.kill', server } satisfies AdminMsg, { timeoutMs: 30_000 });
                killSent();
                killReplies.push(
                  reply.then((r) => {
                    if (!r.ok) throw new Error(`could not kill ${server}: ${r.error.message}`);
                  }),
                );
                kills.push(`${iteration}:${server}`);
              })();
            }
          }
        }),
      );
      await killing;
      await sent;
      if (victim === undefined) throw new Error(`iteration ${iteration}: no lease holder to kill`);
      // The admin actor handles the kill up to its wait before this restart: the server is stopped.
      const back = await sys.ask<GfsResult<unknown>>(admin, { type: 'troupe.admin.restart', server: victim } satisfies AdminMsg, { timeoutMs: 30_000 });
      if (!back.ok) throw new Error(`could not restart ${victim}: ${back.error.message}`);
    },
    teardown: async () => {
      await Promise.all(killReplies.splice(0));
      await cluster?.close();
      cluster = undefined;
      if (dir !== '') rmSync(dir, { recursive: true, force: true });
    },
  };
}
