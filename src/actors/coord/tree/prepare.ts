import { Code } from '../errors.js';
import { CreateFlag, OpCode, Perm, type Acl, type Request, type WriteOp } from '../protocol.js';
import type { CoordConfig } from '../config.js';
import { aclAllows, fixupAcl, type Principal } from './acl.js';
import type { DataTree } from './data-tree.js';
import { CONTAINER_OWNER, nodeKind, ttlOf, ttlOwner } from './node-kind.js';
import { isSpecialPath, parentOf, pathError } from './path.js';
import type { CoordTxn } from './txn.js';

/**
 * Request preparation, the leader's step before a write is proposed (ZooKeeper's
 * PrepRequestProcessor): validate the request against the tree *plus the changes already
 * prepared but not yet applied* (T9), pick sequential names, versions and the ephemeral owner,
 * and make a multi all-or-nothing. A failed request becomes an `error` transaction: it still
 * takes a zxid, as ZooKeeper's does.
 */

/** What prepare needs to know about a node. */
export interface NodeRecord {
  readonly version: number;
  /** Children ever created (the stored cversion, the sequential counter). */
  readonly cversion: number;
  readonly aversion: number;
  readonly ephemeralOwner: bigint;
  readonly acl: readonly Acl[];
  readonly childCount: number;
}

interface Lookup {
  get(path: string): NodeRecord | undefined;
}

/**
 * The tree as it will be once every prepared transaction is applied: the tree plus an overlay of
 * outstanding changes (ZooKeeper's outstandingChanges), each tagged with its zxid and dropped when
 * the tree has applied that zxid.
 */
export class PrepView implements Lookup {
  private readonly overlay = new Map<string, { zxid: number; rec: NodeRecord | null }>();
  /** Ephemerals created by prepared, unapplied transactions, per session. */
  private readonly pendingEphemerals = new Map<bigint, Map<string, number>>();

  constructor(readonly tree: DataTree) {}

  get(path: string): NodeRecord | undefined {
    const o = this.overlay.get(path);
    if (o) return o.rec ?? undefined;
    const n = this.tree.getNode(path);
    if (!n) return undefined;
    return { version: n.stat.version, cversion: n.stat.cversion, aversion: n.stat.aversion, ephemeralOwner: n.stat.ephemeralOwner, acl: n.acl, childCount: n.children.size };
  }

  put(path: string, rec: NodeRecord | null, zxid: number): void {
    this.overlay.set(path, { zxid, rec });
    if (rec && nodeKind(rec.ephemeralOwner) === 'ephemeral') {
      let m = this.pendingEphemerals.get(rec.ephemeralOwner);
      if (!m) this.pendingEphemerals.set(rec.ephemeralOwner, (m = new Map()));
      m.set(path, zxid);
    }
  }

  /** The session's ephemerals as they will be (tree plus outstanding changes). */
  ephemeralsOf(sessionId: bigint): string[] {
    const out = new Set(this.tree.ephemeralsOf(sessionId));
    for (const p of this.pendingEphemerals.get(sessionId)?.keys() ?? []) out.add(p);
    return [...out].filter((p) => this.get(p)?.ephemeralOwner === sessionId);
  }

  /** Forget overlay entries the tree has applied (call after each apply). */
  applied(zxid: number): void {
    for (const [p, o] of this.overlay) if (o.zxid <= zxid) this.overlay.delete(p);
    for (const [s, m] of this.pendingEphemerals) {
      for (const [p, z] of m) if (z <= zxid) m.delete(p);
      if (m.size === 0) this.pendingEphemerals.delete(s);
    }
  }

  get outstandingCount(): number {
    return this.overlay.size;
  }
}

/** A scratch layer for a multi: its changes reach the view only if every op succeeds. */
class Scratch implements Lookup {
  readonly changes = new Map<string, NodeRecord | null>();
  constructor(private readonly base: Lookup) {}
  get(path: string): NodeRecord | undefined {
    if (this.changes.has(path)) return this.changes.get(path) ?? undefined;
    return this.base.get(path);
  }
  put(path: string, rec: NodeRecord | null): void {
    this.changes.set(path, rec);
  }
}

export interface PrepContext {
  readonly sessionId: bigint;
  readonly principal: Principal;
  readonly zxid: number;
  readonly config: CoordConfig;
}

class PrepFailure {
  constructor(readonly err: number) {}
}

function fail(err: number): never {
  throw new PrepFailure(err);
}

function checkVersion(expected: number, current: number): void {
  if (expected !== -1 && expected !== current) fail(Code.BADVERSION);
}

function checkAcl(rec: NodeRecord, perm: number, who: Principal): void {
  if (!aclAllows(rec.acl, perm, who)) fail(Code.NOAUTH);
}

function sequenceSuffix(cversion: number): string {
  // ZooKeeper formats the parent's cversion with %010d.
  return cversion < 0 ? `-${String(-cversion).padStart(9, '0')}` : String(cversion).padStart(10, '0');
}

/** Prepares one write op against `layer`, recording its effect there. */
function prepOp(op: WriteOp | Extract<Request, { op: 'setACL' }>, ctx: PrepContext, layer: Scratch): CoordTxn {
  switch (op.op) {
    case 'create': {
      const flags = op.flags;
      const ttlFlag = flags === CreateFlag.persistentWithTtl || flags === CreateFlag.persistentSequentialWithTtl;
      if (flags < 0 || flags > 6) fail(Code.BADARGUMENTS);
      if (op.opCode === OpCode.createTTL || ttlFlag) {
        if (!ctx.config.ttlNodesEnabled) fail(Code.UNIMPLEMENTED);
        if (!ttlFlag || op.opCode !== OpCode.createTTL) fail(Code.BADARGUMENTS);
        const ttl = op.ttl ?? 0;
        if (!(ttl > 0 && ttl <= ctx.config.ttlMaxMs)) fail(Code.BADARGUMENTS);
      }
      if (op.opCode === OpCode.createContainer && flags !== CreateFlag.container) fail(Code.BADARGUMENTS);
      const sequential = flags === CreateFlag.persistentSequential || flags === CreateFlag.ephemeralSequential || flags === CreateFlag.persistentSequentialWithTtl;
      // Invalid paths and data over jute.maxbuffer are ZooKeeper's BADARGUMENTS (C4, C5).
      if (pathError(op.path, sequential) !== undefined) fail(Code.BADARGUMENTS);
      if ((op.data?.length ?? 0) > ctx.config.maxBufferBytes) fail(Code.BADARGUMENTS);
      const parentPath = parentOf(op.path);
      const parent = layer.get(parentPath);
      if (!parent) fail(Code.NONODE);
      checkAcl(parent, Perm.CREATE, ctx.principal);
      const acl = fixupAcl(op.acl, ctx.principal);
      if (!acl) fail(Code.INVALIDACL);
      const path = sequential ? `${op.path}${sequenceSuffix(parent.cversion)}` : op.path;
      if (pathError(path) !== undefined) fail(Code.BADARGUMENTS);
      if (layer.get(path)) fail(Code.NODEEXISTS);
      if (nodeKind(parent.ephemeralOwner) === 'ephemeral') fail(Code.NOCHILDRENFOREPHEMERALS);
      const ephemeralOwner =
        flags === CreateFlag.ephemeral || flags === CreateFlag.ephemeralSequential
          ? ctx.sessionId
          : flags === CreateFlag.container
            ? CONTAINER_OWNER
            : ttlFlag
              ? ttlOwner(op.ttl ?? 0)
              : 0n;
      const parentCVersion = parent.cversion + 1;
      layer.put(parentPath, { ...parent, cversion: parentCVersion, childCount: parent.childCount + 1 });
      layer.put(path, { version: 0, cversion: 0, aversion: 0, ephemeralOwner, acl, childCount: 0 });
      return { type: 'create', path, data: op.data, acl, ephemeralOwner, parentCVersion };
    }
    case 'delete': {
      if (pathError(op.path) !== undefined || isSpecialPath(op.path)) fail(Code.BADARGUMENTS);
      const parentPath = parentOf(op.path);
      const parent = layer.get(parentPath);
      if (!parent) fail(Code.NONODE);
      checkAcl(parent, Perm.DELETE, ctx.principal);
      const node = layer.get(op.path);
      if (!node) fail(Code.NONODE);
      checkVersion(op.version, node.version);
      if (node.childCount > 0) fail(Code.NOTEMPTY);
      // A delete does not advance the stored cversion (creations only; DataTree.statOf).
      layer.put(parentPath, { ...parent, childCount: parent.childCount - 1 });
      layer.put(op.path, null);
      return { type: 'delete', path: op.path };
    }
    case 'setData': {
      if (pathError(op.path) !== undefined) fail(Code.BADARGUMENTS);
      if ((op.data?.length ?? 0) > ctx.config.maxBufferBytes) fail(Code.BADARGUMENTS);
      const node = layer.get(op.path);
      if (!node) fail(Code.NONODE);
      checkAcl(node, Perm.WRITE, ctx.principal);
      checkVersion(op.version, node.version);
      const version = node.version + 1;
      layer.put(op.path, { ...node, version });
      return { type: 'setData', path: op.path, data: op.data, version };
    }
    case 'setACL': {
      if (pathError(op.path) !== undefined) fail(Code.BADARGUMENTS);
      const node = layer.get(op.path);
      if (!node) fail(Code.NONODE);
      checkAcl(node, Perm.ADMIN, ctx.principal);
      const acl = fixupAcl(op.acl, ctx.principal);
      if (!acl) fail(Code.INVALIDACL);
      checkVersion(op.version, node.aversion);
      const version = node.aversion + 1;
      layer.put(op.path, { ...node, acl, aversion: version });
      return { type: 'setACL', path: op.path, acl, version };
    }
    case 'check': {
      if (pathError(op.path) !== undefined) fail(Code.BADARGUMENTS);
      const node = layer.get(op.path);
      if (!node) fail(Code.NONODE);
      checkAcl(node, Perm.READ, ctx.principal);
      checkVersion(op.version, node.version);
      return { type: 'check', path: op.path };
    }
    default: {
      const never: never = op;
      throw new Error(`not a write op: ${JSON.stringify(never)}`);
    }
  }
}

export type PreparableRequest = WriteOp | Extract<Request, { op: 'setACL' | 'multi' }>;

/**
 * Turns a write request into the transaction to propose at `ctx.zxid`, and records its effect in
 * the view. Never throws for a bad request: the failure is an `error` transaction (or, for a
 * multi, a multi of per-op errors: the failed op's code, 0 for the ops before it and
 * RUNTIMEINCONSISTENCY for those after, as ZooKeeper answers — invariant T5).
 */
export function prepare(req: PreparableRequest, ctx: PrepContext, view: PrepView): CoordTxn {
  if (req.op === 'multi') {
    const scratch = new Scratch(view);
    const txns: CoordTxn[] = [];
    for (let i = 0; i < req.ops.length; i++) {
      try {
        txns.push(prepOp(req.ops[i] as WriteOp, ctx, scratch));
      } catch (e) {
        if (!(e instanceof PrepFailure)) throw e;
        return {
          type: 'multi',
          ops: req.ops.map((_, j) => ({ type: 'error', err: j < i ? Code.OK : j === i ? e.err : Code.RUNTIMEINCONSISTENCY })),
        };
      }
    }
    for (const [p, rec] of scratch.changes) view.put(p, rec, ctx.zxid);
    return { type: 'multi', ops: txns };
  }
  const scratch = new Scratch(view);
  try {
    const txn = prepOp(req, ctx, scratch);
    for (const [p, rec] of scratch.changes) view.put(p, rec, ctx.zxid);
    return txn;
  } catch (e) {
    if (!(e instanceof PrepFailure)) throw e;
    return { type: 'error', err: e.err };
  }
}

/** The closeSession transaction; marks the session's ephemerals deleted in the view. */
export function prepareCloseSession(sessionId: bigint, zxid: number, view: PrepView): CoordTxn {
  for (const p of view.ephemeralsOf(sessionId)) {
    const parentPath = parentOf(p);
    const parent = view.get(parentPath);
    if (parent) view.put(parentPath, { ...parent, childCount: parent.childCount - 1 }, zxid);
    view.put(p, null, zxid);
  }
  return { type: 'closeSession', sessionId };
}

/**
 * The containers and TTL nodes the leader should delete now (ZooKeeper's ContainerManager): a
 * container that has had children and has none left, and a childless TTL node not modified for
 * its TTL. Each becomes an ordinary delete, prepared (and re-checked) like any other (T10).
 */
export function reapable(tree: DataTree, now: number): string[] {
  const out: string[] = [];
  for (const path of tree.extendedNodes()) {
    const n = tree.getNode(path);
    if (!n || n.children.size > 0) continue;
    const kind = nodeKind(n.stat.ephemeralOwner);
    if (kind === 'container' && n.stat.cversion > 0) out.push(path);
    else if (kind === 'ttl' && now - n.stat.mtime > ttlOf(n.stat.ephemeralOwner)) out.push(path);
  }
  return out.sort();
}

