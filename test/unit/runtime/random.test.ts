import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../src/runtime/random.js';

describe('seeded random', () => {
  it('gives the same stream for the same seed and different streams for different seeds', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const c = seededRandom(43);
    const xs = Array.from({ length: 100 }, () => a.uint32());
    expect(Array.from({ length: 100 }, () => b.uint32())).toEqual(xs);
    expect(Array.from({ length: 100 }, () => c.uint32())).not.toEqual(xs);
  });

  it('distinguishes seeds that differ only above 32 bits', () => {
    expect(seededRandom(1).uint32()).not.toBe(seededRandom(1 + 2 ** 32).uint32());
  });

  it('forks depend on the label only, not on how much the parent was used', () => {
    const p1 = seededRandom(9);
    const p2 = seededRandom(9);
    p2.uint32();
    p2.uint32();
    expect(p1.fork('disk').uint32()).toBe(p2.fork('disk').uint32());
    expect(p1.fork('disk').uint32()).not.toBe(p1.fork('net').uint32());
  });

  it('keeps int() within bounds and roughly uniform', () => {
    const r = seededRandom(3);
    const counts = new Array<number>(10).fill(0);
    for (let i = 0; i < 100_000; i++) {
      const x = r.int(10);
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(10);
      counts[x] = (counts[x] as number) + 1;
    }
    for (const n of counts) expect(Math.abs(n - 10_000)).toBeLessThan(600);
    for (let i = 0; i < 1000; i++) {
      const f = r.next();
      expect(f >= 0 && f < 1).toBe(true);
    }
    expect(() => r.int(0)).toThrow(RangeError);
  });
});
