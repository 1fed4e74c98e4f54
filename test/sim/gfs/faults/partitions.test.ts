import { FAULT_SEEDS_PER_SCENARIO } from './settings.js';
import { scenarioSuite } from './suite.js';

scenarioSuite('partitions', FAULT_SEEDS_PER_SCENARIO);
