/**
 * Bench suite `rados-mon` (issue 15 item 8): the cluster map's costs.
 *
 * `pg-mapping`: object → acting set lookups through the OSD map (`objectMapping`: the name's hash
 * and stable_mod, then the map's per-epoch PG cache), on a map of 64 OSDs (16 hosts × 4, rule over
 * hosts) with one pool of 3 replicas and ~100 PGs per OSD (2,133 PGs), every OSD up and in.
 * `pg-mapping:crush` is the bare CRUSH path the map is built on: the crush module's
 * `objectToOsds` (the same hash and stable_mod, then `mapRule` for the PG) on the same names,
 * with no map around it. The two give the same OSDs (checked before timing).
 *
 * What the ratio measures: the map caches each PG's mapping for its epoch (a map is immutable, so
 * the mapping is too), so after the first lookup of a PG `pg-mapping` skips CRUSH entirely — it
 * is far faster than the bare call, not merely "almost as fast". `pg-mapping:uncached` shows the
 * map's own overhead without that cache: the same lookup computing CRUSH every time (pool
 * lookup, weight vector, down-OSD filter, result objects), the honest test of "the map adds
 * almost nothing". `pg-mapping` is timed on its own (not interleaved), so its ratio compares
 * rates taken at different moments; `pg-mapping:uncached` and `pg-mapping:crush` alternate.
 *
 * `map-commit` (map updates committed through Paxos by 3 monitors, beside the op log's group
 * commit) belongs to the monitors and is added below from their own file.
 */
import type { BenchCase, BenchSuite, RatioTarget } from '../harness.js';
import { findRule, objectToOsds, parseCrushMap } from '../../actors/rados/crush/index.js';
import type { CrushMap, PoolPlacement } from '../../actors/rados/crush/index.js';
import { bootstrapOsdMap } from '../../actors/rados/osdmap/bootstrap.js';
import { objectMapping, objectMappingUncached } from '../../actors/rados/osdmap/mapping.js';
import { crushWeights, findPool } from '../../actors/rados/osdmap/osd-map.js';
import type { OsdMap } from '../../actors/rados/osdmap/osd-map.js';

const OSDS = 64;
const PGS_PER_OSD = 100;
const SIZE = 3;
const LOOKUPS = 10_000;
const NAMES = 100_000;

function mappingSetup(): { map: OsdMap; crush: CrushMap; names: string[]; placement: PoolPlacement; weights: number[] } {
  const pgNum = Math.round((OSDS * PGS_PER_OSD) / SIZE);
  const { map } = bootstrapOsdMap({ osds: OSDS, osdsPerHost: 4, hostsPerRack: 4, pools: [{ name: 'rbd', pgNum, size: SIZE }] });
  const pool = findPool(map, 'rbd');
  const crush = parseCrushMap(map.crush);
  const rule = pool ? findRule(crush, pool.crushRule) : undefined;
  if (!pool || !rule) throw new Error('pg-mapping: bootstrap made no pool');
  const placement: PoolPlacement = { id: pool.id, pgNum: pool.pgNum, pgpNum: pool.pgpNum, size: pool.size, rule };
  const weights = crushWeights(map, crush);
  const names = Array.from({ length: NAMES }, (_, i) => `rbd_data.1f2e3d.${i.toString(16).padStart(16, '0')}`);
  // Same answers on both paths, or the comparison means nothing.
  for (const name of names.slice(0, 2_000)) {
    const viaMap = objectMapping(map, pool.id, name)?.acting.join(',');
    const viaCrush = objectToOsds(crush, placement, name, weights).osds.join(',');
    if (viaMap !== viaCrush) throw new Error(`pg-mapping: map and CRUSH disagree for ${name}: ${viaMap} vs ${viaCrush}`);
  }
  return { map, crush, names, placement, weights };
}

function pgMappingCases(): BenchCase[] {
  let s: ReturnType<typeof mappingSetup> | undefined;
  const setup = (): ReturnType<typeof mappingSetup> => (s ??= mappingSetup());
  const shape = `${OSDS} OSDs (16 hosts x 4), 1 pool, size ${SIZE}, ${Math.round((OSDS * PGS_PER_OSD) / SIZE)} PGs (~${PGS_PER_OSD} per OSD); ${LOOKUPS} object names per iteration from ${NAMES}`;
  const cursor = { map: 0, crush: 0, uncached: 0 };
  let sink = 0;
  return [
    {
      name: 'pg-mapping',
      unit: 'ops',
      perIteration: LOOKUPS,
      shape: `${shape}; objectMapping through the OSD map (per-epoch PG cache)`,
      // Timed on its own: it is several times faster than both others, and a three-case group
      // (A B C, C B A, …) runs the uncached case twice in a row at every turn, which skewed the
      // close uncached/crush pair by ~10% against a plain A/B alternation of the same two.
      interleave: false,
      setup: () => void setup(),
      run: () => {
        const { map, names } = setup();
        for (let i = 0; i < LOOKUPS; i++) {
          sink += objectMapping(map, 1, names[cursor.map++ % NAMES] as string)?.primary ?? 0;
        }
      },
    },
    {
      name: 'pg-mapping:crush',
      unit: 'ops',
      perIteration: LOOKUPS,
      shape: `${shape}; the crush module's objectToOsds (hash, stable_mod, mapRule), no map`,
      setup: () => void setup(),
      run: () => {
        const { crush, names, placement, weights } = setup();
        for (let i = 0; i < LOOKUPS; i++) sink += objectToOsds(crush, placement, names[cursor.crush++ % NAMES] as string, weights).primary;
      },
    },
    {
      name: 'pg-mapping:uncached',
      unit: 'ops',
      perIteration: LOOKUPS,
      shape: `${shape}; through the OSD map, computing CRUSH for every lookup (no PG cache)`,
      setup: () => void setup(),
      run: () => {
        const { map, names } = setup();
        for (let i = 0; i < LOOKUPS; i++) {
          sink += objectMappingUncached(map, 1, names[cursor.uncached++ % NAMES] as string)?.primary ?? 0;
        }
      },
      teardown: () => {
        if (sink === Number.MIN_SAFE_INTEGER) console.log(sink); // keep the results alive
      },
    },
  ];
}

/** `map-commit` cases (Paxos through 3 monitors on worker threads, beside `map-commit:oplog`): the monitors' file adds them here. */
const mapCommitCases: readonly BenchCase[] = [];
const mapCommitTargets: readonly RatioTarget[] = [];

const suite: BenchSuite = {
  name: 'rados-mon',
  cases: [...pgMappingCases(), ...mapCommitCases],
  targets: [
    { name: 'pg-mapping', baseline: 'pg-mapping:crush', atLeast: 0.9 },
    { name: 'pg-mapping:uncached', baseline: 'pg-mapping:crush', atLeast: 0.9 },
    ...mapCommitTargets,
  ],
  timeMs: 500,
};

export default suite;
