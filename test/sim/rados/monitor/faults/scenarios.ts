/** The monitor suite's scenarios: 3 and 5 monitors under every fault class. */
import type { Scenario } from './schedule.js';

export const SCENARIOS: Record<string, Scenario> = {
  'crashes-3': { name: 'crashes-3', monitors: 3, events: [3, 6], windowMs: 15_000, faults: { 'mon-crash': 3, 'leader-crash': 2, 'majority-crash': 1, 'total-crash': 1 } },
  'crashes-5': { name: 'crashes-5', monitors: 5, events: [3, 6], windowMs: 15_000, faults: { 'mon-crash': 3, 'leader-crash': 2, 'majority-crash': 1 } },
  'partitions-3': { name: 'partitions-3', monitors: 3, events: [3, 6], windowMs: 15_000, faults: { partition: 2, 'minority-cut': 2, 'leader-cut': 2, delay: 1 } },
  'partitions-5': { name: 'partitions-5', monitors: 5, events: [3, 6], windowMs: 15_000, faults: { partition: 2, 'minority-cut': 2, 'leader-cut': 2, delay: 1 } },
  mixed: { name: 'mixed', monitors: 5, events: [4, 8], windowMs: 15_000, faults: { 'mon-crash': 1, 'leader-crash': 1, 'majority-crash': 1, partition: 1, 'minority-cut': 1, 'leader-cut': 1, delay: 1, loss: 2, 'clock-skew': 2 } },
};
