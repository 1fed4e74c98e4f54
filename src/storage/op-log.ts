import type { Defer } from '../runtime/env.js';
import type { Disk, DiskFile } from './disk.js';
import { appendParts, joinPath, partsBytes, readWholeFile } from './disk.js';
import { crc32c } from './crc32c.js';
import { opLogConfigDefault, withDefaults, type OpLogConfig } from './config.js';
import { StorageError, assert } from './errors.js';

/**
 * The operation log (patent ¶47–51): an append-only sequence of records, each numbered with a log
 * sequence number (LSN, 1, 2, 3, ...) and framed with its length and a CRC32C, spread over segment
 * files `<dir>/log-<first LSN>`.
 *
 * Group commit: `append` queues a record and resolves once it is durable. One writer loop takes
 * every record queued while the previous fsync ran, plus those appended in the same turn (up to
 * `groupCommitMaxRecords` / `groupCommitMaxBytes`), writes them with one append and makes them
 * durable with one fsync. Nothing waits on a timer: a lone record is written at once (after a few
 * microtasks, or the injected `defer`), and batches grow with the load.
 *
 * Recovery (`OpLog.open`) replays every record after a given LSN in order and stops cleanly at a
 * torn tail: the first frame of the last segment whose length, LSN or CRC is wrong ends the log,
 * and the segment is cut there before new records are appended. A bad frame anywhere else means
 * acknowledged history was damaged: `corrupt_log`.
 *
 * After a failed write or fsync the log is poisoned: the failed batch and every later append reject
 * (the bytes on disk are unknown; reopen to recover), as PostgreSQL learned to do after fsync errors.
 */

/** Frame header: payload length u32, LSN (high u32, low u32), CRC32C u32 over the first 12 header bytes and the payload. */
export const frameHeaderBytes = 16;
const segmentPrefix = 'log-';
/** Records smaller than this are copied into one buffer with their neighbours; larger ones are written from their own parts. */
const copyBelowBytes = 64 * 1024;
/** Microtask hops the writer waits before cutting a batch when no `defer` is given (see `gather`). */
const gatherMicrotaskHops = 8;

export interface OpLogRecord {
  readonly lsn: number;
  readonly payload: Uint8Array;
}

export interface OpLogOpenOptions {
  /** Folder of the log's segments (shared with its checkpoints). */
  readonly dir: string;
  readonly config?: Partial<OpLogConfig>;
  /** Records with an LSN up to and including this one are already reflected (in a checkpoint) and are not replayed. */
  readonly afterLsn?: number;
  /** Called for each replayed record, in LSN order, before `open` returns. */
  readonly onRecord?: (record: OpLogRecord) => void;
  /**
   * Runs a callback after the current turn (the runtime's macrotask `Defer`). The writer waits for
   * it before cutting each batch, so every append of a turn shares one fsync.
   */
  readonly defer?: Defer;
}

interface Pending {
  readonly lsn: number;
  /** The record's payload as the caller's parts, framed and written without joining them. */
  readonly parts: readonly Uint8Array[];
  readonly bytes: number;
  readonly resolve: (lsn: number) => void;
  readonly reject: (err: unknown) => void;
}

export function segmentName(firstLsn: number): string {
  return `${segmentPrefix}${firstLsn.toString().padStart(16, '0')}`;
}

export function parseSegmentName(name: string): number | undefined {
  if (!name.startsWith(segmentPrefix)) return undefined;
  const digits = name.slice(segmentPrefix.length);
  if (!/^\d{16}$/.test(digits)) return undefined;
  return Number(digits);
}

/** Encodes one record as a frame. */
export function encodeFrame(lsn: number, payload: Uint8Array, into?: Uint8Array, at = 0): Uint8Array {
  const out = into ?? new Uint8Array(frameHeaderBytes + payload.length);
  const view = new DataView(out.buffer, out.byteOffset + at, frameHeaderBytes);
  view.setUint32(0, payload.length, true);
  view.setUint32(4, Math.floor(lsn / 0x1_0000_0000), true);
  view.setUint32(8, lsn >>> 0, true);
  const crc = crc32c(payload, crc32c(out.subarray(at, at + 12)));
  view.setUint32(12, crc, true);
  out.set(payload, at + frameHeaderBytes);
  return out;
}

/**
 * The frame header for a payload given as `parts` (their concatenation), so a large payload is
 * written after it as it is, with no copy into a frame buffer.
 */
export function encodeFrameHeader(lsn: number, parts: readonly Uint8Array[], bytes = partsBytes(parts)): Uint8Array {
  const out = new Uint8Array(frameHeaderBytes);
  const view = new DataView(out.buffer);
  view.setUint32(0, bytes, true);
  view.setUint32(4, Math.floor(lsn / 0x1_0000_0000), true);
  view.setUint32(8, lsn >>> 0, true);
  let crc = crc32c(out.subarray(0, 12));
  for (const p of parts) crc = crc32c(p, crc);
  view.setUint32(12, crc, true);
  return out;
}

/**
 * Decodes the frames of one segment. Stops at the first frame that is short, too long, or fails
 * its CRC; `validBytes` is where the good frames end.
 */
export function decodeFrames(data: Uint8Array, recordMaxBytes: number): { records: OpLogRecord[]; validBytes: number } {
  const records: OpLogRecord[] = [];
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let at = 0;
  while (at + frameHeaderBytes <= data.length) {
    const length = view.getUint32(at, true);
    if (length > recordMaxBytes || at + frameHeaderBytes + length > data.length) break;
    const lsn = view.getUint32(at + 4, true) * 0x1_0000_0000 + view.getUint32(at + 8, true);
    const payload = data.subarray(at + frameHeaderBytes, at + frameHeaderBytes + length);
    const crc = crc32c(payload, crc32c(data.subarray(at, at + 12)));
    if (crc !== view.getUint32(at + 12, true)) break;
    records.push({ lsn, payload });
    at += frameHeaderBytes + length;
  }
  return { records, validBytes: at };
}

export class OpLog {
  private readonly pending: Pending[] = [];
  private writing = false;
  private failure: StorageError | undefined;
  private closing = false;
  private idleWaiters: (() => void)[] = [];
  /** LSN fixed by the last `rotate` call that the writer has not switched segments for yet. */
  private rotateAtLsn: number | undefined;
  private rotateWaiters: { resolve: () => void; reject: (err: unknown) => void }[] = [];
  /** First LSN of each segment still on disk, oldest first (the last is the current one). */
  private readonly segments: number[];

  private constructor(
    private readonly disk: Disk,
    readonly dir: string,
    readonly config: OpLogConfig,
    private segment: DiskFile,
    segments: number[],
    private lastAssignedLsn: number,
    private segmentBytes: number,
    private readonly defer: Defer | undefined,
  ) {
    this.segments = segments;
    this.durable = lastAssignedLsn;
  }

  private durable: number;

  /** LSN of the last record known durable. */
  get durableLsn(): number {
    return this.durable;
  }

  /** LSN given to the most recent `append`. */
  get lastLsn(): number {
    return this.lastAssignedLsn;
  }

  /** Records waiting for their group commit. */
  get pendingRecords(): number {
    return this.pending.length;
  }

  /** First LSN of each segment file, oldest first. */
  get segmentFirstLsns(): readonly number[] {
    return this.segments;
  }

  /** Opens (or creates) the log in `dir`, replaying records after `afterLsn` through `onRecord`. */
  static async open(disk: Disk, options: OpLogOpenOptions): Promise<OpLog> {
    const config = withDefaults(opLogConfigDefault, options.config);
    assert(config.groupCommitMaxRecords >= 1, 'groupCommitMaxRecords >= 1');
    const afterLsn = options.afterLsn ?? 0;
    const names = await disk.list(options.dir);
    const firsts = names
      .map(parseSegmentName)
      .filter((n): n is number => n !== undefined)
      .sort((a, b) => a - b);
    let expected: number | undefined;
    let lastLsn = afterLsn;
    let lastSegmentBytes = 0;
    for (let i = 0; i < firsts.length; i++) {
      const first = firsts[i]!;
      const path = joinPath(options.dir, segmentName(first));
      const data = await readWholeFile(disk, path, config.segmentMaxBytes + config.groupCommitMaxBytes + config.recordMaxBytes + frameHeaderBytes);
      const { records, validBytes } = decodeFrames(data, config.recordMaxBytes);
      const isLast = i === firsts.length - 1;
      if (validBytes < data.length && !isLast) {
        throw new StorageError('corrupt_log', `log segment ${path} is damaged at byte ${validBytes} of ${data.length}, before the end of the log: acknowledged records may be lost; restore this node from a replica`, { path });
      }
      if (expected !== undefined && first !== expected) {
        throw new StorageError('corrupt_log', `log segment ${path} starts at LSN ${first} but the previous segment ended at ${expected - 1}`, { path });
      }
      let next = first;
      for (const r of records) {
        if (r.lsn !== next) throw new StorageError('corrupt_log', `log segment ${path} holds LSN ${r.lsn} where ${next} was expected`, { path });
        next++;
        if (r.lsn <= afterLsn) continue;
        if (r.lsn !== lastLsn + 1) {
          throw new StorageError('corrupt_log', `the log resumes at LSN ${r.lsn} but the checkpoint covers only up to ${afterLsn}: log segments are missing`, { path });
        }
        options.onRecord?.(r);
        lastLsn = r.lsn;
      }
      expected = next;
      if (isLast) {
        lastSegmentBytes = validBytes;
        if (validBytes < data.length) {
          // Torn tail: cut it, durably, before anything is appended after it.
          const f = await disk.open(path);
          try {
            await f.truncate(validBytes);
            await f.fsync();
          } finally {
            await f.close();
          }
        }
      }
    }
    if (expected !== undefined && expected - 1 < afterLsn) {
      throw new StorageError('corrupt_log', `the checkpoint covers LSN ${afterLsn} but the log ends at ${expected - 1}: log records were lost`, { path: options.dir });
    }
    let segment: DiskFile;
    if (firsts.length === 0) {
      // No log yet: start a segment after the checkpoint.
      firsts.push(lastLsn + 1);
      segment = await disk.open(joinPath(options.dir, segmentName(lastLsn + 1)), { create: true });
      lastSegmentBytes = 0;
    } else {
      segment = await disk.open(joinPath(options.dir, segmentName(firsts[firsts.length - 1]!)));
    }
    assert(segment.sizeBytes() === lastSegmentBytes, 'the current segment ends at its last good frame');
    return new OpLog(disk, options.dir, config, segment, firsts, lastLsn, lastSegmentBytes, options.defer);
  }

  /**
   * Appends a record; resolves with its LSN once it is durable (its group's fsync returned).
   * LSNs are given in call order. Rejects with `backlog_full` when `pendingMaxRecords` records are
   * waiting, and with `closed` after the log was closed or poisoned by an I/O failure.
   *
   * The payload may be given as parts (a small header and large data buffers, say): the record is
   * their concatenation, framed and written without copying them (a vectored write where the disk
   * has one). The parts must not change until the promise settles.
   */
  append(payload: Uint8Array | readonly Uint8Array[]): Promise<number> {
    if (this.failure !== undefined) return Promise.reject(new StorageError('closed', `the operation log is unusable after an earlier failure: ${this.failure.message}`, { cause: this.failure }));
    if (this.closing) return Promise.reject(new StorageError('closed', 'the operation log is closed'));
    const parts = payload instanceof Uint8Array ? [payload] : payload;
    const bytes = partsBytes(parts);
    if (bytes > this.config.recordMaxBytes) throw new Error(`log record of ${bytes} bytes exceeds recordMaxBytes ${this.config.recordMaxBytes}`);
    if (this.pending.length >= this.config.pendingMaxRecords) {
      return Promise.reject(new StorageError('backlog_full', `${this.pending.length} log records already wait for commit (pendingMaxRecords); retry after earlier appends complete`));
    }
    const lsn = ++this.lastAssignedLsn;
    const p = new Promise<number>((resolve, reject) => this.pending.push({ lsn, parts, bytes, resolve, reject }));
    this.kick();
    return p;
  }

  /**
   * Switches to a new segment (patent ¶50). The boundary is fixed when `rotate` is called: every
   * record appended before the call is in the old segments, every later one in the new. Returns
   * the boundary LSN at once and a promise that settles when the old segments are durable and the
   * new one exists. Appends are not blocked meanwhile: they queue for the new segment.
   */
  rotate(): { readonly boundaryLsn: number; readonly done: Promise<void> } {
    if (this.failure !== undefined || this.closing) return { boundaryLsn: this.lastAssignedLsn, done: Promise.reject(new StorageError('closed', 'the operation log is closed')) };
    const boundaryLsn = this.lastAssignedLsn;
    this.rotateAtLsn = boundaryLsn;
    const done = new Promise<void>((resolve, reject) => this.rotateWaiters.push({ resolve, reject }));
    this.kick();
    return { boundaryLsn, done };
  }

  /** Removes segments whose records all have LSNs up to `lsn` (never the current segment). Returns how many were removed. */
  async removeSegmentsThrough(lsn: number): Promise<number> {
    let removed = 0;
    // Oldest first, so a crash part way leaves a contiguous suffix of segments.
    while (this.segments.length > 1 && this.segments[1]! - 1 <= lsn) {
      const first = this.segments[0]!;
      await this.disk.remove(joinPath(this.dir, segmentName(first)));
      this.segments.shift();
      removed++;
    }
    return removed;
  }

  /** Waits for queued records to commit, then closes the current segment. */
  async close(): Promise<void> {
    this.closing = true;
    await this.idle();
    await this.segment.close();
  }

  /** Resolves when no record is waiting and no write is in flight. */
  idle(): Promise<void> {
    if (!this.writing && this.pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private kick(): void {
    if (this.writing) return;
    this.writing = true;
    void this.writeLoop();
  }

  private async writeLoop(): Promise<void> {
    try {
      while (this.failure === undefined) {
        await this.gather();
        const rotateAt = this.rotateAtLsn;
        if (rotateAt !== undefined && (this.pending.length === 0 || this.pending[0]!.lsn > rotateAt)) {
          await this.switchSegment(rotateAt + 1);
          continue;
        }
        if (this.pending.length === 0) break;
        const limitLsn = rotateAt ?? Number.MAX_SAFE_INTEGER;
        let count = 0;
        let bytes = 0;
        while (count < this.pending.length && count < this.config.groupCommitMaxRecords) {
          const p = this.pending[count]!;
          if (p.lsn > limitLsn) break;
          const size = frameHeaderBytes + p.bytes;
          if (count > 0 && bytes + size > this.config.groupCommitMaxBytes) break;
          bytes += size;
          count++;
        }
        const batch = this.pending.splice(0, count);
        // Small records are framed into one buffer; large parts are written as they are, after their frame header.
        const out: Uint8Array[] = [];
        let small: Pending[] = [];
        const flushSmall = (): void => {
          if (small.length === 0) return;
          let n = 0;
          for (const p of small) n += frameHeaderBytes + p.bytes;
          const buf = new Uint8Array(n);
          let at = 0;
          for (const p of small) {
            buf.set(encodeFrameHeader(p.lsn, p.parts, p.bytes), at);
            at += frameHeaderBytes;
            for (const part of p.parts) {
              buf.set(part, at);
              at += part.length;
            }
          }
          out.push(buf);
          small = [];
        };
        for (const p of batch) {
          if (p.bytes < copyBelowBytes) {
            small.push(p);
            continue;
          }
          flushSmall();
          out.push(encodeFrameHeader(p.lsn, p.parts, p.bytes), ...p.parts);
        }
        flushSmall();
        try {
          await appendParts(this.segment, out);
          await this.segment.fsync();
        } catch (err) {
          this.poison(err, batch);
          break;
        }
        this.segmentBytes += bytes;
        this.durable = batch[batch.length - 1]!.lsn;
        for (const p of batch) p.resolve(p.lsn);
        if (this.segmentBytes >= this.config.segmentMaxBytes && this.rotateAtLsn === undefined) {
          this.rotateAtLsn = this.durable;
        }
      }
    } finally {
      this.writing = false;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  /**
   * Lets appends issued in the current turn join the next batch before it is cut: callers whose
   * records just committed usually append again right away, in continuations a few microtasks
   * later. With `defer` (a macrotask) every append of the turn joins; without it, a few microtask
   * hops catch most of them. Without this, batches alternate between 1 record and the rest.
   */
  private async gather(): Promise<void> {
    if (this.defer !== undefined) {
      const defer = this.defer;
      await new Promise<void>((resolve) => defer(resolve));
      return;
    }
    for (let i = 0; i < gatherMicrotaskHops; i++) await Promise.resolve();
  }

  private async switchSegment(firstLsn: number): Promise<void> {
    const waiters = this.rotateWaiters;
    this.rotateWaiters = [];
    this.rotateAtLsn = undefined;
    if (this.segmentBytes === 0 && this.segments[this.segments.length - 1] === firstLsn) {
      for (const w of waiters) w.resolve();
      return;
    }
    try {
      const next = await this.disk.open(joinPath(this.dir, segmentName(firstLsn)), { create: true });
      const old = this.segment;
      this.segment = next;
      this.segments.push(firstLsn);
      this.segmentBytes = 0;
      await old.close();
      for (const w of waiters) w.resolve();
    } catch (err) {
      for (const w of waiters) w.reject(err);
      this.poison(err, []);
    }
  }

  private poison(err: unknown, batch: Pending[]): void {
    const e = err instanceof StorageError ? err : new StorageError('io_error', `operation log write failed: ${String(err)}`, { cause: err });
    this.failure = e;
    const rest = this.pending.splice(0);
    for (const p of batch) p.reject(e);
    for (const p of rest) p.reject(new StorageError('closed', `the operation log is unusable after an earlier failure: ${e.message}`, { cause: e }));
    for (const w of this.rotateWaiters.splice(0)) w.reject(e);
  }
}
