/**
 * Bench suite `crush` (issue 8; thesis §5.3.3, Figs 5.7–5.8; digest §6.2 B5, B6). Mapping rate
 * for hierarchies of 8-item buckets of each type as the device count grows (B5: logarithmic in
 * devices), and the choose rate c(r, x) of single buckets of 8 and 64 items (B6: uniform O(1),
 * tree O(log n), list and straw O(n)); and mapping with 50% / 80% of the devices failed but left
 * in the map (B8, thesis §5.3.3.1: +71% time at 50%). Side by side in one run; read the ratios.
 *
 * Against Ceph (issue 13 item 5): `map-straw2` maps 1,000,000 inputs on a 3 racks x 4 hosts x
 * 2 OSDs straw2 map (chooseleaf firstn 0 type rack, 3 replicas) on this thread;
 * `map-straw2:crushtool` runs Ceph's `crushtool --test` on the same compiled map and inputs in a
 * child process, start-up and map load included; `map-straw2:crushtool-startup` is the same
 * command over one input, the fixed cost inside that figure. `map-straw2:jobs` is Troupe's
 * `crush test` over the same range split across the job pool (one thread per core).
 *
 * Bulk mapping (issue 13 item 5): `map-bulk-pool-N` maps every PG of a pool of N PGs through the
 * job pool (`mapPoolPgs`), beside `map-bulk-pool-N:serial` on this thread; the sizes bracket the
 * crossover that sets `pgMappingBulkMinPgs`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchCase, BenchSuite, RatioTarget } from '../harness.js';
import { bucketChoose, buildCrushMap, crushTest, defaultDeviceWeights, makeBucket, mapRule, printCrushMap } from '../../actors/rados/crush/index.js';
import type { BucketAlg, BucketSpec, CrushMap, Device, PoolPlacement, Rule } from '../../actors/rados/crush/index.js';
import { crushTestBulk, mapPoolPgs } from '../../actors/rados/crush/node/bulk-mapping.js';
import { JobPool } from '../../runtime/node/job-pool.js';

const W = 0x10000;
const MAPPINGS = 10_000;
const CHOOSES = 100_000;

/** A hierarchy of `levels` levels of 8-item buckets above 8^levels devices (weights 1). */
function hierarchy(alg: BucketAlg, levels: number): { map: CrushMap; rule: Rule } {
  const devices: Device[] = [];
  const buckets: BucketSpec[] = [];
  let nextId = -2;
  let dev = 0;
  const build = (level: number): number => {
    const items: number[] = [];
    for (let i = 0; i < 8; i++) {
      if (level === 1) {
        devices.push({ id: dev, name: `osd.${dev}` });
        items.push(dev++);
      } else items.push(build(level - 1));
    }
    const id = level === levels ? -1 : nextId--;
    buckets.push({ id, name: `b${-id}`, type: level, alg, items, ...(alg === 'uniform' ? { weights: items.map(() => (8 ** (level - 1)) * W) } : {}) });
    return id;
  };
  build(levels);
  const types = Array.from({ length: levels + 1 }, (_, i) => ({ id: i, name: i === 0 ? 'osd' : `level${i}` }));
  const rule: Rule = { id: 0, name: 'r', type: 'replicated', minSize: 1, maxSize: 3, steps: [{ op: 'take', item: -1 }, { op: 'choose', leaf: false, mode: 'firstn', num: 3, type: 0 }, { op: 'emit' }] };
  return { map: buildCrushMap({ devices, types, buckets, rules: [rule] }), rule };
}

/** Mapping rate; `failedPercent` of the devices (every k-th) are reweighted to 0 but stay in the map (B8). */
function mapCase(alg: BucketAlg, levels: number, failedPercent = 0): BenchCase {
  const { map, rule } = hierarchy(alg, levels);
  const weights = new Array<number>(map.maxDevices).fill(W);
  for (let d = 0; d < weights.length; d++) if ((d * 37) % 100 < failedPercent) weights[d] = 0;
  let x = 0;
  return {
    name: `map:${alg}-${8 ** levels}${failedPercent > 0 ? `-failed${failedPercent}` : ''}`,
    unit: 'ops',
    perIteration: MAPPINGS,
    run: () => {
      for (let i = 0; i < MAPPINGS; i++) mapRule(map, rule, x++, 3, weights);
    },
  };
}

function chooseCase(alg: BucketAlg, size: number): BenchCase {
  const items = Array.from({ length: size }, (_, i) => i);
  const bucket = makeBucket({ id: -1, name: 'b', type: 1, alg, items, weights: items.map(() => W) }, 1);
  let x = 0;
  return {
    name: `choose:${alg}-${size}`,
    unit: 'ops',
    perIteration: CHOOSES,
    run: () => {
      for (let i = 0; i < CHOOSES; i++) bucketChoose(bucket, x++, 0);
    },
  };
}

const ALGS: readonly BucketAlg[] = ['uniform', 'list', 'tree', 'straw', 'straw2'];

/** Inputs per iteration of the Ceph comparison (issue 13 item 5: 1,000,000). */
const CEPH_INPUTS = 1_000_000;
/** Inputs whose mappings are compared line for line with crushtool's before the timed cases. */
const CEPH_SAMPLE_INPUTS = 10_000;

/** 3 racks x 4 hosts x 2 OSDs, straw2 everywhere; rule 0: take root, chooseleaf firstn 0 type rack, emit. */
function rackMap(): { map: CrushMap; rule: Rule } {
  const devices: Device[] = [];
  const buckets: BucketSpec[] = [];
  const racks: number[] = [];
  let nextId = -2;
  for (let r = 0; r < 3; r++) {
    const hosts: number[] = [];
    for (let h = 0; h < 4; h++) {
      const items: number[] = [];
      for (let o = 0; o < 2; o++) {
        const id = devices.length;
        devices.push({ id, name: `osd.${id}` });
        items.push(id);
      }
      const id = nextId--;
      buckets.push({ id, name: `host${r}-${h}`, type: 1, alg: 'straw2', items });
      hosts.push(id);
    }
    const id = nextId--;
    buckets.push({ id, name: `rack${r}`, type: 2, alg: 'straw2', items: hosts });
    racks.push(id);
  }
  buckets.push({ id: -1, name: 'default', type: 3, alg: 'straw2', items: racks });
  const types = ['osd', 'host', 'rack', 'root'].map((name, id) => ({ id, name }));
  const rule: Rule = { id: 0, name: 'replicated_rack', type: 'replicated', minSize: 1, maxSize: 10, steps: [{ op: 'take', item: -1 }, { op: 'choose', leaf: true, mode: 'firstn', num: 0, type: 2 }, { op: 'emit' }] };
  return { map: buildCrushMap({ devices, types, buckets, rules: [rule] }), rule };
}

const rack = rackMap();
const rackWeights = defaultDeviceWeights(rack.map);
const cephShape = `${CEPH_INPUTS} inputs x = 0..${CEPH_INPUTS - 1}, 3 racks x 4 hosts x 2 OSDs (straw2), rule chooseleaf firstn 0 type rack, 3 replicas`;

function haveCrushtool(): boolean {
  return spawnSync('sh', ['-c', 'command -v crushtool'], { stdio: 'ignore' }).status === 0;
}

/** crushtool --test over [0, maxX] on the compiled map, no output selected (it maps every input and prints a warning). */
function crushtoolTest(bin: string, maxX: number, show?: '--show-mappings'): string {
  const args = ['-i', bin, '--test', '--rule', '0', '--num-rep', '3', '--min-x', '0', '--max-x', String(maxX)];
  if (show !== undefined) args.push(show);
  return execFileSync('crushtool', args, { encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'ignore'] });
}

function cephCases(): BenchCase[] {
  const troupe: BenchCase = {
    name: 'map-straw2',
    unit: 'ops',
    perIteration: CEPH_INPUTS,
    shape: `${cephShape}; mapRule on this thread`,
    run: () => {
      for (let x = 0; x < CEPH_INPUTS; x++) mapRule(rack.map, rack.rule, x, 3, rackWeights);
    },
  };
  let jobs: JobPool | undefined;
  const threads = availableParallelism();
  const pooled: BenchCase = {
    name: 'map-straw2:jobs',
    unit: 'ops',
    perIteration: CEPH_INPUTS,
    shape: `${cephShape}; troupe crush test --show-utilization split across a job pool of ${threads} threads (one per core, shared with whatever else runs)`,
    setup: () => {
      jobs = new JobPool({ threads });
    },
    run: async () => {
      await crushTestBulk(rack.map, { rule: 0, numRep: 3, minX: 0, maxX: CEPH_INPUTS - 1, show: 'utilization' }, { pool: jobs!, minInputs: 0 });
    },
    teardown: async () => {
      await jobs?.close();
    },
  };
  if (!haveCrushtool()) {
    process.stderr.write('crush: crushtool (Ceph) is not installed, so map-straw2:crushtool is skipped; install Debian ceph-base to compare with Ceph\n');
    return [troupe, pooled];
  }
  const dir = mkdtempSync(join(tmpdir(), 'troupe-bench-crush-'));
  const bin = join(dir, 'rack.bin');
  const compile = (): void => {
    const text = join(dir, 'rack.txt');
    writeFileSync(text, printCrushMap(rack.map));
    execFileSync('crushtool', ['-c', text, '-o', bin], { stdio: ['ignore', 'pipe', 'pipe'] });
    // Same mappings before timing anything: a sample of the inputs, line for line.
    const theirs = crushtoolTest(bin, CEPH_SAMPLE_INPUTS - 1, '--show-mappings').trimEnd().split('\n');
    const ours = crushTest(rack.map, { rule: 0, numRep: 3, minX: 0, maxX: CEPH_SAMPLE_INPUTS - 1, show: 'mappings' });
    if (theirs.length !== ours.length || theirs.some((l, i) => l !== ours[i])) throw new Error('crush bench: Troupe and crushtool map the bench map differently; run test/integration/crush-crushtool.test.ts');
  };
  return [
    troupe,
    {
      name: 'map-straw2:crushtool',
      unit: 'ops',
      perIteration: CEPH_INPUTS,
      shape: `${cephShape}; crushtool -i MAP --test (no --show-*) in a child process, start-up and map load included (see map-straw2:crushtool-startup); the first ${CEPH_SAMPLE_INPUTS} mappings were checked equal line for line`,
      setup: compile,
      run: () => void crushtoolTest(bin, CEPH_INPUTS - 1),
    },
    {
      name: 'map-straw2:crushtool-startup',
      unit: 'ops',
      perIteration: 1,
      shape: 'the same crushtool command over x = 0..0: process start, map load and one mapping (the fixed cost inside map-straw2:crushtool)',
      run: () => void crushtoolTest(bin, 0),
      teardown: () => rmSync(dir, { recursive: true, force: true }),
    },
    pooled,
  ];
}

/** A pool of `pgNum` PGs, 3 replicas, on the rack map. */
function bulkPoolCases(pgNum: number): BenchCase[] {
  const placement: PoolPlacement = { id: 1, pgNum, size: 3, rule: rack.rule };
  let jobs: JobPool | undefined;
  const threads = availableParallelism();
  const shape = `every PG of a pool of ${pgNum} PGs (3 replicas, hashpspool) on the 24-OSD rack map`;
  return [
    {
      name: `map-bulk-pool-${pgNum}`,
      unit: 'ops',
      perIteration: pgNum,
      shape: `${shape}; mapPoolPgs through a job pool of ${threads} threads (${threads * 4} pieces), map sent as text and parsed once per worker per call`,
      setup: () => {
        jobs = new JobPool({ threads });
      },
      run: async () => {
        await mapPoolPgs(rack.map, placement, rackWeights, { pool: jobs!, minInputs: 0 });
      },
      teardown: async () => {
        await jobs?.close();
      },
    },
    {
      name: `map-bulk-pool-${pgNum}:serial`,
      unit: 'ops',
      perIteration: pgNum,
      shape: `${shape}; mapPoolPgs on this thread`,
      run: async () => {
        await mapPoolPgs(rack.map, placement, rackWeights);
      },
    },
  ];
}

const BULK_POOL_PGS = [4096, 16384, 65536] as const;
const bulkTargets: RatioTarget[] = BULK_POOL_PGS.map((n) => ({ name: `map-bulk-pool-${n}`, baseline: `map-bulk-pool-${n}:serial`, atLeast: n >= 65536 ? 1 : 0 }));

const suite: BenchSuite = {
  name: 'crush',
  cases: [
    ...ALGS.map((alg) => mapCase(alg, 3)),
    ...[1, 2, 4].map((levels) => mapCase('straw2', levels)),
    mapCase('straw2', 3, 50),
    mapCase('straw2', 3, 80),
    ...ALGS.flatMap((alg) => [chooseCase(alg, 8), chooseCase(alg, 64)]),
    ...cephCases(),
    ...BULK_POOL_PGS.flatMap(bulkPoolCases),
  ],
  targets: [{ name: 'map-straw2', baseline: 'map-straw2:crushtool', atLeast: 1 }, { name: 'map-straw2:jobs', baseline: 'map-straw2:crushtool', atLeast: 1 }, ...bulkTargets],
  timeMs: 500,
};

export default suite;
