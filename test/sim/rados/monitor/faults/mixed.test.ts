import { MONITOR_FAULT_SEEDS_PER_SCENARIO } from './settings.js';
import { scenarioSuite } from './suite.js';

scenarioSuite('mixed', MONITOR_FAULT_SEEDS_PER_SCENARIO);
