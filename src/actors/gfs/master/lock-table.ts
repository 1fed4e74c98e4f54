import { Deque } from '../../../mailbox/deque.js';
import { ancestors, lockOrder } from './paths.js';

/**
 * The namespace locking scheme of patent ¶53–59.
 *
 * - Every node of the namespace (a full path) has a read-write lock (¶54).
 * - An operation on `/d1/.../dn/leaf` takes read locks on `/d1`, `/d1/d2`, …, `/d1/.../dn` and
 *   a read or write lock on the full path (¶55). Two-path operations (rename, snapshot) take the
 *   union for both paths (¶57).
 * - Locks live in a lazily allocated table keyed by path and are freed as soon as no one holds or
 *   waits for them (¶56, ¶59).
 * - Locks are acquired in one total order — by depth, then lexicographically (¶59) — so no two
 *   operations can wait for each other in a cycle: operations never deadlock (invariant M1).
 * - Waiters are served FIFO per lock, and a reader does not overtake a waiting writer, so a
 *   stream of creates cannot starve a snapshot (invariant M2).
 */
export type LockMode = 'read' | 'write';

export interface LockRequest {
  readonly path: string;
  readonly mode: LockMode;
}

interface RwLock {
  readers: number;
  writer: boolean;
  readonly waiters: Deque<{ readonly mode: LockMode; readonly grant: () => void }>;
}

/** The locks one operation needs: read locks on ancestors of every path, `mode` locks on the paths themselves. */
export function lockSet(paths: readonly { path: string; mode: LockMode }[]): LockRequest[] {
  const modes = new Map<string, LockMode>();
  for (const { path, mode } of paths) {
    for (const a of ancestors(path)) if (!modes.has(a)) modes.set(a, 'read');
    if (mode === 'write' || !modes.has(path)) modes.set(path, mode);
  }
  // A path that is both an ancestor of one operand and the operand itself keeps the stronger mode.
  for (const { path, mode } of paths) if (mode === 'write') modes.set(path, 'write');
  return [...modes.entries()].map(([path, mode]) => ({ path, mode })).sort((a, b) => lockOrder(a.path, b.path));
}

export class LockTable {
  private readonly locks = new Map<string, RwLock>();

  /** Locks currently allocated (held or waited for). Unused locks are freed (¶59). */
  get size(): number {
    return this.locks.size;
  }

  /** Acquires every lock in `requests` in the total order; resolves with the release function. */
  async acquire(requests: readonly LockRequest[]): Promise<() => void> {
    const ordered = [...requests].sort((a, b) => lockOrder(a.path, b.path));
    for (let i = 1; i < ordered.length; i++) {
      if ((ordered[i - 1] as LockRequest).path === (ordered[i] as LockRequest).path) throw new Error(`lock set names ${(ordered[i] as LockRequest).path} twice`);
    }
    const held: LockRequest[] = [];
    for (const r of ordered) {
      const granted = this.tryTake(r);
      if (!granted) await new Promise<void>((grant) => this.lockFor(r.path).waiters.push({ mode: r.mode, grant }));
      held.push(r);
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (let i = held.length - 1; i >= 0; i--) this.release(held[i] as LockRequest);
    };
  }

  /**
   * Takes every lock at once if none is held in a conflicting mode or waited for; otherwise takes
   * none and returns undefined (the caller then waits with `acquire`).
   */
  tryAcquire(requests: readonly LockRequest[]): (() => void) | undefined {
    for (const r of requests) {
      const l = this.locks.get(r.path);
      if (l === undefined) continue;
      if (l.waiters.length > 0 || l.writer || (r.mode === 'write' && l.readers > 0)) return undefined;
    }
    for (const r of requests) if (!this.tryTake(r)) throw new Error(`M1: lock ${r.path} became unavailable during tryAcquire`);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (let i = requests.length - 1; i >= 0; i--) this.release(requests[i] as LockRequest);
    };
  }

  /** Holders and waiters of one path's lock (for tests and the dashboard). */
  inspect(path: string): { readers: number; writer: boolean; waiting: number } | undefined {
    const l = this.locks.get(path);
    return l === undefined ? undefined : { readers: l.readers, writer: l.writer, waiting: l.waiters.length };
  }

  private lockFor(path: string): RwLock {
    let l = this.locks.get(path);
    if (l === undefined) {
      l = { readers: 0, writer: false, waiters: new Deque(2) };
      this.locks.set(path, l);
    }
    return l;
  }

  private tryTake(r: LockRequest): boolean {
    const l = this.lockFor(r.path);
    if (l.waiters.length > 0 || l.writer) return false;
    if (r.mode === 'read') {
      l.readers++;
      return true;
    }
    if (l.readers > 0) return false;
    l.writer = true;
    return true;
  }

  private release(r: LockRequest): void {
    const l = this.locks.get(r.path);
    if (l === undefined) throw new Error(`release of unheld lock ${r.path}`);
    if (r.mode === 'read') {
      if (l.readers <= 0) throw new Error(`read lock ${r.path} released more often than taken`);
      l.readers--;
    } else {
      if (!l.writer) throw new Error(`write lock ${r.path} released but not held`);
      l.writer = false;
    }
    // Grant waiters in FIFO order: one writer, or every reader up to the next writer.
    for (;;) {
      const next = l.waiters.peek();
      if (next === undefined) break;
      if (next.mode === 'write') {
        if (l.readers > 0 || l.writer) break;
        l.waiters.shift();
        l.writer = true;
        next.grant();
        break;
      }
      if (l.writer) break;
      l.waiters.shift();
      l.readers++;
      next.grant();
    }
    if (l.readers === 0 && !l.writer && l.waiters.length === 0) this.locks.delete(r.path);
  }
}
