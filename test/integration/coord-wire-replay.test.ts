/**
 * Troupe answers the requests of a captured ZooKeeper 3.8 exchange as ZooKeeper did (README
 * "Compatibility"): every client frame of test/fixtures/zk/raw-exchange.json is sent to Troupe's
 * server in order, and the frames that come back — replies and watch notifications — must equal
 * the captured ones after normalising what legitimately differs between servers: zxids, times,
 * session ids and passwords.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCoordServer, type CoordServerHandle } from '../../src/actors/coord/node/tcp-server.js';
import { decodeConnectResponse, decodeReply, decodeRequest } from '../../src/actors/coord/wire/codec.js';
import { OpCode } from '../../src/actors/coord/protocol.js';
import { RawZkClient } from '../support/zk-raw-client.js';

interface Capture {
  connections: { label: string; frames: { dir: 'c2s' | 's2c'; hex: string }[] }[];
}
const capture = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'zk', 'raw-exchange.json'), 'utf8')) as Capture;

/** Decodes server frames to comparable values with zxids, times and session identity removed. */
function normalise(frames: Buffer[], opOfXid: Map<number, number>): unknown[] {
  const out: unknown[] = [];
  frames.forEach((f, i) => {
    const body = new Uint8Array(f.subarray(4));
    if (i === 0) {
      const c = decodeConnectResponse(body);
      out.push({ connect: { timeOut: c.timeOut, passwdLength: c.passwd.length, readOnly: c.readOnly } });
      return;
    }
    const xid = f.readInt32BE(4);
    const r = decodeReply(body, xid === -1 ? 0 : (opOfXid.get(xid) ?? -999));
    out.push(
      JSON.parse(
        JSON.stringify(r, (k, v: unknown) => {
          if (['zxid', 'czxid', 'mzxid', 'pzxid', 'ctime', 'mtime'].includes(k)) return typeof v === 'number' && v === -1 ? -1 : 'Z';
          if (typeof v === 'bigint') return v === 0n ? 0 : 'session';
          if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
          return v;
        }),
      ),
    );
  });
  return out;
}

let server: CoordServerHandle;
beforeAll(async () => {
  server = await startCoordServer({ port: 0, log: () => {} });
});
afterAll(async () => server?.close());

describe('replaying a captured ZooKeeper 3.8 exchange against Troupe', () => {
  it('gives the same replies and notifications, frame for frame (zxids, times and session ids aside)', async () => {
    const conn = capture.connections.find((c) => c.label === 'raw requests');
    expect(conn).toBeDefined();
    const frames = conn?.frames ?? [];
    const opOfXid = new Map<number, number>();
    const client = await RawZkClient.open(server.port);
    let first = true;
    for (const f of frames.filter((x) => x.dir === 'c2s')) {
      const bytes = Buffer.from(f.hex, 'hex');
      if (!first) {
        const d = decodeRequest(new Uint8Array(bytes.subarray(4)), 1 << 20);
        opOfXid.set(d.xid, d.opCode);
      }
      first = false;
      const before = client.frames.length;
      client.write(bytes);
      // One reply per request (events come ahead of it); the unknown op's reply closes the connection.
      await client.until(() => client.frames.slice(before).some((fr) => fr.readInt32BE(4) !== -1) || client.closed);
    }
    await client.until(() => client.closed);
    const expected = normalise(
      frames.filter((x) => x.dir === 's2c').map((x) => Buffer.from(x.hex, 'hex')),
      opOfXid,
    );
    const actual = normalise(client.frames, opOfXid);
    expect(actual).toEqual(expected);
    expect(opOfXid.get(0x63)).toBe(999);
    expect(opOfXid.get(1)).toBe(OpCode.create2);
  });
});
