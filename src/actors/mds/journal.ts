/**
 * The per-MDS journal (thesis §4.2.3, §4.4.1; digest §4.8): a byte stream of atomic events,
 * striped over fixed-size RADOS objects with sequential ids, grouped into segments that each
 * begin with a subtree map. Updates are journaled first; the directories they dirty are committed
 * only when their segment is trimmed from the tail, and trimming deletes whole objects. Pure: the
 * MDS (server.ts) does the I/O.
 *
 * Entry = frame(magic 'MDSJ', { pos, gen, ev }): `pos` is the entry's stream offset and `gen` the
 * journal generation of the MDS incarnation that wrote it. Replay reads from the header's trim
 * position and stops at the first entry that is short, fails its checksum, sits at the wrong
 * position, or has a generation older than the one before it — a torn tail, or bytes left from an
 * earlier incarnation past the point where a later one resumed writing (README invariant J3).
 */
import { decodeFrame, encodeFrame } from './frame.js';
import type { Dentry, Inode } from './dir-object.js';
import { stripeExtents, stripeObjectName, type StripeLayout } from '../rados/client/striping.js';

/** 'MDSJ' */
export const ENTRY_MAGIC = 0x4a53444d;
/** 'MDSH' */
export const HEADER_MAGIC = 0x4853444d;

/** Journal inode numbers, as in Ceph: 0x200 + rank. */
export function journalIno(rank: number): number {
  return 0x200 + rank;
}

export function journalObjectName(rank: number, objno: number): string {
  return stripeObjectName(journalIno(rank), objno);
}

export function journalHeaderName(rank: number): string {
  return `${journalIno(rank).toString(16)}.header`;
}

/** A multiply-linked inode's back-pointers (thesis §4.2.2): its primary entry and its remote entries. */
export interface Anchor {
  readonly primary: DentryLoc;
  readonly remotes: readonly DentryLoc[];
}

export interface DentryLoc {
  readonly dir: number;
  readonly name: string;
}

export interface RequestId {
  readonly client: string;
  readonly tid: number;
}

/** A subtree: its root directory and the roots of nested subtrees (digest §4.2). One MDS owns `/` with no bounds. */
export interface Subtree {
  readonly root: number;
  readonly bounds: readonly number[];
}

/** The MDS's tables as of a segment's start, so replay from that segment needs nothing older. */
export interface TablesSnapshot {
  readonly inoNext: number;
  readonly root: Inode;
  readonly anchors: readonly (readonly [number, Anchor])[];
  /** Completed requests per client, oldest first, with the reply they got. */
  readonly completed: readonly (readonly [string, readonly (readonly [number, unknown])[]])[];
  /** Truncations journaled but not finished (redone at replay). */
  readonly truncating: readonly Truncation[];
}

/** Bytes [toBytes, fromBytes) of file `ino` are to be removed from its objects. */
export interface Truncation {
  readonly ino: number;
  readonly layout: StripeLayout;
  readonly fromBytes: number;
  readonly toBytes: number;
}

/** Objects to delete once the change is journaled: a last link's file data, a removed directory's object. */
export interface Purge {
  readonly ino: number;
  readonly kind: 'file' | 'dir';
  readonly layout?: StripeLayout;
  readonly sizeBytes?: number;
}

/** The changed metadata of one update (digest §4.8 "metablob"): entries as they are after it. */
export interface MetaBlob {
  readonly dirs: readonly { readonly ino: number; readonly dentries: readonly Dentry[] }[];
  /** Directories created by the update (complete and empty). */
  readonly newDirs?: readonly number[];
  /** Directories removed by the update (dropped from the cache with their dirty state). */
  readonly removedDirs?: readonly number[];
  readonly inoNext?: number;
  readonly root?: Inode;
  readonly anchors?: readonly (readonly [number, Anchor | null])[];
  readonly truncate?: Truncation;
  readonly purges?: readonly Purge[];
}

export type UpdateOp = 'create' | 'mkdir' | 'unlink' | 'rmdir' | 'rename' | 'link' | 'symlink' | 'setattr' | 'close' | 'open';

export type JournalEvent =
  | { readonly e: 'subtreeMap'; readonly subtrees: readonly Subtree[]; readonly tables: TablesSnapshot }
  | { readonly e: 'update'; readonly op: UpdateOp; readonly req?: RequestId; readonly reply?: unknown; readonly blob: MetaBlob }
  | { readonly e: 'truncateFinish'; readonly ino: number };

export interface JournalEntry {
  readonly pos: number;
  readonly gen: number;
  readonly ev: JournalEvent;
}

export function encodeEntry(pos: number, gen: number, ev: JournalEvent): Uint8Array {
  return encodeFrame(ENTRY_MAGIC, { pos, gen, ev });
}

/** Where the live journal starts, and the generation of the MDS incarnation writing it. */
export interface JournalHeader {
  readonly trimPos: number;
  readonly generation: number;
  readonly objectBytes: number;
}

export function encodeHeader(h: JournalHeader): Uint8Array {
  return encodeFrame(HEADER_MAGIC, h);
}

export function decodeHeader(bytes: Uint8Array): { ok: true; value: JournalHeader } | { ok: false; reason: string } {
  const f = decodeFrame(bytes, 0, HEADER_MAGIC, 4096);
  if (f.kind !== 'ok') return { ok: false, reason: f.kind === 'short' ? 'truncated journal header' : f.reason };
  const h = f.value as Partial<JournalHeader>;
  if (!Number.isSafeInteger(h.trimPos) || !Number.isSafeInteger(h.generation) || !Number.isSafeInteger(h.objectBytes) || (h.objectBytes ?? 0) <= 0) return { ok: false, reason: 'malformed journal header' };
  return { ok: true, value: h as JournalHeader };
}

/** The object writes that put `bytes` at stream position `pos` (one stripe unit per object, stripe count 1). */
export function entryWrites(rank: number, objectBytes: number, pos: number, bytes: Uint8Array): { oid: string; objectOffset: number; data: Uint8Array }[] {
  const layout: StripeLayout = { su: objectBytes, sc: 1, os: objectBytes };
  return stripeExtents(layout, pos, bytes.length).map((x) => ({
    oid: journalObjectName(rank, x.ono),
    objectOffset: x.objectOffset,
    data: bytes.subarray(x.logicalOffset - pos, x.logicalOffset - pos + x.length),
  }));
}

export function objectOf(pos: number, objectBytes: number): number {
  return Math.floor(pos / objectBytes);
}

/**
 * Reads journal entries from a stream fed object by object (replay). `end` is the position after
 * the last good entry — where the next incarnation writes.
 */
export class JournalScanner {
  private buf = new Uint8Array(0);
  /** Stream position of `buf[0]`. */
  private bufPos: number;
  private lastGen = 0;
  private stopped: string | undefined;

  constructor(
    startPos: number,
    private readonly maxGen: number,
    private readonly entryBytesMax: number,
  ) {
    this.bufPos = startPos;
  }

  /** Position after the last good entry. */
  get end(): number {
    return this.bufPos;
  }

  /** Why scanning stopped (undefined while more input may continue it). */
  get stopReason(): string | undefined {
    return this.stopped;
  }

  /** Appends the next bytes of the stream and returns the entries now complete. */
  push(bytes: Uint8Array): JournalEntry[] {
    if (this.stopped !== undefined) return [];
    const merged = new Uint8Array(this.buf.length + bytes.length);
    merged.set(this.buf, 0);
    merged.set(bytes, this.buf.length);
    this.buf = merged;
    const out: JournalEntry[] = [];
    let off = 0;
    for (;;) {
      if (off === this.buf.length) break;
      const f = decodeFrame(this.buf, off, ENTRY_MAGIC, this.entryBytesMax);
      if (f.kind === 'short') break;
      if (f.kind === 'bad') {
        this.stopped = `at ${this.bufPos + off}: ${f.reason}`;
        break;
      }
      const e = f.value as Partial<JournalEntry>;
      const at = this.bufPos + off;
      if (e.pos !== at) {
        this.stopped = `at ${at}: entry says position ${String(e.pos)}`;
        break;
      }
      if (typeof e.gen !== 'number' || e.gen < this.lastGen || e.gen > this.maxGen) {
        this.stopped = `at ${at}: generation ${String(e.gen)} after ${this.lastGen} (header ${this.maxGen})`;
        break;
      }
      if (typeof e.ev !== 'object' || e.ev === null) {
        this.stopped = `at ${at}: malformed event`;
        break;
      }
      this.lastGen = e.gen;
      out.push(e as JournalEntry);
      off += f.bytes;
    }
    this.buf = this.buf.slice(off);
    this.bufPos += off;
    return out;
  }

  /** The stream ended (a missing or short object): whatever is buffered is a torn tail. */
  finish(): void {
    if (this.stopped === undefined) this.stopped = this.buf.length === 0 ? 'end of journal' : `torn entry of ${this.buf.length} bytes at ${this.bufPos}`;
  }
}
