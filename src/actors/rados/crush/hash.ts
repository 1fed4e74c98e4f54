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

// The mix works on three registers. A module-level triple avoids allocating per call; every
// hash function below is synchronous, so nothing can interleave between set and read.
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
export function crushHash32(a: number): number {
  let h = SEED ^ a;
  let b = a | 0;
  let x = X0;
  let y = Y0;
  ra = b; rb = x; rc = h; mix(); b = ra; x = rb; h = rc;
  ra = y; rb = a | 0; rc = h; mix(); y = ra; h = rc;
  return h >>> 0;
}

/** crush_hash32_2: two inputs. Used by the reweight ("out") test and by hashpspool. */
export function crushHash32_2(a0: number, b0: number): number {
  let a = a0 | 0;
  let b = b0 | 0;
  let h = SEED ^ a ^ b;
  let x = X0;
  let y = Y0;
  ra = a; rb = b; rc = h; mix(); a = ra; b = rb; h = rc;
  ra = x; rb = a; rc = h; mix(); x = ra; a = rb; h = rc;
  ra = b; rb = y; rc = h; mix(); b = ra; y = rb; h = rc;
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
  ra = a; rb = b; rc = h; mix(); a = ra; b = rb; h = rc;
  ra = c; rb = x; rc = h; mix(); c = ra; x = rb; h = rc;
  ra = y; rb = a; rc = h; mix(); y = ra; a = rb; h = rc;
  ra = b; rb = x; rc = h; mix(); b = ra; x = rb; h = rc;
  ra = y; rb = c; rc = h; mix(); y = ra; c = rb; h = rc;
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
  ra = a; rb = b; rc = h; mix(); a = ra; b = rb; h = rc;
  ra = c; rb = d; rc = h; mix(); c = ra; d = rb; h = rc;
  ra = a; rb = x; rc = h; mix(); a = ra; x = rb; h = rc;
  ra = y; rb = b; rc = h; mix(); y = ra; b = rb; h = rc;
  ra = c; rb = x; rc = h; mix(); c = ra; x = rb; h = rc;
  ra = y; rb = d; rc = h; mix(); y = ra; d = rb; h = rc;
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
  ra = a; rb = b; rc = h; mix(); a = ra; b = rb; h = rc;
  ra = c; rb = d; rc = h; mix(); c = ra; d = rb; h = rc;
  ra = e; rb = x; rc = h; mix(); e = ra; x = rb; h = rc;
  ra = y; rb = a; rc = h; mix(); y = ra; a = rb; h = rc;
  ra = b; rb = x; rc = h; mix(); b = ra; x = rb; h = rc;
  ra = y; rb = c; rc = h; mix(); y = ra; c = rb; h = rc;
  ra = d; rb = x; rc = h; mix(); d = ra; x = rb; h = rc;
  ra = y; rb = e; rc = h; mix(); y = ra; e = rb; h = rc;
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
