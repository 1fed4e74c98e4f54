/**
 * The data path under OSD crashes, restarts and partitions (issue items (a)–(d)), for each
 * replication mode, several seeds each (settings.ts).
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
  { mode: 'chain', fault: 'crash-restart', base: 7_000, sliceBytes: 4 },
  { mode: 'primary-copy', fault: 'crash-primary', base: 8_000, sliceBytes: 4 },
  { mode: 'splay', fault: 'partition', base: 9_000, sliceBytes: 4 },
];

describe('RADOS data path under OSD faults (thesis §6.3)', () => {
  for (const s of scenarios) {
    const replay = (seed: number): string => `npm run test:sim -- --seed ${seed} test/sim/rados/osd/faults/data-path-faults.test.ts`;
    it.each(simSeeds(Array.from({ length: DATA_PATH_FAULT_SEEDS_PER_SCENARIO }, (_, i) => s.base + i + 1)))(
      `${s.mode}${s.sliceBytes === undefined ? '' : ` in ${s.sliceBytes}-byte pieces`}, ${s.fault}, seed %i: committed writes survive, objects are linearizable, no reqid applied twice, ack/commit only after every replica`,
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
