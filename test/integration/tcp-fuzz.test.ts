import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MessageDecoder, MessageEncoder } from '../../src/runtime/transport/codec.js';
import { FrameDecoder, encodeFrame } from '../../src/runtime/transport/frame.js';
import { answerChallenge, makeHello, parseHandshake, type Challenge, type HandshakeIdentity } from '../../src/runtime/transport/handshake.js';
import { seededRandom } from '../../src/runtime/random.js';
import { tcpNode, tell, until, type TcpTestNode } from '../support/tcp-node.js';

/**
 * DESIGN.md §3: "A malformed, oversized or unauthenticated frame closes that connection with a
 * logged reason; the process goes on." 10,000+ hostile inputs against one listener, while a good
 * peer keeps sending through it.
 */

const INPUTS = 10_000;
const CONCURRENCY = 48;
const SEED = 20261121;

const enc = new MessageEncoder();
const frame = (value: unknown): Uint8Array => Buffer.concat(encodeFrame(enc.encode(value).header, [], 1 << 20));
const rawFrame = (header: Uint8Array): Uint8Array => Buffer.concat(encodeFrame(header, [], 1 << 20));

let server: TcpTestNode;
let good: TcpTestNode;
const rejectedByPort = new Map<number, (reason: string) => void>();

beforeAll(async () => {
  server = await tcpNode('server', { handshakeTimeoutMs: 10_000 });
  good = await tcpNode('good');
  good.transport.addPeer('server', { host: '127.0.0.1', port: server.port });
  server.onLog.add((e) => {
    if (e.event !== 'rejected' || e.remote === undefined) return;
    const port = Number(e.remote.split(':').pop());
    rejectedByPort.get(port)?.(e.reason ?? '');
  });
});

afterAll(async () => {
  await good?.transport.close();
  await server?.transport.close();
});

/** Runs a client script on a fresh connection; resolves with the reason the server logged. */
function attack(script: (s: Socket) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port: server.port });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error('server neither rejected nor closed the connection within 15 s'));
    }, 15_000);
    s.on('error', () => undefined);
    s.on('connect', () => {
      const port = s.localPort as number;
      rejectedByPort.set(port, (reason) => {
        rejectedByPort.delete(port);
        clearTimeout(timer);
        s.destroy();
        resolve(reason);
      });
      script(s);
    });
  });
}

const me: HandshakeIdentity = { cluster: 'test-cluster', secret: 'test-secret', node: 'mallory', incarnation: 'inc-1' };

/** Performs a genuine handshake as `identity` and records the client's bytes (for replay). */
async function recordGenuineHandshake(): Promise<Uint8Array> {
  const s = connect({ host: '127.0.0.1', port: server.port });
  const hello = makeHello({ ...me, node: 'replayed' }, new Uint8Array(randomBytes(32)));
  const sent: Uint8Array[] = [frame(hello)];
  const dec = new MessageDecoder();
  const fd = new FrameDecoder(1 << 20);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('genuine handshake timed out')), 10_000);
    s.on('connect', () => s.write(sent[0] as Uint8Array));
    s.on('data', (chunk) => {
      for (const f of fd.push(chunk)) {
        const v = dec.decode(f.header, f.attachments) as { t: string };
        if (v.t === 'challenge') {
          const parsed = parseHandshake(v, 'challenge');
          if (!parsed.ok) return reject(new Error(parsed.reason));
          const auth = answerChallenge({ ...me, node: 'replayed' }, hello, parsed.value as Challenge);
          if (!auth.ok) return reject(new Error(auth.reason));
          const bytes = frame(auth.value);
          sent.push(bytes);
          s.write(bytes);
        } else if (v.t === 'welcome') {
          clearTimeout(timer);
          s.destroy();
          resolve();
        }
      }
    });
  });
  return Buffer.concat(sent);
}

describe('TCP listener under 10,000 malformed inputs (DESIGN.md §3: reject with a logged reason, keep serving)', () => {
  it('rejects every hostile input with a reason, delivers nothing from them, and keeps serving a good peer', async () => {
    const random = seededRandom(SEED);
    const replay = await recordGenuineHandshake();
    const helloFrame = frame(makeHello(me, new Uint8Array(32).fill(1)));
    const kinds = ['random-bytes', 'truncated-frame', 'oversized-length', 'invalid-msgpack', 'wrong-shape', 'wrong-secret', 'replayed-handshake', 'wrong-cluster', 'data-before-auth'] as const;
    const counts = new Map<string, number>();
    const reasons = new Map<string, Set<string>>();
    let goodSent = 0;

    const one = async (i: number): Promise<void> => {
      const kind = kinds[i % kinds.length] as (typeof kinds)[number];
      const reason = await attack((s) => {
        switch (kind) {
          case 'random-bytes':
            s.end(random.bytes(1 + random.int(300)));
            break;
          case 'truncated-frame':
            s.end(helloFrame.subarray(0, 1 + random.int(helloFrame.byteLength - 1)));
            break;
          case 'oversized-length': {
            const b = Buffer.alloc(4);
            b.writeUInt32BE(4097 + random.int(0xffff_f000));
            s.end(b);
            break;
          }
          case 'invalid-msgpack':
            s.end(rawFrame(Uint8Array.of(0xc1, ...random.bytes(random.int(40)))));
            break;
          case 'wrong-shape':
            s.end(frame(random.pick([42, 'hello', [0, 1, 'tell'], { t: 'auth', proof: new Uint8Array(32) }, { t: 'hello', cluster: 'test-cluster' }, null])));
            break;
          case 'wrong-secret': {
            const hello = makeHello(me, new Uint8Array(random.bytes(32)));
            const fd = new FrameDecoder(1 << 20);
            const dec = new MessageDecoder();
            s.write(frame(hello));
            s.on('data', (chunk) => {
              for (const f of fd.push(chunk)) {
                const parsed = parseHandshake(dec.decode(f.header, f.attachments), 'challenge');
                if (!parsed.ok) continue;
                // A client that does not know the secret can only guess the proof.
                s.end(frame({ t: 'auth', proof: new Uint8Array(random.bytes(32)) }));
              }
            });
            break;
          }
          case 'replayed-handshake':
            s.end(replay);
            break;
          case 'wrong-cluster':
            s.end(frame(makeHello({ ...me, cluster: 'other-cluster' }, new Uint8Array(32))));
            break;
          case 'data-before-auth':
            s.end(frame([0, 1, 'tell', 'server', 'sink', 'x', 'y', 'smuggled', 0]));
            break;
        }
      });
      counts.set(kind, (counts.get(kind) ?? 0) + 1);
      let set = reasons.get(kind);
      if (set === undefined) reasons.set(kind, (set = new Set()));
      set.add(reason.replace(/\d+/g, 'N'));
      if (i % 500 === 0) good.transport.send(tell('good', 'server', goodSent++));
    };

    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < INPUTS) await one(next++);
      }),
    );

    await until(() => server.delivered.length === goodSent, 'the good peer served throughout');
    expect(server.delivered.map((e) => e.msg)).toEqual(Array.from({ length: goodSent }, (_, i) => i));
    expect(server.delivered.every((e) => e.from?.node === 'good')).toBe(true);
    expect([...counts.values()].reduce((a, b) => a + b, 0)).toBe(INPUTS);
    const rejected = server.log.filter((e) => e.event === 'rejected');
    expect(rejected.length).toBeGreaterThanOrEqual(INPUTS);
    expect(rejected.every((e) => typeof e.reason === 'string' && e.reason.length > 0)).toBe(true);
    for (const kind of kinds) expect(counts.get(kind)).toBeGreaterThan(1000);
    expect([...(reasons.get('wrong-secret') ?? [])]).toEqual(['client failed authentication (wrong cluster secret or replayed handshake)']);
    expect([...(reasons.get('replayed-handshake') ?? [])]).toEqual(['client failed authentication (wrong cluster secret or replayed handshake)']);
    expect([...(reasons.get('oversized-length') ?? [])].every((r) => r.includes('exceeds maxFrameBytes'))).toBe(true);
    console.log(`fuzz: ${INPUTS} inputs rejected; reasons by kind:`, Object.fromEntries([...reasons].map(([k, v]) => [k, [...v].slice(0, 4)])));
  });
});
