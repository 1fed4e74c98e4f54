/**
 * CRUSH buckets: construction (derived weights) and the choose function c(r, x) of each type
 * (thesis §5.2.4, Table 5.2; digest §2.5). README invariants I2–I4.
 *
 * Weights are 16.16 fixed point (0x10000 = 1.0) as Ceph's compiler produces them, and every
 * derived weight (list prefix sums, tree node sums, bucket totals) wraps like C's uint32.
 *
 * Each choose function is a pure function of (bucket, x, r). Ceph caches the uniform bucket's
 * permutation between calls; the cache never changes a result, so it is left out here.
 */
import { crushHash32_3, crushHash32_4 } from './hash.js';
import { straw2LnTable } from './ln.js';

/** Per-bucket straw2 overrides (Ceph's choose_args): see crush-map.ts `ChooseArg`. */
export interface StrawOverrides {
  readonly weightSet?: ReadonlyArray<readonly number[]>;
  readonly ids?: readonly number[];
}

export const BUCKET_ALGS = ['uniform', 'list', 'tree', 'straw', 'straw2'] as const;
export type BucketAlg = (typeof BUCKET_ALGS)[number];

/** Ceph's numeric alg ids (`CRUSH_BUCKET_*`), used for `allowed_bucket_algs` and indep's retry rule. */
export const BUCKET_ALG_ID: Readonly<Record<BucketAlg, number>> = { uniform: 1, list: 2, tree: 3, straw: 4, straw2: 5 };

/** A built bucket: its items and weights plus what its algorithm precomputes. */
export interface Bucket {
  /** Negative; the bucket's slot in the map is `-1 - id`. */
  readonly id: number;
  readonly name: string;
  /** Type id (`type N name` in the text map); devices are type 0. */
  readonly type: number;
  readonly alg: BucketAlg;
  /** Hash type; only 0 (rjenkins1) exists. */
  readonly hash: number;
  readonly items: readonly number[];
  /** 16.16 weight of each item (a uniform bucket repeats its one item weight). */
  readonly itemWeights: readonly number[];
  /** Sum of item weights, uint32. */
  readonly weight: number;
  /** list: prefix sums of item weights (item 0 is the oldest). Empty otherwise. */
  readonly sumWeights: readonly number[];
  /** tree: node weights indexed by in-order node label; length `numNodes`. Empty otherwise. */
  readonly nodeWeights: readonly number[];
  /** straw: each item's straw length (16.16), from Algorithm 2. Empty otherwise. */
  readonly straws: readonly number[];
  /** For a device-class shadow copy: the bucket it copies, and the class it keeps. */
  readonly shadowOf?: number;
  readonly deviceClass?: string;
}

export interface BucketInput {
  readonly id: number;
  readonly name: string;
  readonly type: number;
  readonly alg: BucketAlg;
  readonly hash?: number;
  readonly items: readonly number[];
  readonly weights: readonly number[];
}

function assertWeight(w: number, what: string): void {
  if (!Number.isInteger(w) || w < 0 || w > 0xffffffff) throw new RangeError(`${what}: weight ${w} is not a 16.16 uint32`);
}

/**
 * Builds a bucket and its precomputed tables. `strawCalcVersion` selects Ceph's straw length
 * computation (tunable `straw_calc_version`; only straw buckets use it).
 */
export function makeBucket(input: BucketInput, strawCalcVersion: number): Bucket {
  const { id, name, type, alg, items } = input;
  const hash = input.hash ?? 0;
  if (!Number.isInteger(id) || id >= 0) throw new RangeError(`bucket ${name}: id ${id} must be a negative integer`);
  if (items.length !== input.weights.length) throw new RangeError(`bucket ${name}: ${items.length} items but ${input.weights.length} weights`);
  input.weights.forEach((w, i) => assertWeight(w, `bucket ${name} item ${i}`));
  const base = { id, name, type, alg, hash, items: [...items] };
  switch (alg) {
    case 'uniform': {
      // Ceph keeps one item weight for the whole bucket: the first item's.
      const itemWeight = input.weights[0] ?? 0;
      return { ...base, itemWeights: items.map(() => itemWeight), weight: (items.length * itemWeight) >>> 0, sumWeights: [], nodeWeights: [], straws: [] };
    }
    case 'list': {
      const sumWeights: number[] = [];
      let sum = 0;
      for (const w of input.weights) {
        sum = (sum + w) >>> 0;
        sumWeights.push(sum);
      }
      return { ...base, itemWeights: [...input.weights], weight: sum, sumWeights, nodeWeights: [], straws: [] };
    }
    case 'tree': {
      const nodeWeights = treeNodeWeights(input.weights);
      const weight = input.weights.reduce((s, w) => (s + w) >>> 0, 0);
      return { ...base, itemWeights: [...input.weights], weight, sumWeights: [], nodeWeights, straws: [] };
    }
    case 'straw': {
      const weight = input.weights.reduce((s, w) => (s + w) >>> 0, 0);
      return { ...base, itemWeights: [...input.weights], weight, sumWeights: [], nodeWeights: [], straws: strawLengths(input.weights, strawCalcVersion) };
    }
    case 'straw2': {
      const weight = input.weights.reduce((s, w) => (s + w) >>> 0, 0);
      return { ...base, itemWeights: [...input.weights], weight, sumWeights: [], nodeWeights: [], straws: [] };
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Tree buckets (thesis §5.2.4.3, Fig 5.4; digest §2.5): a binary tree whose nodes are labelled
// by their 1-based in-order index. Leaf k has label 2k+1; a node of height h has h trailing
// zero bits; its children are n ∓ 2^(h-1). Growing the tree only adds nodes at the root, so
// existing labels (and therefore existing hash inputs) never change (README I3).

function treeHeight(n: number): number {
  let h = 0;
  while ((n & 1) === 0) {
    h++;
    n >>= 1;
  }
  return h;
}

function treeLeft(n: number): number {
  return n - (1 << (treeHeight(n) - 1));
}

function treeRight(n: number): number {
  return n + (1 << (treeHeight(n) - 1));
}

function treeParent(n: number): number {
  const h = treeHeight(n);
  return (n & (1 << (h + 1))) !== 0 ? n - (1 << h) : n + (1 << h);
}

/** Depth of the tree that holds `size` leaves: 1 + ceil(log2(size)). */
function treeDepth(size: number): number {
  let depth = 1;
  for (let t = size - 1; t > 0; t >>= 1) depth++;
  return depth;
}

/** The in-order label of leaf i. */
export function treeLeafNode(i: number): number {
  return ((i + 1) << 1) - 1;
}

function treeNodeWeights(weights: readonly number[]): number[] {
  if (weights.length === 0) return [];
  const depth = treeDepth(weights.length);
  const nodeWeights = new Array<number>(1 << depth).fill(0);
  weights.forEach((w, i) => {
    let node = treeLeafNode(i);
    nodeWeights[node] = w;
    for (let j = 1; j < depth; j++) {
      node = treeParent(node);
      nodeWeights[node] = ((nodeWeights[node] ?? 0) + w) >>> 0;
    }
  });
  return nodeWeights;
}

// ---------------------------------------------------------------------------------------------
// Straw buckets (thesis §5.2.4.4, Algorithm 2). The thesis prints `wbelow ← (wbelow + w − lastw)
// × numleft`; Ceph (and the digest's correction, §2.5 NOTE) accumulates with `+=`. Version 0 is
// the original computation, which is inaccurate when weights repeat; version 1 is Ceph's later
// fix (one item retired per step, zero weights retire too). Floating point here is plain
// IEEE-754 double, as in C; lengths are truncated to uint32 16.16 like the C assignment.

function strawLengths(weights: readonly number[], version: number): number[] {
  const size = weights.length;
  const w = (i: number): number => weights[i] as number;
  // Indices sorted ascending by weight; ties keep index order (a stable insertion sort).
  const reverse: number[] = [];
  for (let i = 0; i < size; i++) {
    let j = 0;
    while (j < reverse.length && !(w(i) < w(reverse[j] as number))) j++;
    reverse.splice(j, 0, i);
  }
  const rev = (i: number): number => reverse[i] as number;
  const straws = new Array<number>(size).fill(0);
  let numleft = size;
  let straw = 1.0;
  let wbelow = 0;
  let lastw = 0;
  let i = 0;
  while (i < size) {
    if (version === 0) {
      if (w(rev(i)) === 0) {
        straws[rev(i)] = 0;
        i++;
        continue;
      }
      straws[rev(i)] = Math.trunc(straw * 0x10000) >>> 0;
      i++;
      if (i === size) break;
      if (w(rev(i)) === w(rev(i - 1))) continue;
      wbelow += (w(rev(i - 1)) - lastw) * numleft;
      for (let j = i; j < size; j++) {
        if (w(rev(j)) === w(rev(i))) numleft--;
        else break;
      }
      // C computes this product in unsigned 32-bit arithmetic, so it wraps.
      const wnext = Math.imul(numleft, (w(rev(i)) - w(rev(i - 1))) >>> 0) >>> 0;
      const pbelow = wbelow / (wbelow + wnext);
      straw *= Math.pow(1.0 / pbelow, 1.0 / numleft);
      lastw = w(rev(i - 1));
    } else {
      if (w(rev(i)) === 0) {
        straws[rev(i)] = 0;
        i++;
        numleft--;
        continue;
      }
      straws[rev(i)] = Math.trunc(straw * 0x10000) >>> 0;
      i++;
      if (i === size) break;
      wbelow += (w(rev(i - 1)) - lastw) * numleft;
      numleft--;
      const wnext = Math.imul(numleft, (w(rev(i)) - w(rev(i - 1))) >>> 0) >>> 0;
      const pbelow = wbelow / (wbelow + wnext);
      straw *= Math.pow(1.0 / pbelow, 1.0 / numleft);
      lastw = w(rev(i - 1));
    }
  }
  return straws;
}

// ---------------------------------------------------------------------------------------------
// Choose functions c(r, x).

/**
 * Uniform bucket (thesis §5.2.4.1): the r-th element of a pseudo-random permutation of the
 * items seeded by (x, bucket id). The thesis's `(hash(x) + r·p) mod m` with a prime p was
 * replaced in Ceph by this hashed Fisher–Yates permutation (digest §2.5 [impl]); the chooser's
 * local fallback search uses it for every bucket type.
 */
export function permChoose(b: Bucket, x: number, r: number): number {
  const size = b.items.length;
  const pr = (r >>> 0) % size;
  if (pr === 0) {
    // The common r = 0 case: only the first swap of the permutation is needed.
    const s = crushHash32_3(x, b.id, 0) % size;
    return b.items[s] as number;
  }
  const perm: number[] = [];
  for (let i = 0; i < size; i++) perm.push(i);
  for (let p = 0; p <= pr; p++) {
    if (p < size - 1) {
      const i = crushHash32_3(x, b.id, p) % (size - p);
      if (i !== 0) {
        const t = perm[p + i] as number;
        perm[p + i] = perm[p] as number;
        perm[p] = t;
      }
    }
  }
  return b.items[perm[pr] as number] as number;
}

/**
 * List bucket (thesis §5.2.4.2): walk from the newest item (the end) to the oldest; take item i
 * with probability w_i / (w_i + Σ older weights).
 */
function listChoose(b: Bucket, x: number, r: number): number {
  for (let i = b.items.length - 1; i >= 0; i--) {
    const item = b.items[i] as number;
    const h = crushHash32_4(x, item, r, b.id) & 0xffff;
    // h < 2^16 and the sum < 2^32, so the product is exact in a double.
    const scaled = Math.floor((h * (b.sumWeights[i] as number)) / 0x10000);
    if (scaled < (b.itemWeights[i] as number)) return item;
  }
  return b.items[0] as number;
}

/** floor(a · b / 2^32) for uint32 a, b, exact (the 64-bit product does not fit a double). */
function mulHigh32(a: number, b: number): number {
  const hi = a * (b >>> 16); // < 2^48
  const lo = a * (b & 0xffff); // < 2^48
  return Math.floor((hi + Math.floor(lo / 0x10000)) / 0x10000);
}

/** Tree bucket (thesis §5.2.4.3): descend from the root, going left with probability w_left / w. */
function treeChoose(b: Bucket, x: number, r: number): number {
  let n = b.nodeWeights.length >> 1;
  while ((n & 1) === 0) {
    const w = b.nodeWeights[n] as number;
    const t = mulHigh32(crushHash32_4(x, n, r, b.id), w);
    const l = treeLeft(n);
    n = t < (b.nodeWeights[l] as number) ? l : treeRight(n);
  }
  return b.items[n >> 1] as number;
}

/** Straw bucket (thesis §5.2.4.4): the longest scaled straw wins; ties go to the lowest index. */
function strawChoose(b: Bucket, x: number, r: number): number {
  let high = 0;
  let highDraw = 0;
  for (let i = 0; i < b.items.length; i++) {
    const draw = (crushHash32_3(x, b.items[i] as number, r) & 0xffff) * (b.straws[i] as number);
    if (i === 0 || draw > highDraw) {
      high = i;
      highDraw = draw;
    }
  }
  return b.items[high] as number;
}

/**
 * Straw2 bucket (Ceph's successor to straw, digest §2.5 [impl, optional]): each item draws
 * ln(u)/w independently of the others, so a weight change moves data only to or from the
 * changed item (README I4). The division truncates toward zero like C's signed 64-bit divide;
 * the numerator is below 2^49 in magnitude, so `Math.trunc(n / w)` is exact.
 */
function straw2Choose(b: Bucket, x: number, r: number, arg: StrawOverrides | undefined, position: number): number {
  const ln = straw2LnTable();
  // choose_args: the weight set row for this result position (the last row for later ones),
  // and the ids to hash in place of the item ids.
  let weights = b.itemWeights;
  if (arg?.weightSet !== undefined && arg.weightSet.length > 0) weights = arg.weightSet[Math.min(position, arg.weightSet.length - 1)] as readonly number[];
  const ids = arg?.ids ?? b.items;
  let high = 0;
  let highDraw = -Infinity;
  for (let i = 0; i < b.items.length; i++) {
    const w = weights[i] as number;
    let draw: number;
    if (w !== 0) {
      const u = crushHash32_3(x, ids[i] as number, r) & 0xffff;
      draw = Math.trunc((ln[u] as number) / w);
    } else {
      draw = -Infinity; // S64_MIN in C: a zero-weight item never wins unless all are zero.
    }
    if (i === 0 || draw > highDraw) {
      high = i;
      highDraw = draw;
    }
  }
  return b.items[high] as number;
}

/**
 * straw2's choose over flat typed arrays (item ids as int32, 16.16 weights as doubles): the
 * same draws and tie rule as `straw2Choose` without choose_args, for the mapper's hot loop.
 * `ln` is `straw2LnTable()`. test/unit/crush/buckets.test.ts holds it to `bucketChoose`.
 */
export function straw2ChooseFlat(items: Int32Array, weights: Float64Array, ln: Float64Array, x: number, r: number): number {
  const size = items.length;
  let high = 0;
  let highDraw = -Infinity;
  for (let i = 0; i < size; i++) {
    const w = weights[i] as number;
    // A zero weight draws -Infinity (S64_MIN in C): it never wins unless all weights are zero.
    let draw = -Infinity;
    if (w !== 0) {
      // crushHash32_3(x, items[i], r) written out, as int32 (only its low 16 bits are used):
      // V8 does not inline the hash (its bytecode is over the inlining limit), and a call per
      // item costs ~8 % of a mapping. Each subtraction is truncated at once so every step stays
      // in word32 arithmetic; the result is the same 32 bits (README I1).
      let a = x | 0;
      let b = items[i] as number;
      let c = r | 0;
      let h = 1315423911 ^ a ^ b ^ c;
      let hx = 231232;
      let hy = 1232;
      // mix(a, b, h)
      a = ((((a - b) | 0) - h) | 0) ^ (h >>> 13);
      b = ((((b - h) | 0) - a) | 0) ^ (a << 8);
      h = ((((h - a) | 0) - b) | 0) ^ (b >>> 13);
      a = ((((a - b) | 0) - h) | 0) ^ (h >>> 12);
      b = ((((b - h) | 0) - a) | 0) ^ (a << 16);
      h = ((((h - a) | 0) - b) | 0) ^ (b >>> 5);
      a = ((((a - b) | 0) - h) | 0) ^ (h >>> 3);
      b = ((((b - h) | 0) - a) | 0) ^ (a << 10);
      h = ((((h - a) | 0) - b) | 0) ^ (b >>> 15);
      // mix(c, hx, h)
      c = ((((c - hx) | 0) - h) | 0) ^ (h >>> 13);
      hx = ((((hx - h) | 0) - c) | 0) ^ (c << 8);
      h = ((((h - c) | 0) - hx) | 0) ^ (hx >>> 13);
      c = ((((c - hx) | 0) - h) | 0) ^ (h >>> 12);
      hx = ((((hx - h) | 0) - c) | 0) ^ (c << 16);
      h = ((((h - c) | 0) - hx) | 0) ^ (hx >>> 5);
      c = ((((c - hx) | 0) - h) | 0) ^ (h >>> 3);
      hx = ((((hx - h) | 0) - c) | 0) ^ (c << 10);
      h = ((((h - c) | 0) - hx) | 0) ^ (hx >>> 15);
      // mix(hy, a, h)
      hy = ((((hy - a) | 0) - h) | 0) ^ (h >>> 13);
      a = ((((a - h) | 0) - hy) | 0) ^ (hy << 8);
      h = ((((h - hy) | 0) - a) | 0) ^ (a >>> 13);
      hy = ((((hy - a) | 0) - h) | 0) ^ (h >>> 12);
      a = ((((a - h) | 0) - hy) | 0) ^ (hy << 16);
      h = ((((h - hy) | 0) - a) | 0) ^ (a >>> 5);
      hy = ((((hy - a) | 0) - h) | 0) ^ (h >>> 3);
      a = ((((a - h) | 0) - hy) | 0) ^ (hy << 10);
      h = ((((h - hy) | 0) - a) | 0) ^ (a >>> 15);
      // mix(b, hx, h)
      b = ((((b - hx) | 0) - h) | 0) ^ (h >>> 13);
      hx = ((((hx - h) | 0) - b) | 0) ^ (b << 8);
      h = ((((h - b) | 0) - hx) | 0) ^ (hx >>> 13);
      b = ((((b - hx) | 0) - h) | 0) ^ (h >>> 12);
      hx = ((((hx - h) | 0) - b) | 0) ^ (b << 16);
      h = ((((h - b) | 0) - hx) | 0) ^ (hx >>> 5);
      b = ((((b - hx) | 0) - h) | 0) ^ (h >>> 3);
      hx = ((((hx - h) | 0) - b) | 0) ^ (b << 10);
      h = ((((h - b) | 0) - hx) | 0) ^ (hx >>> 15);
      // mix(hy, c, h)
      hy = ((((hy - c) | 0) - h) | 0) ^ (h >>> 13);
      c = ((((c - h) | 0) - hy) | 0) ^ (hy << 8);
      h = ((((h - hy) | 0) - c) | 0) ^ (c >>> 13);
      hy = ((((hy - c) | 0) - h) | 0) ^ (h >>> 12);
      c = ((((c - h) | 0) - hy) | 0) ^ (hy << 16);
      h = ((((h - hy) | 0) - c) | 0) ^ (c >>> 5);
      hy = ((((hy - c) | 0) - h) | 0) ^ (h >>> 3);
      c = ((((c - h) | 0) - hy) | 0) ^ (hy << 10);
      h = ((((h - hy) | 0) - c) | 0) ^ (c >>> 15);
      draw = Math.trunc((ln[h & 0xffff] as number) / w);
    }
    if (i === 0 || draw > highDraw) {
      high = i;
      highDraw = draw;
    }
  }
  return items[high] as number;
}

/**
 * c(r, x) of the bucket. The bucket must not be empty (callers check). `arg` and `position`
 * (the result position being filled) matter only to straw2 buckets with choose_args.
 */
export function bucketChoose(b: Bucket, x: number, r: number, arg?: StrawOverrides, position = 0): number {
  switch (b.alg) {
    case 'uniform':
      return permChoose(b, x, r);
    case 'list':
      return listChoose(b, x, r);
    case 'tree':
      return treeChoose(b, x, r);
    case 'straw':
      return strawChoose(b, x, r);
    case 'straw2':
      return straw2Choose(b, x, r, arg, position);
  }
}
