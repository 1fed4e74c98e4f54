import { MONITOR_FAULT_SEEDS_PER_SCENARIO } from './settings.js';
import { scenarioSuite } from './suite.js';

scenarioSuite('partitions-3', MONITOR_FAULT_SEEDS_PER_SCENARIO);
