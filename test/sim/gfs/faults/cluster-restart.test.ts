/**
 * The suite's cell (master with a replica and a shadow on simulated disks, 5 chunkservers on SSD
 * timing) losing power as a whole and coming back: the first append to an existing file does not
 * wait a lease period (GFS README, M6). Times are virtual.
 */
import { describe, expect, it } from 'vitest';
import { withSeed } from '../../../../src/testkit.js';
import { faultCell } from './cell.js';

describe('GFS fault cell: whole-cluster restart', () => {
  it('with no lease outstanding, the first append after the restart proceeds without waiting a lease period', async () => {
    await withSeed(31, async () => {
      const cell = faultCell({ seed: 31, servers: 5, racks: 2 });
      const { sim } = cell;
      await cell.start();
      const before = cell.client('before', true);
      await sim.result(before.create('/log'));
      const first = await sim.result(before.append('/log', new Uint8Array(512).fill(1)));
      // Every lease runs out before the power cut: none is outstanding.
      await sim.run({ forMs: cell.config.leaseDurationMs! + cell.config.leaseSkewMarginMs! + 1_000 });
      for (const node of ['master', ...cell.servers]) cell.crash(node);
      await sim.run({ forMs: 1_000 });
      for (const node of ['master', ...cell.servers]) cell.restart(node);
      const restartedAt = sim.now;
      const after = cell.client('after', true);
      const second = await sim.result(after.append('/log', new Uint8Array(512).fill(2)));
      expect(second.offset).toBe(first.offset + 512);
      // The master used to grant no lease for a lease period after any restart.
      expect(sim.now - restartedAt).toBeLessThan(cell.config.leaseDurationMs!);
      expect((await sim.result(after.stat('/log'))).sizeBytes).toBe(1_024);
    }, 'npx vitest run test/sim/gfs/faults/cluster-restart.test.ts');
  });
});
