/**
 * The OSD map (thesis §6.2.2, Table 6.1; digest §3.3) as plain data, and its incrementals — the
 * diff between consecutive epochs (thesis §6.2.2: "changes are distributed as incremental
 * maps"). README invariants R1–R6.
 *
 * Everything here is plain, msgpack-encodable data (no classes, no Maps, no `undefined` values)
 * so the monitors can store and send it; the CRUSH map is kept as Ceph's text syntax, which the
 * crush module parses and prints losslessly (crush README I11). Functions are pure: `apply`
 * returns a new map and never mutates its input.
 */
import { CrushMapParseError, parseCrushMap } from '../crush/index.js';
import type { CrushMap } from '../crush/index.js';
import { radosError } from '../errors.js';
import type { RadosError } from '../errors.js';

/** How a pool replicates writes (thesis §6.3.1, Figs 6.3–6.4). */
export type ReplicationMode = 'primary-copy' | 'chain' | 'splay';
export const REPLICATION_MODES: readonly ReplicationMode[] = ['primary-copy', 'chain', 'splay'];

/** Ceph's CEPH_OSD_IN: full reweight, 16.16 fixed point. */
export const OSD_WEIGHT_FULL = 0x10000;

/** One OSD's entry (thesis Table 6.1: up/down with address, in/out). */
export interface OsdInfo {
  readonly id: number;
  /** Reachable (thesis: up = "online and reachable"). Down OSDs are filtered out of PG sets. */
  readonly up: boolean;
  /** Included in the mapping (thesis: in/out). Out OSDs get CRUSH weight 0. */
  readonly in: boolean;
  /** The OSD's actor address as it reported it at boot; '' before its first boot. */
  readonly addr: string;
  /**
   * The reweight, 16.16 fixed point in [0, 0x10000] (Ceph's `osd reweight`): the share of the
   * OSD's CRUSH weight it keeps (crush README, overload). Kept across out/in.
   */
  readonly weight: number;
  /** The epoch in which the OSD was last marked up; 0 if it never booted. */
  readonly upFrom: number;
  /** Monitor time (ms) when the OSD was marked down or created; null while it is up. */
  readonly downSinceMs: number | null;
}

/** A pool (Ceph's pg_pool_t, the parts RADOS uses here). */
export interface Pool {
  readonly id: number;
  readonly name: string;
  /** Replicas per PG. */
  readonly size: number;
  /** Replicas a PG needs to accept writes. */
  readonly minSize: number;
  /** PGs objects hash into (thesis §6.2.1: any count, through stable_mod). */
  readonly pgNum: number;
  /** PGs placement uses (≤ pgNum): new PGs stay with their parent until pgp_num follows. */
  readonly pgpNum: number;
  /** CRUSH rule id. */
  readonly crushRule: number;
  readonly replication: ReplicationMode;
}

export interface OsdMap {
  /** Grows by one with every change (R1). 0 is the empty map before the first commit. */
  readonly epoch: number;
  /** Monitor time (ms) of the change that produced this epoch. */
  readonly modifiedMs: number;
  /** The CRUSH map in Ceph's text syntax (thesis §5.2.1); '' while the map has no hierarchy. */
  readonly crush: string;
  /** By id: `osds[i].id === i`. OSDs are never removed (R5). */
  readonly osds: readonly OsdInfo[];
  /** Sorted by id. */
  readonly pools: readonly Pool[];
  /** The highest pool id ever used; ids are not reused. */
  readonly poolIdMax: number;
}

/** Changes to one OSD; absent fields are unchanged. A new OSD (id = current count) gives them all. */
export interface OsdPatch {
  readonly id: number;
  readonly up?: boolean;
  readonly in?: boolean;
  readonly addr?: string;
  readonly weight?: number;
  readonly upFrom?: number;
  readonly downSinceMs?: number | null;
}

/** A pool created or replaced (`pool` set), or deleted (`pool` null). */
export interface PoolChange {
  readonly id: number;
  readonly pool: Pool | null;
}

/**
 * The diff from epoch `from` to epoch `epoch`. The monitor commits one per epoch
 * (`epoch = from + 1`); `composeIncrementals` joins consecutive ones into one that bridges a gap
 * (thesis §6.2.2: "several can be bundled to bridge distant epochs").
 */
export interface OsdMapIncremental {
  readonly from: number;
  readonly epoch: number;
  readonly modifiedMs: number;
  /** A new CRUSH map (text), replacing the old one. */
  readonly crush?: string;
  /** Sorted by id, one entry per id. */
  readonly osds?: readonly OsdPatch[];
  /** Sorted by id, one entry per id. */
  readonly pools?: readonly PoolChange[];
  readonly poolIdMax?: number;
}

export type Result<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: RadosError };

const ok = <T>(value: T): Result<T> => ({ ok: true, value });
const fail = <T>(code: RadosError['code'], message: string): Result<T> => ({ ok: false, error: radosError(code, message) });

/** The map at epoch 0: no OSDs, no pools, no hierarchy. */
export function emptyOsdMap(): OsdMap {
  return { epoch: 0, modifiedMs: 0, crush: '', osds: [], pools: [], poolIdMax: 0 };
}

// ---------------------------------------------------------------------------------------------
// CRUSH text → built map, cached: the text changes rarely, the map is read at every mapping.

const crushCache = new Map<string, CrushMap>();
const CRUSH_CACHE_MAX = 8;

/** The built CRUSH map of `text` (cached by text; the cache holds a few recent maps). Throws CrushMapParseError. */
export function crushOf(text: string): CrushMap {
  const hit = crushCache.get(text);
  if (hit) return hit;
  const built = parseCrushMap(text);
  if (crushCache.size >= CRUSH_CACHE_MAX) crushCache.delete(crushCache.keys().next().value as string);
  crushCache.set(text, built);
  return built;
}

function crushCheck(text: string): Result<CrushMap | null> {
  if (typeof text !== 'string') return fail('malformed_map', 'crush must be a string (Ceph text syntax)');
  if (text === '') return ok(null);
  try {
    return ok(crushOf(text));
  } catch (err) {
    if (err instanceof CrushMapParseError || err instanceof Error) return fail('malformed_map', `crush map does not parse: ${err.message}`);
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Validation (R4: nothing malformed is ever applied or stored).

const isInt = (v: unknown, min = 0): v is number => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= Number.MAX_SAFE_INTEGER;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function osdProblem(o: unknown, id: number): string | null {
  if (!isObject(o)) return `osd ${id}: not an object`;
  if (o['id'] !== id) return `osd at index ${id} has id ${String(o['id'])}`;
  if (typeof o['up'] !== 'boolean') return `osd ${id}: up must be a boolean`;
  if (typeof o['in'] !== 'boolean') return `osd ${id}: in must be a boolean`;
  if (typeof o['addr'] !== 'string') return `osd ${id}: addr must be a string`;
  if (!isInt(o['weight']) || (o['weight'] as number) > OSD_WEIGHT_FULL) return `osd ${id}: weight must be an integer in [0, 0x10000]`;
  if (!isInt(o['upFrom'])) return `osd ${id}: upFrom must be a non-negative integer`;
  const d = o['downSinceMs'];
  if (d !== null && typeof d !== 'number') return `osd ${id}: downSinceMs must be a number or null`;
  if (o['up'] === true && d !== null) return `osd ${id}: an up OSD has no downSinceMs`;
  if (o['up'] === false && d === null) return `osd ${id}: a down OSD needs downSinceMs`;
  if (o['up'] === true && o['addr'] === '') return `osd ${id}: an up OSD needs an address`;
  return null;
}

/** Checks one pool against the CRUSH map it will be placed by. */
export function poolProblem(p: unknown, crush: CrushMap | null, pgNumMax = Number.MAX_SAFE_INTEGER): RadosError | null {
  const bad = (m: string): RadosError => radosError('malformed_map', m);
  if (!isObject(p)) return bad('pool: not an object');
  const name = `pool ${String(p['id'])}`;
  if (!isInt(p['id'], 1)) return bad(`${name}: id must be a positive integer`);
  if (typeof p['name'] !== 'string' || p['name'] === '' || p['name'].length > 256) return bad(`${name}: name must be a non-empty string of at most 256 characters`);
  if (!isInt(p['size'], 1) || (p['size'] as number) > 10) return bad(`${name}: size must be an integer in [1, 10]`);
  if (!isInt(p['minSize'], 1) || (p['minSize'] as number) > (p['size'] as number)) return bad(`${name}: min_size must be an integer in [1, size]`);
  if (!isInt(p['pgNum'], 1) || (p['pgNum'] as number) > pgNumMax) return bad(`${name}: pg_num must be an integer in [1, ${pgNumMax}]`);
  if (!isInt(p['pgpNum'], 1) || (p['pgpNum'] as number) > (p['pgNum'] as number)) return bad(`${name}: pgp_num must be an integer in [1, pg_num]`);
  if (!REPLICATION_MODES.includes(p['replication'] as ReplicationMode)) return bad(`${name}: replication must be one of ${REPLICATION_MODES.join(', ')}`);
  if (!isInt(p['crushRule'])) return bad(`${name}: crushRule must be a non-negative integer`);
  const rule = crush?.rules[p['crushRule'] as number];
  if (rule === undefined) return radosError('unknown_rule', `${name}: CRUSH rule ${p['crushRule'] as number} does not exist`);
  if (rule.type !== 'replicated') return radosError('unknown_rule', `${name}: CRUSH rule ${rule.name} is an ${rule.type} rule; pools here are replicated`);
  return null;
}

/**
 * Checks that `m` is a well-formed OSD map (R4): every field of the right type, OSD ids equal
 * their index, pools sorted with unique ids and names, the CRUSH text parses and every pool's
 * rule exists in it.
 */
export function validateOsdMap(m: unknown): Result<OsdMap> {
  if (!isObject(m)) return fail('malformed_map', 'an OSD map must be an object');
  if (!isInt(m['epoch'])) return fail('malformed_map', 'epoch must be a non-negative integer');
  if (typeof m['modifiedMs'] !== 'number' || !Number.isFinite(m['modifiedMs'])) return fail('malformed_map', 'modifiedMs must be a finite number');
  if (!isInt(m['poolIdMax'])) return fail('malformed_map', 'poolIdMax must be a non-negative integer');
  const crush = crushCheck(m['crush'] as string);
  if (!crush.ok) return crush;
  const osds = m['osds'];
  if (!Array.isArray(osds)) return fail('malformed_map', 'osds must be an array');
  for (let i = 0; i < osds.length; i++) {
    const p = osdProblem(osds[i], i);
    if (p !== null) return fail('malformed_map', p);
  }
  const pools = m['pools'];
  if (!Array.isArray(pools)) return fail('malformed_map', 'pools must be an array');
  const names = new Set<string>();
  let lastId = 0;
  for (const p of pools) {
    const problem = poolProblem(p, crush.value);
    if (problem) return { ok: false, error: problem.code === 'unknown_rule' ? radosError('malformed_map', problem.message) : problem };
    const pool = p as Pool;
    if (pool.id <= lastId) return fail('malformed_map', `pools must be sorted by id with unique ids (pool ${pool.id} after ${lastId})`);
    if (pool.id > (m['poolIdMax'] as number)) return fail('malformed_map', `pool ${pool.id} is above poolIdMax ${m['poolIdMax'] as number}`);
    if (names.has(pool.name)) return fail('malformed_map', `pool name ${pool.name} is used twice`);
    names.add(pool.name);
    lastId = pool.id;
  }
  return ok(m as unknown as OsdMap);
}

function patchProblem(p: unknown, existing: OsdInfo | undefined, nextNewId: number): string | null {
  if (!isObject(p)) return 'osd patch: not an object';
  if (!isInt(p['id'])) return 'osd patch: id must be a non-negative integer';
  const id = p['id'] as number;
  if (existing === undefined) {
    if (id !== nextNewId) return `osd ${id} does not exist (a new OSD must take id ${nextNewId})`;
    for (const f of ['up', 'in', 'addr', 'weight', 'upFrom', 'downSinceMs']) if (!(f in p)) return `new osd ${id}: ${f} is required`;
  }
  if ('up' in p && typeof p['up'] !== 'boolean') return `osd ${id}: up must be a boolean`;
  if ('in' in p && typeof p['in'] !== 'boolean') return `osd ${id}: in must be a boolean`;
  if ('addr' in p && typeof p['addr'] !== 'string') return `osd ${id}: addr must be a string`;
  if ('weight' in p && (!isInt(p['weight']) || (p['weight'] as number) > OSD_WEIGHT_FULL)) return `osd ${id}: weight must be an integer in [0, 0x10000]`;
  if ('upFrom' in p && !isInt(p['upFrom'])) return `osd ${id}: upFrom must be a non-negative integer`;
  if ('downSinceMs' in p && p['downSinceMs'] !== null && typeof p['downSinceMs'] !== 'number') return `osd ${id}: downSinceMs must be a number or null`;
  return null;
}

// ---------------------------------------------------------------------------------------------
// Apply and compose.

/** An OSD entry with a patch applied; only the known fields are copied (a patch's stray keys are dropped). */
function mergeOsd(base: OsdInfo | undefined, p: OsdPatch): OsdInfo {
  const pick = <K extends keyof OsdPatch & keyof OsdInfo>(k: K): OsdInfo[K] => (k in p ? p[k] : base?.[k]) as OsdInfo[K];
  return { id: p.id, up: pick('up'), in: pick('in'), addr: pick('addr'), weight: pick('weight'), upFrom: pick('upFrom'), downSinceMs: pick('downSinceMs') };
}

/**
 * Applies an incremental: `inc.from` must equal the map's epoch (R2) and the result has epoch
 * `inc.epoch` > `inc.from` (R1). Returns a typed error, leaving the map as it was, for an
 * incremental that does not follow the map (`epoch_mismatch`), is malformed, would produce a
 * malformed map, or lowers a pool's pg_num or pgp_num (`pg_num_decrease`, R3).
 */
export function applyIncremental(map: OsdMap, inc: OsdMapIncremental): Result<OsdMap> {
  if (!isObject(inc)) return fail('malformed_incremental', 'an incremental must be an object');
  if (!isInt(inc.from) || !isInt(inc.epoch) || inc.epoch <= inc.from) return fail('malformed_incremental', `incremental epochs must be integers with from < epoch (got ${String(inc.from)} → ${String(inc.epoch)})`);
  if (inc.from !== map.epoch) return fail('epoch_mismatch', `incremental ${inc.from} → ${inc.epoch} does not follow map epoch ${map.epoch}`);
  if (typeof inc.modifiedMs !== 'number' || !Number.isFinite(inc.modifiedMs)) return fail('malformed_incremental', 'modifiedMs must be a finite number');

  let crushText = map.crush;
  let crush: CrushMap | null = map.crush === '' ? null : crushOf(map.crush);
  if (inc.crush !== undefined) {
    const c = crushCheck(inc.crush);
    if (!c.ok) return fail('malformed_incremental', c.error.message);
    crushText = inc.crush;
    crush = c.value;
  }

  let osds = map.osds;
  if (inc.osds !== undefined) {
    if (!Array.isArray(inc.osds)) return fail('malformed_incremental', 'osds must be an array');
    const next = osds.slice();
    let lastId = -1;
    for (const p of inc.osds) {
      const problem = patchProblem(p, next[(p as OsdPatch).id], next.length);
      if (problem !== null) return fail(problem.includes('does not exist') ? 'unknown_osd' : 'malformed_incremental', problem);
      if (p.id <= lastId) return fail('malformed_incremental', 'osd patches must be sorted by id, one per id');
      lastId = p.id;
      const merged = mergeOsd(next[p.id], p);
      const whole = osdProblem(merged, p.id);
      if (whole !== null) return fail('malformed_incremental', whole);
      next[p.id] = merged;
    }
    osds = next;
  }

  let poolIdMax = map.poolIdMax;
  if (inc.poolIdMax !== undefined) {
    if (!isInt(inc.poolIdMax) || inc.poolIdMax < map.poolIdMax) return fail('malformed_incremental', `poolIdMax may only grow (${map.poolIdMax} → ${String(inc.poolIdMax)})`);
    poolIdMax = inc.poolIdMax;
  }

  let pools = map.pools;
  if (inc.pools !== undefined || inc.crush !== undefined) {
    const byId = new Map(pools.map((p) => [p.id, p]));
    let lastId = 0;
    for (const ch of inc.pools ?? []) {
      if (!isObject(ch) || !isInt(ch.id, 1)) return fail('malformed_incremental', 'pool change: id must be a positive integer');
      if (ch.id <= lastId) return fail('malformed_incremental', 'pool changes must be sorted by id, one per id');
      lastId = ch.id;
      const old = byId.get(ch.id);
      if (ch.pool === null) {
        // Idempotent, so that create-then-delete composes (the monitor checks the pool exists).
        if (ch.id > poolIdMax) return fail('malformed_incremental', `deleted pool ${ch.id} is above poolIdMax ${poolIdMax}`);
        byId.delete(ch.id);
        continue;
      }
      if (!isObject(ch.pool) || ch.pool.id !== ch.id) return fail('malformed_incremental', `pool change ${ch.id}: pool.id must equal the change's id`);
      if (!old && ch.id > poolIdMax) return fail('malformed_incremental', `new pool ${ch.id} is above poolIdMax ${poolIdMax}`);
      if (old && (ch.pool.pgNum < old.pgNum || ch.pool.pgpNum < old.pgpNum)) {
        return fail('pg_num_decrease', `pool ${old.name}: pg_num/pgp_num may only grow (${old.pgNum}/${old.pgpNum} → ${ch.pool.pgNum}/${ch.pool.pgpNum})`);
      }
      const q = ch.pool;
      byId.set(ch.id, { id: q.id, name: q.name, size: q.size, minSize: q.minSize, pgNum: q.pgNum, pgpNum: q.pgpNum, crushRule: q.crushRule, replication: q.replication });
    }
    const names = new Set<string>();
    for (const p of byId.values()) {
      const problem = poolProblem(p, crush);
      if (problem) return { ok: false, error: problem.code === 'malformed_map' ? radosError('malformed_incremental', problem.message) : problem };
      if (names.has(p.name)) return fail('pool_exists', `pool name ${p.name} is used twice`);
      names.add(p.name);
    }
    pools = [...byId.values()].sort((a, b) => a.id - b.id);
  }

  return ok({ epoch: inc.epoch, modifiedMs: inc.modifiedMs, crush: crushText, osds, pools, poolIdMax });
}

/** `applyIncremental` for callers that hold a valid incremental by construction; throws on error. */
export function applyIncrementalOrThrow(map: OsdMap, inc: OsdMapIncremental): OsdMap {
  const r = applyIncremental(map, inc);
  if (!r.ok) throw new Error(`osdmap: ${r.error.code}: ${r.error.message}`);
  return r.value;
}

function mergeById<T extends { readonly id: number }>(a: readonly T[] | undefined, b: readonly T[] | undefined, merge: (x: T, y: T) => T): T[] | undefined {
  if (a === undefined) return b === undefined ? undefined : [...b];
  if (b === undefined) return [...a];
  const byId = new Map<number, T>(a.map((x) => [x.id, x]));
  for (const y of b) {
    const x = byId.get(y.id);
    byId.set(y.id, x === undefined ? y : merge(x, y));
  }
  return [...byId.values()].sort((x, y) => x.id - y.id);
}

/**
 * Joins two consecutive incrementals (`a.epoch === b.from`) into one from `a.from` to `b.epoch`
 * such that applying it equals applying `a`, then `b` (R2; test/unit/rados/osd-map.test.ts).
 * Later changes win field by field. Throws for non-consecutive incrementals (API misuse).
 */
export function composeIncrementals(a: OsdMapIncremental, b: OsdMapIncremental): OsdMapIncremental {
  if (a.epoch !== b.from) throw new RangeError(`cannot compose incrementals ${a.from}→${a.epoch} and ${b.from}→${b.epoch}: not consecutive`);
  const crush = b.crush ?? a.crush;
  const osds = mergeById(a.osds, b.osds, (x, y) => ({ ...x, ...y }));
  // Later pool changes replace earlier ones; a pool `a` creates and `b` deletes composes into a
  // deletion, which `applyIncremental` accepts for an absent pool (deletion is idempotent).
  const pools = mergeById(a.pools, b.pools, (_x, y) => y);
  const poolIdMax = b.poolIdMax ?? a.poolIdMax;
  return {
    from: a.from,
    epoch: b.epoch,
    modifiedMs: b.modifiedMs,
    ...(crush !== undefined ? { crush } : {}),
    ...(osds !== undefined ? { osds } : {}),
    ...(pools !== undefined ? { pools } : {}),
    ...(poolIdMax !== undefined ? { poolIdMax } : {}),
  };
}

/** Composes a run of consecutive incrementals into one (R2). */
export function composeAll(incs: readonly OsdMapIncremental[]): OsdMapIncremental {
  if (incs.length === 0) throw new RangeError('composeAll needs at least one incremental');
  let acc = incs[0] as OsdMapIncremental;
  for (let i = 1; i < incs.length; i++) acc = composeIncrementals(acc, incs[i] as OsdMapIncremental);
  return acc;
}

// ---------------------------------------------------------------------------------------------
// Reads.

export function findPool(map: OsdMap, idOrName: number | string): Pool | undefined {
  return typeof idOrName === 'number' ? map.pools.find((p) => p.id === idOrName) : map.pools.find((p) => p.name === idOrName);
}

/**
 * The CRUSH weight vector (Ceph's osd_weight): an in OSD's reweight, 0 for out OSDs and for ids
 * that have no OSD (thesis §6.2.2.1: CRUSH maps over in OSDs; down ones are filtered after).
 */
export function crushWeights(map: OsdMap, crush: CrushMap | null): number[] {
  const n = Math.max(map.osds.length, crush?.maxDevices ?? 0);
  const w = new Array<number>(n).fill(0);
  for (const o of map.osds) if (o.in) w[o.id] = o.weight;
  return w;
}

/** The map's CRUSH map, built (null while the map has none). */
export function crushMapOf(map: OsdMap): CrushMap | null {
  return map.crush === '' ? null : crushOf(map.crush);
}
