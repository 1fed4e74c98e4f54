import type { Clock } from '../runtime/env.js';
import type { Disk, DiskFile } from './disk.js';
import { joinPath, readWholeFile, writeFileAtomically } from './disk.js';
import { crc32c } from './crc32c.js';
import { chunkStoreConfigDefault, withDefaults, type ChunkStoreConfig } from './config.js';
import { StorageError, assert, isStorageError } from './errors.js';
import { ChunkJournal, journalFrameHeaderBytes, type JournalRecord } from './chunk-journal.js';

/**
 * The chunkserver's chunk store (patent ¶122–128).
 *
 * A chunk is a data file `<dir>/<handle>.chunk` that grows lazily with its written extent, plus a
 * checksum file `<dir>/<handle>.crc` holding the chunk's version, its size and one CRC32C per
 * 64 KiB block (¶123). The checksums live in memory; `sync` persists data and checksums.
 *
 * - Every block overlapping a read is verified before any data is returned (¶124); a mismatch throws
 *   `corrupt_block` and emits a corruption event, which the chunkserver forwards to the master so it
 *   re-clones the replica. Corrupt data is never returned.
 * - An append extends the last partial block's checksum incrementally, without reading it (¶126);
 *   if that block was already corrupt, the new checksum still disagrees with the data and the next
 *   read catches it.
 * - An overwrite first reads and verifies the first and last blocks it covers only partly (¶127), so
 *   new checksums cannot hide corruption in the bytes they keep.
 * - `verify` checks a range without returning it; the scrubber uses it on idle chunks (¶128).
 *
 * Durability: changes are visible at once and durable after `sync`, which fsyncs the data file and
 * then records the checksums in the checksum file. That file holds two slots, each a whole copy of
 * the chunk's version, size and checksums with a sequence number and its own CRC; a sync overwrites
 * the older slot in place and fdatasyncs it (no new file, rename or directory sync), so the other
 * slot always holds the last durable state and a torn slot write loses nothing synced. The first
 * sync of a chunk (or of one whose file is in the older one-copy format) writes the whole two-slot
 * file to a temp name and renames it into place once the data fsync returned; that rename makes the
 * data file's name durable too. After a crash a chunk comes back at its last synced
 * size (a longer data file is cut back); an overwrite that was not synced may leave blocks that no
 * longer match their checksums, which reads and the scrubber report as corruption: the replica is
 * then re-cloned, as for any other damage. A new chunk exists on disk from its first `sync`.
 *
 * Operations on one chunk run one at a time, in call order; different chunks proceed in parallel.
 */

export type ChunkHandle = string;

export interface ChunkCorruption {
  readonly handle: ChunkHandle;
  readonly version: number;
  /** `block`: a block failed its CRC; `missing_data`: the data file is shorter than the checksums say; `checksum_file`: the checksum file is damaged. */
  readonly kind: 'block' | 'missing_data' | 'checksum_file';
  readonly blockIndex?: number;
  readonly detectedBy: 'read' | 'write' | 'scrub' | 'open';
}

export interface ChunkInfo {
  readonly handle: ChunkHandle;
  readonly version: number;
  readonly sizeBytes: number;
  readonly lastAccessMs: number;
  readonly corrupt: boolean;
}

export interface ChunkStoreOptions {
  /** Folder of the chunk and checksum files. */
  readonly dir: string;
  readonly clock: Clock;
  readonly config?: Partial<ChunkStoreConfig>;
  /** Receives corruption found while opening, and later (same as `onCorruption`). */
  readonly onCorruption?: (c: ChunkCorruption) => void;
}

const dataSuffix = '.chunk';
const crcSuffix = '.crc';
const crcMagic = 0x53435254; // "TRCS"
const crcFormat = 1;
/** The two-slot format before the journal: each slot is a format-1 copy plus a sequence number (still read). */
const crcSlotFormatV2 = 2;
/** The two-slot format with the journal: format 2 plus the JSN of the last journal record the slot reflects. */
const crcSlotFormat = 3;
/** magic, format, version hi/lo, size hi/lo, block size, block count: 8 × u32. */
const crcHeaderBytes = 32;
/** A format-2 slot's header: the format-1 header and a sequence number hi/lo. */
const crcSlotHeaderBytesV2 = 40;
/** A format-3 slot's header: the format-2 header and the applied JSN hi/lo. */
const crcSlotHeaderBytes = 48;
const handlePattern = /^[A-Za-z0-9_-]{1,64}$/;

interface ChunkState {
  readonly handle: ChunkHandle;
  version: number;
  sizeBytes: number;
  /** CRC32C per block; entries past the last block are unused. */
  crcs: Uint32Array;
  file: DiskFile | undefined;
  lastAccessMs: number;
  /** Checksums or version changed since the checksum file was last written. */
  dirty: boolean;
  /** The data file was written since the last fsync. */
  unsynced: boolean;
  /** The checksum file was unreadable: no block can be trusted. */
  checksumFileCorrupt: boolean;
  /**
   * The two-slot checksum file on disk: the slot the next sync overwrites and the sequence number
   * of the last one written; its handle stays open. Undefined until the file exists in that format
   * (the next sync then writes it whole, atomically).
   */
  slots: { next: 0 | 1; seq: number; file: DiskFile | undefined } | undefined;
  readonly reportedBlocks: Set<number>;
  tail: Promise<void>;
  deleted: boolean;
  /** JSN of the last journal record about this chunk (0: none). */
  lastJsn: number;
  /** JSN the checksum file on disk reflects: journal records up to it are in the chunk's files. */
  checkpointJsn: number;
  /**
   * A journal record of this chunk was refused (a full disk): its state is not all in the journal,
   * so the next sync makes it durable in the chunk's own files instead.
   */
  journalGap: boolean;
}

/** Journal room reserved by `admit` for one operation; a record uses it, the rest is given back. */
interface Admission {
  bytes: number;
}

/**
 * The checksum record both formats share: magic, format, version, size, block size, block count,
 * a sequence number in the two-slot format only, one CRC per block, and a CRC over all of it.
 */
function encodeChecksumRecord(seq: number | undefined, version: number, sizeBytes: number, blockSizeBytes: number, crcs: Uint32Array, appliedJsn = 0): Uint8Array {
  const header = seq === undefined ? crcHeaderBytes : crcSlotHeaderBytes;
  const blocks = Math.ceil(sizeBytes / blockSizeBytes);
  const out = new Uint8Array(header + blocks * 4 + 4);
  const v = new DataView(out.buffer);
  v.setUint32(0, crcMagic, true);
  v.setUint32(4, seq === undefined ? crcFormat : crcSlotFormat, true);
  v.setUint32(8, Math.floor(version / 0x1_0000_0000), true);
  v.setUint32(12, version >>> 0, true);
  v.setUint32(16, Math.floor(sizeBytes / 0x1_0000_0000), true);
  v.setUint32(20, sizeBytes >>> 0, true);
  v.setUint32(24, blockSizeBytes, true);
  v.setUint32(28, blocks, true);
  if (seq !== undefined) {
    v.setUint32(32, Math.floor(seq / 0x1_0000_0000), true);
    v.setUint32(36, seq >>> 0, true);
    v.setUint32(40, Math.floor(appliedJsn / 0x1_0000_0000), true);
    v.setUint32(44, appliedJsn >>> 0, true);
  }
  for (let i = 0; i < blocks; i++) v.setUint32(header + i * 4, crcs[i]!, true);
  v.setUint32(out.length - 4, crc32c(out.subarray(0, out.length - 4)), true);
  return out;
}

/**
 * Decodes one record (see `encodeChecksumRecord`). `slot`: the two-slot format, whose record may
 * be followed by unused bytes of its slot; the one-copy format fills its file exactly.
 */
function decodeChecksumRecord(bytes: Uint8Array, blockSizeBytes: number, slot: boolean): { seq: number; appliedJsn: number; version: number; sizeBytes: number; crcs: Uint32Array } | { problem: string } {
  if (bytes.length < crcHeaderBytes + 4) return { problem: `only ${bytes.length} bytes` };
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (v.getUint32(0, true) !== crcMagic) return { problem: 'bad magic' };
  const format = v.getUint32(4, true);
  if (slot ? format !== crcSlotFormat && format !== crcSlotFormatV2 : format !== crcFormat) return { problem: `unknown format ${format}` };
  const header = !slot ? crcHeaderBytes : format === crcSlotFormat ? crcSlotHeaderBytes : crcSlotHeaderBytesV2;
  if (bytes.length < header + 4) return { problem: `only ${bytes.length} bytes` };
  const blocks = v.getUint32(28, true);
  const end = header + blocks * 4;
  if (slot ? end + 4 > bytes.length : end + 4 !== bytes.length) return { problem: 'block count does not match the length' };
  if (crc32c(bytes.subarray(0, end)) !== v.getUint32(end, true)) return { problem: 'its own CRC does not match' };
  if (v.getUint32(24, true) !== blockSizeBytes) return { problem: `block size ${v.getUint32(24, true)}, expected ${blockSizeBytes}` };
  const version = v.getUint32(8, true) * 0x1_0000_0000 + v.getUint32(12, true);
  const sizeBytes = v.getUint32(16, true) * 0x1_0000_0000 + v.getUint32(20, true);
  if (blocks !== Math.ceil(sizeBytes / blockSizeBytes)) return { problem: 'block count does not match size' };
  const seq = slot ? v.getUint32(32, true) * 0x1_0000_0000 + v.getUint32(36, true) : 0;
  const appliedJsn = slot && format === crcSlotFormat ? v.getUint32(40, true) * 0x1_0000_0000 + v.getUint32(44, true) : 0;
  const crcs = new Uint32Array(Math.max(16, blocks));
  for (let i = 0; i < blocks; i++) crcs[i] = v.getUint32(header + i * 4, true);
  return { seq, appliedJsn, version, sizeBytes, crcs };
}

/** A checksum file in the older one-copy format (still read by `open`; syncs write two slots). */
export function encodeChecksumFile(version: number, sizeBytes: number, blockSizeBytes: number, crcs: Uint32Array): Uint8Array {
  return encodeChecksumRecord(undefined, version, sizeBytes, blockSizeBytes, crcs);
}

/** Bytes of one slot of a two-slot checksum file for chunks of `chunkSizeBytes`. */
export function checksumSlotBytes(chunkSizeBytes: number, blockSizeBytes: number): number {
  return crcSlotHeaderBytes + 4 * Math.ceil(chunkSizeBytes / blockSizeBytes) + 4;
}

/** One slot: the chunk's version, size and checksums, a sequence number, and a CRC over all of it. Its length depends on the size; the slot in the file is `checksumSlotBytes` long. */
export function encodeChecksumSlot(seq: number, version: number, sizeBytes: number, blockSizeBytes: number, crcs: Uint32Array, appliedJsn = 0): Uint8Array {
  return encodeChecksumRecord(seq, version, sizeBytes, blockSizeBytes, crcs, appliedJsn);
}

/**
 * Decodes a checksum file: the two-slot format (the valid slot with the higher sequence number; a
 * torn or damaged slot is ignored while the other is valid), or the older one-copy format.
 */
export function decodeChecksumFileAny(file: Uint8Array, blockSizeBytes: number): { version: number; sizeBytes: number; crcs: Uint32Array; appliedJsn: number; slots?: { next: 0 | 1; seq: number } } | { problem: string } {
  const one = decodeChecksumFile(file, blockSizeBytes);
  if (!('problem' in one)) return { ...one, appliedJsn: 0 };
  if (file.length === 0 || file.length % 2 !== 0) return one;
  const half = file.length / 2;
  const a = decodeChecksumRecord(file.subarray(0, half), blockSizeBytes, true);
  const b = decodeChecksumRecord(file.subarray(half), blockSizeBytes, true);
  if ('problem' in a && 'problem' in b) return { problem: `neither slot is valid (${a.problem}; ${b.problem})` };
  const newest = 'problem' in a ? 1 : 'problem' in b ? 0 : a.seq >= b.seq ? 0 : 1;
  const got = (newest === 0 ? a : b) as { seq: number; appliedJsn: number; version: number; sizeBytes: number; crcs: Uint32Array };
  // The next sync overwrites the other slot, never the newest valid one.
  return { version: got.version, sizeBytes: got.sizeBytes, crcs: got.crcs, appliedJsn: got.appliedJsn, slots: { next: newest === 0 ? 1 : 0, seq: got.seq } };
}

export function decodeChecksumFile(file: Uint8Array, blockSizeBytes: number): { version: number; sizeBytes: number; crcs: Uint32Array } | { problem: string } {
  const r = decodeChecksumRecord(file, blockSizeBytes, false);
  return 'problem' in r ? r : { version: r.version, sizeBytes: r.sizeBytes, crcs: r.crcs };
}

export class ChunkStore {
  readonly config: ChunkStoreConfig;
  readonly dir: string;
  private readonly chunks = new Map<ChunkHandle, ChunkState>();
  /** A buffer for scrub reads, which are checked and thrown away (`verify`); undefined while in use. */
  private scrubScratch: Uint8Array | undefined;
  private readonly listeners = new Set<(c: ChunkCorruption) => void>();
  private readonly clock: Clock;
  /** The write-ahead journal; undefined when `journalSegmentBytes` is 0. */
  private journal: ChunkJournal | undefined;
  /** Checkpoints run one at a time. */
  private checkpointChain: Promise<void> = Promise.resolve();
  /** Deletions whose record is being made durable before their files go, by the delete record's JSN; a checkpoint waits for those its journal files hold. */
  private readonly deletions = new Map<Promise<void>, number>();

  private constructor(
    private readonly disk: Disk,
    options: ChunkStoreOptions,
  ) {
    this.config = withDefaults(chunkStoreConfigDefault, options.config);
    assert(this.config.readSegmentBytes % this.config.blockSizeBytes === 0, 'readSegmentBytes is a multiple of blockSizeBytes');
    assert(this.config.chunkSizeBytes % this.config.blockSizeBytes === 0, 'chunkSizeBytes is a multiple of blockSizeBytes');
    const j = this.config;
    if (j.journalSegmentBytes > 0 && j.journalBytesMax < j.journalSegmentBytes + 2 * j.journalRoundBytesMax) {
      // A full journal must still hold the open file plus one round's worth in each of two files, or no checkpoint can free room.
      throw new RangeError(
        `chunk journal settings cannot work: journalBytesMax (${j.journalBytesMax}) must be at least journalSegmentBytes (${j.journalSegmentBytes}) + 2 × journalRoundBytesMax (${j.journalRoundBytesMax}) = ${j.journalSegmentBytes + 2 * j.journalRoundBytesMax}; for a GFS chunkserver raise chunkJournalBytesMax or lower chunkJournalSegmentBytes`,
      );
    }
    this.dir = options.dir;
    this.clock = options.clock;
    if (options.onCorruption !== undefined) this.listeners.add(options.onCorruption);
  }

  /** Loads every chunk's checksums from `dir`, cutting data files back to their synced size. */
  static async open(disk: Disk, options: ChunkStoreOptions): Promise<ChunkStore> {
    const store = new ChunkStore(disk, options);
    try {
      await store.load();
    } catch (err) {
      // Release the files opened so far; the caller may retry (a journal replay on a full disk fails with `no_space`).
      await store.close().catch(() => undefined);
      throw err;
    }
    return store;
  }

  /** Subscribes to corruption reports; returns the unsubscribe function. */
  onCorruption(listener: (c: ChunkCorruption) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  has(handle: ChunkHandle): boolean {
    return this.chunks.has(handle);
  }

  info(handle: ChunkHandle): ChunkInfo {
    return this.describe(this.state(handle));
  }

  list(): ChunkInfo[] {
    return [...this.chunks.values()].map((s) => this.describe(s));
  }

  /**
   * Creates an empty chunk with `version`. Nothing reaches the disk yet: the data file appears with
   * the first write, the checksum file with the first `sync`. A chunk never synced does not survive
   * a crash (the master then sees it missing from the chunk report and re-replicates).
   */
  /** A new, empty chunk's state (not yet on disk: dirty until its first sync). */
  private newChunk(handle: ChunkHandle, version: number): ChunkState {
    return {
      handle,
      version,
      sizeBytes: 0,
      crcs: new Uint32Array(16),
      file: undefined,
      lastAccessMs: this.clock.now(),
      dirty: true,
      unsynced: false,
      checksumFileCorrupt: false,
      slots: undefined,
      reportedBlocks: new Set(),
      tail: Promise.resolve(),
      deleted: false,
      lastJsn: 0,
      checkpointJsn: 0,
      journalGap: false,
    };
  }

  async create(handle: ChunkHandle, version: number): Promise<void> {
    if (!handlePattern.test(handle)) throw new Error(`invalid chunk handle "${handle}"`);
    if (this.chunks.has(handle)) throw new StorageError('already_exists', `chunk ${handle} already exists`);
    if (this.chunks.size >= this.config.chunksMax) throw new StorageError('no_space', `this store already holds chunksMax = ${this.config.chunksMax} chunks`);
    const s = this.newChunk(handle, version);
    const journal = this.journal;
    if (journal === undefined) {
      this.chunks.set(handle, s);
      await Promise.resolve();
      return;
    }
    // The chunk's creation is a journal record like any mutation: durable with the next round.
    const admission = { bytes: journalFrameHeaderBytes + 64 };
    await journal.admit(admission.bytes);
    if (this.chunks.has(handle)) {
      journal.release(admission.bytes);
      throw new StorageError('already_exists', `chunk ${handle} already exists`);
    }
    this.chunks.set(handle, s);
    this.journalAdd(s, { kind: 'state', handle, version, sizeBytes: 0, lastBlockCrc: 0 }, admission);
  }

  /**
   * Writes `data` at `offsetBytes` (an overwrite, an append, or past the end: the gap reads as zeros).
   * With `expectVersion`, fails with `stale_version` unless the chunk has that version.
   */
  write(handle: ChunkHandle, offsetBytes: number, data: Uint8Array, options?: { readonly expectVersion?: number }): Promise<void> {
    const s = this.state(handle);
    checkRange(offsetBytes, data.length);
    if (offsetBytes + data.length > this.config.chunkSizeBytes) {
      throw new Error(`write of ${data.length} bytes at ${offsetBytes} runs past the ${this.config.chunkSizeBytes}-byte chunk ${handle}`);
    }
    return this.admitted(s, offsetBytes, data.length, (admission) => this.locked(s, () => this.writeLocked(s, offsetBytes, data, options?.expectVersion, admission)));
  }

  /** Appends `data`; returns the offset it landed at. */
  append(handle: ChunkHandle, data: Uint8Array, options?: { readonly expectVersion?: number }): Promise<number> {
    const s = this.state(handle);
    return this.admitted(s, s.sizeBytes, data.length, (admission) =>
      this.locked(s, async () => {
        const offset = s.sizeBytes;
        if (offset + data.length > this.config.chunkSizeBytes) {
          throw new Error(`append of ${data.length} bytes at ${offset} runs past the ${this.config.chunkSizeBytes}-byte chunk ${handle}`);
        }
        await this.writeLocked(s, offset, data, options?.expectVersion, admission);
        return offset;
      }),
    );
  }

  /**
   * Reads up to `lengthBytes` from `offsetBytes` (shorter at the end of the chunk). Every block the
   * range overlaps is verified first (patent ¶124): a mismatch throws `corrupt_block` and is reported.
   */
  read(handle: ChunkHandle, offsetBytes: number, lengthBytes: number, options?: { readonly expectVersion?: number }): Promise<Uint8Array> {
    const s = this.state(handle);
    checkRange(offsetBytes, lengthBytes);
    return this.locked(s, async () => {
      checkVersion(s, options?.expectVersion);
      s.lastAccessMs = this.clock.now();
      return this.readRange(s, offsetBytes, lengthBytes, true, 'read');
    });
  }

  /**
   * Reads WITHOUT checking checksums. For benchmarks (the `chunk-read-unverified` baseline) and
   * forensics only: never serve this to a client or another chunkserver.
   */
  readUnverified(handle: ChunkHandle, offsetBytes: number, lengthBytes: number): Promise<Uint8Array> {
    const s = this.state(handle);
    checkRange(offsetBytes, lengthBytes);
    return this.locked(s, () => this.readRange(s, offsetBytes, lengthBytes, false, 'read'));
  }

  /** Verifies the blocks overlapping a range without returning data or counting as an access (the scrubber's read, patent ¶128). Returns bytes checked. */
  verify(handle: ChunkHandle, offsetBytes: number, lengthBytes: number): Promise<number> {
    const s = this.state(handle);
    checkRange(offsetBytes, lengthBytes);
    return this.locked(s, async () => {
      if (offsetBytes >= s.sizeBytes) return 0;
      const B = this.config.blockSizeBytes;
      const start = Math.floor(offsetBytes / B) * B;
      const end = Math.min(s.sizeBytes, Math.ceil((offsetBytes + lengthBytes) / B) * B);
      // The bytes are only checked, so one scratch buffer serves every scrub read (no allocation
      // and zero-fill per slice); a verify that finds it in use gets its own.
      const scratch = this.scrubScratch !== undefined && this.scrubScratch.length >= end - start ? this.scrubScratch : new Uint8Array(end - start);
      this.scrubScratch = undefined;
      try {
        await this.readRange(s, start, end - start, true, 'scrub', scratch);
      } finally {
        this.scrubScratch = scratch;
      }
      return end - start;
    });
  }

  /**
   * Makes the chunk's data, size, checksums and version durable: with the journal, once the journal
   * round holding its last record has been fsynced (many chunks share one round); without it, by
   * fsyncing the data file and then the checksum file. Covers every operation called before it.
   */
  async sync(handle: ChunkHandle): Promise<void> {
    const s = this.state(handle);
    const journal = this.journal;
    if (journal === undefined) return this.locked(s, () => this.syncLocked(s));
    const jsn = await this.locked(s, () => Promise.resolve(s.lastJsn));
    await this.durableFor(s, jsn);
  }

  /**
   * Waits until the chunk's state up to record `jsn` is durable: its journal round was fsynced, or,
   * when a record of the chunk was refused for lack of space, by fsyncing the chunk's data and
   * writing its checksum slot (which needs no new space once the checksum file exists).
   */
  private async durableFor(s: ChunkState, jsn: number): Promise<void> {
    const journal = this.journal;
    assert(journal !== undefined, 'the store has a journal');
    try {
      await journal.waitDurable(jsn);
    } catch (err) {
      if (!(isStorageError(err, 'no_space') && s.journalGap)) throw err;
    }
    if (!s.journalGap) return;
    await this.locked(s, async () => {
      if (!s.journalGap) return;
      const through = s.lastJsn;
      s.dirty = true;
      await this.syncLocked(s);
      s.checkpointJsn = through;
      s.journalGap = false;
    });
  }

  /** Sets the chunk's version durably (the master bumps it when granting a lease). */
  async setVersion(handle: ChunkHandle, version: number): Promise<void> {
    const s = this.state(handle);
    const journal = this.journal;
    if (journal !== undefined) {
      const admission = { bytes: journalFrameHeaderBytes + 64 };
      await journal.admit(admission.bytes);
      let previous = 0;
      const jsn = await this.locked(s, () => {
        previous = s.version;
        s.version = version;
        return Promise.resolve(this.journalAdd(s, this.stateRecord(s), admission));
      }).finally(() => this.giveBack(admission));
      try {
        await this.durableFor(s, jsn);
      } catch (err) {
        if (s.version === version) s.version = previous;
        throw err;
      }
      return;
    }
    return this.locked(s, async () => {
      // The new version counts only once it is durable: a replica whose bump failed (a full disk)
      // must keep reporting the old version, or it would pass for up to date while it is left out
      // of the lease the bump was for (¶77).
      const previous = s.version;
      s.version = version;
      s.dirty = true;
      try {
        await this.syncLocked(s);
      } catch (err) {
        s.version = previous;
        throw err;
      }
    });
  }

  /**
   * Cuts the chunk to `sizeBytes` and makes that durable (a sealed chunk, GFS README S2: bytes past
   * the agreed length go). The kept part of the new last block is read and verified first, so its
   * new checksum cannot hide corruption (¶127). The data file keeps the bytes past the new size
   * until the next `open` cuts it back; nothing reads them. Growing a chunk this way is refused.
   */
  async truncate(handle: ChunkHandle, sizeBytes: number): Promise<void> {
    const s = this.state(handle);
    checkRange(sizeBytes, 0);
    const journal = this.journal;
    if (journal !== undefined) {
      const admission = { bytes: journalFrameHeaderBytes + 64 };
      await journal.admit(admission.bytes);
      const jsn = await this.locked(s, async () => {
        if (sizeBytes > s.sizeBytes) throw new Error(`truncate of chunk ${handle} to ${sizeBytes} bytes would grow it (it has ${s.sizeBytes})`);
        if (sizeBytes < s.sizeBytes) {
          await this.cutLocked(s, sizeBytes);
          return this.journalAdd(s, this.stateRecord(s), admission);
        }
        return s.lastJsn;
      }).finally(() => this.giveBack(admission));
      await this.durableFor(s, jsn);
      return;
    }
    return this.locked(s, async () => {
      if (sizeBytes > s.sizeBytes) throw new Error(`truncate of chunk ${handle} to ${sizeBytes} bytes would grow it (it has ${s.sizeBytes})`);
      if (sizeBytes === s.sizeBytes) return this.syncLocked(s);
      await this.cutLocked(s, sizeBytes);
      await this.syncLocked(s);
    });
  }

  /** Sets the size to `sizeBytes` (smaller), re-checksumming the kept part of the new last block after verifying it (¶127). */
  private async cutLocked(s: ChunkState, sizeBytes: number): Promise<void> {
    const B = this.config.blockSizeBytes;
    const block = Math.floor(sizeBytes / B);
    const start = block * B;
    if (sizeBytes > start) {
      const kept = await this.readRange(s, start, Math.min(s.sizeBytes, start + B) - start, true, 'write');
      s.crcs[block] = crc32c(kept.subarray(0, sizeBytes - start));
    }
    s.sizeBytes = sizeBytes;
    s.dirty = true;
  }

  /** Removes the chunk and its files. With the journal, the removal is recorded durably before the files go. */
  /** Drops a deleted chunk from the store's state and closes its files (inside its lane). */
  private async forget(s: ChunkState): Promise<void> {
    s.deleted = true;
    this.chunks.delete(s.handle);
    await s.file?.close();
    s.file = undefined;
    await s.slots?.file?.close();
    s.slots = undefined;
  }

  async delete(handle: ChunkHandle): Promise<void> {
    const s = this.state(handle);
    const journal = this.journal;
    if (journal !== undefined) {
      const admission = { bytes: journalFrameHeaderBytes + 80 };
      await journal.admit(admission.bytes);
      const jsn = await this.locked(s, async () => {
        await this.forget(s);
        return this.journalAdd(s, { kind: 'delete', handle }, admission);
      }).finally(() => this.giveBack(admission));
      // Until the record is durable a crash must find the chunk's checksum file, or the replay of its
      // earlier records would bring back part of a deleted chunk.
      // On a full disk (the record refused) the files go anyway: they free space, and a crash can at
      // worst bring back a part of the chunk, which reads as damaged and the master collects.
      const removal = journal.waitDurable(jsn).catch((err: unknown) => {
        if (!isStorageError(err, 'no_space')) throw err;
      }).then(async () => {
        await this.disk.remove(this.crcPath(handle)).catch(ignoreNotFound);
        await this.disk.remove(this.dataPath(handle), { durable: false }).catch(ignoreNotFound);
      });
      this.deletions.set(removal, jsn);
      try {
        await removal;
      } finally {
        this.deletions.delete(removal);
      }
      return;
    }
    return this.locked(s, async () => {
      await this.forget(s);
      // Checksums first: a data file without a checksum file is an orphan that `open` removes, so
      // its removal need not be durable (a crash that brings it back costs a removal at open).
      await this.disk.remove(this.crcPath(handle)).catch(ignoreNotFound);
      await this.disk.remove(this.dataPath(handle), { durable: false }).catch(ignoreNotFound);
    });
  }

  /** Closes every data file (does not sync; with the journal, waits for queued records to be durable). */
  async close(): Promise<void> {
    await this.journal?.close();
    await this.checkpointChain;
    for (const s of this.chunks.values()) {
      await this.locked(s, async () => {
        await s.file?.close();
        s.file = undefined;
        await s.slots?.file?.close();
        if (s.slots !== undefined) s.slots.file = undefined;
      });
    }
  }

  // ---- internals ----

  private async load(): Promise<void> {
    const names = await this.disk.list(this.dir);
    const present = new Set(names);
    for (const name of names) {
      if (name.endsWith('.tmp')) {
        await this.disk.remove(joinPath(this.dir, name)).catch(ignoreNotFound);
        continue;
      }
      if (!name.endsWith(crcSuffix)) continue;
      const handle = name.slice(0, -crcSuffix.length);
      if (!handlePattern.test(handle)) continue;
      const s: ChunkState = {
        handle,
        version: 0,
        sizeBytes: 0,
        crcs: new Uint32Array(16),
        file: undefined,
        lastAccessMs: this.clock.now(),
        dirty: false,
        unsynced: false,
        checksumFileCorrupt: false,
        slots: undefined,
        reportedBlocks: new Set(),
        tail: Promise.resolve(),
        deleted: false,
        lastJsn: 0,
        checkpointJsn: 0,
        journalGap: false,
      };
      this.chunks.set(handle, s);
      const maxCrcBytes = 2 * checksumSlotBytes(this.config.chunkSizeBytes, this.config.blockSizeBytes);
      let decoded: ReturnType<typeof decodeChecksumFileAny>;
      let fileBytes = 0;
      try {
        const bytes = await readWholeFile(this.disk, joinPath(this.dir, name), maxCrcBytes);
        fileBytes = bytes.length;
        decoded = decodeChecksumFileAny(bytes, this.config.blockSizeBytes);
      } catch (err) {
        if (!isStorageError(err)) throw err;
        decoded = { problem: err.message };
      }
      if ('problem' in decoded) {
        s.checksumFileCorrupt = true;
        this.report(s, { kind: 'checksum_file', detectedBy: 'open' });
        continue;
      }
      s.version = decoded.version;
      s.sizeBytes = decoded.sizeBytes;
      s.crcs = decoded.crcs;
      s.lastJsn = decoded.appliedJsn;
      s.checkpointJsn = decoded.appliedJsn;
      // In place only in a file of exactly this store's slot size (a store reopened with another chunk size rewrites it whole).
      if (decoded.slots !== undefined && fileBytes === maxCrcBytes) s.slots = { ...decoded.slots, file: undefined };
      const dataPath = this.dataPath(handle);
      if (present.has(`${handle}${dataSuffix}`)) s.file = await this.disk.open(dataPath);
    }
    // Journal replay comes before the orphan sweep: a chunk written but never checkpointed has a
    // data file and journal records, and no checksum file yet.
    const replayed = await this.replayJournal();
    for (const s of this.chunks.values()) {
      if (s.file !== undefined && s.file.sizeBytes() > s.sizeBytes && !s.checksumFileCorrupt) {
        // Written after the last sync (and after the journal's last record of the chunk): never
        // promised durable, and not covered by checksums. Cut only after the replay: a large write's
        // record points into the data file past the checkpointed size.
        await s.file.truncate(s.sizeBytes);
        await s.file.fsync();
      }
    }
    for (const name of names) {
      if (!name.endsWith(dataSuffix)) continue;
      const handle = name.slice(0, -dataSuffix.length);
      if (!this.chunks.has(handle)) await this.disk.remove(joinPath(this.dir, name)).catch(ignoreNotFound);
    }
    if (this.config.journalSegmentBytes > 0) {
      this.journal = await ChunkJournal.create(
        this.disk,
        this.dir,
        {
          segmentBytes: this.config.journalSegmentBytes,
          bytesMax: this.config.journalBytesMax,
          roundBytesMax: this.config.journalRoundBytesMax,
          pendingBytesMax: this.config.journalPendingBytesMax,
          admitWaitersMax: this.config.journalAdmitWaitersMax,
        },
        replayed.nextJsn,
        (through) => this.checkpoint(through),
      );
    }
  }

  /**
   * Re-applies the journal's records past each chunk's checkpoint (its checksum file's applied JSN),
   * in JSN order, then checkpoints every chunk it touched and removes the journal files. Applying a
   * record twice gives the same state, so a crash during this is recovered by doing it again. A
   * store opened without a journal still replays one left by an earlier run (nothing acknowledged
   * is dropped), and then runs without.
   */
  private async replayJournal(): Promise<{ nextJsn: number }> {
    const maxFileBytes = this.config.journalSegmentBytes + this.config.journalBytesMax + 2 * this.config.chunkSizeBytes + 16 * 1024 * 1024;
    const { files, records } = await ChunkJournal.read(this.disk, this.dir, maxFileBytes);
    let last = 0;
    for (const s of this.chunks.values()) last = Math.max(last, s.checkpointJsn);
    // A write whose data is not in the journal was fdatasynced in the data file: an older record's
    // inline data must not be written over it. So each inline write is replayed only where no later
    // in-place write of the same handle covers it (nor at all when a later record deletes the handle).
    const inlineRanges = new Map<number, Array<readonly [number, number]>>();
    const inPlaceLater = new Map<string, Array<readonly [number, number]>>();
    const deletedLater = new Set<string>();
    for (let i = records.length - 1; i >= 0; i--) {
      const r = records[i]!.record;
      if (r.kind === 'delete') deletedLater.add(r.handle);
      if (r.kind !== 'write') continue;
      const covered = inPlaceLater.get(r.handle) ?? [];
      if (r.data === undefined) {
        covered.push([r.offsetBytes, r.offsetBytes + r.lengthBytes]);
        inPlaceLater.set(r.handle, covered);
      } else {
        inlineRanges.set(i, deletedLater.has(r.handle) ? [] : subtractRanges([r.offsetBytes, r.offsetBytes + r.lengthBytes], covered));
      }
    }
    for (let i = 0; i < records.length; i++) {
      const { jsn, record } = records[i]!;
      last = Math.max(last, jsn);
      await this.applyRecord(jsn, record, inlineRanges.get(i));
    }
    if (files.length > 0) {
      await this.checkpointNow();
      for (const name of files) await this.disk.remove(joinPath(this.dir, name)).catch(ignoreNotFound);
    }
    return { nextJsn: last + 1 };
  }

  private async applyRecord(jsn: number, r: JournalRecord, inlineRanges?: ReadonlyArray<readonly [number, number]>): Promise<void> {
    const B = this.config.blockSizeBytes;
    let s = this.chunks.get(r.handle);
    if (r.kind === 'delete') {
      if (s === undefined || jsn <= s.checkpointJsn) return;
      this.chunks.delete(r.handle);
      await s.file?.close();
      // The data file stays for now: a later incarnation of the handle may have written into it
      // (records without data point there); the orphan sweep after the replay removes it otherwise.
      await this.disk.remove(this.crcPath(r.handle)).catch(ignoreNotFound);
      return;
    }
    if (s === undefined) {
      if (!handlePattern.test(r.handle)) throw new StorageError('corrupt_log', `chunk journal record ${jsn} names an invalid chunk handle`);
      // A chunk created after the last checkpoint. Its data file (if any) is its own: records of it
      // cover every byte up to its size, inline or fdatasynced there before they were written.
      s = this.newChunk(r.handle, r.version);
      this.chunks.set(r.handle, s);
    }
    if (jsn <= s.checkpointJsn || s.checksumFileCorrupt) return;
    if (r.kind === 'write') {
      if (r.sizeAfterBytes > this.config.chunkSizeBytes || r.offsetBytes + r.lengthBytes > r.sizeAfterBytes || Math.ceil(r.sizeAfterBytes / B) < r.firstBlock + r.crcs.length) {
        throw new StorageError('corrupt_log', `chunk journal record ${jsn} (chunk ${r.handle}) does not fit this store's chunk size ${this.config.chunkSizeBytes} and block size ${B}`);
      }
      const file = await this.fileOf(s);
      if (r.data !== undefined) {
        for (const [from, to] of inlineRanges ?? [[r.offsetBytes, r.offsetBytes + r.lengthBytes] as const]) {
          if (to > from) await file.write(from, r.data.subarray(from - r.offsetBytes, to - r.offsetBytes));
        }
      }
      this.ensureCrcCapacity(s, r.firstBlock + r.crcs.length);
      s.crcs.set(r.crcs, r.firstBlock);
      s.sizeBytes = r.sizeAfterBytes;
      s.unsynced = true;
    } else {
      if (r.sizeBytes > this.config.chunkSizeBytes) throw new StorageError('corrupt_log', `chunk journal record ${jsn} (chunk ${r.handle}) is larger than this store's chunk size`);
      this.ensureCrcCapacity(s, Math.ceil(r.sizeBytes / B));
      if (r.sizeBytes % B !== 0) s.crcs[Math.floor(r.sizeBytes / B)] = r.lastBlockCrc;
      s.sizeBytes = r.sizeBytes;
    }
    s.version = r.version;
    s.lastJsn = jsn;
    s.dirty = true;
  }

  /** Serializes checkpoints; resolves when every record up to the journal's `through` is in the chunk files. */
  private checkpoint(through: number): Promise<void> {
    const run = this.checkpointChain.then(() => this.checkpointNow(through));
    this.checkpointChain = run.catch(() => undefined);
    return run;
  }

  /**
   * Makes every chunk with journal records past its checkpoint durable in its own files: data
   * fsync, then a checksum slot naming the last record it reflects (so a replay skips the records
   * it holds). Each chunk under its lock, so the slot matches bytes already written; a state newer
   * than the journal's durable point is fine (its data is fsynced first). Then waits for the
   * deletions recorded up to `through` (durable records: their files are being removed), whose
   * files must be gone before the journal that records them is; later ones wait for a round, which
   * may be waiting for this checkpoint.
   */
  private async checkpointNow(through = Number.MAX_SAFE_INTEGER): Promise<void> {
    const due = [...this.chunks.values()].filter((s) => !s.checksumFileCorrupt && (s.lastJsn > s.checkpointJsn || s.unsynced || s.journalGap));
    const width = Math.max(1, this.config.checkpointParallelChunks);
    for (let i = 0; i < due.length; i += width) {
      await Promise.all(
        due.slice(i, i + width).map((s) =>
          this.locked(s, async () => {
            const jsn = s.lastJsn;
            if (jsn <= s.checkpointJsn && !s.unsynced && !s.journalGap) return;
            const gap = s.journalGap;
            s.dirty = true;
            await this.syncLocked(s);
            s.checkpointJsn = jsn;
            if (gap) s.journalGap = false;
          }).catch((err: unknown) => {
            if (!(s.deleted && isStorageError(err, 'not_found'))) throw err;
          }),
        ),
      );
    }
    await Promise.all([...this.deletions].filter(([, jsn]) => jsn <= through).map(([removal]) => removal.catch(() => undefined)));
  }

  /** Reserves journal room for a mutation of `length` bytes at `offset` (with the journal), runs `fn`, and gives back what its record did not use. */
  private async admitted<T>(s: ChunkState, offset: number, length: number, fn: (admission: Admission | undefined) => Promise<T>): Promise<T> {
    const journal = this.journal;
    if (journal === undefined) return fn(undefined);
    const B = this.config.blockSizeBytes;
    // The gap a write past the end fills is counted at the size seen now (a write queued before it may change it).
    const bytes = Math.max(length, offset + length - s.sizeBytes);
    const admission = { bytes: journalFrameHeaderBytes + 128 + 4 * (Math.ceil(bytes / B) + 1) + bytes };
    await journal.admit(admission.bytes);
    try {
      return await fn(admission);
    } finally {
      this.giveBack(admission);
    }
  }

  private giveBack(admission: Admission): void {
    if (admission.bytes > 0) this.journal?.release(admission.bytes);
    admission.bytes = 0;
  }

  /** Queues a journal record about `s`; returns its JSN. `before`: what its round must do first (the data fsync of a record without data). */
  private journalAdd(s: ChunkState, record: JournalRecord, admission: Admission, before?: { readonly key: unknown; readonly run: () => Promise<void> }): number {
    const journal = this.journal;
    assert(journal !== undefined, 'the store has a journal');
    const jsn = journal.add(
      record,
      admission.bytes,
      () => {
        s.journalGap = true;
      },
      before,
    );
    admission.bytes = 0;
    s.lastJsn = jsn;
    return jsn;
  }

  /** Fdatasyncs a chunk's data file before a round whose records point into it. A chunk deleted meanwhile needs nothing: its delete record follows. */
  private async fsyncData(s: ChunkState): Promise<void> {
    const file = s.file;
    if (s.deleted || file === undefined) return;
    try {
      await file.fsync();
    } catch (err) {
      if (!s.deleted) throw err;
    }
  }

  private stateRecord(s: ChunkState): JournalRecord {
    const B = this.config.blockSizeBytes;
    return { kind: 'state', handle: s.handle, version: s.version, sizeBytes: s.sizeBytes, lastBlockCrc: s.sizeBytes % B === 0 ? 0 : s.crcs[Math.floor(s.sizeBytes / B)]! };
  }

  private async writeLocked(s: ChunkState, offset: number, data: Uint8Array, expectVersion: number | undefined, admission?: Admission): Promise<void> {
    checkVersion(s, expectVersion);
    if (s.checksumFileCorrupt) throw corruptChecksumFile(s);
    if (data.length === 0) return;
    s.lastAccessMs = this.clock.now();
    if (offset > s.sizeBytes) {
      // A write past the end: fill the gap with zeros so every block has data and a checksum.
      const filled = new Uint8Array(offset - s.sizeBytes + data.length);
      filled.set(data, offset - s.sizeBytes);
      return this.writeLocked(s, s.sizeBytes, filled, undefined, admission);
    }
    const B = this.config.blockSizeBytes;
    const end = offset + data.length;
    const oldSize = s.sizeBytes;
    const newSize = Math.max(oldSize, end);
    const firstBlock = Math.floor(offset / B);
    const lastBlock = Math.floor((end - 1) / B);
    this.ensureCrcCapacity(s, lastBlock + 1);
    const file = await this.fileOf(s);
    // The checksums this write replaces, put back if the write fails (ENOSPC writes nothing).
    const saved = s.crcs.slice(firstBlock, lastBlock + 1);
    const finish = async (pending: Promise<void>): Promise<void> => {
      await this.finishWrite(s, pending, newSize, firstBlock, saved);
      // The record carries the data and the checksums the write left; durable with its round.
      if (admission === undefined) return;
      const inline = data.length < this.config.journalInlineBelowBytes;
      const record: JournalRecord = { kind: 'write', handle: s.handle, version: s.version, offsetBytes: offset, sizeAfterBytes: newSize, firstBlock, crcs: s.crcs.slice(firstBlock, lastBlock + 1), lengthBytes: data.length, data: inline ? data : undefined };
      this.journalAdd(s, record, admission, inline ? undefined : { key: s, run: () => this.fsyncData(s) });
    };

    if (offset === oldSize && offset % B !== 0) {
      // Append into a partial last block: extend its checksum incrementally (patent ¶126).
      const fill = Math.min(B - (offset % B), data.length);
      const pending = file.write(offset, data);
      s.crcs[firstBlock] = crc32c(data.subarray(0, fill), s.crcs[firstBlock]!);
      this.fullBlockCrcs(s, offset + fill, data.subarray(fill));
      await finish(pending);
      return;
    }
    if (offset === oldSize) {
      const pending = file.write(offset, data);
      this.fullBlockCrcs(s, offset, data);
      await finish(pending);
      return;
    }

    // An overwrite: verify the first and last blocks it covers only partly before touching them (patent ¶127).
    const merged = new Map<number, Uint8Array>();
    for (const b of firstBlock === lastBlock ? [firstBlock] : [firstBlock, lastBlock]) {
      const bStart = b * B;
      const bOldEnd = Math.min(oldSize, bStart + B);
      if (bStart >= oldSize) continue;
      const keepsOldBytes = offset > bStart || end < bOldEnd;
      if (!keepsOldBytes) continue;
      const old = await this.readRange(s, bStart, bOldEnd - bStart, true, 'write');
      const bNewEnd = Math.min(newSize, bStart + B);
      const content = new Uint8Array(bNewEnd - bStart);
      content.set(old);
      const from = Math.max(offset, bStart);
      const to = Math.min(end, bNewEnd);
      content.set(data.subarray(from - offset, to - offset), from - bStart);
      merged.set(b, content);
    }
    const pending = file.write(offset, data);
    for (let b = firstBlock; b <= lastBlock; b++) {
      const content = merged.get(b);
      if (content !== undefined) {
        s.crcs[b] = crc32c(content);
      } else {
        const bStart = b * B;
        const bEnd = Math.min(newSize, bStart + B);
        assert(bStart >= offset && bEnd <= end, 'an unmerged block is wholly overwritten');
        s.crcs[b] = crc32c(data.subarray(bStart - offset, bEnd - offset));
      }
    }
    await finish(pending);
  }

  /** Checksums for blocks starting at the block-aligned `offset`; the last may be partial. */
  private fullBlockCrcs(s: ChunkState, offset: number, data: Uint8Array): void {
    const B = this.config.blockSizeBytes;
    assert(data.length === 0 || offset % B === 0, 'new blocks start block-aligned');
    for (let at = 0; at < data.length; at += B) s.crcs[(offset + at) / B] = crc32c(data.subarray(at, Math.min(data.length, at + B)));
  }

  private async finishWrite(s: ChunkState, pending: Promise<void>, newSize: number, firstBlock: number, saved: Uint32Array): Promise<void> {
    s.dirty = true;
    s.unsynced = true;
    try {
      await pending;
    } catch (err) {
      // Keep the old size and checksums: after ENOSPC the old data is intact and still verifies;
      // after EIO the bytes on disk are unknown, and blocks that changed will fail verification.
      s.crcs.set(saved, firstBlock);
      throw err;
    }
    s.sizeBytes = newSize;
  }

  /**
   * Reads [offset, offset+length) clipped to the chunk. When verifying, widens to whole blocks,
   * reads in segments with one segment read ahead while the previous one is checked (patent ¶125).
   */
  private async readRange(s: ChunkState, offset: number, length: number, verify: boolean, detectedBy: 'read' | 'write' | 'scrub', scratch?: Uint8Array): Promise<Uint8Array> {
    if (s.checksumFileCorrupt && verify) throw corruptChecksumFile(s);
    const end = Math.min(s.sizeBytes, offset + length);
    if (end <= offset) return new Uint8Array(0);
    const B = this.config.blockSizeBytes;
    const start = verify ? Math.floor(offset / B) * B : offset;
    const stop = verify ? Math.min(s.sizeBytes, Math.ceil(end / B) * B) : end;
    const file = await this.fileOf(s);
    const seg = this.config.readSegmentBytes;
    // One buffer for the whole (block-widened) range; segments are read straight into it, a bounded
    // number ahead of the one being verified, and the caller gets a view of the requested bytes.
    const buf = scratch === undefined ? new Uint8Array(stop - start) : scratch.subarray(0, stop - start);
    const inFlight: Promise<number>[] = [];
    let issuedTo = start;
    const issue = (): void => {
      if (issuedTo >= stop) return;
      const at = issuedTo;
      issuedTo = Math.min(stop, at + seg);
      inFlight.push(file.readInto(at, buf.subarray(at - start, issuedTo - start)));
    };
    for (let i = 0; i <= this.config.readAheadSegments; i++) issue();
    try {
      for (let at = start; at < stop; at += seg) {
        const segEnd = Math.min(stop, at + seg);
        const got = await inFlight.shift()!;
        issue();
        if (got < segEnd - at) {
          const block = Math.floor((at + got) / B);
          this.report(s, { kind: 'missing_data', blockIndex: block, detectedBy });
          throw new StorageError('corrupt_block', `chunk ${s.handle} v${s.version}: data file ends at ${at + got} but the checksums cover ${s.sizeBytes} bytes (block ${block}); the replica must be re-cloned`, { path: this.dataPath(s.handle) });
        }
        if (!verify) continue;
        for (let b = at; b < segEnd; b += B) {
          const blockIndex = b / B;
          const actual = crc32c(buf.subarray(b - start, Math.min(segEnd, b + B) - start));
          if (actual !== s.crcs[blockIndex]) {
            this.report(s, { kind: 'block', blockIndex, detectedBy });
            throw new StorageError('corrupt_block', `chunk ${s.handle} v${s.version}: block ${blockIndex} (bytes ${b}..${Math.min(segEnd, b + B)}) fails its CRC32C (stored ${hex(s.crcs[blockIndex]!)}, computed ${hex(actual)}); the replica must be re-cloned`, { path: this.dataPath(s.handle) });
          }
        }
      }
    } finally {
      // Reads still in flight after a failure: their outcome no longer matters, but they must settle before the chunk's next operation.
      await Promise.allSettled(inFlight);
    }
    return buf.subarray(offset - start, end - start);
  }

  /**
   * Data first, then checksums, so a crash never leaves checksums newer than the durable data. In
   * the two-slot file, the older slot is overwritten in place after the data fsync returned and
   * fdatasynced (the file's size never changes, so that is one small device flush). The first time
   * (no two-slot file yet) the whole file is written to a temp name and fsynced while the data
   * fsync runs, and renamed into place only after it returned.
   */
  private async syncLocked(s: ChunkState): Promise<void> {
    const dataSynced = s.file !== undefined && s.unsynced ? s.file.fsync() : undefined;
    if (s.slots !== undefined || !s.dirty) {
      if (dataSynced !== undefined) {
        await dataSynced;
        s.unsynced = false;
      }
      if (s.dirty) await this.persistChecksumSlot(s);
      return;
    }
    const checksums = this.persistChecksums(s, dataSynced);
    const [data, crcs] = await Promise.allSettled([dataSynced, checksums]);
    if (data.status === 'rejected') throw data.reason;
    if (dataSynced !== undefined) s.unsynced = false;
    if (crcs.status === 'rejected') throw crcs.reason;
  }

  /** Writes the whole two-slot checksum file atomically (slot 0 current, slot 1 empty). */
  private async persistChecksums(s: ChunkState, renameAfter?: Promise<void>): Promise<void> {
    const slotBytes = checksumSlotBytes(this.config.chunkSizeBytes, this.config.blockSizeBytes);
    const data = new Uint8Array(2 * slotBytes);
    const seq = (s.slots?.seq ?? 0) + 1;
    data.set(encodeChecksumSlot(seq, s.version, s.sizeBytes, this.config.blockSizeBytes, s.crcs, s.lastJsn), 0);
    s.dirty = false;
    try {
      await s.slots?.file?.close();
      s.slots = undefined;
      await writeFileAtomically(this.disk, this.crcPath(s.handle), data, renameAfter === undefined ? undefined : { renameAfter });
    } catch (err) {
      s.dirty = true;
      throw err;
    }
    s.slots = { next: 1, seq, file: undefined };
  }

  /** Overwrites the older slot of the checksum file with the current state and fdatasyncs it. */
  private async persistChecksumSlot(s: ChunkState): Promise<void> {
    const slots = s.slots;
    assert(slots !== undefined, 'the two-slot checksum file exists');
    const slotBytes = checksumSlotBytes(this.config.chunkSizeBytes, this.config.blockSizeBytes);
    const seq = slots.seq + 1;
    const data = encodeChecksumSlot(seq, s.version, s.sizeBytes, this.config.blockSizeBytes, s.crcs, s.lastJsn);
    assert(data.length <= slotBytes, 'a slot holds every block of a full chunk');
    s.dirty = false;
    try {
      slots.file ??= await this.disk.open(this.crcPath(s.handle));
      await slots.file.write(slots.next * slotBytes, data);
      await slots.file.fsync();
    } catch (err) {
      // The slot written may be torn; the other one still holds the last synced state. The next
      // sync writes the same slot again.
      s.dirty = true;
      throw err;
    }
    slots.seq = seq;
    slots.next = slots.next === 0 ? 1 : 0;
  }

  private async fileOf(s: ChunkState): Promise<DiskFile> {
    // Not durable by itself while the chunk has no checksum file yet: the data file's name matters
    // from the chunk's first `sync`, whose checksum-file rename in the same folder makes it durable;
    // before that the chunk does not survive a crash anyway. Once the two-slot checksum file exists,
    // syncs rename nothing, so a data file created later (a chunk created empty, then written) is
    // created durably.
    // With the journal, a large write's data is made durable in the data file before its record: the
    // file's name must be durable too.
    if (s.file === undefined) s.file = await this.disk.open(this.dataPath(s.handle), { create: true, durable: s.slots !== undefined || this.journal !== undefined });
    return s.file;
  }

  private ensureCrcCapacity(s: ChunkState, blocks: number): void {
    if (s.crcs.length >= blocks) return;
    const next = new Uint32Array(Math.max(blocks, s.crcs.length * 2));
    next.set(s.crcs);
    s.crcs = next;
  }

  private report(s: ChunkState, c: Omit<ChunkCorruption, 'handle' | 'version'>): void {
    const key = c.kind === 'checksum_file' ? -1 : (c.blockIndex ?? -2);
    if (s.reportedBlocks.has(key)) return;
    s.reportedBlocks.add(key);
    const event: ChunkCorruption = { handle: s.handle, version: s.version, ...c };
    for (const l of this.listeners) l(event);
  }

  private locked<T>(s: ChunkState, fn: () => Promise<T>): Promise<T> {
    const run = s.tail.then(() => {
      if (s.deleted) throw new StorageError('not_found', `chunk ${s.handle} was deleted`);
      return fn();
    });
    s.tail = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private state(handle: ChunkHandle): ChunkState {
    const s = this.chunks.get(handle);
    if (s === undefined) throw new StorageError('not_found', `no chunk ${handle} in this store`);
    return s;
  }

  private describe(s: ChunkState): ChunkInfo {
    return { handle: s.handle, version: s.version, sizeBytes: s.sizeBytes, lastAccessMs: s.lastAccessMs, corrupt: s.checksumFileCorrupt || s.reportedBlocks.size > 0 };
  }

  private dataPath(handle: ChunkHandle): string {
    return joinPath(this.dir, `${handle}${dataSuffix}`);
  }

  private crcPath(handle: ChunkHandle): string {
    return joinPath(this.dir, `${handle}${crcSuffix}`);
  }
}

function checkVersion(s: ChunkState, expectVersion: number | undefined): void {
  if (expectVersion !== undefined && expectVersion !== s.version) {
    throw new StorageError('stale_version', `chunk ${s.handle} is at version ${s.version}, the caller expects ${expectVersion}: this replica is stale`);
  }
}

function corruptChecksumFile(s: ChunkState): StorageError {
  return new StorageError('checksum_file_corrupt', `chunk ${s.handle}: its checksum file is damaged, so none of its blocks can be verified; the replica must be re-cloned`);
}

function checkRange(offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) throw new Error(`invalid byte range: offset ${offset}, length ${length}`);
}

function ignoreNotFound(err: unknown): void {
  if (!isStorageError(err, 'not_found')) throw err;
}

/** The parts of [from, to) that none of `covered` overlaps. */
function subtractRanges(range: readonly [number, number], covered: ReadonlyArray<readonly [number, number]>): Array<readonly [number, number]> {
  let parts: Array<readonly [number, number]> = [range];
  for (const [a, b] of covered) {
    const next: Array<readonly [number, number]> = [];
    for (const [x, y] of parts) {
      if (b <= x || a >= y) next.push([x, y]);
      else {
        if (a > x) next.push([x, a]);
        if (b < y) next.push([b, y]);
      }
    }
    parts = next;
  }
  return parts;
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}
