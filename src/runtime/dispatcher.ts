import { Deque } from '../mailbox/deque.js';

/**
 * Dispatchers decide which ready actor runs next. An actor is ready when its mailbox has a
 * message it may handle now; a turn handles at most `throughput` messages, then the actor goes to
 * the back of the ready queue, so one busy actor cannot starve the others.
 */
export interface Runnable {
  /** Handles up to `budget` messages; returns true when it still has runnable messages. */
  run(budget: number): boolean;
  /** Messages per turn for this actor. */
  readonly throughput: number;
}

export interface Dispatcher {
  /** Makes `r` ready. The caller guarantees `r` is not already scheduled. */
  schedule(r: Runnable): void;
}

/**
 * The in-process dispatcher: a FIFO ready queue drained in a microtask when work first arrives
 * (low latency), for at most `turnsPerTick` turns; then it yields a macrotask to the event loop
 * (`later`) so timers and I/O are never starved by a busy actor system.
 */
export class DrainDispatcher implements Dispatcher {
  private readonly ready = new Deque<Runnable>(64);
  private draining = false;

  constructor(
    private readonly soon: (fn: () => void) => void,
    private readonly later: (fn: () => void) => void,
    private readonly turnsPerTick = 256,
  ) {}

  schedule(r: Runnable): void {
    this.ready.push(r);
    if (!this.draining) {
      this.draining = true;
      this.soon(this.drain);
    }
  }

  private readonly drain = (): void => {
    for (let turns = 0; turns < this.turnsPerTick; turns++) {
      const r = this.ready.shift();
      if (r === undefined) {
        this.draining = false;
        return;
      }
      if (r.run(r.throughput)) this.ready.push(r);
    }
    if (this.ready.length === 0) {
      this.draining = false;
      return;
    }
    this.later(this.drain);
  };
}
