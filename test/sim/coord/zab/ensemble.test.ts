/**
 * The ensemble without faults: it elects a leader, orders writes through it from every server,
 * answers each session in its order, serves reads and syncs, and every server applies the same
 * transactions (ZooKeeper review §3: "Zab for leader-based atomic broadcast", "sync causes a server
 * to apply all pending write requests before processing the read").
 */
import { describe, expect, it } from 'vitest';
import type { SubmitReply } from '../../../../src/actors/coord/zab/protocol.js';
import { epochOf } from '../../../../src/actors/coord/zab/zxid.js';
import { ensemble } from './ensemble.js';

describe.each([1, 3, 5])('a %i-server ensemble', (servers) => {
  it('elects one leader; writes through any server commit in zxid order on every server', async () => {
    const e = ensemble({ seed: 7, servers });
    const { sim } = e;
    const q = await sim.result(e.quiet(10_000));
    expect(q).toBeDefined();
    const client = e.clientNode('c1');
    const replies: SubmitReply[] = [];
    await sim.result(
      (async () => {
        const sends: Promise<SubmitReply>[] = [];
        for (let i = 0; i < 20; i++) sends.push(e.submit(client, e.ids[i % servers] as number, { type: 'coord.zab.submit', session: `s${i % servers}`, cxid: Math.floor(i / servers) + 1, kind: 'write', request: { op: 'put', key: 'k', value: `v${i}` } }));
        replies.push(...(await Promise.all(sends)));
      })(),
    );
    expect(replies.every((r) => r.ok)).toBe(true);
    const zxids = replies.map((r) => (r.ok ? r.value.zxid : 0));
    expect(new Set(zxids).size).toBe(20);
    const versions = replies.map((r) => (r.ok ? (r.value.result as { version: number }).version : 0)).sort((a, b) => a - b);
    expect(versions).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    const done = await sim.result(e.quiet(10_000));
    expect(done).toBeDefined();
    expect(epochOf(done!.zxid)).toBeGreaterThan(0);
    const images = e.ids.map((id) => Buffer.from(e.machines.get(id)!.snapshot()).toString('hex'));
    expect(new Set(images).size).toBe(1);
  });
});

describe('reads and sync', () => {
  it('a read after sync on a follower reflects every write committed before the sync began', async () => {
    const e = ensemble({ seed: 11, servers: 3 });
    const { sim } = e;
    const q = await sim.result(e.quiet(10_000));
    const follower = e.ids.find((id) => id !== q!.leader)!;
    const c = e.clientNode('c1');
    const w = await sim.result(e.submit(c, q!.leader, { type: 'coord.zab.submit', session: 'a', cxid: 1, kind: 'write', request: { op: 'put', key: 'x', value: 'one' } }));
    expect(w.ok).toBe(true);
    // Sync then read, pipelined on one session: the read is answered after the sync.
    const [s, r] = await sim.result(
      Promise.all([
        e.submit(c, follower, { type: 'coord.zab.submit', session: 'b', cxid: 1, kind: 'sync' }),
        e.submit(c, follower, { type: 'coord.zab.submit', session: 'b', cxid: 2, kind: 'read', request: { op: 'get', key: 'x' } }),
      ]),
    );
    expect(s.ok).toBe(true);
    expect(r.ok && r.value.result).toEqual({ value: 'one', version: 1 });
  });

  it('a session reads its own writes: a read queued behind its write is answered after it', async () => {
    const e = ensemble({ seed: 12, servers: 3 });
    const { sim } = e;
    const q = await sim.result(e.quiet(10_000));
    const follower = e.ids.find((id) => id !== q!.leader)!;
    const c = e.clientNode('c1');
    const [w, r] = await sim.result(
      Promise.all([
        e.submit(c, follower, { type: 'coord.zab.submit', session: 'a', cxid: 1, kind: 'write', request: { op: 'put', key: 'x', value: 'mine' } }),
        e.submit(c, follower, { type: 'coord.zab.submit', session: 'a', cxid: 2, kind: 'read', request: { op: 'get', key: 'x' } }),
      ]),
    );
    expect(w.ok).toBe(true);
    expect(r.ok && r.value.result).toEqual({ value: 'mine', version: 1 });
    expect(r.ok && w.ok && r.value.zxid >= w.value.zxid).toBe(true);
  });
});

describe('bad input and limits (Z7, Z13)', () => {
  it('a malformed request gets bad_request and changes nothing; the server goes on serving', async () => {
    const e = ensemble({ seed: 13, servers: 3 });
    const { sim } = e;
    const q = await sim.result(e.quiet(10_000));
    const c = e.clientNode('c1');
    const bad = [
      { type: 'coord.zab.submit', session: '', cxid: 1, kind: 'write', request: {} },
      { type: 'coord.zab.submit', session: 'a', cxid: -1, kind: 'write', request: {} },
      { type: 'coord.zab.submit', session: 'a', cxid: 1, kind: 'delete', request: {} },
      { type: 'coord.zab.submit', session: 'a', cxid: 1, kind: 'read', seenZxid: 'x' },
    ] as unknown as Parameters<typeof e.submit>[2][];
    for (const m of bad) {
      const r = await sim.result(e.submit(c, q!.leader, m));
      expect(r.ok === false && r.error.code).toBe('bad_request');
    }
    // A write the state machine refuses is ordered and answered with its own error, nothing applied.
    const refused = await sim.result(e.submit(c, q!.leader, { type: 'coord.zab.submit', session: 'a', cxid: 1, kind: 'write', request: { op: 'cas', key: 'x', version: 5, value: 'no' } }));
    expect(refused.ok === false && refused.error.code).toBe('bad_version');
    const ok = await sim.result(e.submit(c, q!.leader, { type: 'coord.zab.submit', session: 'a', cxid: 2, kind: 'write', request: { op: 'put', key: 'x', value: 'yes' } }));
    expect(ok.ok && ok.value.result).toEqual({ version: 1 });
    const after = await sim.result(e.quiet(10_000));
    expect(after).toBeDefined();
    for (const id of e.ids) expect(e.machines.get(id)!.map.get('x')?.value).toBe('yes');
  });

  it('a request behind a later one of its session (it came the long way round) is refused as stale', async () => {
    const e = ensemble({ seed: 14, servers: 3 });
    const { sim } = e;
    const q = await sim.result(e.quiet(10_000));
    const c = e.clientNode('c1');
    const w5 = await sim.result(e.submit(c, q!.leader, { type: 'coord.zab.submit', session: 'moved', cxid: 5, kind: 'write', request: { op: 'put', key: 'k', value: 'five' } }));
    expect(w5.ok).toBe(true);
    const follower = e.ids.find((id) => id !== q!.leader)!;
    const w4 = await sim.result(e.submit(c, follower, { type: 'coord.zab.submit', session: 'moved', cxid: 4, kind: 'write', request: { op: 'put', key: 'k', value: 'four' } }));
    expect(w4.ok === false && w4.error.code).toBe('stale_request');
    expect(e.machines.get(q!.leader)!.map.get('k')?.value).toBe('five');
  });

  it('a server holds at most pendingRequestsMax requests; beyond, queue_full, and the held ones complete', async () => {
    const e = ensemble({ seed: 15, servers: 3, config: { pendingRequestsMax: 5 } });
    const { sim } = e;
    const q = await sim.result(e.quiet(10_000));
    const c = e.clientNode('c1');
    const replies = await sim.result(Promise.all(Array.from({ length: 8 }, (_, i) => e.submit(c, q!.leader, { type: 'coord.zab.submit', session: 's', cxid: i + 1, kind: 'write', request: { op: 'put', key: 'k', value: `${i}` } }))));
    expect(replies.filter((r) => r.ok).length).toBe(5);
    expect(replies.filter((r) => !r.ok && r.error.code === 'queue_full').length).toBe(3);
  });

  it('writes to a server that is not serving are refused with not_ready (nothing was forwarded)', async () => {
    const e = ensemble({ seed: 16, servers: 3 });
    const { sim } = e;
    const q = await sim.result(e.quiet(10_000));
    const lone = e.ids.find((id) => id !== q!.leader)!;
    sim.partition([e.nodeOf(lone)], e.ids.filter((id) => id !== lone).map(e.nodeOf));
    await sim.run({ forMs: 2_000 });
    const c = e.clientNode('c1');
    const r = await sim.result(e.submit(c, lone, { type: 'coord.zab.submit', session: 's', cxid: 1, kind: 'write', request: { op: 'put', key: 'k', value: 'v' } }));
    expect(r.ok === false && r.error.code).toBe('not_ready');
    const st = await sim.result(e.status(lone));
    expect(st?.role).toBe('looking');
  });
});
