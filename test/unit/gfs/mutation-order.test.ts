/**
 * A secondary's mutation order (patent ¶99: secondaries apply mutations "in the assigned serial
 * number order"; invariants C3 and C5).
 */
import { describe, expect, it } from 'vitest';
import { MutationOrder } from '../../../src/actors/gfs/chunkserver/mutation-order.js';
import { seededRandom } from '../../../src/runtime/random.js';

describe('MutationOrder (¶99, C3)', () => {
  it('releases mutations in serial order, holding early ones until the gap fills', () => {
    const o = new MutationOrder<string>(8, 100);
    expect(o.offer(5, 1, 'one', 0)).toEqual({ ready: ['one'], failed: [] });
    expect(o.offer(5, 3, 'three', 0)).toEqual({ ready: [], failed: [] });
    expect(o.offer(5, 4, 'four', 1)).toEqual({ ready: [], failed: [] });
    expect(o.offer(5, 2, 'two', 2)).toEqual({ ready: ['two', 'three', 'four'], failed: [] });
    expect(o.expected).toEqual({ version: 5, serial: 5 });
    expect(o.heldCount).toBe(0);
  });

  it('a fresh instance (a restarted replica) starts at the first serial it sees; a later lease starts at 1', () => {
    const o = new MutationOrder<string>(8, 100);
    expect(o.offer(5, 37, 'x', 0).ready).toEqual(['x']);
    expect(o.offer(5, 36, 'late', 0).refused?.reason).toBe('late');
    expect(o.offer(6, 2, 'early', 0).ready).toEqual([]);
    expect(o.offer(6, 1, 'first', 0).ready).toEqual(['first', 'early']);
  });

  it('refuses late, duplicate and old-version mutations', () => {
    const o = new MutationOrder<string>(8, 100);
    o.offer(5, 1, 'one', 0);
    expect(o.offer(5, 1, 'again', 0).refused?.reason).toBe('late');
    o.offer(5, 3, 'three', 0);
    expect(o.offer(5, 3, 'three again', 0).refused?.reason).toBe('duplicate');
    expect(o.offer(4, 2, 'old', 0).refused?.reason).toBe('old_version');
  });

  it('a new version (a new lease) restarts the serials at 1 and fails what the old lease still held', () => {
    const o = new MutationOrder<string>(8, 100);
    o.offer(5, 1, 'a', 0);
    o.offer(5, 3, 'c', 0);
    const out = o.offer(6, 1, 'new', 0);
    expect(out.ready).toEqual(['new']);
    expect(out.failed.map((f) => f.item)).toEqual(['c']);
  });

  it('after the timeout, every held mutation fails and ordering resumes after them (C5)', () => {
    const o = new MutationOrder<string>(8, 100);
    o.offer(1, 1, 'one', 0);
    o.offer(1, 3, 'three', 10);
    o.offer(1, 4, 'four', 50);
    expect(o.deadline()).toBe(110);
    expect(o.expire(109)).toEqual({ ready: [], failed: [] });
    const out = o.expire(110);
    expect(out.failed.map((f) => f.item)).toEqual(['three', 'four']);
    expect(o.expected.serial).toBe(5);
    expect(o.offer(1, 5, 'five', 120).ready).toEqual(['five']);
    expect(o.offer(1, 2, 'two, too late', 130).refused?.reason).toBe('late');
  });

  it('holds at most heldMax early mutations', () => {
    const o = new MutationOrder<number>(2, 100);
    o.offer(1, 1, 1, 0);
    o.offer(1, 3, 3, 0);
    o.offer(1, 4, 4, 0);
    expect(o.offer(1, 5, 5, 0).refused?.reason).toBe('busy');
    // The one that is next is always accepted.
    expect(o.offer(1, 2, 2, 0).ready).toEqual([2, 3, 4]);
  });

  it('property: whatever the arrival order, releases are strictly increasing and each serial at most once', () => {
    for (let seed = 1; seed <= 50; seed++) {
      const rnd = seededRandom(seed);
      const o = new MutationOrder<number>(64, 1_000);
      const serials = Array.from({ length: 40 }, (_, i) => i + 1);
      // Shuffle locally (bounded displacement), drop a few.
      for (let i = serials.length - 1; i > 0; i--) {
        const j = Math.max(0, i - rnd.int(4));
        [serials[i], serials[j]] = [serials[j]!, serials[i]!];
      }
      const arrivals = serials.filter(() => !rnd.chance(0.05));
      const released: number[] = [];
      let now = 0;
      for (const s of arrivals) {
        now += rnd.int(50);
        const out = o.offer(1, s, s, now);
        released.push(...out.ready);
        o.expire(now);
      }
      for (let i = 1; i < released.length; i++) expect(released[i]!).toBeGreaterThan(released[i - 1]!);
      expect(new Set(released).size).toBe(released.length);
    }
  });
});
