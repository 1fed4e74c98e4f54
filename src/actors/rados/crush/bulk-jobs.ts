/**
 * Bulk CRUSH work in pieces that can run on another thread (DESIGN.md §3: bulk CRUSH mapping is a
 * job for the CPU pool). Each job takes plain, structured-cloneable data — the map as Ceph text,
 * which parses back to the same map (README invariant I11) — and returns typed arrays, so a job
 * costs one parse and one copy of its result to move between threads. Pure: the same input gives
 * the same output on any thread; node/bulk-mapping.ts decides what runs where.
 */
import { findRule } from './crush-map.js';
import type { CrushMap, Rule } from './crush-map.js';
import { parseCrushMap } from './map-text.js';
import { CRUSH_ITEM_NONE } from './mapper.js';
import { pgToOsds } from './placement.js';
import type { PoolPlacement } from './placement.js';
import { crushTestPart, planCrushTest } from './tester.js';
import type { CrushTestOptions, CrushTestPart } from './tester.js';

/**
 * The last map text parsed on this thread and its map. A job pool sends every job of one bulk
 * request the same text, so a worker parses it once per request, not once per job. A memo, not
 * state: it never changes a result.
 */
let memo: { text: string; map: CrushMap } | undefined;

function mapOf(text: string): CrushMap {
  if (memo?.text !== text) memo = { text, map: parseCrushMap(text) };
  return memo.map;
}

export interface CrushTestJob {
  /** The map in Ceph's text syntax (`printCrushMap`). */
  readonly mapText: string;
  readonly opts: CrushTestOptions;
  /** This job's sub-range of [opts.minX, opts.maxX]. */
  readonly minX: number;
  readonly maxX: number;
}

/** `crushtool --test` over a sub-range: the part `crushTestLines` joins (tester.ts). */
export function crushTestJob(job: CrushTestJob): CrushTestPart {
  const map = mapOf(job.mapText);
  return crushTestPart(map, job.opts, planCrushTest(map, job.opts), job.minX, job.maxX);
}

/** A pool's placement parameters with the rule by id, so they cross threads as plain data. */
export interface PoolPlacementData extends Omit<PoolPlacement, 'rule'> {
  readonly ruleId: number;
}

export interface PgMappingJob {
  readonly mapText: string;
  readonly pool: PoolPlacementData;
  /** The OSD map's reweight vector (16.16; 0x10000 in, 0 out). */
  readonly weights: readonly number[];
  /** PGs [firstPs, endPs) of the pool. */
  readonly firstPs: number;
  readonly endPs: number;
}

/**
 * The OSDs of PGs [firstPs, endPs): `size` slots per PG, in PG order, primary first. A replicated
 * PG with fewer OSDs than `size` has CRUSH_ITEM_NONE in its trailing slots (pgToOsds drops its
 * holes); an erasure PG keeps CRUSH_ITEM_NONE where its position has no OSD.
 */
export interface PgMappingPart {
  readonly firstPs: number;
  readonly size: number;
  readonly osds: Int32Array;
}

export function poolPlacementOf(map: CrushMap, pool: PoolPlacementData): PoolPlacement {
  const rule: Rule | undefined = findRule(map, pool.ruleId);
  if (rule === undefined) throw new RangeError(`pool ${pool.id}: rule ${pool.ruleId} is not in the map`);
  const { ruleId: _, ...rest } = pool;
  return { ...rest, rule };
}

/** Maps PGs [firstPs, endPs) of a pool to OSDs (placement.ts `pgToOsds`, one PG at a time). */
export function pgMappingPart(map: CrushMap, pool: PoolPlacement, weights: readonly number[], firstPs: number, endPs: number): PgMappingPart {
  if (!(Number.isSafeInteger(firstPs) && Number.isSafeInteger(endPs) && 0 <= firstPs && firstPs <= endPs && endPs <= pool.pgNum)) {
    throw new RangeError(`PG range [${firstPs}, ${endPs}) is not inside pool ${pool.id}'s ${pool.pgNum} PGs`);
  }
  const size = pool.size;
  const osds = new Int32Array((endPs - firstPs) * size).fill(CRUSH_ITEM_NONE);
  for (let ps = firstPs; ps < endPs; ps++) {
    const got = pgToOsds(map, pool, { pool: pool.id, ps }, weights).osds;
    const at = (ps - firstPs) * size;
    for (let i = 0; i < got.length && i < size; i++) osds[at + i] = got[i]!;
  }
  return { firstPs, size, osds };
}

/** The job form of `pgMappingPart`. */
export function pgMappingJob(job: PgMappingJob): PgMappingPart {
  const map = mapOf(job.mapText);
  return pgMappingPart(map, poolPlacementOf(map, job.pool), job.weights, job.firstPs, job.endPs);
}
