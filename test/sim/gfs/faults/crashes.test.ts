import { scenarioSuite } from './suite.js';

scenarioSuite('crashes', 50);
