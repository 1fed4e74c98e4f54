/**
 * The GFS master in the simulator, against stand-in chunkservers (patent ¶41–81, ¶89–90, ¶110–121).
 */
import { describe, expect, it } from 'vitest';
import { simSeeds, withSeed } from '../../../src/testkit.js';
import type { GfsResult } from '../../../src/actors/gfs/errors.js';
import type { ChunkLease, ChunkLocation, ClusterStatus, FileInfo, RpcLogEntry } from '../../../src/actors/gfs/protocol.js';
import { overlappingLeases } from './fake-chunkserver.js';
import { gfsCluster, MASTER, SHADOW } from './harness.js';

describe('chunks, placement and leases', () => {
  it('the first write creates the chunk on three servers across racks and grants a lease with a version bump (¶61–64, ¶89)', async () => {
    const c = gfsCluster({ seed: 1, servers: 6, racks: 3 });
    await c.sim.run({ forMs: 1_000 });
    await c.must({ type: 'gfs.master.mkdir', path: '/logs' });
    await c.must({ type: 'gfs.master.create', path: '/logs/a' });
    const lease = await c.must<ChunkLease>({ type: 'gfs.master.findLeaseHolder', path: '/logs/a', index: 0 });
    expect(lease.version).toBe(2);
    const replicas = [lease.primary, ...lease.secondaries];
    expect(replicas).toHaveLength(3);
    expect(new Set(replicas.map((r) => r.rack)).size).toBe(3);
    const [loc] = await c.must<ChunkLocation[]>({ type: 'gfs.master.getChunkLocations', path: '/logs/a', index: 0, count: 4 });
    expect(loc?.handle).toBe(lease.handle);
    expect(loc?.replicas.map((r) => r.server).sort()).toEqual(replicas.map((r) => r.server).sort());
    // A second request while the lease runs returns the same primary, no new version.
    const again = await c.must<ChunkLease>({ type: 'gfs.master.findLeaseHolder', path: '/logs/a', index: 0 });
    expect(again.primary.server).toBe(lease.primary.server);
    expect(again.version).toBe(2);
    // Only the next chunk can be created; past it is an error.
    expect(await c.call({ type: 'gfs.master.findLeaseHolder', path: '/logs/a', index: 5 })).toMatchObject({ ok: false, error: { code: 'chunk_not_found' } });
  });

  it('concurrent chunk creations see each other: a burst spreads over the servers (¶62)', async () => {
    const c = gfsCluster({ seed: 11, servers: 8, racks: 1, config: { recentCreationsPerServerMax: 1, replicationDefault: 1 } });
    await c.sim.run({ forMs: 1_000 });
    for (let i = 0; i < 8; i++) await c.must({ type: 'gfs.master.create', path: `/f${i}` });
    // Eight first writes at once: each chunk is placed before any creation has completed.
    const asks = Array.from({ length: 8 }, (_, i) => c.client.system.ask<GfsResult<ChunkLease>>(MASTER, { type: 'gfs.master.findLeaseHolder', path: `/f${i}`, index: 0 }, { timeoutMs: 30_000 }));
    const leases = await c.sim.result(Promise.all(asks));
    expect(new Set(leases.map((l) => (l.ok ? l.value.primary.server : l.error.code))).size).toBe(8);
  });

  it('a chunkserver that missed a lease grant is stale by version: left out of locations and told to delete it (¶76–78)', async () => {
    const c = gfsCluster({ seed: 2, servers: 4 });
    await c.sim.run({ forMs: 1_000 });
    await c.must({ type: 'gfs.master.create', path: '/f' });
    const first = await c.must<ChunkLease>({ type: 'gfs.master.findLeaseHolder', path: '/f', index: 0 });
    // The primary dies: its lease is no longer extended and runs out; the next grant bumps the version without it.
    const victim = first.primary.server;
    c.sim.crash(victim);
    await c.sim.run({ forMs: c.config.leaseDurationMs! + 2_000 });
    const second = await c.must<ChunkLease>({ type: 'gfs.master.findLeaseHolder', path: '/f', index: 0 });
    expect(second.version).toBe(3);
    expect([second.primary, ...second.secondaries].map((r) => r.server)).not.toContain(victim);
    c.sim.restart(victim);
    await c.sim.run({ forMs: 3_000 });
    const [loc] = await c.must<ChunkLocation[]>({ type: 'gfs.master.getChunkLocations', path: '/f', index: 0, count: 1 });
    expect(loc?.replicas.map((r) => r.server)).not.toContain(victim);
    expect(c.disks.get(victim)?.chunks.has(first.handle)).toBe(false); // garbage-collected via heartbeat
  });

  it('a replica whose answer to a version bump was lost stays stale though it reports the new version (M8, ¶77)', async () => {
    // Clones take long here, so a re-replication to the victim cannot complete inside the test's window.
    const c = gfsCluster({ seed: 12, servers: 4, cloneMs: 60_000 });
    await c.sim.run({ forMs: 1_000 });
    await c.must({ type: 'gfs.master.create', path: '/f' });
    const first = await c.must<ChunkLease>({ type: 'gfs.master.findLeaseHolder', path: '/f', index: 0 });
    const victim = first.secondaries[0]!.server;
    // The primary dies and its lease runs out; at the next grant the victim makes the bump but the master never hears so.
    c.sim.crash(first.primary.server);
    await c.sim.run({ forMs: c.config.leaseDurationMs! + 2_000 });
    c.disks.get(victim)!.loseNextSetVersionAnswer = true;
    const second = await c.must<ChunkLease>({ type: 'gfs.master.findLeaseHolder', path: '/f', index: 0 });
    expect([second.primary, ...second.secondaries].map((r) => r.server)).not.toContain(victim);
    expect(c.disks.get(victim)!.chunks.get(first.handle)?.version).toBe(second.version);
    // Its reports name the current version, yet it missed the lease's mutations: never a location again.
    await c.sim.run({ forMs: 5_000 });
    const [loc] = await c.must<ChunkLocation[]>({ type: 'gfs.master.getChunkLocations', path: '/f', index: 0, count: 1 });
    expect(loc?.replicas.map((r) => r.server)).not.toContain(victim);
    expect(c.disks.get(victim)?.chunks.has(first.handle)).toBe(false); // deleted as garbage
  });

  it('after a restart, a snapshot waits until leases of the previous incarnation have surely ended (M10, ¶111)', async () => {
    const c = gfsCluster({ seed: 13, servers: 4 });
    await c.sim.run({ forMs: 1_000 });
    await c.must({ type: 'gfs.master.create', path: '/f' });
    const lease = await c.must<ChunkLease>({ type: 'gfs.master.findLeaseHolder', path: '/f', index: 0 });
    c.sim.crash('master');
    c.sim.restart('master');
    await c.sim.run({ forMs: 500 });
    const started = c.sim.now;
    await c.must({ type: 'gfs.master.snapshot', source: '/f', target: '/g' });
    // The restarted master never heard of that lease; the snapshot may not share the chunk before it ends.
    expect(c.sim.now).toBeGreaterThanOrEqual(lease.expiresAt + c.config.leaseSkewMarginMs!);
    expect(c.sim.now - started).toBeLessThanOrEqual(c.config.leaseDurationMs! + c.config.leaseSkewMarginMs! + 2_000);
  });

  it.each(simSeeds([3, 4, 5, 6]))('seed %i: never two primaries for one chunk, across master restarts (M6)', async (seed) => {
    await withSeed(seed, async () => {
      const c = gfsCluster({ seed, servers: 5 });
      await c.sim.run({ forMs: 1_000 });
      for (let i = 0; i < 3; i++) await c.must({ type: 'gfs.master.create', path: `/f${i}` });
      const rnd = c.sim.random.fork('workload');
      for (let step = 0; step < 40; step++) {
        const r = await c.attempt<ChunkLease>({ type: 'gfs.master.findLeaseHolder', path: `/f${rnd.int(3)}`, index: 0 });
        if (r !== undefined && !r.ok) expect(['lease_unavailable', 'chunkserver_failed', 'chunk_not_found', 'not_primary', 'no_chunkservers']).toContain(r.error.code);
        const fault = rnd.int(10);
        if (fault === 0) c.sim.crash('master');
        if (fault === 1) c.sim.restart('master');
        if (fault === 2) c.sim.crash(`cs${rnd.int(5)}`);
        if (fault === 3) c.sim.restart(`cs${rnd.int(5)}`);
        if (!c.sim.node('master').alive && rnd.chance(0.5)) c.sim.restart('master');
        await c.sim.run({ forMs: rnd.int(8_000) });
      }
      expect(c.leases.length).toBeGreaterThan(0);
      expect(overlappingLeases(c.leases)).toEqual([]);
    });
  });
});

describe('re-replication, rebalancing, decommissioning (¶66–71)', () => {
  it('restores the replication goal after a chunkserver dies, within the clone limits', async () => {
    const c = gfsCluster({ seed: 7, servers: 6, config: { clonesInFlightMax: 2, clonesPerServerMax: 1 }, cloneMs: 200 });
    await c.sim.run({ forMs: 1_000 });
    for (let i = 0; i < 6; i++) {
      await c.must({ type: 'gfs.master.create', path: `/f${i}` });
      await c.must({ type: 'gfs.master.findLeaseHolder', path: `/f${i}`, index: 0 });
    }
    const victim = 'cs0';
    c.sim.crash(victim);
    let maxRunning = 0;
    // Chunks whose primary died wait for its lease to run out before they are cloned (M9): 20 s here.
    for (let t = 0; t < 400; t++) {
      await c.sim.run({ forMs: 50 });
      maxRunning = Math.max(maxRunning, c.clones.running);
    }
    const status = await c.must<ClusterStatus>({ type: 'gfs.master.status' });
    expect(status.underReplicated).toBe(0);
    expect(c.clones.started).toBeGreaterThan(0);
    expect(maxRunning).toBeLessThanOrEqual(2);
    for (const [server, n] of c.clones.maxRunningPerServer) expect(n, server).toBeLessThanOrEqual(1);
  });

  it('for a lease period after a restart, clones nothing: a lease of the previous incarnation may still run (M9)', async () => {
    const c = gfsCluster({ seed: 14, servers: 5, cloneMs: 50 });
    await c.sim.run({ forMs: 1_000 });
    await c.must({ type: 'gfs.master.create', path: '/f' });
    const lease = await c.must<ChunkLease>({ type: 'gfs.master.findLeaseHolder', path: '/f', index: 0 });
    // A secondary dies (the chunk is under-replicated) and the master restarts, forgetting the lease.
    c.sim.crash(lease.secondaries[0]!.server);
    c.sim.crash('master');
    c.sim.restart('master');
    const restartedAt = c.sim.now;
    await c.sim.run({ forMs: c.config.leaseDurationMs! + c.config.leaseSkewMarginMs! + 5_000 });
    const clones = (c.clones.startedAt ?? []).filter((x) => x.handle === lease.handle);
    expect(clones.length).toBeGreaterThan(0);
    for (const x of clones) expect(x.at).toBeGreaterThanOrEqual(restartedAt + c.config.leaseDurationMs! + c.config.leaseSkewMarginMs!);
  });

  it('a version newer than the log, reported by several replicas after a crash, is adopted once (M8)', async () => {
    const c = gfsCluster({ seed: 15, servers: 4 });
    await c.sim.run({ forMs: 1_000 });
    await c.must({ type: 'gfs.master.create', path: '/f' });
    const lease = await c.must<ChunkLease>({ type: 'gfs.master.findLeaseHolder', path: '/f', index: 0 });
    // The replicas made a bump the master never logged (it failed in between): all report version 9.
    for (const r of [lease.primary, ...lease.secondaries]) c.disks.get(r.server)!.chunks.get(lease.handle)!.version = 9;
    c.sim.crash('master');
    c.sim.restart('master');
    await c.sim.run({ forMs: 3_000 });
    const [loc] = await c.must<ChunkLocation[]>({ type: 'gfs.master.getChunkLocations', path: '/f', index: 0, count: 1 });
    expect(loc?.version).toBe(9);
    expect(loc?.replicas.map((r) => r.server).sort()).toEqual([lease.primary, ...lease.secondaries].map((r) => r.server).sort());
    const bumps = (await c.journal.load()).records.filter((r) => r.op === 'bumpVersion' && r.handle === lease.handle && r.version === 9);
    expect(bumps).toHaveLength(1);
  });

  it('never clones a chunk under a lease: the primary gives the lease up first (M9)', async () => {
    const c = gfsCluster({ seed: 14, servers: 4 });
    await c.sim.run({ forMs: 1_000 });
    await c.must({ type: 'gfs.master.create', path: '/hot' });
    const lease = await c.must<ChunkLease>({ type: 'gfs.master.findLeaseHolder', path: '/hot', index: 0 });
    // The fake primary keeps extending its lease; a secondary dies, so the chunk is re-replicated.
    c.sim.crash(lease.secondaries[0]?.server as string);
    await c.sim.run({ forMs: 5_000 });
    const started = (c.clones.startedAt ?? []).filter((s) => s.handle === lease.handle);
    expect(started.length).toBeGreaterThan(0);
    const held = c.leases.filter((l) => l.handle === lease.handle);
    for (const s of started) for (const l of held) expect(l.from >= s.at || l.until <= s.at, `lease [${l.from}, ${l.until}) overlaps a clone at ${s.at}`).toBe(true);
  });

  it('a decommissioned server gets no new replicas, its chunks are copied elsewhere, then it is marked done', async () => {
    const c = gfsCluster({ seed: 8, servers: 5 });
    await c.sim.run({ forMs: 1_000 });
    for (let i = 0; i < 4; i++) {
      await c.must({ type: 'gfs.master.create', path: `/f${i}` });
      await c.must({ type: 'gfs.master.findLeaseHolder', path: `/f${i}`, index: 0 });
    }
    const holder = [...c.disks].find(([, d]) => d.chunks.size > 0)?.[0] as string;
    await c.must({ type: 'gfs.master.decommission', server: holder });
    await c.sim.run({ forMs: 10_000 });
    const status = await c.must<ClusterStatus>({ type: 'gfs.master.status' });
    expect(status.servers.find((s) => s.server === holder)?.decommission).toBe('done');
    await c.must({ type: 'gfs.master.create', path: '/after' });
    const lease = await c.must<ChunkLease>({ type: 'gfs.master.findLeaseHolder', path: '/after', index: 0 });
    expect([lease.primary, ...lease.secondaries].map((r) => r.server)).not.toContain(holder);
  });
});

describe('garbage collection (¶72–81)', () => {
  it('delete → hidden → undelete → delete → expiry → the orphaned chunk is reclaimed through a heartbeat', async () => {
    const c = gfsCluster({ seed: 9, servers: 3 });
    await c.sim.run({ forMs: 1_000 });
    await c.must({ type: 'gfs.master.create', path: '/doc' });
    const lease = await c.must<ChunkLease>({ type: 'gfs.master.findLeaseHolder', path: '/doc', index: 0 });
    await c.must({ type: 'gfs.master.delete', path: '/doc' });
    expect(await c.call({ type: 'gfs.master.stat', path: '/doc' })).toMatchObject({ ok: false, error: { code: 'not_found' } });
    const hidden = await c.must<FileInfo[]>({ type: 'gfs.master.list', path: '/', includeDeleted: true });
    expect(hidden.map((f) => f.path)).toEqual([expect.stringMatching(/^\/\.deleted\.\d+\.\d+\.doc$/)]);
    await c.must({ type: 'gfs.master.undelete', path: '/doc' });
    expect((await c.must<FileInfo>({ type: 'gfs.master.stat', path: '/doc' })).kind).toBe('file');
    await c.must({ type: 'gfs.master.delete', path: '/doc' });
    await c.sim.run({ forMs: 20_000 });
    expect([...c.disks.values()].some((d) => d.chunks.has(lease.handle))).toBe(true); // still within retention
    await c.sim.run({ forMs: 15_000 });
    expect([...c.disks.values()].some((d) => d.chunks.has(lease.handle))).toBe(false);
    expect(await c.call({ type: 'gfs.master.undelete', path: '/doc' })).toMatchObject({ ok: false, error: { code: 'not_found' } });
  });

  it('a temp directory with one replica and immediate reclamation (¶81, ¶117)', async () => {
    const c = gfsCluster({ seed: 10, servers: 4 });
    await c.sim.run({ forMs: 1_000 });
    await c.must({ type: 'gfs.master.mkdir', path: '/tmp' });
    await c.must({ type: 'gfs.master.setPolicy', path: '/tmp', replication: 1, reclaimImmediately: true });
    await c.must({ type: 'gfs.master.create', path: '/tmp/scratch' });
    const lease = await c.must<ChunkLease>({ type: 'gfs.master.findLeaseHolder', path: '/tmp/scratch', index: 0 });
    expect(lease.secondaries).toEqual([]);
    await c.must({ type: 'gfs.master.delete', path: '/tmp/scratch' });
    expect(await c.must<FileInfo[]>({ type: 'gfs.master.list', path: '/tmp', includeDeleted: true })).toEqual([]);
    await c.sim.run({ forMs: 2_000 });
    expect([...c.disks.values()].some((d) => d.chunks.has(lease.handle))).toBe(false);
  });
});

describe('snapshot (¶110–113)', () => {
  it('revokes leases, then the first write creates C′ on the same servers and leaves the snapshot on C', async () => {
    const c = gfsCluster({ seed: 11, servers: 5 });
    await c.sim.run({ forMs: 1_000 });
    await c.must({ type: 'gfs.master.mkdir', path: '/home' });
    await c.must({ type: 'gfs.master.create', path: '/home/f' });
    const before = await c.must<ChunkLease>({ type: 'gfs.master.findLeaseHolder', path: '/home/f', index: 0 });
    await c.must({ type: 'gfs.master.snapshot', source: '/home', target: '/save' });
    const revoked = c.leases.find((l) => l.handle === before.handle);
    expect(revoked?.until).toBeLessThanOrEqual(c.sim.now); // the lease was revoked, not left running
    // Operators see it among the dashboard's recent events.
    const status = await c.must<ClusterStatus>({ type: 'gfs.master.status' });
    expect(status.events?.map((e) => e.text)).toContain('1 lease(s) revoked for the snapshot of /home');
    const after = await c.must<ChunkLease>({ type: 'gfs.master.findLeaseHolder', path: '/home/f', index: 0 });
    expect(after.handle).not.toBe(before.handle);
    const servers = (l: ChunkLease) => [l.primary, ...l.secondaries].map((r) => r.server).sort();
    expect(servers(after)).toEqual(servers(before));
    const [snap] = await c.must<ChunkLocation[]>({ type: 'gfs.master.getChunkLocations', path: '/save/f', index: 0, count: 1 });
    expect(snap?.handle).toBe(before.handle);
    for (const s of servers(before)) expect(c.disks.get(s)?.chunks.has(before.handle)).toBe(true);
  });
});

describe('durability of the operation log (¶47–51, ¶118)', () => {
  it.each(simSeeds([21, 22, 23, 24, 25]))('seed %i: a master crash at any point recovers every acknowledged change', async (seed) => {
    await withSeed(seed, async () => {
      const c = gfsCluster({ seed, servers: 3, replica: true });
      await c.sim.run({ forMs: 1_000 });
      const rnd = c.sim.random.fork('crashes');
      const acked = new Map<string, 'exists' | 'deleted'>();
      // A delete that was sent but not acknowledged may or may not have happened: its path proves nothing.
      const ambiguous = new Set<string>();
      for (let i = 0; i < 40; i++) {
        const path = `/f${i}`;
        const p = c.client.system.ask<{ ok: boolean }>(MASTER, { type: 'gfs.master.create', path }, { timeoutMs: 3_000 }).then(
          (r) => r.ok && acked.set(path, 'exists'),
          () => undefined,
        );
        if (i > 0 && rnd.chance(0.3)) {
          const victim = `/f${rnd.int(i)}`;
          ambiguous.add(victim);
          void c.client.system.ask<{ ok: boolean }>(MASTER, { type: 'gfs.master.delete', path: victim }, { timeoutMs: 3_000 }).then(
            (r) => {
              if (r.ok) {
                acked.set(victim, 'deleted');
                ambiguous.delete(victim);
              }
            },
            () => undefined,
          );
        }
        await c.sim.run({ forMs: rnd.int(3) });
        if (rnd.chance(0.1)) {
          c.sim.crash('master');
          await c.sim.run({ forMs: rnd.int(100) });
          c.sim.restart('master');
        }
        await c.sim.result(p);
      }
      await c.sim.run({ forMs: 2_000 });
      c.sim.crash('master');
      c.sim.restart('master');
      await c.sim.run({ forMs: 1_000 });
      for (const [path, want] of acked) {
        if (ambiguous.has(path)) continue;
        const r = await c.call<FileInfo>({ type: 'gfs.master.stat', path });
        expect(r.ok, `${path} should ${want === 'exists' ? 'exist' : 'be deleted'}`).toBe(want === 'exists');
      }
      expect(acked.size).toBeGreaterThan(10);
      // The replica holds the same log (¶118).
      expect(c.replicaJournal.lastLsn).toBe(c.journal.lastLsn);
    });
  });

  it.each(simSeeds([41, 42, 43]))('seed %i: on a real operation log over a crashing disk, every acknowledged change survives, with checkpoints', async (seed) => {
    await withSeed(seed, async () => {
      const c = gfsCluster({ seed, servers: 3, diskJournal: true, config: { checkpointEveryRecords: 7, checkpointCheckIntervalMs: 50 } });
      await c.sim.run({ forMs: 1_000 });
      const rnd = c.sim.random.fork('power-cuts');
      const acked: string[] = [];
      for (let i = 0; i < 60; i++) {
        const path = `/d${i}`;
        const p = c.client.system.ask<{ ok: boolean }>(MASTER, { type: 'gfs.master.mkdir', path }, { timeoutMs: 3_000 }).then(
          (r) => void (r.ok && acked.push(path)),
          () => undefined,
        );
        await c.sim.run({ forMs: rnd.int(5) });
        if (rnd.chance(0.08)) {
          c.crashMaster();
          c.sim.restart('master');
        }
        await c.sim.result(p);
      }
      c.crashMaster();
      c.sim.restart('master');
      await c.sim.run({ forMs: 500 });
      const names = new Set((await c.must<FileInfo[]>({ type: 'gfs.master.list', path: '/' })).map((f) => f.path));
      for (const p of acked) expect(names.has(p), `${p} was acknowledged`).toBe(true);
      expect(acked.length).toBeGreaterThan(20);
      expect(c.sim.logs().some((e) => e.msg === 'checkpoint written')).toBe(true);
    });
  });

  it('chunk locations are not persisted: a restarted master relearns them from chunkserver reports (¶45–46)', async () => {
    const c = gfsCluster({ seed: 51, servers: 4 });
    await c.sim.run({ forMs: 1_000 });
    await c.must({ type: 'gfs.master.create', path: '/f' });
    const lease = await c.must<ChunkLease>({ type: 'gfs.master.findLeaseHolder', path: '/f', index: 0 });
    const holders = [lease.primary, ...lease.secondaries].map((r) => r.server).sort();
    c.sim.crash('master');
    c.sim.restart('master');
    const [before] = await c.must<ChunkLocation[]>({ type: 'gfs.master.getChunkLocations', path: '/f', index: 0, count: 1 });
    expect(before?.replicas).toEqual([]); // nothing known until the servers report
    await c.sim.run({ forMs: 2 * c.config.heartbeatIntervalMs! });
    const [after] = await c.must<ChunkLocation[]>({ type: 'gfs.master.getChunkLocations', path: '/f', index: 0, count: 1 });
    expect(after?.replicas.map((r) => r.server).sort()).toEqual(holders);
    expect(after?.version).toBe(lease.version);
  });

  it('with a master replica down, changes are not acknowledged as committed (¶48, ¶118)', async () => {
    const c = gfsCluster({ seed: 31, servers: 3, replica: true });
    await c.sim.run({ forMs: 1_000 });
    await c.must({ type: 'gfs.master.create', path: '/a' });
    c.sim.crash('replica');
    expect(await c.call({ type: 'gfs.master.create', path: '/b' })).toMatchObject({ ok: false, error: { code: 'log_unavailable' } });
    c.sim.restart('replica');
    await c.sim.run({ forMs: 500 });
    await c.must({ type: 'gfs.master.create', path: '/c' }); // the replica catches up from the primary's tail
    expect(c.replicaJournal.lastLsn).toBe(c.journal.lastLsn);
  });
});

describe('shadow masters (¶120–121)', () => {
  it('serve reads from the replicated log, may lag, and refuse writes naming the primary', async () => {
    const c = gfsCluster({ seed: 12, servers: 3, replica: true, shadow: true });
    await c.sim.run({ forMs: 1_000 });
    await c.must({ type: 'gfs.master.mkdir', path: '/data' });
    await c.must({ type: 'gfs.master.create', path: '/data/x' });
    const lease = await c.must<ChunkLease>({ type: 'gfs.master.findLeaseHolder', path: '/data/x', index: 0 });
    await c.sim.run({ forMs: 1_500 });
    expect((await c.must<FileInfo[]>({ type: 'gfs.master.list', path: '/data' }, SHADOW)).map((f) => f.path)).toEqual(['/data/x']);
    const [loc] = await c.must<ChunkLocation[]>({ type: 'gfs.master.getChunkLocations', path: '/data/x', index: 0, count: 1 }, SHADOW);
    expect(loc?.handle).toBe(lease.handle);
    expect(loc?.replicas).toHaveLength(3); // learned from the chunkservers' heartbeats
    for (const m of [{ type: 'gfs.master.create', path: '/data/y' }, { type: 'gfs.master.findLeaseHolder', path: '/data/x', index: 0 }] as const) {
      expect(await c.call(m, SHADOW)).toMatchObject({ ok: false, error: { code: 'not_primary', master: 'master@master' } });
    }
  });
});

describe('diagnostics (¶129–131)', () => {
  it('keeps an RPC log of requests and outcomes, without file data', async () => {
    const c = gfsCluster({ seed: 13, servers: 3 });
    await c.sim.run({ forMs: 1_000 });
    await c.must({ type: 'gfs.master.create', path: '/x' });
    await c.call({ type: 'gfs.master.create', path: '/x' });
    const log = await c.must<RpcLogEntry[]>({ type: 'gfs.master.rpcLog', limit: 10 });
    expect(log.map((e) => [e.request, e.args, e.outcome.split(':')[0]])).toEqual([
      ['gfs.master.create', '{"path":"/x"}', 'ok'],
      ['gfs.master.create', '{"path":"/x"}', 'already_exists'],
    ]);
  });
});
