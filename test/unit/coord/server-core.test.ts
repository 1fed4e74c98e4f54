/**
 * The server core, pure, on injected time (README invariants S1–S6, W1–W4): sessions expire by
 * the leader's tick buckets and take their ephemerals with them; watch events reach a client
 * before any reply that reflects the change; watches re-registered after a reconnect fire for
 * what the client missed.
 */
import { describe, expect, it } from 'vitest';
import { coordConfig } from '../../../src/actors/coord/config.js';
import { EventType, OpCode, type Request } from '../../../src/actors/coord/protocol.js';
import { CoordServerCore, type ConnectionSink, type ServerOutput } from '../../../src/actors/coord/server/server-core.js';
import { initialSessionId, SessionTracker } from '../../../src/actors/coord/session/session-tracker.js';
import { WatchManager } from '../../../src/actors/coord/watch/watch-manager.js';
import { OPEN_ACL_UNSAFE } from '../../../src/actors/coord/tree/acl.js';

const config = coordConfig({ tickTimeMs: 2000 });

class Sink implements ConnectionSink {
  readonly out: ServerOutput[] = [];
  closedWith: string | undefined;
  constructor(readonly address = '127.0.0.1') {}
  deliver(o: ServerOutput): void {
    this.out.push(o);
  }
  close(reason: string): void {
    this.closedWith = reason;
  }
}

function setup(now = 1_000_000) {
  let n = 0;
  const core = new CoordServerCore(config, now, (k) => new Uint8Array(k).map(() => ++n & 0xff));
  const connect = (timeOut = 6000, at = now, sessionId = 0n, passwd: Uint8Array = new Uint8Array(16)) => {
    const sink = new Sink();
    const id = core.open(sink) as number;
    core.connect(id, { protocolVersion: 0, lastZxidSeen: 0, timeOut, sessionId, passwd }, at);
    const first = sink.out[0];
    if (first?.kind !== 'connected') throw new Error('no connect response');
    return { sink, id, sessionId: first.response.sessionId, passwd: first.response.passwd, timeOut: first.response.timeOut };
  };
  let xid = 1;
  const req = (c: { id: number }, r: Request, at = now) => core.request(c.id, xid++, r, at);
  return { core, connect, req };
}

const create = (path: string, flags = 0): Request => ({ op: 'create', opCode: OpCode.create, path, data: null, acl: OPEN_ACL_UNSAFE, flags });

describe('sessions', () => {
  it('ids put the server id in the high byte and the time below it (S6)', () => {
    const id = initialSessionId(3, 1_700_000_000_000);
    expect(BigInt.asUintN(64, id) >> 56n).toBe(3n);
    const t = new SessionTracker(2000, 3, 1_700_000_000_000);
    expect(t.allocateId()).toBe(id);
    expect(t.allocateId()).toBe(id + 1n);
  });

  it('expiry buckets: a session expires at the first tick boundary after its timeout; traffic pushes it out (S2)', () => {
    const t = new SessionTracker(2000, 1, 0);
    t.add(1n, 4000, 1000); // due at roundUp(5000) = 6000
    expect(t.expire(5999)).toEqual([]);
    t.touch(1n, 3000); // due at roundUp(7000) = 8000
    expect(t.expire(7999)).toEqual([]);
    expect(t.expire(8000)).toEqual([1n]);
    expect(t.expire(9000)).toEqual([]);
    expect(t.isLive(1n)).toBe(false);
  });

  it('negotiated timeouts stay within 2 and 20 ticks (S1)', () => {
    const { connect } = setup();
    expect(connect(1).timeOut).toBe(4000);
    expect(connect(6000).timeOut).toBe(6000);
    expect(connect(10 ** 9).timeOut).toBe(40000);
  });

  it('an expired session is closed by a closeSession transaction: its ephemerals go, watchers hear it, its connection closes (S2, S4)', () => {
    const { core, connect, req } = setup();
    const owner = connect(4000);
    const other = connect(40000);
    req(owner, create('/e', 1));
    req(other, { op: 'exists', path: '/e', watch: true });
    const zxidBefore = core.machine.lastZxid;
    core.tick(1_000_000 + 5999);
    expect(core.tree.getNode('/e')).toBeDefined();
    core.tick(1_000_000 + 6000);
    expect(core.tree.getNode('/e')).toBeUndefined();
    expect(core.machine.lastZxid).toBe(zxidBefore + 1);
    expect(owner.sink.closedWith).toMatch(/expired/);
    expect(other.sink.out.at(-1)).toEqual({ kind: 'event', event: { type: EventType.NodeDeleted, state: 3, path: '/e' } });
    // Reconnecting to the expired session gets timeout 0 (the client reports it expired).
    const again = connect(4000, 1_000_000 + 7000, owner.sessionId, owner.passwd);
    expect(again.timeOut).toBe(0);
  });

  it('reattaching with the right password keeps the session and closes the old connection (S3)', () => {
    const { core, connect } = setup();
    const a = connect();
    const b = connect(6000, 1_000_100, a.sessionId, a.passwd);
    expect(b.sessionId).toBe(a.sessionId);
    expect(a.sink.closedWith).toMatch(/moved/);
    expect(core.sessions.isLive(a.sessionId)).toBe(true);
  });
});

describe('watches', () => {
  it("a watch event reaches the client before the reply to its own change (W3)", () => {
    const { connect, req } = setup();
    const c = connect();
    req(c, create('/w'));
    req(c, { op: 'getData', path: '/w', watch: true });
    req(c, { op: 'setData', path: '/w', data: null, version: -1 });
    const kinds = c.sink.out.slice(-2).map((o) => o.kind);
    expect(kinds).toEqual(['event', 'reply']);
  });

  it('one-time watches fire once; persistent ones keep firing; recursive ones skip child-list changes (W1, W2)', () => {
    const w = new WatchManager();
    w.addData('/a', 1n);
    w.addChild('/a', 1n);
    w.addPersistent('/p', 2n, false);
    w.addPersistent('/r', 3n, true);
    // One event per session even when both its data and child watch match the deletion.
    expect(w.trigger({ type: EventType.NodeDeleted, path: '/a', acl: OPEN_ACL_UNSAFE })).toEqual([{ sessionId: 1n, type: EventType.NodeDeleted, path: '/a' }]);
    expect(w.trigger({ type: EventType.NodeDeleted, path: '/a', acl: OPEN_ACL_UNSAFE })).toEqual([]);
    for (let i = 0; i < 2; i++) expect(w.trigger({ type: EventType.NodeChildrenChanged, path: '/p', acl: OPEN_ACL_UNSAFE }).map((d) => d.sessionId)).toEqual([2n]);
    expect(w.trigger({ type: EventType.NodeDataChanged, path: '/r/x/y', acl: OPEN_ACL_UNSAFE }).map((d) => d.sessionId)).toEqual([3n]);
    expect(w.trigger({ type: EventType.NodeChildrenChanged, path: '/r', acl: OPEN_ACL_UNSAFE })).toEqual([]);
    expect(w.remove('/r', 3, 3n)).toBe(true);
    expect(w.check('/r', 3, 3n)).toBe(false);
    expect(w.remove('/nothing', 3, 3n)).toBe(false);
  });

  it("a watcher without READ on the node gets no event, and its one-time watch is spent (W5)", () => {
    const { core, connect, req } = setup();
    const owner = connect();
    const other = connect();
    core.request(owner.id, 100, { op: 'auth', type: 0, scheme: 'digest', auth: new TextEncoder().encode('alice:pw') }, 1_000_000);
    req(owner, create('/secret'));
    req(other, { op: 'exists', path: '/secret', watch: true });
    req(owner, { op: 'setACL', path: '/secret', acl: [{ perms: 31, id: { scheme: 'auth', id: '' } }], version: -1 });
    const before = other.sink.out.length;
    req(owner, { op: 'setData', path: '/secret', data: null, version: -1 });
    req(owner, { op: 'setACL', path: '/secret', acl: OPEN_ACL_UNSAFE, version: -1 });
    req(owner, { op: 'setData', path: '/secret', data: null, version: -1 });
    expect(other.sink.out.slice(before)).toEqual([]);
  });

  it('setWatches after a reconnect fires for what changed since the relative zxid, and re-registers the rest (W4)', () => {
    const { core, connect, req } = setup();
    const c = connect();
    req(c, create('/same'));
    req(c, create('/changed'));
    const seen = core.machine.lastZxid;
    req(c, { op: 'setData', path: '/changed', data: null, version: -1 });
    req(c, create('/born'));
    const d = connect();
    const before = d.sink.out.length;
    req(d, { op: 'setWatches', opCode: 101, relativeZxid: seen, dataWatches: ['/same', '/changed', '/gone'], existWatches: ['/born', '/unborn'], childWatches: ['/'], persistentWatches: [], persistentRecursiveWatches: [] });
    const events = d.sink.out.slice(before).flatMap((o) => (o.kind === 'event' ? [`${o.event.type} ${o.event.path}`] : []));
    expect(events).toEqual([`${EventType.NodeDataChanged} /changed`, `${EventType.NodeDeleted} /gone`, `${EventType.NodeCreated} /born`, `${EventType.NodeChildrenChanged} /`]);
    expect(d.sink.out.at(-1)?.kind).toBe('reply');
    // The untouched ones are registered again and fire later.
    req(c, { op: 'setData', path: '/same', data: null, version: -1 });
    req(c, create('/unborn'));
    const later = d.sink.out.slice(-2).map((o) => (o.kind === 'event' ? `${o.event.type} ${o.event.path}` : o.kind));
    expect(later).toEqual([`${EventType.NodeDataChanged} /same`, `${EventType.NodeCreated} /unborn`]);
  });
});
