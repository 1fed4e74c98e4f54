/**
 * Object → PG → up and acting sets through an OSD map (thesis §6.2.1 Algorithm 3, §6.2.2.1;
 * digest §1.3, §3.2–3.3). README invariants R6–R8.
 *
 * 1. The object name hashes (Ceph's rjenkins string hash) and folds onto the pool's pg_num PGs
 *    with stable_mod — the crush module's `objectToPg`.
 * 2. CRUSH maps the PG's placement seed (stable_mod by pgp_num, hashed with the pool id) with the
 *    pool's rule over the *in* OSDs: the weight vector gives out OSDs weight 0 (crush `pgToOsds`).
 * 3. Down OSDs are filtered out of CRUSH's result, keeping order: that is the up set; the primary
 *    is its first OSD. With no PG overrides yet (Ceph's pg_temp, set by peering) the acting set
 *    equals the up set.
 *
 * A map is immutable, so its mappings are too: each map object gets an index (WeakMap by
 * identity) with its CRUSH map, weight vector and one cached mapping per PG, filled on first use.
 */
import { formatPgId, objectHash, pgMask, pgToOsds, stableMod } from '../crush/index.js';
import type { CrushMap, PgId, PoolPlacement, Rule } from '../crush/index.js';
import { crushMapOf, crushWeights, findPool } from './osd-map.js';
import type { OsdMap, Pool } from './osd-map.js';

export type { PgId } from '../crush/index.js';

/** Where a PG lives in one epoch. */
export interface PgMapping {
  readonly pg: PgId;
  /** CRUSH's result over the in OSDs, before down OSDs are removed. */
  readonly raw: readonly number[];
  /** `raw` without down OSDs, in order (thesis §6.2.2.1). */
  readonly up: readonly number[];
  /** The OSDs serving the PG; equals `up` (no pg_temp overrides yet). */
  readonly acting: readonly number[];
  /** The first acting OSD, or -1 when every mapped OSD is down. */
  readonly primary: number;
}

interface PoolIndex {
  readonly pool: Pool;
  readonly placement: PoolPlacement;
  /** stable_mod's mask for pg_num. */
  readonly pgMask: number;
  readonly cache: Array<PgMapping | undefined>;
}

interface MapIndex {
  readonly crush: CrushMap | null;
  readonly weights: readonly number[];
  readonly pools: Map<number, PoolIndex>;
  readonly up: Uint8Array;
  /** No OSD is down: CRUSH's result is the up set as it is. */
  readonly allUp: boolean;
}

const indexes = new WeakMap<OsdMap, MapIndex>();

function indexOf(map: OsdMap): MapIndex {
  let ix = indexes.get(map);
  if (ix) return ix;
  const crush = crushMapOf(map);
  const up = new Uint8Array(map.osds.length);
  for (const o of map.osds) up[o.id] = o.up ? 1 : 0;
  ix = { crush, weights: crushWeights(map, crush), pools: new Map(), up, allUp: map.osds.every((o) => o.up) };
  indexes.set(map, ix);
  return ix;
}

function poolIndex(map: OsdMap, ix: MapIndex, poolId: number): PoolIndex | undefined {
  let pi = ix.pools.get(poolId);
  if (pi) return pi;
  const pool = findPool(map, poolId);
  if (!pool || !ix.crush) return undefined;
  const rule = ix.crush.rules[pool.crushRule] as Rule; // validateOsdMap / applyIncremental checked it exists (R4)
  pi = { pool, placement: { id: pool.id, pgNum: pool.pgNum, pgpNum: pool.pgpNum, size: pool.size, rule }, pgMask: pgMask(pool.pgNum), cache: new Array<PgMapping | undefined>(pool.pgNum) };
  ix.pools.set(poolId, pi);
  return pi;
}

function compute(ix: MapIndex, pi: PoolIndex, ps: number): PgMapping {
  const pg: PgId = { pool: pi.pool.id, ps };
  const raw = pgToOsds(ix.crush as CrushMap, pi.placement, pg, ix.weights).osds;
  const up = ix.allUp ? raw : raw.filter((o) => ix.up[o] === 1);
  return { pg, raw, up, acting: up, primary: up[0] ?? -1 };
}

/**
 * PG → its OSDs in this map (R6–R7). Undefined for an unknown pool or a PG outside the pool's
 * pg_num. Cached per map and PG: repeated calls return the same object.
 */
export function pgMapping(map: OsdMap, poolId: number, ps: number): PgMapping | undefined {
  const ix = indexOf(map);
  const pi = poolIndex(map, ix, poolId);
  if (!pi || !Number.isInteger(ps) || ps < 0 || ps >= pi.pool.pgNum) return undefined;
  let m = pi.cache[ps];
  if (m === undefined) {
    m = compute(ix, pi, ps);
    pi.cache[ps] = m;
  }
  return m;
}

function psOf(pi: PoolIndex, name: string, namespace: string): number {
  return stableMod(objectHash(name, namespace), pi.pool.pgNum, pi.pgMask);
}

/** Object name → PG in this map (stable_mod by pg_num, R8). Undefined for an unknown pool. */
export function objectPg(map: OsdMap, poolId: number, name: string, namespace = ''): PgId | undefined {
  const pi = poolIndex(map, indexOf(map), poolId);
  return pi ? { pool: poolId, ps: psOf(pi, name, namespace) } : undefined;
}

/** Object name → PG → up and acting sets, as a client or OSD computes it (R6–R8). Cached per map and PG. */
export function objectMapping(map: OsdMap, poolId: number, name: string, namespace = ''): PgMapping | undefined {
  const ix = indexOf(map);
  const pi = poolIndex(map, ix, poolId);
  if (!pi) return undefined;
  const ps = psOf(pi, name, namespace);
  let m = pi.cache[ps];
  if (m === undefined) {
    m = compute(ix, pi, ps);
    pi.cache[ps] = m;
  }
  return m;
}

/** `objectMapping` computed afresh, bypassing the per-PG cache (for tests and the bench baseline). */
export function objectMappingUncached(map: OsdMap, poolId: number, name: string, namespace = ''): PgMapping | undefined {
  const ix = indexOf(map);
  const pi = poolIndex(map, ix, poolId);
  return pi ? compute(ix, pi, psOf(pi, name, namespace)) : undefined;
}

/** `pgMapping` computed afresh, bypassing the per-PG cache. */
export function pgMappingUncached(map: OsdMap, poolId: number, ps: number): PgMapping | undefined {
  const ix = indexOf(map);
  const pi = poolIndex(map, ix, poolId);
  if (!pi || !Number.isInteger(ps) || ps < 0 || ps >= pi.pool.pgNum) return undefined;
  return compute(ix, pi, ps);
}

/** Every PG of a pool, in PG order. */
export function poolMappings(map: OsdMap, poolId: number): PgMapping[] {
  const pool = findPool(map, poolId);
  if (!pool) return [];
  const out: PgMapping[] = [];
  for (let ps = 0; ps < pool.pgNum; ps++) out.push(pgMapping(map, poolId, ps) as PgMapping);
  return out;
}

/** What `ceph osd map POOL OBJECT` prints: `osdmap eN pool 'P' (id) object 'O' -> pg id.hash (id.ps) -> up ([..], pN) acting ([..], pN)`. */
export function describeObjectMapping(map: OsdMap, poolId: number, name: string): string | undefined {
  const pool = findPool(map, poolId);
  const m = objectMapping(map, poolId, name);
  if (!pool || !m) return undefined;
  const list = (xs: readonly number[]): string => `[${xs.join(',')}]`;
  return `osdmap e${map.epoch} pool '${pool.name}' (${pool.id}) object '${name}' -> pg ${pool.id}.${objectHash(name).toString(16)} (${formatPgId(m.pg)}) -> up (${list(m.up)}, p${m.primary}) acting (${list(m.acting)}, p${m.primary})`;
}
