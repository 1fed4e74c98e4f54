import { EventType, WatcherType } from '../protocol.js';
import { parentOf } from '../tree/path.js';
import type { TreeEvent } from '../tree/txn.js';

/**
 * Watches registered on one server, per session, as ZooKeeper keeps them: two tables — data
 * watches (getData, exists) and child watches (getChildren) — each mapping a path to the sessions
 * watching it and the mode of each watch:
 *
 * - `standard`: one-time; removed when it fires (W1).
 * - `persistent` (addWatch mode 0, in both tables): fires for the node's creation, deletion, data
 *   and child list, and stays (W2).
 * - `recursive` (addWatch mode 1, in both tables): fires for the node and every descendant, but
 *   never for child-list changes, and stays (W2).
 *
 * A session has one mode per (table, path): the latest registration wins, as in ZooKeeper (a
 * getData watch on a path with a persistent watch makes the data side one-time again). A session
 * gets at most one event per change however many of its watches match (W1).
 */
export type WatchMode = 'standard' | 'persistent' | 'recursive';
type Table = Map<string, Map<bigint, WatchMode>>;

export interface Delivery {
  readonly sessionId: bigint;
  readonly type: number;
  readonly path: string;
}

export class WatchManager {
  private readonly data: Table = new Map();
  private readonly child: Table = new Map();
  private readonly perSession = new Map<bigint, number>();
  private recursiveCount = 0;

  private set(table: Table, path: string, sessionId: bigint, mode: WatchMode): void {
    let m = table.get(path);
    if (!m) table.set(path, (m = new Map()));
    const old = m.get(sessionId);
    if (old === undefined) this.perSession.set(sessionId, (this.perSession.get(sessionId) ?? 0) + 1);
    if (old === 'recursive') this.recursiveCount--;
    if (mode === 'recursive') this.recursiveCount++;
    m.set(sessionId, mode);
  }

  private unset(table: Table, path: string, sessionId: bigint): boolean {
    const m = table.get(path);
    const old = m?.get(sessionId);
    if (!m || old === undefined) return false;
    m.delete(sessionId);
    if (m.size === 0) table.delete(path);
    if (old === 'recursive') this.recursiveCount--;
    const n = (this.perSession.get(sessionId) ?? 1) - 1;
    if (n <= 0) this.perSession.delete(sessionId);
    else this.perSession.set(sessionId, n);
    return true;
  }

  /** A one-time data watch (getData, exists). */
  addData(path: string, sessionId: bigint): void {
    this.set(this.data, path, sessionId, 'standard');
  }

  /** A one-time child watch (getChildren). */
  addChild(path: string, sessionId: bigint): void {
    this.set(this.child, path, sessionId, 'standard');
  }

  /** addWatch: a persistent or persistent-recursive watch, in both tables. */
  addPersistent(path: string, sessionId: bigint, recursive: boolean): void {
    const mode: WatchMode = recursive ? 'recursive' : 'persistent';
    this.set(this.data, path, sessionId, mode);
    this.set(this.child, path, sessionId, mode);
  }

  countOf(sessionId: bigint): number {
    return this.perSession.get(sessionId) ?? 0;
  }

  get total(): number {
    let n = 0;
    for (const t of [this.data, this.child]) for (const m of t.values()) n += m.size;
    return n;
  }

  private tablesFor(type: number): Table[] {
    if (type === WatcherType.children) return [this.child];
    if (type === WatcherType.data) return [this.data];
    return [this.data, this.child];
  }

  /** removeWatches: true when something was removed (else the caller answers NOWATCHER). */
  remove(path: string, type: number, sessionId: bigint): boolean {
    let removed = false;
    for (const t of this.tablesFor(type)) removed = this.unset(t, path, sessionId) || removed;
    return removed;
  }

  /** checkWatches: whether a watch of that type exists. */
  check(path: string, type: number, sessionId: bigint): boolean {
    return this.tablesFor(type).some((t) => t.get(path)?.has(sessionId) ?? false);
  }

  /** Drops every watch of a closed session. */
  removeSession(sessionId: bigint): void {
    for (const t of [this.data, this.child]) {
      for (const [path, m] of t) if (m.has(sessionId)) this.unset(t, path, sessionId);
    }
    this.perSession.delete(sessionId);
  }

  /** One table's watchers for an event at `path` (ZooKeeper's WatchManager.triggerWatch). */
  private fire(table: Table, type: number, path: string, into: Set<bigint>, suppress?: Set<bigint>): void {
    const walkUp = this.recursiveCount > 0;
    for (let p = path; ; p = parentOf(p)) {
      const m = table.get(p);
      if (m) {
        for (const [sessionId, mode] of [...m]) {
          if (mode === 'recursive') {
            if (type !== EventType.NodeChildrenChanged) into.add(sessionId);
          } else if (p === path) {
            into.add(sessionId);
            if (mode === 'standard') this.unset(table, p, sessionId);
          }
        }
      }
      if (!walkUp || p === '/') break;
    }
    if (suppress) for (const s of suppress) into.delete(s);
  }

  /** The events one tree change delivers, one per session, with one-time watches consumed. */
  trigger(ev: TreeEvent): Delivery[] {
    const sessions = new Set<bigint>();
    switch (ev.type) {
      case EventType.NodeCreated:
      case EventType.NodeDataChanged:
        this.fire(this.data, ev.type, ev.path, sessions);
        break;
      case EventType.NodeDeleted: {
        this.fire(this.data, ev.type, ev.path, sessions);
        const more = new Set<bigint>();
        this.fire(this.child, ev.type, ev.path, more, sessions);
        for (const s of more) sessions.add(s);
        break;
      }
      case EventType.NodeChildrenChanged:
        this.fire(this.child, ev.type, ev.path, sessions);
        break;
    }
    return [...sessions].map((sessionId) => ({ sessionId, type: ev.type, path: ev.path }));
  }

  /** The session's watches (for tests and diagnostics). */
  watchesOf(sessionId: bigint): { data: Record<string, WatchMode>; child: Record<string, WatchMode> } {
    const pick = (t: Table): Record<string, WatchMode> => {
      const out: Record<string, WatchMode> = {};
      for (const [p, m] of t) {
        const mode = m.get(sessionId);
        if (mode) out[p] = mode;
      }
      return out;
    };
    return { data: pick(this.data), child: pick(this.child) };
  }
}
