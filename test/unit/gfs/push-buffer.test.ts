/**
 * The chunkserver's push buffer (patent ¶94: pushed data waits in a buffer "until the data is used
 * or aged out"; invariant C5: bounded by bytes and entries, nothing fresh evicted).
 */
import { describe, expect, it } from 'vitest';
import { PushBuffer } from '../../../src/actors/gfs/chunkserver/push-buffer.js';

const limits = { bytesMax: 100, entriesMax: 3, ttlMs: 1_000, sliceBytesMax: 40, slicesMax: 4 };
const b = (n: number, fill = 1): Uint8Array => new Uint8Array(n).fill(fill);

describe('PushBuffer (¶94, C5)', () => {
  it('assembles the slices of a push in slice order, whatever order they arrive in', () => {
    const p = new PushBuffer(limits);
    expect(p.add('x', 1, 3, b(10, 2), 0)).toEqual({ ok: true });
    expect(p.add('x', 2, 3, b(5, 3), 0)).toEqual({ ok: true });
    expect(p.take('x', 35, 0)).toMatchObject({ ok: false, reason: 'incomplete' });
    expect(p.add('x', 0, 3, b(20, 1), 0)).toEqual({ ok: true });
    const t = p.take('x', 35, 1);
    expect(t.ok).toBe(true);
    if (t.ok) expect([...t.data]).toEqual([...b(20, 1), ...b(10, 2), ...b(5, 3)]);
    // Taken once: gone.
    expect(p.take('x', 35, 1)).toMatchObject({ ok: false, reason: 'missing' });
    expect(p.bytes).toBe(0);
    p.invariants();
  });

  it('never hands out a slice whose buffer was given away meanwhile (transferred to another thread): the mutation fails instead of writing nothing', () => {
    const p = new PushBuffer(limits);
    const slice = b(20, 7);
    expect(p.add('gone', 0, 1, slice, 0)).toEqual({ ok: true });
    const buffer = slice.buffer as ArrayBuffer;
    structuredClone(buffer, { transfer: [buffer] }); // detaches it, as a transfer to a worker does
    expect(p.take('gone', 20, 0)).toMatchObject({ ok: false, reason: 'length' });
    p.invariants();
  });

  it('refuses with busy when full, without evicting fresh pushes; room returns when pushes are taken or age out', () => {
    const p = new PushBuffer(limits);
    expect(p.add('a', 0, 1, b(40), 0).ok).toBe(true);
    expect(p.add('b', 0, 1, b(40), 100).ok).toBe(true);
    expect(p.add('c', 0, 1, b(40), 200)).toMatchObject({ ok: false, reason: 'busy' });
    expect(p.has('a') && p.has('b')).toBe(true);
    expect(p.take('a', 40, 300).ok).toBe(true);
    expect(p.add('c', 0, 1, b(40), 300).ok).toBe(true);
    // 'b' was last touched at 100: at 1100 it has aged out and its room is reused.
    expect(p.add('d', 0, 1, b(40), 1_100).ok).toBe(true);
    expect(p.has('b')).toBe(false);
    expect(p.bytes).toBe(80);
    p.invariants();
  });

  it('bounds the number of pushes as well as their bytes', () => {
    const p = new PushBuffer(limits);
    for (const id of ['a', 'b', 'c']) expect(p.add(id, 0, 1, b(1), 0).ok).toBe(true);
    expect(p.add('d', 0, 1, b(1), 0)).toMatchObject({ ok: false, reason: 'busy' });
    // More slices of a push already held are fine.
    expect(p.add('a', 0, 1, b(2), 0).ok).toBe(true);
    expect(p.size).toBe(3);
    p.invariants();
  });

  it('a push taken after its TTL is missing (data_not_found for the mutation: push again)', () => {
    const p = new PushBuffer(limits);
    p.add('a', 0, 1, b(10), 0);
    expect(p.take('a', 10, 1_000)).toMatchObject({ ok: false, reason: 'missing' });
    expect(p.bytes).toBe(0);
  });

  it('a repeated slice replaces the earlier copy (client retry) and counts once', () => {
    const p = new PushBuffer(limits);
    p.add('a', 0, 2, b(10, 1), 0);
    p.add('a', 0, 2, b(20, 9), 0);
    p.add('a', 1, 2, b(5, 2), 0);
    expect(p.bytes).toBe(25);
    const t = p.take('a', 25, 0);
    expect(t.ok && t.data[0]).toBe(9);
  });

  it('rejects malformed slices and wrong lengths', () => {
    const p = new PushBuffer(limits);
    expect(p.add('a', 0, 1, b(41), 0)).toMatchObject({ ok: false, reason: 'invalid' });
    expect(p.add('a', 2, 2, b(1), 0)).toMatchObject({ ok: false, reason: 'invalid' });
    expect(p.add('a', 0, 5, b(1), 0)).toMatchObject({ ok: false, reason: 'invalid' });
    expect(p.add('', 0, 1, b(1), 0)).toMatchObject({ ok: false, reason: 'invalid' });
    p.add('a', 0, 2, b(1), 0);
    expect(p.add('a', 0, 3, b(1), 0)).toMatchObject({ ok: false, reason: 'invalid' });
    p.add('a', 1, 2, b(1), 0);
    expect(p.take('a', 3, 0)).toMatchObject({ ok: false, reason: 'length' });
    expect(p.has('a')).toBe(false);
  });
});
