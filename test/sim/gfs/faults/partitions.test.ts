import { scenarioSuite } from './suite.js';

scenarioSuite('partitions', 50);
