/**
 * The assembled stack in the simulator: Zab servers replicating the coordination service's own
 * state machine (`EnsembleMachine`: the znode tree and its sessions). Seeded workloads of sessions
 * created and closed, persistent, ephemeral and sequential creates, sets and deletes, pipelined
 * through every server while the leader crashes and restarts and a follower loses power; when
 * the ensemble is quiet again every server has the same tree and session table (T7, Z1, Z2), and
 * every ephemeral node belongs to a live session (S4).
 */
import { describe, expect, it } from 'vitest';
import { coordConfig } from '../../../../src/actors/coord/config.js';
import { EnsembleMachine, type EnsembleRequest } from '../../../../src/actors/coord/ensemble/machine.js';
import type { SubmitReply } from '../../../../src/actors/coord/zab/protocol.js';
import { ensembleOf } from '../zab/ensemble.js';

const acl = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

/** The tree as data independent of insertion order (a server restored from a snapshot inserts in another order). */
function normalized(m: EnsembleMachine): string {
  const snap = m.tree.tree.serialize();
  const nodes = [...snap.nodes].sort((a, b) => (a.path < b.path ? -1 : 1)).map((n) => ({ ...n, data: n.data === null ? null : Buffer.from(n.data).toString('hex'), stat: { ...n.stat, ephemeralOwner: n.stat.ephemeralOwner.toString() } }));
  const sessions = [...snap.sessions].sort((a, b) => (a.sessionId < b.sessionId ? -1 : 1)).map((s) => ({ id: s.sessionId.toString(), t: s.timeoutMs, p: Buffer.from(s.passwd).toString('hex') }));
  return JSON.stringify({ lastZxid: snap.lastZxid, nodes, sessions });
}

describe.each([1, 2, 3])('the assembled coordination stack, seed %i', (seed) => {
  it('after leader and follower crashes, every server has the same tree and sessions when quiet', async () => {
    const e = ensembleOf({ seed, servers: 3 }, (sim) => new EnsembleMachine({ config: coordConfig(), now: () => sim.now, onApplied: () => {} }));
    const { sim } = e;
    let x = seed * 7919 + 13;
    const rand = (n: number): number => {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      return x % n;
    };
    const first = await sim.result(e.quiet(10_000));
    expect(first).toBeDefined();
    const client = e.clientNode('clients');
    const cxids = new Map<string, number>();
    let oks = 0;
    const submit = (session: string, request: EnsembleRequest): Promise<SubmitReply | undefined> => {
      const cxid = (cxids.get(session) ?? 0) + 1;
      cxids.set(session, cxid);
      const server = e.ids[rand(e.ids.length)] as number;
      return e.submit(client, server, { type: 'coord.zab.submit', session, cxid, kind: 'write', request }, 3_000).then(
        (r) => {
          if (r.ok) oks++;
          return r;
        },
        () => undefined,
      );
    };
    const sessions = [1n, 2n, 3n, 4n];
    const live = new Set<bigint>();
    const write = (sid: bigint): EnsembleRequest => {
      const k = rand(5);
      const path = rand(3) === 0 ? `/n${k}/c${rand(2)}` : `/n${k}`;
      switch (rand(7)) {
        case 0:
          if (live.has(sid)) {
            live.delete(sid);
            return { kind: 'closeSession', sessionId: sid };
          }
          live.add(sid);
          return { kind: 'createSession', sessionId: sid, timeoutMs: 10_000, passwd: new Uint8Array(16).fill(Number(sid)) };
        case 1:
        case 2:
          return { kind: 'write', request: { op: 'create', opCode: 1, path, data: new Uint8Array([k]), acl, flags: rand(3) }, sessionId: sid, authIds: [], address: '' };
        case 3:
        case 4:
          return { kind: 'write', request: { op: 'setData', path, data: new Uint8Array([rand(256)]), version: -1 }, sessionId: sid, authIds: [], address: '' };
        default:
          return { kind: 'write', request: { op: 'delete', path, version: -1 }, sessionId: sid, authIds: [], address: '' };
      }
    };
    await sim.result(
      (async () => {
        for (const sid of sessions) {
          live.add(sid);
          await submit(`c${sid}`, { kind: 'createSession', sessionId: sid, timeoutMs: 10_000, passwd: new Uint8Array(16).fill(Number(sid)) });
        }
        for (let round = 0; round < 8; round++) {
          if (round === 2) {
            const st = await Promise.all(e.ids.map((id) => e.status(id)));
            const leader = st.find((s) => s?.role === 'leading')?.id ?? 1;
            e.crash(leader);
            sim.after(1_500, () => e.restart(leader));
          }
          if (round === 5) {
            const st = await Promise.all(e.ids.map((id) => e.status(id)));
            const follower = st.find((s) => s?.role === 'following')?.id ?? 2;
            e.crash(follower);
            sim.after(800, () => e.restart(follower));
          }
          await Promise.all(sessions.map((sid) => Promise.all(Array.from({ length: 6 }, () => submit(`c${sid}`, write(sid))))));
          await e.sleep(300);
        }
      })(),
    );
    for (const id of e.ids) e.restart(id);
    const done = await sim.result(e.quiet(30_000));
    expect(done).toBeDefined();
    expect(oks).toBeGreaterThan(20);
    const trees = e.ids.map((id) => normalized(e.machines.get(id) as EnsembleMachine));
    expect(new Set(trees).size).toBe(1);
    // S4: every ephemeral belongs to a session in the replicated table.
    const tree = (e.machines.get(e.ids[0] as number) as EnsembleMachine).tree.tree;
    const snap = tree.serialize();
    const owners = new Set(snap.sessions.map((s) => s.sessionId));
    for (const n of snap.nodes) if (n.stat.ephemeralOwner > 0n && n.stat.ephemeralOwner < 1000n) expect(owners.has(n.stat.ephemeralOwner)).toBe(true);
    expect(snap.nodes.length).toBeGreaterThan(3);
  }, 120_000);
});
