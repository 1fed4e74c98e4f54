/**
 * The CRUSH mapping function: run a rule for an input x (thesis §5.2.2 Algorithm 1; digest
 * §2.2–2.3). README invariants I6–I9.
 *
 * This follows Ceph's `crush_do_rule` semantics exactly (so results are bit-identical with
 * crushtool), which differ from the thesis pseudocode in documented ways:
 * - r counts from 0; firstn retries use r' = r + f_total, indep uses r' = r + n·f_total, or
 *   (n+1)·f_total inside a uniform bucket whose size is a multiple of n (thesis §5.2.2.2).
 * - Retries are bounded: `choose_total_tries` (+1, Ceph's off-by-one fix), local retries on
 *   collision, an optional local permutation fallback (digest §2.2 [impl]).
 * - chooseleaf: choose n items of type t and, under each, one leaf; a failed leaf rejects the
 *   whole item so the outer choice retries (the fix for the limitation digest §2.2 records).
 * - Only devices are tested against the reweight vector ("out" test, thesis §5.2.2.1 overload;
 *   digest §2.3 [impl]): device d is rejected for x iff (hash2(x, d) & 0xffff) >= weight[d].
 * - indep leaves a hole (CRUSH_ITEM_NONE = 2147483647) where no item could be placed, so the
 *   other positions keep their places (thesis §5.2.2.2).
 */
import { bucketChoose, permChoose, straw2ChooseFlat } from './buckets.js';
import type { Bucket } from './buckets.js';
import type { ChooseArgMap, CrushMap, Rule } from './crush-map.js';
import { crushHash32_2 } from './hash.js';
import { straw2LnTable } from './ln.js';
import { STRAW2_REGION_OFFSET, straw2DrawModule } from './wasm/straw2-draw.js';
import type { Straw2DrawModule } from './wasm/straw2-draw.js';

/** An indep position with no item (`CRUSH_ITEM_NONE`). */
export const CRUSH_ITEM_NONE = 0x7fffffff;
/** An indep position not decided yet (`CRUSH_ITEM_UNDEF`); never returned. */
const CRUSH_ITEM_UNDEF = 0x7ffffffe;

/** Device reweights: 16.16 per device id; 0x10000 = fully in, 0 = out. */
export type DeviceWeights = ArrayLike<number>;

/** Is device `item` rejected for input x by its reweight (the probabilistic "out" test)? */
export function isOut(weights: DeviceWeights, item: number, x: number): boolean {
  if (item >= weights.length) return true;
  const w = weights[item] as number;
  if (w >= 0x10000) return false;
  if (w === 0) return true;
  return (crushHash32_2(x, item) & 0xffff) >= w;
}

interface Walk {
  readonly map: CrushMap;
  readonly weights: DeviceWeights;
  readonly x: number;
  readonly args: ChooseArgMap | undefined;
  readonly flat: FlatBuckets;
  readonly draw: Straw2DrawModule | undefined;
}

/**
 * The map's straw2 buckets as typed arrays by slot (`-1 - id`), built once per map: the
 * mapper's hot loop then reads int32 ids and double weights without going through the
 * bucket objects' generic arrays. Other slots hold empty arrays and are never read. `image` is
 * the same ids and weights laid out for the WebAssembly draw loop (ids padded to a multiple of
 * four), at the byte offsets `itemsOffset` / `weightsOffset` once loaded.
 */
interface FlatBuckets {
  readonly straw2: Uint8Array;
  readonly items: readonly Int32Array[];
  readonly weights: readonly Float64Array[];
  readonly ln: Float64Array;
  readonly itemsOffset: Int32Array;
  readonly weightsOffset: Int32Array;
  readonly image: Uint8Array;
}

const flatByMap = new WeakMap<CrushMap, FlatBuckets>();

function flatBuckets(map: CrushMap): FlatBuckets {
  let flat = flatByMap.get(map);
  if (flat === undefined) {
    const n = map.buckets.length;
    const straw2 = new Uint8Array(n);
    const items: Int32Array[] = [];
    const weights: Float64Array[] = [];
    const itemsOffset = new Int32Array(n);
    const weightsOffset = new Int32Array(n);
    let bytes = 0;
    for (let slot = 0; slot < n; slot++) {
      const b = map.buckets[slot];
      if (b !== undefined && b.alg === 'straw2') {
        straw2[slot] = 1;
        items.push(Int32Array.from(b.items));
        weights.push(Float64Array.from(b.itemWeights));
        // Weights first (8-byte aligned), then the ids padded to whole groups of four (16 bytes).
        weightsOffset[slot] = STRAW2_REGION_OFFSET + bytes;
        bytes += 8 * ((b.items.length + 1) & ~1);
        itemsOffset[slot] = STRAW2_REGION_OFFSET + bytes;
        bytes += 4 * ((b.items.length + 3) & ~3);
      } else {
        items.push(new Int32Array(0));
        weights.push(new Float64Array(0));
      }
    }
    const image = new Uint8Array(bytes);
    for (let slot = 0; slot < n; slot++) {
      if (straw2[slot] !== 1) continue;
      new Float64Array(image.buffer, (weightsOffset[slot] as number) - STRAW2_REGION_OFFSET, (weights[slot] as Float64Array).length).set(weights[slot] as Float64Array);
      new Int32Array(image.buffer, (itemsOffset[slot] as number) - STRAW2_REGION_OFFSET, (items[slot] as Int32Array).length).set(items[slot] as Int32Array);
    }
    flat = { straw2, items, weights, ln: straw2LnTable(), itemsOffset, weightsOffset, image };
    flatByMap.set(map, flat);
  }
  return flat;
}

/** The WebAssembly draw loop with `flat`'s buckets in its memory, or undefined (then the JS loop serves). */
function drawModuleFor(flat: FlatBuckets): Straw2DrawModule | undefined {
  const module = straw2DrawModule();
  if (module !== undefined && module.loadedOwner() !== flat) module.load(flat, flat.image);
  return module;
}

/** c(r, x) of `b`, through the flat straw2 tables when choose_args do not apply. */
function choose(walk: Walk, b: Bucket, r: number, position: number): number {
  const slot = -1 - b.id;
  const flat = walk.flat;
  if (walk.args === undefined && flat.straw2[slot] === 1) {
    const items = flat.items[slot] as Int32Array;
    if (items.length === 0) return bucketChoose(b, walk.x, r, undefined, position); // callers check; kept total
    if (walk.draw !== undefined) return items[walk.draw.draw(flat.itemsOffset[slot] as number, flat.weightsOffset[slot] as number, items.length, walk.x, r)] as number;
    return straw2ChooseFlat(items, flat.weights[slot] as Float64Array, flat.ln, walk.x, r);
  }
  return bucketChoose(b, walk.x, r, walk.args?.get(b.id), position);
}

function bucketAt(map: CrushMap, item: number): Bucket | undefined {
  return map.buckets[-1 - item];
}

function itemType(map: CrushMap, item: number): number {
  return item < 0 ? (bucketAt(map, item)?.type ?? -1) : 0;
}

/**
 * firstn selection (replication): fills out[ob + outpos ..] with up to numrep distinct items of
 * `type` below `bucket`; returns the new outpos. With `out2`, each item also gets one leaf in
 * out2 (chooseleaf).
 */
function chooseFirstn(
  walk: Walk,
  bucket: Bucket,
  numrep: number,
  type: number,
  out: number[],
  ob: number,
  outposIn: number,
  countIn: number,
  tries: number,
  recurseTries: number,
  localRetries: number,
  localFallbackRetries: number,
  recurseToLeaf: boolean,
  varyR: number,
  stable: number,
  out2: number[] | null,
  o2b: number,
  parentR: number,
): number {
  const { map, weights, x } = walk;
  let outpos = outposIn;
  let count = countIn;
  let item = 0;
  for (let rep = stable ? 0 : outpos; rep < numrep && count > 0; rep++) {
    let ftotal = 0;
    let skipRep = false;
    let retryDescent: boolean;
    do {
      retryDescent = false;
      let inb = bucket;
      let flocal = 0;
      let retryBucket: boolean;
      do {
        retryBucket = false;
        let collide = false;
        let reject = false;
        const r = rep + parentR + ftotal;
        if (inb.items.length === 0) {
          reject = true;
        } else {
          const size = inb.items.length;
          if (localFallbackRetries > 0 && flocal >= size >> 1 && flocal > localFallbackRetries) item = permChoose(inb, x, r);
          else item = choose(walk, inb, r, outpos);
          if (item >= map.maxDevices) {
            skipRep = true;
            break;
          }
          const t = itemType(map, item);
          if (t !== type) {
            const next = item < 0 ? bucketAt(map, item) : undefined;
            if (next === undefined) {
              skipRep = true;
              break;
            }
            inb = next; // descend through an intermediate bucket, same r
            retryBucket = true;
            continue;
          }
          for (let i = 0; i < outpos; i++) {
            if (out[ob + i] === item) {
              collide = true;
              break;
            }
          }
          if (!collide && recurseToLeaf && out2 !== null) {
            if (item < 0) {
              const subR = varyR ? r >> (varyR - 1) : 0;
              const leafBucket = bucketAt(map, item) as Bucket;
              const got = chooseFirstn(walk, leafBucket, stable ? 1 : outpos + 1, 0, out2, o2b, outpos, count, recurseTries, 0, localRetries, localFallbackRetries, false, varyR, stable, null, 0, subR);
              if (got <= outpos) reject = true; // no leaf below this item
            } else {
              out2[o2b + outpos] = item; // the item is already a leaf
            }
          }
          if (!reject && !collide && t === 0) reject = isOut(weights, item, x);
        }
        if (reject || collide) {
          ftotal++;
          flocal++;
          if (collide && flocal <= localRetries) retryBucket = true; // retry locally (thesis: f_r < 3)
          else if (localFallbackRetries > 0 && flocal <= inb.items.length + localFallbackRetries) retryBucket = true;
          else if (ftotal < tries) retryDescent = true; // restart from the top (thesis §5.2.2.1)
          else skipRep = true; // give up on this replica
        }
      } while (retryBucket);
    } while (retryDescent);
    if (skipRep) continue;
    out[ob + outpos] = item;
    outpos++;
    count--;
  }
  return outpos;
}

/**
 * indep selection (erasure codes): positions outpos..outpos+left each get an item or
 * CRUSH_ITEM_NONE; a rejected position is retried with r' = r + n·f while others stay put.
 */
function chooseIndep(
  walk: Walk,
  bucket: Bucket,
  leftIn: number,
  numrep: number,
  type: number,
  out: number[],
  ob: number,
  outpos: number,
  tries: number,
  recurseTries: number,
  recurseToLeaf: boolean,
  out2: number[] | null,
  o2b: number,
  parentR: number,
): void {
  const { map, weights, x } = walk;
  let left = leftIn;
  const endpos = outpos + left;
  for (let rep = outpos; rep < endpos; rep++) {
    out[ob + rep] = CRUSH_ITEM_UNDEF;
    if (out2) out2[o2b + rep] = CRUSH_ITEM_UNDEF;
  }
  for (let ftotal = 0; left > 0 && ftotal < tries; ftotal++) {
    for (let rep = outpos; rep < endpos; rep++) {
      if (out[ob + rep] !== CRUSH_ITEM_UNDEF) continue;
      let inb = bucket;
      for (;;) {
        const size = inb.items.length;
        let r = rep + parentR;
        // A uniform bucket whose size is a multiple of n would repeat candidates with step n.
        if (inb.alg === 'uniform' && size % numrep === 0) r += (numrep + 1) * ftotal;
        else r += numrep * ftotal;
        if (size === 0) break;
        const item = choose(walk, inb, r, outpos);
        if (item >= map.maxDevices) {
          out[ob + rep] = CRUSH_ITEM_NONE;
          if (out2) out2[o2b + rep] = CRUSH_ITEM_NONE;
          left--;
          break;
        }
        const t = itemType(map, item);
        if (t !== type) {
          const next = item < 0 ? bucketAt(map, item) : undefined;
          if (next === undefined) {
            out[ob + rep] = CRUSH_ITEM_NONE;
            if (out2) out2[o2b + rep] = CRUSH_ITEM_NONE;
            left--;
            break;
          }
          inb = next;
          continue;
        }
        let collide = false;
        for (let i = outpos; i < endpos; i++) {
          if (out[ob + i] === item) {
            collide = true;
            break;
          }
        }
        if (collide) break;
        if (recurseToLeaf && out2) {
          if (item < 0) {
            chooseIndep(walk, bucketAt(map, item) as Bucket, 1, numrep, 0, out2, o2b, rep, recurseTries, 0, false, null, 0, r);
            if (out2[o2b + rep] === CRUSH_ITEM_NONE) break; // no leaf below this item
          } else {
            out2[o2b + rep] = item;
          }
        }
        if (t === 0 && isOut(weights, item, x)) break;
        out[ob + rep] = item;
        left--;
        break;
      }
    }
  }
  for (let rep = outpos; rep < endpos; rep++) {
    if (out[ob + rep] === CRUSH_ITEM_UNDEF) out[ob + rep] = CRUSH_ITEM_NONE;
    if (out2 && out2[o2b + rep] === CRUSH_ITEM_UNDEF) out2[o2b + rep] = CRUSH_ITEM_NONE;
  }
}

const scratchA: number[] = [];
const scratchB: number[] = [];
const scratchC: number[] = [];

/**
 * Runs `rule` for input x and returns up to `resultMax` items (Ceph's `crush_do_rule`).
 *
 * Pure: the result depends only on (map, rule, x, resultMax, weights, chooseArgs) (README I6).
 * Callers: any code that places data; `weights` is the per-device reweight vector (see
 * `defaultDeviceWeights`); `chooseArgs` the straw2 overrides in effect (see `chooseArgsFor`:
 * crushtool uses index 0, RADOS the pool id, both falling back to the default set). Firstn results hold distinct items; indep results have exactly one
 * entry per position, CRUSH_ITEM_NONE where nothing fit.
 */
export function mapRule(map: CrushMap, rule: Rule, x: number, resultMax: number, weights: DeviceWeights, chooseArgs?: ChooseArgMap): number[] {
  if (!Number.isInteger(resultMax) || resultMax < 0) throw new RangeError(`resultMax ${resultMax} must be a non-negative integer`);
  const t = map.tunables;
  const flat = flatBuckets(map);
  const walkInput: Walk = { map, weights, x: x | 0, args: chooseArgs, flat, draw: chooseArgs === undefined ? drawModuleFor(flat) : undefined };
  let chooseTries = t.chooseTotalTries + 1; // Ceph counted "retries"; +1 makes them tries
  let chooseLeafTries = 0;
  let localRetries = t.chooseLocalTries;
  let localFallbackRetries = t.chooseLocalFallbackTries;
  let varyR = t.chooseleafVaryR;
  let stable = t.chooseleafStable;

  // Scratch vectors (Ceph's a, b, c), reused across calls: mapRule never re-enters itself.
  let w = scratchA;
  let o = scratchB;
  const c = scratchC;
  let wsize = 0;
  const result: number[] = [];

  for (const step of rule.steps) {
    switch (step.op) {
      case 'take': {
        // `take X class C` starts from X's shadow copy for class C (Ceph stores that id in the rule).
        const a = step.deviceClass === undefined ? step.item : (map.classBuckets.get(step.item)?.get(step.deviceClass) ?? CRUSH_ITEM_NONE);
        if ((a >= 0 && a < map.maxDevices) || (a < 0 && bucketAt(map, a) !== undefined)) {
          w[0] = a;
          wsize = 1;
        }
        break;
      }
      case 'set': {
        const v = step.value;
        switch (step.name) {
          case 'choose_tries':
            if (v > 0) chooseTries = v;
            break;
          case 'chooseleaf_tries':
            if (v > 0) chooseLeafTries = v;
            break;
          case 'choose_local_tries':
            if (v >= 0) localRetries = v;
            break;
          case 'choose_local_fallback_tries':
            if (v >= 0) localFallbackRetries = v;
            break;
          case 'chooseleaf_vary_r':
            if (v >= 0) varyR = v;
            break;
          case 'chooseleaf_stable':
            if (v >= 0) stable = v;
            break;
          default: {
            const never: never = step.name;
            throw new Error(`unknown set step ${String(never)}`);
          }
        }
        break;
      }
      case 'choose': {
        if (wsize === 0) break;
        let osize = 0;
        for (let i = 0; i < wsize; i++) {
          let numrep = step.num;
          if (numrep <= 0) {
            numrep += resultMax; // n <= 0 means resultMax + n
            if (numrep <= 0) continue;
          }
          const from = (w[i] as number) < 0 ? bucketAt(map, w[i] as number) : undefined;
          if (from === undefined) continue; // a device or a hole (CRUSH_ITEM_NONE)
          if (step.mode === 'firstn') {
            const recurseTries = chooseLeafTries ? chooseLeafTries : t.chooseleafDescendOnce ? 1 : chooseTries;
            osize += chooseFirstn(walkInput, from, numrep, step.type, o, osize, 0, resultMax - osize, chooseTries, recurseTries, localRetries, localFallbackRetries, step.leaf, varyR, stable, c, osize, 0);
          } else {
            const outSize = Math.min(numrep, resultMax - osize);
            chooseIndep(walkInput, from, outSize, numrep, step.type, o, osize, 0, chooseTries, chooseLeafTries ? chooseLeafTries : 1, step.leaf, c, osize, 0);
            osize += outSize;
          }
        }
        if (step.leaf) for (let i = 0; i < osize; i++) o[i] = c[i] as number;
        const tmp = o;
        o = w;
        w = tmp;
        wsize = osize;
        break;
      }
      case 'emit':
        for (let i = 0; i < wsize && result.length < resultMax; i++) result.push(w[i] as number);
        wsize = 0;
        break;
      case 'noop':
        break;
      default: {
        const never: never = step;
        throw new Error(`unknown rule step ${JSON.stringify(never)}`);
      }
    }
  }
  return result;
}
