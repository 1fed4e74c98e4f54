/**
 * The real clock's fine reading (runtime/node/env.ts `fineWallClock`), which log entries are
 * stamped with so `troupe trace` orders entries of different processes within one millisecond:
 * it agrees with `Date.now()` about the millisecond, never goes back, and has a fraction.
 */
import { describe, expect, it } from 'vitest';
import { fineWallClock, realClock } from '../../../src/runtime/node/env.js';
import { makeLog, type LogEntry } from '../../../src/runtime/log.js';

describe('fine wall clock', () => {
  it('reads the wall-clock millisecond of the moment, with a fraction, and never goes back', () => {
    const fine = fineWallClock();
    let last = 0;
    let fractions = 0;
    for (let i = 0; i < 20_000; i++) {
      const before = Date.now();
      const t = fine();
      const after = Date.now();
      expect(Math.floor(t)).toBeGreaterThanOrEqual(before);
      expect(Math.floor(t)).toBeLessThanOrEqual(after);
      expect(t).toBeGreaterThanOrEqual(last);
      if (t !== Math.floor(t)) fractions++;
      last = t;
    }
    expect(fractions).toBeGreaterThan(0);
  });

  it('stamps log entries (and RPC entries by default) when the clock has it; `now()` reads the same clock', () => {
    const got: LogEntry[] = [];
    const log = makeLog((e) => got.push(e), { now: () => 5, nowFine: () => 5.25 }, 'n1');
    log.info('x');
    log.rpc('y', {});
    log.rpc('z', {}, 4.5);
    expect(got.map((e) => e.time)).toEqual([5.25, 5.25, 4.5]);
    expect(log.now()).toBe(5.25);
    expect(makeLog(() => {}, { now: () => 7 }, 'n1').now()).toBe(7);
    expect(realClock.nowFine).toBeDefined();
  });
});
