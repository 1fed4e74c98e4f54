import { afterEach, describe, expect, it } from 'vitest';
import { seededRandom } from '../../../src/runtime/random.js';
import { appendParts, concatParts, writeFileAtomically } from '../../../src/storage/disk.js';
import { isStorageError } from '../../../src/storage/errors.js';
import { SimDisk } from '../../../src/storage/sim/sim-disk.js';
import { bytesOf, diskKinds, type DiskUnderTest } from './helpers.js';

for (const kind of diskKinds) {
  describe(`Disk contract on the ${kind.name} disk`, () => {
    let d: DiskUnderTest;
    afterEach(async () => d.dispose());

    it('writes, appends, reads back, and reports size; a write past the end leaves a hole of zeros', async () => {
      d = await kind.make(1);
      const f = await d.disk.open('a/b/file', { create: true });
      expect(await f.append(bytesOf('hello '))).toBe(0);
      expect(await f.append(bytesOf('world'))).toBe(6);
      await f.write(0, bytesOf('J'));
      expect(new TextDecoder().decode(await f.read(0, 100))).toBe('Jello world');
      await f.write(15, bytesOf('!'));
      expect(f.sizeBytes()).toBe(16);
      expect([...(await f.read(11, 5))]).toEqual([0, 0, 0, 0, 33]);
      await f.truncate(5);
      expect(new TextDecoder().decode(await f.read(0, 100))).toBe('Jello');
      await f.fsync();
      await f.close();
      expect(await d.disk.stat('a/b/file')).toEqual({ sizeBytes: 5 });
    });

    it('concurrent appends get disjoint ranges in call order', async () => {
      d = await kind.make(2);
      const f = await d.disk.open('log', { create: true });
      const offsets = await Promise.all(Array.from({ length: 20 }, (_, i) => f.append(new Uint8Array(10).fill(i))));
      expect(offsets).toEqual(Array.from({ length: 20 }, (_, i) => i * 10));
      const all = await f.read(0, 200);
      for (let i = 0; i < 20; i++) expect(all[i * 10]).toBe(i);
      await f.close();
    });

    it('appendParts writes the concatenation of its parts as one append, in call order with other appends, past 1,024 parts', async () => {
      d = await kind.make(3);
      const f = await d.disk.open('parts', { create: true });
      const many = Array.from({ length: 1500 }, (_, i) => Uint8Array.of(i & 0xff, (i >> 8) & 0xff));
      const [a, b, c] = await Promise.all([f.append(bytesOf('head')), appendParts(f, many), appendParts(f, [bytesOf('x'), new Uint8Array(0), bytesOf('yz')])]);
      expect([a, b, c]).toEqual([0, 4, 4 + 3000]);
      const all = await f.read(0, f.sizeBytes());
      expect(all.length).toBe(4 + 3000 + 3);
      expect(Buffer.from(all.subarray(4, 3004)).equals(Buffer.from(concatParts(many)))).toBe(true);
      expect(new TextDecoder().decode(all.subarray(3004))).toBe('xyz');
      await f.close();
    });

    it('lists, renames over an existing file, and removes; missing files are not_found', async () => {
      d = await kind.make(3);
      for (const name of ['x', 'y', 'z']) {
        const f = await d.disk.open(`dir/${name}`, { create: true });
        await f.append(bytesOf(name));
        await f.close();
      }
      expect(await d.disk.list('dir')).toEqual(['x', 'y', 'z']);
      await d.disk.rename('dir/x', 'dir/y');
      expect(await d.disk.list('dir')).toEqual(['y', 'z']);
      const y = await d.disk.open('dir/y');
      expect(new TextDecoder().decode(await y.read(0, 10))).toBe('x');
      await y.close();
      await d.disk.remove('dir/z');
      expect(await d.disk.list('dir')).toEqual(['y']);
      expect(await d.disk.list('nothing-here')).toEqual([]);
      await expect(d.disk.open('dir/z')).rejects.toSatisfy((e) => isStorageError(e, 'not_found'));
      await expect(d.disk.remove('dir/z')).rejects.toSatisfy((e) => isStorageError(e, 'not_found'));
      expect(await d.disk.stat('dir/z')).toBeUndefined();
      expect(await d.disk.freeSpaceBytes()).toBeGreaterThan(0);
    });

    it('writeFileAtomically replaces a file whole and leaves no temporary file', async () => {
      d = await kind.make(4);
      await writeFileAtomically(d.disk, 'ck/file', bytesOf('one'));
      await writeFileAtomically(d.disk, 'ck/file', bytesOf('two!'));
      expect(await d.disk.list('ck')).toEqual(['file']);
      const f = await d.disk.open('ck/file');
      expect(new TextDecoder().decode(await f.read(0, 10))).toBe('two!');
      await f.close();
    });

    it('durable: false creates and removes behave like the durable ones while the disk runs', async () => {
      d = await kind.make(6);
      const f = await d.disk.open('nd/tmp', { create: true, durable: false });
      await f.append(bytesOf('x'));
      await f.fsync();
      await f.close();
      expect(await d.disk.list('nd')).toEqual(['tmp']);
      await d.disk.rename('nd/tmp', 'nd/file');
      await d.disk.remove('nd/file', { durable: false });
      expect(await d.disk.list('nd')).toEqual([]);
      await expect(d.disk.remove('nd/file', { durable: false })).rejects.toSatisfy((e) => isStorageError(e, 'not_found'));
    });

    it('rejects paths that escape the disk', async () => {
      d = await kind.make(5);
      await expect(d.disk.open('../etc/passwd')).rejects.toThrow(/invalid disk path/);
      await expect(d.disk.open('/abs', { create: true })).rejects.toThrow(/invalid disk path/);
    });
  });
}

describe('the simulated disk models crashes and faults (DESIGN.md §3)', () => {
  it('a crash keeps only fsynced data when unsynced writes are dropped', async () => {
    const sim = new SimDisk({ random: seededRandom(11), unsyncedOnCrash: 'drop' });
    const f = await sim.open('f', { create: true });
    await f.append(bytesOf('durable'));
    await f.fsync();
    await f.append(bytesOf(' lost'));
    const after = sim.crash();
    await expect(f.read(0, 1)).rejects.toSatisfy((e) => isStorageError(e, 'crashed'));
    const g = await after.open('f');
    expect(new TextDecoder().decode(await g.read(0, 100))).toBe('durable');
  });

  it('a non-durable create or remove can be lost in a crash, until a durable namespace change in the same folder (the directory sync)', async () => {
    const sim = new SimDisk({ random: seededRandom(13), unsyncedOnCrash: 'drop' });
    const keep = await sim.open('d/keep', { create: true });
    await keep.append(bytesOf('kept'));
    await keep.fsync();
    const f = await sim.open('d/new', { create: true, durable: false });
    await f.append(bytesOf('synced data, unsynced name'));
    await f.fsync();
    await sim.remove('d/keep', { durable: false });
    const other = await sim.open('e/other', { create: true });
    await other.close();
    expect(sim.pendingNameChanges()).toBe(2);
    // A durable change in another folder does not help: both changes are lost.
    const lost = sim.crash();
    expect(await lost.list('d')).toEqual(['keep']);
    expect(new TextDecoder().decode(await (await lost.open('d/keep')).read(0, 10))).toBe('kept');

    const sim2 = new SimDisk({ random: seededRandom(14), unsyncedOnCrash: 'drop' });
    const g = await sim2.open('d/new', { create: true, durable: false });
    await g.append(bytesOf('data'));
    await g.fsync();
    await writeFileAtomically(sim2, 'd/meta', bytesOf('m'));
    expect(sim2.pendingNameChanges()).toBe(0);
    const kept = sim2.crash();
    expect(await kept.list('d')).toEqual(['meta', 'new']);
    expect(new TextDecoder().decode(await (await kept.open('d/new')).read(0, 10))).toBe('data');
  });

  it('a crash keeps a prefix of the non-durable namespace changes of a folder', async () => {
    const outcomes = new Set<string>();
    for (let seed = 0; seed < 30; seed++) {
      const sim = new SimDisk({ random: seededRandom(seed) });
      for (const name of ['a', 'b', 'c']) await (await sim.open(`p/${name}`, { create: true, durable: false })).close();
      const names = (await sim.crash().list('p')).join('');
      expect(['', 'a', 'ab', 'abc'], `seed ${seed}`).toContain(names);
      outcomes.add(names);
    }
    expect(outcomes.size).toBeGreaterThan(2);
  });

  it('a crash keeps the synced data plus a prefix of the unsynced writes, the last possibly torn at a sector', async () => {
    for (let seed = 0; seed < 40; seed++) {
      const sim = new SimDisk({ random: seededRandom(seed) });
      const f = await sim.open('f', { create: true });
      const synced = new Uint8Array(1000).fill(1);
      await f.append(synced);
      await f.fsync();
      const w1 = new Uint8Array(2048).fill(2);
      const w2 = new Uint8Array(2048).fill(3);
      await f.append(w1);
      await f.append(w2);
      const after = sim.crash();
      const g = await after.open('f');
      const data = await g.read(0, 10_000);
      expect(data.length, `seed ${seed}`).toBeGreaterThanOrEqual(1000);
      expect(data.subarray(0, 1000).every((b) => b === 1), `seed ${seed}: synced bytes intact`).toBe(true);
      // Whatever follows is a prefix of w1 ++ w2, where a torn write reads as zeros past its last sector.
      const expected = [...w1, ...w2];
      const bad = data.findIndex((b, i) => i >= 1000 && b !== expected[i - 1000] && b !== 0);
      expect(bad, `seed ${seed}: first byte not from the unsynced writes`).toBe(-1);
    }
  });

  it('ENOSPC is a clear no_space error and leaves earlier data intact (issue 4 item 6)', async () => {
    const sim = new SimDisk({ random: seededRandom(12), capacityBytes: 100 });
    const f = await sim.open('f', { create: true });
    await f.append(new Uint8Array(80).fill(7));
    const err = await f.append(new Uint8Array(30)).catch((e: unknown) => e);
    expect(isStorageError(err, 'no_space')).toBe(true);
    expect(String((err as Error).message)).toMatch(/no space left/);
    expect((await f.read(0, 200)).length).toBe(80);
    expect(await sim.freeSpaceBytes()).toBe(20);
  });

  it('injected EIO, bit flips and misdirected writes come from the seed and replay identically', async () => {
    const run = async (seed: number): Promise<string> => {
      const sim = new SimDisk({ random: seededRandom(seed), faults: { ioErrorProbability: 0.1, bitFlipOnWriteProbability: 0.2, misdirectedWriteProbability: 0.1 } });
      const f = await sim.open('f', { create: true });
      const outcomes: string[] = [];
      for (let i = 0; i < 50; i++) {
        try {
          await f.write(i * 512, new Uint8Array(512).fill(i));
          outcomes.push('ok');
        } catch (e) {
          outcomes.push(isStorageError(e, 'io_error') ? 'eio' : 'other');
        }
      }
      return JSON.stringify({ outcomes, faults: sim.faultLog });
    };
    const a = await run(99);
    expect(a).toBe(await run(99));
    expect(a).toMatch(/eio/);
    expect(a).toMatch(/bit_flip/);
    expect(a).toMatch(/misdirected_write/);
  });

  it('failNext makes one chosen operation fail', async () => {
    const sim = new SimDisk({ random: seededRandom(13) });
    const f = await sim.open('f', { create: true });
    sim.failNext('fsync', 'io_error', 'f');
    await f.append(bytesOf('x'));
    await expect(f.fsync()).rejects.toSatisfy((e) => isStorageError(e, 'io_error'));
    await f.fsync();
  });
});
