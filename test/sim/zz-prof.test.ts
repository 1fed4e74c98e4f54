import { it } from 'vitest';
import { performance } from 'node:perf_hooks';
import { runScenario } from './gfs/faults/run.js';
import { SCENARIOS } from './gfs/faults/scenarios.js';
it('prof', async () => {
  let t = performance.now();
  for (const seed of [1, 2, 3, 4, 5, 6]) await runScenario(SCENARIOS['mixed']!, seed);
  console.log('WALL', Math.round(performance.now() - t));
}, 600_000);
