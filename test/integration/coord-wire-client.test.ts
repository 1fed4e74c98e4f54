/**
 * The TCP ZooKeeper client (src/actors/coord/node/wire-client.ts) against Troupe's standalone
 * server and against a real ZooKeeper 3.8: the same assertions for both.
 */
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCoordServer, type CoordServerHandle } from '../../src/actors/coord/node/tcp-server.js';
import { ZkConnectError, ZkWireClient, fourLetterWord } from '../../src/actors/coord/node/wire-client.js';
import { Code, CoordClientError } from '../../src/actors/coord/errors.js';
import { CreateFlag, EventType } from '../../src/actors/coord/protocol.js';
import { freePort, startZooKeeper, type ZooKeeperPeer } from '../support/zk-peer.js';

const acl = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array | null): string => (b === null ? '' : new TextDecoder().decode(b));

async function codeOf(p: Promise<unknown>): Promise<number> {
  try {
    await p;
  } catch (e) {
    if (e instanceof CoordClientError) return e.code;
    throw e;
  }
  return 0;
}

let troupe: CoordServerHandle;
let zk: ZooKeeperPeer;
beforeAll(async () => {
  troupe = await startCoordServer({ port: 0, log: () => undefined });
  zk = await startZooKeeper();
}, 180_000);
afterAll(async () => {
  await troupe?.close();
  await zk?.stop();
});

const targets: Array<[string, () => string]> = [
  ['troupe', () => troupe.connectString],
  ['zookeeper 3.8', () => `127.0.0.1:${zk.port}`],
];

describe.each(targets)('wire client against %s', (_name, connectString) => {
  it('creates, reads, sets, lists, syncs, changes ACLs and deletes', async () => {
    const c = await ZkWireClient.connect({ connectString: connectString(), sessionTimeoutMs: 10_000 });
    try {
      expect(c.sessionId).not.toBe(0n);
      const created = await c.create('/wc', enc('hello'), acl, CreateFlag.persistent);
      expect(created.path).toBe('/wc');
      expect(created.stat?.version).toBe(0);
      const got = await c.getData('/wc');
      expect(dec(got.data)).toBe('hello');
      expect(got.stat.dataLength).toBe(5);
      const s1 = await c.setData('/wc', enc('world'), 0);
      expect(s1.version).toBe(1);
      expect(await codeOf(c.setData('/wc', enc('x'), 0))).toBe(Code.BADVERSION);
      expect(await codeOf(c.create('/wc', null, acl, 0))).toBe(Code.NODEEXISTS);
      expect(await codeOf(c.getData('/nope'))).toBe(Code.NONODE);
      const seq1 = await c.create('/wc/s-', null, acl, CreateFlag.persistentSequential);
      const seq2 = await c.create('/wc/s-', null, acl, CreateFlag.persistentSequential);
      expect(seq1.path).toBe('/wc/s-0000000000');
      expect(seq2.path).toBe('/wc/s-0000000001');
      expect((await c.getChildren('/wc')).children.sort()).toEqual(['s-0000000000', 's-0000000001']);
      expect(await codeOf(c.delete('/wc'))).toBe(Code.NOTEMPTY);
      expect(await c.sync('/wc')).toBe('/wc');
      const digest = { perms: 1, id: { scheme: 'digest', id: 'user:tpBMZhm5wZMdaNhs1LDxlePM4J8=' } };
      await c.setACL('/wc/s-0000000000', [acl[0] as (typeof acl)[0], digest]);
      const a = await c.getACL('/wc/s-0000000000');
      expect(a.acl).toEqual([acl[0], digest]);
      expect(a.stat.aversion).toBe(1);
      expect(await c.exists('/wc/none')).toBeUndefined();
      await c.delete('/wc/s-0000000000');
      await c.delete('/wc/s-0000000001');
      await c.delete('/wc', 1);
      expect(await c.exists('/wc')).toBeUndefined();
    } finally {
      await c.close();
    }
  });

  it('delivers a watch event set by getData when another session changes the node', async () => {
    const a = await ZkWireClient.connect({ connectString: connectString() });
    const b = await ZkWireClient.connect({ connectString: connectString() });
    try {
      await a.create('/ww', enc('1'), acl, 0);
      await a.getData('/ww', true);
      await a.getChildren('/ww', true);
      await b.setData('/ww', enc('2'));
      expect(await a.nextEvent(10_000)).toEqual({ type: EventType.NodeDataChanged, state: 3, path: '/ww' });
      await b.create('/ww/c', null, acl, 0);
      expect(await a.nextEvent(10_000)).toEqual({ type: EventType.NodeChildrenChanged, state: 3, path: '/ww' });
      // One-time: a second change fires nothing.
      await b.setData('/ww', enc('3'));
      await b.delete('/ww/c');
      await a.sync('/ww');
      // Events come before the reply that reflects them (W3): after the sync reply, none is queued.
      expect(await a.nextEvent(0)).toBeUndefined();
      await b.delete('/ww');
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('removes ephemeral nodes when the session closes', async () => {
    const a = await ZkWireClient.connect({ connectString: connectString() });
    const b = await ZkWireClient.connect({ connectString: connectString() });
    try {
      await a.create('/eph', null, acl, CreateFlag.ephemeral);
      const st = await b.exists('/eph', true);
      expect(st?.ephemeralOwner).toBe(a.sessionId);
      await a.close();
      expect(await b.nextEvent(10_000)).toEqual({ type: EventType.NodeDeleted, state: 3, path: '/eph' });
      expect(await b.exists('/eph')).toBeUndefined();
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('moves to the next server when one in the connect string refuses', async () => {
    const dead = await freePort();
    const c = await ZkWireClient.connect({ connectString: `127.0.0.1:${dead},${connectString()}`, inOrder: true });
    try {
      expect(c.server).toBe(connectString());
      expect(await c.exists('/')).toBeDefined();
    } finally {
      await c.close();
    }
  });

  it('answers mntr with the server state', async () => {
    const [host, port] = connectString().split(':');
    const text = await fourLetterWord({ host: host as string, port: Number(port) }, 'mntr', 5_000);
    expect(text).toMatch(/zk_server_state\tstandalone/);
    expect(text).toMatch(/zk_znode_count\t\d+/);
  });
});

describe('wire client sessions (troupe)', () => {
  it('keeps its session across a dropped connection and re-registers its watches', async () => {
    // A relay in front of the server whose connections the test cuts.
    const relayed = new Set<Socket>();
    const relay = createServer((inbound) => {
      const outbound = connect(troupe.port, '127.0.0.1');
      relayed.add(inbound);
      inbound.pipe(outbound).pipe(inbound);
      const end = (): void => {
        relayed.delete(inbound);
        inbound.destroy();
        outbound.destroy();
      };
      inbound.on('close', end).on('error', end);
      outbound.on('close', end).on('error', end);
    });
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', () => r()));
    const relayPort = (relay.address() as AddressInfo).port;
    const c = await ZkWireClient.connect({ connectString: `127.0.0.1:${relayPort}`, sessionTimeoutMs: 10_000 });
    const other = await ZkWireClient.connect({ connectString: troupe.connectString });
    try {
      await c.create('/keep', null, acl, CreateFlag.ephemeral);
      await c.getData('/keep', true);
      const id = c.sessionId;
      for (const s of relayed) s.destroy();
      await other.setData('/keep', enc('changed'));
      // Reconnected with its id and password; setWatches fires the change it missed.
      expect(await c.nextEvent(10_000)).toEqual({ type: EventType.NodeDataChanged, state: 3, path: '/keep' });
      expect(c.sessionId).toBe(id);
      expect((await c.exists('/keep'))?.ephemeralOwner).toBe(id);
    } finally {
      await c.close();
      await other.close();
      await new Promise<void>((r) => relay.close(() => r()));
    }
  });

  it('refuses requests beyond its outstanding limit and serves the ones within it', async () => {
    const c = await ZkWireClient.connect({ connectString: troupe.connectString, outstandingMax: 2 });
    try {
      const [r1, r2, r3] = await Promise.allSettled([c.exists('/'), c.exists('/zookeeper'), c.exists('/')]);
      expect(r1.status).toBe('fulfilled');
      expect(r2.status).toBe('fulfilled');
      expect(r3.status === 'rejected' && (r3.reason as CoordClientError).code).toBe(Code.THROTTLEDOP);
      expect(await c.exists('/')).toBeDefined();
    } finally {
      await c.close();
    }
  });

  it('fails with ZkConnectError when no server answers', async () => {
    const dead = await freePort();
    await expect(ZkWireClient.connect({ connectString: `127.0.0.1:${dead}`, connectTimeoutMs: 1_000 })).rejects.toBeInstanceOf(ZkConnectError);
  });
});
