import { afterEach, describe, expect, it } from 'vitest';
import { seededRandom } from '../../../src/runtime/random.js';
import { ChunkStore, encodeChecksumFile, type ChunkCorruption } from '../../../src/storage/chunk-store.js';
import { crc32c } from '../../../src/storage/crc32c.js';
import type { Disk } from '../../../src/storage/disk.js';
import { isStorageError } from '../../../src/storage/errors.js';
import { Scrubber } from '../../../src/storage/scrubber.js';
import { SimDisk } from '../../../src/storage/sim/sim-disk.js';
import { ManualTime, diskKinds, testSeeds, type DiskKind, type DiskUnderTest } from './helpers.js';

const B = 256; // small checksum blocks keep "every bit" tests fast; the logic is the same as at 64 KiB
const config = { blockSizeBytes: B, chunkSizeBytes: 64 * B, readSegmentBytes: 4 * B };

async function openStore(disk: Disk, time = new ManualTime(), events: ChunkCorruption[] = []): Promise<ChunkStore> {
  return ChunkStore.open(disk, { dir: 'chunks', clock: time, config, onCorruption: (c) => events.push(c) });
}

/** Flips one bit of a stored file through the disk itself (media corruption). */
async function flipBit(disk: Disk, path: string, bit: number): Promise<void> {
  const f = await disk.open(path);
  const byte = Math.floor(bit / 8);
  const [old] = await f.read(byte, 1);
  await f.write(byte, new Uint8Array([old! ^ (1 << (bit % 8))]));
  await f.fsync();
  await f.close();
}

/** Runs one full scrubber pass over a freshly opened store; true when it reports `block` of chunk `c`. */
async function scrubFinds(disk: Disk, block: number): Promise<boolean> {
  const time = new ManualTime();
  const events: ChunkCorruption[] = [];
  const store = await openStore(disk, time, events);
  const scrubber = new Scrubber(store, time, time, { idleAfterMs: 0, sliceBytes: 2 * B });
  for (let steps = 0; scrubber.passesCompleted === 0 && steps < 100; steps++) await scrubber.step();
  await store.close();
  return events.some((e) => e.handle === 'c' && e.kind === 'block' && e.blockIndex === block && e.detectedBy === 'scrub');
}

function filled(n: number, seed: number): Uint8Array {
  return seededRandom(seed).bytes(n);
}

for (const kind of diskKinds) {
  describe(`chunk store on the ${kind.name} disk (patent ¶122–128)`, () => {
    let d: DiskUnderTest;
    afterEach(async () => d.dispose());

    it('reads return what was written through overwrites, appends and writes past the end, before and after reopening', async () => {
      const seed = 17;
      d = await kind.make(seed);
      const r = seededRandom(seed);
      const store = await openStore(d.disk);
      await store.create('c1', 1);
      let model = new Uint8Array(0);
      for (let i = 0; i < 120; i++) {
        const size = model.length;
        const len = r.range(1, 3 * B);
        const offset = r.chance(0.4) ? size : r.int(Math.min(config.chunkSizeBytes - len, size + B) + 1);
        const data = r.bytes(len);
        if (offset === size && r.chance(0.5)) expect(await store.append('c1', data)).toBe(size);
        else await store.write('c1', offset, data);
        const next = new Uint8Array(Math.max(size, offset + len));
        next.set(model);
        next.set(data, offset);
        model = next;
        const ro = r.int(model.length);
        const rl = r.range(0, model.length - ro);
        expect(await store.read('c1', ro, rl), `seed ${seed} step ${i}`).toEqual(model.subarray(ro, ro + rl));
      }
      expect(await store.read('c1', 0, model.length)).toEqual(model);
      await store.sync('c1');
      await store.close();
      const again = await openStore(await d.reopen());
      expect(again.info('c1').sizeBytes).toBe(model.length);
      expect(await again.read('c1', 0, model.length)).toEqual(model);
      await again.close();
    });

    it('chunk files are allocated lazily: no data file until the first write, then its size is the written extent', async () => {
      d = await kind.make(2);
      const store = await openStore(d.disk);
      await store.create('lazy', 1);
      expect(await d.disk.stat('chunks/lazy.chunk')).toBeUndefined();
      await store.append('lazy', new Uint8Array(1000));
      expect(await d.disk.stat('chunks/lazy.chunk')).toEqual({ sizeBytes: 1000 });
      await store.close();
    });

    it('a read never returns a block whose checksum does not match: every single-bit flip in a stored block is detected on read and by the scrubber (patent ¶124, ¶128)', async () => {
      d = await kind.make(3);
      const events: ChunkCorruption[] = [];
      const store = await openStore(d.disk, new ManualTime(), events);
      await store.create('c', 7);
      const data = filled(2 * B + 100, 3);
      await store.append('c', data);
      await store.sync('c');
      // Every bit of the middle (full) block and of the last (partial) block.
      const bits = [...Array.from({ length: B * 8 }, (_, i) => B * 8 + i), ...Array.from({ length: 100 * 8 }, (_, i) => 2 * B * 8 + i)];
      for (const bit of bits) {
        await flipBit(d.disk, 'chunks/c.chunk', bit);
        const block = Math.floor(bit / 8 / B);
        const onRead = await store.read('c', block * B + 3, 1).then(
          () => 'returned data',
          (e: unknown) => (isStorageError(e, 'corrupt_block') ? 'detected' : String(e)),
        );
        const onScrub = (await scrubFinds(d.disk, block)) ? 'detected' : 'passed';
        if (onRead !== 'detected' || onScrub !== 'detected') expect.fail(`bit ${bit}: read ${onRead}, scrub ${onScrub}`);
        // Blocks that do not overlap the damage still read fine.
        expect(await store.read('c', 0, B)).toEqual(data.subarray(0, B));
        await flipBit(d.disk, 'chunks/c.chunk', bit);
      }
      expect(await store.read('c', 0, data.length)).toEqual(data);
      expect(events.map((e) => `${e.kind}@${e.blockIndex}/${e.detectedBy}`)).toEqual(['block@1/read', 'block@2/read']);
      expect(events[0]).toMatchObject({ handle: 'c', version: 7 });
      await store.close();
    });

    it('a flipped bit in any block of a large multi-block read fails the whole read with corrupt_block, whichever segment of the read-ahead it falls in (patent ¶124)', async () => {
      d = await kind.make(31);
      const events: ChunkCorruption[] = [];
      const store = await openStore(d.disk, new ManualTime(), events);
      await store.create('big', 1);
      const data = filled(40 * B + 77, 31);
      await store.append('big', data);
      await store.sync('big');
      const r = seededRandom(31);
      for (let block = 0; block <= 40; block++) {
        const blockBytes = Math.min(B, data.length - block * B);
        const bit = (block * B + r.int(blockBytes)) * 8 + r.int(8);
        await flipBit(d.disk, 'chunks/big.chunk', bit);
        // The whole chunk, and an unaligned range that starts in an earlier segment and ends in a later one.
        const from = Math.max(0, block * B - 5 * B - 3);
        for (const [offset, length] of [
          [0, data.length],
          [from, Math.min(data.length, block * B + 6 * B + 11) - from],
        ] as const) {
          const got = await store.read('big', offset, length).catch((e: unknown) => e);
          if (!isStorageError(got, 'corrupt_block')) expect.fail(`bit ${bit} (block ${block}), read ${offset}+${length}: ${got instanceof Uint8Array ? 'returned data' : String(got)}`);
          expect((got as Error).message).toContain(`block ${block} `);
        }
        await flipBit(d.disk, 'chunks/big.chunk', bit);
      }
      expect(await store.read('big', 0, data.length)).toEqual(data);
      expect(events.map((e) => e.blockIndex)).toEqual(Array.from({ length: 41 }, (_, i) => i));
      await store.close();
    });

    it('at the default 64 KiB blocks and 1 MiB read segments, an 8 MiB read fails on a flipped bit in its first, a middle or its last block', async () => {
      d = await kind.make(32);
      const store = await ChunkStore.open(d.disk, { dir: 'chunks', clock: new ManualTime() });
      const KiB = 1024;
      const data = filled(8 * 1024 * KiB, 32);
      await store.create('c', 1);
      await store.append('c', data);
      await store.sync('c');
      for (const block of [0, 17, 64, 127]) {
        const bit = (block * 64 * KiB + 1000 + block) * 8 + 3;
        await flipBit(d.disk, 'chunks/c.chunk', bit);
        await expect(store.read('c', 0, data.length)).rejects.toSatisfy((e) => isStorageError(e, 'corrupt_block') && (e as Error).message.includes(`block ${block} `));
        await flipBit(d.disk, 'chunks/c.chunk', bit);
      }
      // A byte loop: toEqual over 8 MiB is slow.
      const whole = await store.read('c', 0, data.length);
      expect(whole.length).toBe(data.length);
      expect(whole.findIndex((b, i) => b !== data[i])).toBe(-1);
      await store.close();
    });

    it('an append extends the last partial block checksum incrementally, so earlier damage in that block is still caught (patent ¶126)', async () => {
      d = await kind.make(4);
      const store = await openStore(d.disk);
      await store.create('c', 1);
      await store.append('c', filled(B + 10, 4));
      await flipBit(d.disk, 'chunks/c.chunk', (B + 5) * 8);
      await store.append('c', filled(50, 5));
      await expect(store.read('c', B, 60)).rejects.toSatisfy((e) => isStorageError(e, 'corrupt_block'));
      await store.close();
    });

    it('an overwrite verifies the first and last blocks it covers partly, so it cannot hide damage next to it (patent ¶127)', async () => {
      d = await kind.make(5);
      const store = await openStore(d.disk);
      await store.create('c', 1);
      const data = filled(4 * B, 6);
      await store.append('c', data);
      // Damage byte 10 of block 0, then overwrite bytes 20..(3B+20): block 0 and block 3 are partly kept.
      await flipBit(d.disk, 'chunks/c.chunk', 10 * 8);
      await expect(store.write('c', 20, new Uint8Array(3 * B))).rejects.toSatisfy((e) => isStorageError(e, 'corrupt_block'));
      await flipBit(d.disk, 'chunks/c.chunk', 10 * 8);
      await flipBit(d.disk, 'chunks/c.chunk', (3 * B + 100) * 8);
      await expect(store.write('c', 20, new Uint8Array(3 * B))).rejects.toSatisfy((e) => isStorageError(e, 'corrupt_block'));
      await flipBit(d.disk, 'chunks/c.chunk', (3 * B + 100) * 8);
      // A whole-block overwrite needs no verification, and heals nothing it does not cover.
      await store.write('c', B, new Uint8Array(B).fill(9));
      expect(await store.read('c', B, B)).toEqual(new Uint8Array(B).fill(9));
      await store.close();
    });

    it('a corrupt checksum file is detected when the store opens, reported, and blocks every read of that chunk', async () => {
      d = await kind.make(6);
      const store = await openStore(d.disk);
      await store.create('bad', 3);
      await store.create('good', 3);
      for (const h of ['bad', 'good']) {
        await store.append(h, filled(3 * B, 7));
        await store.sync(h);
      }
      await store.close();
      await flipBit(d.disk, 'chunks/bad.crc', 40 * 8 + 2);
      const events: ChunkCorruption[] = [];
      const again = await openStore(await d.reopen(), new ManualTime(), events);
      expect(events).toEqual([{ handle: 'bad', version: 0, kind: 'checksum_file', detectedBy: 'open' }]);
      await expect(again.read('bad', 0, 10)).rejects.toSatisfy((e) => isStorageError(e, 'checksum_file_corrupt'));
      expect(again.info('bad').corrupt).toBe(true);
      expect(await again.read('good', 0, 3 * B)).toEqual(filled(3 * B, 7));
      await again.close();
    });

    it('a stale replica is refused by version (stale_version) and the version survives reopening', async () => {
      d = await kind.make(7);
      const store = await openStore(d.disk);
      await store.create('c', 4);
      await store.append('c', filled(10, 1), { expectVersion: 4 });
      await store.setVersion('c', 5);
      await expect(store.read('c', 0, 10, { expectVersion: 4 })).rejects.toSatisfy((e) => isStorageError(e, 'stale_version'));
      await store.close();
      const again = await openStore(await d.reopen());
      expect(again.info('c')).toMatchObject({ version: 5, sizeBytes: 10 });
      await again.close();
    });

    it('the scrubber verifies idle chunks within its bandwidth bound and reports corruption (patent ¶128)', async () => {
      d = await kind.make(8);
      const time = new ManualTime();
      const events: ChunkCorruption[] = [];
      const store = await openStore(d.disk, time, events);
      for (const h of ['a', 'b', 'c']) {
        await store.create(h, 1);
        await store.append(h, filled(8 * B, h.charCodeAt(0)));
        await store.sync(h);
      }
      await flipBit(d.disk, 'chunks/b.chunk', (5 * B + 1) * 8);
      const bandwidth = 4 * B; // bytes per second
      const scrubber = new Scrubber(store, time, time, { scrubBandwidthBytesPerSec: bandwidth, sliceBytes: 2 * B, idleAfterMs: 1000, restMs: 500 });
      scrubber.start();
      // Not idle yet: nothing is scrubbed in the first second.
      await time.advance(900, { awaitReschedule: true });
      expect(scrubber.bytesVerified).toBe(0);
      await time.advance(10_000, { awaitReschedule: true });
      const elapsedIdleSec = 10.0;
      expect(scrubber.bytesVerified).toBeLessThanOrEqual(bandwidth * elapsedIdleSec + 2 * B);
      expect(scrubber.bytesVerified).toBeGreaterThan(0);
      expect(events).toEqual([{ handle: 'b', version: 1, kind: 'block', blockIndex: 5, detectedBy: 'scrub' }]);
      await time.advance(60_000, { awaitReschedule: true });
      expect(scrubber.passesCompleted).toBeGreaterThan(0);
      scrubber.stop();
      const stoppedAt = scrubber.bytesVerified;
      await time.advance(60_000, { awaitReschedule: true });
      expect(scrubber.bytesVerified).toBe(stoppedAt);
      await store.close();
    });
  });
}

describe('chunk store on a full disk', () => {
  it('ENOSPC gives a clear no_space error and leaves earlier data intact (issue 4 item 6)', async () => {
    const sim = new SimDisk({ random: seededRandom(9), capacityBytes: 20 * B });
    const store = await openStore(sim);
    await store.create('c', 1);
    // A partial last block: the failed append must not leave its checksum extended.
    const first = filled(8 * B + 10, 9);
    await store.append('c', first);
    await store.sync('c');
    const err = await store.append('c', new Uint8Array(20 * B)).catch((e: unknown) => e);
    expect(isStorageError(err, 'no_space')).toBe(true);
    expect((err as Error).message).toMatch(/no space left/);
    expect(store.info('c').sizeBytes).toBe(first.length);
    expect(await store.read('c', 0, first.length)).toEqual(first);
    const overwrite = await store.write('c', 5, new Uint8Array(30 * B)).catch((e: unknown) => e);
    expect(isStorageError(overwrite, 'no_space')).toBe(true);
    expect(await store.read('c', 0, first.length)).toEqual(first);
    await store.sync('c');
    const again = await openStore(sim.crash());
    expect(await again.read('c', 0, first.length)).toEqual(first);
  });

  it('a version bump the disk cannot record leaves the old version, in memory and on disk (¶77)', async () => {
    const sim = new SimDisk({ random: seededRandom(10) });
    const store = await openStore(sim);
    await store.create('c', 1);
    await store.append('c', filled(3 * B, 1));
    await store.sync('c');
    sim.failNext('write', 'no_space');
    const err = await store.setVersion('c', 2).catch((e: unknown) => e);
    expect(isStorageError(err, 'no_space')).toBe(true);
    // A replica that reported version 2 now would pass for one in the new lease without being in it.
    expect(store.info('c').version).toBe(1);
    await store.sync('c');
    expect((await openStore(sim.crash())).info('c').version).toBe(1);
  });
});

describe('chunk store durability with fewer directory syncs', () => {
  it('a data file created without a directory sync survives a crash once the chunk is synced (the checksum-file rename makes its name durable); an unsynced chunk leaves nothing', async () => {
    const sim = new SimDisk({ random: seededRandom(41), unsyncedOnCrash: 'drop' });
    const store = await openStore(sim);
    await store.create('synced', 1);
    await store.create('unsynced', 1);
    const data = filled(3 * B + 5, 41);
    await store.append('synced', data);
    await store.append('unsynced', data);
    await store.sync('synced');
    await store.append('unsynced', data);
    const after = sim.crash();
    const again = await openStore(after);
    expect(again.has('unsynced')).toBe(false);
    expect(await again.read('synced', 0, data.length)).toEqual(data);
    expect(await after.list('chunks')).toEqual(['synced.chunk', 'synced.crc']);
    await again.close();
  });

  it('a chunk synced empty (no data file yet) and written later keeps its synced data through a crash: the data file appears durably', async () => {
    const sim = new SimDisk({ random: seededRandom(46), unsyncedOnCrash: 'drop' });
    const store = await openStore(sim);
    await store.create('c', 1);
    await store.sync('c');
    const data = filled(3 * B + 7, 46);
    await store.append('c', data);
    await store.sync('c');
    const again = await openStore(sim.crash());
    expect(again.info('c').sizeBytes).toBe(data.length);
    expect(await again.read('c', 0, data.length)).toEqual(data);
    await again.close();
  });

  it('syncs after the first overwrite one slot of the checksum file in place: a torn slot write in a crash leaves the last synced state, and the sync after it never overwrites that state', async () => {
    for (let seed = 1; seed <= 20; seed++) {
      const sim = new SimDisk({ random: seededRandom(seed), unsyncedOnCrash: 'prefix-torn' });
      const store = await openStore(sim);
      await store.create('c', 1);
      const parts = [filled(B + 3, seed), filled(2 * B, seed + 100), filled(5, seed + 200)];
      let synced = 0;
      for (const p of parts.slice(0, 2)) {
        await store.append('c', p);
        await store.sync('c');
        synced += p.length;
      }
      // The third sync's data fsync completes, then the crash tears its checksum-slot write.
      await store.append('c', parts[2]!);
      sim.failNext('fsync', 'io_error', 'chunks/c.crc');
      await expect(store.sync('c')).rejects.toSatisfy((e) => isStorageError(e, 'io_error'));
      const crashed = sim.crash();
      const again = await openStore(crashed);
      const size = again.info('c').sizeBytes;
      expect([synced, synced + parts[2]!.length]).toContain(size);
      const all = new Uint8Array([...parts[0]!, ...parts[1]!, ...parts[2]!]);
      expect(await again.read('c', 0, size)).toEqual(all.subarray(0, size));
      // Two more syncs (both slots rewritten) and another crash: the newest state comes back.
      for (let i = 0; i < 2; i++) {
        await again.append('c', parts[2]!.subarray(i, i + 1));
        await again.sync('c');
      }
      const third = await openStore(crashed.crash());
      expect(third.info('c').sizeBytes).toBe(size + 2);
      await third.close();
    }
  });

  it('a checksum file in the older one-copy format is still read, and the next sync rewrites it as two slots', async () => {
    const sim = new SimDisk({ random: seededRandom(7), unsyncedOnCrash: 'drop' });
    const store = await openStore(sim);
    await store.create('c', 3);
    const first = filled(2 * B + 9, 7);
    await store.append('c', first);
    await store.sync('c');
    await store.close();
    // Replace the checksum file by the same state in the one-copy format of earlier releases.
    const crcs = new Uint32Array(3);
    for (let i = 0; i < 3; i++) crcs[i] = crc32c(first.subarray(i * B, Math.min(first.length, (i + 1) * B)));
    const f = await sim.open('chunks/c.crc');
    await f.truncate(0);
    await f.write(0, encodeChecksumFile(3, first.length, B, crcs));
    await f.fsync();
    await f.close();
    const old = await openStore(sim);
    expect(old.info('c')).toMatchObject({ version: 3, sizeBytes: first.length });
    expect(await old.read('c', 0, first.length)).toEqual(first);
    await old.append('c', filled(B, 8));
    await old.sync('c');
    const again = await openStore(sim.crash());
    expect(again.info('c')).toMatchObject({ version: 3, sizeBytes: first.length + B });
    expect(await again.read('c', 0, first.length)).toEqual(first);
    await again.close();
  });

  it('a deleted chunk whose data-file removal a crash undid is an orphan that the next open removes', async () => {
    const sim = new SimDisk({ random: seededRandom(42), unsyncedOnCrash: 'drop' });
    const store = await openStore(sim);
    await store.create('gone', 1);
    await store.append('gone', filled(2 * B, 42));
    await store.sync('gone');
    await store.delete('gone');
    const after = sim.crash();
    expect(await after.list('chunks')).toEqual(['gone.chunk']);
    const again = await openStore(after);
    expect(again.has('gone')).toBe(false);
    expect(await after.list('chunks')).toEqual([]);
    await again.close();
  });

  it('sync writes the checksum file during the data fsync but installs it only after: a failed data fsync leaves the old checksums in place', async () => {
    const sim = new SimDisk({ random: seededRandom(43), unsyncedOnCrash: 'drop' });
    const store = await openStore(sim);
    await store.create('c', 1);
    const first = filled(2 * B + 9, 43);
    await store.append('c', first);
    await store.sync('c');
    await store.append('c', filled(3 * B, 44));
    sim.failNext('fsync', 'io_error', 'chunks/c.chunk');
    await expect(store.sync('c')).rejects.toSatisfy((e) => isStorageError(e, 'io_error'));
    const after = sim.crash();
    const again = await openStore(after);
    expect(again.info('c').sizeBytes).toBe(first.length);
    expect(await again.read('c', 0, first.length)).toEqual(first);
    await again.close();
  });

  it('a retried sync after a failed data fsync makes everything durable', async () => {
    const sim = new SimDisk({ random: seededRandom(45), unsyncedOnCrash: 'drop' });
    const store = await openStore(sim);
    await store.create('c', 1);
    const data = filled(4 * B + 1, 45);
    await store.append('c', data);
    sim.failNext('fsync', 'io_error', 'chunks/c.chunk');
    await expect(store.sync('c')).rejects.toSatisfy((e) => isStorageError(e, 'io_error'));
    await store.sync('c');
    const again = await openStore(sim.crash());
    expect(await again.read('c', 0, data.length)).toEqual(data);
    await again.close();
  });
});

/**
 * Seeded workload: appends to a few chunks and syncs them now and then. After a crash each chunk
 * must hold a prefix of its appends that contains everything synced, and read back verified.
 */
async function chunkWorkload(disk: Disk, seed: number, steps: number, log: { appended: Map<string, Uint8Array[]>; synced: Map<string, number> }): Promise<void> {
  const r = seededRandom(seed);
  try {
    const store = await openStore(disk);
    const handles = ['h0', 'h1', 'h2'];
    for (const h of handles) {
      await store.create(h, 1);
      log.appended.set(h, []);
    }
    for (let i = 0; i < steps; i++) {
      const h = r.pick(handles);
      const data = r.bytes(r.range(1, 2 * B));
      const list = log.appended.get(h)!;
      if (list.reduce((n, a) => n + a.length, 0) + data.length > config.chunkSizeBytes) continue;
      list.push(data);
      await store.append(h, data);
      if (r.chance(0.3)) {
        const n = list.reduce((s, a) => s + a.length, 0);
        await store.sync(h);
        log.synced.set(h, n);
      }
    }
    await store.close();
  } catch {
    // crashed
  }
}

async function chunkCrashAtEveryPoint(kind: DiskKind, seed: number, steps: number): Promise<{ points: number; violations: string[] }> {
  const dry = await kind.makeCrashing(seed, undefined);
  await chunkWorkload(dry.disk, seed, steps, { appended: new Map(), synced: new Map() });
  const points = dry.disk.points;
  await dry.dispose();
  const violations: string[] = [];
  for (let p = 1; p <= points; p++) {
    const c = await kind.makeCrashing(seed * 1000 + p, p);
    try {
      const log = { appended: new Map<string, Uint8Array[]>(), synced: new Map<string, number>() };
      await chunkWorkload(c.disk, seed, steps, log);
      const store = await openStore(await c.crashed());
      for (const [h, list] of log.appended) {
        if (!store.has(h)) {
          // Only a chunk that was synced is promised to exist.
          if (log.synced.has(h)) violations.push(`point ${p}: chunk ${h} was synced but is missing`);
          continue;
        }
        const all = new Uint8Array(list.reduce((n, a) => n + a.length, 0));
        let at = 0;
        for (const a of list) {
          all.set(a, at);
          at += a.length;
        }
        const size = store.info(h).sizeBytes;
        if (size < (log.synced.get(h) ?? 0)) violations.push(`point ${p}: chunk ${h} has ${size} bytes, ${log.synced.get(h)} were synced`);
        const got = await store.read(h, 0, size).catch((e: unknown) => e);
        if (!(got instanceof Uint8Array)) violations.push(`point ${p}: chunk ${h} unreadable: ${String(got)}`);
        else if (size > all.length || !got.every((b, i) => b === all[i])) violations.push(`point ${p}: chunk ${h} is not a prefix of its appends`);
      }
      await store.close();
    } finally {
      await c.dispose();
    }
  }
  return { points, violations };
}

describe('chunk store crash at every write and fsync point (issue 4 item 6)', () => {
  for (const kind of diskKinds) {
    for (const seed of testSeeds(kind.name === 'sim' ? [1, 2] : [1])) {
      it(`on the ${kind.name} disk, seed ${seed}: each chunk comes back as a prefix of its appends holding everything synced, and reads verify`, async () => {
        const { points, violations } = await chunkCrashAtEveryPoint(kind, seed, kind.name === 'sim' ? 40 : 15);
        expect(points).toBeGreaterThan(20);
        expect(violations, `STORAGE_SEED=${seed}`).toEqual([]);
      });
    }
  }
});

describe('chunk store under seeded media faults', () => {
  for (const seed of testSeeds([1, 2, 3, 4])) {
    it(`seed ${seed}: with bit flips and misdirected writes injected, a read returns the written data or corrupt_block, never wrong data (patent ¶124)`, async () => {
      const sim = new SimDisk({ random: seededRandom(seed), faults: { bitFlipOnWriteProbability: 0.03, misdirectedWriteProbability: 0.03 } });
      const r = seededRandom(seed + 1000);
      const events: ChunkCorruption[] = [];
      const store = await openStore(sim, new ManualTime(), events);
      const models = new Map<string, Uint8Array>();
      let detected = 0;
      let wrong = 0;
      for (let i = 0; i < 300; i++) {
        const h = `c${r.int(4)}`;
        if (!models.has(h)) {
          await store.create(h, 1);
          models.set(h, new Uint8Array(0));
        }
        const model = models.get(h)!;
        if (r.chance(0.5)) {
          const len = r.range(1, 2 * B);
          const offset = r.chance(0.5) ? model.length : r.int(Math.min(config.chunkSizeBytes - len, model.length) + 1);
          const data = r.bytes(len);
          try {
            await store.write(h, offset, data);
            const next = new Uint8Array(Math.max(model.length, offset + len));
            next.set(model);
            next.set(data, offset);
            models.set(h, next);
          } catch (e) {
            if (!isStorageError(e, 'corrupt_block')) throw e;
            detected++;
          }
        } else if (model.length > 0) {
          const ro = r.int(model.length);
          const rl = r.range(1, model.length - ro);
          try {
            const got = await store.read(h, ro, rl);
            if (!got.every((b, k) => b === model[ro + k])) wrong++;
          } catch (e) {
            if (!isStorageError(e, 'corrupt_block')) throw e;
            detected++;
          }
        }
      }
      expect(wrong, `STORAGE_SEED=${seed}: reads returned wrong data; faults ${JSON.stringify(sim.faultLog.slice(0, 5))}`).toBe(0);
      expect(sim.faultLog.length, `STORAGE_SEED=${seed}`).toBeGreaterThan(0);
      expect(detected, `STORAGE_SEED=${seed}`).toBeGreaterThan(0);
      expect(events.length, `STORAGE_SEED=${seed}`).toBeGreaterThan(0);
    });
  }
});
