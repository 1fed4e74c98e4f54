import { formatOps, type HistoryOp } from './history.js';

/**
 * Linearizability checking (Herlihy & Wing 1990) by the Wing–Gong search with Lowe's memoization
 * ("Testing for linearizability", Lowe 2017; the same "WGL + cache" Horn & Kroening use).
 *
 * The history becomes a list of events ordered by time: each operation's invocation and, for
 * operations with a definite outcome, its completion. The search repeatedly takes an invocation
 * that comes before the first remaining completion — an operation that could take effect next —
 * applies it to the sequential model, and if the model's answer equals the recorded one, removes
 * the operation's events and goes on. Reaching a completion whose operation has not been taken
 * means the choices so far were wrong: undo the last one and try the next candidate. The search
 * is iterative (an explicit stack, so long histories cannot overflow the call stack), and it never
 * revisits a configuration — (set of operations taken, model state) — that already failed: Lowe's
 * cache, which turns the exponential worst case into one bounded by the reachable configurations.
 *
 * Outcomes: `ok` and `fail` operations must take effect between their invocation and completion
 * with the model's answer equal to the recorded one; `info` and `pending` operations may take
 * effect at any time after their invocation, or never, and their answer is not compared.
 *
 * Events at the same time are ordered invocations first, so operations that touch in time count as
 * concurrent: the checker never rejects a history for an order the timestamps cannot prove. One
 * process's operations keep their program order, though, after a definite outcome: the next
 * operation cannot take effect before it even when its invocation has the same timestamp.
 */
export interface Model<S, I, O> {
  /** The state before any operation. */
  init(): S;
  /** Applies one operation to a state, returning its answer and the next state. Must not mutate `state`. */
  step(state: S, input: I): { output: O; state: S };
  /** Whether the recorded answer `actual` is the model's `expected` one. */
  equal(expected: O, actual: O): boolean;
  /** A canonical string for a state: equal states, equal keys (the search's cache is keyed by it). */
  key(state: S): string;
  /** Renders an operation for failure messages. */
  describe?(input: I, output: O | undefined): string;
}

export type LinearizabilityResult =
  | { readonly ok: true; readonly opsChecked: number; readonly statesExplored: number }
  | {
      readonly ok: false;
      readonly reason: string;
      readonly opsChecked: number;
      readonly statesExplored: number;
      /** The longest order of operations (ids) the search could linearize. */
      readonly longestPrefix: readonly number[];
      /** Operations (ids) that could have gone next after `longestPrefix`, none of which the model explains. */
      readonly stuckAt: readonly number[];
    }
  | { readonly ok: 'unknown'; readonly reason: string; readonly statesExplored: number };

export interface LinearizabilityOptions {
  /** Configurations the search may explore before giving up with `ok: 'unknown'`. Default 500 000. */
  readonly maxStates?: number;
  /**
   * How long after its invocation an operation with an unknown outcome can still take effect
   * (default: forever). A system that applies a request within a bounded time or never — a
   * request dies with the server, or waits at most so long — lets the search decide such
   * operations early instead of carrying every one to the end of the history, which is what makes
   * long histories with many timeouts checkable. Too short a window gives false violations, never
   * false passes.
   */
  readonly unknownOutcomeWindowMs?: number;
}

export const LINEARIZABILITY_STATES_MAX_DEFAULT = 500_000;

/** How many linearized operations a failure message shows before the stuck ones. */
const PREFIX_SHOWN_MAX = 8;

const CALL = 0;
const RETURN = 1;
/** The end of an unknown outcome's window: not taken by then, it never took effect. */
const EXPIRE = 2;

/**
 * Checks that `ops` (a whole history, e.g. `History.ops()`) is linearizable with respect to the
 * sequential `model`. Operation ids only name operations in the result; they need not be dense.
 * Throws `RangeError` for a malformed history (a definite outcome without a completion time, or
 * one before the invocation).
 */
export function checkLinearizable<S, I, O>(ops: readonly HistoryOp<I, O>[], model: Model<S, I, O>, options: LinearizabilityOptions = {}): LinearizabilityResult {
  const maxStates = options.maxStates ?? LINEARIZABILITY_STATES_MAX_DEFAULT;
  if (!(Number.isSafeInteger(maxStates) && maxStates > 0)) throw new RangeError(`maxStates must be a positive integer, got ${maxStates}`);
  const window = options.unknownOutcomeWindowMs ?? Infinity;
  if (!(window >= 0)) throw new RangeError(`unknownOutcomeWindowMs must be >= 0, got ${window}`);
  const n = ops.length;
  const definite: boolean[] = ops.map((op) => op.status === 'ok' || op.status === 'fail');
  for (const op of ops) {
    if (!Number.isFinite(op.invokedAt)) throw new RangeError(`operation #${op.id} has no invocation time`);
    if (op.status === 'ok' || op.status === 'fail') {
      if (op.completedAt === undefined || !(op.completedAt >= op.invokedAt)) throw new RangeError(`operation #${op.id} is ${op.status} but completed at ${op.completedAt}, invoked at ${op.invokedAt}`);
    }
  }

  // ----- the event list: invocations, and completions of definite operations, by time -----
  type Event = { readonly kind: number; readonly op: number; readonly time: number };
  const events: Event[] = [];
  for (let i = 0; i < n; i++) {
    const op = ops[i] as HistoryOp<I, O>;
    events.push({ kind: CALL, op: i, time: op.invokedAt });
    if (definite[i] === true) events.push({ kind: RETURN, op: i, time: op.completedAt as number });
    else if (Number.isFinite(window)) events.push({ kind: EXPIRE, op: i, time: op.invokedAt + window });
  }
  // Invocations before completions at the same time (touching operations overlap); then by op.
  events.sort((a, b) => a.time - b.time || a.kind - b.kind || a.op - b.op);

  // Doubly linked list over the events with sentinels: HEAD = 0, events 1..E, TAIL = E + 1.
  const E = events.length;
  const HEAD = 0;
  const TAIL = E + 1;
  const next = new Int32Array(E + 2);
  const prev = new Int32Array(E + 2);
  for (let x = 0; x <= E; x++) next[x] = x + 1;
  for (let x = 1; x <= E + 1; x++) prev[x] = x - 1;
  const kindOf = new Uint8Array(E + 2);
  const opOf = new Int32Array(E + 2);
  // An operation's second event: its completion, or the end of its window.
  const returnOf = new Int32Array(n).fill(-1);
  const callOf = new Int32Array(n).fill(-1);
  events.forEach((ev, k) => {
    kindOf[k + 1] = ev.kind;
    opOf[k + 1] = ev.op;
    if (ev.kind === CALL) callOf[ev.op] = k + 1;
    else returnOf[ev.op] = k + 1;
  });
  const at = (a: Int32Array, x: number): number => a[x] as number;
  const unlink = (x: number): void => {
    next[at(prev, x)] = at(next, x);
    prev[at(next, x)] = at(prev, x);
  };
  const relink = (x: number): void => {
    next[at(prev, x)] = x;
    prev[at(next, x)] = x;
  };
  // Taking an operation removes its invocation and completion; undoing relinks them in reverse.
  const lift = (call: number): void => {
    unlink(call);
    const r = at(returnOf, at(opOf, call));
    if (r >= 0) unlink(r);
  };
  const unlift = (call: number): void => {
    const r = at(returnOf, at(opOf, call));
    if (r >= 0) relink(r);
    relink(call);
  };

  // ----- the set of operations taken, as a bitset, and its compact key -----
  const words = new Uint32Array(Math.max(1, Math.ceil(n / 32)));
  const setBit = (i: number): void => {
    words[i >>> 5] = (words[i >>> 5] ?? 0) | (1 << (i & 31));
  };
  const clearBit = (i: number): void => {
    words[i >>> 5] = (words[i >>> 5] ?? 0) & ~(1 << (i & 31));
  };
  // Operations are taken roughly in order, so the set is mostly a prefix: key it as the count of
  // full leading words plus the words after them up to the last non-empty one.
  const setKey = (): string => {
    let first = 0;
    while (first < words.length && words[first] === 0xffffffff) first++;
    let last = words.length - 1;
    while (last >= first && words[last] === 0) last--;
    let s = `${first}`;
    for (let w = first; w <= last; w++) s += `.${(words[w] as number).toString(36)}`;
    return s;
  };

  const taken = (i: number): boolean => (((words[i >>> 5] ?? 0) >>> (i & 31)) & 1) === 1;
  // Program order: a process's operation cannot take effect before its previous one that completed
  // definitely (the previous completion may share the next invocation's timestamp). A previous
  // operation with an unknown outcome may still take effect later (a delayed request), so it does not count.
  const previousDefinite = new Int32Array(n).fill(-1);
  {
    const lastOf = new Map<string, number>();
    const order = [...ops.keys()].sort((a, b) => (ops[a] as HistoryOp<I, O>).invokedAt - (ops[b] as HistoryOp<I, O>).invokedAt || a - b);
    for (const i of order) {
      const p = (ops[i] as HistoryOp<I, O>).process;
      const last = lastOf.get(p);
      if (last !== undefined && definite[last] === true) previousDefinite[i] = last;
      lastOf.set(p, i);
    }
  }

  // ----- the search -----
  const cache = new Set<string>();
  /** Choices made: an operation taken, or (`dropped`) one whose window closed untaken — forced, so undone without alternatives. */
  const stack: { call: number; state: S; stateKey: string; dropped: boolean }[] = [];
  let backtrack = false;
  let state = model.init();
  let stateKey = model.key(state);
  let definiteLeft = definite.filter((d) => d).length;
  let best: { prefix: number[]; stuck: number[]; state: S } | undefined;
  let e = at(next, HEAD);

  const frontier = (): number[] => {
    // Operations that could go next: invocations before the first remaining completion, and that completion's operation.
    const out: number[] = [];
    for (let x = at(next, HEAD); x !== TAIL; x = at(next, x)) {
      const i = at(opOf, x);
      const before = at(previousDefinite, i);
      if (kindOf[x] === EXPIRE) continue;
      if (kindOf[x] === RETURN || before < 0 || taken(before)) out.push(i);
      if (kindOf[x] === RETURN) break;
    }
    return [...new Set(out)];
  };

  while (definiteLeft > 0) {
    if (!backtrack && e !== TAIL && kindOf[e] === EXPIRE) {
      // Every candidate before this point was tried: the operation never took effect.
      const i = at(opOf, e);
      setBit(i);
      const key = `${setKey()}|${stateKey}`;
      if (cache.has(key)) {
        clearBit(i);
        backtrack = true;
        continue;
      }
      cache.add(key);
      const call = at(callOf, i);
      stack.push({ call, state, stateKey, dropped: true });
      lift(call);
      e = at(next, HEAD);
      continue;
    }
    if (!backtrack && e !== TAIL && kindOf[e] === CALL) {
      const i = at(opOf, e);
      const op = ops[i] as HistoryOp<I, O>;
      const before = at(previousDefinite, i);
      if (before >= 0 && !taken(before)) {
        e = at(next, e);
        continue;
      }
      const r = model.step(state, op.input);
      const nextKey = model.key(r.state);
      // An unknown outcome that would not change the state (a read, a failing mutation) need never be taken.
      const pointless = definite[i] !== true && nextKey === stateKey;
      if (!pointless && (definite[i] === true ? model.equal(r.output, op.output as O) : true)) {
        setBit(i);
        const key = `${setKey()}|${nextKey}`;
        if (!cache.has(key)) {
          cache.add(key);
          if (cache.size > maxStates) {
            return {
              ok: 'unknown',
              reason: `gave up after exploring ${maxStates} configurations (maxStates) with ${definiteLeft} of ${n} operations' outcomes still to explain; check a shorter or less concurrent history, with fewer unknown outcomes, or raise maxStates`,
              statesExplored: cache.size,
            };
          }
          stack.push({ call: e, state, stateKey, dropped: false });
          state = r.state;
          stateKey = nextKey;
          lift(e);
          if (definite[i] === true) definiteLeft--;
          e = at(next, HEAD);
          continue;
        }
        clearBit(i);
      }
      e = at(next, e);
      continue;
    }
    // A completion (or the end) before its operation was taken: this order fails; undo the last choice.
    if (!backtrack && (best === undefined || stack.length > best.prefix.length)) {
      best = { prefix: stack.filter((s) => !s.dropped).map((s) => (ops[at(opOf, s.call)] as HistoryOp<I, O>).id), stuck: frontier().map((i) => (ops[i] as HistoryOp<I, O>).id), state };
    }
    const top = stack.pop();
    if (top === undefined) break;
    state = top.state;
    stateKey = top.stateKey;
    const i = at(opOf, top.call);
    clearBit(i);
    unlift(top.call);
    if (definite[i] === true) definiteLeft++;
    // A drop had no alternative: keep undoing. A take did: try the candidates after it.
    backtrack = top.dropped;
    e = at(next, top.call);
  }

  if (definiteLeft === 0) return { ok: true, opsChecked: n, statesExplored: cache.size };
  const b = best as { prefix: number[]; stuck: number[]; state: S };
  return { ok: false, reason: explain(ops, model, b), opsChecked: n, statesExplored: cache.size, longestPrefix: b.prefix, stuckAt: b.stuck };
}

function explain<S, I, O>(ops: readonly HistoryOp<I, O>[], model: Model<S, I, O>, best: { prefix: number[]; stuck: number[]; state: S }): string {
  const byId = new Map(ops.map((op) => [op.id, op]));
  const describe = (input: I, output: O | undefined): string => (model.describe === undefined ? `${JSON.stringify(input)}${output === undefined ? '' : ` → ${JSON.stringify(output)}`}` : model.describe(input, output));
  const pick = (ids: readonly number[]): HistoryOp<I, O>[] => ids.map((id) => byId.get(id)).filter((op): op is HistoryOp<I, O> => op !== undefined);
  const shown = best.prefix.slice(-PREFIX_SHOWN_MAX);
  const lines = [`not linearizable: after the longest linearizable prefix of ${best.prefix.length} operation(s), none of these can take effect next:`];
  for (const op of pick(best.stuck)) {
    const line = formatOps([op], describe);
    const expected = model.step(best.state, op.input).output;
    const definite = op.status === 'ok' || op.status === 'fail';
    lines.push(`  ${line}${definite ? `\n      the model answers: ${describe(op.input, expected)}` : ''}`);
  }
  if (shown.length > 0) {
    lines.push(`the prefix ends with (in linearization order${best.prefix.length > shown.length ? `, last ${shown.length}` : ''}):`);
    for (const op of pick(shown)) lines.push(`  ${formatOps([op], describe)}`);
  }
  return lines.join('\n');
}
