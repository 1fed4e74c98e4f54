import { FAULT_SEEDS_PER_SCENARIO } from './settings.js';
import { scenarioSuite } from './suite.js';

scenarioSuite('mixed', FAULT_SEEDS_PER_SCENARIO);
