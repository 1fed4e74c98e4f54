/**
 * The native client across an ensemble, in the simulator (README "Native client"): Zab servers with
 * the client-facing core beside each, and `CoordClient` given all of them. When its server crashes
 * — a follower or the leader — the client keeps its session on another server: requests in flight
 * fail with CONNECTIONLOSS, its ephemerals stay, and its watches are re-registered (setWatches), so
 * a change made while it was away fires before any later reply. When it stays away longer than its
 * session timeout, the ensemble expires the session and the client reports SESSIONEXPIRED.
 */
import { describe, expect, it } from 'vitest';
import type { ActorRef } from '../../../../src/index.js';
import { CoordClient, type ClientState } from '../../../../src/actors/coord/client/client.js';
import { Code } from '../../../../src/actors/coord/errors.js';
import { EventType, type CoordServerMsg } from '../../../../src/actors/coord/protocol.js';
import { ensembleOf } from '../zab/ensemble.js';
import { coordServing } from '../faults/coord.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

function setup(seed: number) {
  const serving = coordServing();
  const e = ensembleOf({ seed, servers: 3 }, serving.machine, serving.serve);
  const refs: ActorRef<CoordServerMsg>[] = e.ids.map((id) => ({ node: e.nodeOf(id), id: 'coord' }));
  const roles = async (): Promise<{ leader: number; followers: number[] }> => {
    const st = await Promise.all(e.ids.map((id) => e.status(id)));
    const leader = st.find((s) => s?.role === 'leading')?.id as number;
    return { leader, followers: e.ids.filter((id) => id !== leader) };
  };
  return { e, sim: e.sim, refs, roles };
}

/** The servers in an order that starts with `first` (the client connects to the first that answers). */
function startingAt(refs: readonly ActorRef<CoordServerMsg>[], first: number): ActorRef<CoordServerMsg>[] {
  const i = first - 1;
  return [...refs.slice(i), ...refs.slice(0, i)];
}

describe.each([1, 2])('native client failover (seed %i)', (seed) => {
  it.each(['follower', 'leader'] as const)('its server (a %s) crashes: same session elsewhere, in-flight requests CONNECTIONLOSS, ephemerals kept, watches re-registered', async (which) => {
    const { e, sim, refs, roles } = setup(seed);
    expect(await sim.result(e.quiet(10_000))).toBeDefined();
    const { leader, followers } = await sim.result(roles());
    const victim = which === 'leader' ? leader : (followers[0] as number);
    const other = e.ids.find((id) => id !== victim) as number;
    const log: string[] = [];
    const states: ClientState[] = [];
    const a = await sim.result(CoordClient.connect(e.clientNode('a').system, startingAt(refs, victim), { sessionTimeoutMs: 4_000, requestTimeoutMs: 3_000, onState: (s) => void states.push(s) }));
    const b = await sim.result(CoordClient.connect(e.clientNode('b').system, startingAt(refs, other), { sessionTimeoutMs: 4_000, requestTimeoutMs: 3_000 }));
    const session = a.sessionId;
    await sim.result(a.create('/w', enc('0')));
    await sim.result(a.create('/mine', null, { mode: 'ephemeral' }));
    await sim.result(a.getData('/w', (ev) => void log.push(`event ${ev.type} ${ev.path}`)));

    // The server crashes with a request of a's in flight.
    const inFlight = a.getData('/w').then(
      () => 'answered',
      (err: { code?: number }) => (err.code === Code.CONNECTIONLOSS ? 'connection loss' : `error ${err.code}`),
    );
    e.crash(victim);
    expect(['connection loss', 'answered']).toContain(await sim.result(inFlight));
    // While a is away, b changes the watched node (once a new leader serves, for a leader crash).
    await sim.result(
      (async () => {
        for (let i = 0; i < 100; i++) {
          const ok = await b.setData('/w', enc('1')).then(
            () => true,
            () => false,
          );
          if (ok) return;
          await e.sleep(100);
        }
        throw new Error('b could not write');
      })(),
    );
    // a comes back on another server with its session; the watch fires before the reply that shows the change.
    const data = await sim.result(
      (async () => {
        for (let i = 0; i < 100; i++) {
          const r = await a.getData('/w').then(
            (x) => x,
            () => undefined,
          );
          if (r !== undefined) return new TextDecoder().decode(r.data ?? new Uint8Array());
          await e.sleep(100);
        }
        throw new Error('a never got back');
      })(),
    );
    log.push(`reply ${data}`);
    expect(log).toEqual([`event ${EventType.NodeDataChanged} /w`, 'reply 1']);
    expect(a.sessionId).toBe(session);
    expect(a.serverIndex).not.toBe(victim - 1);
    expect(states).toContain('disconnected');
    expect(states.at(-1)).toBe('connected');
    expect(await sim.result(b.exists('/mine'))).not.toBeNull();
    e.restart(victim);
    await sim.result(a.close());
    expect(await sim.result(b.exists('/mine'))).toBeNull();
  }, 60_000);

  it('a client cut off longer than its session timeout learns that the ensemble expired its session', async () => {
    const { e, sim, refs } = setup(seed);
    expect(await sim.result(e.quiet(10_000))).toBeDefined();
    const states: ClientState[] = [];
    const a = await sim.result(CoordClient.connect(e.clientNode('a').system, refs, { sessionTimeoutMs: 1_000, requestTimeoutMs: 3_000, onState: (s) => void states.push(s) }));
    const b = await sim.result(CoordClient.connect(e.clientNode('b').system, refs, { sessionTimeoutMs: 4_000, requestTimeoutMs: 3_000 }));
    await sim.result(a.create('/mine', null, { mode: 'ephemeral' }));
    sim.partition(['a'], e.ids.map((id) => e.nodeOf(id)));
    await sim.result(e.sleep(3_000));
    // The leader expired it: the ephemeral is gone for everyone.
    expect(await sim.result(b.exists('/mine'))).toBeNull();
    sim.heal();
    await sim.result(e.sleep(2_000));
    expect(states).toEqual(['connected', 'disconnected', 'expired']);
    expect(a.closed).toBe('session expired');
    await expect(sim.result(a.getData('/'))).rejects.toMatchObject({ code: Code.SESSIONEXPIRED });
  }, 60_000);
});
