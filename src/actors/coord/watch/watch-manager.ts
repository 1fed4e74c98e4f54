import { EventType, WatcherType } from '../protocol.js';
import { parentOf } from '../tree/path.js';
import type { TreeEvent } from '../tree/txn.js';

/**
 * Watches registered on one server, per session (ZooKeeper's WatchManager pair). One-time data
 * watches (getData, and exists whether or not the node exists) and child watches (getChildren)
 * are removed when they fire (W1); persistent watches (addWatch mode 0) fire for the node's data,
 * creation, deletion and children; persistent recursive ones (mode 1) fire for the node and every
 * descendant but not for child-list changes, and neither kind is removed by firing (W2). A
 * session gets at most one event per change even when several of its watches match (W1).
 */
export type WatchKind = 'data' | 'child' | 'persistent' | 'recursive';

export interface Delivery {
  readonly sessionId: bigint;
  readonly type: number;
  readonly path: string;
}

export class WatchManager {
  private readonly tables: Record<WatchKind, Map<string, Set<bigint>>> = {
    data: new Map(),
    child: new Map(),
    persistent: new Map(),
    recursive: new Map(),
  };
  private readonly perSession = new Map<bigint, number>();

  add(kind: WatchKind, path: string, sessionId: bigint): void {
    const table = this.tables[kind];
    let set = table.get(path);
    if (!set) table.set(path, (set = new Set()));
    if (!set.has(sessionId)) {
      set.add(sessionId);
      this.perSession.set(sessionId, (this.perSession.get(sessionId) ?? 0) + 1);
    }
  }

  countOf(sessionId: bigint): number {
    return this.perSession.get(sessionId) ?? 0;
  }

  get total(): number {
    let n = 0;
    for (const t of Object.values(this.tables)) for (const s of t.values()) n += s.size;
    return n;
  }

  has(kind: WatchKind, path: string, sessionId: bigint): boolean {
    return this.tables[kind].get(path)?.has(sessionId) ?? false;
  }

  private take(kind: WatchKind, path: string, sessionId: bigint): boolean {
    const set = this.tables[kind].get(path);
    if (!set?.delete(sessionId)) return false;
    if (set.size === 0) this.tables[kind].delete(path);
    const n = (this.perSession.get(sessionId) ?? 1) - 1;
    if (n <= 0) this.perSession.delete(sessionId);
    else this.perSession.set(sessionId, n);
    return true;
  }

  private kindsFor(type: number): WatchKind[] {
    if (type === WatcherType.children) return ['child', 'persistent'];
    if (type === WatcherType.data) return ['data', 'persistent'];
    return ['data', 'child', 'persistent', 'recursive'];
  }

  /** removeWatches: true when something was removed (else the caller answers NOWATCHER). */
  remove(path: string, type: number, sessionId: bigint): boolean {
    let removed = false;
    for (const k of this.kindsFor(type)) removed = this.take(k, path, sessionId) || removed;
    return removed;
  }

  /** checkWatches: whether a watch of that type exists. */
  check(path: string, type: number, sessionId: bigint): boolean {
    return this.kindsFor(type).some((k) => this.has(k, path, sessionId));
  }

  /** Drops every watch of a closed session. */
  removeSession(sessionId: bigint): void {
    for (const kind of Object.keys(this.tables) as WatchKind[]) {
      for (const [path, set] of this.tables[kind]) {
        if (set.delete(sessionId) && set.size === 0) this.tables[kind].delete(path);
      }
    }
    this.perSession.delete(sessionId);
  }

  /** The events one tree change delivers, with one-time watches consumed (W1, W2). */
  trigger(ev: TreeEvent): Delivery[] {
    const out: Delivery[] = [];
    const seen = new Set<bigint>();
    const deliver = (sessionId: bigint): void => {
      if (seen.has(sessionId)) return;
      seen.add(sessionId);
      out.push({ sessionId, type: ev.type, path: ev.path });
    };
    const fireOnce = (kind: WatchKind): void => {
      const set = this.tables[kind].get(ev.path);
      if (!set) return;
      for (const id of [...set]) {
        this.take(kind, ev.path, id);
        deliver(id);
      }
    };
    switch (ev.type) {
      case EventType.NodeCreated:
      case EventType.NodeDataChanged:
        fireOnce('data');
        break;
      case EventType.NodeDeleted:
        fireOnce('data');
        fireOnce('child');
        break;
      case EventType.NodeChildrenChanged:
        fireOnce('child');
        break;
    }
    for (const id of this.tables.persistent.get(ev.path) ?? []) deliver(id);
    if (ev.type !== EventType.NodeChildrenChanged && this.tables.recursive.size > 0) {
      for (let p = ev.path; ; p = parentOf(p)) {
        for (const id of this.tables.recursive.get(p) ?? []) deliver(id);
        if (p === '/') break;
      }
    }
    return out;
  }

  /** The session's watches by kind (for 4lw and tests). */
  watchesOf(sessionId: bigint): Record<WatchKind, string[]> {
    const out: Record<WatchKind, string[]> = { data: [], child: [], persistent: [], recursive: [] };
    for (const kind of Object.keys(this.tables) as WatchKind[]) {
      for (const [path, set] of this.tables[kind]) if (set.has(sessionId)) out[kind].push(path);
    }
    return out;
  }
}
