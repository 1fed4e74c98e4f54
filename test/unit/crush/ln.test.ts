import { describe, expect, it } from 'vitest';
import { crushLnExact } from '../../../src/actors/rados/crush/index.js';

describe("straw2's fixed-point logarithm crush_ln (README I2; digest §2.5 straw2)", () => {
  it('approximates 2^44 · log2(u + 1) across the whole 16-bit input range', () => {
    for (let u = 0; u <= 0xffff; u += 97) {
      const exact = 2 ** 44 * Math.log2(u + 1);
      const got = Number(crushLnExact(u));
      expect(Math.abs(got - exact) / 2 ** 44).toBeLessThan(1e-4);
    }
  });

  it('is exact at the ends: crush_ln(0) = 0 and crush_ln(0xffff) = 2^48 - 2^28 (Ceph table entry 257)', () => {
    expect(crushLnExact(0)).toBe(0n);
    expect(crushLnExact(0xffff)).toBe(2n ** 48n - 2n ** 28n);
  });

  it("is monotonic on [0, 0xfffe]; Ceph's last table entry makes crush_ln(0xffff) dip below crush_ln(0xfffe)", () => {
    let prev = -1n;
    for (let u = 0; u <= 0xfffe; u++) {
      const v = crushLnExact(u);
      expect(v >= prev).toBe(true);
      prev = v;
    }
    // A quirk of Ceph's data that bit-compatibility must keep (README, "surprises").
    expect(crushLnExact(0xffff) < crushLnExact(0xfffe)).toBe(true);
  });

  it('rejects inputs outside [0, 0xffff]', () => {
    expect(() => crushLnExact(0x10000)).toThrow(RangeError);
    expect(() => crushLnExact(-1)).toThrow(RangeError);
  });
});
