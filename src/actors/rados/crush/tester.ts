/**
 * The `crushtool --test` report, line for line (Ceph 16's CrushTester output), so that
 * `troupe crush test` and crushtool can be diffed. Pure: takes a map, returns lines.
 */
import { chooseArgsFor, defaultDeviceWeights, findRule } from './crush-map.js';
import type { CrushMap, Rule } from './crush-map.js';
import { CRUSH_ITEM_NONE, mapRule } from './mapper.js';

export interface CrushTestOptions {
  /** Rule id, or rule name. */
  readonly rule: number | string;
  readonly numRep: number;
  readonly minX: number;
  readonly maxX: number;
  /** crushtool `--weight OSD W` pairs: reweight W in [0, 1] (clamped), as a float. */
  readonly weights?: ReadonlyArray<readonly [device: number, weight: number]>;
  readonly show: 'mappings' | 'utilization';
}

/** A test request that does not fit the map (unknown rule, bad range). */
export class CrushTestError extends Error {
  override readonly name = 'CrushTestError';
}

/** crushtool's `set_device_weight`: `(int)(f * 0x10000)` in float, clamped to [0, 0x10000]. */
export function reweightFromFloat(f: number): number {
  const w = Math.trunc(Math.fround(Math.fround(f) * 0x10000));
  return Math.min(0x10000, Math.max(0, w));
}

/** The reweight vector crushtool builds: default in/out by presence, then each `--weight`. */
export function testerWeights(map: CrushMap, overrides: ReadonlyArray<readonly [number, number]> = []): number[] {
  const weights = defaultDeviceWeights(map);
  for (const [device, f] of overrides) if (device >= 0 && device < weights.length) weights[device] = reweightFromFloat(f);
  return weights;
}

/** C++ ostream's default float formatting (%g with 6 significant digits). */
export function formatG6(v: number): string {
  if (v === 0) return '0';
  if (!Number.isFinite(v)) return String(v);
  const [mant = '0', expText = '0'] = v.toExponential(5).split('e');
  const exp = Number(expText);
  const strip = (s: string): string => (s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s);
  if (exp < -4 || exp >= 6) return `${strip(mant)}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  return strip(v.toFixed(5 - exp));
}

// Ceph's rule op codes, which CrushTester's utilization estimate reads directly.
function opCode(step: Rule['steps'][number]): { op: number; arg1: number; arg2: number } {
  switch (step.op) {
    case 'noop':
      return { op: 0, arg1: 0, arg2: 0 };
    case 'take':
      return { op: 1, arg1: step.item, arg2: 0 };
    case 'emit':
      return { op: 4, arg1: 0, arg2: 0 };
    case 'choose':
      return { op: (step.leaf ? 6 : 2) + (step.mode === 'indep' ? 1 : 0), arg1: step.num, arg2: step.type };
    case 'set':
      return { op: 8, arg1: step.value, arg2: 0 };
  }
}

/** Ceph's `max_buckets`: the bucket array grows 8, 16, 32, … until it covers every slot. */
function cephMaxBuckets(map: CrushMap): number {
  if (map.buckets.length === 0) return 0;
  let n = 8;
  while (map.buckets.length > n) n *= 2;
  return n;
}

/** CrushTester's estimate of how many devices a rule can place (`get_maximum_affected_by_rule`). */
function maximumAffected(map: CrushMap, rule: Rule): number {
  const affected: number[] = [];
  const replications = new Map<number, number>();
  for (const s of rule.steps) {
    const { op, arg1, arg2 } = opCode(s);
    if (op >= 2 && op !== 4) {
      affected.push(arg2);
      replications.set(arg2, arg1);
    }
  }
  // Counted once per occurrence of the type in the rule, over named items whose *bucket* type
  // matches (devices never match: Ceph looks them up as buckets and gets an error code).
  const countOfType = new Map<number, number>();
  for (const t of affected) {
    let n = countOfType.get(t) ?? 0;
    for (const b of map.buckets) if (b && b.type === t) n++;
    countOfType.set(t, n);
  }
  for (const t of affected) {
    const rep = replications.get(t) ?? 0;
    if (rep > 0 && rep < (countOfType.get(t) ?? 0)) countOfType.set(t, rep);
  }
  let maxAffected = Math.max(cephMaxBuckets(map), map.maxDevices);
  for (const t of affected) {
    const n = countOfType.get(t) ?? 0;
    if (n > 0 && n < maxAffected) maxAffected = n;
  }
  return maxAffected;
}

/** A test request checked against the map: the rule, and the reweight vector crushtool builds. */
export interface CrushTestPlan {
  readonly rule: Rule;
  readonly weights: readonly number[];
  /** Sum of the reweights as C's int; 0 means crushtool skips the rule (no mappings). */
  readonly totalWeight: number;
}

/**
 * What a sub-range [minX, maxX] of a test contributes to the report. Parts of disjoint ranges,
 * concatenated in x order, give exactly the serial report (`crushTestLines`); this is what lets
 * the bulk path split a large range across worker threads (node/bulk-mapping.ts).
 */
export interface CrushTestPart {
  readonly minX: number;
  readonly maxX: number;
  /** `mappings`: the part's lines joined by '\n' (one string: cheap to send between threads). */
  readonly text: string;
  /** Results per device id. */
  readonly perDevice: Uint32Array;
  /** [result size, inputs with that size], in any order. */
  readonly sizes: ReadonlyArray<readonly [number, number]>;
}

/** Checks the request against the map (throws CrushTestError) and builds the reweight vector. */
export function planCrushTest(map: CrushMap, opts: CrushTestOptions): CrushTestPlan {
  const rule = findRule(map, opts.rule);
  if (!rule) {
    const known = map.rules.filter((r): r is Rule => r !== undefined).map((r) => `${r.id} (${r.name})`);
    throw new CrushTestError(`rule ${opts.rule} is not in the map (rules: ${known.join(', ') || 'none'})`);
  }
  for (const [k, v] of [['num-rep', opts.numRep], ['min-x', opts.minX], ['max-x', opts.maxX]] as const) {
    if (!Number.isSafeInteger(v)) throw new CrushTestError(`--${k} must be an integer, got ${v}`);
  }
  if (opts.numRep < 1) throw new CrushTestError(`--num-rep must be >= 1, got ${opts.numRep}`);
  if (opts.maxX < opts.minX) throw new CrushTestError(`--max-x (${opts.maxX}) is below --min-x (${opts.minX})`);
  const weights = testerWeights(map, opts.weights);
  let totalWeight = 0;
  for (const w of weights) totalWeight = (totalWeight + w) | 0;
  return { rule, weights, totalWeight };
}

/** Runs the plan's rule for x in [minX, maxX] (a sub-range of the request's). */
export function crushTestPart(map: CrushMap, opts: CrushTestOptions, plan: CrushTestPlan, minX: number, maxX: number): CrushTestPart {
  const per = new Uint32Array(map.maxDevices);
  const sizes = new Map<number, number>();
  const lines: string[] = [];
  if (plan.totalWeight !== 0) {
    const { rule, weights } = plan;
    const args = chooseArgsFor(map, 0); // CrushTester maps with choose_args index 0 (or the default set)
    for (let x = minX; x <= maxX; x++) {
      const out = mapRule(map, rule, x, opts.numRep, weights, args);
      if (opts.show === 'mappings') lines.push(`CRUSH rule ${rule.id} x ${x} [${out.join(',')}]`);
      for (const o of out) if (o !== CRUSH_ITEM_NONE && o >= 0 && o < per.length) per[o]! += 1;
      sizes.set(out.length, (sizes.get(out.length) ?? 0) + 1);
    }
  }
  return { minX, maxX, text: lines.join('\n'), perDevice: per, sizes: [...sizes] };
}

/**
 * The report from parts covering [opts.minX, opts.maxX] in x order, without gaps or overlap
 * (asserted: a wrong split is a bug in the caller, not a user error).
 */
export function crushTestLines(map: CrushMap, opts: CrushTestOptions, plan: CrushTestPlan, parts: readonly CrushTestPart[]): string[] {
  const { rule, weights, totalWeight } = plan;
  const lines: string[] = [];
  if (opts.show === 'utilization') lines.push(`rule ${rule.id} (${rule.name}), x = ${opts.minX}..${opts.maxX}, numrep = ${opts.numRep}..${opts.numRep}`);
  if (totalWeight === 0) return lines; // crushtool skips a rule when every device is out
  let next = opts.minX;
  for (const p of parts) {
    if (p.minX !== next || p.maxX < p.minX) throw new Error(`crush test parts must cover ${opts.minX}..${opts.maxX} in order; got a part ${p.minX}..${p.maxX} where ${next} was due`);
    next = p.maxX + 1;
  }
  if (next !== opts.maxX + 1) throw new Error(`crush test parts end at ${next - 1}, not at ${opts.maxX}`);
  if (opts.show === 'mappings') {
    for (const p of parts) if (p.text.length > 0) for (const l of p.text.split('\n')) lines.push(l);
    return lines;
  }
  const per = new Array<number>(map.maxDevices).fill(0);
  const sizes = new Map<number, number>();
  for (const p of parts) {
    p.perDevice.forEach((n, i) => (per[i] = (per[i] ?? 0) + n));
    for (const [size, count] of p.sizes) sizes.set(size, (sizes.get(size) ?? 0) + count);
  }
  const numObjects = opts.maxX - opts.minX + 1;
  for (const [size, count] of [...sizes].sort((a, b) => a[0] - b[0])) {
    lines.push(`rule ${rule.id} (${rule.name}) num_rep ${opts.numRep} result size == ${size}:\t${count}/${numObjects}`);
  }
  // CrushTester computes the expectation in C float; fround reproduces each rounding.
  const expectedObjects = Math.fround(Math.min(opts.numRep, maximumAffected(map, rule)) * numObjects);
  per.forEach((stored, i) => {
    const proportional = Math.fround(Math.fround(weights[i] ?? 0) / Math.fround(totalWeight));
    const expected = Math.fround(proportional * expectedObjects);
    if (expected > 0 && stored > 0) lines.push(`  device ${i}:\t\t stored : ${stored}\t expected : ${formatG6(expected)}`);
  });
  return lines;
}

/**
 * Runs rule `rule` for x in [minX, maxX] with `numRep` results, crushtool-style. `mappings`
 * gives `CRUSH rule R x X [a,b,c]` per x; `utilization` gives crushtool's summary and per-device
 * counts (`--show-utilization`). Serial; node/bulk-mapping.ts splits large ranges across threads.
 */
export function crushTest(map: CrushMap, opts: CrushTestOptions): string[] {
  const plan = planCrushTest(map, opts);
  return crushTestLines(map, opts, plan, [crushTestPart(map, opts, plan, opts.minX, opts.maxX)]);
}
