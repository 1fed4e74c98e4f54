/**
 * Block verification as a job (DESIGN.md §3: bulk checksum verification runs on the CPU pool).
 * Pure: CRC32C of each block of `data` against the expected checksums. The data is normally a view
 * of a SharedArrayBuffer that a read fills while earlier blocks are checked on a worker, so no byte
 * is copied between threads (bench storage, `chunk-read-verified-overlap`).
 */
import { crc32c } from './crc32c.js';

export interface BlockVerifyJob {
  /** Block-aligned bytes: block i is data[i·B, min((i+1)·B, length)). */
  readonly data: Uint8Array;
  readonly blockSizeBytes: number;
  /** Expected CRC32C of each block of `data`, in order. */
  readonly expected: Uint32Array;
}

/** The index (within `data`) of the first block whose CRC32C differs from `expected`, or -1 when all match. */
export function verifyBlocksJob(job: BlockVerifyJob): number {
  const B = job.blockSizeBytes;
  const blocks = Math.ceil(job.data.length / B);
  if (!(Number.isInteger(B) && B > 0) || job.expected.length < blocks) throw new RangeError(`verify: ${blocks} blocks of ${B} bytes but ${job.expected.length} checksums`);
  for (let i = 0; i < blocks; i++) {
    if (crc32c(job.data.subarray(i * B, Math.min(job.data.length, (i + 1) * B))) !== job.expected[i]) return i;
  }
  return -1;
}
