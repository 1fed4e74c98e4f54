/**
 * Status counts kept as counters (invariant M12, issue #13 item 7): in a simulated cluster whose
 * chunkservers die and come back, `gfs.master.status` — which no longer scans files or chunks —
 * reports the same under-replicated and missing chunks as fsck's full scan, at every step. (The
 * simulator also runs the master's `invariants()`, which compares the kept sets with a scan,
 * after every message.)
 */
import { describe, expect, it } from 'vitest';
import type { GfsResult } from '../../../src/actors/gfs/errors.js';
import type { ClusterStatus, FsckReport } from '../../../src/actors/gfs/protocol.js';
import { MASTER, realCluster } from './cluster.js';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('status counters track chunkservers dying and coming back (M12)', () => {
  it('under-replicated and missing counts follow crashes, restarts, stale replicas and policy changes, and agree with a full scan (¶66–68, ¶77)', async () => {
    // No clones: the backlog stays until the servers return, so each step is observable.
    const c = realCluster({ seed: 71, servers: 3, config: { clonesInFlightMax: 0 } });
    const master = c.sim.node('master').system;
    const status = async (): Promise<ClusterStatus> => {
      const r = await c.run(master.ask<GfsResult<ClusterStatus>>(MASTER, { type: 'gfs.master.status' }));
      if (!r.ok) throw new Error(r.error.message);
      return r.value;
    };
    /** Status must agree with fsck, which walks every file and chunk. */
    const counts = async (): Promise<{ files: number; chunks: number; under: number; missing: number }> => {
      const s = await status();
      const f = await c.run(master.ask<GfsResult<FsckReport>>(MASTER, { type: 'gfs.master.fsck', path: '/' }));
      if (!f.ok) throw new Error(f.error.message);
      expect(s.underReplicated).toBe(f.value.underReplicated + f.value.missing);
      expect(s.missing).toBe(f.value.missing);
      expect(s.files).toBe(f.value.files);
      return { files: s.files, chunks: s.chunks, under: s.underReplicated, missing: s.missing };
    };
    const wait = async (ms: number): Promise<void> => {
      await c.sim.run({ forMs: ms });
    };
    await wait(1_000);
    const client = c.client();
    await c.run(client.mkdirs('/d'));
    for (const name of ['a', 'b', 'c', 'd']) {
      await c.run(client.create(`/d/${name}`));
      await c.run(client.write(`/d/${name}`, 0, text(`data of ${name}`)));
    }
    await wait(1_000);
    expect(await counts()).toEqual({ files: 4, chunks: 4, under: 0, missing: 0 });

    // One server dies: every chunk (3 replicas on 3 servers) is below its goal, none missing.
    c.crashServer('cs0');
    await wait(12_000); // past chunkserverTimeoutMs, and past the lease of the writes above
    expect(await counts()).toMatchObject({ under: 4, missing: 0 });

    // A write while cs0 is down takes a new lease, which bumps /d/a's chunk version (¶77): cs0's copy will be stale.
    await c.run(client.write('/d/a', 0, text('DATA')));

    // All die: every chunk is missing.
    c.crashServer('cs1');
    c.crashServer('cs2');
    await wait(4_000);
    expect(await counts()).toMatchObject({ under: 4, missing: 4 });

    // cs0 returns with a stale copy of /d/a's chunk: that one stays missing, the rest have a replica.
    c.sim.restart('cs0');
    await wait(3_000);
    expect(await counts()).toMatchObject({ under: 4, missing: 1 });

    // A goal of 1 for /d: the chunks with a replica are healthy; the stale one is still missing.
    await c.run(client.setPolicy('/d', { replication: 1 }));
    expect(await counts()).toMatchObject({ under: 1, missing: 1 });
    await c.run(client.setPolicy('/d', { replication: 3 }));

    // Everyone back: all healthy again.
    c.sim.restart('cs1');
    c.sim.restart('cs2');
    await wait(3_000);
    const back = await counts();
    expect(back.missing).toBe(0);
    // /d/a's chunk has two up-to-date replicas (cs0's was stale) until re-replication, which is off here.
    expect(back.under).toBe(1);

    // Deleting a file, then erasing it, leaves the counts to the chunks that remain.
    await c.run(client.delete('/d/a'));
    expect(await counts()).toMatchObject({ files: 4, chunks: 4, under: 1 });
    const hidden = (await c.run(client.list('/d', { includeDeleted: true }))).find((f) => f.deletedAt !== undefined);
    await c.run(client.delete(hidden?.path ?? '/d/missing'));
    expect(await counts()).toEqual({ files: 3, chunks: 3, under: 0, missing: 0 });
  });
});
