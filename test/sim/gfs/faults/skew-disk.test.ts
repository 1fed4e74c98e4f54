import { scenarioSuite } from './suite.js';

scenarioSuite('skew-disk', 50);
