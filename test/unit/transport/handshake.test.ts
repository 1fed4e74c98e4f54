import { describe, expect, it } from 'vitest';
import { answerChallenge, answerHello, checkAuth, makeHello, parseHandshake, type HandshakeIdentity } from '../../../src/runtime/transport/handshake.js';

const nonce = (b: number): Uint8Array => new Uint8Array(32).fill(b);
const server: HandshakeIdentity = { cluster: 'c1', secret: 's3cret', node: 'srv', incarnation: 'i-srv' };
const client: HandshakeIdentity = { cluster: 'c1', secret: 's3cret', node: 'cli', incarnation: 'i-cli' };

describe('cluster handshake: HMAC-SHA256 challenge-response over the shared secret', () => {
  it('authenticates both sides when they share cluster id, version and secret', () => {
    const hello = makeHello(client, nonce(1));
    const ch = answerHello(server, hello, nonce(2));
    expect(ch.ok).toBe(true);
    if (!ch.ok) return;
    const auth = answerChallenge(client, hello, ch.value, 'srv');
    expect(auth.ok).toBe(true);
    if (!auth.ok) return;
    expect(checkAuth(server, hello, nonce(2), auth.value).ok).toBe(true);
  });

  it('never puts the secret on the wire', () => {
    const hello = makeHello(client, nonce(1));
    const ch = answerHello(server, hello, nonce(2));
    expect(JSON.stringify(hello) + JSON.stringify(ch)).not.toContain('s3cret');
  });

  it('rejects a client with the wrong secret, and the client rejects a server with the wrong secret', () => {
    const bad = { ...client, secret: 'guess' };
    const hello = makeHello(bad, nonce(1));
    const ch = answerHello(server, hello, nonce(2));
    if (!ch.ok) throw new Error('hello should pass');
    const auth = answerChallenge(bad, hello, ch.value);
    expect(auth.ok).toBe(false);
    const forged = { t: 'auth' as const, proof: new Uint8Array(32) };
    expect(checkAuth(server, hello, nonce(2), forged).ok).toBe(false);
  });

  it('rejects a replayed handshake: the proof covers the server nonce of that connection', () => {
    const hello = makeHello(client, nonce(1));
    const ch = answerHello(server, hello, nonce(2));
    if (!ch.ok) throw new Error('hello should pass');
    const auth = answerChallenge(client, hello, ch.value);
    if (!auth.ok) throw new Error('challenge should pass');
    // The same hello and auth bytes on a new connection meet a fresh server nonce.
    expect(checkAuth(server, hello, nonce(3), auth.value).ok).toBe(false);
  });

  it('rejects cluster id and protocol version mismatches with a reason', () => {
    const other = answerHello(server, makeHello({ ...client, cluster: 'c2' }, nonce(1)), nonce(2));
    expect(other.ok ? '' : other.reason).toMatch(/cluster id mismatch/);
    const v = answerHello(server, { ...makeHello(client, nonce(1)), version: 99 }, nonce(2));
    expect(v.ok ? '' : v.reason).toMatch(/protocol version mismatch/);
  });

  it('validates untrusted handshake maps field by field', () => {
    expect(parseHandshake(null, 'hello').ok).toBe(false);
    expect(parseHandshake({ t: 'hello', cluster: 'c1' }, 'hello').ok).toBe(false);
    expect(parseHandshake({ t: 'auth', proof: new Uint8Array(31) }, 'auth').ok).toBe(false);
    expect(parseHandshake(makeHello(client, nonce(1)), 'hello').ok).toBe(true);
  });
});
