/**
 * Bulk CRUSH mapping across worker threads: `crushtool --test` over a large x range, and the PG →
 * OSDs table of a whole pool. The range is split into contiguous pieces that run as jobs on a
 * JobPool (runtime/node/job-pool.ts); their results are joined in x (or PG) order, so the output
 * is the serial output, bit for bit (test/integration/crush-bulk.test.ts).
 *
 * Small requests stay on the calling thread: a job costs a map parse and a round trip to a worker,
 * so below the thresholds here the pool is slower than the loop it would replace (bench crush,
 * `map-bulk-*` vs `map-bulk-*:serial`; README "Bulk mapping").
 */
import { jobRef, splitRange } from '../../../../runtime/node/job-pool.js';
import type { JobPool } from '../../../../runtime/node/job-pool.js';
import { crushTestJob, pgMappingJob, pgMappingPart } from '../bulk-jobs.js';
import type { CrushTestJob, PgMappingJob, PgMappingPart, PoolPlacementData } from '../bulk-jobs.js';
import type { CrushMap } from '../crush-map.js';
import { printCrushMap } from '../map-text.js';
import type { PoolPlacement } from '../placement.js';
import { crushTestLines, crushTestPart, planCrushTest } from '../tester.js';
import type { CrushTestOptions, CrushTestPart } from '../tester.js';

/**
 * Inputs below which `crush test` maps on the calling thread. Measured on the 24-OSD straw2 rack
 * map of bench crush (`map-bulk-pool-N` vs `:serial`, 2 threads on a 2-core machine under other
 * load): the pool took 0.6x the serial rate at 4,096 inputs, 0.5x at 8,192, 0.95x at 16,384 and
 * 1.1x at 32,768. Below the crossover, the fixed cost of a request (the map printed, sent and
 * parsed in each worker; one round trip per piece) exceeds the mapping it spreads. A machine with
 * idle cores crosses over earlier; this errs on the side of never being slower than serial.
 */
export const crushTestBulkMinInputs = 20_000;

/** PGs below which a pool's PG table is mapped on the calling thread (the same measurement: one PG is one CRUSH input). */
export const pgMappingBulkMinPgs = 20_000;

/** Pieces per thread: more pieces than threads evens out threads slowed by other processes. */
const piecesPerThread = 4;

const bulkJobsModule = new URL('../bulk-jobs.js', import.meta.url).href;
const crushTestJobRef = jobRef<CrushTestJob, CrushTestPart>(bulkJobsModule, crushTestJob.name);
const pgMappingJobRef = jobRef<PgMappingJob, PgMappingPart>(bulkJobsModule, pgMappingJob.name);

export interface BulkOptions {
  /** Run pieces here; without it (or below the threshold) everything runs on the calling thread. */
  readonly pool?: JobPool;
  /** Override the threshold (tests and benches force the pool with 0). */
  readonly minInputs?: number;
}

/**
 * `crushTest` (tester.ts) with large ranges split across the pool. Throws CrushTestError for a
 * request that does not fit the map before any job runs; a job that fails rejects with JobError.
 */
export async function crushTestBulk(map: CrushMap, opts: CrushTestOptions, options: BulkOptions = {}): Promise<string[]> {
  const plan = planCrushTest(map, opts);
  const inputs = opts.maxX - opts.minX + 1;
  const pool = options.pool;
  const minInputs = options.minInputs ?? crushTestBulkMinInputs;
  if (pool === undefined || inputs < minInputs || plan.totalWeight === 0) {
    return crushTestLines(map, opts, plan, [crushTestPart(map, opts, plan, opts.minX, opts.maxX)]);
  }
  const mapText = printCrushMap(map);
  const pieces = splitRange(opts.minX, opts.maxX + 1, pool.threads * piecesPerThread, Math.ceil(minInputs / pool.threads));
  const parts = await Promise.all(pieces.map(([first, end]) => pool.run(crushTestJobRef, { mapText, opts, minX: first, maxX: end - 1 })));
  return crushTestLines(map, opts, plan, parts);
}

/** Every PG of a pool → its OSDs; `osds` has `size` slots per PG in PG order (bulk-jobs.ts PgMappingPart). */
export async function mapPoolPgs(map: CrushMap, pool: PoolPlacement, weights: readonly number[], options: BulkOptions = {}): Promise<PgMappingPart> {
  const jobs = options.pool;
  const minPgs = options.minInputs ?? pgMappingBulkMinPgs;
  if (jobs === undefined || pool.pgNum < minPgs) return pgMappingPart(map, pool, weights, 0, pool.pgNum);
  const mapText = printCrushMap(map);
  const { rule, ...rest } = pool;
  const data: PoolPlacementData = { ...rest, ruleId: rule.id };
  const pieces = splitRange(0, pool.pgNum, jobs.threads * piecesPerThread, Math.ceil(minPgs / jobs.threads));
  const parts = await Promise.all(pieces.map(([firstPs, endPs]) => jobs.run(pgMappingJobRef, { mapText, pool: data, weights, firstPs, endPs })));
  const osds = new Int32Array(pool.pgNum * pool.size);
  for (const p of parts) osds.set(p.osds, p.firstPs * pool.size);
  return { firstPs: 0, size: pool.size, osds };
}
