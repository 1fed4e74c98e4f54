/**
 * Ceph's rjenkins1 hashes, uint32-exact (README invariant I1).
 *
 * CRUSH draws every pseudo-random choice from a "strong multi-input integer hash" built on Bob
 * Jenkins' 96-bit mix (thesis §5.3.3, digest §2.6). Ceph calls the variant `rjenkins1`
 * (`crush_hash32_N`, N = 1..5 inputs) and hashes object names with the classic Jenkins
 * one-at-a-time-per-12-bytes string hash (`ceph_str_hash_rjenkins`). Both are written here from
 * the published algorithm; the test vectors in test/unit/crush/hash.test.ts pin them.
 *
 * Arithmetic note: JS numbers are doubles, so every step keeps values in int32/uint32 range.
 * `(a - b - c)` is exact in doubles (|result| < 2^34) and the following `^` truncates it to 32
 * bits, which is exactly C's unsigned wrap-around; right shifts use `>>>` so they are logical.
 */

/** `CRUSH_HASH_RJENKINS1`, the only hash type Ceph defines (bucket `hash 0`). */
export const CRUSH_HASH_RJENKINS1 = 0;

const SEED = 1315423911;
const X0 = 231232;
const Y0 = 1232;

// Jenkins' mix of three registers (a, b, c), written out inline in each crush_hash32_N below
// (locals are several times faster than a shared helper here: hashing is about 45% of mapping
// time, thesis §5.3.3). The string hash, off the hot path, uses the helper.
let ra = 0;
let rb = 0;
let rc = 0;

function mix(): void {
  let a = ra;
  let b = rb;
  let c = rc;
  a = (a - b - c) ^ (c >>> 13);
  b = (b - c - a) ^ (a << 8);
  c = (c - a - b) ^ (b >>> 13);
  a = (a - b - c) ^ (c >>> 12);
  b = (b - c - a) ^ (a << 16);
  c = (c - a - b) ^ (b >>> 5);
  a = (a - b - c) ^ (c >>> 3);
  b = (b - c - a) ^ (a << 10);
  c = (c - a - b) ^ (b >>> 15);
  ra = a;
  rb = b;
  rc = c;
}

/** crush_hash32 with one input. Inputs are taken modulo 2^32 (negative ids wrap like C's cast). */
export function crushHash32(a0: number): number {
  let a = a0 | 0;
  let b = a;
  let h = SEED ^ a;
  let x = X0;
  let y = Y0;
  // mix(b, x, h)
  b = (b - x - h) ^ (h >>> 13);
  x = (x - h - b) ^ (b << 8);
  h = (h - b - x) ^ (x >>> 13);
  b = (b - x - h) ^ (h >>> 12);
  x = (x - h - b) ^ (b << 16);
  h = (h - b - x) ^ (x >>> 5);
  b = (b - x - h) ^ (h >>> 3);
  x = (x - h - b) ^ (b << 10);
  h = (h - b - x) ^ (x >>> 15);
  // mix(y, a, h)
  y = (y - a - h) ^ (h >>> 13);
  a = (a - h - y) ^ (y << 8);
  h = (h - y - a) ^ (a >>> 13);
  y = (y - a - h) ^ (h >>> 12);
  a = (a - h - y) ^ (y << 16);
  h = (h - y - a) ^ (a >>> 5);
  y = (y - a - h) ^ (h >>> 3);
  a = (a - h - y) ^ (y << 10);
  h = (h - y - a) ^ (a >>> 15);
  return h >>> 0;
}

/** crush_hash32_2: two inputs. Used by the reweight ("out") test and by hashpspool. */
export function crushHash32_2(a0: number, b0: number): number {
  let a = a0 | 0;
  let b = b0 | 0;
  let h = SEED ^ a ^ b;
  let x = X0;
  let y = Y0;
  // mix(a, b, h)
  a = (a - b - h) ^ (h >>> 13);
  b = (b - h - a) ^ (a << 8);
  h = (h - a - b) ^ (b >>> 13);
  a = (a - b - h) ^ (h >>> 12);
  b = (b - h - a) ^ (a << 16);
  h = (h - a - b) ^ (b >>> 5);
  a = (a - b - h) ^ (h >>> 3);
  b = (b - h - a) ^ (a << 10);
  h = (h - a - b) ^ (b >>> 15);
  // mix(x, a, h)
  x = (x - a - h) ^ (h >>> 13);
  a = (a - h - x) ^ (x << 8);
  h = (h - x - a) ^ (a >>> 13);
  x = (x - a - h) ^ (h >>> 12);
  a = (a - h - x) ^ (x << 16);
  h = (h - x - a) ^ (a >>> 5);
  x = (x - a - h) ^ (h >>> 3);
  a = (a - h - x) ^ (x << 10);
  h = (h - x - a) ^ (a >>> 15);
  // mix(b, y, h)
  b = (b - y - h) ^ (h >>> 13);
  y = (y - h - b) ^ (b << 8);
  h = (h - b - y) ^ (y >>> 13);
  b = (b - y - h) ^ (h >>> 12);
  y = (y - h - b) ^ (b << 16);
  h = (h - b - y) ^ (y >>> 5);
  b = (b - y - h) ^ (h >>> 3);
  y = (y - h - b) ^ (b << 10);
  h = (h - b - y) ^ (y >>> 15);
  return h >>> 0;
}

/** crush_hash32_3: three inputs. Used by straw, straw2 and the uniform permutation. */
export function crushHash32_3(a0: number, b0: number, c0: number): number {
  let a = a0 | 0;
  let b = b0 | 0;
  let c = c0 | 0;
  let h = SEED ^ a ^ b ^ c;
  let x = X0;
  let y = Y0;
  // mix(a, b, h)
  a = (a - b - h) ^ (h >>> 13);
  b = (b - h - a) ^ (a << 8);
  h = (h - a - b) ^ (b >>> 13);
  a = (a - b - h) ^ (h >>> 12);
  b = (b - h - a) ^ (a << 16);
  h = (h - a - b) ^ (b >>> 5);
  a = (a - b - h) ^ (h >>> 3);
  b = (b - h - a) ^ (a << 10);
  h = (h - a - b) ^ (b >>> 15);
  // mix(c, x, h)
  c = (c - x - h) ^ (h >>> 13);
  x = (x - h - c) ^ (c << 8);
  h = (h - c - x) ^ (x >>> 13);
  c = (c - x - h) ^ (h >>> 12);
  x = (x - h - c) ^ (c << 16);
  h = (h - c - x) ^ (x >>> 5);
  c = (c - x - h) ^ (h >>> 3);
  x = (x - h - c) ^ (c << 10);
  h = (h - c - x) ^ (x >>> 15);
  // mix(y, a, h)
  y = (y - a - h) ^ (h >>> 13);
  a = (a - h - y) ^ (y << 8);
  h = (h - y - a) ^ (a >>> 13);
  y = (y - a - h) ^ (h >>> 12);
  a = (a - h - y) ^ (y << 16);
  h = (h - y - a) ^ (a >>> 5);
  y = (y - a - h) ^ (h >>> 3);
  a = (a - h - y) ^ (y << 10);
  h = (h - y - a) ^ (a >>> 15);
  // mix(b, x, h)
  b = (b - x - h) ^ (h >>> 13);
  x = (x - h - b) ^ (b << 8);
  h = (h - b - x) ^ (x >>> 13);
  b = (b - x - h) ^ (h >>> 12);
  x = (x - h - b) ^ (b << 16);
  h = (h - b - x) ^ (x >>> 5);
  b = (b - x - h) ^ (h >>> 3);
  x = (x - h - b) ^ (b << 10);
  h = (h - b - x) ^ (x >>> 15);
  // mix(y, c, h)
  y = (y - c - h) ^ (h >>> 13);
  c = (c - h - y) ^ (y << 8);
  h = (h - y - c) ^ (c >>> 13);
  y = (y - c - h) ^ (h >>> 12);
  c = (c - h - y) ^ (y << 16);
  h = (h - y - c) ^ (c >>> 5);
  y = (y - c - h) ^ (h >>> 3);
  c = (c - h - y) ^ (y << 10);
  h = (h - y - c) ^ (c >>> 15);
  return h >>> 0;
}

/** crush_hash32_4: four inputs. Used by list and tree buckets. */
export function crushHash32_4(a0: number, b0: number, c0: number, d0: number): number {
  let a = a0 | 0;
  let b = b0 | 0;
  let c = c0 | 0;
  let d = d0 | 0;
  let h = SEED ^ a ^ b ^ c ^ d;
  let x = X0;
  let y = Y0;
  // mix(a, b, h)
  a = (a - b - h) ^ (h >>> 13);
  b = (b - h - a) ^ (a << 8);
  h = (h - a - b) ^ (b >>> 13);
  a = (a - b - h) ^ (h >>> 12);
  b = (b - h - a) ^ (a << 16);
  h = (h - a - b) ^ (b >>> 5);
  a = (a - b - h) ^ (h >>> 3);
  b = (b - h - a) ^ (a << 10);
  h = (h - a - b) ^ (b >>> 15);
  // mix(c, d, h)
  c = (c - d - h) ^ (h >>> 13);
  d = (d - h - c) ^ (c << 8);
  h = (h - c - d) ^ (d >>> 13);
  c = (c - d - h) ^ (h >>> 12);
  d = (d - h - c) ^ (c << 16);
  h = (h - c - d) ^ (d >>> 5);
  c = (c - d - h) ^ (h >>> 3);
  d = (d - h - c) ^ (c << 10);
  h = (h - c - d) ^ (d >>> 15);
  // mix(a, x, h)
  a = (a - x - h) ^ (h >>> 13);
  x = (x - h - a) ^ (a << 8);
  h = (h - a - x) ^ (x >>> 13);
  a = (a - x - h) ^ (h >>> 12);
  x = (x - h - a) ^ (a << 16);
  h = (h - a - x) ^ (x >>> 5);
  a = (a - x - h) ^ (h >>> 3);
  x = (x - h - a) ^ (a << 10);
  h = (h - a - x) ^ (x >>> 15);
  // mix(y, b, h)
  y = (y - b - h) ^ (h >>> 13);
  b = (b - h - y) ^ (y << 8);
  h = (h - y - b) ^ (b >>> 13);
  y = (y - b - h) ^ (h >>> 12);
  b = (b - h - y) ^ (y << 16);
  h = (h - y - b) ^ (b >>> 5);
  y = (y - b - h) ^ (h >>> 3);
  b = (b - h - y) ^ (y << 10);
  h = (h - y - b) ^ (b >>> 15);
  // mix(c, x, h)
  c = (c - x - h) ^ (h >>> 13);
  x = (x - h - c) ^ (c << 8);
  h = (h - c - x) ^ (x >>> 13);
  c = (c - x - h) ^ (h >>> 12);
  x = (x - h - c) ^ (c << 16);
  h = (h - c - x) ^ (x >>> 5);
  c = (c - x - h) ^ (h >>> 3);
  x = (x - h - c) ^ (c << 10);
  h = (h - c - x) ^ (x >>> 15);
  // mix(y, d, h)
  y = (y - d - h) ^ (h >>> 13);
  d = (d - h - y) ^ (y << 8);
  h = (h - y - d) ^ (d >>> 13);
  y = (y - d - h) ^ (h >>> 12);
  d = (d - h - y) ^ (y << 16);
  h = (h - y - d) ^ (d >>> 5);
  y = (y - d - h) ^ (h >>> 3);
  d = (d - h - y) ^ (y << 10);
  h = (h - y - d) ^ (d >>> 15);
  return h >>> 0;
}

/** crush_hash32_5: five inputs (defined by Ceph; unused by the mapper, kept for completeness). */
export function crushHash32_5(a0: number, b0: number, c0: number, d0: number, e0: number): number {
  let a = a0 | 0;
  let b = b0 | 0;
  let c = c0 | 0;
  let d = d0 | 0;
  let e = e0 | 0;
  let h = SEED ^ a ^ b ^ c ^ d ^ e;
  let x = X0;
  let y = Y0;
  // mix(a, b, h)
  a = (a - b - h) ^ (h >>> 13);
  b = (b - h - a) ^ (a << 8);
  h = (h - a - b) ^ (b >>> 13);
  a = (a - b - h) ^ (h >>> 12);
  b = (b - h - a) ^ (a << 16);
  h = (h - a - b) ^ (b >>> 5);
  a = (a - b - h) ^ (h >>> 3);
  b = (b - h - a) ^ (a << 10);
  h = (h - a - b) ^ (b >>> 15);
  // mix(c, d, h)
  c = (c - d - h) ^ (h >>> 13);
  d = (d - h - c) ^ (c << 8);
  h = (h - c - d) ^ (d >>> 13);
  c = (c - d - h) ^ (h >>> 12);
  d = (d - h - c) ^ (c << 16);
  h = (h - c - d) ^ (d >>> 5);
  c = (c - d - h) ^ (h >>> 3);
  d = (d - h - c) ^ (c << 10);
  h = (h - c - d) ^ (d >>> 15);
  // mix(e, x, h)
  e = (e - x - h) ^ (h >>> 13);
  x = (x - h - e) ^ (e << 8);
  h = (h - e - x) ^ (x >>> 13);
  e = (e - x - h) ^ (h >>> 12);
  x = (x - h - e) ^ (e << 16);
  h = (h - e - x) ^ (x >>> 5);
  e = (e - x - h) ^ (h >>> 3);
  x = (x - h - e) ^ (e << 10);
  h = (h - e - x) ^ (x >>> 15);
  // mix(y, a, h)
  y = (y - a - h) ^ (h >>> 13);
  a = (a - h - y) ^ (y << 8);
  h = (h - y - a) ^ (a >>> 13);
  y = (y - a - h) ^ (h >>> 12);
  a = (a - h - y) ^ (y << 16);
  h = (h - y - a) ^ (a >>> 5);
  y = (y - a - h) ^ (h >>> 3);
  a = (a - h - y) ^ (y << 10);
  h = (h - y - a) ^ (a >>> 15);
  // mix(b, x, h)
  b = (b - x - h) ^ (h >>> 13);
  x = (x - h - b) ^ (b << 8);
  h = (h - b - x) ^ (x >>> 13);
  b = (b - x - h) ^ (h >>> 12);
  x = (x - h - b) ^ (b << 16);
  h = (h - b - x) ^ (x >>> 5);
  b = (b - x - h) ^ (h >>> 3);
  x = (x - h - b) ^ (b << 10);
  h = (h - b - x) ^ (x >>> 15);
  // mix(y, c, h)
  y = (y - c - h) ^ (h >>> 13);
  c = (c - h - y) ^ (y << 8);
  h = (h - y - c) ^ (c >>> 13);
  y = (y - c - h) ^ (h >>> 12);
  c = (c - h - y) ^ (y << 16);
  h = (h - y - c) ^ (c >>> 5);
  y = (y - c - h) ^ (h >>> 3);
  c = (c - h - y) ^ (y << 10);
  h = (h - y - c) ^ (c >>> 15);
  // mix(d, x, h)
  d = (d - x - h) ^ (h >>> 13);
  x = (x - h - d) ^ (d << 8);
  h = (h - d - x) ^ (x >>> 13);
  d = (d - x - h) ^ (h >>> 12);
  x = (x - h - d) ^ (d << 16);
  h = (h - d - x) ^ (x >>> 5);
  d = (d - x - h) ^ (h >>> 3);
  x = (x - h - d) ^ (d << 10);
  h = (h - d - x) ^ (x >>> 15);
  // mix(y, e, h)
  y = (y - e - h) ^ (h >>> 13);
  e = (e - h - y) ^ (y << 8);
  h = (h - y - e) ^ (e >>> 13);
  y = (y - e - h) ^ (h >>> 12);
  e = (e - h - y) ^ (y << 16);
  h = (h - y - e) ^ (e >>> 5);
  y = (y - e - h) ^ (h >>> 3);
  e = (e - h - y) ^ (y << 10);
  h = (h - y - e) ^ (e >>> 15);
  return h >>> 0;
}

const encoder = new TextEncoder();

/**
 * Ceph's object-name hash (`ceph_str_hash_rjenkins`, the default `object_hash` of a pool): Bob
 * Jenkins' 1996 hash over the UTF-8 bytes, 12 bytes per round, initial value 0. Returns a uint32.
 */
export function strHashRjenkins(name: string | Uint8Array): number {
  const k = typeof name === 'string' ? encoder.encode(name) : name;
  const length = k.length;
  let a = 0x9e3779b9 | 0;
  let b = a;
  let c = 0;
  let p = 0;
  let len = length;
  const byte = (i: number): number => k[p + i] ?? 0;
  while (len >= 12) {
    a = (a + (byte(0) | (byte(1) << 8) | (byte(2) << 16) | (byte(3) << 24))) | 0;
    b = (b + (byte(4) | (byte(5) << 8) | (byte(6) << 16) | (byte(7) << 24))) | 0;
    c = (c + (byte(8) | (byte(9) << 8) | (byte(10) << 16) | (byte(11) << 24))) | 0;
    ra = a; rb = b; rc = c; mix(); a = ra; b = rb; c = rc;
    p += 12;
    len -= 12;
  }
  c = (c + length) | 0;
  // The tail: bytes 8..10 go to c above its low byte (reserved for the length), 4..7 to b,
  // 0..3 to a. Each case adds its byte and falls through to the lower ones.
  if (len >= 11) c = (c + (byte(10) << 24)) | 0;
  if (len >= 10) c = (c + (byte(9) << 16)) | 0;
  if (len >= 9) c = (c + (byte(8) << 8)) | 0;
  if (len >= 8) b = (b + (byte(7) << 24)) | 0;
  if (len >= 7) b = (b + (byte(6) << 16)) | 0;
  if (len >= 6) b = (b + (byte(5) << 8)) | 0;
  if (len >= 5) b = (b + byte(4)) | 0;
  if (len >= 4) a = (a + (byte(3) << 24)) | 0;
  if (len >= 3) a = (a + (byte(2) << 16)) | 0;
  if (len >= 2) a = (a + (byte(1) << 8)) | 0;
  if (len >= 1) a = (a + byte(0)) | 0;
  ra = a; rb = b; rc = c; mix();
  return rc >>> 0;
}
