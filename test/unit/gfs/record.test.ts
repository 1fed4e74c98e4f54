import { describe, expect, it } from 'vitest';
import { DuplicateFilter, encodeRecord, parseRecords, RECORD_HEADER_BYTES, type ParseStats } from '../../../src/actors/gfs/client/record.js';
import { seededRandom } from '../../../src/runtime/random.js';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const str = (b: Uint8Array): string => new TextDecoder().decode(b);

describe('record framing for append files (¶107)', () => {
  it('round-trips records with their ids and offsets', () => {
    const a = encodeRecord({ writer: 7n, seq: 1n }, text('alpha'));
    const b = encodeRecord({ writer: 7n, seq: 2n }, text('beta'));
    const buf = new Uint8Array([...a, ...b]);
    const { records, consumed } = parseRecords(buf, 1 << 20);
    expect(records.map((r) => [r.writer, r.seq, str(r.data), r.offset])).toEqual([
      [7n, 1n, 'alpha', 0],
      [7n, 2n, 'beta', RECORD_HEADER_BYTES + 5],
    ]);
    expect(consumed).toBe(buf.length);
  });

  it('skips zero padding (the record did not fit, ¶104) and partial or garbled records', () => {
    const good1 = encodeRecord({ writer: 1n, seq: 1n }, text('one'));
    const partial = encodeRecord({ writer: 1n, seq: 2n }, text('two-two-two')).subarray(0, 20); // a replica that failed mid-write
    const garbled = encodeRecord({ writer: 1n, seq: 3n }, text('three'));
    garbled[RECORD_HEADER_BYTES + 1] = (garbled[RECORD_HEADER_BYTES + 1] as number) ^ 0x40; // a flipped bit: the CRC no longer checks
    const good2 = encodeRecord({ writer: 2n, seq: 1n }, text('four'));
    const buf = new Uint8Array([...good1, ...new Uint8Array(100), ...partial, ...garbled, ...new Uint8Array(7), ...good2, ...new Uint8Array(50)]);
    const stats: ParseStats = { skippedBytes: 0, paddingBytes: 0 };
    const { records } = parseRecords(buf, 1 << 20, stats);
    expect(records.map((r) => str(r.data))).toEqual(['one', 'four']);
    expect(stats.paddingBytes).toBeGreaterThanOrEqual(150);
    expect(stats.skippedBytes).toBeGreaterThan(0);
  });

  it('a frame cut off at the end of the buffer is left for later (tailing readers resume there)', () => {
    const a = encodeRecord({ writer: 1n, seq: 1n }, text('done'));
    const b = encodeRecord({ writer: 1n, seq: 2n }, text('still being written'));
    const { records, consumed } = parseRecords(new Uint8Array([...a, ...b.subarray(0, 30)]), 1 << 20);
    expect(records).toHaveLength(1);
    expect(consumed).toBe(a.length);
  });

  it('never yields a record from random bytes, and never reads past the buffer (property)', () => {
    const rnd = seededRandom(5);
    for (let i = 0; i < 200; i++) {
      const junk = rnd.bytes(1 + rnd.int(4096));
      expect(parseRecords(junk, 1024).records).toEqual([]);
    }
  });

  it('a corrupt length cannot make the parser accept a record larger than the limit', () => {
    const r = encodeRecord({ writer: 1n, seq: 1n }, new Uint8Array(100));
    new DataView(r.buffer).setUint32(4, 0xffffffff);
    expect(parseRecords(r, 1 << 20).records).toEqual([]);
  });
});

describe('duplicate filter (R1: each acknowledged record exactly once)', () => {
  it('passes each (writer, seq) once, in or out of order, with memory only for gaps', () => {
    const f = new DuplicateFilter();
    const seen = [1n, 2n, 2n, 4n, 3n, 3n, 5n, 1n].map((seq) => f.firstTime({ writer: 9n, seq }));
    expect(seen).toEqual([true, true, false, true, true, false, true, false]);
    expect(f.firstTime({ writer: 10n, seq: 1n })).toBe(true);
  });

  it('is bounded', () => {
    const f = new DuplicateFilter(3);
    for (const s of [10n, 20n, 30n]) f.firstTime({ writer: 1n, seq: s });
    expect(() => f.firstTime({ writer: 1n, seq: 40n })).toThrow(/tracking 3/);
  });
});
