import { describe, expect, it } from 'vitest';
import { stripeExtents, stripeObjectName, validateLayout } from '../../../src/actors/rados/client/striping.js';

describe('striping (thesis §3.2.1)', () => {
  it('with sc = 1 an offset maps to object ⌊off/os⌋ (the thesis default of one 8 MB object per stripe)', () => {
    const l = { su: 8, sc: 1, os: 8 };
    expect(stripeExtents(l, 5, 10)).toEqual([
      { ono: 0, objectOffset: 5, length: 3, logicalOffset: 5 },
      { ono: 1, objectOffset: 0, length: 7, logicalOffset: 8 },
    ]);
  });

  it('stripe units go round-robin over sc objects until each holds os bytes, then to the next set', () => {
    const l = { su: 2, sc: 3, os: 4 };
    const units = stripeExtents(l, 0, 24).map((e) => [e.ono, e.objectOffset]);
    expect(units).toEqual([[0, 0], [1, 0], [2, 0], [0, 2], [1, 2], [2, 2], [3, 0], [4, 0], [5, 0], [3, 2], [4, 2], [5, 2]]);
  });

  it('every logical byte lands on exactly one (object, offset)', () => {
    const l = { su: 4, sc: 2, os: 12 };
    const seen = new Set<string>();
    for (const e of stripeExtents(l, 3, 100)) for (let i = 0; i < e.length; i++) seen.add(`${e.ono}:${e.objectOffset + i}`);
    expect(seen.size).toBe(100);
  });

  it('bad layouts are refused; object names are inode.ono in hex', () => {
    expect(validateLayout({ su: 3, sc: 1, os: 8 })).toMatch(/multiple/);
    expect(() => stripeExtents({ su: 0, sc: 1, os: 8 }, 0, 1)).toThrow(RangeError);
    expect(stripeObjectName(0x10000000a, 26)).toBe('10000000a.0000001a');
  });
});
