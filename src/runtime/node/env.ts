import { randomInt } from 'node:crypto';
import { seededRandom } from '../random.js';
import type { Cancel, Clock, Env, Timers } from '../env.js';

/**
 * Wall-clock milliseconds with a microsecond fraction, for log timestamps: `Date.now()` has whole
 * milliseconds, and one request's entries in the client's, the master's and the chunkservers' logs
 * often fall in the same one. The monotonic clock gives the fraction. Its offset from the wall
 * clock is bounded by every reading: `Date.now()` read between two monotonic readings m1 < m2 says
 * wall - m2 <= offset < wall + 1 - m1. The estimate is the largest lower bound seen, found at the
 * first use by watching for the next millisecond tick (at most 1 ms, once per thread), so the
 * entries of different processes order within a few microseconds; an upper bound below it (the
 * clocks drifted apart) lowers it. Readings never go back while the wall clock does not, and always
 * agree with `Date.now()` about the millisecond.
 */
export function fineWallClock(): () => number {
  let offset = Number.NEGATIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  const calibrate = (): void => {
    const first = Date.now();
    const limit = performance.now() + 2;
    for (;;) {
      const m1 = performance.now();
      const wall = Date.now();
      const m2 = performance.now();
      if (wall !== first || m1 > limit) {
        offset = wall - m2;
        return;
      }
    }
  };
  return () => {
    if (offset === Number.NEGATIVE_INFINITY) calibrate();
    const m1 = performance.now();
    const wall = Date.now();
    const m2 = performance.now();
    if (wall - m2 > offset) offset = wall - m2;
    if (offset >= wall + 1 - m1) offset = wall + 1 - m1 - 0.001;
    let t = Math.floor((m2 + offset) * 1000) / 1000;
    if (t < wall) t = wall;
    if (t > wall + 0.999) t = wall + 0.999;
    if (t < last && last < wall + 1) t = last;
    last = t;
    return t;
  };
}

/** Wall-clock milliseconds (the real clock; leases compare these across processes). */
export const realClock: Clock = { now: () => Date.now(), nowFine: fineWallClock() };

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
