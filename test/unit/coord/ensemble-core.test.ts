/**
 * The server core in ensemble mode, pure, with a hand-driven stand-in for Zab (README "Assembled
 * server"): writes wait for their commit and are answered from the apply; a connection's later
 * read waits for its earlier writes (FIFO per client); watch events go out before the reply that
 * reflects the change (W3); a write Zab cannot take closes the connection; only a leader expires
 * sessions, and a follower passes its sessions' traffic on.
 */
import { describe, expect, it } from 'vitest';
import { coordConfig } from '../../../src/actors/coord/config.js';
import { Code } from '../../../src/actors/coord/errors.js';
import { EnsembleMachine, type EnsembleRequest } from '../../../src/actors/coord/ensemble/machine.js';
import { OpCode, type Request } from '../../../src/actors/coord/protocol.js';
import { CoordServerCore, type ConnectionSink, type EnsembleBackend, type ServerOutput } from '../../../src/actors/coord/server/server-core.js';
import { OPEN_ACL_UNSAFE } from '../../../src/actors/coord/tree/acl.js';

const config = coordConfig({ tickTimeMs: 2000, serverId: 1 });

class Sink implements ConnectionSink {
  readonly out: ServerOutput[] = [];
  closedWith: string | undefined;
  readonly address = '127.0.0.1';
  deliver(o: ServerOutput): void {
    this.out.push(o);
  }
  close(reason: string): void {
    this.closedWith = reason;
  }
}

/** One server whose "Zab" orders submissions when told to: `commit()` prepares and applies every submitted request in order. */
function setup(leading = true) {
  let now = 1_000_000;
  const queue: { request: EnsembleRequest; onFailed: (r: string) => void }[] = [];
  const touched: bigint[][] = [];
  const backend: EnsembleBackend = {
    serverId: 1,
    leading,
    submit: (request, onFailed) => void queue.push({ request, onFailed }),
    sync: () => Promise.resolve(undefined),
    touch: (s) => void touched.push([...s]),
  };
  let n = 0;
  const core = new CoordServerCore(config, now, (k) => new Uint8Array(k).map(() => ++n & 0xff), () => {}, backend);
  const machine = new EnsembleMachine({ config, now: () => now, onApplied: (a) => core.applied(a, now) });
  core.attachMachine(machine.tree, now);
  let zxid = 0x100000000;
  const commit = (): void => {
    while (queue.length > 0) {
      const { request } = queue.shift()!;
      const p = machine.prepare(request, { appliedZxid: zxid, pending: [] });
      if (!p.ok) throw new Error(p.error.message);
      machine.apply(p.body, ++zxid);
    }
  };
  const connect = () => {
    const sink = new Sink();
    const id = core.open(sink) as number;
    core.connect(id, { protocolVersion: 0, lastZxidSeen: 0, timeOut: 4000, sessionId: 0n, passwd: new Uint8Array(16) }, now);
    expect(sink.out).toEqual([]); // the session exists once its createSession commits
    commit();
    const first = sink.out[0];
    if (first?.kind !== 'connected') throw new Error('no connect response');
    return { sink, id, sessionId: first.response.sessionId };
  };
  let xid = 1;
  const req = (c: { id: number }, r: Request) => core.request(c.id, xid++, r, now);
  return { core, connect, req, commit, queue, touched, advance: (ms: number) => (now += ms), get now() { return now; } };
}

const create = (path: string, flags = 0): Request => ({ op: 'create', opCode: OpCode.create, path, data: null, acl: OPEN_ACL_UNSAFE, flags });

describe('ensemble mode of the server core', () => {
  it('a write is answered after its apply; a read behind it waits and then sees it (FIFO per connection)', () => {
    const s = setup();
    const a = s.connect();
    a.sink.out.length = 0;
    s.req(a, create('/x'));
    s.req(a, { op: 'exists', path: '/x', watch: false });
    expect(a.sink.out).toEqual([]);
    s.commit();
    const replies = a.sink.out.map((o) => (o.kind === 'reply' ? o.reply : undefined));
    expect(replies.map((r) => [r?.xid, r?.err])).toEqual([[1, 0], [2, 0]]);
    expect(replies[1]?.body).toMatchObject({ op: 'exists' });
  });

  it('a watch event reaches its client before the reply that reflects the change (W3)', () => {
    const s = setup();
    const a = s.connect();
    const b = s.connect();
    s.req(a, create('/w'));
    s.commit();
    s.req(b, { op: 'getData', path: '/w', watch: true });
    b.sink.out.length = 0;
    s.req(b, { op: 'setData', path: '/w', data: new Uint8Array([1]), version: -1 });
    s.commit();
    expect(b.sink.out.map((o) => o.kind)).toEqual(['event', 'reply']);
  });

  it('a failed write closes the connection; the session lives on', () => {
    const s = setup();
    const a = s.connect();
    s.req(a, create('/f'));
    s.queue.shift()!.onFailed('not_ready: electing');
    expect(a.sink.closedWith).toMatch(/not committed: not_ready/);
    expect(s.core.sessions.isLive(a.sessionId)).toBe(true);
  });

  it('an error write takes its place: NODEEXISTS is answered in order', () => {
    const s = setup();
    const a = s.connect();
    a.sink.out.length = 0;
    s.req(a, create('/d'));
    s.req(a, create('/d'));
    s.commit();
    expect(a.sink.out.map((o) => (o.kind === 'reply' ? o.reply.err : 'x'))).toEqual([0, -110]);
  });

  it('only a leader expires sessions (S2); a follower passes its sessions with traffic to the leader', () => {
    const f = setup(false);
    const a = f.connect();
    f.req(a, { op: 'ping' });
    f.core.tick(f.advance(500));
    expect(f.touched).toEqual([[a.sessionId]]);
    f.core.tick(f.advance(60_000));
    expect(f.queue).toEqual([]);

    const l = setup(true);
    const b = l.connect();
    l.core.tick(l.advance(60_000));
    expect(l.queue.map((q) => q.request)).toEqual([{ kind: 'closeSession', sessionId: b.sessionId }]);
    l.commit();
    expect(b.sink.closedWith).toMatch(/closed/);
    expect(l.core.sessions.isLive(b.sessionId)).toBe(false);
  });
});

/** Two servers' cores; the leader (server 1's machine) orders what each submitted when told, and both apply. */
function twoServers() {
  const now = 1_000_000;
  const queue: { request: EnsembleRequest; from: number }[] = [];
  let n = 0;
  const server = (id: number) => {
    const cfg = coordConfig({ tickTimeMs: 2000, serverId: id });
    const backend: EnsembleBackend = { serverId: id, leading: id === 1, submit: (request) => void queue.push({ request, from: id }), sync: () => Promise.resolve(undefined), touch: () => {} };
    const core = new CoordServerCore(cfg, now, (k) => new Uint8Array(k).map(() => ++n & 0xff), () => {}, backend);
    const machine = new EnsembleMachine({ config: cfg, now: () => now, onApplied: (a) => core.applied(a, now) });
    core.attachMachine(machine.tree, now);
    return { core, machine };
  };
  const [s1, s2] = [server(1), server(2)];
  const state = { zxid: 0x100000000 };
  const order = (from: number): void => {
    for (const q of queue.filter((x) => x.from === from)) {
      queue.splice(queue.indexOf(q), 1);
      const p = s1.machine.prepare(q.request, { appliedZxid: state.zxid, pending: [], epoch: 1 });
      if (!p.ok) continue; // a revalidate is never proposed as a change
      state.zxid++;
      s1.machine.apply(p.body, state.zxid);
      s2.machine.apply(p.body, state.zxid);
    }
  };
  /** A session on server 1 with /x created, then the client moves it to server 2 (the old connection stays open). */
  const moved = () => {
    const old = new Sink();
    const c1 = s1.core.open(old) as number;
    s1.core.connect(c1, { protocolVersion: 0, lastZxidSeen: 0, timeOut: 4000, sessionId: 0n, passwd: new Uint8Array(16) }, now);
    order(1);
    const hello = old.out[0];
    if (hello?.kind !== 'connected') throw new Error('no connect response');
    s1.core.request(c1, 1, create('/x'), now);
    order(1);
    const fresh = new Sink();
    const c2 = s2.core.open(fresh) as number;
    return {
      old,
      c1,
      fresh,
      c2,
      sessionId: hello.response.sessionId,
      move: () => s2.core.connect(c2, { protocolVersion: 0, lastZxidSeen: state.zxid, timeOut: 4000, sessionId: hello.response.sessionId, passwd: hello.response.passwd }, now),
    };
  };
  return { now, s1, s2, order, moved };
}

const replies = (s: Sink) => s.out.flatMap((o) => (o.kind === 'reply' ? [o.reply] : []));

describe('session owners (S7, SESSIONMOVED)', () => {
  it('a write still coming through the server a session left fails with SESSIONMOVED and closes that connection', () => {
    const { now, s1, s2, order, moved } = twoServers();
    const m = moved();
    // A write through server 1 is submitted but not yet ordered when the client moves to server 2 and writes there.
    s1.core.request(m.c1, 2, { op: 'setData', path: '/x', data: new TextEncoder().encode('old'), version: -1 }, now);
    m.move();
    s2.core.request(m.c2, 1, { op: 'setData', path: '/x', data: new TextEncoder().encode('new'), version: -1 }, now);
    order(2);
    order(1);
    expect(replies(m.fresh).map((r) => [r.xid, r.err])).toEqual([[1, 0]]);
    expect(replies(m.old).map((r) => [r.xid, r.err])).toEqual([[1, 0], [2, Code.SESSIONMOVED]]);
    expect(m.old.closedWith).toMatch(/moved to another server/);
    expect(m.fresh.closedWith).toBeUndefined();
    for (const s of [s1, s2]) expect(new TextDecoder().decode(s.machine.tree.tree.getNode('/x')?.data ?? new Uint8Array())).toBe('new');
  });

  it('a close through the server a session left is refused with SESSIONMOVED; the session and its ephemerals live on', () => {
    const { now, s1, s2, order, moved } = twoServers();
    const m = moved();
    s1.core.request(m.c1, 2, create('/e', 1), now);
    order(1);
    m.move();
    order(2);
    s1.core.request(m.c1, 3, { op: 'closeSession' }, now);
    order(1);
    expect(replies(m.old).map((r) => [r.xid, r.err])).toEqual([[1, 0], [2, 0], [3, Code.SESSIONMOVED]]);
    expect(m.old.closedWith).toMatch(/moved to another server/);
    for (const s of [s1, s2]) {
      expect(s.machine.tree.tree.sessions.has(m.sessionId)).toBe(true);
      expect(s.machine.tree.tree.getNode('/e')).toBeDefined();
      expect(s.core.sessions.isLive(m.sessionId)).toBe(true);
    }
    s2.core.request(m.c2, 1, { op: 'exists', path: '/e', watch: false }, now);
    expect(replies(m.fresh).map((r) => [r.xid, r.err])).toEqual([[1, 0]]);
  });
});
