/** The suite's scenarios (issue: 5 to 8 chunkservers on 2 or 3 racks, several clients, every fault class). */
import type { Scenario } from './schedule.js';

export const SCENARIOS: Record<string, Scenario> = {
  crashes: { name: 'crashes', servers: [5, 8], racks: [2, 3], events: [3, 7], windowMs: 20_000, faults: { 'chunkserver-crash': 5, 'master-crash': 2, 'bit-flip': 2 } },
  partitions: { name: 'partitions', servers: [5, 8], racks: [2, 3], events: [3, 7], windowMs: 20_000, faults: { partition: 3, 'isolated-primary': 3, 'master-cut': 2, delay: 2 } },
  'skew-disk': { name: 'skew-disk', servers: [5, 8], racks: [2, 3], events: [3, 7], windowMs: 20_000, faults: { 'clock-skew': 3, 'disk-full': 3, 'bit-flip': 2, 'chunkserver-crash': 2 } },
  restarts: { name: 'restarts', servers: [5, 8], racks: [2, 3], events: [3, 6], windowMs: 20_000, faults: { 'cluster-restart': 3, 'master-crash': 1, 'chunkserver-crash': 1 } },
  /**
   * Heavy appending (4 producers, pauses of 10–150 ms) while the chunkserver holding the queue's lease is
   * killed and restarted, one chunkserver down at a time and no other fault: checker (i) holds
   * every append to a bound (GFS README S4).
   */
  'primary-kills': { name: 'primary-kills', servers: [5, 8], racks: [2, 3], events: [2, 4], windowMs: 14_000, faults: { 'primary-kill': 5, 'chunkserver-crash': 1 }, maxServersDown: 1, appendsKeepGoing: true, appenders: 4, appendPauseMs: [10, 150] },
  mixed: { name: 'mixed', servers: [5, 8], racks: [2, 3], events: [4, 9], windowMs: 20_000, faults: { 'chunkserver-crash': 2, 'master-crash': 1, partition: 1, 'isolated-primary': 1, 'master-cut': 1, delay: 1, 'bit-flip': 1, 'clock-skew': 1, 'disk-full': 1 } },
};
