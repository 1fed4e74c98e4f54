import type { Random } from './random.js';

/**
 * The host services the runtime gives to actor and storage code. Real implementations live in
 * `runtime/node/`, simulated ones in `runtime/sim/`; nothing else reads the host's clock, timers or
 * randomness (DESIGN.md §3, enforced by lint).
 */

/** Milliseconds. In a simulation this is virtual time, possibly skewed per node. */
export interface Clock {
  now(): number;
  /**
   * The same clock with sub-millisecond resolution, where the host has one (the real clock): for
   * log timestamps, so a trace orders entries of different processes within one millisecond.
   * `Math.floor(nowFine())` is `now()`.
   */
  nowFine?(): number;
}

/** Cancels a scheduled callback; calling it after the callback ran, or twice, does nothing. */
export type Cancel = () => void;

/**
 * Callback timers for runtime and storage internals (group commit, scrubber pacing). Actors use the
 * message timers of their context (`ctx.timers`) instead, which deliver through the mailbox.
 */
export interface Timers {
  after(delayMs: number, fn: () => void): Cancel;
}

/** Runs a callback soon, after the current turn (a macrotask, so I/O is not starved). */
export type Defer = (fn: () => void) => void;

export interface Env {
  readonly clock: Clock;
  readonly timers: Timers;
  /** The root random stream of this node; fork it per consumer. */
  readonly random: Random;
}
