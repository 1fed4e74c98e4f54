/**
 * The GFS chunkserver in the simulator, with the real master and real chunkservers on simulated
 * disks (patent ¶82–109 data path, ¶113 copy-on-write, ¶122–128 checksums; invariants C1–C10 in
 * src/actors/gfs/README.md).
 */
import { describe, expect, it, vi } from 'vitest';
import { ChunkStore } from '../../../src/storage/chunk-store.js';
import { simSeeds, withSeed } from '../../../src/testkit.js';
import { chunkKey } from '../../../src/actors/gfs/chunkserver/chunkserver.js';
import type { GfsResult } from '../../../src/actors/gfs/errors.js';
import type { ChunkLocation, ChunkReport, ChunkserverMsg, ClusterStatus } from '../../../src/actors/gfs/protocol.js';
import { bytes, equalBytes, gfsCell, KiB, SHADOW, serverRef, slowFsyncDisk } from './chunkserver-cluster.js';

describe('data flow: pipelined pushes along the chain (¶94–97)', () => {
  it('each slice is forwarded along the client-chosen chain as it arrives, before the next slice reaches the first server (¶96–97)', async () => {
    const c = gfsCell({ seed: 21 });
    await c.start();
    await c.sim.result(c.must({ type: 'gfs.master.create', path: '/f' }));
    const l = await c.sim.result(c.lease('/f', 0));
    // The client's chain: a secondary first, then the primary, then the other secondary (¶95's example).
    const chain = [l.secondaries[0]!, l.primary, l.secondaries[1]!];
    const slices = 4;
    const data = bytes(slices * 64 * KiB, 1);
    const pushId = 'pipeline:1';
    const replies: Array<Promise<GfsResult<null>>> = [];
    for (let slice = 0; slice < slices; slice++) {
      // The client streams a slice every 10 ms (a link slower than the chain's).
      replies.push(c.ask<GfsResult<null>>(chain[0]!.ref, { type: 'gfs.chunkserver.pushData', pushId, slice, slices, data: data.subarray(slice * 64 * KiB, (slice + 1) * 64 * KiB), chain: chain.slice(1) } satisfies ChunkserverMsg));
      await c.sim.run({ forMs: 10 });
    }
    const results = await c.sim.result(Promise.all(replies));
    expect(results.every((r) => r.ok)).toBe(true);

    const pushes = c.sim.trace().filter((t) => t.type === 'gfs.chunkserver.pushData');
    const at = (server: string) => pushes.filter((t) => t.node === server);
    const [a, b, d] = chain.map((r) => at(r.server));
    expect(a).toHaveLength(slices);
    expect(b).toHaveLength(slices);
    expect(d).toHaveLength(slices);
    // Chain order: each server hears only from the one before it.
    expect(new Set(b!.map((t) => t.from))).toEqual(new Set([`chunkserver@${chain[0]!.server}`]));
    expect(new Set(d!.map((t) => t.from))).toEqual(new Set([`chunkserver@${chain[1]!.server}`]));
    for (let i = 0; i < slices - 1; i++) {
      // Slice i reached the end of the chain before slice i+1 reached its head: pipelined, not store-and-forward.
      expect(d![i]!.time).toBeLessThan(a![i + 1]!.time);
      expect(b![i]!.time).toBeLessThan(a![i + 1]!.time);
    }
    // The pushed data is usable by a write on every replica.
    const w = await c.sim.result(c.ask<GfsResult<unknown>>(l.primary.ref, { type: 'gfs.chunkserver.write', handle: l.handle, version: l.version, offset: 0, pushId, lengthBytes: data.length, secondaries: l.secondaries } satisfies ChunkserverMsg));
    expect(w.ok).toBe(true);
    for (const r of chain) expect(equalBytes(await c.sim.result(c.chunkBytes(r.ref, l.handle, l.version)), data)).toBe(true);
  });

  it('a push through a dead server fails back to the client, naming it, before the client stops waiting (¶95, C5)', async () => {
    const c = gfsCell({ seed: 23 });
    await c.start();
    await c.sim.result(c.must({ type: 'gfs.master.create', path: '/f' }));
    const l = await c.sim.result(c.lease('/f', 0));
    const chain = [l.primary, l.secondaries[0]!, l.secondaries[1]!];
    c.crash(chain[2]!.server);
    await c.sim.run({ forMs: 100 });
    const rpcTimeoutMs = c.config.rpcTimeoutMs ?? 1_000;
    const t0 = c.sim.now;
    const r = await c.sim.result(c.ask<GfsResult<null>>(chain[0]!.ref, { type: 'gfs.chunkserver.pushData', pushId: 'p', slice: 0, slices: 1, data: bytes(100, 1), chain: chain.slice(1) } satisfies ChunkserverMsg, 0, rpcTimeoutMs));
    expect(r).toMatchObject({ ok: false, error: { code: 'chunkserver_failed' } });
    expect(!r.ok && r.error.message).toContain(chain[2]!.server);
    expect(c.sim.now - t0).toBeLessThan(rpcTimeoutMs);
  });

  it('the push buffer is bounded (busy when full) and ages pushes out (¶94, C5)', async () => {
    const c = gfsCell({ seed: 22, config: { pushBufferBytesMax: 128 * KiB, pushBufferTtlMs: 2_000 } });
    await c.start();
    await c.sim.result(c.must({ type: 'gfs.master.create', path: '/f' }));
    const l = await c.sim.result(c.lease('/f', 0));
    const replicas = [l.primary, ...l.secondaries];
    const first = await c.sim.result(c.push(replicas, bytes(64 * KiB, 1)));
    const second = await c.sim.result(c.push(replicas, bytes(64 * KiB, 2)));
    expect(first.ok && second.ok).toBe(true);
    const third = await c.sim.result(c.push(replicas, bytes(64 * KiB, 3)));
    expect(third).toMatchObject({ ok: false, error: { code: 'busy' } });
    // Past the TTL the unused pushes are gone: a write naming one finds no data, and room is free again.
    await c.sim.run({ forMs: 2_500 });
    const late = await c.sim.result(c.ask<GfsResult<unknown>>(l.primary.ref, { type: 'gfs.chunkserver.write', handle: l.handle, version: l.version, offset: 0, pushId: first.ok ? first.value : '', lengthBytes: 64 * KiB, secondaries: l.secondaries } satisfies ChunkserverMsg));
    expect(late).toMatchObject({ ok: false, error: { code: 'data_not_found' } });
    const again = await c.sim.result(c.push(replicas, bytes(128 * KiB, 4)));
    expect(again.ok).toBe(true);
  });
});

describe('writes: the primary orders mutations (¶89, ¶98–100)', () => {
  it.each(simSeeds([31, 32, 33]))('seed %i: concurrent overlapping writes from two clients leave every replica byte-identical (consistent, ¶98–99)', async (seed) => {
    await withSeed(seed, async () => {
      const c = gfsCell({ seed, clients: 2 });
      await c.start();
      await c.sim.result(c.must({ type: 'gfs.master.create', path: '/f' }));
      const rnd = c.sim.random.fork('workload');
      const writes: Array<Promise<{ reply: GfsResult<unknown> }>> = [];
      for (let i = 0; i < 12; i++) {
        const length = 1 + rnd.int(96 * KiB);
        const offset = rnd.int(128 * KiB);
        writes.push(c.write('/f', 0, offset, bytes(length, seed * 100 + i), i % 2));
      }
      const done = await c.sim.result(Promise.all(writes));
      expect(done.map((d) => d.reply.ok)).toEqual(done.map(() => true));
      const l = await c.sim.result(c.lease('/f', 0));
      const copies = await c.sim.result(Promise.all([l.primary, ...l.secondaries].map((r) => c.chunkBytes(r.ref, l.handle, l.version))));
      expect(copies[0]!.length).toBeGreaterThan(0);
      for (const copy of copies.slice(1)) expect(equalBytes(copy, copies[0]!)).toBe(true);
    });
  });

  it('secondaries apply mutations in the serial order the primary assigned, holding early ones until the gap fills (¶99, C3)', async () => {
    const c = gfsCell({ seed: 34 });
    await c.start();
    await c.sim.result(c.must({ type: 'gfs.master.create', path: '/f' }));
    const l = await c.sim.result(c.lease('/f', 0));
    const secondary = l.secondaries[0]!;
    // Mutations straight to one secondary: serial 1, then 3 before 2, all writing the same bytes.
    const pushes = [];
    for (let i = 1; i <= 3; i++) {
      const p = await c.sim.result(c.push([secondary], bytes(1000, i)));
      if (!p.ok) throw new Error('push failed');
      pushes.push(p.value);
    }
    const m = (serial: number, pushId: string) => ({ type: 'gfs.chunkserver.applyMutation', handle: l.handle, version: l.version, serial, mutation: { kind: 'write', offset: 0, pushId, lengthBytes: 1000 } }) satisfies ChunkserverMsg;
    expect((await c.sim.result(c.ask<GfsResult<null>>(secondary.ref, m(1, pushes[0]!)))).ok).toBe(true);
    const third = c.ask<GfsResult<null>>(secondary.ref, m(3, pushes[2]!));
    await c.sim.run({ forMs: 50 });
    const second = c.ask<GfsResult<null>>(secondary.ref, m(2, pushes[1]!));
    const [r3, r2] = await c.sim.result(Promise.all([third, second]));
    expect(r2.ok && r3.ok).toBe(true);
    // Serial 3 was applied last although it arrived before 2.
    const now = await c.sim.result(c.read(secondary.ref, l.handle, l.version, 0, 1000));
    expect(now.ok && equalBytes(now.value.data, bytes(1000, 3))).toBe(true);
    // A gap that never fills (4 is lost) fails the held mutation after mutationOrderTimeoutMs; ordering then resumes.
    const five = await c.sim.result(c.push([secondary], bytes(10, 5)));
    const six = await c.sim.result(c.push([secondary], bytes(10, 6)));
    if (!five.ok || !six.ok) throw new Error('push failed');
    const small = (serial: number, pushId: string) => ({ ...m(serial, pushId), mutation: { kind: 'write', offset: 0, pushId, lengthBytes: 10 } }) satisfies ChunkserverMsg;
    const held = await c.sim.result(c.ask<GfsResult<null>>(secondary.ref, small(5, five.value)));
    expect(held).toMatchObject({ ok: false, error: { code: 'chunkserver_failed' } });
    expect((await c.sim.result(c.ask<GfsResult<null>>(secondary.ref, small(6, six.value)))).ok).toBe(true);
  });

  it('a failed secondary makes the write and the record append report an error naming it (¶100)', async () => {
    const c = gfsCell({ seed: 35, servers: 3 });
    await c.start();
    await c.sim.result(c.must({ type: 'gfs.master.create', path: '/f' }));
    const l = await c.sim.result(c.lease('/f', 0));
    const replicas = [l.primary, ...l.secondaries];
    const data = bytes(10 * KiB, 7);
    const pushedW = await c.sim.result(c.push(replicas, data));
    const pushedA = await c.sim.result(c.push(replicas, data));
    if (!pushedW.ok || !pushedA.ok) throw new Error('push failed');
    const victim = l.secondaries[1]!;
    c.crash(victim.server);
    const w = await c.sim.result(c.ask<GfsResult<unknown>>(l.primary.ref, { type: 'gfs.chunkserver.write', handle: l.handle, version: l.version, offset: 0, pushId: pushedW.value, lengthBytes: data.length, secondaries: l.secondaries } satisfies ChunkserverMsg));
    expect(w).toMatchObject({ ok: false, error: { code: 'chunkserver_failed' } });
    expect(!w.ok && w.error.message).toContain(victim.server);
    const a = await c.sim.result(c.ask<GfsResult<unknown>>(l.primary.ref, { type: 'gfs.chunkserver.append', handle: l.handle, version: l.version, pushId: pushedA.value, lengthBytes: data.length, secondaries: l.secondaries } satisfies ChunkserverMsg));
    expect(a).toMatchObject({ ok: false, error: { code: 'chunkserver_failed' } });
    expect(!a.ok && a.error.message).toContain(victim.server);
  });

  it('requests naming a stale version are refused; only the lease holder accepts mutations (¶76–78, ¶93, C2, C8)', async () => {
    const c = gfsCell({ seed: 36 });
    await c.start();
    await c.sim.result(c.must({ type: 'gfs.master.create', path: '/f' }));
    const { reply, lease: l } = await c.sim.result(c.write('/f', 0, 0, bytes(100, 1)));
    expect(reply.ok).toBe(true);
    const pushed = await c.sim.result(c.push([l.primary, ...l.secondaries], bytes(100, 2)));
    if (!pushed.ok) throw new Error('push failed');
    const base = { type: 'gfs.chunkserver.write', handle: l.handle, offset: 0, pushId: pushed.value, lengthBytes: 100, secondaries: l.secondaries } as const;
    expect(await c.sim.result(c.ask(l.primary.ref, { ...base, version: l.version - 1 }))).toMatchObject({ ok: false, error: { code: 'stale_version' } });
    expect(await c.sim.result(c.ask(l.secondaries[0]!.ref, { ...base, version: l.version, secondaries: [l.primary] }))).toMatchObject({ ok: false, error: { code: 'lease_expired' } });
    // A read asking for a newer version than the replica has is refused; an older one is fine (the replica is not stale).
    expect(await c.sim.result(c.read(l.primary.ref, l.handle, l.version + 1, 0, 10))).toMatchObject({ ok: false, error: { code: 'stale_version' } });
    expect((await c.sim.result(c.read(l.primary.ref, l.handle, l.version - 1, 0, 10))).ok).toBe(true);
    // Malformed requests get an error, not silence.
    expect(await c.sim.result(c.ask(l.primary.ref, { type: 'gfs.chunkserver.read', handle: -1n, version: 1, offset: 0, lengthBytes: 1 }))).toMatchObject({ ok: false, error: { code: 'invalid_request' } });
    expect(await c.sim.result(c.ask(l.primary.ref, { type: 'gfs.chunkserver.nonsense' }))).toMatchObject({ ok: false, error: { code: 'invalid_request' } });
  });

  it('a chunkserver restarted after missing a lease grant is told its replica is garbage (¶76–78)', async () => {
    const c = gfsCell({ seed: 37, servers: 4 });
    await c.start();
    await c.sim.result(c.must({ type: 'gfs.master.create', path: '/f' }));
    const { reply, lease: first } = await c.sim.result(c.write('/f', 0, 0, bytes(1000, 1)));
    expect(reply.ok).toBe(true);
    const victim = first.secondaries[0]!.server;
    c.crash(victim);
    // The lease runs out; the next one bumps the version without the dead server.
    await c.sim.run({ forMs: (c.config.leaseDurationMs ?? 10_000) + 2_000 });
    const { reply: again, lease: second } = await c.sim.result(c.write('/f', 0, 0, bytes(1000, 2)));
    expect(again.ok).toBe(true);
    expect(second.version).toBeGreaterThan(first.version);
    c.sim.restart(victim);
    await c.sim.run({ forMs: 3_000 });
    const report = await c.sim.result(c.ask<GfsResult<{ chunks: ChunkReport[] }>>(serverRef(victim), { type: 'gfs.chunkserver.report' }));
    expect(report.ok && report.value.chunks.map((ch) => ch.handle)).not.toContain(first.handle);
    // It came back with the chunk (synced), reported it, and deleted it on the master's word.
    expect(c.sim.logs().some((e) => e.node === victim && e.msg === 'chunkserver ready' && e.fields?.['chunks'] === 1)).toBe(true);
    expect(c.sim.logs().some((e) => e.node === victim && e.msg === 'deleting garbage chunks named by the master')).toBe(true);
    const loc = await c.sim.result(c.locations('/f', 0));
    expect(loc.replicas.map((r) => r.server)).not.toContain(victim);
  });
});

describe('record append (¶101–108)', () => {
  it('returns offsets, writes each record at the same offset on every replica, pads and says retry on the next chunk when a record does not fit (¶103–105)', async () => {
    const c = gfsCell({ seed: 41 });
    await c.start();
    await c.sim.result(c.must({ type: 'gfs.master.create', path: '/log' }));
    const size = c.config.chunkSizeBytes!;
    const record = (i: number) => bytes(60 * KiB, 1000 + i);
    const offsets: number[] = [];
    for (let i = 0; i < 4; i++) {
      const { reply } = await c.sim.result(c.append('/log', 0, record(i)));
      if (!reply.ok || !('offset' in reply.value)) throw new Error(`append ${i}: ${JSON.stringify(reply)}`);
      offsets.push(reply.value.offset);
    }
    expect(offsets).toEqual([0, 60 * KiB, 120 * KiB, 180 * KiB]);
    // 240 KiB + 60 KiB > 256 KiB: padded, retry on the next chunk.
    const { reply: full, lease: l } = await c.sim.result(c.append('/log', 0, record(4)));
    expect(full).toEqual({ ok: true, value: { retryNextChunk: true } });
    for (const r of [l.primary, ...l.secondaries]) {
      const copy = await c.sim.result(c.chunkBytes(r.ref, l.handle, l.version));
      expect(copy.length).toBe(size);
      offsets.forEach((off, i) => expect(equalBytes(copy.subarray(off, off + 60 * KiB), record(i))).toBe(true));
      expect(copy.subarray(240 * KiB).every((b) => b === 0)).toBe(true);
    }
    const { reply: next } = await c.sim.result(c.append('/log', 1, record(4)));
    expect(next).toEqual({ ok: true, value: { offset: 0 } });
  });

  it('refuses records larger than a quarter chunk (¶103)', async () => {
    const c = gfsCell({ seed: 42 });
    await c.start();
    await c.sim.result(c.must({ type: 'gfs.master.create', path: '/log' }));
    const { reply } = await c.sim.result(c.append('/log', 0, bytes(c.config.chunkSizeBytes! / 4 + 1, 1)));
    expect(reply).toMatchObject({ ok: false, error: { code: 'record_too_large' } });
    const { reply: fits } = await c.sim.result(c.append('/log', 0, bytes(c.config.chunkSizeBytes! / 4, 1)));
    expect(fits).toEqual({ ok: true, value: { offset: 0 } });
  });

  it.each(simSeeds([43, 44]))('seed %i: concurrent appends from two clients get distinct offsets and identical replicas (¶101, ¶108)', async (seed) => {
    await withSeed(seed, async () => {
      const c = gfsCell({ seed, clients: 2 });
      await c.start();
      await c.sim.result(c.must({ type: 'gfs.master.create', path: '/q' }));
      const records = Array.from({ length: 10 }, (_, i) => bytes(1 + ((i * 7919) % (20 * KiB)), seed * 10 + i));
      const replies = await c.sim.result(Promise.all(records.map((r, i) => c.append('/q', 0, r, i % 2))));
      const offsets = replies.map(({ reply }) => (reply.ok && 'offset' in reply.value ? reply.value.offset : -1));
      expect(offsets.every((o) => o >= 0)).toBe(true);
      const ranges = offsets.map((o, i) => [o, o + records[i]!.length] as const).sort((a, b) => a[0] - b[0]);
      for (let i = 1; i < ranges.length; i++) expect(ranges[i]![0]).toBeGreaterThanOrEqual(ranges[i - 1]![1]);
      const l = await c.sim.result(c.lease('/q', 0));
      const copies = await c.sim.result(Promise.all([l.primary, ...l.secondaries].map((r) => c.chunkBytes(r.ref, l.handle, l.version))));
      for (const copy of copies) {
        expect(equalBytes(copy, copies[0]!)).toBe(true);
        offsets.forEach((o, i) => expect(equalBytes(copy.subarray(o, o + records[i]!.length), records[i]!)).toBe(true));
      }
    });
  });
});

describe('durability (C10)', () => {
  it('a burst of concurrent appends shares syncs (group commit), and every acknowledged record survives a power cut of all replicas', async () => {
    // fsync takes 5 ms here, as on a real disk: appends arriving meanwhile wait for the next one together.
    const c = gfsCell({ seed: 45, clients: 2, wrapDisk: (current, sim) => slowFsyncDisk(sim, current, 5) });
    await c.start();
    await c.sim.result(c.must({ type: 'gfs.master.create', path: '/q' }));
    await c.sim.result(c.append('/q', 0, bytes(10, 0)));
    const sync = vi.spyOn(ChunkStore.prototype, 'sync');
    try {
      const records = Array.from({ length: 24 }, (_, i) => bytes(500 + i, 4500 + i));
      const replies = await c.sim.result(Promise.all(records.map((r, i) => c.append('/q', 0, r, i % 2))));
      const offsets = replies.map(({ reply }) => (reply.ok && 'offset' in reply.value ? reply.value.offset : -1));
      expect(offsets.every((o) => o >= 0)).toBe(true);
      // 24 appends × 3 replicas would be 72 syncs one by one; sharing makes it at least 2× fewer.
      expect(sync.mock.calls.length).toBeLessThan(36);
      for (const id of c.servers) c.crash(id);
      await c.sim.run({ forMs: 100 });
      for (const id of c.servers) c.sim.restart(id);
      await c.sim.run({ forMs: 2_000 });
      const l = await c.sim.result(c.lease('/q', 0));
      for (const r of [l.primary, ...l.secondaries]) {
        const copy = await c.sim.result(c.chunkBytes(r.ref, l.handle, l.version));
        offsets.forEach((o, i) => expect(equalBytes(copy.subarray(o, o + records[i]!.length), records[i]!)).toBe(true));
      }
    } finally {
      sync.mockRestore();
    }
  });
});

describe('checksums: corruption is never returned and is reported (¶122–128)', () => {
  it('a read of a corrupted block returns corrupt_replica, never the bytes; the master drops the replica and re-replication restores the goal (¶124)', async () => {
    const c = gfsCell({ seed: 51, servers: 4, racks: 2 });
    await c.start();
    await c.sim.result(c.must({ type: 'gfs.master.create', path: '/f' }));
    const data = bytes(200 * KiB, 9);
    const { reply, lease: l } = await c.sim.result(c.write('/f', 0, 0, data));
    expect(reply.ok).toBe(true);
    const bad = l.secondaries[0]!;
    // Media corruption: one bit in the second 64 KiB block of the replica's chunk file.
    c.disks.get(bad.server)!.flipBit(`chunks/${chunkKey(l.handle)}.chunk`, (70 * KiB + 3) * 8);
    // Blocks before the damaged one still verify and read (read first: once the damage is found, the
    // master has the replica deleted, so a later read could find no chunk at all).
    const good = await c.sim.result(c.read(bad.ref, l.handle, l.version, 0, 1000));
    expect(good.ok && equalBytes(good.value.data, data.subarray(0, 1000))).toBe(true);
    const r = await c.sim.result(c.read(bad.ref, l.handle, l.version, 64 * KiB, 10));
    expect(r).toMatchObject({ ok: false, error: { code: 'corrupt_replica' } });
    expect('value' in r).toBe(false);
    await c.sim.run({ forMs: 4_000 });
    const loc = await c.sim.result(c.locations('/f', 0));
    expect(loc.replicas.map((x) => x.server)).not.toContain(bad.server);
    expect(loc.replicas).toHaveLength(3);
    const status = await c.sim.result(c.must<ClusterStatus>({ type: 'gfs.master.status' }));
    expect(status.underReplicated).toBe(0);
    expect(status.events?.find((e) => e.text.startsWith(`corrupt replica of chunk ${l.handle.toString(16)} on ${bad.server}`))?.level).toBe('warn');
    // The new replica holds the right bytes.
    const fresh = loc.replicas.find((x) => ![l.primary.server, ...l.secondaries.map((s) => s.server)].includes(x.server))!;
    expect(equalBytes(await c.sim.result(c.chunkBytes(fresh.ref, l.handle, loc.version)), data)).toBe(true);
  });

  it('the scrubber finds corruption in an idle chunk and the master re-replicates it (¶128)', async () => {
    const c = gfsCell({ seed: 52, servers: 4, racks: 2, config: { scrubIdleAfterMs: 2_000 } });
    await c.start();
    await c.sim.result(c.must({ type: 'gfs.master.create', path: '/cold' }));
    const data = bytes(100 * KiB, 3);
    const { reply, lease: l } = await c.sim.result(c.write('/cold', 0, 0, data));
    expect(reply.ok).toBe(true);
    const bad = l.primary;
    c.disks.get(bad.server)!.flipBit(`chunks/${chunkKey(l.handle)}.chunk`, 5 * 8);
    // Nobody reads it; the scrubber verifies idle chunks within a rest period or so.
    await c.sim.run({ forMs: 20_000 });
    const loc = await c.sim.result(c.locations('/cold', 0));
    expect(loc.replicas.map((x) => x.server)).not.toContain(bad.server);
    expect(loc.replicas).toHaveLength(3);
  });
});

describe('snapshot and re-replication (¶69, ¶113)', () => {
  it('a write after a snapshot makes C′ by local copy on the same servers, and the snapshot keeps the old bytes (¶113)', async () => {
    const c = gfsCell({ seed: 61, servers: 4 });
    await c.start();
    await c.sim.result(c.must({ type: 'gfs.master.create', path: '/f' }));
    const before = bytes(50 * KiB, 1);
    const { reply, lease: l } = await c.sim.result(c.write('/f', 0, 0, before));
    expect(reply.ok).toBe(true);
    await c.sim.result(c.must({ type: 'gfs.master.snapshot', source: '/f', target: '/snap' }));
    const after = bytes(10 * KiB, 2);
    const { reply: w, lease: l2 } = await c.sim.result(c.write('/f', 0, 1000, after));
    expect(w.ok).toBe(true);
    expect(l2.handle).not.toBe(l.handle);
    // C′ lives on the servers of C: copied locally, no network transfer (no clone was sent).
    const servers = (x: typeof l) => [x.primary, ...x.secondaries].map((r) => r.server).sort();
    expect(servers(l2)).toEqual(servers(l));
    expect(c.sim.trace().some((t) => t.type === 'gfs.chunkserver.clone')).toBe(false);
    const snap = await c.sim.result(c.locations('/snap', 0));
    expect(snap.handle).toBe(l.handle);
    for (const r of snap.replicas) expect(equalBytes(await c.sim.result(c.chunkBytes(r.ref, snap.handle, snap.version)), before)).toBe(true);
    const expected = before.slice();
    expected.set(after, 1000);
    for (const r of [l2.primary, ...l2.secondaries]) expect(equalBytes(await c.sim.result(c.chunkBytes(r.ref, l2.handle, l2.version)), expected)).toBe(true);
  });

  it('clone copies the bytes from a valid replica no faster than the bandwidth cap (virtual time ≥ size / cap, ¶69)', async () => {
    const capBytesPerSec = 128 * KiB;
    // The master waits rpcTimeoutMs for a clone: it must cover size / cap (2 s here).
    const c = gfsCell({ seed: 62, servers: 4, racks: 2, config: { cloneBandwidthBytesPerSecMax: capBytesPerSec, rpcTimeoutMs: 5_000 } });
    await c.start();
    await c.sim.result(c.must({ type: 'gfs.master.create', path: '/f' }));
    const data = bytes(c.config.chunkSizeBytes!, 4);
    const { reply, lease: l } = await c.sim.result(c.write('/f', 0, 0, data));
    expect(reply.ok).toBe(true);
    const victim = l.secondaries[1]!.server;
    c.crash(victim);
    const target = c.servers.find((s) => ![l.primary.server, ...l.secondaries.map((x) => x.server)].includes(s))!;
    // Wait for the master to order the clone, then poll the target: a chunk being cloned is not reported until complete (C7).
    const cloneOrdered = () => c.sim.trace().find((t) => t.type === 'gfs.chunkserver.clone' && t.node === target);
    await c.sim.run({ forMs: 10_000, until: () => cloneOrdered() !== undefined });
    const started = cloneOrdered();
    expect(started).toBeDefined();
    const holds = async () => {
      const r = await c.sim.result(c.ask<GfsResult<{ chunks: ChunkReport[] }>>(serverRef(target), { type: 'gfs.chunkserver.report' }));
      return r.ok && r.value.chunks.some((ch) => ch.handle === l.handle);
    };
    let doneAt: number | undefined;
    for (let i = 0; i < 200 && doneAt === undefined; i++) {
      if (await holds()) doneAt = c.sim.now;
      else await c.sim.run({ forMs: 20 });
    }
    expect(doneAt).toBeDefined();
    expect(doneAt! - started!.time).toBeGreaterThanOrEqual((data.length / capBytesPerSec) * 1000);
    await c.sim.run({ forMs: 1_000 });
    const loc = await c.sim.result(c.locations('/f', 0));
    expect(loc.replicas.map((x) => x.server)).toContain(target);
    expect(equalBytes(await c.sim.result(c.chunkBytes(serverRef(target), l.handle, loc.version)), data)).toBe(true);
  });
});

describe('leases at the primary (¶89–90)', () => {
  it('a primary that keeps mutating keeps its lease through heartbeat extensions, past the initial lease period (¶90)', async () => {
    const c = gfsCell({ seed: 81 });
    await c.start();
    await c.sim.result(c.must({ type: 'gfs.master.create', path: '/f' }));
    const first = await c.sim.result(c.write('/f', 0, 0, bytes(100, 0)));
    expect(first.reply.ok).toBe(true);
    const leaseMs = c.config.leaseDurationMs ?? 10_000;
    for (let i = 1; i <= 12; i++) {
      await c.sim.run({ forMs: 2_000 });
      const { reply, lease } = await c.sim.result(c.write('/f', 0, i * 100, bytes(100, i)));
      expect(reply.ok).toBe(true);
      // Same primary, same version: no new lease was needed.
      expect(lease.primary.server).toBe(first.lease.primary.server);
      expect(lease.version).toBe(first.lease.version);
    }
    expect(c.sim.now).toBeGreaterThan(2 * leaseMs);
  });

  it('an idle primary lets its lease run out and then refuses mutations with lease_expired (¶90, ¶93)', async () => {
    const c = gfsCell({ seed: 82 });
    await c.start();
    await c.sim.result(c.must({ type: 'gfs.master.create', path: '/f' }));
    const { reply, lease: l } = await c.sim.result(c.write('/f', 0, 0, bytes(100, 0)));
    expect(reply.ok).toBe(true);
    await c.sim.run({ forMs: (c.config.leaseDurationMs ?? 10_000) + 1_000 });
    const pushed = await c.sim.result(c.push([l.primary, ...l.secondaries], bytes(100, 1)));
    if (!pushed.ok) throw new Error('push failed');
    const late = await c.sim.result(c.ask(l.primary.ref, { type: 'gfs.chunkserver.write', handle: l.handle, version: l.version, offset: 0, pushId: pushed.value, lengthBytes: 100, secondaries: l.secondaries } satisfies ChunkserverMsg));
    expect(late).toMatchObject({ ok: false, error: { code: 'lease_expired' } });
  });
});

describe('lease revocation (¶90, ¶111)', () => {
  it('revokeLease answers only after the mutations already under way have finished, and refuses new ones (¶90, ¶111, C9)', async () => {
    const c = gfsCell({ seed: 86, wrapDisk: (current, sim) => slowFsyncDisk(sim, current, 100) });
    await c.start();
    await c.sim.result(c.must({ type: 'gfs.master.create', path: '/f' }));
    const l = await c.sim.result(c.lease('/f', 0));
    const pushed = await c.sim.result(c.push([l.primary, ...l.secondaries], bytes(1000, 1)));
    if (!pushed.ok) throw new Error('push failed');
    const order: string[] = [];
    const write = c.ask<GfsResult<unknown>>(l.primary.ref, { type: 'gfs.chunkserver.write', handle: l.handle, version: l.version, offset: 0, pushId: pushed.value, lengthBytes: 1000, secondaries: l.secondaries } satisfies ChunkserverMsg).then((r) => (order.push('write'), r));
    await c.sim.run({ until: () => c.sim.trace().some((t) => t.type === 'gfs.chunkserver.write') });
    const revoke = c.ask<GfsResult<unknown>>(l.primary.ref, { type: 'gfs.chunkserver.revokeLease', handle: l.handle } satisfies ChunkserverMsg).then((r) => (order.push('revoke'), r));
    const [w, r] = await c.sim.result(Promise.all([write, revoke]));
    expect(w.ok && r.ok).toBe(true);
    expect(order).toEqual(['write', 'revoke']);
    const again = await c.sim.result(c.push([l.primary, ...l.secondaries], bytes(10, 2)));
    if (!again.ok) throw new Error('push failed');
    const refused = await c.sim.result(c.ask(l.primary.ref, { type: 'gfs.chunkserver.write', handle: l.handle, version: l.version, offset: 0, pushId: again.value, lengthBytes: 10, secondaries: l.secondaries } satisfies ChunkserverMsg));
    expect(refused).toMatchObject({ ok: false, error: { code: 'lease_expired' } });
  });
});

describe('clone sources never propagate corruption (¶124)', () => {
  it('a clone from a replica with a corrupt block fails and leaves no copy on the target', async () => {
    const c = gfsCell({ seed: 83, servers: 4, racks: 2 });
    await c.start();
    await c.sim.result(c.must({ type: 'gfs.master.create', path: '/f' }));
    const { reply, lease: l } = await c.sim.result(c.write('/f', 0, 0, bytes(150 * KiB, 1)));
    expect(reply.ok).toBe(true);
    const source = l.secondaries[0]!;
    c.disks.get(source.server)!.flipBit(`chunks/${chunkKey(l.handle)}.chunk`, (130 * KiB) * 8);
    const target = c.servers.find((s) => ![l.primary.server, ...l.secondaries.map((x) => x.server)].includes(s))!;
    const r = await c.sim.result(c.ask<GfsResult<unknown>>(serverRef(target), { type: 'gfs.chunkserver.clone', handle: l.handle, version: l.version, source, bandwidthBytesPerSecMax: 10 * 1024 * KiB } satisfies ChunkserverMsg));
    expect(r).toMatchObject({ ok: false, error: { code: 'chunkserver_failed' } });
    expect(!r.ok && r.error.message).toContain('corrupt_replica');
    const report = await c.sim.result(c.ask<GfsResult<{ chunks: ChunkReport[] }>>(serverRef(target), { type: 'gfs.chunkserver.report' }));
    expect(report.ok && report.value.chunks.map((ch) => ch.handle)).not.toContain(l.handle);
  });
});

describe('record append under failures (¶100, ¶106)', () => {
  it.each(simSeeds([91, 92, 93]))('seed %i: with chunkservers crashing and restarting, every acknowledged record is at its offset on every replica the master lists (¶106)', async (seed) => {
    await withSeed(seed, async () => {
      // Four servers: re-replication clones while appends continue (the master revokes the lease first, M9).
      const c = gfsCell({ seed, servers: 4, clients: 2 });
      await c.start();
      await c.sim.result(c.must({ type: 'gfs.master.create', path: '/q' }));
      const rnd = c.sim.random.fork('faults');
      const hint = { index: 0 };
      const acked: Array<{ index: number; offset: number; record: Uint8Array }> = [];
      const producer = async (client: number): Promise<void> => {
        const pace = c.sim.random.fork(`pace-${client}`);
        for (let i = 0; i < 16; i++) {
          await c.sleep(pace.int(3_000));
          const record = bytes(1 + ((i * 7717 + client * 31) % (40 * KiB)), seed * 1000 + client * 100 + i);
          const at = await c.appendWithRetries('/q', record, hint, client);
          if (at !== undefined) acked.push({ ...at, record });
        }
      };
      const faults = async (): Promise<void> => {
        for (let k = 0; k < 4; k++) {
          await c.sleep(1_000 + rnd.int(4_000));
          const victim = c.servers[rnd.int(c.servers.length)]!;
          c.crash(victim);
          await c.sleep(500 + rnd.int(12_000));
          c.sim.restart(victim);
        }
      };
      await c.sim.result(Promise.all([producer(0), producer(1), faults()]));
      expect(acked.length).toBeGreaterThan(0);
      await c.sim.run({ forMs: 3_000 });
      for (const a of acked) {
        const loc = await c.sim.result(c.locations('/q', a.index));
        expect(loc.replicas.length).toBeGreaterThan(0);
        for (const r of loc.replicas) {
          const got = await c.sim.result(c.read(r.ref, loc.handle, loc.version, a.offset, a.record.length));
          expect(got.ok && equalBytes(got.value.data, a.record), `record at ${a.index}:${a.offset} on ${r.server}`).toBe(true);
        }
      }
    });
  });
});

describe('heartbeats (¶45, ¶121)', () => {
  it('chunkservers heartbeat the shadow master too, which learns chunk locations from their reports (¶121)', async () => {
    const c = gfsCell({ seed: 84, shadow: true });
    await c.start();
    await c.sim.result(c.must({ type: 'gfs.master.create', path: '/f' }));
    const { reply, lease: l } = await c.sim.result(c.write('/f', 0, 0, bytes(1000, 1)));
    expect(reply.ok).toBe(true);
    await c.sim.run({ forMs: (c.config.shadowReportIntervalMs ?? 1_000) * 2 + 1_000 });
    const r = await c.sim.result(c.ask<GfsResult<ChunkLocation[]>>(SHADOW, { type: 'gfs.master.getChunkLocations', path: '/f', index: 0, count: 1 }));
    expect(r.ok).toBe(true);
    expect(r.ok && r.value[0]!.replicas.map((x) => x.server).sort()).toEqual([l.primary, ...l.secondaries].map((x) => x.server).sort());
  });

  it('after a master restart, chunkservers send full reports and the master relearns every location (¶45)', async () => {
    const c = gfsCell({ seed: 85 });
    await c.start();
    await c.sim.result(c.must({ type: 'gfs.master.create', path: '/f' }));
    const { reply, lease: l } = await c.sim.result(c.write('/f', 0, 0, bytes(1000, 1)));
    expect(reply.ok).toBe(true);
    c.sim.crash('master');
    await c.sim.run({ forMs: 1_000 });
    c.sim.restart('master');
    await c.sim.run({ forMs: 3_000 });
    const loc = await c.sim.result(c.locations('/f', 0));
    expect(loc.replicas.map((x) => x.server).sort()).toEqual([l.primary, ...l.secondaries].map((x) => x.server).sort());
    expect(loc.lengthBytes).toBe(1000);
  });
});

describe('restarts', () => {
  it('a chunkserver recovers its chunks and versions from disk after a power cut, and reports them to the master (¶45)', async () => {
    const c = gfsCell({ seed: 71 });
    await c.start();
    await c.sim.result(c.must({ type: 'gfs.master.create', path: '/f' }));
    const data = bytes(30 * KiB, 5);
    const { reply, lease: l } = await c.sim.result(c.write('/f', 0, 0, data));
    expect(reply.ok).toBe(true);
    const s = l.secondaries[0]!.server;
    c.crash(s);
    await c.sim.run({ forMs: 100 });
    c.sim.restart(s);
    await c.sim.run({ forMs: 1_000 });
    expect(equalBytes(await c.sim.result(c.chunkBytes(serverRef(s), l.handle, l.version)), data)).toBe(true);
    const loc = await c.sim.result(c.locations('/f', 0));
    expect(loc.replicas.map((x) => x.server)).toContain(s);
  });
});
