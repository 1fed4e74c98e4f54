/**
 * Supervision strategies, declared as data (DESIGN.md §3): a handler that throws is a bug, and
 * the actor's supervisor applies the declared strategy. The decision is a pure function of the
 * strategy, the restart history and the time, so it is unit-tested without actors.
 */
export type Supervision =
  /** Restart with a fresh behavior (fresh state) after an exponential backoff, at most
   *  `maxRestarts` times within `withinMs`; past that, `onLimit` (default `escalate`). */
  | {
      readonly strategy: 'restart';
      readonly maxRestarts?: number;
      readonly withinMs?: number;
      readonly backoff?: Backoff;
      readonly onLimit?: 'stop' | 'escalate';
    }
  /** Stop the actor; watchers see `failed`. */
  | { readonly strategy: 'stop' }
  /** Fail the parent with the same error (the parent's own strategy then applies). */
  | { readonly strategy: 'escalate' }
  /** Drop the failed message and go on with the same state (for actors whose state cannot be corrupted by a half-done turn). */
  | { readonly strategy: 'resume' };

export interface Backoff {
  readonly minMs: number;
  readonly maxMs: number;
  readonly factor: number;
}

export const defaultBackoff: Backoff = { minMs: 10, maxMs: 10_000, factor: 2 };

/** Default: restart, 3 times per 10 s, then escalate (Erlang/OTP's intensity/period idea). */
export const defaultSupervision: Supervision = { strategy: 'restart', maxRestarts: 3, withinMs: 10_000, backoff: defaultBackoff, onLimit: 'escalate' };

export type SupervisionDecision =
  | { readonly action: 'restart'; readonly delayMs: number; readonly attempt: number }
  | { readonly action: 'stop' }
  | { readonly action: 'escalate' }
  | { readonly action: 'resume' };

/**
 * Decides what to do with a failed actor. `restartTimes` are the times of earlier restarts
 * (any order); only those within the window count toward the intensity limit and the backoff.
 */
export function decide(s: Supervision, restartTimes: readonly number[], now: number): SupervisionDecision {
  switch (s.strategy) {
    case 'stop':
      return { action: 'stop' };
    case 'escalate':
      return { action: 'escalate' };
    case 'resume':
      return { action: 'resume' };
    case 'restart': {
      const maxRestarts = s.maxRestarts ?? 3;
      const withinMs = s.withinMs ?? 10_000;
      const recent = restartTimes.filter((t) => now - t < withinMs).length;
      if (recent >= maxRestarts) return { action: s.onLimit ?? 'escalate' };
      return { action: 'restart', delayMs: backoffDelay(s.backoff ?? defaultBackoff, recent), attempt: recent + 1 };
    }
    default:
      return assertNever(s);
  }
}

/** min * factor^n, capped at max. */
export function backoffDelay(b: Backoff, previousAttempts: number): number {
  return Math.min(b.maxMs, b.minMs * b.factor ** previousAttempts);
}

export function assertNever(x: never): never {
  throw new Error(`unexpected value: ${JSON.stringify(x)}`);
}
