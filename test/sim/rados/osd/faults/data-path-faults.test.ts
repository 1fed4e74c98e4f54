/**
 * The data path under OSD crashes, restarts, partitions, mark-out/in and kill-and-out with
 * remapping (issue items (a)–(d) and recovery's read-once (e)), for each replication mode, several
 * seeds each (settings.ts); every PG must reach active+clean once the faults stop.
 */
import { describe, expect, it } from 'vitest';
import { simSeeds, withSeed } from '../../../../../src/testkit.js';
import { DATA_PATH_FAULT_SEEDS_PER_SCENARIO } from './settings.js';
import { runDataPathFaults, type Fault } from './run.js';

// The last three pipeline every update (README D12): the workload's values are 5–12 bytes, so 4-byte
// pieces cut each into several, sent ahead of its header and passed on by chain OSDs as they arrive.
const scenarios: { mode: 'primary-copy' | 'chain' | 'splay'; fault: Fault; base: number; sliceBytes?: number }[] = [
  { mode: 'primary-copy', fault: 'crash-restart', base: 1_000 },
  { mode: 'chain', fault: 'crash-restart', base: 2_000 },
  { mode: 'splay', fault: 'crash-restart', base: 3_000 },
  { mode: 'primary-copy', fault: 'partition', base: 4_000 },
  { mode: 'chain', fault: 'crash-primary', base: 5_000 },
  { mode: 'splay', fault: 'partition', base: 6_000 },
  { mode: 'primary-copy', fault: 'mark-out', base: 7_000 },
  { mode: 'chain', fault: 'kill-out', base: 8_000 },
  { mode: 'splay', fault: 'kill-out', base: 9_000 },
  { mode: 'chain', fault: 'crash-restart', base: 10_000, sliceBytes: 4 },
  { mode: 'primary-copy', fault: 'crash-primary', base: 11_000, sliceBytes: 4 },
  { mode: 'splay', fault: 'partition', base: 12_000, sliceBytes: 4 },
];

/**
 * Regression seeds (each was a bug): a member recorded last_epoch_started from its own newer map
 * instead of the primary's activation epoch, so a later peering chose the other member's shorter log
 * as authoritative and re-applied resent updates the old head had logged (checker (c)).
 */
const regressions: { mode: 'primary-copy' | 'chain' | 'splay'; fault: Fault; seed: number }[] = [
  { mode: 'chain', fault: 'crash-primary', seed: 3_015_847 },
  { mode: 'chain', fault: 'crash-primary', seed: 7_047_535 },
];

describe('RADOS data path under OSD faults (thesis §6.3)', () => {
  for (const r of regressions) {
    it(`regression: ${r.mode}, ${r.fault}, seed ${r.seed}`, async () => {
      await withSeed(
        r.seed,
        async () => {
          const out = await runDataPathFaults({ seed: r.seed, replication: r.mode, fault: r.fault });
          expect(out.violations, out.stats).toEqual([]);
        },
        `npm run test:sim -- --seed ${r.seed} test/sim/rados/osd/faults/data-path-faults.test.ts`,
      );
    });
  }

  for (const s of scenarios) {
    const replay = (seed: number): string => `npm run test:sim -- --seed ${seed} test/sim/rados/osd/faults/data-path-faults.test.ts`;
    it.each(simSeeds(Array.from({ length: DATA_PATH_FAULT_SEEDS_PER_SCENARIO }, (_, i) => s.base + i + 1)))(
      `${s.mode}${s.sliceBytes === undefined ? '' : ` in ${s.sliceBytes}-byte pieces`}, ${s.fault}, seed %i: committed writes survive, objects are linearizable, no reqid applied twice, ack/commit only after every replica, recovery reads each object once, all PGs clean after`,
      async (seed) => {
        await withSeed(
          seed,
          async () => {
            const r = await runDataPathFaults({ seed, replication: s.mode, fault: s.fault, ...(s.sliceBytes === undefined ? {} : { sliceBytes: s.sliceBytes }) });
            expect(r.violations, r.stats).toEqual([]);
          },
          replay(seed),
        );
      },
    );
  }
});
