import type { Disk, DiskFile } from './disk.js';
import { joinPath, readWholeFile } from './disk.js';
import { crc32c } from './crc32c.js';
import { StorageError, assert } from './errors.js';

/**
 * The chunk store's write-ahead journal (see the storage README, "Chunk journal").
 *
 * One file sequence per store, `<dir>/journal-<first JSN>`: every mutation of every chunk is
 * appended as one CRC-framed record (its data and the block checksums it leaves), numbered with a
 * journal sequence number (JSN, 1, 2, 3, … across restarts). Group commit as in the op log: one
 * writer loop takes every record queued while the previous fsync ran, appends them and makes them
 * durable with one fdatasync: a round. Rounds are written one at a time, each only after the
 * previous round's fsync returned.
 *
 * Each frame names the byte offset where its round starts in the file. Recovery uses it to tell a
 * torn tail from damage: after the first bad frame, a valid frame whose round starts AFTER the bad
 * frame proves the bad one's round was synced (acknowledged) before that round was written, so the
 * damage is `corrupt_log`; valid frames of the same round only (or none) mean the crash cut that
 * round short, and it was never acknowledged.
 *
 * JSNs increase strictly but may skip: a round the disk refused for lack of space (`no_space`) is
 * cut off the file again and its records fail; their numbers are not reused.
 *
 * The journal does not apply records; the chunk store does (`ChunkStore`), and it tells the journal
 * when records up to a JSN are reflected in the chunk files (`removeFilesThrough`).
 */

const journalPrefix = 'journal-';
const frameMagic = 0x4a435254; // "TRCJ" little-endian
/** magic, payload length, JSN hi/lo, round's start offset hi/lo, CRC32C over the header's first 24 bytes and the payload. */
export const journalFrameHeaderBytes = 28;

export type JournalRecord =
  | {
      readonly kind: 'write';
      readonly handle: string;
      readonly version: number;
      readonly offsetBytes: number;
      /** The chunk's size after this write. */
      readonly sizeAfterBytes: number;
      readonly firstBlock: number;
      /** Checksums of blocks firstBlock, firstBlock+1, … after the write. */
      readonly crcs: Uint32Array;
      /** Bytes the write covers. */
      readonly lengthBytes: number;
      /**
       * The bytes written, or undefined when they are not in the journal: a large write's data is
       * fdatasynced in the chunk's data file before the round holding this record is written (as
       * BlueStore writes large data in place and logs only its metadata).
       */
      readonly data: Uint8Array | undefined;
    }
  | {
      /** The chunk's version and size (create, version bump, truncate), with the checksum of its last block. */
      readonly kind: 'state';
      readonly handle: string;
      readonly version: number;
      readonly sizeBytes: number;
      readonly lastBlockCrc: number;
    }
  | { readonly kind: 'delete'; readonly handle: string };

const kindCode = { write: 1, state: 2, delete: 3 } as const;
/** Microtask hops the writer waits before cutting a round, so mutations issued in the same turn join it (as the op log's writer). */
const gatherMicrotaskHops = 8;

export function journalFileName(firstJsn: number): string {
  return `${journalPrefix}${firstJsn.toString().padStart(16, '0')}`;
}

export function parseJournalFileName(name: string): number | undefined {
  if (!name.startsWith(journalPrefix)) return undefined;
  const digits = name.slice(journalPrefix.length);
  return /^\d{16}$/.test(digits) ? Number(digits) : undefined;
}

function recordPayloadBytes(r: JournalRecord): number {
  const base = 2 + r.handle.length;
  switch (r.kind) {
    case 'write':
      return base + 8 + 8 + 8 + 4 + 4 + 4 + 1 + 4 * r.crcs.length + (r.data?.length ?? 0);
    case 'state':
      return base + 8 + 8 + 4;
    case 'delete':
      return base;
  }
}

/** Bytes a frame of `r` takes in the journal. */
export function journalFrameBytes(r: JournalRecord): number {
  return journalFrameHeaderBytes + recordPayloadBytes(r);
}

function setU64(v: DataView, at: number, n: number): void {
  v.setUint32(at, Math.floor(n / 0x1_0000_0000), true);
  v.setUint32(at + 4, n >>> 0, true);
}

function getU64(v: DataView, at: number): number {
  return v.getUint32(at, true) * 0x1_0000_0000 + v.getUint32(at + 4, true);
}

/** Encodes one frame; its round's start offset and its CRC are filled in by `stampRound` when its round is cut. */
export function encodeJournalFrame(jsn: number, r: JournalRecord): Uint8Array {
  const payload = recordPayloadBytes(r);
  const out = new Uint8Array(journalFrameHeaderBytes + payload);
  const v = new DataView(out.buffer);
  v.setUint32(0, frameMagic, true);
  v.setUint32(4, payload, true);
  setU64(v, 8, jsn);
  let at = journalFrameHeaderBytes;
  v.setUint8(at, kindCode[r.kind]);
  v.setUint8(at + 1, r.handle.length);
  at += 2;
  for (let i = 0; i < r.handle.length; i++) out[at + i] = r.handle.charCodeAt(i);
  at += r.handle.length;
  switch (r.kind) {
    case 'write':
      setU64(v, at, r.version);
      setU64(v, at + 8, r.offsetBytes);
      setU64(v, at + 16, r.sizeAfterBytes);
      v.setUint32(at + 24, r.firstBlock, true);
      v.setUint32(at + 28, r.crcs.length, true);
      v.setUint32(at + 32, r.lengthBytes, true);
      v.setUint8(at + 36, r.data === undefined ? 0 : 1);
      at += 37;
      for (let i = 0; i < r.crcs.length; i++, at += 4) v.setUint32(at, r.crcs[i]!, true);
      if (r.data !== undefined) out.set(r.data, at);
      break;
    case 'state':
      setU64(v, at, r.version);
      setU64(v, at + 8, r.sizeBytes);
      v.setUint32(at + 16, r.lastBlockCrc, true);
      break;
    case 'delete':
      break;
  }
  return out;
}

/** Sets the frame's round (the file offset where the round it is written in starts) and its CRC. */
function stampRound(frame: Uint8Array, roundStartBytes: number): void {
  const v = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  setU64(v, 16, roundStartBytes);
  const crc = crc32c(frame.subarray(journalFrameHeaderBytes), crc32c(frame.subarray(0, 24)));
  v.setUint32(24, crc, true);
}

function decodePayload(p: Uint8Array): JournalRecord | undefined {
  if (p.length < 2) return undefined;
  const v = new DataView(p.buffer, p.byteOffset, p.byteLength);
  const kind = p[0]!;
  const handleLength = p[1]!;
  if (2 + handleLength > p.length) return undefined;
  let handle = '';
  for (let i = 0; i < handleLength; i++) handle += String.fromCharCode(p[2 + i]!);
  let at = 2 + handleLength;
  switch (kind) {
    case kindCode.write: {
      if (at + 37 > p.length) return undefined;
      const version = getU64(v, at);
      const offsetBytes = getU64(v, at + 8);
      const sizeAfterBytes = getU64(v, at + 16);
      const firstBlock = v.getUint32(at + 24, true);
      const count = v.getUint32(at + 28, true);
      const lengthBytes = v.getUint32(at + 32, true);
      const inline = v.getUint8(at + 36);
      at += 37;
      if (at + 4 * count > p.length || inline > 1) return undefined;
      const crcs = new Uint32Array(count);
      for (let i = 0; i < count; i++, at += 4) crcs[i] = v.getUint32(at, true);
      if (inline === 1 ? p.length - at !== lengthBytes : p.length !== at) return undefined;
      return { kind: 'write', handle, version, offsetBytes, sizeAfterBytes, firstBlock, crcs, lengthBytes, data: inline === 1 ? p.subarray(at) : undefined };
    }
    case kindCode.state:
      if (at + 20 !== p.length) return undefined;
      return { kind: 'state', handle, version: getU64(v, at), sizeBytes: getU64(v, at + 8), lastBlockCrc: v.getUint32(at + 16, true) };
    case kindCode.delete:
      return at === p.length ? { kind: 'delete', handle } : undefined;
    default:
      return undefined;
  }
}

interface Frame {
  readonly jsn: number;
  readonly roundStartBytes: number;
  readonly record: JournalRecord;
  readonly endBytes: number;
}

/** The frame at `at`, or undefined when it is short, not a frame, or fails its CRC. */
function frameAt(data: Uint8Array, view: DataView, at: number): Frame | undefined {
  if (at + journalFrameHeaderBytes > data.length) return undefined;
  if (view.getUint32(at, true) !== frameMagic) return undefined;
  const length = view.getUint32(at + 4, true);
  const end = at + journalFrameHeaderBytes + length;
  if (end > data.length) return undefined;
  const crc = crc32c(data.subarray(at + journalFrameHeaderBytes, end), crc32c(data.subarray(at, at + 24)));
  if (crc !== view.getUint32(at + 24, true)) return undefined;
  const record = decodePayload(data.subarray(at + journalFrameHeaderBytes, end));
  if (record === undefined) return undefined;
  return { jsn: getU64(view, at + 8), roundStartBytes: getU64(view, at + 16), record, endBytes: end };
}

/**
 * Decodes one journal file. Stops at the first bad frame (or one whose JSN or round breaks the
 * order); `laterRound` is true when a valid frame of a round starting after it follows (so the bad
 * frame's round was synced before that one was written).
 */
export function decodeJournal(data: Uint8Array, firstJsn: number): { records: { jsn: number; record: JournalRecord }[]; validBytes: number; laterRound: boolean } {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const records: { jsn: number; record: JournalRecord }[] = [];
  let at = 0;
  let next = firstJsn;
  let lastRound = 0;
  for (;;) {
    const f = frameAt(data, view, at);
    if (f === undefined || f.jsn < next || f.roundStartBytes > at || f.roundStartBytes < lastRound) break;
    records.push({ jsn: f.jsn, record: f.record });
    lastRound = f.roundStartBytes;
    next = f.jsn + 1;
    at = f.endBytes;
  }
  if (at >= data.length) return { records, validBytes: at, laterRound: false };
  // Look past the bad frame for a valid frame of a later round than any the bad one could belong to.
  const b0 = frameMagic & 0xff;
  let scan = at + 1;
  while (scan < data.length) {
    const hit = data.indexOf(b0, scan);
    if (hit < 0) break;
    const f = frameAt(data, view, hit);
    if (f !== undefined && f.roundStartBytes > at && f.roundStartBytes <= hit && f.jsn >= next) return { records, validBytes: at, laterRound: true };
    scan = hit + 1;
  }
  return { records, validBytes: at, laterRound: false };
}

export interface ChunkJournalConfig {
  /** A file is closed and a new one started once it holds this many bytes. */
  readonly segmentBytes: number;
  /** Bytes of journal files on disk at most; a round that would pass it waits for a checkpoint to remove old files. */
  readonly bytesMax: number;
  /** Bytes one round writes at most (one record more when a single record is larger). */
  readonly roundBytesMax: number;
  /** Bytes of records admitted but not yet durable at most; `admit` waits beyond it. */
  readonly pendingBytesMax: number;
  /** Callers waiting in `admit` at most; more get `backlog_full`. */
  readonly admitWaitersMax: number;
}

interface Pending {
  readonly jsn: number;
  readonly frame: Uint8Array;
  /** Called when the record was refused for lack of space: it will never be durable. */
  readonly onLost: ((err: StorageError) => void) | undefined;
  /** Must complete before the record's round is written (the data fsync of a record without data); keyed so a round runs each once. */
  readonly before: { readonly key: unknown; readonly run: () => Promise<void> } | undefined;
}

/**
 * The journal's writer: numbering, group commit, rotation, and the space bound. The store calls
 * `admit` before it takes a chunk's lock, `add` inside it (numbering in call order), and waits for
 * `durable(jsn)` outside it: nothing holding a chunk lock waits for the journal, so a round that
 * waits for a checkpoint (which takes chunk locks) cannot deadlock.
 */
export class ChunkJournal {
  private readonly pending: Pending[] = [];
  private pendingBytes = 0;
  private readonly admitWaiters: { bytes: number; resolve: () => void; reject: (e: unknown) => void }[] = [];
  private readonly durableWaiters: { jsn: number; resolve: () => void; reject: (e: unknown) => void }[] = [];
  private writing = false;
  private failure: StorageError | undefined;
  private closing = false;
  private idleWaiters: (() => void)[] = [];
  private lastAssigned: number;
  private durable: number;
  /** First JSN and bytes of each journal file on disk, oldest first; the last is the current one. */
  private readonly files: { firstJsn: number; bytes: number }[];

  constructor(
    private readonly disk: Disk,
    private readonly dir: string,
    readonly config: ChunkJournalConfig,
    private file: DiskFile,
    firstJsn: number,
    /** Asked to checkpoint when the files are full or a file was closed: resolves once every record up to the given JSN is reflected in the chunk files. */
    private readonly checkpoint: (throughJsn: number) => Promise<void>,
  ) {
    assert(config.bytesMax >= config.segmentBytes + 2 * config.roundBytesMax, 'journal bytesMax >= segmentBytes + 2 × roundBytesMax');
    this.lastAssigned = firstJsn - 1;
    this.durable = firstJsn - 1;
    this.files = [{ firstJsn, bytes: 0 }];
  }

  /** Creates the journal's first file at `firstJsn` (durably: its name must survive a crash). */
  static async create(disk: Disk, dir: string, config: ChunkJournalConfig, firstJsn: number, checkpoint: (throughJsn: number) => Promise<void>): Promise<ChunkJournal> {
    const file = await disk.open(joinPath(dir, journalFileName(firstJsn)), { create: true });
    await file.truncate(0);
    await file.fsync();
    return new ChunkJournal(disk, dir, config, file, firstJsn, checkpoint);
  }

  /** Reads the journal files of `dir` in order; a bad frame before the end is `corrupt_log`. */
  static async read(disk: Disk, dir: string, maxFileBytes: number): Promise<{ files: string[]; records: { jsn: number; record: JournalRecord }[] }> {
    const names = await disk.list(dir);
    const firsts = names
      .map(parseJournalFileName)
      .filter((n): n is number => n !== undefined)
      .sort((a, b) => a - b);
    const records: { jsn: number; record: JournalRecord }[] = [];
    let expected: number | undefined;
    for (let i = 0; i < firsts.length; i++) {
      const first = firsts[i]!;
      const path = joinPath(dir, journalFileName(first));
      if (expected !== undefined && first < expected) {
        throw new StorageError('corrupt_log', `chunk journal ${path} starts at JSN ${first} but the previous file holds JSN ${expected - 1}: the journal files are out of order; re-clone this server's chunks`, { path });
      }
      const data = await readWholeFile(disk, path, maxFileBytes);
      const got = decodeJournal(data, first);
      const isLast = i === firsts.length - 1;
      if (got.validBytes < data.length && (!isLast || got.laterRound)) {
        throw new StorageError('corrupt_log', `chunk journal ${path} is damaged at byte ${got.validBytes} of ${data.length}, in a record that was acknowledged durable: mutations may be lost; re-clone this server's chunks`, { path });
      }
      records.push(...got.records);
      expected = got.records.length === 0 ? first : got.records[got.records.length - 1]!.jsn + 1;
    }
    return { files: firsts.map(journalFileName), records };
  }

  get durableJsn(): number {
    return this.durable;
  }

  get lastJsn(): number {
    return this.lastAssigned;
  }

  /** Bytes of the journal files on disk. */
  get fileBytes(): number {
    return this.files.reduce((n, f) => n + f.bytes, 0);
  }

  get fileCount(): number {
    return this.files.length;
  }

  /**
   * Reserves room for `bytes` of records (returned by `add`, or `release` when none is added). Waits
   * while `pendingBytesMax` is taken (always admits when nothing is pending); the wait ends when
   * rounds complete, which wait only on disk calls. Rejects with `backlog_full` beyond
   * `admitWaitersMax` waiters, and with `closed` after a failure.
   */
  admit(bytes: number): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.closedError());
    if (this.closing) return Promise.reject(new StorageError('closed', 'the chunk journal is closed'));
    if (this.admitWaiters.length === 0 && (this.pendingBytes === 0 || this.pendingBytes + bytes <= this.config.pendingBytesMax)) {
      this.pendingBytes += bytes;
      return Promise.resolve();
    }
    if (this.admitWaiters.length >= this.config.admitWaitersMax) {
      return Promise.reject(new StorageError('backlog_full', `${this.admitWaiters.length} chunk mutations already wait for journal space (admitWaitersMax); retry after earlier ones complete`));
    }
    return new Promise((resolve, reject) => this.admitWaiters.push({ bytes, resolve, reject }));
  }

  /** Gives back admitted bytes no record used. */
  release(bytes: number): void {
    this.pendingBytes -= bytes;
    assert(this.pendingBytes >= 0, 'journal pending bytes stay non-negative');
    this.wakeAdmitted();
  }

  /** Queues a record (its frame encoded now: the caller may reuse `data` afterwards); returns its JSN. `admitted`: the bytes `admit` reserved for it. */
  add(record: JournalRecord, admitted: number, onLost?: (err: StorageError) => void, before?: { readonly key: unknown; readonly run: () => Promise<void> }): number {
    if (this.failure !== undefined) throw this.closedError();
    const jsn = ++this.lastAssigned;
    const frame = encodeJournalFrame(jsn, record);
    this.pendingBytes += frame.length - admitted;
    this.pending.push({ jsn, frame, onLost, before });
    this.kick();
    return jsn;
  }

  /** Resolves once every record up to `jsn` is durable; rejects with `no_space` when record `jsn` was refused for lack of space. */
  waitDurable(jsn: number): Promise<void> {
    if (jsn <= this.durable) return Promise.resolve();
    if (this.failure !== undefined) return Promise.reject(this.closedError());
    return new Promise((resolve, reject) => this.durableWaiters.push({ jsn, resolve, reject }));
  }

  /** Removes the files all of whose records have JSNs up to `jsn` (never the current one). */
  async removeFilesThrough(jsn: number): Promise<void> {
    // Oldest first, so a crash part way leaves a contiguous suffix.
    while (this.files.length > 1 && this.files[1]!.firstJsn - 1 <= jsn) {
      const f = this.files[0]!;
      await this.disk.remove(joinPath(this.dir, journalFileName(f.firstJsn)));
      this.files.shift();
    }
  }

  /** Waits for queued records to be durable, then closes the current file. */
  async close(): Promise<void> {
    this.closing = true;
    for (const w of this.admitWaiters.splice(0)) w.reject(new StorageError('closed', 'the chunk journal is closed'));
    await this.idle();
    await this.file.close();
  }

  idle(): Promise<void> {
    if (!this.writing && this.pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private closedError(): StorageError {
    return new StorageError('closed', `the chunk journal is unusable after an earlier failure: ${this.failure?.message ?? ''}`, { cause: this.failure });
  }

  private wakeAdmitted(): void {
    while (this.admitWaiters.length > 0) {
      const w = this.admitWaiters[0]!;
      if (this.pendingBytes > 0 && this.pendingBytes + w.bytes > this.config.pendingBytesMax) break;
      this.admitWaiters.shift();
      this.pendingBytes += w.bytes;
      w.resolve();
    }
  }

  private kick(): void {
    if (this.writing) return;
    this.writing = true;
    void this.writeLoop();
  }

  private async writeLoop(): Promise<void> {
    try {
      while (this.failure === undefined) {
        // Let records added in this turn join the round (callers often add right after a round).
        for (let i = 0; i < gatherMicrotaskHops; i++) await Promise.resolve();
        if (this.pending.length === 0) break;
        let count = 0;
        let bytes = 0;
        while (count < this.pending.length) {
          const size = this.pending[count]!.frame.length;
          if (count > 0 && bytes + size > this.config.roundBytesMax) break;
          bytes += size;
          count++;
        }
        const batch = this.pending.splice(0, count);
        const written = await this.writeRound(batch, bytes);
        if (written === 'poisoned') break;
        if (written === 'no_space') continue;
        this.files[this.files.length - 1]!.bytes += bytes;
        this.pendingBytes -= bytes;
        this.durable = batch[batch.length - 1]!.jsn;
        this.wakeDurable();
        this.wakeAdmitted();
      }
    } finally {
      this.writing = false;
      for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  /**
   * Writes and fsyncs one round. A full disk (`no_space`) is not fatal: the round is cut off the
   * file again (a file's size shrinks without new space), the journal is checkpointed and trimmed
   * to free its own space, and the round is tried once more; if the disk is still full its records
   * fail with `no_space` (their owners learn it through `onLost`) and later rounds go on. Any other
   * failure poisons the journal (the bytes on disk are unknown; reopen to recover).
   */
  private async writeRound(batch: Pending[], bytes: number): Promise<'ok' | 'no_space' | 'poisoned'> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.makeRoom(bytes, attempt > 0);
        // Data the records point to (not carry) first: each distinct data file fdatasynced once, all at once.
        const before = new Map<unknown, () => Promise<void>>();
        for (const p of batch) if (p.before !== undefined) before.set(p.before.key, p.before.run);
        if (before.size > 0) await Promise.all([...before.values()].map((run) => run()));
        const roundStart = this.files[this.files.length - 1]!.bytes;
        for (const p of batch) stampRound(p.frame, roundStart);
        await Promise.all(batch.map((p) => this.file.append(p.frame)));
        await this.file.fsync();
        return 'ok';
      } catch (err) {
        if (!(err instanceof StorageError && err.code === 'no_space')) {
          this.poison(err, batch);
          return 'poisoned';
        }
        try {
          await this.file.truncate(this.files[this.files.length - 1]!.bytes);
        } catch (cutErr) {
          this.poison(cutErr, batch);
          return 'poisoned';
        }
        if (attempt === 0 && this.fileBytes > 0) continue;
        this.failRound(batch, bytes, err);
        return 'no_space';
      }
    }
  }

  private failRound(batch: Pending[], bytes: number, err: StorageError): void {
    this.pendingBytes -= bytes;
    const jsns = new Set(batch.map((p) => p.jsn));
    for (const p of batch) p.onLost?.(err);
    let keep = 0;
    for (const w of this.durableWaiters) {
      if (jsns.has(w.jsn)) w.reject(err);
      else this.durableWaiters[keep++] = w;
    }
    this.durableWaiters.length = keep;
    // The numbers of the failed records are skipped: waiting for them is answered above, and
    // records before them are durable.
    this.durable = Math.max(this.durable, batch[batch.length - 1]!.jsn);
    this.wakeDurable();
    this.wakeAdmitted();
  }

  /**
   * Before a round of `bytes`: switch to a new file when the current one is full, and when the files
   * would pass `bytesMax`, checkpoint and remove the old files first (backpressure: the round waits).
   * `trim`: the disk is full; switch files and checkpoint now, to free the journal's own space.
   */
  private async makeRoom(bytes: number, trim: boolean): Promise<void> {
    const current = this.files[this.files.length - 1]!;
    if (current.bytes > 0 && (trim || current.bytes + bytes > this.config.segmentBytes)) {
      const firstJsn = this.durable + 1;
      const next = await this.disk.open(joinPath(this.dir, journalFileName(firstJsn)), { create: true });
      await next.truncate(0);
      const old = this.file;
      this.file = next;
      this.files.push({ firstJsn, bytes: 0 });
      await old.close();
      // Checkpoint the closed files in the background; a round that needs their room waits below.
      const through = firstJsn - 1;
      this.background = this.checkpoint(through).then(() => this.removeFilesThrough(through));
      this.background.catch(() => undefined);
    }
    if (trim || this.fileBytes + bytes > this.config.bytesMax) {
      const background = this.background;
      this.background = undefined;
      if (background !== undefined) await background;
      if (this.fileBytes + bytes > this.config.bytesMax) {
        const through = this.durable;
        await this.checkpoint(through);
        await this.removeFilesThrough(through);
      }
      assert(this.fileBytes + bytes <= this.config.bytesMax || this.files.length === 1, 'a checkpoint frees the closed journal files');
    }
  }

  private background: Promise<void> | undefined;

  private wakeDurable(): void {
    let keep = 0;
    for (const w of this.durableWaiters) {
      if (w.jsn <= this.durable) w.resolve();
      else this.durableWaiters[keep++] = w;
    }
    this.durableWaiters.length = keep;
  }

  private poison(err: unknown, batch: Pending[] = []): void {
    const e = err instanceof StorageError ? err : new StorageError('io_error', `chunk journal write failed: ${String(err)}`, { cause: err });
    this.failure = e;
    this.pending.splice(0);
    for (const p of batch) p.onLost?.(e);
    for (const w of this.durableWaiters.splice(0)) w.reject(e);
    for (const w of this.admitWaiters.splice(0)) w.reject(e);
  }
}
