/**
 * Sealing (README "Sealing", invariants S1–S5; an extension of the paper after Windows Azure
 * Storage's extent sealing): when a record append's primary or a replica fails, the master seals
 * the chunk at a length the reachable replicas agree on and appends go on in a new chunk with a
 * fresh lease, instead of waiting for the old lease to end (patent ¶90, ¶101–108).
 */
import { describe, expect, it } from 'vitest';
import type { ActorRef } from '../../../src/index.js';
import { Simulation, SimDisk, simSeeds, withSeed } from '../../../src/testkit.js';
import { gfsMaster } from '../../../src/actors/gfs/master/master.js';
import { MemoryJournal, type Journal } from '../../../src/actors/gfs/master/journal.js';
import type { MasterRecord } from '../../../src/actors/gfs/master/master-state.js';
import { gfsChunkserver } from '../../../src/actors/gfs/chunkserver/chunkserver.js';
import { GfsClient, GfsClientError, RecordReader, RecordWriter, type RetryWait } from '../../../src/actors/gfs/client/client.js';
import type { GfsConfig } from '../../../src/actors/gfs/config.js';
import type { GfsResult } from '../../../src/actors/gfs/errors.js';
import type { ChunkLease, ChunkLocation, ChunkReport, ChunkserverMsg, MasterMsg, SealReply } from '../../../src/actors/gfs/protocol.js';
import { bytes, equalBytes, gfsCell } from './chunkserver-cluster.js';
import { testConfig } from './harness.js';

const MASTER: ActorRef<MasterMsg> = { node: 'master', id: 'master' };
const text = (s: string): Uint8Array => new TextEncoder().encode(s);

/**
 * The real master and chunkservers with clients (the GfsClient library). The master's log is in
 * memory and survives its crashes; `stallSeals` makes the log never finish appending a `seal`
 * record, so a crash then falls between fencing the replicas and logging the seal.
 */
function sealCluster(seed: number, servers = 4) {
  const sim = new Simulation({ seed, network: { latencyMinMs: 0.1, latencyMaxMs: 1 } });
  const config: Partial<GfsConfig> = { ...testConfig, chunkSizeBytes: 64 * 1024 };
  const memory = new MemoryJournal();
  const control = { stallSeals: false, stalled: 0 };
  const journal: Journal = {
    load: () => memory.load(),
    append: (lsn: number, records: readonly MasterRecord[]) => {
      if (control.stallSeals && records.some((r) => r.op === 'seal')) {
        control.stalled++;
        return new Promise<void>(() => {});
      }
      return memory.append(lsn, records);
    },
    checkpoint: (lsn, state) => memory.checkpoint(lsn, state),
  };
  let boots = 0;
  sim.addNode('master', (system) => {
    system.spawn(gfsMaster({ role: 'primary', journal, config, afterRestart: boots++ > 0 }), { name: 'master', reentrant: true, supervision: { strategy: 'stop' } });
  });
  const disks = new Map<string, SimDisk>();
  const ids: string[] = [];
  for (let i = 0; i < servers; i++) {
    const id = `cs${i}`;
    ids.push(id);
    disks.set(id, new SimDisk({ random: sim.random.fork(`disk:${id}`) }));
    sim.addNode(id, (system) => {
      system.spawn(gfsChunkserver({ id, rack: `rack${i % 2}`, host: `host-${id}`, masters: [MASTER], disk: disks.get(id) as SimDisk, dir: 'chunks', config }), { name: 'chunkserver', reentrant: true, supervision: { strategy: 'stop' } });
    });
  }
  const observer = sim.addNode('observer', () => {});
  function client(name: string, onWait?: (w: RetryWait) => void): GfsClient {
    return GfsClient.on(sim.addNode(name, () => {}).system, { masters: [MASTER], clientId: name, config, ...(onWait === undefined ? {} : { onWait }) });
  }
  function crash(node: string): void {
    sim.crash(node);
    const d = disks.get(node);
    if (d !== undefined) disks.set(node, d.crash());
  }
  function ask<T>(msg: MasterMsg): Promise<GfsResult<T>> {
    return observer.system.ask<GfsResult<T>>(MASTER, msg, { timeoutMs: 2_000 });
  }
  return { sim, config, control, servers: ids, client, crash, ask, run: <T>(p: Promise<T>) => sim.result(p) };
}

/** Producers appending records through `RecordWriter`; each records when it invoked and completed every append. */
function producers(c: ReturnType<typeof sealCluster>, path: string, count: number, records: number) {
  const appends: Array<{ id: string; invokedAt: number; completedAt?: number; ok?: boolean; error?: string }> = [];
  const work = Array.from({ length: count }, async (_, p) => {
    const writer = new RecordWriter(c.client(`producer${p}`), path, BigInt(p + 1));
    for (let i = 0; i < records; i++) {
      const a: (typeof appends)[number] = { id: `${p + 1}:${i + 1}`, invokedAt: c.sim.now };
      appends.push(a);
      try {
        await writer.append(text(`producer ${p} record ${i} `.padEnd(300 + ((p * 53 + i * 29) % 700), '.')));
        a.ok = true;
      } catch (e) {
        a.ok = false;
        a.error = String(e);
      }
      a.completedAt = c.sim.now;
      await new Promise<void>((resolve) => c.sim.after(20, resolve));
    }
  });
  return { appends, done: Promise.all(work) };
}

/** Every record a fresh RecordReader yields, by id. */
async function readAll(c: ReturnType<typeof sealCluster>, path: string): Promise<Map<string, number>> {
  const seen = new Map<string, number>();
  const reader = new RecordReader(c.client(`reader${c.sim.now}`), path);
  await c.run(
    (async () => {
      for await (const r of reader.records()) seen.set(`${r.writer}:${r.seq}`, (seen.get(`${r.writer}:${r.seq}`) ?? 0) + 1);
    })(),
  );
  return seen;
}

async function sealedChunks(c: ReturnType<typeof sealCluster>, path: string): Promise<ChunkLocation[]> {
  const st = await c.run(c.ask<{ chunks?: number }>({ type: 'gfs.master.stat', path }));
  const n = st.ok ? (st.value.chunks ?? 0) : 0;
  const r = await c.run(c.ask<ChunkLocation[]>({ type: 'gfs.master.getChunkLocations', path, index: 0, count: n }));
  return r.ok ? r.value.filter((l) => l.sealedBytes !== undefined) : [];
}

describe('sealing: a deposed primary cannot complete a mutation (S2)', () => {
  it('a primary cut off from the master keeps its lease, but its late append is refused by the sealed replicas and never acknowledged', async () => {
    const c = gfsCell({ seed: 101, servers: 3 });
    await c.start();
    await c.sim.result(c.must({ type: 'gfs.master.create', path: '/q' }));
    const first = bytes(3_000, 1);
    const a1 = await c.sim.result(c.append('/q', 0, first));
    expect(a1.reply).toMatchObject({ ok: true, value: { offset: 0 } });
    const l = a1.lease;
    // The master loses the primary; the primary still reaches its secondaries and clients.
    c.sim.partition([l.primary.server], ['master']);
    const sealed = await c.sim.result(c.ask<SealReply>({ node: 'master', id: 'master' }, { type: 'gfs.master.sealChunk', path: '/q', index: 0, version: l.version } satisfies MasterMsg));
    expect(sealed).toMatchObject({ ok: true, value: { handle: l.handle, sealedBytes: first.length } });
    // The deposed primary's lease has not run out: it orders the append, and every secondary refuses it.
    const pushed = await c.sim.result(c.push([l.primary, ...l.secondaries], bytes(2_000, 2)));
    expect(pushed.ok).toBe(true);
    const late = await c.sim.result(
      c.ask<GfsResult<unknown>>(l.primary.ref, { type: 'gfs.chunkserver.append', handle: l.handle, version: l.version, pushId: pushed.ok ? pushed.value : '', lengthBytes: 2_000, secondaries: l.secondaries } satisfies ChunkserverMsg),
    );
    expect(late.ok).toBe(false);
    expect(!late.ok && late.error.code).toBe('chunkserver_failed');
    expect(!late.ok && late.error.message).toMatch(/chunk_sealed/);
    // Readers see the sealed length (S1), on the fenced replicas only (the primary missed the fence).
    const loc = await c.sim.result(c.locations('/q', 0));
    expect(loc.sealedBytes).toBe(first.length);
    expect(loc.lengthBytes).toBe(first.length);
    expect(loc.replicas.map((r) => r.server).sort()).toEqual(l.secondaries.map((r) => r.server).sort());
    for (const r of loc.replicas) expect(equalBytes(await c.sim.result(c.chunkBytes(r.ref, loc.handle, loc.version)), first)).toBe(true);
    // S3: no lease on the sealed chunk; the next chunk gets one at once.
    const again = await c.sim.result(c.ask<GfsResult<ChunkLease>>({ node: 'master', id: 'master' }, { type: 'gfs.master.findLeaseHolder', path: '/q', index: 0 } satisfies MasterMsg));
    expect(again).toMatchObject({ ok: false, error: { code: 'chunk_sealed' } });
    const next = await c.sim.result(c.append('/q', 1, bytes(1_000, 3)));
    expect(next.reply).toMatchObject({ ok: true, value: { offset: 0 } });
    // Healed, the old primary reports the old version: stale, and told to delete its replica (¶77–78).
    c.sim.heal();
    await c.sim.run({ forMs: 4_000 });
    const report = await c.sim.result(c.ask<GfsResult<{ chunks: ChunkReport[] }>>(l.primary.ref, { type: 'gfs.chunkserver.report' } satisfies ChunkserverMsg));
    // Its stale copy was deleted, and re-replication cloned the sealed chunk back to it: sealed length, the new version, no late bytes.
    const copy = report.ok ? report.value.chunks.find((ch) => ch.handle === l.handle) : undefined;
    expect(copy === undefined || (copy.version > l.version && copy.lengthBytes === first.length)).toBe(true);
  });
});

describe('sealing with a replica unreachable (S1, S2)', () => {
  it('the chunk is sealed on the replicas that answer; the unreachable one is stale, and re-replication restores the goal at the sealed length', async () => {
    const c = gfsCell({ seed: 102, servers: 4 });
    await c.start();
    await c.sim.result(c.must({ type: 'gfs.master.create', path: '/q' }));
    const records = [bytes(1_500, 11), bytes(2_500, 12), bytes(700, 13)];
    let lease: ChunkLease | undefined;
    for (const r of records) {
      const a = await c.sim.result(c.append('/q', 0, r));
      expect(a.reply.ok).toBe(true);
      lease = a.lease;
    }
    const l = lease as ChunkLease;
    const cut = l.secondaries[0]!.server;
    c.sim.partition([cut], [...c.servers.filter((s) => s !== cut), 'master', 'client0']);
    const sealed = await c.sim.result(c.ask<SealReply>({ node: 'master', id: 'master' }, { type: 'gfs.master.sealChunk', path: '/q', index: 0, version: l.version } satisfies MasterMsg));
    const total = records.reduce((n, r) => n + r.length, 0);
    expect(sealed).toMatchObject({ ok: true, value: { sealedBytes: total } });
    expect((await c.sim.result(c.locations('/q', 0))).replicas.map((r) => r.server)).not.toContain(cut);
    c.sim.heal();
    await c.sim.run({ forMs: 8_000 });
    const loc = await c.sim.result(c.locations('/q', 0));
    expect(loc.replicas.length).toBe(3);
    const expected = new Uint8Array(total);
    let at = 0;
    for (const r of records) {
      expected.set(r, at);
      at += r.length;
    }
    for (const r of loc.replicas) expect(equalBytes(await c.sim.result(c.chunkBytes(r.ref, loc.handle, loc.version)), expected), `replica on ${r.server}`).toBe(true);
  });
});

describe('appends go on when the primary dies (S4)', () => {
  it.each(simSeeds([103, 104]))('seed %i: the log\'s primary killed under 4 producers: no append fails, none waits for the lease, every acknowledged record is read exactly once', async (seed) => {
    await withSeed(seed, async () => {
      const c = sealCluster(seed, 5);
      await c.sim.run({ forMs: 1_500 });
      await c.run(c.client('setup').create('/q'));
      const work = producers(c, '/q', 4, 25);
      await c.sim.run({ forMs: 400 });
      const lease = await c.run(c.ask<ChunkLease>({ type: 'gfs.master.findLeaseHolder', path: '/q', index: 0 }));
      expect(lease.ok).toBe(true);
      const victim = lease.ok ? lease.value.primary.server : '';
      c.crash(victim);
      c.sim.after(5_000, () => c.sim.restart(victim));
      await c.run(work.done);
      expect(work.appends.filter((a) => a.ok !== true).map((a) => `${a.id} ${a.invokedAt}-${a.completedAt} ${a.error}`)).toEqual([]);
      // None waited for the dead primary's lease to end (virtual time, deterministic per seed).
      for (const a of work.appends) expect((a.completedAt as number) - a.invokedAt, `append ${a.id}`).toBeLessThan(c.config.leaseDurationMs as number);
      expect((await sealedChunks(c, '/q')).length).toBeGreaterThan(0);
      const seen = await readAll(c, '/q');
      for (const a of work.appends) expect(seen.get(a.id), `record ${a.id}`).toBe(1);
    });
  });

  it('the master crashes between fencing the replicas and logging the seal: after the restart the chunk is sealed again and appends go on without waiting out the old leases', async () => {
    const c = sealCluster(105, 5);
    await c.sim.run({ forMs: 1_500 });
    await c.run(c.client('setup').create('/q'));
    const work = producers(c, '/q', 3, 30);
    await c.sim.run({ forMs: 300 });
    const lease = await c.run(c.ask<ChunkLease>({ type: 'gfs.master.findLeaseHolder', path: '/q', index: 0 }));
    const victim = lease.ok ? lease.value.primary.server : '';
    c.control.stallSeals = true;
    c.crash(victim);
    // The producers' appends fail and ask for a seal; the master fences, then its log stalls.
    await c.sim.run({ forMs: 1_500 });
    expect(c.control.stalled).toBeGreaterThan(0);
    c.crash('master');
    c.control.stallSeals = false;
    const restartedAt = c.sim.now + 200;
    c.sim.after(200, () => c.sim.restart('master'));
    c.sim.after(6_000, () => c.sim.restart(victim));
    await c.run(work.done);
    expect(work.appends.filter((a) => a.ok !== true).map((a) => `${a.id} ${a.invokedAt}-${a.completedAt} ${a.error}`)).toEqual([]);
    // Every append completed before the restarted master could grant any lease on the old chunk
    // (its grace period, M6): the appends after the restart went to a new chunk, fresh (S4).
    const graceEnds = restartedAt + (c.config.leaseDurationMs as number) + (c.config.leaseSkewMarginMs as number);
    for (const a of work.appends) expect(a.completedAt as number, `append ${a.id}`).toBeLessThan(graceEnds);
    expect((await sealedChunks(c, '/q')).length).toBeGreaterThan(0);
    const seen = await readAll(c, '/q');
    for (const a of work.appends) expect(seen.get(a.id), `record ${a.id}`).toBe(1);
  });
});

describe('plain writes never seal (S5)', () => {
  it('a write to a chunk whose primary died waits out the lease, as the paper says (¶90), with progress; the chunk is not sealed', async () => {
    const c = sealCluster(106, 4);
    await c.sim.run({ forMs: 1_500 });
    const waits: RetryWait[] = [];
    const client = c.client('writer', (w) => waits.push(w));
    await c.run(client.create('/f'));
    await c.run(client.write('/f', 0, bytes(5_000, 1)));
    const lease = await c.run(c.ask<ChunkLease>({ type: 'gfs.master.findLeaseHolder', path: '/f', index: 0 }));
    expect(lease.ok).toBe(true);
    const l = lease.ok ? lease.value : (undefined as never);
    c.crash(l.primary.server);
    const data = bytes(3_000, 2);
    await c.run(client.write('/f', 1_000, data));
    // It waited until the dead primary's lease had surely ended (expiry + skew margin), then got a new one.
    expect(c.sim.now).toBeGreaterThanOrEqual(l.expiresAt + (c.config.leaseSkewMarginMs as number));
    expect(waits.some((w) => w.op === 'write' && w.code === 'lease_unavailable')).toBe(true);
    expect(await sealedChunks(c, '/f')).toEqual([]);
    const back = await c.run(c.client('reader').read('/f', 1_000, data.length));
    expect(equalBytes(back, data)).toBe(true);
  });

  it('only the last chunk of a file is sealed, and a write into a sealed chunk fails with chunk_sealed', async () => {
    const c = sealCluster(107, 4);
    await c.sim.run({ forMs: 1_500 });
    const client = c.client('writer');
    await c.run(client.create('/f'));
    const chunk = c.config.chunkSizeBytes as number;
    await c.run(client.write('/f', chunk - 100, bytes(300, 3))); // chunks 0 and 1
    const first = await c.run(c.ask<SealReply>({ type: 'gfs.master.sealChunk', path: '/f', index: 0 }));
    expect(first).toMatchObject({ ok: false, error: { code: 'invalid_request' } });
    // With a lease in force and no failure reported, nothing is sealed either.
    const live = await c.run(c.ask<SealReply>({ type: 'gfs.master.sealChunk', path: '/f', index: 1 }));
    expect(live).toMatchObject({ ok: false, error: { code: 'stale_version' } });
    const lease = await c.run(c.ask<ChunkLease>({ type: 'gfs.master.findLeaseHolder', path: '/f', index: 1 }));
    const sealed = await c.run(c.ask<SealReply>({ type: 'gfs.master.sealChunk', path: '/f', index: 1, version: lease.ok ? lease.value.version : 0 }));
    expect(sealed).toMatchObject({ ok: true, value: { sealedBytes: 200 } });
    const err = await c.run(client.write('/f', chunk + 10, bytes(10, 4)).then(() => undefined, (e: unknown) => e));
    expect(err).toBeInstanceOf(GfsClientError);
    expect((err as GfsClientError).code).toBe('chunk_sealed');
    // Appends go on in a new chunk (S4): the file grows past the sealed one.
    const { offset } = await c.run(client.append('/f', bytes(100, 5)));
    expect(Math.floor(offset / chunk)).toBe(2);
  });
});
