import { describe, expect, it } from 'vitest';
import { bucketChoose, makeBucket } from '../../../src/actors/rados/crush/index.js';
import type { Bucket, BucketAlg } from '../../../src/actors/rados/crush/index.js';
import { straw2ChooseFlat } from '../../../src/actors/rados/crush/buckets.js';
import { straw2LnTable } from '../../../src/actors/rados/crush/ln.js';
import { STRAW2_REGION_OFFSET, straw2DrawModule } from '../../../src/actors/rados/crush/wasm/straw2-draw.js';

const W = 0x10000;

function bucket(alg: BucketAlg, weights: number[], strawCalcVersion = 1, id = -1): Bucket {
  return makeBucket({ id, name: 'b', type: 1, alg, items: weights.map((_, i) => i), weights: weights.map((w) => Math.round(w * W)) }, strawCalcVersion);
}

function shares(b: Bucket, draws = 200_000): number[] {
  const counts = new Array<number>(b.items.length).fill(0);
  for (let x = 0; x < draws; x++) {
    const item = bucketChoose(b, x, 0);
    counts[item] = (counts[item] ?? 0) + 1;
  }
  return counts.map((c) => c / draws);
}

describe('bucket types (thesis §5.2.4, Table 5.2; digest §2.5)', () => {
  it('tree node labels are the in-order index: six leaves give root 8 and leaves 1,3,…,11 (Fig 5.4; README I3)', () => {
    const b = bucket('tree', [1, 2, 3, 4, 5, 6]);
    expect(b.nodeWeights.length).toBe(16);
    expect(b.nodeWeights[8]).toBe(21 * W); // the root holds the total
    expect([1, 3, 5, 7, 9, 11].map((n) => b.nodeWeights[n])).toEqual([1, 2, 3, 4, 5, 6].map((w) => w * W));
    expect(b.nodeWeights[4]).toBe(10 * W); // left subtree: leaves 1,3,5,7
    expect(b.nodeWeights[12]).toBe(11 * W); // right subtree: leaves 9,11
  });

  it('growing a tree keeps every existing node label: only nodes on the new leaf path change (README I3)', () => {
    const small = bucket('tree', [1, 1, 1, 1, 1]);
    const grown = bucket('tree', [1, 1, 1, 1, 1, 1]);
    for (const leaf of [1, 3, 5, 7, 9]) expect(grown.nodeWeights[leaf]).toBe(small.nodeWeights[leaf]);
  });

  it('the list bucket keeps prefix sums, newest item last (thesis §5.2.4.2)', () => {
    expect(bucket('list', [1, 2, 3]).sumWeights).toEqual([1 * W, 3 * W, 6 * W]);
  });

  it('a uniform bucket yields a permutation: r = 0..size-1 gives every item once (thesis §5.2.4.1)', () => {
    const b = bucket('uniform', [1, 1, 1, 1, 1, 1, 1]);
    for (let x = 0; x < 200; x++) {
      const seen = new Set<number>();
      for (let r = 0; r < 7; r++) seen.add(bucketChoose(b, x, r));
      expect(seen.size).toBe(7);
    }
  });

  it('Algorithm 2 with the += correction gives f = 1, 1.158, 1.275, 1.377, 1.475 for weights 1..5 (digest §2.5 NOTE)', () => {
    const b = bucket('straw', [1, 2, 3, 4, 5], 0);
    const f = b.straws.map((s) => s / W);
    [1, 1.158, 1.275, 1.377, 1.475].forEach((want, i) => expect(f[i]).toBeCloseTo(want, 3));
  });

  it.each(['list', 'tree', 'straw', 'straw2'] as const)('%s buckets with distinct weights pick items in proportion to weight (thesis §5.3.1)', (alg) => {
    const got = shares(bucket(alg, [1, 2, 3, 4, 5]));
    [1, 2, 3, 4, 5].forEach((w, i) => expect(Math.abs((got[i] as number) - w / 15)).toBeLessThan(0.006));
  });

  it('original straw (straw_calc_version 0) under-weights the light item of [3,3,3,1]: ≈.073, not .100 (digest §2.5 NOTE)', () => {
    const got = shares(bucket('straw', [3, 3, 3, 1], 0));
    expect(got[3]).toBeGreaterThan(0.065);
    expect(got[3]).toBeLessThan(0.081);
  });

  it('straw2 is exact where straw is not: [3,3,3,1] gives the light item .100 (thesis §5.2.4.4 fix)', () => {
    const got = shares(bucket('straw2', [3, 3, 3, 1]));
    expect(Math.abs((got[3] as number) - 0.1)).toBeLessThan(0.004);
  });

  it("straw2 draws are independent of other items' weights: reweighting one item moves data only to or from it (thesis §5.2.4.4 fix, README I4)", () => {
    const before = bucket('straw2', [1, 2, 3, 4, 5]);
    const after = bucket('straw2', [1, 2, 1.5, 4, 5]);
    for (let x = 0; x < 50_000; x++) {
      const a = bucketChoose(before, x, 0);
      const b = bucketChoose(after, x, 0);
      if (a !== b) expect(a).toBe(2); // only the lightened item loses inputs
    }
  });

  it('a zero-weight item is never chosen by straw2 while others have weight', () => {
    const b = bucket('straw2', [1, 0, 1]);
    for (let x = 0; x < 10_000; x++) expect(bucketChoose(b, x, 0)).not.toBe(1);
  });

  it('rejects mismatched items and weights, and positive ids', () => {
    expect(() => makeBucket({ id: -1, name: 'b', type: 1, alg: 'list', items: [0, 1], weights: [W] }, 1)).toThrow(RangeError);
    expect(() => makeBucket({ id: 3, name: 'b', type: 1, alg: 'list', items: [0], weights: [W] }, 1)).toThrow(RangeError);
  });

  it('the mapper\'s flat straw2 choose equals straw2\'s c(r, x): ids of both signs, zero and mixed weights, r up to 60 (README I0, I1)', () => {
    const ln = straw2LnTable();
    const cases: Array<[number[], number[]]> = [
      [[0, 1, 2, 3], [W, W, W, W]],
      [[-2, -3, -4], [3 * W, 0x8000, 0x7fffffff]],
      [[5, 9, 0x7ffffff0], [0, W, 0]],
      [[7, 8], [0, 0]],
      [[11], [W]],
    ];
    for (const [items, weights] of cases) {
      const b = makeBucket({ id: -9, name: 'b', type: 1, alg: 'straw2', items, weights }, 1);
      const flatItems = Int32Array.from(items);
      const flatWeights = Float64Array.from(weights);
      for (let x = -50; x < 2000; x++) {
        const xi = x * 2654435761;
        for (const r of [0, 1, 2, 7, 60]) expect(straw2ChooseFlat(flatItems, flatWeights, ln, xi | 0, r)).toBe(bucketChoose(b, xi | 0, r));
      }
    }
  });

  it('the WebAssembly straw2 draw (four hashes per SIMD register) picks what straw2\'s c(r, x) picks: 1 to 13 items, ids of both signs, zero and mixed weights (README I0–I2)', () => {
    const module = straw2DrawModule();
    expect(module).toBeDefined(); // Node has WebAssembly SIMD; elsewhere the JS loop above serves
    if (module === undefined) return;
    const owner = {};
    for (const size of [1, 2, 3, 4, 5, 8, 13]) {
      const items = Array.from({ length: size }, (_, i) => (i % 2 === 0 ? -2 - i : i * 1_000_003));
      for (const weights of [items.map(() => W), items.map((_, i) => (i % 3 === 0 ? 0 : (i + 1) * 0x9000)), items.map(() => 0)]) {
        const b = makeBucket({ id: -9, name: 'b', type: 1, alg: 'straw2', items, weights }, 1);
        const weightsOffset = STRAW2_REGION_OFFSET;
        const itemsOffset = weightsOffset + 8 * 16;
        const image = new Uint8Array(8 * 16 + 4 * 16);
        new Float64Array(image.buffer, 0, size).set(weights);
        new Int32Array(image.buffer, 8 * 16, size).set(items);
        module.load(owner, image);
        for (let x = -50; x < 1000; x++) {
          const xi = (x * 2654435761) | 0;
          for (const r of [0, 1, 3, 60]) expect(items[module.draw(itemsOffset, weightsOffset, size, xi, r)]).toBe(bucketChoose(b, xi, r));
        }
      }
    }
  });
});
