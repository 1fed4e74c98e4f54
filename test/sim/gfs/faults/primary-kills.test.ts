import { PRIMARY_KILL_SEEDS } from './settings.js';
import { scenarioSuite } from './suite.js';

scenarioSuite('primary-kills', PRIMARY_KILL_SEEDS);
