import { describe, expect, it } from 'vitest';
import { Trace } from '../../../src/runtime/sim/trace.js';
import { copyMessage } from '../../../src/runtime/sim/message-copy.js';
import { makeRef } from '../../../src/runtime/ref.js';

describe('simulation trace', () => {
  const events = (t: Trace, names: string[]): void => {
    names.forEach((n, i) => t.record(i * 0.5, 'node', n, 'tell', 'sender', 'other', 'x.msg'));
  };

  it('equal event sequences hash alike; a different string in the same position hashes differently', () => {
    const a = new Trace(10);
    const b = new Trace(10);
    const c = new Trace(10);
    events(a, ['p', 'q', 'p']);
    events(b, ['p', 'q', 'p']);
    events(c, ['p', 'r', 'p']);
    expect(a.hash()).toBe(b.hash());
    expect(c.hash()).not.toBe(a.hash());
  });

  it('a different time or order changes the hash', () => {
    const a = new Trace(4);
    const b = new Trace(4);
    a.record(1, 'n', 'a', 'tell', '-', '', 't');
    a.record(2, 'n', 'b', 'tell', '-', '', 't');
    b.record(1, 'n', 'b', 'tell', '-', '', 't');
    b.record(2, 'n', 'a', 'tell', '-', '', 't');
    expect(a.hash()).not.toBe(b.hash());
  });

  it('keeps the last `capacity` events in order and counts all of them', () => {
    const t = new Trace(3);
    events(t, ['a', 'b', 'c', 'd', 'e']);
    expect(t.length).toBe(5);
    expect(t.entries().map((e) => e.to)).toEqual(['c', 'd', 'e']);
    expect(t.entries()[0]).toEqual({ time: 1, node: 'node', to: 'c', kind: 'tell', from: 'sender@other', type: 'x.msg' });
    expect(new Trace(0).entries()).toEqual([]);
  });
});

describe('message copy between simulated nodes', () => {
  it('copies plain data deeply: the receiver cannot reach the sender\'s objects', () => {
    const msg = { type: 't', list: [1, { n: 2n }], nested: { s: 'x', u: undefined, z: null } };
    const copy = copyMessage(msg);
    expect(copy).toEqual(msg);
    expect(copy.list).not.toBe(msg.list);
    (copy.list[1] as { n: bigint }).n = 3n;
    expect((msg.list[1] as { n: bigint }).n).toBe(2n);
  });

  it('byte views become compact copies of only their own bytes', () => {
    const buffer = new Uint8Array(1024).map((_, i) => i & 0xff);
    const copy = copyMessage({ data: buffer.subarray(10, 20) });
    expect(copy.data.byteLength).toBe(10);
    expect(copy.data.buffer.byteLength).toBe(10);
    expect([...copy.data]).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
  });

  it('actor refs arrive as plain { node, id }, as over a real transport', () => {
    const copy = copyMessage({ to: makeRef('n1', 'a1') });
    expect(Object.getPrototypeOf(copy.to)).toBe(Object.prototype);
    expect(copy.to).toEqual({ node: 'n1', id: 'a1' });
  });

  it('other kinds go through structuredClone: Maps and Dates survive, functions are refused', () => {
    const when = new Date(5);
    const copy = copyMessage({ m: new Map([['k', 1]]), when });
    expect(copy.m.get('k')).toBe(1);
    expect(copy.when.getTime()).toBe(5);
    expect(copy.when).not.toBe(when);
    expect(() => copyMessage({ f: () => 1 })).toThrow();
  });

  it('a cycle is copied (by structuredClone) rather than walked forever', () => {
    const a: { self?: unknown; v: number } = { v: 1 };
    a.self = a;
    const copy = copyMessage(a);
    expect(copy.self).toBe(copy);
  });
});
