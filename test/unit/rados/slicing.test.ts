import { describe, expect, it } from 'vitest';
import { PieceTable, payloadBytes, reassembleUpdate, shouldSlice, sliceUpdate } from '../../../src/actors/rados/osd/slicing.js';
import type { PgUpdate } from '../../../src/actors/rados/protocol.js';

function bytes(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

/** Equal updates, comparing write data as bytes (toEqual walks large arrays element by element). */
function expectSameUpdate(got: PgUpdate | undefined, want: PgUpdate): void {
  expect(got).toBeDefined();
  const strip = (u: PgUpdate): unknown => ({ ...u, txn: u.txn.map((op) => (op.op === 'write' ? { ...op, data: op.data.length } : op)) });
  expect(strip(got!)).toEqual(strip(want));
  got!.txn.forEach((op, i) => {
    const w = want.txn[i]!;
    if (op.op === 'write' && w.op === 'write') expect(Buffer.from(op.data).equals(Buffer.from(w.data)), `write ${i}`).toBe(true);
  });
}

function update(...writes: Uint8Array[]): PgUpdate {
  return {
    entry: { oid: 'o', op: 'modify', version: { epoch: 4, v: 9 }, prior: { epoch: 4, v: 8 }, reqid: 'c:1' },
    txn: [
      { op: 'touch', cid: 'pg.1.0', oid: 'o' },
      ...writes.map((data, i) => ({ op: 'write' as const, cid: 'pg.1.0', oid: 'o', offsetBytes: i * 100_000, data })),
      { op: 'setAttr', cid: 'pg.1.0', oid: 'o', name: 'v', value: bytes(8, 1) },
    ],
    results: [],
    startedAtMs: 12,
  };
}

describe('pipelined replication: slicing an update and putting it together again (README D12)', () => {
  it('a 1 MiB write cut into 64 KiB pieces comes back byte for byte; the header carries no write data', () => {
    const u = update(bytes(1024 * 1024, 7));
    expect(payloadBytes(u)).toBe(1024 * 1024);
    const { header, info, pieces } = sliceUpdate(u, 64 * 1024);
    expect(info).toEqual({ bytes: 1024 * 1024, pieces: 16, lengths: [1024 * 1024] });
    expect(pieces.map((p) => p.length)).toEqual(Array.from({ length: 16 }, () => 64 * 1024));
    expect(payloadBytes(header)).toBe(0);
    // Everything but the write data travels in the header, unchanged.
    expect(header.entry).toEqual(u.entry);
    expect(header.txn.filter((op) => op.op !== 'write')).toEqual(u.txn.filter((op) => op.op !== 'write'));
    expectSameUpdate(reassembleUpdate(header, info, pieces), u);
  });

  it('several writes of one update, a last piece shorter than the others, and empty writes keep their order and lengths', () => {
    const u = update(bytes(70_000, 1), bytes(0, 0), bytes(33_333, 2), bytes(5, 3));
    const { header, info, pieces } = sliceUpdate(u, 16 * 1024);
    expect(info.lengths).toEqual([70_000, 0, 33_333, 5]);
    expect(pieces.length).toBe(Math.ceil(103_338 / (16 * 1024)));
    expect(pieces.at(-1)!.length).toBe(103_338 - (pieces.length - 1) * 16 * 1024);
    expectSameUpdate(reassembleUpdate(header, info, pieces), u);
  });

  it('only updates with more data than one piece are sliced; 0 turns slicing off', () => {
    expect(shouldSlice(update(bytes(64 * 1024, 1)), 64 * 1024)).toBe(false);
    expect(shouldSlice(update(bytes(64 * 1024 + 1, 1)), 64 * 1024)).toBe(true);
    expect(shouldSlice(update(new Uint8Array(10 * 1024 * 1024)), 0)).toBe(false);
    expect(() => sliceUpdate(update(bytes(10, 1)), 0)).toThrow(RangeError);
  });

  it('pieces that do not fit the header are refused: one missing, one too short, a header that still has data', () => {
    const u = update(bytes(300_000, 5));
    const { header, info, pieces } = sliceUpdate(u, 100_000);
    expect(reassembleUpdate(header, info, pieces.slice(1))).toBeUndefined();
    expect(reassembleUpdate(header, info, [pieces[0]!, pieces[1]!, pieces[2]!.subarray(1)])).toBeUndefined();
    expect(reassembleUpdate(u, info, pieces)).toBeUndefined();
    expect(reassembleUpdate(header, { ...info, lengths: [299_999, 1] }, pieces)).toBeUndefined();
  });
});

describe('the piece table: pieces waiting for their header, bounded (D11, D12)', () => {
  it('collects pieces in any order, ignores a repeated one, and gives them back in order once all came', () => {
    const t = new PieceTable(1024, 8);
    expect(t.add('1.0/a', 2, 3, bytes(10, 3))).toBe(true);
    expect(t.add('1.0/a', 0, 3, bytes(10, 1))).toBe(true);
    expect(t.add('1.0/a', 0, 3, bytes(10, 9))).toBe(true);
    expect(t.bufferedBytes).toBe(20);
    t.markForwarded('1.0/a', 7);
    expect(t.add('1.0/a', 1, 3, bytes(10, 2))).toBe(true);
    t.invariants();
    const got = t.take('1.0/a');
    expect(got?.pieces).toEqual([bytes(10, 1), bytes(10, 2), bytes(10, 3)]);
    expect([...(got?.forwardedTo ?? [])]).toEqual([7]);
    expect(t.size).toBe(0);
    expect(t.bufferedBytes).toBe(0);
  });

  it('an incomplete entry taken by its header gives nothing (the header is then refused); bad indexes and counts are refused', () => {
    const t = new PieceTable(1024, 8);
    t.add('k', 0, 2, bytes(4, 0));
    expect(t.take('k')).toBeUndefined();
    expect(t.take('k')).toBeUndefined();
    expect(t.add('k', 2, 2, bytes(4, 0))).toBe(false);
    expect(t.add('k', -1, 2, bytes(4, 0))).toBe(false);
    expect(t.add('k', 0, 0, bytes(4, 0))).toBe(false);
    t.add('k', 0, 2, bytes(4, 0));
    expect(t.add('k', 1, 3, bytes(4, 0))).toBe(false);
  });

  it('stays within its byte and entry bounds by dropping the oldest entries; a PG prefix drops its entries', () => {
    const t = new PieceTable(100, 3);
    t.add('1.0/a', 0, 2, bytes(40, 0));
    t.add('1.0/b', 0, 2, bytes(40, 0));
    t.add('1.1/c', 0, 2, bytes(40, 0));
    t.invariants();
    expect(t.bufferedBytes).toBe(80);
    expect(t.take('1.0/a')).toBeUndefined();
    t.add('1.1/d', 0, 1, bytes(10, 0));
    t.add('1.1/e', 0, 1, bytes(10, 0));
    t.add('2.0/f', 0, 1, bytes(10, 0));
    t.invariants();
    expect(t.size).toBeLessThanOrEqual(3);
    t.dropPrefix('1.1/');
    t.invariants();
    expect(t.take('2.0/f')?.pieces).toEqual([bytes(10, 0)]);
    expect(t.add('big', 0, 1, bytes(101, 0))).toBe(false);
  });
});
