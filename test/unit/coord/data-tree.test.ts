/**
 * The data tree and request preparation, pure (README "Data model", invariants T1–T9): the
 * leader's prepare step over the tree plus outstanding changes, and apply on every server.
 */
import { describe, expect, it } from 'vitest';
import { coordConfig } from '../../../src/actors/coord/config.js';
import { Code } from '../../../src/actors/coord/errors.js';
import { CreateFlag, EventType, OpCode, Perm, type Acl, type Request } from '../../../src/actors/coord/protocol.js';
import { TreeStateMachine } from '../../../src/actors/coord/state-machine.js';
import { digestId, OPEN_ACL_UNSAFE, type Principal } from '../../../src/actors/coord/tree/acl.js';
import { CONTAINER_OWNER, nodeKind, ttlOf } from '../../../src/actors/coord/tree/node-kind.js';
import { pathError } from '../../../src/actors/coord/tree/path.js';
import { reapable, type PreparableRequest } from '../../../src/actors/coord/tree/prepare.js';
import type { CoordTxn, TxnResult } from '../../../src/actors/coord/tree/txn.js';

const config = coordConfig();
const anyone: Principal = { authIds: [], address: '10.0.0.1' };
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/** A leader of one: prepare then apply, as the standalone server does. */
class Harness {
  readonly sm = new TreeStateMachine(config);
  time = 1000;
  prepareOnly(req: PreparableRequest | { op: 'closeSession'; sessionId: bigint }, sessionId = 1n, who = anyone): { txn: CoordTxn; zxid: number } {
    const zxid = this.sm.lastZxid + 1 + this.pending;
    this.pending++;
    return { txn: this.sm.prepare(req, { sessionId, principal: who, zxid, config }), zxid };
  }
  pending = 0;
  /** Applies a transaction the leader made without prepare (createSession). */
  direct(txn: CoordTxn): void {
    this.sm.apply(txn, this.sm.lastZxid + 1, this.time);
  }
  apply(t: { txn: CoordTxn; zxid: number }): TxnResult {
    this.pending--;
    const r = this.sm.apply(t.txn, t.zxid, this.time).result;
    this.sm.tree.invariants();
    return r;
  }
  run(req: PreparableRequest | { op: 'closeSession'; sessionId: bigint }, sessionId = 1n, who = anyone): TxnResult {
    return this.apply(this.prepareOnly(req, sessionId, who));
  }
  create(path: string, flags = 0, data = 'd', sessionId = 1n, acl: readonly Acl[] = OPEN_ACL_UNSAFE, who = anyone, extra: Partial<Extract<Request, { op: 'create' }>> = {}): TxnResult {
    return this.run({ op: 'create', opCode: OpCode.create2, path, data: enc(data), acl, flags, ...extra }, sessionId, who);
  }
  stat(path: string) {
    const n = this.sm.tree.getNode(path);
    return n ? this.sm.tree.statOf(n) : undefined;
  }
}

const errOf = (r: TxnResult): number => (r.type === 'error' ? r.err : 0);

describe('paths (T1)', () => {
  it("accepts ZooKeeper's valid paths and rejects the rest with its reasons", () => {
    for (const ok of ['/', '/a', '/a/b.c', '/a/...', '/zookeeper/x', '/a/.b']) expect(pathError(ok), ok).toBeUndefined();
    for (const bad of ['', 'a', '/a/', '//a', '/a//b', '/a/./b', '/a/../b', '/.', '/a/..', '/a\u0000b', '/a\u0001', '/\ud800']) expect(pathError(bad), JSON.stringify(bad)).toBeDefined();
    // A sequential create validates the path with a digit appended: a trailing slash is a valid prefix.
    expect(pathError('/q/', true)).toBeUndefined();
  });

  it('an invalid path fails with BADARGUMENTS and changes nothing', () => {
    const h = new Harness();
    expect(errOf(h.create('/a//b'))).toBe(Code.BADARGUMENTS);
    expect(errOf(h.run({ op: 'delete', path: '/', version: -1 }))).toBe(Code.BADARGUMENTS);
    expect(errOf(h.run({ op: 'delete', path: '/zookeeper', version: -1 }))).toBe(Code.BADARGUMENTS);
    expect(h.sm.tree.nodeCount).toBe(4);
  });
});

describe('znodes, stats and versions', () => {
  it('a create fills the full stat; its parent records the child (cversion, pzxid, numChildren)', () => {
    const h = new Harness();
    const r = h.create('/a', 0, 'hello');
    expect(r).toMatchObject({ type: 'create', path: '/a', stat: { czxid: 1, mzxid: 1, pzxid: 1, ctime: 1000, mtime: 1000, version: 0, cversion: 0, aversion: 0, ephemeralOwner: 0n, dataLength: 5, numChildren: 0 } });
    // The root's /zookeeper child was never "created", so the root reports one change fewer than it has children (ZooKeeper's root shows cversion -1 when fresh).
    expect(h.stat('/')).toMatchObject({ cversion: 0, pzxid: 1, numChildren: 2 });
  });

  it('missing parent is NONODE, existing node NODEEXISTS, data over jute.maxbuffer BADARGUMENTS', () => {
    const h = new Harness();
    expect(errOf(h.create('/x/y'))).toBe(Code.NONODE);
    h.create('/x');
    expect(errOf(h.create('/x'))).toBe(Code.NODEEXISTS);
    expect(errOf(h.run({ op: 'create', opCode: 1, path: '/big', data: new Uint8Array(config.maxBufferBytes + 1), acl: OPEN_ACL_UNSAFE, flags: 0 }))).toBe(Code.BADARGUMENTS);
  });

  it('conditional setData and delete: -1 matches any version, a stale one is BADVERSION', () => {
    const h = new Harness();
    h.create('/v');
    expect(h.run({ op: 'setData', path: '/v', data: enc('1'), version: 0 })).toMatchObject({ type: 'setData', stat: { version: 1, mzxid: 2, czxid: 1 } });
    expect(errOf(h.run({ op: 'setData', path: '/v', data: enc('2'), version: 0 }))).toBe(Code.BADVERSION);
    expect(h.run({ op: 'setData', path: '/v', data: enc('3'), version: -1 })).toMatchObject({ stat: { version: 2 } });
    expect(errOf(h.run({ op: 'delete', path: '/v', version: 1 }))).toBe(Code.BADVERSION);
    expect(h.run({ op: 'delete', path: '/v', version: 2 })).toEqual({ type: 'delete' });
    expect(errOf(h.run({ op: 'delete', path: '/v', version: -1 }))).toBe(Code.NONODE);
  });

  it('a node with children cannot be deleted (NOTEMPTY)', () => {
    const h = new Harness();
    h.create('/p');
    h.create('/p/c');
    expect(errOf(h.run({ op: 'delete', path: '/p', version: -1 }))).toBe(Code.NOTEMPTY);
  });

  it('sequential names: a 10-digit counter from the parent cversion, which counts creations; clients see creations + deletions (T4)', () => {
    const h = new Harness();
    h.create('/q');
    expect(h.create('/q/n-', CreateFlag.persistentSequential)).toMatchObject({ path: '/q/n-0000000000' });
    h.create('/q/other');
    h.run({ op: 'delete', path: '/q/other', version: -1 });
    // Two creations so far, one deletion: the next name is 2, the reported cversion 3.
    expect(h.stat('/q')?.cversion).toBe(3);
    expect(h.create('/q/n-', CreateFlag.ephemeralSequential)).toMatchObject({ path: '/q/n-0000000002' });
    expect(h.create('/q/', CreateFlag.persistentSequential)).toMatchObject({ path: '/q/0000000003' });
  });

  it('pipelined requests are validated against changes prepared but not yet applied (T9)', () => {
    const h = new Harness();
    const first = h.prepareOnly({ op: 'create', opCode: 1, path: '/dup', data: null, acl: OPEN_ACL_UNSAFE, flags: 0 });
    const second = h.prepareOnly({ op: 'create', opCode: 1, path: '/dup', data: null, acl: OPEN_ACL_UNSAFE, flags: 0 });
    expect(second.txn).toEqual({ type: 'error', err: Code.NODEEXISTS });
    const child = h.prepareOnly({ op: 'create', opCode: 1, path: '/dup/kid', data: null, acl: OPEN_ACL_UNSAFE, flags: 0 });
    expect(child.txn.type).toBe('create');
    const setV = h.prepareOnly({ op: 'setData', path: '/dup', data: null, version: 0 });
    const setStale = h.prepareOnly({ op: 'setData', path: '/dup', data: null, version: 0 });
    expect(setV.txn).toMatchObject({ type: 'setData', version: 1 });
    expect(setStale.txn).toEqual({ type: 'error', err: Code.BADVERSION });
    for (const t of [first, second, child, setV, setStale]) h.apply(t);
    expect(h.sm.view.outstandingCount).toBe(0);
    expect(h.stat('/dup')).toMatchObject({ version: 1, numChildren: 1 });
  });
});

describe('multi (T5)', () => {
  it('all ops apply, in order, under one zxid', () => {
    const h = new Harness();
    const r = h.run({
      op: 'multi',
      ops: [
        { op: 'create', opCode: 1, path: '/m', data: enc('a'), acl: OPEN_ACL_UNSAFE, flags: 0 },
        { op: 'setData', path: '/m', data: enc('b'), version: 0 },
        { op: 'check', path: '/m', version: 1 },
        { op: 'create', opCode: 1, path: '/m/s-', data: null, acl: OPEN_ACL_UNSAFE, flags: CreateFlag.persistentSequential },
      ],
    });
    expect(r.type).toBe('multi');
    if (r.type !== 'multi') return;
    expect(r.results.map((x) => x.type)).toEqual(['create', 'setData', 'check', 'create']);
    expect(r.results[3]).toMatchObject({ path: '/m/s-0000000000' });
    expect(h.stat('/m')).toMatchObject({ version: 1, czxid: 1, mzxid: 1 });
  });

  it('one failing op fails them all: 0 before it, its code, RUNTIMEINCONSISTENCY after; nothing changes', () => {
    const h = new Harness();
    h.create('/keep');
    const r = h.run({
      op: 'multi',
      ops: [
        { op: 'create', opCode: 1, path: '/new', data: null, acl: OPEN_ACL_UNSAFE, flags: 0 },
        { op: 'delete', path: '/keep', version: 7 },
        { op: 'setData', path: '/keep', data: null, version: -1 },
      ],
    });
    expect(r).toEqual({ type: 'multi', results: [{ type: 'error', err: 0 }, { type: 'error', err: Code.BADVERSION }, { type: 'error', err: Code.RUNTIMEINCONSISTENCY }] });
    expect(h.stat('/new')).toBeUndefined();
    expect(h.stat('/keep')?.version).toBe(0);
    // A later request does not see the failed multi's would-be changes.
    expect(h.create('/new').type).toBe('create');
  });
});

describe('ephemerals, containers and TTL nodes', () => {
  it('ephemeral nodes carry their owner, cannot have children, and go when the session closes (T3, S4)', () => {
    const h = new Harness();
    h.direct({ type: 'createSession', sessionId: 7n, timeoutMs: 4000, passwd: new Uint8Array(16) });
    h.create('/dir');
    expect(h.create('/dir/e', CreateFlag.ephemeral, 'x', 7n)).toMatchObject({ stat: { ephemeralOwner: 7n } });
    expect(errOf(h.create('/dir/e/kid'))).toBe(Code.NOCHILDRENFOREPHEMERALS);
    h.create('/dir/s-', CreateFlag.ephemeralSequential, 'x', 7n);
    expect(h.sm.tree.ephemeralsOf(7n)).toEqual(['/dir/e', '/dir/s-0000000001']);
    const closed = h.run({ op: 'closeSession', sessionId: 7n });
    expect(closed).toEqual({ type: 'closeSession', deleted: ['/dir/e', '/dir/s-0000000001'] });
    expect(h.stat('/dir')).toMatchObject({ numChildren: 0, cversion: 4, pzxid: 6 });
    expect(h.sm.tree.sessions.has(7n)).toBe(false);
  });

  it('a closeSession prepared behind a pending ephemeral create also removes it', () => {
    const h = new Harness();
    const c = h.prepareOnly({ op: 'create', opCode: 1, path: '/late', data: null, acl: OPEN_ACL_UNSAFE, flags: CreateFlag.ephemeral }, 9n);
    const close = h.prepareOnly({ op: 'closeSession', sessionId: 9n });
    const after = h.prepareOnly({ op: 'create', opCode: 1, path: '/late', data: null, acl: OPEN_ACL_UNSAFE, flags: 0 }, 3n);
    expect(after.txn.type).toBe('create');
    h.apply(c);
    h.apply(close);
    h.apply(after);
    expect(h.stat('/late')?.ephemeralOwner).toBe(0n);
  });

  it('a container is deleted once it has had children and has none; an empty new one stays', () => {
    const h = new Harness();
    h.run({ op: 'create', opCode: OpCode.createContainer, path: '/c', data: null, acl: OPEN_ACL_UNSAFE, flags: CreateFlag.container });
    expect(h.stat('/c')?.ephemeralOwner).toBe(CONTAINER_OWNER);
    expect(reapable(h.sm.tree, h.time)).toEqual([]);
    h.create('/c/kid');
    expect(reapable(h.sm.tree, h.time)).toEqual([]);
    h.run({ op: 'delete', path: '/c/kid', version: -1 });
    expect(reapable(h.sm.tree, h.time)).toEqual(['/c']);
  });

  it('a TTL node is deleted when childless and unmodified for its TTL; TTL needs createTTL and a TTL flag', () => {
    const h = new Harness();
    const r = h.run({ op: 'create', opCode: OpCode.createTTL, path: '/t', data: null, acl: OPEN_ACL_UNSAFE, flags: CreateFlag.persistentWithTtl, ttl: 500 });
    expect(r.type).toBe('create');
    const owner = h.stat('/t')?.ephemeralOwner ?? 0n;
    expect(nodeKind(owner)).toBe('ttl');
    expect(ttlOf(owner)).toBe(500);
    expect(reapable(h.sm.tree, h.time + 500)).toEqual([]);
    expect(reapable(h.sm.tree, h.time + 501)).toEqual(['/t']);
    expect(errOf(h.run({ op: 'create', opCode: OpCode.createTTL, path: '/t2', data: null, acl: OPEN_ACL_UNSAFE, flags: 0, ttl: 500 }))).toBe(Code.BADARGUMENTS);
    expect(errOf(h.run({ op: 'create', opCode: OpCode.createTTL, path: '/t3', data: null, acl: OPEN_ACL_UNSAFE, flags: CreateFlag.persistentWithTtl, ttl: 0 }))).toBe(Code.BADARGUMENTS);
    const off = new TreeStateMachine(coordConfig({ ttlNodesEnabled: false }));
    const t = off.prepare({ op: 'create', opCode: OpCode.createTTL, path: '/t', data: null, acl: OPEN_ACL_UNSAFE, flags: CreateFlag.persistentWithTtl, ttl: 5 }, { sessionId: 1n, principal: anyone, zxid: 1, config: coordConfig({ ttlNodesEnabled: false }) });
    expect(t).toEqual({ type: 'error', err: Code.UNIMPLEMENTED });
  });
});

describe('ACLs (T6)', () => {
  const alice: Principal = { authIds: [{ scheme: 'digest', id: digestId('alice:secret') }], address: '10.0.0.1' };

  it("digest ids are base64(sha1('user:password')) as ZooKeeper computes them", () => {
    expect(digestId('alice:secret')).toBe('alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=');
  });

  it('permissions are checked on the parent for create/delete and on the node for write and admin', () => {
    const h = new Harness();
    const only = (perms: number): Acl[] => [{ perms, id: { scheme: 'digest', id: digestId('alice:secret') } }];
    h.create('/locked', 0, 'x', 1n, only(Perm.READ | Perm.WRITE), alice);
    expect(errOf(h.create('/locked/kid', 0, 'x', 1n, OPEN_ACL_UNSAFE, alice))).toBe(Code.NOAUTH);
    expect(errOf(h.run({ op: 'setData', path: '/locked', data: null, version: -1 }))).toBe(Code.NOAUTH);
    expect(h.run({ op: 'setData', path: '/locked', data: null, version: -1 }, 1n, alice).type).toBe('setData');
    expect(errOf(h.run({ op: 'setACL', path: '/locked', acl: OPEN_ACL_UNSAFE, version: -1 }, 1n, alice))).toBe(Code.NOAUTH);
    const ipOnly: Acl[] = [{ perms: Perm.ALL, id: { scheme: 'ip', id: '10.0.0.0/8' } }];
    h.create('/byip', 0, 'x', 1n, ipOnly);
    expect(h.create('/byip/kid').type).toBe('create');
    expect(errOf(h.create('/byip/kid2', 0, 'x', 1n, OPEN_ACL_UNSAFE, { authIds: [], address: '192.168.1.1' }))).toBe(Code.NOAUTH);
  });

  it("'auth' stands for the session's ids; an empty list, an unknown scheme or auth without ids is INVALIDACL", () => {
    const h = new Harness();
    const r = h.create('/mine', 0, 'x', 1n, [{ perms: Perm.ALL, id: { scheme: 'auth', id: '' } }], alice);
    expect(r.type).toBe('create');
    expect(h.sm.tree.getNode('/mine')?.acl).toEqual([{ perms: Perm.ALL, id: { scheme: 'digest', id: digestId('alice:secret') } }]);
    expect(errOf(h.create('/x1', 0, 'x', 1n, []))).toBe(Code.INVALIDACL);
    expect(errOf(h.create('/x2', 0, 'x', 1n, [{ perms: 31, id: { scheme: 'kerberos', id: 'a' } }]))).toBe(Code.INVALIDACL);
    expect(errOf(h.create('/x3', 0, 'x', 1n, [{ perms: 31, id: { scheme: 'auth', id: '' } }]))).toBe(Code.INVALIDACL);
    expect(h.run({ op: 'setACL', path: '/mine', acl: OPEN_ACL_UNSAFE, version: 0 }, 1n, alice)).toMatchObject({ type: 'setACL', stat: { aversion: 1 } });
    expect(errOf(h.run({ op: 'setACL', path: '/mine', acl: OPEN_ACL_UNSAFE, version: 0 }, 1n, alice))).toBe(Code.BADVERSION);
  });
});

describe('watch triggers and snapshots', () => {
  it('apply reports the changes watches react to, in order', () => {
    const h = new Harness();
    const events = (req: PreparableRequest) => {
      const t = h.prepareOnly(req);
      h.pending--;
      return h.sm.apply(t.txn, t.zxid, h.time).events;
    };
    const acl = OPEN_ACL_UNSAFE;
    expect(events({ op: 'create', opCode: 1, path: '/w', data: null, acl, flags: 0 })).toEqual([
      { type: EventType.NodeCreated, path: '/w', acl },
      { type: EventType.NodeChildrenChanged, path: '/', acl },
    ]);
    expect(events({ op: 'setData', path: '/w', data: null, version: -1 })).toEqual([{ type: EventType.NodeDataChanged, path: '/w', acl }]);
    expect(events({ op: 'delete', path: '/w', version: -1 })).toEqual([
      { type: EventType.NodeDeleted, path: '/w', acl },
      { type: EventType.NodeChildrenChanged, path: '/', acl },
    ]);
  });

  it('a fuzzy snapshot plus the log replayed from its zxid gives the same tree: re-applying is harmless (T8)', () => {
    const h = new Harness();
    const log: { txn: CoordTxn; zxid: number }[] = [];
    const step = (req: PreparableRequest | { op: 'closeSession'; sessionId: bigint }, session = 1n): void => {
      const t = h.prepareOnly(req, session);
      log.push(t);
      h.apply(t);
    };
    h.direct({ type: 'createSession', sessionId: 5n, timeoutMs: 4000, passwd: new Uint8Array(16) });
    step({ op: 'create', opCode: 1, path: '/a', data: enc('1'), acl: OPEN_ACL_UNSAFE, flags: 0 });
    const snap = h.sm.snapshot(); // the snapshot "starts" here...
    step({ op: 'create', opCode: 1, path: '/a/s-', data: null, acl: OPEN_ACL_UNSAFE, flags: CreateFlag.persistentSequential });
    step({ op: 'setData', path: '/a', data: enc('2'), version: -1 });
    step({ op: 'create', opCode: 1, path: '/a/e', data: null, acl: OPEN_ACL_UNSAFE, flags: CreateFlag.ephemeral }, 5n);
    step({ op: 'multi', ops: [{ op: 'setData', path: '/a', data: enc('3'), version: -1 }, { op: 'delete', path: '/a/s-0000000000', version: -1 }] });
    const fuzzy = h.sm.snapshot(); // ...and ends after some of the later txns: serialise mid-stream.
    step({ op: 'closeSession', sessionId: 5n });
    step({ op: 'create', opCode: 1, path: '/a/s-', data: null, acl: OPEN_ACL_UNSAFE, flags: CreateFlag.persistentSequential });
    const canonical = (t: TreeStateMachine) => {
      const snap = t.tree.serialize();
      return { ...snap, nodes: [...snap.nodes].sort((a, b) => (a.path < b.path ? -1 : 1)) };
    };
    const want = canonical(h.sm);
    for (const start of [snap, fuzzy]) {
      const r = new TreeStateMachine(config);
      r.restore(start.bytes);
      // Replay everything after the snapshot's start zxid, including txns the snapshot already reflects.
      for (const t of log.filter((x) => x.zxid > snap.lastZxid)) r.apply(t.txn, t.zxid, h.time);
      r.tree.invariants();
      expect(canonical(r)).toEqual(want);
    }
  });
});
