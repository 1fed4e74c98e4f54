import { scenarioSuite } from './suite.js';

scenarioSuite('mixed', 50);
