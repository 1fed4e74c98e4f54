/**
 * Bench suite `crush` (issue 8; thesis §5.3.3, Figs 5.7–5.8; digest §6.2 B5, B6). Mapping rate
 * for hierarchies of 8-item buckets of each type as the device count grows (B5: logarithmic in
 * devices), and the choose rate c(r, x) of single buckets of 8 and 64 items (B6: uniform O(1),
 * tree O(log n), list and straw O(n)); and mapping with 50% / 80% of the devices failed but left
 * in the map (B8, thesis §5.3.3.1: +71% time at 50%). Side by side in one run; read the ratios.
 */
import type { BenchCase, BenchSuite } from '../harness.js';
import { bucketChoose, buildCrushMap, makeBucket, mapRule } from '../../actors/rados/crush/index.js';
import type { BucketAlg, BucketSpec, CrushMap, Device, Rule } from '../../actors/rados/crush/index.js';

const W = 0x10000;
const MAPPINGS = 10_000;
const CHOOSES = 100_000;

/** A hierarchy of `levels` levels of 8-item buckets above 8^levels devices (weights 1). */
function hierarchy(alg: BucketAlg, levels: number): { map: CrushMap; rule: Rule } {
  const devices: Device[] = [];
  const buckets: BucketSpec[] = [];
  let nextId = -2;
  let dev = 0;
  const build = (level: number): number => {
    const items: number[] = [];
    for (let i = 0; i < 8; i++) {
      if (level === 1) {
        devices.push({ id: dev, name: `osd.${dev}` });
        items.push(dev++);
      } else items.push(build(level - 1));
    }
    const id = level === levels ? -1 : nextId--;
    buckets.push({ id, name: `b${-id}`, type: level, alg, items, ...(alg === 'uniform' ? { weights: items.map(() => (8 ** (level - 1)) * W) } : {}) });
    return id;
  };
  build(levels);
  const types = Array.from({ length: levels + 1 }, (_, i) => ({ id: i, name: i === 0 ? 'osd' : `level${i}` }));
  const rule: Rule = { id: 0, name: 'r', type: 'replicated', minSize: 1, maxSize: 3, steps: [{ op: 'take', item: -1 }, { op: 'choose', leaf: false, mode: 'firstn', num: 3, type: 0 }, { op: 'emit' }] };
  return { map: buildCrushMap({ devices, types, buckets, rules: [rule] }), rule };
}

/** Mapping rate; `failedPercent` of the devices (every k-th) are reweighted to 0 but stay in the map (B8). */
function mapCase(alg: BucketAlg, levels: number, failedPercent = 0): BenchCase {
  const { map, rule } = hierarchy(alg, levels);
  const weights = new Array<number>(map.maxDevices).fill(W);
  for (let d = 0; d < weights.length; d++) if ((d * 37) % 100 < failedPercent) weights[d] = 0;
  let x = 0;
  return {
    name: `map:${alg}-${8 ** levels}${failedPercent > 0 ? `-failed${failedPercent}` : ''}`,
    unit: 'ops',
    perIteration: MAPPINGS,
    run: () => {
      for (let i = 0; i < MAPPINGS; i++) mapRule(map, rule, x++, 3, weights);
    },
  };
}

function chooseCase(alg: BucketAlg, size: number): BenchCase {
  const items = Array.from({ length: size }, (_, i) => i);
  const bucket = makeBucket({ id: -1, name: 'b', type: 1, alg, items, weights: items.map(() => W) }, 1);
  let x = 0;
  return {
    name: `choose:${alg}-${size}`,
    unit: 'ops',
    perIteration: CHOOSES,
    run: () => {
      for (let i = 0; i < CHOOSES; i++) bucketChoose(bucket, x++, 0);
    },
  };
}

const ALGS: readonly BucketAlg[] = ['uniform', 'list', 'tree', 'straw', 'straw2'];

const suite: BenchSuite = {
  name: 'crush',
  cases: [
    ...ALGS.map((alg) => mapCase(alg, 3)),
    ...[1, 2, 4].map((levels) => mapCase('straw2', levels)),
    mapCase('straw2', 3, 50),
    mapCase('straw2', 3, 80),
    ...ALGS.flatMap((alg) => [chooseCase(alg, 8), chooseCase(alg, 64)]),
  ],
  timeMs: 500,
};

export default suite;
