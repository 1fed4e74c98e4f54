/**
 * Seeded pseudo-random numbers: xoshiro128** (Blackman & Vigna), seeded through splitmix32.
 *
 * Every source of randomness in actor and storage code is a `Random` handed out by the runtime
 * (`ctx.random`), so a simulated run replays exactly from its seed. `fork(label)` derives an
 * independent stream from the label alone, so adding a consumer never shifts another's numbers.
 */
export interface Random {
  /** The seed this stream was created from (forks report their derived seed). */
  readonly seed: number;
  /** A float in [0, 1). */
  next(): number;
  /** An unsigned 32-bit integer. */
  uint32(): number;
  /** An integer in [0, maxExclusive). `maxExclusive` must be a positive safe integer. */
  int(maxExclusive: number): number;
  /** An integer in [min, max] (both inclusive). */
  range(min: number, max: number): number;
  /** true with probability p. */
  chance(p: number): boolean;
  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T;
  /** Shuffles in place (Fisher–Yates) and returns the array. */
  shuffle<T>(items: T[]): T[];
  /** n random bytes. */
  bytes(n: number): Uint8Array;
  /** An independent stream derived from this stream's seed and `label`. */
  fork(label: string): Random;
}

const U32 = 0x1_0000_0000;

function splitmix32(state: number): [next: number, out: number] {
  const s = (state + 0x9e3779b9) | 0;
  let z = s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  z ^= z >>> 16;
  return [s, z >>> 0];
}

/** FNV-1a over a string, used to derive fork seeds from labels. */
function fnv1a(text: string, basis = 0x811c9dc5): number {
  let h = basis >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

class Xoshiro128 implements Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(readonly seed: number) {
    if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a safe integer, got ${seed}`);
    // Mix both halves of a 53-bit seed so that seeds differing only in high bits diverge.
    let st = (seed % U32) ^ Math.imul(Math.floor(seed / U32), 0x27d4eb2d);
    let out: number;
    [st, out] = splitmix32(st);
    this.a = out;
    [st, out] = splitmix32(st);
    this.b = out;
    [st, out] = splitmix32(st);
    this.c = out;
    [, out] = splitmix32(st);
    this.d = out;
    if ((this.a | this.b | this.c | this.d) === 0) this.d = 1;
  }

  uint32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  next(): number {
    // 53 bits of randomness from two draws.
    const hi = this.uint32() >>> 5;
    const lo = this.uint32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  int(maxExclusive: number): number {
    if (!(maxExclusive > 0) || !Number.isSafeInteger(maxExclusive)) {
      throw new RangeError(`int(max) needs a positive safe integer, got ${maxExclusive}`);
    }
    if (maxExclusive <= U32) {
      // Rejection sampling: no modulo bias.
      const limit = U32 - (U32 % maxExclusive);
      for (;;) {
        const x = this.uint32();
        if (x < limit) return x % maxExclusive;
      }
    }
    return Math.floor(this.next() * maxExclusive);
  }

  range(min: number, max: number): number {
    if (max < min) throw new RangeError(`range(${min}, ${max}): max < min`);
    return min + this.int(max - min + 1);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick() from an empty array');
    return items[this.int(items.length)] as T;
  }

  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = items[i] as T;
      items[i] = items[j] as T;
      items[j] = tmp;
    }
    return items;
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += 4) {
      let x = this.uint32();
      for (let k = 0; k < 4 && i + k < n; k++) {
        out[i + k] = x & 0xff;
        x >>>= 8;
      }
    }
    return out;
  }

  fork(label: string): Random {
    const h1 = fnv1a(label, fnv1a(String(this.seed)));
    const h2 = fnv1a(label, h1 ^ 0x5bd1e995);
    return new Xoshiro128((h1 % 0x20_0000) * U32 + h2);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** A seeded stream: the same seed gives the same numbers on every platform. */
export function seededRandom(seed: number): Random {
  return new Xoshiro128(seed);
}
