import { ZAB_FAULT_SEEDS_PER_SCENARIO } from './settings.js';
import { scenarioSuite } from './suite.js';

scenarioSuite('mixed', ZAB_FAULT_SEEDS_PER_SCENARIO);
