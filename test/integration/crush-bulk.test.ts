/**
 * Bulk CRUSH mapping on the job pool (DESIGN.md §3: piscina for bulk CRUSH mapping). Splitting a
 * range across worker threads must not change a single output line (README invariant I0 holds for
 * the bulk path too), a failing job must say which job failed and why, and a closed pool must leave
 * no thread behind: `troupe crush test` over a large range exits on its own.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CRUSH_ITEM_NONE, defaultDeviceWeights, printCrushMap, pgToOsds } from '../../src/actors/rados/crush/index.js';
import type { PoolPlacement, Rule } from '../../src/actors/rados/crush/index.js';
import type { PgMappingJob, PgMappingPart } from '../../src/actors/rados/crush/bulk-jobs.js';
import { crushTestBulk, mapPoolPgs } from '../../src/actors/rados/crush/node/bulk-mapping.js';
import { crushTest, testerWeights } from '../../src/actors/rados/crush/tester.js';
import { JobError, JobPool, compiledModuleUrl, jobRef, splitRange } from '../../src/runtime/node/job-pool.js';
import { randomCrushCase } from '../support/crush-random-map.js';

let pool: JobPool;
beforeAll(() => {
  pool = new JobPool({ threads: 2 });
});
afterAll(async () => {
  await pool.close();
});

const SEEDS = [3, 8, 14, 21, 30];

describe('bulk crush test on the job pool', () => {
  it.each(SEEDS)('splitting x across workers prints exactly the serial report, mappings and utilization (seed %i)', async (seed) => {
    const c = randomCrushCase(seed);
    for (const rule of c.map.rules.filter((r): r is Rule => r !== undefined)) {
      const numRep = c.numReps.get(rule.id)?.[0] ?? 3;
      for (const show of ['mappings', 'utilization'] as const) {
        const opts = { rule: rule.id, numRep, minX: 17, maxX: 3016, weights: c.reweights, show };
        // minInputs 0 forces the pool even for this small range; the split gives 8 pieces of 375.
        const parallel = await crushTestBulk(c.map, opts, { pool, minInputs: 0 });
        expect(parallel).toEqual(crushTest(c.map, opts));
      }
    }
  });

  it('a request that does not fit the map fails before any job runs, as the serial path does', async () => {
    const c = randomCrushCase(3);
    await expect(crushTestBulk(c.map, { rule: 99, numRep: 3, minX: 0, maxX: 100_000, show: 'mappings' }, { pool, minInputs: 0 })).rejects.toThrow(/rule 99 is not in the map/);
  });
});

describe('bulk PG mapping of a pool', () => {
  it.each(SEEDS)('every PG maps to the OSDs pgToOsds gives it, in PG order, through the pool (seed %i)', async (seed) => {
    const c = randomCrushCase(seed);
    const rule = c.map.rules.find((r): r is Rule => r !== undefined)!;
    const size = c.numReps.get(rule.id)?.[0] ?? 3;
    const weights = testerWeights(c.map, c.reweights);
    const placement: PoolPlacement = { id: 7, pgNum: 1000, pgpNum: 900, size, rule };
    const parallel = await mapPoolPgs(c.map, placement, weights, { pool, minInputs: 0 });
    const serial = await mapPoolPgs(c.map, placement, weights);
    expect(parallel.osds).toEqual(serial.osds);
    for (let ps = 0; ps < placement.pgNum; ps++) {
      const want = pgToOsds(c.map, placement, { pool: placement.id, ps }, weights).osds;
      const got = [...parallel.osds.subarray(ps * size, (ps + 1) * size)];
      expect(got).toEqual([...want, ...new Array<number>(size - want.length).fill(CRUSH_ITEM_NONE)].slice(0, size));
    }
  });
});

describe('job pool', () => {
  it('a job that throws rejects with a JobError naming the job and the worker error', async () => {
    const c = randomCrushCase(8);
    const rule = c.map.rules.find((r): r is Rule => r !== undefined)!;
    const ref = jobRef<PgMappingJob, PgMappingPart>(new URL('../../src/actors/rados/crush/bulk-jobs.ts', import.meta.url).href, 'pgMappingJob');
    const bad: PgMappingJob = { mapText: printCrushMap(c.map), pool: { id: 1, pgNum: 8, size: 3, ruleId: rule.id }, weights: defaultDeviceWeights(c.map), firstPs: 4, endPs: 9 };
    const err = await pool.run(ref, bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JobError);
    expect((err as Error).message).toMatch(/pgMappingJob .*failed: PG range \[4, 9\) is not inside pool 1's 8 PGs/);
  });

  it('a job naming an export the module lacks fails with a clear error', async () => {
    const ref = jobRef<unknown, unknown>(new URL('../../src/actors/rados/crush/bulk-jobs.ts', import.meta.url).href, 'noSuchJob');
    await expect(pool.run(ref, {})).rejects.toThrow(/noSuchJob/);
  });

  it('workers run the compiled module: a source URL maps to dist/, a compiled one is kept', () => {
    expect(compiledModuleUrl('file:///p/src/storage/block-verify.ts')).toBe('file:///p/dist/storage/block-verify.js');
    expect(compiledModuleUrl('file:///p/dist/storage/block-verify.js')).toBe('file:///p/dist/storage/block-verify.js');
  });

  it('splits a range into ordered, contiguous pieces no smaller than asked', () => {
    expect(splitRange(0, 10, 3)).toEqual([
      [0, 3],
      [3, 6],
      [6, 10],
    ]);
    expect(splitRange(5, 9, 8, 3)).toEqual([[5, 9]]);
    expect(splitRange(4, 4, 2)).toEqual([]);
  });

  it('jobs past the queue bound are refused with a JobError, and the queued ones still finish', async () => {
    const own = new JobPool({ threads: 1, queuedJobsMax: 2 });
    try {
      const c = randomCrushCase(15);
      const rule = c.map.rules.find((r): r is Rule => r !== undefined)!;
      const ref = jobRef<PgMappingJob, PgMappingPart>(new URL('../../src/actors/rados/crush/bulk-jobs.ts', import.meta.url).href, 'pgMappingJob');
      const job: PgMappingJob = { mapText: printCrushMap(c.map), pool: { id: 1, pgNum: 4096, size: 3, ruleId: rule.id }, weights: defaultDeviceWeights(c.map), firstPs: 0, endPs: 4096 };
      const runs = Array.from({ length: 6 }, () => own.run(ref, job).then(() => 'done', (e: unknown) => e));
      const outcomes = await Promise.all(runs);
      const refused = outcomes.filter((o) => o instanceof JobError);
      expect(refused.length).toBeGreaterThan(0);
      expect((refused[0] as Error).message).toMatch(/queue/i);
      expect(outcomes.filter((o) => o === 'done').length).toBeGreaterThanOrEqual(3);
    } finally {
      await own.close();
    }
  });

  it('close stops every worker and refuses later jobs', async () => {
    const own = new JobPool({ threads: 2 });
    const c = randomCrushCase(14);
    const rule = c.map.rules.find((r): r is Rule => r !== undefined)!;
    await crushTestBulk(c.map, { rule: rule.id, numRep: 2, minX: 0, maxX: 999, show: 'utilization' }, { pool: own, minInputs: 0 });
    await own.close();
    expect(own.liveThreads).toBe(0);
    await expect(own.run(jobRef(new URL('../../src/actors/rados/crush/bulk-jobs.ts', import.meta.url).href, 'crushTestJob'), {})).rejects.toThrow(/closed/);
  });
});

describe('troupe crush test over a large range', () => {
  const dir = mkdtempSync(join(tmpdir(), 'troupe-crush-bulk-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prints the same lines with --jobs 2 as with --jobs 1, and the process exits when done', () => {
    const c = randomCrushCase(21);
    const rule = c.map.rules.find((r): r is Rule => r !== undefined)!;
    const mapPath = join(dir, 'map.txt');
    writeFileSync(mapPath, printCrushMap(c.map));
    const cli = new URL('../../dist/cli/main.js', import.meta.url).pathname;
    const args = (jobs: number): string[] => [cli, 'crush', 'test', '--map', mapPath, '--rule', String(rule.id), '--num-rep', '3', '--min-x', '0', '--max-x', '39999', '--show-mappings', '--jobs', String(jobs)];
    // The range is above crushTestBulkMinInputs, so --jobs 2 runs on the pool. A thread left open would keep the child alive until the timeout kills it.
    const parallel = spawnSync(process.execPath, args(2), { encoding: 'utf8', maxBuffer: 64 << 20, timeout: 50_000 });
    const serial = spawnSync(process.execPath, args(1), { encoding: 'utf8', maxBuffer: 64 << 20, timeout: 50_000 });
    expect(parallel.signal).toBeNull();
    expect(parallel.status).toBe(0);
    expect(serial.status).toBe(0);
    expect(parallel.stdout.split('\n').length).toBe(40_001);
    expect(parallel.stdout).toBe(serial.stdout);
  });
});
