/**
 * The CRUSH cluster map: devices, typed buckets, rules and tunables (thesis §5.2.1, §5.2.2;
 * digest §2.1, §2.2). A map is plain immutable data; `buildCrushMap` validates a description and
 * precomputes what the bucket algorithms need. README invariants I5–I6.
 */
import { makeBucket } from './buckets.js';
import type { Bucket, BucketAlg } from './buckets.js';

/**
 * Tunables: the knobs Ceph added to fix the thesis algorithm's corner cases (digest §2.2
 * [impl]: bounded retries; chooseleaf, which the thesis lacks). Names follow the text map.
 */
export interface Tunables {
  /** Local retries after a collision in the same bucket (thesis: f_r < 3). Ceph today: 0. */
  readonly chooseLocalTries: number;
  /** Local exhaustive (permutation) search after failures. Ceph today: 0. */
  readonly chooseLocalFallbackTries: number;
  /** Total retries of a descent before a replica is given up (counted as retries). 50. */
  readonly chooseTotalTries: number;
  /** chooseleaf's inner descent tries once and lets the outer choice retry. 1. */
  readonly chooseleafDescendOnce: number;
  /** chooseleaf's inner r derives from the outer r (shifted right by vary_r − 1). 1. */
  readonly chooseleafVaryR: number;
  /** chooseleaf firstn's inner r does not depend on the replica's position. 1. */
  readonly chooseleafStable: number;
  /** Straw length computation (0: original Algorithm 2, 1: Ceph's fix). 1. */
  readonly strawCalcVersion: number;
  /** Bit mask of bucket algs the map may use (1 << alg id). Informational here. 54. */
  readonly allowedBucketAlgs: number;
}

/** Ceph's current defaults (the "jewel"/"optimal" profile; Ceph's `set_tunables_default`). */
export const DEFAULT_TUNABLES: Tunables = {
  chooseLocalTries: 0,
  chooseLocalFallbackTries: 0,
  chooseTotalTries: 50,
  chooseleafDescendOnce: 1,
  chooseleafVaryR: 1,
  chooseleafStable: 1,
  strawCalcVersion: 1,
  allowedBucketAlgs: 54,
};

/**
 * Ceph's legacy ("argonaut") values. crushtool's compiler starts from these, and its decompiler
 * omits any tunable equal to them, so a text map without a `tunable` line means the legacy value.
 */
export const LEGACY_TUNABLES: Tunables = {
  chooseLocalTries: 2,
  chooseLocalFallbackTries: 5,
  chooseTotalTries: 19,
  chooseleafDescendOnce: 0,
  chooseleafVaryR: 0,
  chooseleafStable: 0,
  strawCalcVersion: 0,
  allowedBucketAlgs: 22,
};

/** The text map's tunable names, in the order they are printed. */
export const TUNABLE_NAMES: ReadonlyArray<readonly [string, keyof Tunables]> = [
  ['choose_local_tries', 'chooseLocalTries'],
  ['choose_local_fallback_tries', 'chooseLocalFallbackTries'],
  ['choose_total_tries', 'chooseTotalTries'],
  ['chooseleaf_descend_once', 'chooseleafDescendOnce'],
  ['chooseleaf_vary_r', 'chooseleafVaryR'],
  ['chooseleaf_stable', 'chooseleafStable'],
  ['straw_calc_version', 'strawCalcVersion'],
  ['allowed_bucket_algs', 'allowedBucketAlgs'],
];

export interface Device {
  readonly id: number;
  readonly name: string;
  readonly deviceClass?: string;
}

export interface TypeName {
  readonly id: number;
  readonly name: string;
}

/** Rule-local overrides of tunables (`step set_*`). */
export type SetStepName =
  | 'choose_tries'
  | 'chooseleaf_tries'
  | 'choose_local_tries'
  | 'choose_local_fallback_tries'
  | 'chooseleaf_vary_r'
  | 'chooseleaf_stable';

export const SET_STEP_NAMES: readonly SetStepName[] = [
  'choose_tries',
  'chooseleaf_tries',
  'choose_local_tries',
  'choose_local_fallback_tries',
  'chooseleaf_vary_r',
  'chooseleaf_stable',
];

/**
 * One rule step (thesis §5.2.2 Algorithm 1): take(a), select(n, t) as choose/chooseleaf in
 * firstn or indep mode, emit; plus Ceph's tunable overrides. `num <= 0` means
 * `resultMax + num` (e.g. 0 = as many as the pool's size).
 */
export type RuleStep =
  | { readonly op: 'take'; readonly item: number; readonly deviceClass?: string }
  | { readonly op: 'choose'; readonly leaf: boolean; readonly mode: 'firstn' | 'indep'; readonly num: number; readonly type: number }
  | { readonly op: 'emit' }
  | { readonly op: 'set'; readonly name: SetStepName; readonly value: number }
  | { readonly op: 'noop' };

export type RuleType = 'replicated' | 'erasure';

export interface Rule {
  readonly id: number;
  readonly name: string;
  readonly type: RuleType;
  readonly minSize: number;
  readonly maxSize: number;
  readonly steps: readonly RuleStep[];
}

/**
 * Per-bucket overrides for straw2 choices (Ceph's `choose_args`, used by its balancer): a
 * weight set per result position (the last row serves later positions too) and/or the ids to
 * hash instead of the item ids. Other bucket algorithms ignore them.
 */
export interface ChooseArg {
  readonly weightSet?: ReadonlyArray<readonly number[]>;
  readonly ids?: readonly number[];
}

/** One set of choose_args: bucket id → overrides. */
export type ChooseArgMap = ReadonlyMap<number, ChooseArg>;

/** The choose_args index Ceph falls back to (printed as 18446744073709551615, "compat"). */
export const DEFAULT_CHOOSE_ARGS = -1;

/** A built map. Buckets and rules are stored by slot (`-1 - bucketId`, rule id); holes are undefined. */
export interface CrushMap {
  readonly tunables: Tunables;
  readonly devices: readonly Device[];
  readonly types: readonly TypeName[];
  readonly buckets: ReadonlyArray<Bucket | undefined>;
  readonly rules: ReadonlyArray<Rule | undefined>;
  /** Device classes in Ceph's class-id order (first use: devices, then bucket `id … class` lines). */
  readonly deviceClasses: readonly string[];
  /** Shadow trees: bucket id → device class → id of the bucket's copy holding only that class. */
  readonly classBuckets: ReadonlyMap<number, ReadonlyMap<string, number>>;
  /** choose_args sets by index (a pool id, or DEFAULT_CHOOSE_ARGS). */
  readonly chooseArgs: ReadonlyMap<number, ChooseArgMap>;
  /** 1 + the highest device id named or placed in a bucket (Ceph's `max_devices`). */
  readonly maxDevices: number;
}

export interface BucketSpec {
  readonly id: number;
  readonly name: string;
  /** Type id. */
  readonly type: number;
  readonly alg: BucketAlg;
  readonly hash?: number;
  /** Item ids (devices >= 0, buckets < 0), in position order. */
  readonly items: readonly number[];
  /**
   * 16.16 weights by position. An undefined entry takes the default: 0x10000 for a device, the
   * child bucket's total weight for a bucket (as crushtool's compiler does).
   */
  readonly weights?: ReadonlyArray<number | undefined>;
  /** Ids for this bucket's device-class shadow copies (`id -N class C`); others are allocated. */
  readonly classIds?: ReadonlyArray<readonly [deviceClass: string, id: number]>;
}

export interface CrushMapSpec {
  readonly tunables?: Partial<Tunables>;
  readonly devices: readonly Device[];
  readonly types: readonly TypeName[];
  /** Buckets in any order; children are built before their parents. */
  readonly buckets: readonly BucketSpec[];
  readonly rules: readonly Rule[];
  /** Class order (Ceph's class ids); defaults to first use among devices, then bucket class ids. */
  readonly deviceClasses?: readonly string[];
  /** choose_args sets by index; bucket ids may name shadow buckets. */
  readonly chooseArgs?: ReadonlyMap<number, ChooseArgMap>;
}

/** Thrown for a map that cannot be built; the message says what is wrong. */
export class CrushMapError extends Error {
  override readonly name = 'CrushMapError';
}

/**
 * Validates a map description and builds it. Invariants enforced (README I5): ids are unique,
 * every bucket item exists, the hierarchy has no cycle, rule steps name existing items/types.
 */
export function buildCrushMap(spec: CrushMapSpec): CrushMap {
  const tunables: Tunables = { ...DEFAULT_TUNABLES, ...spec.tunables };
  const deviceIds = new Set<number>();
  for (const d of spec.devices) {
    if (!Number.isInteger(d.id) || d.id < 0) throw new CrushMapError(`device ${d.name}: id ${d.id} must be a non-negative integer`);
    if (deviceIds.has(d.id)) throw new CrushMapError(`device id ${d.id} is defined twice`);
    deviceIds.add(d.id);
  }
  const typeIds = new Set(spec.types.map((t) => t.id));
  const specs = new Map<number, BucketSpec>();
  for (const b of spec.buckets) {
    if (specs.has(b.id)) throw new CrushMapError(`bucket id ${b.id} is defined twice`);
    if (!typeIds.has(b.type)) throw new CrushMapError(`bucket ${b.name}: type ${b.type} is not defined`);
    if ((b.hash ?? 0) !== 0) throw new CrushMapError(`bucket ${b.name}: hash ${b.hash} is not supported (only 0, rjenkins1)`);
    specs.set(b.id, b);
  }
  const built = new Map<number, Bucket>();
  const inProgress = new Set<number>();
  const build = (id: number): Bucket => {
    const done = built.get(id);
    if (done) return done;
    const b = specs.get(id);
    if (!b) throw new CrushMapError(`bucket ${id} is not defined`);
    if (inProgress.has(id)) throw new CrushMapError(`bucket ${b.name} contains itself (the hierarchy must be acyclic)`);
    inProgress.add(id);
    const weights = b.items.map((item, pos) => {
      const given = b.weights?.[pos];
      if (item >= 0) {
        if (!deviceIds.has(item)) throw new CrushMapError(`bucket ${b.name}: device ${item} is not defined`);
        return given ?? 0x10000;
      }
      const child = build(item);
      return given ?? child.weight;
    });
    const bucket = makeBucket({ id: b.id, name: b.name, type: b.type, alg: b.alg, hash: b.hash ?? 0, items: b.items, weights }, tunables.strawCalcVersion);
    inProgress.delete(id);
    built.set(id, bucket);
    return bucket;
  };
  for (const b of spec.buckets) build(b.id);

  const deviceClasses = classOrder(spec);
  const classBuckets = spec.rules.length > 0 && deviceClasses.length > 0 ? populateClasses(spec, built, deviceClasses, tunables.strawCalcVersion) : new Map<number, Map<string, number>>();

  const buckets: Array<Bucket | undefined> = [];
  for (const b of built.values()) buckets[-1 - b.id] = b;

  let maxDevices = 0;
  for (const d of spec.devices) maxDevices = Math.max(maxDevices, d.id + 1);
  for (const b of built.values()) for (const item of b.items) if (item >= 0) maxDevices = Math.max(maxDevices, item + 1);

  const rules: Array<Rule | undefined> = [];
  for (const r of spec.rules) {
    if (!Number.isInteger(r.id) || r.id < 0) throw new CrushMapError(`rule ${r.name}: id ${r.id} must be a non-negative integer`);
    if (rules[r.id] !== undefined) throw new CrushMapError(`rule id ${r.id} is defined twice`);
    for (const s of r.steps) {
      if (s.op === 'take' && !(s.item >= 0 ? deviceIds.has(s.item) : built.has(s.item))) throw new CrushMapError(`rule ${r.name}: take ${s.item}: no such item`);
      if (s.op === 'take' && s.deviceClass !== undefined && classBuckets.get(s.item)?.get(s.deviceClass) === undefined) {
        throw new CrushMapError(`rule ${r.name}: take ${s.item} class ${s.deviceClass}: the item has no copy for that class (unknown class, or crushtool could not build the shadow tree)`);
      }
      if (s.op === 'choose' && !typeIds.has(s.type) && s.type !== 0) throw new CrushMapError(`rule ${r.name}: type ${s.type} is not defined`);
    }
    rules[r.id] = r;
  }

  return {
    tunables,
    devices: [...spec.devices].sort((a, b) => a.id - b.id),
    types: [...spec.types].sort((a, b) => a.id - b.id),
    buckets,
    rules,
    maxDevices,
    deviceClasses,
    classBuckets,
    chooseArgs: validateChooseArgs(spec.chooseArgs, built),
  };
}

function validateChooseArgs(sets: ReadonlyMap<number, ChooseArgMap> | undefined, built: ReadonlyMap<number, Bucket>): Map<number, ChooseArgMap> {
  const out = new Map<number, ChooseArgMap>();
  for (const [index, set] of sets ?? []) {
    if (!Number.isInteger(index)) throw new CrushMapError(`choose_args index ${index} must be an integer`);
    for (const [bucketId, arg] of set) {
      const b = built.get(bucketId);
      if (!b) throw new CrushMapError(`choose_args ${index}: bucket ${bucketId} does not exist`);
      if (arg.weightSet !== undefined) {
        if (arg.weightSet.length === 0) throw new CrushMapError(`choose_args ${index}: bucket ${bucketId}: weight_set needs at least one row`);
        for (const row of arg.weightSet) {
          if (row.length !== b.items.length) throw new CrushMapError(`choose_args ${index}: bucket ${bucketId} needs exactly ${b.items.length} weights per weight_set row, got ${row.length}`);
          for (const w of row) if (!Number.isInteger(w) || w < 0 || w > 0xffffffff) throw new CrushMapError(`choose_args ${index}: bucket ${bucketId}: weight ${w} is not a 16.16 uint32`);
        }
      }
      if (arg.ids !== undefined && arg.ids.length !== b.items.length) throw new CrushMapError(`choose_args ${index}: bucket ${bucketId} needs exactly ${b.items.length} ids, got ${arg.ids.length}`);
    }
    out.set(index, set);
  }
  return out;
}

/** The choose_args a mapping with this index uses: its own set, else the default set (Ceph's fallback). */
export function chooseArgsFor(map: CrushMap, index: number): ChooseArgMap | undefined {
  return map.chooseArgs.get(index) ?? map.chooseArgs.get(DEFAULT_CHOOSE_ARGS);
}

/** Class order as crushtool assigns class ids: first use among devices, then bucket class ids. */
function classOrder(spec: CrushMapSpec): string[] {
  const order: string[] = [...(spec.deviceClasses ?? [])];
  const add = (c: string | undefined): void => {
    if (c !== undefined && !order.includes(c)) order.push(c);
  };
  for (const d of spec.devices) add(d.deviceClass);
  for (const b of spec.buckets) for (const [c] of b.classIds ?? []) add(c);
  return order;
}

class ShadowCloneFailed extends Error {}

/**
 * Device-class shadow trees, as Ceph builds them when the compiler meets the first rule
 * (`populate_classes` / `device_class_clone`): for every root and class (in class-id order), a
 * depth-first copy of the hierarchy keeping only that class's devices; a copied bucket weighs
 * the sum of what it kept. Ids come from the bucket's `id … class` lines, else the lowest free
 * slot not reserved by such a line. A uniform bucket cannot take an item of non-zero weight
 * into its (initially weightless) copy, so Ceph stops there, keeping the copies made so far;
 * so does this. Tree copies use clean node sums (Ceph's incremental tree growth reads
 * uninitialised memory for new interior nodes; see README limits).
 */
function populateClasses(spec: CrushMapSpec, built: Map<number, Bucket>, classes: readonly string[], strawCalcVersion: number): Map<number, Map<string, number>> {
  const classOf = new Map<number, string>();
  for (const d of spec.devices) if (d.deviceClass !== undefined) classOf.set(d.id, d.deviceClass);
  const given = new Map<number, Map<string, number>>();
  const reserved = new Set<number>();
  for (const b of spec.buckets) {
    for (const [c, id] of b.classIds ?? []) {
      let m = given.get(b.id);
      if (!m) given.set(b.id, (m = new Map()));
      m.set(c, id);
      reserved.add(id);
    }
  }
  const children = new Set<number>();
  for (const b of built.values()) for (const item of b.items) if (item < 0) children.add(item);
  const roots = [...built.keys()].filter((id) => !children.has(id)).sort((a, b) => a - b);
  const result = new Map<number, Map<string, number>>();
  const clone = (origId: number, cls: string): number => {
    const existing = result.get(origId)?.get(cls);
    if (existing !== undefined) return existing;
    const orig = built.get(origId) as Bucket;
    const items: number[] = [];
    const weights: number[] = [];
    orig.items.forEach((item, i) => {
      let w: number;
      let id: number;
      if (item >= 0) {
        if (classOf.get(item) !== cls) return;
        id = item;
        w = orig.itemWeights[i] as number;
      } else {
        id = clone(item, cls);
        w = (built.get(id) as Bucket).weight;
      }
      if (orig.alg === 'uniform' && w !== 0) throw new ShadowCloneFailed();
      items.push(id);
      weights.push(w);
    });
    let id = given.get(origId)?.get(cls);
    if (id === undefined) {
      id = -1;
      while (built.has(id) || reserved.has(id)) id--;
    } else if (built.has(id)) {
      throw new ShadowCloneFailed(); // Ceph: the id is taken (EEXIST)
    }
    const copy = makeBucket({ id, name: `${orig.name}~${cls}`, type: orig.type, alg: orig.alg, hash: orig.hash, items, weights }, strawCalcVersion);
    built.set(id, { ...copy, shadowOf: origId, deviceClass: cls });
    let m = result.get(origId);
    if (!m) result.set(origId, (m = new Map()));
    m.set(cls, id);
    return id;
  };
  try {
    for (const root of roots) for (const cls of classes) clone(root, cls);
  } catch (err) {
    if (!(err instanceof ShadowCloneFailed)) throw err;
  }
  return result;
}

/** The bucket with this (negative) id, if any. */
export function bucketById(map: CrushMap, id: number): Bucket | undefined {
  return id < 0 ? map.buckets[-1 - id] : undefined;
}

/** A rule by id or name. */
export function findRule(map: CrushMap, idOrName: number | string): Rule | undefined {
  if (typeof idOrName === 'number') return map.rules[idOrName];
  return map.rules.find((r) => r?.name === idOrName);
}

/** The name of an item (device or bucket), if the map names it. */
export function itemName(map: CrushMap, id: number): string | undefined {
  if (id < 0) return bucketById(map, id)?.name;
  return map.devices.find((d) => d.id === id)?.name;
}

/**
 * The reweight vector crushtool uses by default: 0x10000 ("in", full weight) for every device
 * that appears in some bucket, 0 for the rest, indexed by device id up to `maxDevices`.
 */
export function defaultDeviceWeights(map: CrushMap): number[] {
  const present = new Set<number>();
  for (const b of map.buckets) if (b) for (const item of b.items) if (item >= 0) present.add(item);
  const weights: number[] = [];
  for (let d = 0; d < map.maxDevices; d++) weights.push(present.has(d) ? 0x10000 : 0);
  return weights;
}
