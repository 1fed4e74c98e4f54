/**
 * CRC32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of every stored block, log
 * record and checkpoint.
 *
 * The fast path is `@node-rs/crc32` (a prebuilt N-API binary from npm: no compiler, no install
 * script; 6.6 GB/s on 64 KiB blocks on this machine, see README.md "CRC32C"). It is loaded at
 * module load, checked against the standard vector crc32c("123456789") = 0xE3069283 (and against the
 * JS version on a chained input), and replaced by the pure-JS slice-by-8 below when it is missing or
 * wrong. Inputs shorter than `nativeMinBytes` go to the JS version, which beats a native call there.
 */

/** The standard check value: CRC32C of the ASCII bytes "123456789". */
export const crc32cCheckValue = 0xe3069283;
const checkInput = new TextEncoder().encode('123456789');

const POLY = 0x82f63b78;

/** Slice-by-8 tables, generated at load: tables[k][b] is the CRC of byte b followed by k zero bytes. */
const tables: Uint32Array[] = (() => {
  const t: Uint32Array[] = [];
  const t0 = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    t0[n] = c >>> 0;
  }
  t.push(t0);
  for (let k = 1; k < 8; k++) {
    const prev = t[k - 1]!;
    const cur = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      const p = prev[n]!;
      cur[n] = (p >>> 8) ^ t0[p & 0xff]!;
    }
    t.push(cur);
  }
  return t;
})();

/**
 * Pure-JS CRC32C, slice-by-8. `initial` is a previous result, to continue a checksum over more
 * bytes: crc32cJs(b, crc32cJs(a)) === crc32cJs(a ++ b).
 */
export function crc32cJs(data: Uint8Array, initial = 0): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = tables as [Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array];
  let crc = ~initial >>> 0;
  let i = 0;
  const n = data.length;
  const end8 = n - (n % 8);
  while (i < end8) {
    const a = (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24)) ^ crc;
    crc =
      t7[a & 0xff]! ^
      t6[(a >>> 8) & 0xff]! ^
      t5[(a >>> 16) & 0xff]! ^
      t4[a >>> 24]! ^
      t3[data[i + 4]!]! ^
      t2[data[i + 5]!]! ^
      t1[data[i + 6]!]! ^
      t0[data[i + 7]!]!;
    i += 8;
  }
  while (i < n) {
    crc = (crc >>> 8) ^ t0[(crc ^ data[i]!) & 0xff]!;
    i++;
  }
  return ~crc >>> 0;
}

type Crc32cFn = (data: Uint8Array, initial?: number) => number;

/** Below this many bytes the JS version is faster than a call into the native module (machine-limits.md: crossover ~250 B). */
export const nativeMinBytes = 256;

/** Loads the native CRC32C and checks it; undefined when it is missing or gives wrong answers. */
export async function loadNativeCrc32c(): Promise<Crc32cFn | undefined> {
  try {
    const mod = (await import('@node-rs/crc32')) as { crc32c?: unknown };
    const fn = mod.crc32c;
    if (typeof fn !== 'function') return undefined;
    const native = fn as (input: Uint8Array, initial?: number) => number;
    if (native(checkInput) >>> 0 !== crc32cCheckValue) return undefined;
    // Chaining must agree with the JS version, on a length that is not a multiple of 8.
    const sample = new Uint8Array(1031);
    for (let i = 0; i < sample.length; i++) sample[i] = (i * 131 + 7) & 0xff;
    const seed = crc32cJs(checkInput);
    if (native(sample, seed) >>> 0 !== crc32cJs(sample, seed)) return undefined;
    return (data, initial = 0) => native(data, initial) >>> 0;
  } catch {
    return undefined;
  }
}

if (crc32cJs(checkInput) !== crc32cCheckValue) throw new Error('storage invariant broken: JS CRC32C fails the check vector');

const native = await loadNativeCrc32c();

/** Which implementation `crc32c` uses for inputs of `nativeMinBytes` or more. */
export const crc32cImplementation: 'native' | 'js' = native === undefined ? 'js' : 'native';

/** CRC32C of `data`, continuing from `initial` (a previous result) when given. */
export const crc32c: Crc32cFn =
  native === undefined ? crc32cJs : (data, initial = 0) => (data.length < nativeMinBytes ? crc32cJs(data, initial) : native(data, initial));
