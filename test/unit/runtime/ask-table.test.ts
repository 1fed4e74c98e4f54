import { describe, expect, it } from 'vitest';
import { AskTable } from '../../../src/runtime/ask-table.js';
import type { Timers } from '../../../src/runtime/env.js';
import { Ref } from '../../../src/runtime/ref.js';
import type { TroupeError } from '../../../src/runtime/errors.js';

/** A clock and timers the test moves by hand. */
function manualTime(): { clock: { now: () => number }; timers: Timers; advance: (ms: number) => void } {
  let now = 0;
  let timers: { at: number; fn: () => void; live: boolean }[] = [];
  return {
    clock: { now: () => now },
    timers: {
      after(delayMs, fn) {
        const t = { at: now + delayMs, fn, live: true };
        timers.push(t);
        return () => void (t.live = false);
      },
    },
    advance(ms) {
      now += ms;
      const due = timers.filter((t) => t.live && t.at <= now);
      timers = timers.filter((t) => !due.includes(t));
      for (const t of due) t.fn();
    },
  };
}

const to = new Ref('far', 'echo');
const outcome = (p: Promise<unknown>): Promise<string> => p.then((v) => `ok ${String(v)}`, (e: TroupeError) => e.code);

describe('AskTable', () => {
  it('in one timeout slot, answered asks resolve and only the unanswered ones time out', async () => {
    const t = manualTime();
    const table = new AskTable(t.clock, t.timers, 10, 100);
    const asks = [1, 2, 3, 4].map(() => table.open(to, 1_000));
    table.resolve(asks[0]!.corr, 'a');
    table.resolve(asks[2]!.corr, 'c');
    t.advance(1_010);
    expect(await Promise.all(asks.map((a) => outcome(a.promise)))).toEqual(['ok a', 'ask_timeout', 'ok c', 'ask_timeout']);
    expect(table.size).toBe(0);
  });

  it('a slot whose asks were all answered still times out an ask opened in it later', async () => {
    const t = manualTime();
    const table = new AskTable(t.clock, t.timers, 10, 100);
    const first = table.open(to, 1_000);
    table.resolve(first.corr, 'first');
    const late = table.open(to, 1_000);
    t.advance(1_010);
    expect(await outcome(first.promise)).toBe('ok first');
    expect(await outcome(late.promise)).toBe('ask_timeout');
    // An answer after the timeout finds nothing to resolve.
    expect(table.resolve(late.corr, 'too late')).toBe(false);
  });

  it('a slot reused after its asks were answered times out only the asks opened since, for a few asks and for a burst', async () => {
    for (const burst of [3, 40]) {
      const t = manualTime();
      const table = new AskTable(t.clock, t.timers, 10, 1_000);
      const early = Array.from({ length: burst }, () => table.open(to, 1_000));
      for (const a of early) table.resolve(a.corr, 'early');
      const late = [1, 2].map(() => table.open(to, 1_000));
      table.resolve(late[0]!.corr, 'late');
      t.advance(1_010);
      expect(await Promise.all(early.map((a) => outcome(a.promise)))).toEqual(early.map(() => 'ok early'));
      expect(await Promise.all(late.map((a) => outcome(a.promise)))).toEqual(['ok late', 'ask_timeout']);
      expect(table.size).toBe(0);
    }
  });

  it('asks in a later slot still time out after an earlier slot expired', async () => {
    const t = manualTime();
    const table = new AskTable(t.clock, t.timers, 10, 100);
    const first = table.open(to, 100);
    t.advance(50);
    const second = table.open(to, 100);
    t.advance(60);
    expect(await outcome(first.promise)).toBe('ask_timeout');
    expect(table.size).toBe(1);
    const third = table.open(to, 100);
    t.advance(100);
    expect(await outcome(second.promise)).toBe('ask_timeout');
    expect(await outcome(third.promise)).toBe('ask_timeout');
    expect(table.size).toBe(0);
  });
});
