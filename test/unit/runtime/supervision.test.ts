import { describe, expect, it } from 'vitest';
import { backoffDelay, decide } from '../../../src/runtime/supervision.js';

describe('supervision decisions (pure)', () => {
  const restart = { strategy: 'restart', maxRestarts: 3, withinMs: 1_000, backoff: { minMs: 10, maxMs: 100, factor: 2 } } as const;

  it('restarts with exponential backoff capped at maxMs', () => {
    expect(decide(restart, [], 0)).toEqual({ action: 'restart', delayMs: 10, attempt: 1 });
    expect(decide(restart, [0], 5)).toEqual({ action: 'restart', delayMs: 20, attempt: 2 });
    expect(decide(restart, [0, 1], 5)).toEqual({ action: 'restart', delayMs: 40, attempt: 3 });
    expect(backoffDelay({ minMs: 10, maxMs: 100, factor: 2 }, 10)).toBe(100);
  });

  it('escalates once the intensity limit is reached within the period (default onLimit)', () => {
    expect(decide(restart, [0, 1, 2], 10)).toEqual({ action: 'escalate' });
    expect(decide({ ...restart, onLimit: 'stop' }, [0, 1, 2], 10)).toEqual({ action: 'stop' });
  });

  it('forgets restarts older than the period', () => {
    expect(decide(restart, [0, 1, 2], 1_500)).toEqual({ action: 'restart', delayMs: 10, attempt: 1 });
  });

  it('maps stop, escalate and resume directly', () => {
    expect(decide({ strategy: 'stop' }, [], 0)).toEqual({ action: 'stop' });
    expect(decide({ strategy: 'escalate' }, [], 0)).toEqual({ action: 'escalate' });
    expect(decide({ strategy: 'resume' }, [], 0)).toEqual({ action: 'resume' });
  });
});
