import { EventType, type Acl, type Stat } from '../protocol.js';
import { Code } from '../errors.js';
import { OPEN_ACL_UNSAFE } from './acl.js';
import { baseName, childPath, parentOf } from './path.js';
import { nodeKind, type NodeKind } from './node-kind.js';
import type { CoordTxn, TreeEvent, TxnResult } from './txn.js';

/**
 * The znode tree: the replicated state machine of the coordination service (ZooKeeper's
 * DataTree). Pure: no clock, no I/O. It changes only through `apply`, in zxid order (T7), and
 * reports the watch triggers of each change so every server fires its own clients' watches.
 */

interface MutableStat {
  czxid: number;
  /** Note: `cversion` here counts child creations; `statOf` reports creations + deletions. */
  mzxid: number;
  ctime: number;
  mtime: number;
  version: number;
  cversion: number;
  aversion: number;
  ephemeralOwner: bigint;
  pzxid: number;
}

export interface ZNode {
  /** null when created or set with a null buffer (clients read it back as null). */
  data: Uint8Array | null;
  acl: readonly Acl[];
  readonly stat: MutableStat;
  readonly children: Set<string>;
}

/** A snapshot: plain msgpack-encodable data (state-machine.ts turns it into bytes). */
export interface TreeSnapshot {
  readonly lastZxid: number;
  readonly nodes: readonly { path: string; data: Uint8Array | null; acl: readonly Acl[]; stat: Omit<Stat, 'dataLength' | 'numChildren'> }[];
  readonly sessions: readonly { sessionId: bigint; timeoutMs: number; passwd: Uint8Array }[];
}

export interface SessionRecord {
  readonly timeoutMs: number;
  readonly passwd: Uint8Array;
}

const EMPTY = new Uint8Array(0);

function freshStat(zxid: number, time: number, ephemeralOwner: bigint): MutableStat {
  return { czxid: zxid, mzxid: zxid, ctime: time, mtime: time, version: 0, cversion: 0, aversion: 0, ephemeralOwner, pzxid: zxid };
}

export class DataTree {
  private readonly nodes = new Map<string, ZNode>();
  /** Ephemeral paths per owning session (invariant S4). */
  private readonly ephemerals = new Map<bigint, Set<string>>();
  /** Containers and TTL nodes, for the leader's periodic check (tree/prepare.ts `reapable`). */
  private readonly extended = new Set<string>();
  /** Live sessions: part of the replicated state (ZooKeeper keeps them in ZKDatabase). */
  readonly sessions = new Map<bigint, SessionRecord>();
  private lastZxidValue = 0;
  private dataBytes = 0;

  constructor() {
    this.nodes.set('/', { data: EMPTY, acl: OPEN_ACL_UNSAFE, stat: freshStat(0, 0, 0n), children: new Set() });
    // ZooKeeper's system subtree, which clients see in `ls /`.
    for (const p of ['/zookeeper', '/zookeeper/quota', '/zookeeper/config']) {
      this.nodes.set(p, { data: EMPTY, acl: OPEN_ACL_UNSAFE, stat: freshStat(0, 0, 0n), children: new Set() });
      this.nodes.get(parentOf(p))?.children.add(baseName(p));
    }
  }

  /** The zxid of the last transaction applied. */
  get lastZxid(): number {
    return this.lastZxidValue;
  }

  get nodeCount(): number {
    return this.nodes.size;
  }

  get approximateDataBytes(): number {
    return this.dataBytes;
  }

  get ephemeralCount(): number {
    let n = 0;
    for (const s of this.ephemerals.values()) n += s.size;
    return n;
  }

  getNode(path: string): ZNode | undefined {
    return this.nodes.get(path);
  }

  /**
   * The stat clients see. The node stores in `cversion` the number of children ever created
   * (the counter sequential names come from, T4); clients see the number of child-list changes,
   * creations plus deletions, which is 2 * created - present (ZooKeeper's DataNode reports the
   * same). dataLength and numChildren are derived.
   */
  statOf(node: ZNode): Stat {
    const n = node.children.size;
    return { ...node.stat, cversion: node.stat.cversion * 2 - n, dataLength: node.data?.length ?? 0, numChildren: n };
  }

  ephemeralsOf(sessionId: bigint): readonly string[] {
    return [...(this.ephemerals.get(sessionId) ?? [])];
  }

  /** All containers and TTL nodes (for the leader's reaper). */
  extendedNodes(): readonly string[] {
    return [...this.extended];
  }

  /** Number of nodes below `path` (getAllChildrenNumber). */
  descendantCount(path: string): number {
    const node = this.nodes.get(path);
    if (!node) return 0;
    let n = 0;
    for (const c of node.children) n += 1 + this.descendantCount(childPath(path, c));
    return n;
  }

  /**
   * Applies one committed transaction. Re-applying a transaction the tree already reflects (a
   * zxid at or below a node's own zxids, as after a fuzzy snapshot) changes nothing (T8).
   */
  apply(txn: CoordTxn, zxid: number, time: number): { result: TxnResult; events: TreeEvent[] } {
    const events: TreeEvent[] = [];
    const result = this.applyOne(txn, zxid, time, events);
    if (zxid > this.lastZxidValue) this.lastZxidValue = zxid;
    return { result, events };
  }

  private applyOne(txn: CoordTxn, zxid: number, time: number, events: TreeEvent[]): TxnResult {
    switch (txn.type) {
      case 'create':
        return this.create(txn, zxid, time, events);
      case 'delete':
        return this.remove(txn.path, zxid, events);
      case 'setData': {
        const node = this.nodes.get(txn.path);
        if (!node) return { type: 'error', err: Code.NONODE };
        // Skip only what the node already reflects (T8): a later change, or this one (a multi
        // shares one zxid among its ops, so within it the version decides).
        const reflected = node.stat.mzxid > zxid || (node.stat.mzxid === zxid && node.stat.version >= txn.version);
        if (!reflected) {
          this.dataBytes += (txn.data?.length ?? 0) - (node.data?.length ?? 0);
          node.data = txn.data;
          node.stat.version = txn.version;
          node.stat.mzxid = zxid;
          node.stat.mtime = time;
          events.push({ type: EventType.NodeDataChanged, path: txn.path, acl: node.acl });
        }
        return { type: 'setData', stat: this.statOf(node) };
      }
      case 'setACL': {
        const node = this.nodes.get(txn.path);
        if (!node) return { type: 'error', err: Code.NONODE };
        node.acl = txn.acl;
        node.stat.aversion = txn.version;
        return { type: 'setACL', stat: this.statOf(node) };
      }
      case 'check':
        return { type: 'check' };
      case 'multi':
        return { type: 'multi', results: txn.ops.map((op) => this.applyOne(op, zxid, time, events)) };
      case 'error':
        return { type: 'error', err: txn.err };
      case 'createSession':
        this.sessions.set(txn.sessionId, { timeoutMs: txn.timeoutMs, passwd: txn.passwd });
        return { type: 'createSession' };
      case 'closeSession': {
        const deleted: string[] = [];
        // Deepest first, so an ephemeral never outlives ... (ephemerals have no children; order is for determinism).
        for (const p of [...(this.ephemerals.get(txn.sessionId) ?? [])].sort()) {
          if (this.remove(p, zxid, events).type === 'delete') deleted.push(p);
        }
        this.ephemerals.delete(txn.sessionId);
        this.sessions.delete(txn.sessionId);
        return { type: 'closeSession', deleted };
      }
      default: {
        const never: never = txn;
        throw new Error(`unknown txn ${JSON.stringify(never)}`);
      }
    }
  }

  private create(txn: Extract<CoordTxn, { type: 'create' }>, zxid: number, time: number, events: TreeEvent[]): TxnResult {
    const parentPath = parentOf(txn.path);
    const parent = this.nodes.get(parentPath);
    if (!parent) return { type: 'error', err: Code.NONODE };
    const existing = this.nodes.get(txn.path);
    if (existing) {
      // Replay over a fuzzy snapshot: the child is there, but the parent's cversion may not be (ZooKeeper does the same fix-up).
      if (txn.parentCVersion > parent.stat.cversion) {
        parent.stat.cversion = txn.parentCVersion;
        parent.stat.pzxid = zxid;
      }
      return { type: 'error', err: Code.NODEEXISTS };
    }
    const node: ZNode = { data: txn.data, acl: txn.acl, stat: freshStat(zxid, time, txn.ephemeralOwner), children: new Set() };
    this.nodes.set(txn.path, node);
    this.dataBytes += txn.data?.length ?? 0;
    parent.children.add(baseName(txn.path));
    parent.stat.cversion = txn.parentCVersion;
    parent.stat.pzxid = zxid;
    const kind: NodeKind = nodeKind(txn.ephemeralOwner);
    if (kind === 'ephemeral') {
      let set = this.ephemerals.get(txn.ephemeralOwner);
      if (!set) this.ephemerals.set(txn.ephemeralOwner, (set = new Set()));
      set.add(txn.path);
    } else if (kind !== 'persistent') {
      this.extended.add(txn.path);
    }
    events.push({ type: EventType.NodeCreated, path: txn.path, acl: node.acl }, { type: EventType.NodeChildrenChanged, path: parentPath, acl: parent.acl });
    return { type: 'create', path: txn.path, stat: this.statOf(node) };
  }

  private remove(path: string, zxid: number, events: TreeEvent[]): TxnResult {
    const node = this.nodes.get(path);
    if (!node) return { type: 'error', err: Code.NONODE };
    const parentPath = parentOf(path);
    const parent = this.nodes.get(parentPath);
    if (!parent) throw new Error(`node ${path} has no parent`);
    this.nodes.delete(path);
    this.dataBytes -= node.data?.length ?? 0;
    parent.children.delete(baseName(path));
    // The stored cversion counts creations only; the reported one counts this delete (statOf).
    parent.stat.pzxid = zxid;
    const owner = node.stat.ephemeralOwner;
    const kind = nodeKind(owner);
    if (kind === 'ephemeral') this.ephemerals.get(owner)?.delete(path);
    else if (kind !== 'persistent') this.extended.delete(path);
    events.push({ type: EventType.NodeDeleted, path, acl: node.acl }, { type: EventType.NodeChildrenChanged, path: parentPath, acl: parent.acl });
    return { type: 'delete' };
  }

  serialize(): TreeSnapshot {
    const nodes: TreeSnapshot['nodes'][number][] = [];
    for (const [path, n] of this.nodes) nodes.push({ path, data: n.data, acl: n.acl, stat: { ...n.stat } });
    const sessions = [...this.sessions].map(([sessionId, s]) => ({ sessionId, timeoutMs: s.timeoutMs, passwd: s.passwd }));
    return { lastZxid: this.lastZxidValue, nodes, sessions };
  }

  static deserialize(snap: TreeSnapshot): DataTree {
    const t = new DataTree();
    t.nodes.clear();
    // Parents before children: sort by depth.
    const sorted = [...snap.nodes].sort((a, b) => a.path.split('/').length - b.path.split('/').length);
    for (const n of sorted) {
      // Codecs may hand 64-bit integers back as bigints (msgpack with useBigInt64): normalise.
      const s = n.stat;
      const stat: MutableStat = {
        czxid: Number(s.czxid),
        mzxid: Number(s.mzxid),
        ctime: Number(s.ctime),
        mtime: Number(s.mtime),
        version: Number(s.version),
        cversion: Number(s.cversion),
        aversion: Number(s.aversion),
        ephemeralOwner: BigInt(s.ephemeralOwner),
        pzxid: Number(s.pzxid),
      };
      t.nodes.set(n.path, { data: n.data, acl: n.acl, stat, children: new Set() });
      t.dataBytes += n.data?.length ?? 0;
      if (n.path !== '/') {
        const parent = t.nodes.get(parentOf(n.path));
        if (!parent) throw new Error(`snapshot node ${n.path} has no parent`);
        parent.children.add(baseName(n.path));
      }
      const kind = nodeKind(stat.ephemeralOwner);
      if (kind === 'ephemeral') {
        let set = t.ephemerals.get(stat.ephemeralOwner);
        if (!set) t.ephemerals.set(stat.ephemeralOwner, (set = new Set()));
        set.add(n.path);
      } else if (kind !== 'persistent') t.extended.add(n.path);
    }
    for (const s of snap.sessions) t.sessions.set(BigInt(s.sessionId), { timeoutMs: Number(s.timeoutMs), passwd: s.passwd });
    t.lastZxidValue = Number(snap.lastZxid);
    return t;
  }

  /** Structural self-check (STYLE.md "Assertions and invariants"): T2, T3, S4. */
  invariants(): void {
    for (const [path, node] of this.nodes) {
      if (path !== '/') {
        const parent = this.nodes.get(parentOf(path));
        if (!parent || !parent.children.has(baseName(path))) throw new Error(`T2: ${path} is not listed by its parent`);
        if (nodeKind(parent.stat.ephemeralOwner) === 'ephemeral') throw new Error(`T3: ephemeral ${parentOf(path)} has a child`);
      }
      for (const c of node.children) if (!this.nodes.has(childPath(path, c))) throw new Error(`T2: ${path} lists a missing child ${c}`);
      if (nodeKind(node.stat.ephemeralOwner) === 'ephemeral' && !this.ephemerals.get(node.stat.ephemeralOwner)?.has(path)) {
        throw new Error(`S4: ephemeral ${path} is not indexed under its session`);
      }
    }
  }
}
