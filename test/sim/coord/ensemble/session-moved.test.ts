/**
 * ZooKeeper's SESSIONMOVED (S7), in the simulator: a client writes through follower A, whose link
 * to the leader is slow, then — the write still in flight — moves its session to follower B and
 * writes there. B's reconnect tells the leader that B owns the session before B's write, so A's
 * late write fails with SESSIONMOVED (-118) and A closes that connection; it is never ordered after
 * the write made through B.
 */
import { describe, expect, it } from 'vitest';
import type { ActorRef } from '../../../../src/index.js';
import { Code } from '../../../../src/actors/coord/errors.js';
import type { CoordClientMsg, CoordServerMsg, Request } from '../../../../src/actors/coord/protocol.js';
import { ensembleOf } from '../zab/ensemble.js';
import { coordServing, isCoordBody } from '../faults/coord.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array | null | undefined): string => (b ? new TextDecoder().decode(b) : '');

describe.each([1, 2, 3])('a session that moves while a write is in flight on its old server (seed %i)', (seed) => {
  it('the old server\'s write fails with SESSIONMOVED, its connection closes, and the new server\'s write stands', async () => {
    const serving = coordServing();
    const e = ensembleOf({ seed, servers: 3 }, serving.machine, serving.serve);
    const { sim } = e;
    const q = await sim.result(e.quiet(10_000));
    expect(q).toBeDefined();
    const leader = q!.leader;
    const [a, b] = e.ids.filter((id) => id !== leader) as [number, number];
    const coord = (id: number): ActorRef<CoordServerMsg> => ({ node: e.nodeOf(id), id: 'coord' });
    const inbox: CoordClientMsg[] = [];
    const node = e.clientNode('client');
    const me = node.system.spawn<CoordClientMsg>(() => ({ receive: (m) => void inbox.push(m) }), { name: 'me' }) as ActorRef<CoordClientMsg>;
    const waitFor = async <T extends CoordClientMsg>(pred: (m: CoordClientMsg) => m is T, boundMs = 3_000): Promise<T> => {
      const end = sim.now + boundMs;
      for (;;) {
        const m = inbox.find(pred);
        if (m !== undefined) return m;
        if (sim.now > end) throw new Error(`no such message within ${boundMs} ms; inbox: ${JSON.stringify(inbox.map((x) => x.type))}`);
        await e.sleep(5);
      }
    };
    const reply = (conn: string, xid: number) => (m: CoordClientMsg): m is Extract<CoordClientMsg, { type: 'coord.client.reply' }> => m.type === 'coord.client.reply' && m.connectionId === conn && m.reply.xid === xid;
    const send = (server: number, conn: string, xid: number, request: Request): void => void node.system.tell(coord(server), { type: 'coord.server.request', connectionId: conn, xid, request });

    await sim.result(
      (async () => {
        // A session on A, and a node to write.
        node.system.tell(coord(a), { type: 'coord.server.connect', client: me, connectionId: 'old', request: { protocolVersion: 0, lastZxidSeen: 0, timeOut: 4_000, sessionId: 0n, passwd: new Uint8Array(16) } });
        const hello = await waitFor((m): m is Extract<CoordClientMsg, { type: 'coord.client.connected' }> => m.type === 'coord.client.connected' && m.connectionId === 'old');
        expect(hello.response.timeOut).toBeGreaterThan(0);
        send(a, 'old', 1, { op: 'create', opCode: 1, path: '/x', data: enc('first'), acl: [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }], flags: 0 });
        const created = await waitFor(reply('old', 1));
        expect(created.reply.err).toBe(0);

        // A's link to the leader turns slow; a write goes out through A.
        sim.network.configure(e.nodeOf(a), e.nodeOf(leader), { latencyMinMs: 250, latencyMaxMs: 250 });
        send(a, 'old', 2, { op: 'setData', path: '/x', data: enc('old'), version: -1 });
        await e.sleep(20);

        // The client gives up on A and moves its session to B, where it writes again.
        node.system.tell(coord(b), { type: 'coord.server.connect', client: me, connectionId: 'new', request: { protocolVersion: 0, lastZxidSeen: created.reply.zxid, timeOut: 4_000, sessionId: hello.response.sessionId, passwd: hello.response.passwd } });
        const moved = await waitFor((m): m is Extract<CoordClientMsg, { type: 'coord.client.connected' }> => m.type === 'coord.client.connected' && m.connectionId === 'new');
        expect(moved.response.sessionId).toBe(hello.response.sessionId);
        send(b, 'new', 1, { op: 'setData', path: '/x', data: enc('new'), version: -1 });
        const fresh = await waitFor(reply('new', 1));
        expect(fresh.reply.err).toBe(0);

        // A's write reaches the leader late: SESSIONMOVED, and A closes the stale connection.
        const late = await waitFor(reply('old', 2));
        expect(late.reply.err).toBe(Code.SESSIONMOVED);
        await waitFor((m): m is Extract<CoordClientMsg, { type: 'coord.client.closed' }> => m.type === 'coord.client.closed' && m.connectionId === 'old');
        sim.network.configure(e.nodeOf(a), e.nodeOf(leader), { latencyMinMs: 0.2, latencyMaxMs: 2 });
        expect(fresh.reply.zxid).toBeLessThan(late.reply.zxid);
      })(),
    );
    // Every server ends with the write made through B; the one through A never took effect anywhere.
    const done = await sim.result(e.quiet(10_000));
    expect(done).toBeDefined();
    for (const id of e.ids) expect(dec(e.machines.get(id)!.coord.tree.tree.getNode('/x')?.data)).toBe('new');
    for (const lives of e.lives.values())
      for (const life of lives)
        for (const ev of life) if (ev.kind === 'apply' && isCoordBody(ev.txn.body) && ev.txn.body.txn.type === 'setData') expect(dec(ev.txn.body.txn.data)).not.toBe('old');
  }, 60_000);
});
