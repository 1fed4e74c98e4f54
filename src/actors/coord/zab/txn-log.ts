/**
 * The transaction log on the storage layer (`Disk`): segment files `<dir>/log.<first zxid, 16 hex>`,
 * each a sequence of frames (length, zxid, CRC32C over header and payload — the storage layer's op-log
 * frame, keyed by zxid instead of a dense sequence number).
 *
 * - Group commit: `write(entries)` appends every entry it is given with one write and one fsync; the
 *   store (store.ts) hands it every append queued while the previous fsync ran (ZooKeeper's
 *   SyncRequestProcessor batches the same way).
 * - Torn tail (Z10): `open` reads every segment; the last one is cut at its first bad frame (a record
 *   the crash tore). A bad frame in an earlier segment is damaged history: `corrupt_log`.
 * - TRUNC: `truncateAfter(zxid)` removes later segments and cuts the one holding `zxid` after it.
 * - Rolling: `roll()` makes the next append start a new segment; `purgeThrough(zxid)` removes the
 *   segments that hold nothing after `zxid` (covered by a snapshot), never the current one.
 */
import type { Disk, DiskFile } from '../../../storage/disk.js';
import { joinPath } from '../../../storage/disk.js';
import { decodeFrames, encodeFrame, frameHeaderBytes } from '../../../storage/op-log.js';
import { ZabInvariantError } from './errors.js';
import type { Zxid } from './zxid.js';

const segmentPrefix = 'log.';

export function segmentFileName(firstZxid: Zxid): string {
  return `${segmentPrefix}${firstZxid.toString(16).padStart(16, '0')}`;
}

function parseSegmentFileName(name: string): Zxid | undefined {
  if (!name.startsWith(segmentPrefix)) return undefined;
  const hex = name.slice(segmentPrefix.length);
  return /^[0-9a-f]{16}$/.test(hex) ? Number.parseInt(hex, 16) : undefined;
}

export interface LogRecord {
  readonly zxid: Zxid;
  readonly payload: Uint8Array;
}

interface Segment {
  readonly first: Zxid;
  readonly path: string;
  /** Zxid and end offset of each record, in order. */
  readonly records: Array<{ readonly zxid: Zxid; readonly end: number }>;
}

export class TxnLog {
  private current: { readonly segment: Segment; readonly file: DiskFile } | undefined;
  /** The next append starts a new segment. */
  private rollPending = true;

  private constructor(
    private readonly disk: Disk,
    readonly dir: string,
    private readonly segments: Segment[],
    private readonly recordMaxBytes: number,
  ) {}

  /** Opens the log and returns every intact record, oldest first; cuts a torn tail off the last segment. */
  static async open(disk: Disk, dir: string, recordMaxBytes: number): Promise<{ log: TxnLog; records: LogRecord[]; tornBytes: number }> {
    const names = (await disk.list(dir)).map((n) => ({ n, first: parseSegmentFileName(n) })).filter((x): x is { n: string; first: Zxid } => x.first !== undefined);
    names.sort((a, b) => a.first - b.first);
    const segments: Segment[] = [];
    const records: LogRecord[] = [];
    let tornBytes = 0;
    let prev = -1;
    for (let i = 0; i < names.length; i++) {
      const { n, first } = names[i] as { n: string; first: Zxid };
      const path = joinPath(dir, n);
      const f = await disk.open(path);
      try {
        const size = f.sizeBytes();
        const data = await f.read(0, size);
        const decoded = decodeFrames(data, recordMaxBytes);
        const seg: Segment = { first, path, records: [] };
        let end = 0;
        for (const r of decoded.records) {
          if (r.lsn <= prev) throw new ZabInvariantError('Z10', `${path}: zxid ${r.lsn} after ${prev}`);
          end += frameHeaderBytes + r.payload.length;
          seg.records.push({ zxid: r.lsn, end });
          records.push({ zxid: r.lsn, payload: r.payload.slice() });
          prev = r.lsn;
        }
        if (decoded.validBytes < size) {
          if (i < names.length - 1) throw new ZabInvariantError('Z10', `${path}: bad frame at byte ${decoded.validBytes} of ${size} in a segment that is not the last (damaged history)`);
          // The torn tail of the last write before a crash: cut it so new records follow intact ones.
          tornBytes = size - decoded.validBytes;
          await f.truncate(decoded.validBytes);
          await f.fsync();
        }
        if (seg.records.length > 0) segments.push(seg);
      } finally {
        await f.close();
      }
      // A segment created just before a crash, with no intact record: remove it, so a new segment may take its name.
      if (segments[segments.length - 1]?.path !== path) await disk.remove(path);
    }
    return { log: new TxnLog(disk, dir, segments, recordMaxBytes), records, tornBytes };
  }

  get lastZxid(): Zxid {
    for (let i = this.segments.length - 1; i >= 0; i--) {
      const s = this.segments[i] as Segment;
      if (s.records.length > 0) return (s.records[s.records.length - 1] as { zxid: Zxid }).zxid;
    }
    return 0;
  }

  get segmentCount(): number {
    return this.segments.length;
  }

  /** Appends the records with one write and makes them durable with one fsync. */
  async write(records: readonly LogRecord[]): Promise<void> {
    if (records.length === 0) return;
    let bytes = 0;
    for (const r of records) {
      if (r.payload.length > this.recordMaxBytes) throw new ZabInvariantError('Z13', `transaction of ${r.payload.length} bytes over the ${this.recordMaxBytes} allowed`);
      bytes += frameHeaderBytes + r.payload.length;
    }
    const first = (records[0] as LogRecord).zxid;
    if (!(first > this.lastZxid)) throw new ZabInvariantError('Z8', `log append of ${first} not above the log end ${this.lastZxid}`);
    const cur = await this.target(first);
    const buf = new Uint8Array(bytes);
    let at = 0;
    const base = cur.file.sizeBytes();
    for (const r of records) {
      encodeFrame(r.zxid, r.payload, buf, at);
      at += frameHeaderBytes + r.payload.length;
      cur.segment.records.push({ zxid: r.zxid, end: base + at });
    }
    await cur.file.append(buf);
    await cur.file.fsync();
  }

  /** Removes every record after `zxid` (TRUNC), durably. */
  async truncateAfter(zxid: Zxid): Promise<void> {
    while (this.segments.length > 0) {
      const s = this.segments[this.segments.length - 1] as Segment;
      if (s.records.length > 0 && (s.records[0] as { zxid: Zxid }).zxid > zxid) {
        await this.dropSegment(s);
        continue;
      }
      const keep = s.records.filter((r) => r.zxid <= zxid).length;
      if (keep < s.records.length) {
        const end = keep === 0 ? 0 : (s.records[keep - 1] as { end: number }).end;
        s.records.length = keep;
        const f = this.current?.segment === s ? this.current.file : await this.disk.open(s.path);
        await f.truncate(end);
        await f.fsync();
        if (this.current?.segment !== s) await f.close();
      }
      break;
    }
  }

  /** Drops every segment (a SNAP replaced the state); the next append starts a new one. */
  async reset(): Promise<void> {
    while (this.segments.length > 0) await this.dropSegment(this.segments[this.segments.length - 1] as Segment);
    this.rollPending = true;
  }

  /** The next append starts a new segment (after a snapshot: older segments can then be purged). */
  roll(): void {
    this.rollPending = true;
  }

  /** Removes segments whose records are all at or below `zxid`, except the newest segment. */
  async purgeThrough(zxid: Zxid): Promise<number> {
    let removed = 0;
    while (this.segments.length > 1) {
      const s = this.segments[0] as Segment;
      const last = s.records.length === 0 ? undefined : (s.records[s.records.length - 1] as { zxid: Zxid }).zxid;
      if (last !== undefined && last > zxid) break;
      await this.dropSegment(s);
      removed++;
    }
    return removed;
  }

  async close(): Promise<void> {
    const c = this.current;
    this.current = undefined;
    await c?.file.close();
  }

  private async target(first: Zxid): Promise<{ segment: Segment; file: DiskFile }> {
    if (!this.rollPending && this.current !== undefined) return this.current;
    await this.close();
    const segment: Segment = { first, path: joinPath(this.dir, segmentFileName(first)), records: [] };
    const file = await this.disk.open(segment.path, { create: true });
    await file.truncate(0);
    this.segments.push(segment);
    this.current = { segment, file };
    this.rollPending = false;
    return this.current;
  }

  private async dropSegment(s: Segment): Promise<void> {
    if (this.current?.segment === s) {
      await this.close();
      this.rollPending = true;
    }
    const i = this.segments.indexOf(s);
    if (i >= 0) this.segments.splice(i, 1);
    await this.disk.remove(s.path).catch((e: unknown) => {
      if (!(e instanceof Error && /not_found/.test(`${(e as { code?: string }).code ?? ''} ${e.message}`))) throw e;
    });
  }
}
