/** The suite's scenarios (issue 17, item 8: 3 and 5 servers, many clients, every fault class). */
import type { Scenario } from './schedule.js';

export const SCENARIOS: Record<string, Scenario> = {
  crashes: { name: 'crashes', servers: [3, 5], events: [3, 7], windowMs: 6_000, faults: { 'leader-crash': 3, 'follower-crash': 3, 'torn-restart': 3, 'power-cut': 1 } },
  partitions: { name: 'partitions', servers: [3, 5], events: [3, 7], windowMs: 6_000, faults: { 'isolated-leader': 3, partition: 3, flapping: 2, delay: 2 } },
  mixed: { name: 'mixed', servers: [3, 5], events: [4, 9], windowMs: 6_000, faults: { 'leader-crash': 2, 'follower-crash': 1, 'torn-restart': 2, 'power-cut': 1, 'isolated-leader': 2, partition: 1, flapping: 1, delay: 2, 'clock-skew': 2 } },
};
