/**
 * The MDS journal format (thesis §4.2.3, §4.4.1; digest §4.8): checksummed entries at stream
 * positions, striped over fixed-size objects with sequential ids; replay stops at a torn tail and
 * at bytes an earlier incarnation left past the point where a later one resumed.
 */
import { describe, expect, it } from 'vitest';
import { decodeHeader, encodeEntry, encodeHeader, entryWrites, journalHeaderName, journalObjectName, JournalScanner, type JournalEvent } from '../../../src/actors/mds/journal.js';

const upd = (name: string): JournalEvent => ({ e: 'update', op: 'create', req: { client: 'c', tid: 1 }, reply: {}, blob: { dirs: [{ ino: 1, dentries: [{ kind: 'null', name, version: 1 }] }] } });

/** Encodes events back to back from `start`, returning the stream bytes. */
function stream(start: number, gen: number, evs: JournalEvent[]): Uint8Array {
  const parts: Uint8Array[] = [];
  let pos = start;
  for (const ev of evs) {
    const b = encodeEntry(pos, gen, ev);
    parts.push(b);
    pos += b.length;
  }
  const out = new Uint8Array(pos - start);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

describe('MDS journal', () => {
  it('is striped over fixed-size objects with sequential ids (thesis §4.2.3)', () => {
    expect(journalObjectName(0, 0)).toBe('200.00000000');
    expect(journalObjectName(1, 2)).toBe('201.00000002');
    expect(journalHeaderName(0)).toBe('200.header');
    const bytes = new Uint8Array(100).map((_, i) => i);
    const w = entryWrites(0, 64, 40, bytes);
    expect(w.map((x) => [x.oid, x.objectOffset, x.data.length])).toEqual([
      ['200.00000000', 40, 24],
      ['200.00000001', 0, 64],
      ['200.00000002', 0, 12],
    ]);
    expect(w[1]!.data[0]).toBe(24);
  });

  it('replays entries fed in arbitrary pieces, in order, with their positions', () => {
    const evs = [upd('a'), upd('b'), upd('c')];
    const bytes = stream(1000, 3, evs);
    const s = new JournalScanner(1000, 3, 1 << 20);
    const got = [];
    for (let i = 0; i < bytes.length; i += 7) got.push(...s.push(bytes.subarray(i, i + 7)));
    s.finish();
    expect(got.map((e) => e.ev)).toEqual(evs);
    expect(got[0]!.pos).toBe(1000);
    expect(s.end).toBe(1000 + bytes.length);
    expect(s.stopReason).toBe('end of journal');
  });

  it('stops at a torn tail: the position after the last whole entry is where writing resumes', () => {
    const whole = stream(0, 1, [upd('a'), upd('b')]);
    const first = encodeEntry(0, 1, upd('a')).length;
    const s = new JournalScanner(0, 1, 1 << 20);
    expect(s.push(whole.subarray(0, whole.length - 5))).toHaveLength(1);
    s.finish();
    expect(s.end).toBe(first);
    expect(s.stopReason).toMatch(/torn entry/);
  });

  it('stops at a checksum mismatch', () => {
    const whole = stream(0, 1, [upd('a'), upd('b')]);
    const bad = whole.slice();
    bad[bad.length - 2]! ^= 1;
    const s = new JournalScanner(0, 1, 1 << 20);
    expect(s.push(bad)).toHaveLength(1);
    expect(s.stopReason).toMatch(/checksum/);
  });

  it('stops at an older generation after a newer one: stale bytes past where a restarted MDS resumed (README J3)', () => {
    // Generation 1 wrote a, b, c; generation 2 resumed after a and wrote one entry exactly as long as b.
    const g1 = stream(0, 1, [upd('a'), upd('b'), upd('c')]);
    const aLen = encodeEntry(0, 1, upd('a')).length;
    const g2 = encodeEntry(aLen, 2, upd('x'));
    expect(g2.length).toBe(encodeEntry(aLen, 1, upd('b')).length);
    const disk = g1.slice();
    disk.set(g2, aLen);
    const s = new JournalScanner(0, 2, 1 << 20);
    const got = s.push(disk);
    expect(got.map((e) => (e.ev.e === 'update' ? e.ev.blob.dirs[0]!.dentries[0]!.name : '?'))).toEqual(['a', 'x']);
    expect(s.stopReason).toMatch(/generation 1 after 2/);
  });

  it('stops at an entry that says it belongs elsewhere, and at generations newer than the header', () => {
    const s = new JournalScanner(0, 1, 1 << 20);
    expect(s.push(encodeEntry(64, 1, upd('a')))).toEqual([]);
    expect(s.stopReason).toMatch(/position 64/);
    const t = new JournalScanner(0, 1, 1 << 20);
    expect(t.push(encodeEntry(0, 2, upd('a')))).toEqual([]);
    expect(t.stopReason).toMatch(/header 1/);
  });

  it('has a checksummed header with the trim position and generation', () => {
    const h = { trimPos: 4096, generation: 3, objectBytes: 65536 };
    expect(decodeHeader(encodeHeader(h))).toEqual({ ok: true, value: h });
    const bad = encodeHeader(h);
    bad[bad.length - 2]! ^= 4;
    expect(decodeHeader(bad).ok).toBe(false);
  });
});
