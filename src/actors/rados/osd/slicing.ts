/**
 * Pipelined replication of large updates (README "Data path", D12): an update's write data is cut
 * into pieces that travel ahead of the update itself, so an OSD forwards data as it arrives instead
 * of after the whole message (a chain's middle OSDs pass each piece on at once; a primary sends its
 * replicas' pieces interleaved, so every copy advances together). The update's header — its log
 * entry and transaction with the write data left out — still travels exactly as before (after the
 * sender applied, under chain), so who applies, acks and commits when is unchanged (D5): a replica
 * applies only once it holds the header and every piece.
 *
 * Pure: cutting, reassembling, and a bounded table of pieces waiting for their header.
 */
import type { TransactionOp } from '../../../storage/object-store.js';
import type { PgUpdate } from '../protocol.js';

/** What a sliced header says about its data: total bytes, the number of pieces, each write op's length in transaction order. */
export interface SliceInfo {
  readonly bytes: number;
  readonly pieces: number;
  readonly lengths: readonly number[];
}

/** Bytes of write data in an update (what slicing moves). */
export function payloadBytes(update: PgUpdate): number {
  let n = 0;
  for (const op of update.txn) if (op.op === 'write') n += op.data.length;
  return n;
}

/** Whether an update is worth slicing at `sliceBytes` (0 turns slicing off): more than one piece of data. */
export function shouldSlice(update: PgUpdate, sliceBytes: number): boolean {
  return sliceBytes > 0 && payloadBytes(update) > sliceBytes;
}

/**
 * Cuts an update into a header (write data emptied) and pieces of at most `sliceBytes`. A single
 * write's pieces are views of its data (no copy); several writes are joined first.
 */
export function sliceUpdate(update: PgUpdate, sliceBytes: number): { header: PgUpdate; info: SliceInfo; pieces: Uint8Array[] } {
  if (!Number.isSafeInteger(sliceBytes) || sliceBytes <= 0) throw new RangeError(`sliceUpdate: slice size ${sliceBytes}`);
  const datas: Uint8Array[] = [];
  const txn: TransactionOp[] = update.txn.map((op) => {
    if (op.op !== 'write') return op;
    datas.push(op.data);
    return { ...op, data: new Uint8Array(0) };
  });
  const lengths = datas.map((d) => d.length);
  const bytes = lengths.reduce((a, b) => a + b, 0);
  const all = datas.length === 1 ? (datas[0] as Uint8Array) : joinBytes(datas, bytes);
  const pieces: Uint8Array[] = [];
  for (let at = 0; at < bytes; at += sliceBytes) pieces.push(all.subarray(at, Math.min(bytes, at + sliceBytes)));
  if (pieces.length === 0) pieces.push(new Uint8Array(0));
  return { header: { ...update, txn }, info: { bytes, pieces: pieces.length, lengths }, pieces };
}

/** The update again from its header and every piece in order; undefined if they do not fit the header. */
export function reassembleUpdate(header: PgUpdate, info: SliceInfo, pieces: readonly Uint8Array[]): PgUpdate | undefined {
  if (pieces.length !== info.pieces) return undefined;
  const total = pieces.reduce((n, p) => n + p.length, 0);
  if (total !== info.bytes || info.lengths.reduce((a, b) => a + b, 0) !== total) return undefined;
  const writes = header.txn.filter((op) => op.op === 'write');
  if (writes.length !== info.lengths.length || writes.some((op) => op.data.length !== 0)) return undefined;
  const all = pieces.length === 1 ? (pieces[0] as Uint8Array) : joinBytes(pieces, total);
  let at = 0;
  let w = 0;
  const txn = header.txn.map((op) => {
    if (op.op !== 'write') return op;
    const len = info.lengths[w++] as number;
    const data = all.subarray(at, at + len);
    at += len;
    return { ...op, data };
  });
  return { ...header, txn };
}

function joinBytes(parts: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

interface Assembly {
  readonly count: number;
  readonly pieces: (Uint8Array | undefined)[];
  received: number;
  bytes: number;
  /** OSDs this OSD already passed the pieces on to (a chain's next OSD). */
  readonly forwardedTo: Set<number>;
}

/**
 * Pieces of updates waiting for their header, keyed by PG, version and acting set. Bounded in
 * bytes and entries: the oldest entries go first, and their headers are then refused (the first
 * OSD re-activates the PG, which sends whole updates).
 */
export class PieceTable {
  private readonly entries = new Map<string, Assembly>();
  private bytes = 0;

  constructor(
    private readonly bytesMax: number,
    private readonly entriesMax: number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get bufferedBytes(): number {
    return this.bytes;
  }

  /** Adds piece `index` of `count`; false if it does not fit the entry (a different count, a bad index) or the bounds. */
  add(key: string, index: number, count: number, data: Uint8Array): boolean {
    if (!Number.isSafeInteger(count) || count <= 0 || !Number.isSafeInteger(index) || index < 0 || index >= count) return false;
    if (data.length > this.bytesMax) return false;
    let e = this.entries.get(key);
    if (e !== undefined && e.count !== count) return false;
    while (this.bytes + data.length > this.bytesMax || (e === undefined && this.entries.size >= this.entriesMax)) {
      const oldest = this.entries.keys().next();
      if (oldest.done === true) break;
      this.delete(oldest.value);
      if (oldest.value === key) e = undefined;
    }
    if (e === undefined) {
      e = { count, pieces: new Array<Uint8Array | undefined>(count).fill(undefined), received: 0, bytes: 0, forwardedTo: new Set() };
      this.entries.set(key, e);
    }
    if (e.pieces[index] !== undefined) return true;
    e.pieces[index] = data;
    e.received++;
    e.bytes += data.length;
    this.bytes += data.length;
    return true;
  }

  /** Notes that this entry's pieces are being passed on to `osd`. */
  markForwarded(key: string, osd: number): void {
    this.entries.get(key)?.forwardedTo.add(osd);
  }

  /** Removes the entry and returns its pieces if every one arrived (else undefined), with the OSDs they were passed on to. */
  take(key: string): { pieces: Uint8Array[]; forwardedTo: ReadonlySet<number> } | undefined {
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    this.delete(key);
    if (e.received !== e.count) return undefined;
    return { pieces: e.pieces as Uint8Array[], forwardedTo: e.forwardedTo };
  }

  /** Drops every entry whose key starts with `prefix` (a PG's, when its interval changes). */
  dropPrefix(prefix: string): void {
    for (const k of [...this.entries.keys()]) if (k.startsWith(prefix)) this.delete(k);
  }

  private delete(key: string): void {
    const e = this.entries.get(key);
    if (e === undefined) return;
    this.bytes -= e.bytes;
    this.entries.delete(key);
  }

  invariants(): void {
    let n = 0;
    for (const e of this.entries.values()) n += e.bytes;
    if (n !== this.bytes) throw new Error(`piece table: ${this.bytes} bytes counted, ${n} held`);
    if (this.bytes > this.bytesMax) throw new Error('piece table over its byte bound');
    if (this.entries.size > this.entriesMax) throw new Error('piece table over its entry bound');
  }
}
