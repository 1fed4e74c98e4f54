/**
 * SESSIONMOVED on the wire (README S7): three servers on real disks, ZooKeeper's client protocol on
 * raw sockets. A session opened on server 1 is reattached on server 2 while its first socket stays
 * open; a write sent down the old socket is answered SESSIONMOVED (-118) and that socket is closed,
 * while the new socket keeps working and the write made through it stands.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Code } from '../../src/actors/coord/errors.js';
import { startCoordEnsemble, type CoordEnsembleHandle } from '../../src/actors/coord/node/ensemble.js';
import { OpCode, type ConnectResponse, type Request } from '../../src/actors/coord/protocol.js';
import { OPEN_ACL_UNSAFE } from '../../src/actors/coord/tree/acl.js';
import { consecutiveFreePorts } from '../support/zk-peer.js';
import { decodeConnectResponse, decodeReply, encodeConnectRequest, encodeRequest, opCodeOf } from '../../src/actors/coord/wire/codec.js';

const root = mkdtempSync(join(tmpdir(), 'troupe-coord-moved-'));
let ens: CoordEnsembleHandle | undefined;
const sockets: Socket[] = [];

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await ens?.close();
  rmSync(root, { recursive: true, force: true });
});

/** One raw connection: frames in, and a promise per awaited frame; `closed` resolves when the server closes it. */
function open(port: number) {
  const socket = connect(port, '127.0.0.1');
  sockets.push(socket);
  let buf = Buffer.alloc(0);
  const frames: Buffer[] = [];
  let wake: (() => void) | undefined;
  let ended = false;
  const closed = new Promise<void>((resolve) => socket.once('close', () => {
    ended = true;
    wake?.();
    resolve();
  }));
  socket.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
      frames.push(buf.subarray(4, 4 + buf.readInt32BE(0)));
      buf = buf.subarray(4 + buf.readInt32BE(0));
    }
    wake?.();
  });
  socket.on('error', () => {});
  const next = async (): Promise<Buffer> => {
    const deadline = Date.now() + 10_000;
    while (frames.length === 0) {
      if (ended) throw new Error('connection closed');
      if (Date.now() > deadline) throw new Error('no frame within 10 s');
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 50);
      });
    }
    return frames.shift() as Buffer;
  };
  let xid = 0;
  return {
    closed,
    async hello(sessionId: bigint, passwd: Uint8Array, lastZxidSeen: number): Promise<ConnectResponse> {
      socket.write(encodeConnectRequest({ protocolVersion: 0, lastZxidSeen, timeOut: 6_000, sessionId, passwd, readOnly: false }));
      return decodeConnectResponse(await next());
    },
    async call(req: Request) {
      const x = ++xid;
      socket.write(encodeRequest(x, req));
      for (;;) {
        const r = decodeReply(await next(), opCodeOf(req));
        if (r.xid === x) return r as Exclude<typeof r, { xid: -1 }>;
      }
    },
  };
}

describe('SESSIONMOVED over ZooKeeper\'s wire protocol', () => {
  it('a write through the server a session moved away from fails with -118 and that connection closes', async () => {
    ens = await startCoordEnsemble({ dataDir: root, servers: 3, basePort: await consecutiveFreePorts(3), zab: { tickMs: 100, syncLimitTicks: 5, initLimitTicks: 10, requestTimeoutMs: 5_000 } });
    await ens.ready();
    const [p1, p2] = [ens.servers[0]!.tcp.port, ens.servers[1]!.tcp.port];
    const old = open(p1);
    const hello = await old.hello(0n, new Uint8Array(16), 0);
    expect(hello.timeOut).toBeGreaterThan(0);
    const created = await old.call({ op: 'create', opCode: OpCode.create, path: '/m', data: new TextEncoder().encode('first'), acl: OPEN_ACL_UNSAFE, flags: 0 });
    expect(created.err).toBe(0);

    // The session moves to server 2; the socket to server 1 stays open.
    const moved = open(p2);
    const again = await moved.hello(hello.sessionId, hello.passwd, created.zxid);
    expect(again.sessionId).toBe(hello.sessionId);
    const fresh = await moved.call({ op: 'setData', path: '/m', data: new TextEncoder().encode('new'), version: -1 });
    expect(fresh.err).toBe(0);

    const stale = await old.call({ op: 'setData', path: '/m', data: new TextEncoder().encode('old'), version: -1 });
    expect(stale.err).toBe(Code.SESSIONMOVED);
    await old.closed;

    const read = await moved.call({ op: 'getData', path: '/m', watch: false });
    expect(read.err).toBe(0);
    expect(new TextDecoder().decode((read.body as { data: Uint8Array }).data)).toBe('new');
  }, 60_000);
});
