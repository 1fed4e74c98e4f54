/**
 * The assembled coordination service: three Zab servers with the znode tree on real disks, each
 * with its own ZooKeeper client port, driven through node-zookeeper-client (README "Assembled
 * server"). Writes through any server, sequential and ephemeral nodes, a watch firing, the
 * leader stopped (the client's session moves to another server and its ephemeral survives), and
 * the ensemble restarted from its data directory with its committed znodes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startCoordEnsemble, type CoordEnsembleHandle } from '../../src/actors/coord/node/ensemble.js';
import { closeNzk, connectNzk, nzk, type NzkClient } from '../support/zk-differential.js';
import { freePort } from '../support/zk-peer.js';

const root = mkdtempSync(join(tmpdir(), 'troupe-coord-ens-'));
let ens: CoordEnsembleHandle | undefined;
const clients: NzkClient[] = [];

afterAll(async () => {
  for (const c of clients) c.close();
  await ens?.close();
  rmSync(root, { recursive: true, force: true });
});

type Cb<T extends unknown[]> = (err: { code: number } | null, ...rest: T) => void;
const call = <T extends unknown[]>(fn: (cb: Cb<T>) => void): Promise<{ err: number; rest: T }> => new Promise((resolve) => fn((err, ...rest) => resolve({ err: err ? err.code : 0, rest })));
const OPEN = (nzk as unknown as { ACL: { OPEN_ACL_UNSAFE: unknown } }).ACL.OPEN_ACL_UNSAFE;
const zab = { tickMs: 100, syncLimitTicks: 5, initLimitTicks: 10, requestTimeoutMs: 5_000 };

async function basePort(): Promise<number> {
  // Three consecutive free ports: probe until the two after a free one are free too.
  for (;;) {
    const p = await freePort();
    if (p > 65_000) continue;
    const { createServer } = await import('node:net');
    const ok = await Promise.all([p + 1, p + 2].map((q) => new Promise<boolean>((r) => { const s = createServer(); s.once('error', () => r(false)); s.listen(q, '127.0.0.1', () => s.close(() => r(true))); })));
    if (ok.every(Boolean)) return p;
  }
}

describe('a 3-server coordination ensemble on real disks', () => {
  it('serves ZooKeeper clients through any server, survives the leader stopping, and recovers from its data directory', async () => {
    const port = await basePort();
    ens = await startCoordEnsemble({ dataDir: root, servers: 3, basePort: port, zab, log: () => {} });
    expect(ens.connectString).toBe(`127.0.0.1:${port},127.0.0.1:${port + 1},127.0.0.1:${port + 2}`);
    const leader = await ens.ready();

    // One client per server.
    const zs: NzkClient[] = [];
    for (const s of ens.servers) {
      const c = await connectNzk(`127.0.0.1:${s.tcp.port}`, 4_000);
      clients.push(c);
      zs.push(c);
    }
    const [a, b, c] = zs as [NzkClient, NzkClient, NzkClient];

    expect((await call<[string]>((cb) => a.create('/app', Buffer.from('v0'), OPEN, 0, cb))).err).toBe(0);
    // Written at server 1, read at server 2 (the create's reply came after server 1 applied it; server 2 may lag, so wait for it).
    for (let i = 0; i < 100 && (await call((cb) => b.exists('/app', undefined, cb as never))).rest[0] === null; i++) await new Promise((res) => setTimeout(res, 20));
    const got = await call<[Buffer]>((cb) => b.getData('/app', undefined, cb));
    expect([got.err, got.rest[0]?.toString()]).toEqual([0, 'v0']);

    // A watch set at server 3 fires when server 2 changes the node.
    const fired = new Promise<{ type: number; path: string }>((resolve) => c.getData('/app', (e) => resolve({ type: (e as unknown as { type: number }).type, path: (e as unknown as { path: string }).path }), () => {}));
    const set = await call<[{ version: number }]>((cb) => b.setData('/app', Buffer.from('v1'), 0, cb as never));
    expect(set.err).toBe(0);
    expect(await fired).toEqual({ type: 3, path: '/app' });
    // A conditional set with a stale version fails with BADVERSION (-103).
    expect((await call((cb) => a.setData('/app', Buffer.from('x'), 0, cb as never))).err).toBe(-103);

    // Delete, conditional on the version: a wrong one is BADVERSION (-103), the right one removes the node everywhere.
    expect((await call<[string]>((cb) => c.create('/tmp', Buffer.from('t'), OPEN, 0, cb))).err).toBe(0);
    expect((await call((cb) => a.remove('/tmp', 5, cb as never))).err).toBe(-103);
    expect((await call((cb) => a.remove('/tmp', 0, cb as never))).err).toBe(0);
    expect((await call((cb) => a.exists('/tmp', undefined, cb as never))).rest[0]).toBeNull();

    // Sequential nodes get the parent's counter, in order.
    const seq: string[] = [];
    for (let i = 0; i < 3; i++) seq.push((await call<[string]>((cb) => zs[i]!.create('/app/s-', Buffer.alloc(0), OPEN, nzk.CreateMode.PERSISTENT_SEQUENTIAL as number, cb))).rest[0]);
    expect(seq).toEqual(['/app/s-0000000000', '/app/s-0000000001', '/app/s-0000000002']);

    // An ephemeral of a client connected to the leader; then the leader stops.
    const onLeader = zs[leader - 1] as NzkClient;
    expect((await call<[string]>((cb) => onLeader.create('/app/eph', Buffer.from('me'), OPEN, nzk.CreateMode.EPHEMERAL as number, cb))).err).toBe(0);
    // The moving client: given the whole ensemble, it connects to one server at random; keep the
    // one that landed on the leader (a session id's high byte is the server that created it, S6).
    let leaderClient: NzkClient | undefined;
    for (let i = 0; i < 50 && leaderClient === undefined; i++) {
      const x = nzk.createClient(ens.connectString, { sessionTimeout: 10_000, spinDelay: 100, retries: 0 });
      await new Promise<void>((r) => { x.once('connected', () => r()); x.connect(); });
      if (x.getSessionId()[0] === leader) leaderClient = x;
      else await closeNzk(x);
    }
    if (leaderClient === undefined) throw new Error('no client session landed on the leader');
    clients.push(leaderClient);
    expect((await call<[string]>((cb) => leaderClient.create('/app/mover', Buffer.from('m'), OPEN, nzk.CreateMode.EPHEMERAL as number, cb))).err).toBe(0);
    const moverSession = leaderClient.getSessionId().toString('hex');

    await (ens.servers[leader - 1] as { stop(): Promise<void> }).stop();
    const newLeader = await ens.ready();
    expect(newLeader).not.toBe(leader);

    // The mover keeps its session on another server and keeps working; its ephemeral survived.
    let ok = 0;
    for (let i = 0; i < 200 && ok === 0; i++) {
      const r = await call<[Buffer]>((cb) => leaderClient.getData('/app/mover', undefined, cb));
      if (r.err === 0) ok = 1;
      else await new Promise((res) => setTimeout(res, 100));
    }
    expect(ok).toBe(1);
    expect(leaderClient.getSessionId().toString('hex')).toBe(moverSession);
    let wrote = -1;
    for (let i = 0; i < 200 && wrote !== 0; i++) {
      wrote = (await call<[string]>((cb) => leaderClient.create('/app/after', Buffer.from('a'), OPEN, 0, cb))).err;
      if (wrote === -110) wrote = 0; // NODEEXISTS: an earlier attempt committed before its connection dropped.
      if (wrote !== 0) await new Promise((res) => setTimeout(res, 100));
    }
    expect(wrote).toBe(0);
    const survivor = zs.find((_, i) => i + 1 !== leader) as NzkClient;
    const eph = await call<[unknown]>((cb) => survivor.exists('/app/mover', undefined, cb as never));
    expect(eph.err === 0 && eph.rest[0] !== null).toBe(true);

    // Session expiry is the leader's decision (S2), with the followers' traffic passed to it: a
    // session that lived only on the stopped server expires and its ephemeral goes, while the
    // sessions of clients idle on followers (pinging) live on.
    const idle = zs.filter((_, i) => i + 1 !== leader);
    const idleEph: string[] = [];
    for (const [i, z] of idle.entries()) {
      expect((await call<[string]>((cb) => z.create(`/app/idle${i}`, Buffer.alloc(0), OPEN, nzk.CreateMode.EPHEMERAL as number, cb))).err).toBe(0);
      idleEph.push(`/app/idle${i}`);
    }
    let gone = false;
    for (let i = 0; i < 300 && !gone; i++) {
      gone = (await call<[unknown]>((cb) => survivor.exists('/app/eph', undefined, cb as never))).rest[0] === null;
      if (!gone) await new Promise((res) => setTimeout(res, 100));
    }
    expect(gone).toBe(true);
    for (const p of idleEph) expect((await call<[unknown]>((cb) => survivor.exists(p, undefined, cb as never))).rest[0]).not.toBeNull();

    // Restart the whole ensemble from its data directory: committed znodes are there.
    for (const x of clients.splice(0)) x.close();
    await ens.close();
    ens = await startCoordEnsemble({ dataDir: root, servers: 3, basePort: port, zab, log: () => {} });
    await ens.ready();
    const again = await connectNzk(ens.connectString);
    clients.push(again);
    const kids = await call<[string[]]>((cb) => again.getChildren('/app', undefined, cb));
    expect(kids.err).toBe(0);
    expect(kids.rest[0].filter((k) => !['mover', 'idle0', 'idle1'].includes(k)).sort()).toEqual(['after', 's-0000000000', 's-0000000001', 's-0000000002']);
    const app = await call<[Buffer]>((cb) => again.getData('/app', undefined, cb));
    expect(app.rest[0]?.toString()).toBe('v1');
    await closeNzk(again);
    clients.splice(0);
  }, 120_000);
});
