/**
 * Troupe's standalone coordination server on a real TCP port: sessions across connections, the
 * four-letter words, and bad input (README invariants C1–C7, S3, S5). Every bad client gets
 * ZooKeeper's answer or a closed connection with a logged reason, and the server keeps serving
 * the others.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCoordServer, type CoordServerHandle } from '../../src/actors/coord/node/tcp-server.js';
import { decodeConnectResponse, decodeReply, encodeConnectRequest, encodeRequest } from '../../src/actors/coord/wire/codec.js';
import { Code } from '../../src/actors/coord/errors.js';
import { OpCode, type Reply } from '../../src/actors/coord/protocol.js';
import { RawZkClient } from '../support/zk-raw-client.js';
import { closeNzk, connectNzk, nzk } from '../support/zk-differential.js';
import { fourLetter } from '../support/zk-peer.js';

const logged: string[] = [];
let server: CoordServerHandle;
beforeAll(async () => {
  server = await startCoordServer({ port: 0, log: (_level, message) => void logged.push(message), config: { maxBufferBytes: 4096 } });
});
afterAll(async () => server?.close());

const acl = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

async function session(): Promise<{ c: RawZkClient; sessionId: bigint; passwd: Uint8Array }> {
  const c = await RawZkClient.open(server.port);
  c.write(encodeConnectRequest({ protocolVersion: 0, lastZxidSeen: 0, timeOut: 30_000, sessionId: 0n, passwd: new Uint8Array(16) }));
  await c.until(() => c.frames.length >= 1);
  const r = decodeConnectResponse(new Uint8Array((c.frames[0] as Buffer).subarray(4)));
  return { c, sessionId: r.sessionId, passwd: r.passwd };
}

async function ask(c: RawZkClient, xid: number, frame: Uint8Array, opCode: number): Promise<Reply> {
  const before = c.frames.length;
  c.write(frame);
  await c.until(() => c.frames.slice(before).some((f) => f.readInt32BE(4) === xid));
  const f = c.frames.slice(before).find((x) => x.readInt32BE(4) === xid) as Buffer;
  return decodeReply(new Uint8Array(f.subarray(4)), opCode) as Reply;
}

/** A healthy client still gets served after whatever another client did. */
async function stillServing(): Promise<void> {
  const zk = await connectNzk(server.connectString);
  const ok = await new Promise<number>((r) => zk.exists('/', undefined, (e) => r(e ? e.code : 0)));
  expect(ok).toBe(0);
  await closeNzk(zk);
}

describe('sessions over TCP', () => {
  it('a session id and password reattach on a new connection; the first connection is closed (S3)', async () => {
    const a = await session();
    const create = await ask(a.c, 1, encodeRequest(1, { op: 'create', opCode: 1, path: '/moving', data: null, acl, flags: 1 }), OpCode.create);
    expect(create.err).toBe(0);
    const b = await RawZkClient.open(server.port);
    b.write(encodeConnectRequest({ protocolVersion: 0, lastZxidSeen: create.zxid, timeOut: 30_000, sessionId: a.sessionId, passwd: a.passwd }));
    await b.until(() => b.frames.length >= 1);
    const r = decodeConnectResponse(new Uint8Array((b.frames[0] as Buffer).subarray(4)));
    expect(r.sessionId).toBe(a.sessionId);
    expect(r.timeOut).toBe(30_000);
    await a.c.until(() => a.c.closed);
    // The ephemeral survived the move: the session is the same.
    const exists = await ask(b, 2, encodeRequest(2, { op: 'exists', path: '/moving', watch: false }), OpCode.exists);
    expect(exists.err).toBe(0);
    b.close();
  });

  it('a wrong password gets timeout 0 and a closed connection, as ZooKeeper answers (S5); the session is untouched', async () => {
    const a = await session();
    const wrong = new Uint8Array(a.passwd);
    wrong[0] = (wrong[0] ?? 0) ^ 0xff;
    const b = await RawZkClient.open(server.port);
    b.write(encodeConnectRequest({ protocolVersion: 0, lastZxidSeen: 0, timeOut: 30_000, sessionId: a.sessionId, passwd: wrong }));
    await b.until(() => b.closed);
    const r = decodeConnectResponse(new Uint8Array((b.frames[0] as Buffer).subarray(4)));
    expect(r.timeOut).toBe(0);
    expect(r.sessionId).toBe(0n);
    expect(logged.some((m) => m.includes('wrong password'))).toBe(true);
    const ping = await ask(a.c, -2, encodeRequest(-2, { op: 'ping' }), OpCode.ping);
    expect(ping.err).toBe(0);
    a.c.close();
  });

  it('timeouts are negotiated into [2, 20] ticks (S1)', async () => {
    for (const [asked, got] of [
      [1, 4000],
      [10_000, 10_000],
      [3_600_000, 40_000],
    ] as const) {
      const c = await RawZkClient.open(server.port);
      c.write(encodeConnectRequest({ protocolVersion: 0, lastZxidSeen: 0, timeOut: asked, sessionId: 0n, passwd: new Uint8Array(16) }));
      await c.until(() => c.frames.length >= 1);
      expect(decodeConnectResponse(new Uint8Array((c.frames[0] as Buffer).subarray(4))).timeOut).toBe(got);
      c.close();
    }
  });

  it('session ids carry the server id in the high byte (S6)', async () => {
    const a = await session();
    expect(BigInt.asUintN(64, a.sessionId) >> 56n).toBe(1n);
    expect(a.passwd.length).toBe(16);
    a.c.close();
  });

  it('node-zookeeper-client: ephemerals go when the session closes, and a watcher on another session sees it first (S4, W3)', async () => {
    const owner = await connectNzk(server.connectString);
    const watcher = await connectNzk(server.connectString);
    await new Promise<void>((r) => owner.create('/eph-owner', Buffer.from('x'), nzk.ACL.OPEN_ACL_UNSAFE, 1, () => r()));
    const events: string[] = [];
    await new Promise<void>((r) => watcher.exists('/eph-owner', (e) => void events.push(`${e.getName()} ${e.getPath()}`), () => r()));
    await closeNzk(owner);
    const stat = await new Promise<unknown>((r) => watcher.exists('/eph-owner', undefined, (_e, s) => r(s)));
    expect(stat).toBeNull();
    expect(events).toEqual(['NODE_DELETED /eph-owner']);
    await closeNzk(watcher);
  });
});

describe('four-letter words on the client port', () => {
  it('ruok, srvr, stat, mntr and conf answer as ZooKeeper formats them', async () => {
    expect(await fourLetter(server.port, 'ruok')).toBe('imok');
    const srvr = await fourLetter(server.port, 'srvr');
    expect(srvr).toMatch(/^Zookeeper version: .*\nLatency min\/avg\/max: .*\nReceived: \d+\nSent: \d+\nConnections: \d+\nOutstanding: \d+\nZxid: 0x[0-9a-f]+\nMode: standalone\nNode count: \d+\n$/);
    expect(await fourLetter(server.port, 'stat')).toContain('Clients:\n');
    const mntr = await fourLetter(server.port, 'mntr');
    expect(mntr).toMatch(/^zk_version\t/);
    expect(mntr).toMatch(/\nzk_znode_count\t\d+\n/);
    expect(mntr).toMatch(/\nzk_server_state\tstandalone\n/);
    expect(await fourLetter(server.port, 'conf')).toContain(`clientPort=${server.port}\n`);
  });
});

describe('bad input (C1–C7)', () => {
  it('a frame longer than jute.maxbuffer closes the connection with a logged reason (C1)', async () => {
    const a = await session();
    const frame = Buffer.alloc(8);
    frame.writeInt32BE(4096 + 1024 + 1, 0);
    a.c.write(frame);
    await a.c.until(() => a.c.closed);
    expect(logged.some((m) => m.includes('exceeds jute.maxbuffer'))).toBe(true);
    await stillServing();
  });

  it('a negative frame length closes the connection (C1)', async () => {
    const c = await RawZkClient.open(server.port);
    c.write(Buffer.from('ffffff00', 'hex'));
    await c.until(() => c.closed);
    await stillServing();
  });

  it('a request body that does not decode closes the connection, the session lives on (C2)', async () => {
    const a = await session();
    a.c.write(Buffer.from('000000090000000500000004ff', 'hex'));
    await a.c.until(() => a.c.closed);
    expect(logged.some((m) => m.includes('malformed request'))).toBe(true);
    expect(server.core.sessions.isLive(a.sessionId)).toBe(true);
    await stillServing();
  });

  it('an unknown op code is answered UNIMPLEMENTED and the connection closed (C3)', async () => {
    const a = await session();
    a.c.write(Buffer.from('0000000800000007000003e7', 'hex'));
    await a.c.until(() => a.c.closed);
    const r = decodeReply(new Uint8Array((a.c.frames[1] as Buffer).subarray(4)), 999) as Reply;
    expect(r).toEqual({ xid: 7, zxid: -1, err: Code.UNIMPLEMENTED });
    await stillServing();
  });

  it('an invalid path is BADARGUMENTS; data over jute.maxbuffer is BADARGUMENTS; nothing is created (C4, C5)', async () => {
    const a = await session();
    const bad = await ask(a.c, 1, encodeRequest(1, { op: 'create', opCode: 1, path: '/a//b', data: null, acl, flags: 0 }), OpCode.create);
    expect(bad.err).toBe(Code.BADARGUMENTS);
    const big = await ask(a.c, 2, encodeRequest(2, { op: 'create', opCode: 1, path: '/big', data: new Uint8Array(4097), acl, flags: 0 }), OpCode.create);
    expect(big.err).toBe(Code.BADARGUMENTS);
    const exists = await ask(a.c, 3, encodeRequest(3, { op: 'exists', path: '/big', watch: false }), OpCode.exists);
    expect(exists.err).toBe(Code.NONODE);
    a.c.close();
  });

  it('a client that has seen a newer zxid than this server is refused, as ZooKeeper refuses it (C6)', async () => {
    const c = await RawZkClient.open(server.port);
    c.write(encodeConnectRequest({ protocolVersion: 0, lastZxidSeen: 1e12, timeOut: 30_000, sessionId: 0n, passwd: new Uint8Array(16) }));
    await c.until(() => c.closed);
    expect(logged.some((m) => m.includes('client has seen zxid'))).toBe(true);
  });

  it('a client that floods requests without reading replies stops being read; others are served (C7)', async () => {
    const a = await session();
    // 20k getData requests of a 4 KiB node (~80 MiB of replies) the client never reads.
    const setup = await ask(a.c, 1, encodeRequest(1, { op: 'create', opCode: 1, path: '/flood', data: new Uint8Array(4000), acl, flags: 0 }), OpCode.create);
    expect(setup.err).toBe(0);
    a.c.socket.pause();
    const one = Buffer.from(encodeRequest(5, { op: 'getData', path: '/flood', watch: false }));
    const burst = Buffer.concat(Array.from({ length: 20_000 }, () => one));
    a.c.socket.write(burst);
    await stillServing();
    // Reading them all would need ~80 MiB of replies queued; the output bound stops reading far earlier.
    const flooder = server.core.connectionStats().reduce((m, c) => (c.received > m ? c.received : m), 0);
    expect(flooder).toBeLessThan(20_000);
    a.c.close();
  });
});
