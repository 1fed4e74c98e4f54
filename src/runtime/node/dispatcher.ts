import { DrainDispatcher } from '../dispatcher.js';

/** The real dispatcher: microtask drain, yielding to the event loop with setImmediate. */
export function realDispatcher(turnsPerTick?: number): DrainDispatcher {
  return new DrainDispatcher(queueMicrotask, setImmediate, turnsPerTick);
}
