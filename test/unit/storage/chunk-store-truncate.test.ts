/**
 * `ChunkStore.truncate`: how a sealed GFS chunk is cut to its agreed length (GFS README S2). The cut
 * is durable, the kept bytes still verify, and nothing past the cut is ever read again.
 */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../src/runtime/random.js';
import { ChunkStore } from '../../../src/storage/chunk-store.js';
import type { Disk } from '../../../src/storage/disk.js';
import { SimDisk } from '../../../src/storage/sim/sim-disk.js';
import { ManualTime } from './helpers.js';

const B = 256;
const config = { blockSizeBytes: B, chunkSizeBytes: 64 * B, readSegmentBytes: 4 * B };

function open(disk: Disk): Promise<ChunkStore> {
  return ChunkStore.open(disk, { dir: 'chunks', clock: new ManualTime(), config });
}

describe('chunk store: truncate (a sealed chunk cut to its agreed length, GFS README S2)', () => {
  it('cuts inside a block: the kept bytes verify, nothing past the cut is read, and a power cut keeps the cut', async () => {
    const disk = new SimDisk({ random: seededRandom(5) });
    const store = await open(disk);
    const data = seededRandom(6).bytes(5 * B + 100);
    await store.create('c', 3);
    await store.write('c', 0, data);
    await store.sync('c');
    const cut = 2 * B + 37; // inside block 2: its checksum must be recomputed over the kept part
    await store.truncate('c', cut);
    expect(store.info('c').sizeBytes).toBe(cut);
    expect(store.info('c').version).toBe(3);
    expect(await store.read('c', 0, 10 * B)).toEqual(data.subarray(0, cut));
    expect(await store.read('c', cut, B)).toEqual(new Uint8Array(0));
    // No sync after the truncate: it is durable by itself.
    const after = await open(disk.crash());
    expect(after.info('c').sizeBytes).toBe(cut);
    expect(after.info('c').corrupt).toBe(false);
    expect(await after.read('c', 0, 10 * B)).toEqual(data.subarray(0, cut));
  });

  it('cuts at a block boundary and to the same length; refuses to grow a chunk', async () => {
    const disk = new SimDisk({ random: seededRandom(7) });
    const store = await open(disk);
    const data = seededRandom(8).bytes(3 * B + 5);
    await store.create('c', 1);
    await store.write('c', 0, data);
    await store.truncate('c', 2 * B);
    await store.truncate('c', 2 * B);
    expect(await store.read('c', 0, 4 * B)).toEqual(data.subarray(0, 2 * B));
    await expect(store.truncate('c', 2 * B + 1)).rejects.toThrow(/would grow it/);
    const after = await open(disk.crash());
    expect(await after.read('c', 0, 4 * B)).toEqual(data.subarray(0, 2 * B));
  });
});
