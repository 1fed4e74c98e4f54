/**
 * Object → placement group → OSDs, as RADOS computes it (thesis §6.2.1 Algorithm 3, §6.2.2.1;
 * digest §1.3, §3.2). README invariants I12–I13.
 *
 * 1. The object name hashes to a 32-bit value (Ceph's rjenkins string hash, the pool's default
 *    `object_hash`).
 * 2. stable_mod folds it onto the pool's pg_num PGs, so pg_num need not be a power of two and
 *    raising it by one splits a single PG (thesis Alg. 3; digest §3.2).
 * 3. The PG's placement seed: with the `hashpspool` flag (Ceph's default since 0.80) the folded
 *    ps (with pgp_num) is hashed with the pool id, so pools do not overlap; without it the pool
 *    id is added (the legacy behaviour).
 * 4. CRUSH maps the seed with the pool's rule to `size` OSDs; the first is the primary.
 */
import { chooseArgsFor } from './crush-map.js';
import type { CrushMap, Rule } from './crush-map.js';
import { crushHash32_2, strHashRjenkins } from './hash.js';
import { CRUSH_ITEM_NONE, mapRule } from './mapper.js';
import type { DeviceWeights } from './mapper.js';

/** Ceph's `ceph_stable_mod(x, b, bmask)`: x mod b that moves few values when b grows (Alg. 3). */
export function stableMod(x: number, b: number, bmask: number): number {
  const low = (x & bmask) >>> 0;
  return low < b ? low : (x & (bmask >>> 1)) >>> 0;
}

/** The mask for n PGs: 2^k − 1 for the smallest k with 2^k ≥ n (Ceph's `pg_num_mask`). */
export function pgMask(n: number): number {
  if (!Number.isInteger(n) || n < 1 || n > 0x80000000) throw new RangeError(`pg count ${n} must be an integer in [1, 2^31]`);
  let bits = 0;
  for (let v = n - 1; v > 0; v >>>= 1) bits++;
  return bits === 32 ? 0xffffffff : (2 ** bits - 1) >>> 0;
}

/** A pool's placement parameters (the subset of Ceph's pg_pool_t that placement reads). */
export interface PoolPlacement {
  readonly id: number;
  readonly pgNum: number;
  /** Placement PG count; defaults to pgNum. */
  readonly pgpNum?: number;
  /** Replicas (or chunks) per PG. */
  readonly size: number;
  /** Which CRUSH rule the pool uses. */
  readonly rule: Rule;
  /** Ceph's FLAG_HASHPSPOOL; default true. */
  readonly hashPsPool?: boolean;
  /** Replicated pools drop holes and shift later OSDs up; erasure pools keep positions. */
  readonly type?: 'replicated' | 'erasure';
}

export interface PgId {
  readonly pool: number;
  /** The folded placement seed, in [0, pgNum). */
  readonly ps: number;
}

/** Ceph's spelling of a PG id: `pool.ps` with ps in lower-case hex (`1.2a`). */
export function formatPgId(pg: PgId): string {
  return `${pg.pool}.${pg.ps.toString(16)}`;
}

/** The 32-bit hash of an object name (optionally in a namespace), before folding. */
export function objectHash(name: string, namespace = ''): number {
  // Ceph hashes `namespace + '\x1f' + name` when a namespace is set.
  return strHashRjenkins(namespace === '' ? name : `${namespace}\x1f${name}`);
}

/** Object name → PG (steps 1–2). */
export function objectToPg(pool: PoolPlacement, name: string, namespace = ''): PgId {
  return { pool: pool.id, ps: stableMod(objectHash(name, namespace), pool.pgNum, pgMask(pool.pgNum)) };
}

/** PG → CRUSH input x, the "pps" (step 3). */
export function pgToPlacementSeed(pool: PoolPlacement, pg: PgId): number {
  const pgpNum = pool.pgpNum ?? pool.pgNum;
  const folded = stableMod(pg.ps, pgpNum, pgMask(pgpNum));
  if (pool.hashPsPool ?? true) return crushHash32_2(folded, pool.id);
  return (folded + pool.id) >>> 0;
}

export interface PgPlacement {
  readonly pg: PgId;
  /** CRUSH's input. */
  readonly x: number;
  /** The OSDs, primary first. Replicated pools have no holes; erasure pools keep CRUSH_ITEM_NONE. */
  readonly osds: readonly number[];
  /** The first OSD that is not a hole, or -1 when there is none. */
  readonly primary: number;
}

/**
 * PG → OSDs (step 4). `weights` is the OSD map's in/out reweight vector (0x10000 in, 0 out).
 * OSDs that CRUSH returns but the vector does not cover are treated as nonexistent.
 */
export function pgToOsds(map: CrushMap, pool: PoolPlacement, pg: PgId, weights: DeviceWeights): PgPlacement {
  const x = pgToPlacementSeed(pool, pg);
  // RADOS passes the pool id as the choose_args index (falling back to the default set).
  const raw = mapRule(map, pool.rule, x, pool.size, weights, chooseArgsFor(map, pool.id));
  const exists = (o: number): boolean => o !== CRUSH_ITEM_NONE && o >= 0 && o < weights.length;
  const erasure = (pool.type ?? pool.rule.type) === 'erasure';
  const osds = erasure ? raw.map((o) => (exists(o) ? o : CRUSH_ITEM_NONE)) : raw.filter(exists);
  const primary = osds.find((o) => o !== CRUSH_ITEM_NONE) ?? -1;
  return { pg, x, osds, primary };
}

/** Object name → PG → OSDs, as a RADOS client computes it. */
export function objectToOsds(map: CrushMap, pool: PoolPlacement, name: string, weights: DeviceWeights, namespace = ''): PgPlacement {
  return pgToOsds(map, pool, objectToPg(pool, name, namespace), weights);
}
