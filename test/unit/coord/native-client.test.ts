/**
 * The native client over actor messages, on the simulator's virtual time (README "Native client"):
 * the same operations and session semantics as a ZooKeeper client — watches as callbacks and as
 * async iterators, events before the replies that reflect them (W3), ephemerals gone with the
 * session (S4), sessions expiring when their client falls silent (S2).
 */
import { describe, expect, it } from 'vitest';
import { createTestKit } from '../../../src/testkit.js';
import { CoordClient } from '../../../src/actors/coord/client/client.js';
import { coordServerActor } from '../../../src/actors/coord/server/server-actor.js';
import { Code, CoordClientError } from '../../../src/actors/coord/errors.js';
import { EventType, type CoordClientMsg, type WatchEvent } from '../../../src/actors/coord/protocol.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

function setup() {
  const kit = createTestKit({ seed: 7 });
  const server = kit.spawn(coordServerActor({ config: { tickTimeMs: 2000 } }), { name: 'coord' });
  const run = <T>(p: Promise<T>): Promise<T> => kit.sim.result(p);
  const connect = (sessionTimeoutMs = 6000) => run(CoordClient.connect(kit.system, server, { sessionTimeoutMs }));
  return { kit, server, run, connect };
}

describe('native client', () => {
  it('creates, reads, sets with versions, lists and deletes like a ZooKeeper client', async () => {
    const { run, connect } = setup();
    const c = await connect();
    expect(c.sessionTimeoutMs).toBe(6000);
    expect((await run(c.create('/app', enc('v1')))).path).toBe('/app');
    expect((await run(c.create('/app/job-', null, { mode: 'persistent_sequential' }))).path).toBe('/app/job-0000000000');
    const got = await run(c.getData('/app'));
    expect(new TextDecoder().decode(got.data ?? new Uint8Array())).toBe('v1');
    expect((await run(c.setData('/app', enc('v2'), 0))).version).toBe(1);
    await expect(run(c.setData('/app', enc('v3'), 0))).rejects.toMatchObject({ code: Code.BADVERSION });
    expect((await run(c.getChildren('/app'))).children).toEqual(['job-0000000000']);
    await expect(run(c.delete('/app'))).rejects.toMatchObject({ code: Code.NOTEMPTY });
    const m = await run(c.multi([{ op: 'delete', path: '/app/job-0000000000', version: -1 }, { op: 'delete', path: '/app', version: 1 }]));
    expect(m.ok).toBe(true);
    expect(await run(c.exists('/app'))).toBeNull();
    await run(c.close());
  });

  it('a watch callback runs before the reply of the change it reports (W3) and only once (W1)', async () => {
    const { run, connect } = setup();
    const c = await connect();
    await run(c.create('/w', null));
    const log: string[] = [];
    await run(c.getData('/w', (e) => void log.push(`event ${e.type} ${e.path}`)));
    await run(c.setData('/w', enc('1')).then(() => void log.push('reply 1')));
    await run(c.setData('/w', enc('2')).then(() => void log.push('reply 2')));
    expect(log).toEqual([`event ${EventType.NodeDataChanged} /w`, 'reply 1', 'reply 2']);
  });

  it('recursive watches as an async iterator', async () => {
    const { run, connect } = setup();
    const c = await connect();
    await run(c.create('/tree', null));
    const events = await run(c.watchEvents('/tree', true));
    await run(c.create('/tree/a', null));
    await run(c.setData('/tree/a', enc('x')));
    const got: WatchEvent[] = [await run(events.next()).then((r) => r.value as WatchEvent), await run(events.next()).then((r) => r.value as WatchEvent)];
    expect(got.map((e) => `${e.type} ${e.path}`)).toEqual([`${EventType.NodeCreated} /tree/a`, `${EventType.NodeDataChanged} /tree/a`]);
  });

  it("a closed session's ephemerals go, and another client's exists-watch sees it (S4)", async () => {
    const { run, connect } = setup();
    const owner = await connect();
    const other = await connect();
    await run(owner.create('/lock', null, { mode: 'ephemeral' }));
    const seen: number[] = [];
    expect(await run(other.exists('/lock', (e) => void seen.push(e.type)))).not.toBeNull();
    await run(owner.close());
    expect(await run(other.exists('/lock'))).toBeNull();
    expect(seen).toEqual([EventType.NodeDeleted]);
  });

  it('pings keep a quiet session alive; a client that falls silent expires and loses its ephemerals (S2)', async () => {
    const { kit, run, connect } = setup();
    const quiet = await connect(4000);
    const doomed = await connect(4000);
    await run(doomed.create('/eph', null, { mode: 'ephemeral' }));
    // Silence the doomed client: stop its connection actor (no more pings).
    const actor = kit.system.actors().find((r) => r.node === doomed.actor.node && r.id === doomed.actor.id);
    expect(actor).toBeDefined();
    if (actor) kit.system.stop(actor);
    await kit.advance(60_000);
    expect(await run(quiet.exists('/eph'))).toBeNull();
    expect(quiet.closed).toBeUndefined();
    expect((await run(quiet.getChildren('/'))).children).toEqual(['zookeeper']);
  });

  it('errors are CoordClientError values with ZooKeeper codes', async () => {
    const { run, connect } = setup();
    const c = await connect();
    const e = await run(c.getData('/missing')).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CoordClientError);
    expect((e as CoordClientError).code).toBe(Code.NONODE);
  });

  it('a lost message breaks the connection: a gap in request numbers closes it at the server, and the client reconnects on a gap from the server', async () => {
    const { kit, server, run } = setup();
    // The server side: request 2 arrives without request 1.
    const inbox: CoordClientMsg[] = [];
    const me = kit.spawn<CoordClientMsg>(() => ({ receive: (m) => void inbox.push(m) }), { name: 'raw' });
    kit.system.tell(server, { type: 'coord.server.connect', client: me, connectionId: 'raw', request: { protocolVersion: 0, lastZxidSeen: 0, timeOut: 6000, sessionId: 0n, passwd: new Uint8Array(16) } });
    await kit.advance(10);
    kit.system.tell(server, { type: 'coord.server.request', connectionId: 'raw', xid: 7, request: { op: 'exists', path: '/', watch: false }, seq: 2 });
    await kit.advance(10);
    expect(inbox.map((m) => m.type)).toEqual(['coord.client.connected', 'coord.client.closed']);
    expect(inbox[1]).toMatchObject({ reason: expect.stringMatching(/request 1 of the connection was lost/) });
    // The client side: a server message numbered past the next one means one was lost; the client moves on with its session.
    const states: string[] = [];
    const c = await run(CoordClient.connect(kit.system, server, { sessionTimeoutMs: 6000, onState: (x) => void states.push(x) }));
    const session = c.sessionId;
    kit.system.tell(c.actor, { type: 'coord.client.event', connectionId: c.connectionId as string, event: { type: EventType.NodeCreated, state: 3, path: '/x' }, seq: 99 });
    await kit.advance(5000);
    expect(states).toEqual(['connected', 'disconnected', 'connected']);
    expect(c.sessionId).toBe(session);
    expect((await run(c.getChildren('/'))).children).toEqual(['zookeeper']);
  });
});
