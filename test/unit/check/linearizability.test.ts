import { describe, expect, it } from 'vitest';
import { checkLinearizable, History, type HistoryOp, type Model } from 'troupe/testkit';
import { seededRandom } from '../../../src/runtime/random.js';

// A register holding a number (initially 0): write v → ok; read → v.
type RegIn = { readonly op: 'write'; readonly value: number } | { readonly op: 'read' };
type RegOut = number | 'ok';
const register: Model<number, RegIn, RegOut> = {
  init: () => 0,
  step: (s, i) => (i.op === 'write' ? { output: 'ok', state: i.value } : { output: s, state: s }),
  equal: (a, b) => a === b,
  key: (s) => String(s),
  describe: (i, o) => `${i.op === 'write' ? `write ${i.value}` : 'read'}${o === undefined ? '' : ` → ${o}`}`,
};

// A FIFO queue: enq v → ok; deq → the oldest value, or 'empty'.
type QIn = { readonly op: 'enq'; readonly value: number } | { readonly op: 'deq' };
type QOut = number | 'ok' | 'empty';
const queue: Model<readonly number[], QIn, QOut> = {
  init: () => [],
  step: (s, i) => (i.op === 'enq' ? { output: 'ok', state: [...s, i.value] } : s.length === 0 ? { output: 'empty', state: s } : { output: s[0] as number, state: s.slice(1) }),
  equal: (a, b) => a === b,
  key: (s) => s.join(','),
};

/** Builds a history from [process, input, invokedAt, completedAt, status, output] rows (completions applied in time order). */
function history<I, O>(rows: ReadonlyArray<readonly [string, I, number, number | undefined, 'ok' | 'fail' | 'info' | 'pending', O?]>): History<I, O> {
  const h = new History<I, O>();
  type Ev = { t: number; run: () => void; call: boolean };
  const evs: Ev[] = [];
  const ids: number[] = [];
  rows.forEach(([p, input, inv, done, status, out], k) => {
    evs.push({ t: inv, call: true, run: () => (ids[k] = h.invoke(p, input, inv)) });
    if (done !== undefined && status !== 'pending') {
      evs.push({
        t: done,
        call: false,
        run: () => {
          const id = ids[k] as number;
          if (status === 'info') h.info(id, done, 'timeout');
          else if (status === 'ok') h.ok(id, out as O, done);
          else h.fail(id, out as O, done);
        },
      });
    }
  });
  evs.sort((a, b) => a.t - b.t || (a.call === b.call ? 0 : a.call ? 1 : -1));
  for (const e of evs) e.run();
  return h;
}

/** A seeded source of numbers in [0, 1). */
function uniform(seed: number): () => number {
  const r = seededRandom(seed);
  return () => r.next();
}

/**
 * A linearizable register history: each process runs operations one after another with random
 * durations; each takes effect at a random instant inside its interval, and reads answer what the
 * register held at that instant.
 */
function randomRegisterHistory(seed: number, processes: number, opsTotal: number): History<RegIn, RegOut> {
  const rnd = uniform(seed);
  type Planned = { p: string; input: RegIn; inv: number; done: number; point: number; out?: RegOut };
  const planned: Planned[] = [];
  const clock = Array.from({ length: processes }, () => 0);
  let value = 1;
  for (let k = 0; k < opsTotal; k++) {
    const p = k % processes;
    const inv = (clock[p] as number) + rnd() * 5;
    const done = inv + 0.5 + rnd() * 10;
    clock[p] = done;
    const input: RegIn = rnd() < 0.4 ? { op: 'write', value: value++ } : { op: 'read' };
    planned.push({ p: `p${p}`, input, inv, done, point: inv + rnd() * (done - inv) });
  }
  let reg = 0;
  for (const op of [...planned].sort((a, b) => a.point - b.point)) {
    if (op.input.op === 'write') {
      reg = op.input.value;
      op.out = 'ok';
    } else op.out = reg;
  }
  return history(planned.map((o) => [o.p, o.input, o.inv, o.done, 'ok', o.out as RegOut] as const));
}

describe('checkLinearizable (Wing–Gong search with Lowe\'s cache)', () => {
  it('accepts concurrent histories with a valid order', () => {
    const h = history<RegIn, RegOut>([
      ['a', { op: 'write', value: 1 }, 0, 10, 'ok', 'ok'],
      ['b', { op: 'read' }, 1, 3, 'ok', 0], // before the write takes effect
      ['c', { op: 'read' }, 2, 5, 'ok', 1], // after it
      ['b', { op: 'write', value: 2 }, 4, 12, 'ok', 'ok'],
      ['c', { op: 'read' }, 6, 8, 'ok', 2],
      ['d', { op: 'read' }, 7, 13, 'ok', 2],
    ]);
    const r = checkLinearizable(h.ops(), register);
    expect(r).toMatchObject({ ok: true, opsChecked: 6 });
  });

  it('accepts an empty history', () => {
    expect(checkLinearizable([], register)).toEqual({ ok: true, opsChecked: 0, statesExplored: 0 });
  });

  it('catches a stale read after a completed write, naming the read', () => {
    const h = history<RegIn, RegOut>([
      ['a', { op: 'write', value: 1 }, 0, 1, 'ok', 'ok'],
      ['b', { op: 'read' }, 2, 3, 'ok', 0],
    ]);
    const r = checkLinearizable(h.ops(), register);
    expect(r.ok).toBe(false);
    if (r.ok !== false) return;
    expect(r.longestPrefix).toEqual([0]);
    expect(r.stuckAt).toEqual([1]);
    expect(r.reason).toContain('#1 b [2–3 ms] ok: read → 0');
    expect(r.reason).toContain('the model answers: read → 1');
  });

  it('catches a lost write (a queue that drops an enqueued value)', () => {
    const h = history<QIn, QOut>([
      ['a', { op: 'enq', value: 1 }, 0, 1, 'ok', 'ok'],
      ['b', { op: 'enq', value: 2 }, 0.5, 2, 'ok', 'ok'],
      ['a', { op: 'deq' }, 3, 4, 'ok', 2],
      ['b', { op: 'deq' }, 5, 6, 'ok', 'empty'],
    ]);
    const r = checkLinearizable(h.ops(), queue);
    expect(r.ok).toBe(false);
    if (r.ok === false) expect(r.stuckAt).toContain(3);
  });

  it('catches a value read before its write was invoked', () => {
    const h = history<RegIn, RegOut>([
      ['b', { op: 'read' }, 0, 1, 'ok', 5],
      ['a', { op: 'write', value: 5 }, 2, 3, 'ok', 'ok'],
    ]);
    const r = checkLinearizable(h.ops(), register);
    expect(r.ok).toBe(false);
    if (r.ok === false) {
      expect(r.longestPrefix).toEqual([]);
      expect(r.stuckAt).toEqual([0]);
    }
  });

  it('compares the answers of failed operations too', () => {
    // A dequeue that answered "empty" while the queue held a value is a violation.
    const bad = history<QIn, QOut>([
      ['a', { op: 'enq', value: 1 }, 0, 1, 'ok', 'ok'],
      ['b', { op: 'deq' }, 2, 3, 'fail', 'empty'],
    ]);
    expect(checkLinearizable(bad.ops(), queue).ok).toBe(false);
    const good = history<QIn, QOut>([
      ['b', { op: 'deq' }, 2, 3, 'fail', 'empty'],
      ['a', { op: 'enq', value: 1 }, 4, 5, 'ok', 'ok'],
    ]);
    expect(checkLinearizable(good.ops(), queue).ok).toBe(true);
  });

  it('an unknown outcome (info) may have taken effect…', () => {
    const h = history<RegIn, RegOut>([
      ['a', { op: 'write', value: 1 }, 0, 1, 'info'],
      ['b', { op: 'read' }, 5, 6, 'ok', 1],
    ]);
    expect(checkLinearizable(h.ops(), register).ok).toBe(true);
  });

  it('…or not, and a pending one likewise, even long after it was invoked', () => {
    const h = history<RegIn, RegOut>([
      ['a', { op: 'write', value: 1 }, 0, 1, 'info'],
      ['c', { op: 'write', value: 2 }, 0, undefined, 'pending'],
      ['b', { op: 'read' }, 5, 6, 'ok', 0],
      ['b', { op: 'read' }, 7, 8, 'ok', 2],
      ['b', { op: 'read' }, 9, 10, 'ok', 2],
    ]);
    expect(checkLinearizable(h.ops(), register).ok).toBe(true);
  });

  it('an unknown outcome takes effect at most once, and not before its invocation', () => {
    const twice = history<RegIn, RegOut>([
      ['a', { op: 'write', value: 1 }, 0, 1, 'info'],
      ['b', { op: 'read' }, 2, 3, 'ok', 1],
      ['c', { op: 'write', value: 2 }, 4, 5, 'ok', 'ok'],
      ['b', { op: 'read' }, 6, 7, 'ok', 1],
    ]);
    expect(checkLinearizable(twice.ops(), register).ok).toBe(false);
    const early = history<RegIn, RegOut>([
      ['b', { op: 'read' }, 0, 1, 'ok', 1],
      ['a', { op: 'write', value: 1 }, 2, 3, 'info'],
    ]);
    expect(checkLinearizable(early.ops(), register).ok).toBe(false);
  });

  it('unknown outcomes that would change nothing (reads) add no configurations to search', () => {
    const rows: Array<readonly [string, RegIn, number, number | undefined, 'ok' | 'info', RegOut?]> = [];
    for (let k = 0; k < 40; k++) rows.push([`lost${k}`, { op: 'read' }, k, undefined, 'info']);
    for (let k = 0; k < 200; k++) rows.push(['w', k % 2 === 0 ? { op: 'write', value: k } : { op: 'read' }, 100 + 2 * k, 101 + 2 * k, 'ok', k % 2 === 0 ? 'ok' : k - 1]);
    const r = checkLinearizable(history<RegIn, RegOut>(rows).ops(), register, { maxStates: 1_000 });
    expect(r).toMatchObject({ ok: true, statesExplored: 200 });
  });

  it('with an unknown-outcome window, an unknown write may take effect inside the window or never, not after it', () => {
    const rows = (readAt: number): Array<readonly [string, RegIn, number, number | undefined, 'ok' | 'info', RegOut?]> => [
      ['a', { op: 'write', value: 1 }, 0, 1, 'info'],
      ['b', { op: 'read' }, readAt, readAt + 1, 'ok', 0],
      ['b', { op: 'read' }, readAt + 2, readAt + 3, 'ok', 1],
    ];
    // The write takes effect between t=10 and t=12: fine without a window or with a 20 ms one; with
    // a 9 ms one it would have to act before t=9, when the first read (invoked at 10) still saw 0.
    expect(checkLinearizable(history(rows(10)).ops(), register).ok).toBe(true);
    expect(checkLinearizable(history(rows(10)).ops(), register, { unknownOutcomeWindowMs: 20 }).ok).toBe(true);
    expect(checkLinearizable(history(rows(10)).ops(), register, { unknownOutcomeWindowMs: 9 }).ok).toBe(false);
    // Never taking effect stays possible: reads of 0 only.
    const never = history<RegIn, RegOut>([
      ['a', { op: 'write', value: 1 }, 0, 1, 'info'],
      ['b', { op: 'read' }, 5, 6, 'ok', 0],
      ['b', { op: 'read' }, 50, 51, 'ok', 0],
    ]);
    expect(checkLinearizable(never.ops(), register, { unknownOutcomeWindowMs: 10 }).ok).toBe(true);
  });

  it('a window keeps many unknown outcomes in a long history cheap to decide', () => {
    // 60 writes with lost answers spread over a long history of a register: without a window each
    // stays open to the end; with one, each is decided once its window has passed.
    const rows: Array<readonly [string, RegIn, number, number | undefined, 'ok' | 'info', RegOut?]> = [];
    let value = 0;
    for (let k = 0; k < 60; k++) {
      const t = k * 100;
      rows.push([`lost${k}`, { op: 'write', value: 1_000 + k }, t, t + 1, 'info']);
      rows.push(['w', { op: 'write', value: ++value }, t + 50, t + 51, 'ok', 'ok']);
      rows.push(['r', { op: 'read' }, t + 60, t + 61, 'ok', value]);
    }
    const r = checkLinearizable(history<RegIn, RegOut>(rows).ops(), register, { unknownOutcomeWindowMs: 40, maxStates: 5_000 });
    expect(r.ok).toBe(true);
  });

  it('gives up with "unknown" past maxStates instead of searching on', () => {
    const rows: Array<readonly [string, RegIn, number, number | undefined, 'ok' | 'info', RegOut?]> = [];
    for (let k = 0; k < 12; k++) rows.push([`w${k}`, { op: 'write', value: k + 1 }, 0, 1, 'info']);
    rows.push(['r', { op: 'read' }, 2, 3, 'ok', 99]);
    const r = checkLinearizable(history<RegIn, RegOut>(rows).ops(), register, { maxStates: 50 });
    expect(r.ok).toBe('unknown');
    if (r.ok === 'unknown') expect(r.reason).toContain('maxStates');
  });

  it('checks thousands of operations from 6 processes without deep recursion', () => {
    const h = randomRegisterHistory(7, 6, 6_000);
    const r = checkLinearizable(h.ops(), register);
    expect(r).toMatchObject({ ok: true, opsChecked: 6_000 });
  });

  it('finds a planted bad read deep in a long history', () => {
    const h = randomRegisterHistory(11, 8, 4_000);
    const ops = h.ops().map((op) => ({ ...op }));
    const victim = ops.findIndex((op, k) => k > 3_000 && op.input.op === 'read');
    (ops[victim] as HistoryOp<RegIn, RegOut>).output = -1;
    const r = checkLinearizable(ops, register);
    expect(r.ok).toBe(false);
    if (r.ok === false) {
      expect(r.stuckAt).toContain(victim);
      expect(r.longestPrefix.length).toBeGreaterThan(2_900);
    }
  });
});

describe('History', () => {
  it('records outcomes, formats them and treats pending as unknown', () => {
    const h = new History<RegIn, RegOut>();
    const a = h.invoke('a', { op: 'write', value: 1 }, 0);
    const b = h.invoke('b', { op: 'read' }, 0.5);
    h.ok(b, 0, 2);
    h.info(a, 3, 'timeout');
    h.invoke('a', { op: 'read' }, 4);
    expect(h.length).toBe(3);
    expect(h.ops().map((op) => op.status)).toEqual(['info', 'ok', 'pending']);
    expect(h.format([a, b])).toBe('#0 a [0–3 ms] info (timeout): {"op":"write","value":1}\n#1 b [0.500–2 ms] ok: {"op":"read"} → 0');
  });

  it('refuses misuse: two outstanding operations of a process, double completion, completion before invocation', () => {
    const h = new History<RegIn, RegOut>();
    const a = h.invoke('a', { op: 'read' }, 5);
    expect(() => h.invoke('a', { op: 'read' }, 6)).toThrow(/outstanding/);
    expect(() => h.ok(a, 0, 4)).toThrow(/before its invocation/);
    h.ok(a, 0, 6);
    expect(() => h.fail(a, 0, 7)).toThrow(/already completed/);
  });

  it('is bounded: opsMax', () => {
    const h = new History<RegIn, RegOut>({ opsMax: 2 });
    h.ok(h.invoke('a', { op: 'read' }, 0), 0, 1);
    h.ok(h.invoke('a', { op: 'read' }, 2), 0, 3);
    expect(() => h.invoke('a', { op: 'read' }, 4)).toThrow(/History is full: 2 operations/);
  });
});
