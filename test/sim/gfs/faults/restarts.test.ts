import { FAULT_SEEDS_PER_SCENARIO } from './settings.js';
import { scenarioSuite } from './suite.js';

// Half the seeds of the other scenarios: each run restarts the whole cell two or three times,
// which costs simulated time; `npm run test:sim -- --seeds N` runs more.
scenarioSuite('restarts', Math.ceil(FAULT_SEEDS_PER_SCENARIO / 2));
