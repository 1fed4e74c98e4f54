import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchSuite, DerivedBaseline } from '../harness.js';
import { realClock } from '../../runtime/node/env.js';
import { JobPool, jobRef } from '../../runtime/node/job-pool.js';
import { seededRandom } from '../../runtime/random.js';
import { verifyBlocksJob } from '../../storage/block-verify.js';
import type { BlockVerifyJob } from '../../storage/block-verify.js';
import { ChunkStore } from '../../storage/chunk-store.js';
import { chunkStoreConfigDefault } from '../../storage/config.js';
import { crc32c } from '../../storage/crc32c.js';
import type { DiskFile } from '../../storage/disk.js';
import { NodeDisk } from '../../storage/node/node-disk.js';
import { ObjectStore } from '../../storage/object-store.js';
import { OpLog } from '../../storage/op-log.js';

/**
 * Storage bench suite (issue 4 item 7). Every disk case runs on real files in a fresh temporary
 * folder; each verified/checked case has a raw baseline measured in the same run.
 *
 * - `crc32c` / `crc32c:memcpy`: CRC32C of 64 KiB blocks (the chunk store's block size, the blocks
 *   a verified read checks) vs copying them (bytes/s).
 * - `chunk-read-verified` / `chunk-read-unverified`: 8 MiB reads rotating through a 64 MiB chunk
 *   (page-cached) through the chunk store, with and without block verification. The target is a
 *   physical bound from the same run: reading and then checksumming the bytes on one thread takes
 *   1/unverified + 1/crc32c seconds per byte, so verified reads must reach 0.9x of
 *   1 / (1/unverified + 1/crc32c) (issue 13 item 6); overlapping the two can beat the bound.
 * - `chunk-read-verified-overlap`: the same 8 MiB reads from the chunk's data file into shared
 *   memory, 1 MiB segments in flight as the store issues them, each segment's 16 blocks verified on
 *   a job-pool worker (block-verify.ts) while later segments are read. Reported beside the verified
 *   read and the bound; see src/storage/README.md for why the store does not do this.
 * - `chunk-append` / `chunk-append:raw-write`: filling a 64 MiB chunk by 1 MiB appends and one sync,
 *   vs the same sequential writes and fsync on a plain file.
 * - `oplog-commit` / `oplog-commit:raw-fsync`: 100 concurrent appenders of 128-byte records with
 *   group commit vs one write + fsync per record (records/s).
 */
const MiB = 1024 * 1024;
const chunkBytes = 64 * MiB;
const appendBytes = MiB;
const recordBytes = 128;
const appenders = 100;
const recordsPerAppender = 20;
const rawFsyncRecords = 200;
/**
 * Reads take 8 MiB at a time, rotating through the 64 MiB chunk: more samples per case on this noisy
 * machine. (1 MiB and 4 MiB reads, measured side by side, give no better ratio: the checksum work per
 * byte is the same, see src/storage/README.md.)
 */
const readBytes = 8 * MiB;
const { readSegmentBytes, readAheadSegments, blockSizeBytes } = chunkStoreConfigDefault;
const readShape =
  `${readBytes / MiB} MiB block-aligned reads (${readBytes / blockSizeBytes} CRC32C blocks of ${blockSizeBytes / 1024} KiB) rotating through one page-cached ${chunkBytes / MiB} MiB chunk on real files; ` +
  `same store, file and path for both cases (read vs readUnverified): ${readSegmentBytes / MiB} MiB segment reads, up to ${readAheadSegments + 1} in flight, into one fresh buffer per read`;
const appendShape = `${chunkBytes / MiB} MiB chunk as ${chunkBytes / appendBytes} sequential ${appendBytes / MiB} MiB appends, one sync, then delete; raw: the same writes via Disk.append on a plain file, one fsync, close, remove`;
let readRound = 0;
const nextReadOffset = (): number => ((readRound++ * readBytes) % chunkBytes);

const root = mkdtempSync(join(tmpdir(), 'troupe-bench-storage-'));
const disk = new NodeDisk(root);
const random = seededRandom(20261121);
/** The bytes of one verified read: the checksum rate the bound uses is measured on the same amount. */
const crcInput = random.bytes(readBytes);
const copyTarget = new Uint8Array(readBytes);
const chunkData = random.bytes(chunkBytes);
const record = random.bytes(recordBytes);

let readStore: ChunkStore | undefined;
let verifyPool: JobPool | undefined;
let overlapFile: DiskFile | undefined;
/** The chunk's block checksums, computed from the data written (what the store holds). */
let chunkCrcs: Uint32Array | undefined;
const verifyJob = jobRef<BlockVerifyJob, number>(new URL('../../storage/block-verify.js', import.meta.url).href, verifyBlocksJob.name);
/** One worker verifies while the main thread only issues reads: on 2 cores a second worker measured slower (it competes with the reads). */
const verifyThreads = Math.max(1, availableParallelism() - 1);

/**
 * One verified read with verification on the pool: segments are read into one SharedArrayBuffer,
 * up to readAheadSegments + 1 in flight (as ChunkStore.readRange), and each segment's blocks go to a
 * worker as soon as it has arrived. Throws if any block fails; returns the bytes otherwise.
 */
async function readVerifiedOverlapped(file: DiskFile, offset: number, length: number): Promise<Uint8Array> {
  const buf = new Uint8Array(new SharedArrayBuffer(length));
  const reads: Array<Promise<number>> = [];
  const checks: Array<Promise<number>> = [];
  let issuedTo = 0;
  const issue = (): void => {
    if (issuedTo >= length) return;
    const at = issuedTo;
    issuedTo = Math.min(length, at + readSegmentBytes);
    reads.push(file.readInto(offset + at, buf.subarray(at, issuedTo)));
  };
  for (let i = 0; i <= readAheadSegments; i++) issue();
  for (let at = 0; at < length; at += readSegmentBytes) {
    const end = Math.min(length, at + readSegmentBytes);
    const got = await reads.shift()!;
    issue();
    if (got !== end - at) throw new Error(`short read at ${offset + at}`);
    const first = (offset + at) / blockSizeBytes;
    checks.push(verifyPool!.run(verifyJob, { data: buf.subarray(at, end), blockSizeBytes, expected: chunkCrcs!.subarray(first, first + Math.ceil((end - at) / blockSizeBytes)) }));
  }
  const bad = await Promise.all(checks);
  const i = bad.findIndex((b) => b >= 0);
  if (i >= 0) throw new Error(`block ${(offset + i * readSegmentBytes) / blockSizeBytes + bad[i]!} fails its CRC32C`);
  return buf;
}
let appendStore: ChunkStore | undefined;
let appendRound = 0;
let rawRound = 0;
let log: OpLog | undefined;
let rawFile: DiskFile | undefined;
let objectStore: ObjectStore | undefined;
let objectRound = 0;
const objectWriteBytes = 4 * MiB;
const objectWrites = 16;
const objectData = new Uint8Array(objectWriteBytes).fill(0x5a);
const objectShape = `one ${(objectWrites * objectWriteBytes) / MiB} MiB object as ${objectWrites} writes of ${objectWriteBytes / MiB} MiB, all in flight, each awaited to its commit, then removed (ObjectStore, default config: 64 KiB pages, a checkpoint per 64 MiB of log); raw: the same ${objectWriteBytes / MiB} MiB writes appended to a plain file, an fdatasync after each, then removed`;

async function fillChunk(store: ChunkStore, handle: string): Promise<void> {
  await store.create(handle, 1);
  for (let at = 0; at < chunkBytes; at += appendBytes) await store.append(handle, chunkData.subarray(at, at + appendBytes));
  await store.sync(handle);
}

/**
 * The rate of doing the unverified read and then the checksum one after the other on one thread:
 * 1 / (1/unverified + 1/crc32c), from the same run's figures (per interleaved round).
 */
const serialBound: DerivedBaseline = {
  cases: ['chunk-read-unverified', 'crc32c'],
  combine: (rates) => 1 / rates.reduce((sum, r) => sum + 1 / r, 0),
};

const suite: BenchSuite = {
  name: 'storage',
  timeMs: 2000,
  iterations: 8,
  cases: [
    {
      name: 'crc32c',
      unit: 'bytes',
      perIteration: crcInput.length,
      run: () => {
        let x = 0;
        for (let at = 0; at < crcInput.length; at += blockSizeBytes) x ^= crc32c(crcInput.subarray(at, at + blockSizeBytes));
        if (x === 0x12345678) throw new Error('unlikely');
      },
    },
    {
      name: 'crc32c:memcpy',
      unit: 'bytes',
      perIteration: crcInput.length,
      run: () => {
        for (let at = 0; at < crcInput.length; at += blockSizeBytes) copyTarget.set(crcInput.subarray(at, at + blockSizeBytes), at);
      },
    },
    {
      name: 'chunk-read-verified',
      unit: 'bytes',
      perIteration: readBytes,
      shape: readShape,
      setup: async () => {
        readStore = await ChunkStore.open(disk, { dir: 'read', clock: realClock });
        await fillChunk(readStore, 'r');
        await readStore.read('r', 0, chunkBytes);
      },
      run: async () => {
        const data = await readStore!.read('r', nextReadOffset(), readBytes);
        if (data.length !== readBytes) throw new Error('short read');
      },
    },
    {
      name: 'chunk-read-verified-overlap',
      unit: 'bytes',
      perIteration: readBytes,
      shape: `${readShape}; here: the data file read directly into a SharedArrayBuffer, each ${readSegmentBytes / MiB} MiB segment's blocks verified on a job pool of ${verifyThreads} worker thread(s) while later segments are read`,
      setup: async () => {
        chunkCrcs = new Uint32Array(chunkBytes / blockSizeBytes);
        for (let b = 0; b < chunkCrcs.length; b++) chunkCrcs[b] = crc32c(chunkData.subarray(b * blockSizeBytes, (b + 1) * blockSizeBytes));
        verifyPool = new JobPool({ threads: verifyThreads });
        overlapFile = await disk.open('read/r.chunk');
        // A wrong checksum must fail the read: the check is real, not a pass-through.
        const wrong = chunkCrcs[3]!;
        chunkCrcs[3] = wrong ^ 1;
        const caught = await readVerifiedOverlapped(overlapFile, 0, readBytes).then(() => undefined, (err: unknown) => err);
        chunkCrcs[3] = wrong;
        if (!(caught instanceof Error) || !caught.message.includes('block 3 ')) throw new Error('overlapped verification did not catch a corrupt block');
      },
      run: async () => {
        const data = await readVerifiedOverlapped(overlapFile!, nextReadOffset(), readBytes);
        if (data.length !== readBytes) throw new Error('short read');
      },
      teardown: async () => {
        await overlapFile?.close();
        await verifyPool?.close();
      },
    },
    {
      name: 'chunk-read-unverified',
      unit: 'bytes',
      perIteration: readBytes,
      shape: readShape,
      run: async () => {
        const data = await readStore!.readUnverified('r', nextReadOffset(), readBytes);
        if (data.length !== readBytes) throw new Error('short read');
      },
      teardown: async () => {
        await readStore!.close();
      },
    },
    {
      name: 'chunk-append',
      unit: 'bytes',
      perIteration: chunkBytes,
      shape: appendShape,
      setup: async () => {
        appendStore = await ChunkStore.open(disk, { dir: 'append', clock: realClock });
      },
      run: async () => {
        const handle = `a${appendRound++}`;
        await fillChunk(appendStore!, handle);
        await appendStore!.delete(handle);
      },
      teardown: async () => {
        await appendStore!.close();
      },
    },
    {
      name: 'chunk-append:raw-write',
      unit: 'bytes',
      perIteration: chunkBytes,
      shape: appendShape,
      run: async () => {
        const path = `raw/w${rawRound++}`;
        const f = await disk.open(path, { create: true });
        for (let at = 0; at < chunkBytes; at += appendBytes) await f.append(chunkData.subarray(at, at + appendBytes));
        await f.fsync();
        await f.close();
        await disk.remove(path);
      },
    },
    {
      name: 'oplog-commit',
      unit: 'ops',
      perIteration: appenders * recordsPerAppender,
      setup: async () => {
        log = await OpLog.open(disk, { dir: 'oplog' });
      },
      run: async () => {
        const l = log!;
        await Promise.all(
          Array.from({ length: appenders }, async () => {
            for (let i = 0; i < recordsPerAppender; i++) await l.append(record);
          }),
        );
      },
      teardown: async () => {
        await log!.close();
      },
    },
    {
      name: 'objstore-write-64m',
      unit: 'bytes',
      perIteration: objectWrites * objectWriteBytes,
      shape: objectShape,
      setup: async () => {
        objectStore = await ObjectStore.open(disk, { dir: 'objstore' });
        await objectStore.submit({ ops: [{ op: 'createCollection', cid: 'c' }] }).committed;
      },
      run: async () => {
        const s = objectStore!;
        const oid = `o${objectRound++}`;
        await Promise.all(Array.from({ length: objectWrites }, (_, i) => s.submit({ ops: [{ op: 'write', cid: 'c', oid, offsetBytes: i * objectWriteBytes, data: objectData }] }).committed));
        await s.submit({ ops: [{ op: 'remove', cid: 'c', oid }] }).committed;
      },
      teardown: async () => {
        await objectStore!.close();
      },
    },
    {
      name: 'objstore-write-64m:raw-write',
      unit: 'bytes',
      perIteration: objectWrites * objectWriteBytes,
      shape: objectShape,
      run: async () => {
        const path = `raw/o${objectRound++}`;
        const f = await disk.open(path, { create: true });
        for (let i = 0; i < objectWrites; i++) {
          await f.append(objectData);
          await f.fsync();
        }
        await f.close();
        await disk.remove(path);
      },
    },
    {
      name: 'oplog-commit:raw-fsync',
      unit: 'ops',
      perIteration: rawFsyncRecords,
      setup: async () => {
        rawFile = await disk.open('rawlog', { create: true });
      },
      run: async () => {
        const f = rawFile!;
        for (let i = 0; i < rawFsyncRecords; i++) {
          await f.append(record);
          await f.fsync();
        }
      },
      teardown: async () => {
        await rawFile!.close();
        rmSync(root, { recursive: true, force: true });
      },
    },
  ],
  targets: [
    { name: 'chunk-read-verified', baseline: 'serial bound', derived: serialBound, atLeast: 0.9 },
    // Reported beside the verified read and its bound (the issue sets no target for it; on two
    // shared cores the worker's checksums compete with the reads).
    { name: 'chunk-read-verified-overlap', baseline: 'serial bound', derived: serialBound, atLeast: 0 },
    { name: 'chunk-read-verified', baseline: 'chunk-read-unverified', atLeast: 0 },
    { name: 'chunk-read-verified-overlap', baseline: 'chunk-read-verified', atLeast: 0 },
    { name: 'chunk-append', baseline: 'chunk-append:raw-write', atLeast: 0.8 },
    { name: 'oplog-commit', baseline: 'oplog-commit:raw-fsync', atLeast: 20 },
    // Reported, no target: what a large object's writes cost through the object store (log record,
    // pages, checkpoints) against writing the same bytes once with a flush per write.
    { name: 'objstore-write-64m', baseline: 'objstore-write-64m:raw-write', atLeast: 0 },
  ],
};

export default suite;
