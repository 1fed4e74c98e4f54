import { randomInt } from 'node:crypto';
import { seededRandom } from '../random.js';
import type { Cancel, Clock, Env, Timers } from '../env.js';

/** Wall-clock milliseconds (the real clock; leases compare these across processes). */
export const realClock: Clock = { now: () => Date.now() };

export const realTimers: Timers = {
  after(delayMs: number, fn: () => void): Cancel {
    const t = setTimeout(fn, Math.max(0, delayMs));
    // Runtime timers never keep a process alive on their own.
    t.unref?.();
    return () => clearTimeout(t);
  },
};

/** The real environment. `seed` defaults to a fresh random one (recorded, so a run can be reproduced in part). */
export function realEnv(seed: number = randomInt(0, 2 ** 47)): Env {
  return { clock: realClock, timers: realTimers, random: seededRandom(seed) };
}

/** Yields to the host event loop: every pending microtask and I/O callback runs first. */
export function macrotask(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export const deferMacrotask = (fn: () => void): void => {
  setImmediate(fn);
};
