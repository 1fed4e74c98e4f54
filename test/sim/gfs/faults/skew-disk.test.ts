import { FAULT_SEEDS_PER_SCENARIO } from './settings.js';
import { scenarioSuite } from './suite.js';

scenarioSuite('skew-disk', FAULT_SEEDS_PER_SCENARIO);
