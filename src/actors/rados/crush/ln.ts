/**
 * Ceph's fixed-point logarithm for straw2 (README invariant I2).
 *
 * straw2 draws `ln(u) / w` for a uniform u and the item's weight w; the item with the largest
 * draw wins. That is the minimum of exponential variables, so each item wins with probability
 * w_i / Σw and the draw of one item does not depend on any other item's weight — the fix for
 * the straw bucket's inaccuracy that the digest (§2.5 NOTE) reports for Algorithm 2 (thesis
 * §5.2.4.4). Ceph computes ln in integer arithmetic so every platform agrees bit for bit:
 * `crush_ln(u)` ≈ 2^44 · log2(u + 1), from two lookup tables (ln-tables.ts).
 *
 * The input is a 16-bit hash, so there are only 65,536 results. They are computed once, with
 * BigInt where the C code multiplies 64-bit values, and kept in a Float64Array: every result is
 * below 2^49 and so exact as a double.
 */
import { LL_TABLE, RH_LH_TABLE } from './ln-tables.js';

const MASK64 = (1n << 64n) - 1n;

function tableEntry(table: readonly number[], index: number): bigint {
  const v = table[index];
  if (v === undefined) throw new Error(`crush_ln table index ${index} out of range`);
  return BigInt(v);
}

/** crush_ln(xin) for xin in [0, 0xffff]: 2^44 · log2(xin + 1) in Ceph's fixed point. */
export function crushLnExact(xin: number): bigint {
  if (!Number.isInteger(xin) || xin < 0 || xin > 0xffff) throw new RangeError(`crush_ln input ${xin} outside [0, 0xffff]`);
  let x = xin + 1;
  // Normalise so that bit 15 or 16 is set; the exponent counts the shifts.
  let iexpon = 15;
  while ((x & 0x18000) === 0) {
    x <<= 1;
    iexpon--;
  }
  const index1 = (x >> 8) << 1;
  const rh = tableEntry(RH_LH_TABLE, index1 - 256); // ≈ 2^56 / index1
  let lh = tableEntry(RH_LH_TABLE, index1 + 1 - 256); // ≈ 2^48 · log2(index1 / 256)
  // x · RH ≈ 2^48 · (2^15 + xf): the C code multiplies as unsigned 64-bit and keeps bits 48..55.
  const xl64 = ((BigInt(x) * rh) & MASK64) >> 48n;
  const index2 = Number(xl64 & 0xffn);
  lh += tableEntry(LL_TABLE, index2); // LL ≈ 2^48 · log2(1 + index2 / 2^15)
  return (BigInt(iexpon) << 44n) + (lh >> 4n);
}

let lnMinusOne: Float64Array | undefined;

/**
 * `crush_ln(u) - 2^48` for u in [0, 0xffff]: the (non-positive) numerator of a straw2 draw,
 * exact as a double. Built on first use (65,536 entries).
 */
export function straw2LnNumerator(u: number): number {
  return straw2LnTable()[u & 0xffff] as number;
}

/** The whole `crush_ln(u) - 2^48` table, indexed by u (for loops that draw many straws). */
export function straw2LnTable(): Float64Array {
  if (lnMinusOne === undefined) {
    const t = new Float64Array(0x10000);
    for (let i = 0; i <= 0xffff; i++) t[i] = Number(crushLnExact(i) - 0x1000000000000n);
    lnMinusOne = t;
  }
  return lnMinusOne;
}
