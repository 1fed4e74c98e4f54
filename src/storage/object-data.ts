/**
 * An object's bytes in the object store, as fixed-size pages (storage README, "Object store").
 *
 * Page `k` covers bytes `[k·P, (k+1)·P)` of the object (P = `pageBytes`). A page holds a buffer no
 * longer than P and no longer than the object reaches into it; bytes past a page's buffer, and
 * missing pages (holes), read as zeros. A value is immutable: a write builds a new page table that
 * shares every page it does not touch and gets fresh pages for the ones it does (copy-on-write at
 * page granularity). So a write of n bytes copies its n bytes (plus at most the parts of two pages
 * it covers only partly) and the page table's references (8 bytes per page), never the object; a
 * read assembles its range from the pages.
 *
 * A page also remembers where a checkpoint put it on disk (`loc`), so the next checkpoint writes
 * only pages that changed since (object-store.ts).
 */

/** Where a checkpoint wrote a page: its data segment, offset in it, and the CRC32C of its bytes. */
export interface PageLoc {
  readonly seg: number;
  readonly off: number;
  readonly crc: number;
}

export class Page {
  /** Set once a checkpoint holding this page is durable; pages never change, so it stays true. */
  loc: PageLoc | undefined;

  constructor(readonly bytes: Uint8Array, loc?: PageLoc) {
    this.loc = loc;
  }
}

export interface ObjectData {
  readonly sizeBytes: number;
  /** Index k → page k; `undefined` (or past the end) is a hole. Never longer than ceil(size / P). */
  readonly pages: readonly (Page | undefined)[];
}

export const emptyData: ObjectData = { sizeBytes: 0, pages: [] };

/**
 * `data` with `src` written at `offset` (a gap before it reads as zeros). Returns the new value
 * and the written bytes as views of its new pages (for the log record: no further copy).
 */
export function writeData(data: ObjectData, offset: number, src: Uint8Array, pageBytes: number): { readonly data: ObjectData; readonly parts: Uint8Array[] } {
  const end = offset + src.length;
  const sizeBytes = Math.max(data.sizeBytes, end);
  if (src.length === 0) return { data: { sizeBytes, pages: data.pages }, parts: [] };
  const pages = data.pages.slice();
  const parts: Uint8Array[] = [];
  for (let k = Math.floor(offset / pageBytes); k * pageBytes < end; k++) {
    const start = k * pageBytes;
    const a = Math.max(offset, start) - start;
    const b = Math.min(end, start + pageBytes) - start;
    const old = pages[k]?.bytes;
    const oldLength = old?.length ?? 0;
    let buf: Uint8Array;
    if (a === 0 && b >= oldLength) {
      buf = src.slice(start - offset, start - offset + b);
    } else {
      buf = new Uint8Array(Math.max(oldLength, b));
      if (old !== undefined) buf.set(old);
      buf.set(src.subarray(start + a - offset, start + b - offset), a);
    }
    pages[k] = new Page(buf);
    parts.push(buf.subarray(a, b));
  }
  return { data: { sizeBytes, pages }, parts };
}

/** `data` cut or extended (with zeros) to `sizeBytes`. */
export function truncateData(data: ObjectData, sizeBytes: number, pageBytes: number): ObjectData {
  if (sizeBytes >= data.sizeBytes) return { sizeBytes, pages: data.pages };
  const count = Math.ceil(sizeBytes / pageBytes);
  const pages = data.pages.slice(0, count);
  const last = count - 1;
  const keep = sizeBytes - last * pageBytes;
  const page = pages[last];
  // A copy, not a view: a view would keep the whole old buffer alive.
  if (page !== undefined && page.bytes.length > keep) pages[last] = new Page(page.bytes.slice(0, keep));
  return { sizeBytes, pages };
}

/** Up to `lengthBytes` from `offsetBytes` (nothing past the end), in a new buffer. */
export function readData(data: ObjectData, offsetBytes: number, lengthBytes: number, pageBytes: number): Uint8Array {
  const end = Math.min(data.sizeBytes, offsetBytes + lengthBytes);
  const out = new Uint8Array(Math.max(0, end - offsetBytes));
  for (let k = Math.floor(offsetBytes / pageBytes); k * pageBytes < end; k++) {
    const bytes = data.pages[k]?.bytes;
    if (bytes === undefined) continue;
    const start = k * pageBytes;
    const a = Math.max(offsetBytes, start) - start;
    const b = Math.min(end - start, bytes.length);
    if (b > a) out.set(bytes.subarray(a, b), start + a - offsetBytes);
  }
  return out;
}

/** Bytes of page buffers held (at most the object's size; less with holes). */
export function heldBytes(data: ObjectData): number {
  let n = 0;
  for (const p of data.pages) n += p?.bytes.length ?? 0;
  return n;
}
