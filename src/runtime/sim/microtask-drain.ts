import { promiseHooks } from 'node:v8';

/**
 * How the simulator knows that every promise continuation a step caused has run, without handing
 * control to the host's event loop (DESIGN.md §3: the simulator never touches real time).
 *
 * A step (one message handled, or one agenda event) can resolve promises — an ask's answer, a
 * simulated disk's completion — whose continuations run as microtasks, and those can resolve more.
 * The next step must wait for all of them, or which step sees which state would depend on how deep
 * a chain of `await`s happens to be rather than on the seed.
 *
 * The drain watches promise activity with V8's promise hooks: a promise created (`init`, which also
 * covers the job that adopts a promise returned from an async function or passed to `resolve`), a
 * continuation about to run (`before`), a promise settled. It then checks back with a microtask of
 * its own: a reaction on a promise it keeps resolved (`then`), whose hooks it recognises and leaves
 * out of the count. The check goes to the back of the microtask queue, so when it runs, everything
 * queued before it has run. If there was no promise activity meanwhile, nothing else was queued and
 * nothing queued more: the queue is empty and the step's consequences are complete. A chain of
 * depth d costs about d checks; a step that resolves nothing costs one, and a step with no promise
 * activity at all needs no drain (`activityCount`). (Node's `queueMicrotask` would do the same, but
 * it wraps every callback in an async resource, which cost more than the rest of the check.)
 *
 * Two simulations draining at once in one thread each wait for the other's continuations too:
 * still deterministic, only slower. The hooks are installed while at least one simulation is
 * running (`acquire`/`release`), because they slow every promise in the thread.
 */
export class MicrotaskDrain {
  /** Checks per drain before the step is declared runaway (continuations that re-queue themselves forever). */
  static readonly checksPerDrainMax = 10_000_000;

  private static users = 0;
  private static stopHooks: (() => void) | undefined;
  private static activity = 0;
  /** Settled before any hook is installed; each check is a reaction on it. */
  private static readonly base: Promise<void> = Promise.resolve();
  /**
   * The promises of the checks' reactions queued and not yet run, oldest first: their hooks are not
   * activity. Reactions run in the order they were queued, so a check's hooks always concern the
   * oldest (`ownHead`); one comparison per hook tells them apart.
   */
  private static readonly ownChecks: Array<Promise<unknown> | undefined> = [];
  private static ownHead = 0;
  /** Queues `fn` as a microtask that fires no counted hook. */
  private static enqueue(fn: () => void): void {
    void MicrotaskDrain.base.then(fn);
  }

  /**
   * Promise activity so far in this thread (while the hooks are installed). A step that leaves it
   * unchanged created, settled and continued no promise, so it queued no continuation and needs no
   * drain: an actor with synchronous handlers costs nothing here.
   */
  static get activityCount(): number {
    return MicrotaskDrain.activity;
  }

  /** Installs the hooks (once per thread, however many simulations use them). */
  static acquire(): void {
    if (MicrotaskDrain.users++ > 0) return;
    const own = MicrotaskDrain.ownChecks;
    const base = MicrotaskDrain.base;
    // A check queued while the hooks were off (none is, in practice) is just activity from now on.
    own.length = 0;
    MicrotaskDrain.ownHead = 0;
    // The drain's own checks (reactions on `base`) are left out: they must not look like activity.
    const init = (promise: Promise<unknown>, parent: Promise<unknown> | undefined): void => {
      if (parent === base) own.push(promise);
      else MicrotaskDrain.activity++;
    };
    const before = (promise: Promise<unknown>): void => {
      if (promise !== own[MicrotaskDrain.ownHead]) MicrotaskDrain.activity++;
    };
    const settled = (promise: Promise<unknown>): void => {
      if (promise !== own[MicrotaskDrain.ownHead]) {
        MicrotaskDrain.activity++;
        return;
      }
      // The check ran and its reaction is done: forget it (and compact the queue once it is empty).
      own[MicrotaskDrain.ownHead++] = undefined;
      if (MicrotaskDrain.ownHead === own.length) {
        own.length = 0;
        MicrotaskDrain.ownHead = 0;
      }
    };
    // Each returns a stop function, typed as the bare `Function`.
    const stops = [promiseHooks.onInit(init), promiseHooks.onBefore(before), promiseHooks.onSettled(settled)] as Array<() => void>;
    MicrotaskDrain.stopHooks = () => {
      for (const stop of stops) stop();
    };
  }

  /** Removes the hooks when the last user is done. */
  static release(): void {
    if (MicrotaskDrain.users === 0) throw new Error('MicrotaskDrain.release without acquire');
    if (--MicrotaskDrain.users > 0) return;
    MicrotaskDrain.stopHooks?.();
    MicrotaskDrain.stopHooks = undefined;
  }

  /**
   * Resolves once the microtask queue holds nothing but other drains' checks. Callers hold
   * `acquire`. Rejects if continuations keep queuing more for `checksPerDrainMax` checks.
   */
  static drain(): Promise<void> {
    if (MicrotaskDrain.users === 0) throw new Error('MicrotaskDrain.drain without acquire');
    return new Promise<void>((resolve, reject) => {
      let seen = MicrotaskDrain.activity;
      let checks = 0;
      const check = (): void => {
        if (MicrotaskDrain.activity === seen) {
          resolve();
        } else if (++checks >= MicrotaskDrain.checksPerDrainMax) {
          reject(new Error(`promise continuations still queuing more after ${MicrotaskDrain.checksPerDrainMax} microtask checks (a continuation that re-queues itself forever?)`));
        } else {
          seen = MicrotaskDrain.activity;
          MicrotaskDrain.enqueue(check);
        }
      };
      MicrotaskDrain.enqueue(check);
    });
  }
}
