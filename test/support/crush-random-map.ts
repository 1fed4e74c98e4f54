/**
 * Random CRUSH maps from a seed, for the property tests and the crushtool cross-check. Each seed
 * picks a hierarchy shape (1–3 levels above the devices), sizes, a bucket algorithm per bucket,
 * device weights (multiples of 1/64, so a C float holds them exactly), tunables (Ceph's current
 * defaults or the legacy profile, straw_calc_version 0 or 1), a set of rules (choose/chooseleaf,
 * firstn/indep, n <= 0, set_* steps, several take/emit blocks) and device reweights.
 */
import { BUCKET_ALGS, DEFAULT_TUNABLES, LEGACY_TUNABLES, buildCrushMap } from '../../src/actors/rados/crush/index.js';
import type { BucketAlg, BucketSpec, ChooseArg, CrushMap, Device, Rule, RuleStep, Tunables } from '../../src/actors/rados/crush/index.js';
import { seededRandom } from '../../src/runtime/random.js';

export interface RandomCrushCase {
  readonly seed: number;
  readonly map: CrushMap;
  /** Per rule id, the result counts to test with. */
  readonly numReps: ReadonlyMap<number, readonly number[]>;
  /** crushtool `--weight OSD W` pairs. */
  readonly reweights: ReadonlyArray<readonly [number, number]>;
  readonly describe: string;
}

const TYPES = [
  { id: 0, name: 'osd' },
  { id: 1, name: 'host' },
  { id: 2, name: 'rack' },
  { id: 3, name: 'root' },
];

export interface RandomMapOptions {
  /** Force every bucket to this alg. */
  readonly alg?: BucketAlg;
  /** Levels above devices: 1 = root → osds, 2 = root → host → osd, 3 = root → rack → host → osd. */
  readonly levels?: 1 | 2 | 3;
  /**
   * Give devices classes (hdd/ssd/nvme) and add class rules. Bucket algs are then list, straw or
   * straw2: Ceph cannot copy uniform buckets into shadow trees, and its tree copies read
   * uninitialised memory.
   */
  readonly classes?: boolean;
  /** Add choose_args (weight sets with 1–3 positions, sometimes ids) for some buckets. */
  readonly chooseArgs?: boolean;
}

export function randomCrushCase(seed: number, options: RandomMapOptions = {}): RandomCrushCase {
  const rnd = seededRandom(seed);
  const levels = options.levels ?? ([1, 2, 3, 3, 2] as const)[seed % 5] ?? 2;
  const big = seed % 7 === 3;
  const classAlgs: readonly BucketAlg[] = ['list', 'straw', 'straw2'];
  const pickAlg = (): BucketAlg => options.alg ?? rnd.pick(options.classes ? classAlgs : BUCKET_ALGS);
  const classFor = (id: number): string | undefined => (!options.classes ? undefined : id < 2 ? (['hdd', 'ssd'] as const)[id] : rnd.chance(0.1) ? 'nvme' : rnd.pick(['hdd', 'ssd']));
  let tunables: Tunables;
  switch (seed % 4) {
    case 0:
      tunables = { ...LEGACY_TUNABLES };
      break;
    case 1:
      tunables = { ...DEFAULT_TUNABLES, strawCalcVersion: 0 };
      break;
    case 2:
      tunables = { ...DEFAULT_TUNABLES, chooseleafStable: 0, chooseleafVaryR: rnd.range(0, 2) };
      break;
    default:
      tunables = { ...DEFAULT_TUNABLES };
  }

  const devices: Device[] = [];
  const buckets: BucketSpec[] = [];
  let nextDevice = 0;
  const ids = rnd.shuffle(Array.from({ length: 400 }, (_, i) => -2 - i));
  let nextId = 0;
  const newId = (): number => ids[nextId++] as number;
  const deviceWeight = (): number => rnd.range(16, 256) * 1024; // k/64, 0.25 .. 4.0
  const zeroSometimes = (w: number): number => (rnd.chance(0.04) ? 0 : w);

  // A bucket of devices.
  const leafBucket = (name: string, type: number, sizeMin = 1): BucketSpec => {
    const n = big ? rnd.range(4, 10) : rnd.range(sizeMin, sizeMin + 5);
    const alg = pickAlg();
    const items: number[] = [];
    const weights: number[] = [];
    const uniformW = deviceWeight();
    for (let i = 0; i < n; i++) {
      const id = nextDevice++;
      const cls = classFor(id);
      devices.push(cls === undefined ? { id, name: `osd.${id}` } : { id, name: `osd.${id}`, deviceClass: cls });
      items.push(id);
      weights.push(alg === 'uniform' ? uniformW : zeroSometimes(deviceWeight()));
    }
    const b: BucketSpec = { id: newId(), name, type, alg, items, weights };
    buckets.push(b);
    return b;
  };
  // A bucket of buckets; item weights default to the children's totals, sometimes overridden.
  const innerBucket = (name: string, type: number, children: BucketSpec[], rootId?: number): BucketSpec => {
    let alg = pickAlg();
    // A uniform bucket of buckets needs equal item weights; give it explicit equal ones.
    const items = children.map((c) => c.id);
    let weights: Array<number | undefined>;
    if (alg === 'uniform') weights = children.map(() => 0x40000);
    else weights = children.map(() => (rnd.chance(0.15) ? rnd.range(8, 512) * 1024 : undefined));
    if (children.length === 0) alg = 'straw2';
    const b: BucketSpec = { id: rootId ?? newId(), name, type, alg, items, weights };
    buckets.push(b);
    return b;
  };

  let root: BucketSpec;
  if (levels === 1) {
    root = leafBucket('default', 3, 6);
  } else if (levels === 2) {
    const hosts = Array.from({ length: big ? rnd.range(8, 16) : rnd.range(2, 7) }, (_, i) => leafBucket(`host${i}`, 1));
    root = innerBucket('default', 3, hosts);
  } else {
    let h = 0;
    const racks = Array.from({ length: big ? rnd.range(4, 6) : rnd.range(2, 4) }, (_, r) => {
      const hosts = Array.from({ length: rnd.range(1, big ? 5 : 3) }, () => leafBucket(`host${h++}`, 1));
      return innerBucket(`rack${r}`, 2, hosts);
    });
    root = innerBucket('default', 3, racks);
  }
  // The root gets id -1, as Ceph's tools usually number it.
  const rootIndex = buckets.indexOf(root);
  buckets[rootIndex] = { ...root, id: -1 };
  for (let i = 0; i < buckets.length; i++) {
    const b = buckets[i] as BucketSpec;
    buckets[i] = { ...b, items: b.items.map((it) => (it === root.id ? -1 : it)) };
  }
  // Sometimes a device exists but sits in no bucket (crushtool gives it weight 0).
  if (rnd.chance(0.3)) devices.push({ id: nextDevice, name: `osd.${nextDevice}` });

  const failureType = levels === 1 ? 0 : 1;
  const rules: Rule[] = [];
  const numReps = new Map<number, number[]>();
  const addRule = (name: string, type: Rule['type'], steps: RuleStep[], reps: number[]): void => {
    const id = rules.length;
    rules.push({ id, name, type, minSize: 1, maxSize: 10, steps });
    numReps.set(id, reps);
  };
  const take: RuleStep = { op: 'take', item: -1 };
  const emit: RuleStep = { op: 'emit' };
  addRule('rep_leaf', 'replicated', [take, { op: 'choose', leaf: true, mode: 'firstn', num: 0, type: failureType }, emit], [rnd.range(1, 4)]);
  addRule('ec_leaf', 'erasure', [{ op: 'set', name: 'chooseleaf_tries', value: 5 }, { op: 'set', name: 'choose_tries', value: 100 }, take, { op: 'choose', leaf: true, mode: 'indep', num: 0, type: failureType }, emit], [rnd.range(2, 6)]);
  addRule('rep_osd', 'replicated', [take, { op: 'choose', leaf: false, mode: 'firstn', num: 0, type: 0 }, emit], [rnd.range(1, 5)]);
  addRule('ec_osd', 'erasure', [take, { op: 'choose', leaf: false, mode: 'indep', num: -1, type: 0 }, emit], [rnd.range(3, 7)]);
  if (levels >= 2) {
    addRule('two_step', 'replicated', [take, { op: 'choose', leaf: false, mode: 'firstn', num: 2, type: levels === 3 ? 2 : 1 }, { op: 'choose', leaf: levels === 3, mode: 'firstn', num: 2, type: levels === 3 ? 1 : 0 }, emit], [4]);
    addRule('two_blocks', 'replicated', [take, { op: 'choose', leaf: true, mode: 'firstn', num: 1, type: 1 }, emit, take, { op: 'choose', leaf: true, mode: 'firstn', num: -1, type: 1 }, emit], [3]);
    addRule(
      'tweaked',
      'replicated',
      [
        { op: 'set', name: 'choose_local_tries', value: rnd.range(0, 3) },
        { op: 'set', name: 'choose_local_fallback_tries', value: rnd.range(0, 5) },
        { op: 'set', name: 'chooseleaf_vary_r', value: rnd.range(0, 3) },
        { op: 'set', name: 'chooseleaf_stable', value: rnd.range(0, 1) },
        take,
        { op: 'choose', leaf: true, mode: 'firstn', num: 0, type: 1 },
        emit,
      ],
      [3],
    );
  }
  if (options.classes) {
    addRule('hdd_leaf', 'replicated', [{ op: 'take', item: -1, deviceClass: 'hdd' }, { op: 'choose', leaf: true, mode: 'firstn', num: 0, type: failureType }, emit], [rnd.range(1, 4)]);
    addRule('ssd_indep', 'erasure', [{ op: 'take', item: -1, deviceClass: 'ssd' }, { op: 'choose', leaf: true, mode: 'indep', num: 0, type: failureType }, emit], [rnd.range(2, 5)]);
    addRule('hdd_osd', 'replicated', [{ op: 'take', item: -1, deviceClass: 'hdd' }, { op: 'choose', leaf: false, mode: 'firstn', num: 0, type: 0 }, emit], [3]);
  }
  if (levels === 3) {
    addRule('ec_racks', 'erasure', [take, { op: 'choose', leaf: false, mode: 'indep', num: 2, type: 2 }, { op: 'choose', leaf: true, mode: 'indep', num: 2, type: 1 }, emit], [4]);
  }

  const reweights: Array<[number, number]> = [];
  const reweightCount = rnd.range(0, Math.min(5, nextDevice));
  for (let i = 0; i < reweightCount; i++) reweights.push([rnd.int(nextDevice), rnd.pick([0, 0.5, 0.25, 0.8, 0.93, 1])]);

  const chooseArgs = new Map<number, Map<number, ChooseArg>>();
  if (options.chooseArgs) {
    for (const index of rnd.chance(0.5) ? [-1] : [0, 7]) {
      const set = new Map<number, ChooseArg>();
      for (const b of buckets) {
        if (!rnd.chance(b.alg === 'straw2' ? 0.8 : 0.2)) continue;
        const positions = rnd.range(1, 3);
        const weightSet = Array.from({ length: positions }, () => b.items.map(() => (rnd.chance(0.1) ? 0 : rnd.range(8, 256) * 1024)));
        const arg: ChooseArg = rnd.chance(0.3) ? { weightSet, ids: b.items.map((it) => it * 7 + 1000) } : rnd.chance(0.2) ? { ids: b.items.map((it) => it + 77) } : { weightSet };
        set.set(b.id, arg);
      }
      chooseArgs.set(index, set);
    }
  }
  const map = buildCrushMap({ tunables, devices, types: TYPES, buckets, rules, chooseArgs });
  const algs = [...new Set(buckets.map((b) => b.alg))].sort().join('/');
  const classes = (options.classes ? `, classes ${map.deviceClasses.join('/')}` : '') + (options.chooseArgs ? `, choose_args ${[...map.chooseArgs.keys()].join('/')}` : '');
  return { seed, map, numReps, reweights, describe: `seed ${seed}: ${levels} level(s), ${devices.length} devices, ${buckets.length} buckets (${algs})${classes}, ${rules.length} rules, ${reweights.length} reweights` };
}
