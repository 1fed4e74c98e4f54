import { crc32c } from '../../../storage/crc32c.js';

/**
 * The record layer for record-append files (patent ¶107; the GFS paper's "defined interspersed
 * with inconsistent" regions). Record append is at-least-once: a failed append is retried, so a
 * record can land twice, and replicas that failed mid-way leave padding or partial bytes. Readers
 * must therefore recognise records, skip what is not one, and drop duplicates.
 *
 * A frame:
 *
 * ```
 * magic "GFSR" (4) | payload length u32 (4) | writer id u64 (8) | sequence u64 (8) | CRC32C u32 (4) | payload
 * ```
 *
 * The CRC covers the length, writer id, sequence and payload, so a torn or misaligned frame does
 * not check. `(writer id, sequence)` identifies a record: a retried append carries the same id,
 * and a reader yields each id once (invariant R1). Frames never span chunks: record append
 * places a whole record in one chunk (¶103–104), so a reader parses each chunk on its own.
 */
export const RECORD_MAGIC = 0x47465352; // "GFSR"
export const RECORD_HEADER_BYTES = 28;

export interface RecordId {
  /** 64-bit writer id (random per writer). */
  readonly writer: bigint;
  readonly seq: bigint;
}

export interface FramedRecord extends RecordId {
  readonly data: Uint8Array;
}

export function encodeRecord(id: RecordId, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(RECORD_HEADER_BYTES + data.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, RECORD_MAGIC);
  v.setUint32(4, data.length);
  v.setBigUint64(8, id.writer);
  v.setBigUint64(16, id.seq);
  out.set(data, RECORD_HEADER_BYTES);
  v.setUint32(24, frameCrc(out, data.length));
  return out;
}

function frameCrc(frame: Uint8Array, length: number): number {
  const head = crc32c(frame.subarray(4, 24));
  return crc32c(frame.subarray(RECORD_HEADER_BYTES, RECORD_HEADER_BYTES + length), head) >>> 0;
}

export interface ParsedRecord extends FramedRecord {
  /** Offset of the frame within the parsed buffer. */
  readonly offset: number;
}

export interface ParseStats {
  /** Bytes that were neither a valid frame nor zero padding (partial or garbled records). */
  skippedBytes: number;
  paddingBytes: number;
}

/**
 * Every valid frame in `buf` (one chunk's bytes, or a prefix of them), in order. Zero padding is
 * skipped quickly; anything else that does not check is skipped by searching for the next magic.
 * `maxRecordBytes` bounds the accepted payload length (a corrupt length cannot make it read past
 * the chunk). A frame cut off by the end of `buf` is not returned; `consumed` says where parsing
 * stopped, so a tailing reader can resume there.
 */
export function parseRecords(buf: Uint8Array, maxRecordBytes: number, stats?: ParseStats): { records: ParsedRecord[]; consumed: number } {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const records: ParsedRecord[] = [];
  let at = 0;
  while (at < buf.length) {
    if (buf[at] === 0) {
      const start = at;
      while (at < buf.length && buf[at] === 0) at++;
      if (stats !== undefined) stats.paddingBytes += at - start;
      continue;
    }
    if (at + RECORD_HEADER_BYTES > buf.length) {
      // Maybe the start of a frame whose header has not been written yet.
      if (v.getUint8(at) === 0x47) return { records, consumed: at };
      at = skipTo(buf, at + 1, stats);
      continue;
    }
    const length = v.getUint32(at + 4);
    if (v.getUint32(at) !== RECORD_MAGIC || length > maxRecordBytes) {
      at = skipTo(buf, at + 1, stats, at);
      continue;
    }
    if (at + RECORD_HEADER_BYTES + length > buf.length) return { records, consumed: at };
    const frame = buf.subarray(at, at + RECORD_HEADER_BYTES + length);
    if (new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getUint32(24) !== frameCrc(frame, length)) {
      at = skipTo(buf, at + 1, stats, at);
      continue;
    }
    records.push({ writer: v.getBigUint64(at + 8), seq: v.getBigUint64(at + 16), data: buf.slice(at + RECORD_HEADER_BYTES, at + RECORD_HEADER_BYTES + length), offset: at });
    at += RECORD_HEADER_BYTES + length;
  }
  return { records, consumed: at };
}

/** The next position of a magic (or a zero byte, where padding starts) at or after `from`. */
function skipTo(buf: Uint8Array, from: number, stats: ParseStats | undefined, badStart = from - 1): number {
  let i = from;
  while (i < buf.length && buf[i] !== 0 && !(buf[i] === 0x47 && buf[i + 1] === 0x46 && buf[i + 2] === 0x53 && buf[i + 3] === 0x52)) i++;
  if (stats !== undefined) stats.skippedBytes += i - badStart;
  return i;
}

/**
 * Remembers which record ids were seen, to yield each once (R1). Per writer it keeps the highest
 * sequence below which every sequence was seen, plus the sequences seen above it — writers number
 * their records 1, 2, 3…, so memory stays small; `maxTracked` bounds the out-of-order sets.
 */
export class DuplicateFilter {
  private readonly writers = new Map<bigint, { floor: bigint; above: Set<bigint> }>();
  private tracked = 0;

  constructor(private readonly maxTracked = 1_000_000) {}

  /** True the first time an id is seen. */
  firstTime(id: RecordId): boolean {
    let w = this.writers.get(id.writer);
    if (w === undefined) {
      w = { floor: 0n, above: new Set() };
      this.writers.set(id.writer, w);
    }
    if (id.seq <= w.floor || w.above.has(id.seq)) return false;
    if (id.seq === w.floor + 1n) {
      w.floor++;
      while (w.above.delete(w.floor + 1n)) {
        w.floor++;
        this.tracked--;
      }
    } else {
      if (this.tracked >= this.maxTracked) throw new Error(`duplicate filter is tracking ${this.maxTracked} out-of-order record ids`);
      w.above.add(id.seq);
      this.tracked++;
    }
    return true;
  }
}
