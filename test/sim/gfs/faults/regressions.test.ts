/**
 * Seeds that found bugs, by name (the scenario lists of the suite run them too, but these stay
 * pinned if those lists change). They replayed the failing runs until the simulated disks got
 * time: a seed now draws another schedule, so each fix is also pinned by a unit test that fails
 * without it (master and chunk-store tests, named in the GFS README's M8–M10).
 */
import { describe, expect, it } from 'vitest';
import { withSeed } from '../../../../src/testkit.js';
import { replayCommand, runAndCheck } from './suite.js';

const REGRESSIONS = [
  {
    name: 'a snapshot soon after a master restart waits out the leases of the previous incarnation (¶111); before, writes leaked into the snapshot',
    scenario: 'crashes',
    seed: 6,
  },
  {
    name: 'a replica whose version bump failed on a full disk is not taken for up to date when it reports (¶77); before, a clone copied its missing bytes',
    scenario: 'skew-disk',
    seed: 5,
  },
];

describe('GFS fault suite: regression seeds', () => {
  for (const r of REGRESSIONS) {
    it(`${r.scenario} seed ${r.seed}: ${r.name}`, async () => {
      await withSeed(r.seed, async () => {
        const { result } = await runAndCheck(r.scenario, r.seed);
        expect(result.violations).toEqual([]);
      }, replayCommand(r.scenario, r.seed));
    });
  }
});
