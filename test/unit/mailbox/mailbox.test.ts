import { describe, expect, it } from 'vitest';
import { Deque } from '../../../src/mailbox/deque.js';
import { Mailbox } from '../../../src/mailbox/mailbox.js';
import { seededRandom } from '../../../src/runtime/random.js';

describe('Deque (ring buffer)', () => {
  it('is FIFO across growth and wrap-around, matching an array model', () => {
    const rnd = seededRandom(7);
    const d = new Deque<number>(4);
    const model: number[] = [];
    let next = 0;
    for (let i = 0; i < 20_000; i++) {
      const op = rnd.int(10);
      if (op < 5) {
        d.push(next);
        model.push(next++);
      } else if (op < 6) {
        d.unshift(next);
        model.unshift(next++);
      } else {
        expect(d.shift()).toBe(model.shift());
      }
      expect(d.length).toBe(model.length);
      expect(d.peek()).toBe(model[0]);
    }
    expect([...d]).toEqual(model);
    expect(d.drain()).toEqual(model);
    expect(d.length).toBe(0);
  });
});

describe('Mailbox (DESIGN.md §3: system lane first, bounded user lane)', () => {
  it('delivers system messages before user messages, each lane in FIFO order', () => {
    const mb = new Mailbox<string, string>(10, 'reject');
    mb.enqueueUser('u1', 'a', 0);
    mb.enqueueSystem('s1');
    mb.enqueueUser('u2', 'b', 3);
    mb.enqueueSystem('s2');
    expect(mb.dequeueSystem()).toBe('s1');
    expect(mb.dequeueSystem()).toBe('s2');
    expect(mb.shiftUser()).toBe(true);
    expect([mb.outMsg, mb.outFrom, mb.outCorr]).toEqual(['u1', 'a', 0]);
    expect(mb.shiftUser()).toBe(true);
    expect([mb.outMsg, mb.outFrom, mb.outCorr]).toEqual(['u2', 'b', 3]);
    expect(mb.shiftUser()).toBe(false);
    expect(mb.isEmpty).toBe(true);
  });

  it('reject policy refuses the newest message, counts it, and keeps what was queued', () => {
    const mb = new Mailbox<string, string>(3, 'reject');
    for (const m of ['a', 'b', 'c']) expect(mb.enqueueUser(m, undefined, 0)).toBe('ok');
    expect(mb.enqueueUser('d', undefined, 0)).toBe('rejected');
    expect(mb.peekUser()).toEqual(['a', 'b', 'c']);
    expect(mb.stats()).toMatchObject({ user: 3, rejected: 1, dropped: 0, capacity: 3, maxUser: 3 });
  });

  it('drop policy drops and counts the newest message (for gossip)', () => {
    const mb = new Mailbox<string, string>(2, 'drop');
    mb.enqueueUser('a', undefined, 0);
    mb.enqueueUser('b', undefined, 0);
    expect(mb.enqueueUser('c', undefined, 0)).toBe('dropped');
    expect(mb.peekUser()).toEqual(['a', 'b']);
    expect(mb.stats()).toMatchObject({ dropped: 1, rejected: 0 });
  });

  it('never refuses or evicts system messages, even with a full user lane', () => {
    const mb = new Mailbox<string, string>(1, 'reject');
    mb.enqueueUser('u', undefined, 0);
    for (let i = 0; i < 100; i++) mb.enqueueSystem(`s${i}`);
    expect(mb.stats()).toMatchObject({ system: 100, user: 1 });
    expect(mb.drainSystem()).toHaveLength(100);
    expect(mb.drainUser().map((e) => e.msg)).toEqual(['u']);
  });

  it('grows its ring from 16 entries to its capacity without losing order', () => {
    const mb = new Mailbox<string, number>(1000, 'reject');
    for (let i = 0; i < 1000; i++) mb.enqueueUser(i, i, i);
    expect(mb.enqueueUser(1000, 0, 0)).toBe('rejected');
    for (let i = 0; i < 1000; i++) {
      expect(mb.shiftUser()).toBe(true);
      expect(mb.outMsg).toBe(i);
      expect(mb.outCorr).toBe(i);
    }
  });

  it('rejects a capacity that is not a positive integer', () => {
    expect(() => new Mailbox(0, 'reject')).toThrow(RangeError);
    expect(() => new Mailbox(1.5, 'drop')).toThrow(RangeError);
  });
});
