import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../src/runtime/random.js';
import { emptyData, readData, truncateData, writeData, type ObjectData } from '../../../src/storage/object-data.js';
import { testSeeds } from './helpers.js';

/** The plain-buffer model: the object as one array, rewritten whole by every operation. */
function modelWrite(m: Uint8Array, offset: number, src: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.max(m.length, offset + src.length));
  out.set(m);
  out.set(src, offset);
  return out;
}

function modelTruncate(m: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(size);
  out.set(m.subarray(0, Math.min(size, m.length)));
  return out;
}

/** The page table's own rules (object-data.ts): no page past the size, no page longer than P or than the object reaches into it. */
function pageProblems(d: ObjectData, pageBytes: number): string[] {
  const out: string[] = [];
  if (d.pages.length > Math.ceil(d.sizeBytes / pageBytes)) out.push(`${d.pages.length} pages for ${d.sizeBytes} bytes`);
  d.pages.forEach((p, k) => {
    if (p !== undefined && p.bytes.length > Math.min(pageBytes, d.sizeBytes - k * pageBytes)) out.push(`page ${k} holds ${p.bytes.length} bytes`);
  });
  return out;
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
const hexOfParts = (parts: readonly Uint8Array[]): string => parts.map(hex).join('');

describe('paged object data (copy-on-write pages)', () => {
  for (const pageBytes of [1, 7, 16, 64]) {
    for (const seed of testSeeds([1, 2, 3])) {
      it(`random writes, truncates and reads match a plain buffer (page ${pageBytes} B, seed ${seed})`, () => {
        const r = seededRandom(seed * 100 + pageBytes);
        let d = emptyData;
        let m: Uint8Array = new Uint8Array(0);
        for (let step = 0; step < 400; step++) {
          const before = d;
          const beforeBytes = hex(readData(d, 0, Number.MAX_SAFE_INTEGER, pageBytes));
          const choice = r.int(10);
          if (choice < 6) {
            const offset = r.int(300);
            const src = r.bytes(r.int(120));
            const w = writeData(d, offset, src, pageBytes);
            // The record's data: exactly the written bytes, in order, as views of the new pages.
            expect(hexOfParts(w.parts), `step ${step}`).toBe(hex(src));
            d = w.data;
            m = modelWrite(m, offset, src);
            // Copy-on-write: the old value is unchanged.
            expect(hex(readData(before, 0, Number.MAX_SAFE_INTEGER, pageBytes))).toBe(beforeBytes);
          } else if (choice < 8) {
            const size = r.int(350);
            d = truncateData(d, size, pageBytes);
            m = modelTruncate(m, size);
            expect(hex(readData(before, 0, Number.MAX_SAFE_INTEGER, pageBytes))).toBe(beforeBytes);
          }
          expect(d.sizeBytes, `step ${step}`).toBe(m.length);
          expect(pageProblems(d, pageBytes), `step ${step}`).toEqual([]);
          const off = r.int(m.length + 20);
          const len = r.int(200);
          expect(hex(readData(d, off, len, pageBytes)), `step ${step}: read ${off}+${len}`).toBe(hex(m.slice(off, Math.min(m.length, off + len))));
        }
        expect(hex(readData(d, 0, Number.MAX_SAFE_INTEGER, pageBytes))).toBe(hex(m));
      });
    }
  }

  it('a write copies only the pages it touches: the others are shared with the previous value', () => {
    const P = 16;
    const big = writeData(emptyData, 0, new Uint8Array(10 * P).fill(1), P).data;
    const next = writeData(big, 3 * P + 5, new Uint8Array(P).fill(2), P).data;
    const shared = next.pages.map((p, k) => p === big.pages[k]);
    expect(shared).toEqual([true, true, true, false, false, true, true, true, true, true]);
  });

  it('a hole reads as zeros and holds no page; growing by truncate adds no page', () => {
    const P = 8;
    const d = writeData(emptyData, 40, Uint8Array.of(9), P).data;
    expect(d.pages.filter((p) => p !== undefined)).toHaveLength(1);
    const grown = truncateData(d, 100, P);
    expect(grown.pages.filter((p) => p !== undefined)).toHaveLength(1);
    const all = readData(grown, 0, 1000, P);
    expect(all.length).toBe(100);
    expect(all[40]).toBe(9);
    expect(all.reduce((a, b) => a + b, 0)).toBe(9);
  });

  it('bytes cut by a truncate read as zeros after the object grows again', () => {
    const P = 8;
    let d = writeData(emptyData, 0, new Uint8Array(20).fill(7), P).data;
    d = truncateData(d, 11, P);
    d = truncateData(d, 20, P);
    const all = readData(d, 0, 20, P);
    expect([...all]).toEqual([...new Uint8Array(11).fill(7), ...new Uint8Array(9)]);
  });
});
