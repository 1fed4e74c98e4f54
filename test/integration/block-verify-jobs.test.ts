/**
 * Block verification as a job on the pool (DESIGN.md §3: bulk checksum verification). The data
 * travels as a view of a SharedArrayBuffer, so the worker checks the very bytes the reader filled;
 * a flipped byte in any block must be reported with that block's index (patent ¶124: corrupt data
 * is never returned as good).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobPool, jobRef } from '../../src/runtime/node/job-pool.js';
import { seededRandom } from '../../src/runtime/random.js';
import type { BlockVerifyJob } from '../../src/storage/block-verify.js';
import { verifyBlocksJob } from '../../src/storage/block-verify.js';
import { crc32c } from '../../src/storage/crc32c.js';

const B = 64 * 1024;
const verify = jobRef<BlockVerifyJob, number>(new URL('../../src/storage/block-verify.ts', import.meta.url).href, 'verifyBlocksJob');

let pool: JobPool;
beforeAll(() => {
  pool = new JobPool({ threads: 1 });
});
afterAll(async () => {
  await pool.close();
});

function blocks(length: number): { data: Uint8Array; expected: Uint32Array } {
  const data = new Uint8Array(new SharedArrayBuffer(length));
  data.set(seededRandom(length).bytes(length));
  const expected = new Uint32Array(Math.ceil(length / B));
  for (let i = 0; i < expected.length; i++) expected[i] = crc32c(data.subarray(i * B, Math.min(length, (i + 1) * B)));
  return { data, expected };
}

describe('block verification jobs', () => {
  it('intact blocks, including a short last block, verify on a worker and on this thread', async () => {
    const { data, expected } = blocks(5 * B + 1000);
    expect(verifyBlocksJob({ data, blockSizeBytes: B, expected })).toBe(-1);
    expect(await pool.run(verify, { data, blockSizeBytes: B, expected })).toBe(-1);
  });

  it.each([0, 2, 5])('a flipped byte in block %i is reported with its index by the worker reading shared memory', async (bad) => {
    const { data, expected } = blocks(5 * B + 1000);
    data[bad * B + 17]! ^= 0x40;
    expect(await pool.run(verify, { data, blockSizeBytes: B, expected })).toBe(bad);
  });

  it('fewer checksums than blocks is a broken call, reported as a JobError', async () => {
    const { data, expected } = blocks(3 * B);
    await expect(pool.run(verify, { data, blockSizeBytes: B, expected: expected.subarray(0, 2) })).rejects.toThrow(/verifyBlocksJob .*failed: verify: 3 blocks of 65536 bytes but 2 checksums/);
  });
});
