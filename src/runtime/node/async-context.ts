import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * A value carried across `await`s (AsyncLocalStorage): `run(value, fn)` makes `current()` return
 * `value` in everything `fn` starts, however deep. The GFS client uses one to stamp each message
 * of an operation with its request id. The simulator has no such context; code that takes one
 * must work without it.
 */
export interface AsyncContext<T> {
  run<R>(value: T, fn: () => R): R;
  current(): T | undefined;
}

export function asyncContext<T>(): AsyncContext<T> {
  const storage = new AsyncLocalStorage<T>();
  return {
    run: (value, fn) => storage.run(value, fn),
    current: () => storage.getStore(),
  };
}
