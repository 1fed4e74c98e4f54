/**
 * The scrubber's schedule (patent ¶128): passes over the idle chunks, each chunk verified once per
 * pass at the bandwidth bound, and a rest between passes — a scan period, not a continuous re-read.
 * Corruption is found by the pass after it happened. (Detection of every flipped bit is in
 * chunk-store.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../src/runtime/random.js';
import { ChunkStore, type ChunkCorruption } from '../../../src/storage/chunk-store.js';
import { Scrubber } from '../../../src/storage/scrubber.js';
import { SimDisk } from '../../../src/storage/sim/sim-disk.js';
import { ManualTime } from './helpers.js';

const B = 256;
const config = { blockSizeBytes: B, chunkSizeBytes: 64 * B, readSegmentBytes: 4 * B };
const CHUNK_BYTES = 8 * B;
const HANDLES = ['a', 'b', 'c'];
/** 4 blocks a second: a slice of 2 blocks, then half a second's pause; a pass over 3 × 8 blocks takes 6 s. */
const BANDWIDTH = 4 * B;
const REST_MS = 10_000;

interface Verify {
  readonly at: number;
  readonly handle: string;
  readonly offset: number;
}

async function setup(): Promise<{ disk: SimDisk; time: ManualTime; store: ChunkStore; scrubber: Scrubber; verifies: Verify[]; events: ChunkCorruption[] }> {
  const disk = new SimDisk({ random: seededRandom(3) });
  const time = new ManualTime();
  const events: ChunkCorruption[] = [];
  const store = await ChunkStore.open(disk, { dir: 'chunks', clock: time, config, onCorruption: (c) => events.push(c) });
  for (const h of HANDLES) {
    await store.create(h, 1);
    await store.append(h, seededRandom(h.charCodeAt(0)).bytes(CHUNK_BYTES));
    await store.sync(h);
  }
  const verifies: Verify[] = [];
  const verify = store.verify.bind(store);
  store.verify = (handle, offset, length) => {
    verifies.push({ at: time.now(), handle, offset });
    return verify(handle, offset, length);
  };
  const scrubber = new Scrubber(store, time, time, { scrubBandwidthBytesPerSec: BANDWIDTH, sliceBytes: 2 * B, idleAfterMs: 1_000, restMs: REST_MS });
  // Started once the chunks are idle: the first pass begins at once (t = 1 s).
  await time.advance(1_000);
  return { disk, time, store, scrubber, verifies, events };
}

/** The verify calls split into passes: a new pass starts when the scrubber comes back to the first chunk's start. */
function passes(verifies: readonly Verify[]): Verify[][] {
  const out: Verify[][] = [];
  for (const v of verifies) {
    if (v.handle === HANDLES[0] && v.offset === 0) out.push([]);
    out[out.length - 1]?.push(v);
  }
  return out;
}

describe('scrubber schedule (patent ¶128)', () => {
  it('verifies every idle chunk once per pass, then rests before the next pass instead of reading continuously', async () => {
    const { time, scrubber, verifies } = await setup();
    scrubber.start();
    await time.advance(60_000, { awaitReschedule: true });
    scrubber.stop();
    const ps = passes(verifies);
    expect(ps.length).toBeGreaterThanOrEqual(3);
    const slices = HANDLES.flatMap((handle) => [0, 2, 4, 6].map((k) => `${handle}@${k * B}`));
    for (const p of ps.slice(0, -1)) expect(p.map((v) => `${v.handle}@${v.offset}`)).toEqual(slices);
    for (let i = 1; i < ps.length; i++) {
      const gap = ps[i]![0]!.at - ps[i - 1]!.at(-1)!.at;
      expect(gap).toBeGreaterThanOrEqual(REST_MS);
    }
    // Within the bandwidth bound while a pass runs: 2 blocks per half second.
    for (const p of ps) for (let i = 1; i < p.length; i++) expect(p[i]!.at - p[i - 1]!.at).toBeGreaterThanOrEqual((2 * B * 1000) / BANDWIDTH);
    expect(scrubber.passesCompleted).toBeGreaterThanOrEqual(ps.length - 1);
    // Far less than reading at the bound all the time.
    expect(scrubber.bytesVerified).toBeLessThanOrEqual(ps.length * HANDLES.length * CHUNK_BYTES);
  });

  it('corruption that appears after a chunk was verified is found by the next pass, within a rest and a pass', async () => {
    const { disk, time, scrubber, verifies, events } = await setup();
    scrubber.start();
    await time.advance(8_000, { awaitReschedule: true });
    const first = passes(verifies)[0]!;
    expect(first).toHaveLength(12);
    expect(events).toEqual([]);
    const flippedAt = time.now();
    disk.flipBit('chunks/b.chunk', (5 * B + 7) * 8);
    const passMs = (HANDLES.length * CHUNK_BYTES * 1000) / BANDWIDTH;
    await time.advance(REST_MS + passMs, { awaitReschedule: true });
    scrubber.stop();
    expect(events).toEqual([{ handle: 'b', version: 1, kind: 'block', blockIndex: 5, detectedBy: 'scrub' }]);
    const found = verifies.find((v) => v.at > flippedAt && v.handle === 'b' && v.offset === 4 * B);
    expect(found).toBeDefined();
    expect(found!.at - flippedAt).toBeLessThanOrEqual(REST_MS + passMs);
  });

  it('a chunk written since its pass started is skipped (its writers verify it), and a pass ends with nothing left to read', async () => {
    const { time, store, scrubber, verifies } = await setup();
    scrubber.start();
    // The first pass reads a at 1–2.5 s and b at 3–4.5 s, and reaches c at 5 s: c is written just before.
    await time.advance(3_600, { awaitReschedule: true });
    await store.append('c', new Uint8Array(B));
    await time.advance(6_000, { awaitReschedule: true });
    const first = passes(verifies)[0]!;
    expect(first.map((v) => v.handle)).toEqual(['a', 'a', 'a', 'a', 'b', 'b', 'b', 'b']);
    expect(scrubber.passesCompleted).toBe(1);
    scrubber.stop();
  });
});
