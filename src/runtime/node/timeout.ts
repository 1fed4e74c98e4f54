/**
 * Settles like `p`, or rejects with `timedOut()` when `p` has not settled within `ms` (real time).
 * A non-Error rejection of `p` becomes an Error. The timer is cleared either way.
 */
export function withTimeout<T>(p: Promise<T>, ms: number, timedOut: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(timedOut()), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (err: unknown) => {
        clearTimeout(t);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}
