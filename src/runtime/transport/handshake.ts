import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The TCP handshake, as pure functions over decoded messages (no sockets, no clock; nonces are
 * passed in). The dialing side is the *client*; data on a connection flows client → server, acks
 * flow back.
 *
 * ```
 * client → server  hello      { cluster, version, node, incarnation, nonce: Nc, listenPort? }
 * server → client  challenge  { cluster, version, node, incarnation, nonce: Ns, proof: HMAC(k, "server" ‖ T) }
 * client → server  auth       { proof: HMAC(k, "client" ‖ T) }
 * server → client  welcome    { receivedSeq }    (how far the server got from this client incarnation)
 * ```
 *
 * `T` is the transcript: both node ids and incarnations, cluster id, protocol version and both
 * nonces, each length-prefixed. `k` is the shared cluster secret; it never crosses the wire.
 * Both sides prove knowledge of it (mutual authentication), and because each proof covers the
 * other side's fresh nonce, a recorded handshake replayed on a new connection fails. Cluster id
 * and protocol version mismatches are rejected with a reason the operator can act on.
 */

export const PROTOCOL_VERSION = 1;
export const NONCE_BYTES = 32;
const PROOF_BYTES = 32;

export interface HandshakeIdentity {
  readonly cluster: string;
  readonly secret: Uint8Array | string;
  readonly node: string;
  /** Random per process incarnation (thesis §A.1: an address carries a nonce, so a restart is visible). */
  readonly incarnation: string;
}

export interface Hello {
  readonly t: 'hello';
  readonly cluster: string;
  readonly version: number;
  readonly node: string;
  readonly incarnation: string;
  readonly nonce: Uint8Array;
  readonly listenPort?: number;
}

export interface Challenge {
  readonly t: 'challenge';
  readonly cluster: string;
  readonly version: number;
  readonly node: string;
  readonly incarnation: string;
  readonly nonce: Uint8Array;
  readonly proof: Uint8Array;
}

export interface Auth {
  readonly t: 'auth';
  readonly proof: Uint8Array;
}

export interface Welcome {
  readonly t: 'welcome';
  readonly receivedSeq: number;
}

export interface Reject {
  readonly t: 'reject';
  readonly reason: string;
}

export type HandshakeMessage = Hello | Challenge | Auth | Welcome | Reject;

export type Verdict<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

const MAX_ID_CHARS = 256;

function isId(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= MAX_ID_CHARS;
}

function isBytes(v: unknown, n: number): v is Uint8Array {
  return v instanceof Uint8Array && v.byteLength === n;
}

function field(o: Record<string, unknown>, k: string): unknown {
  return Object.prototype.hasOwnProperty.call(o, k) ? o[k] : undefined;
}

/** Validates an untrusted decoded value as a handshake message of the expected type. */
export function parseHandshake(value: unknown, expected: HandshakeMessage['t']): Verdict<HandshakeMessage> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, reason: `expected a ${expected} map` };
  const o = value as Record<string, unknown>;
  const t = field(o, 't');
  if (t === 'reject' && expected !== 'hello' && expected !== 'auth') {
    const reason = field(o, 'reason');
    return typeof reason === 'string' ? { ok: true, value: { t: 'reject', reason: reason.slice(0, 500) } } : { ok: false, reason: 'malformed reject' };
  }
  if (t !== expected) return { ok: false, reason: `expected ${expected}, got ${typeof t === 'string' ? t.slice(0, 40) : typeof t}` };
  switch (expected) {
    case 'hello': {
      const [cluster, version, node, incarnation, nonce, listenPort] = ['cluster', 'version', 'node', 'incarnation', 'nonce', 'listenPort'].map((k) => field(o, k));
      if (!isId(cluster) || typeof version !== 'number' || !isId(node) || !isId(incarnation) || !isBytes(nonce, NONCE_BYTES)) return { ok: false, reason: 'malformed hello' };
      if (listenPort !== undefined && (typeof listenPort !== 'number' || !Number.isInteger(listenPort) || listenPort <= 0 || listenPort > 65535)) return { ok: false, reason: 'malformed hello listenPort' };
      return { ok: true, value: { t: expected, cluster, version, node, incarnation, nonce, ...(listenPort !== undefined ? { listenPort } : {}) } };
    }
    case 'challenge': {
      const [cluster, version, node, incarnation, nonce, proof] = ['cluster', 'version', 'node', 'incarnation', 'nonce', 'proof'].map((k) => field(o, k));
      if (!isId(cluster) || typeof version !== 'number' || !isId(node) || !isId(incarnation) || !isBytes(nonce, NONCE_BYTES) || !isBytes(proof, PROOF_BYTES)) return { ok: false, reason: 'malformed challenge' };
      return { ok: true, value: { t: expected, cluster, version, node, incarnation, nonce, proof } };
    }
    case 'auth': {
      const proof = field(o, 'proof');
      if (!isBytes(proof, PROOF_BYTES)) return { ok: false, reason: 'malformed auth' };
      return { ok: true, value: { t: expected, proof } };
    }
    case 'welcome': {
      const receivedSeq = field(o, 'receivedSeq');
      if (typeof receivedSeq !== 'number' || !Number.isSafeInteger(receivedSeq) || receivedSeq < 0) return { ok: false, reason: 'malformed welcome' };
      return { ok: true, value: { t: expected, receivedSeq } };
    }
    case 'reject':
      return { ok: false, reason: 'unexpected reject' };
  }
}

interface Transcript {
  readonly cluster: string;
  readonly version: number;
  readonly clientNode: string;
  readonly clientIncarnation: string;
  readonly clientNonce: Uint8Array;
  readonly serverNode: string;
  readonly serverIncarnation: string;
  readonly serverNonce: Uint8Array;
}

function proofOf(secret: Uint8Array | string, role: 'client' | 'server', t: Transcript): Uint8Array {
  const mac = createHmac('sha256', secret);
  const put = (part: string | Uint8Array): void => {
    const bytes = typeof part === 'string' ? Buffer.from(part, 'utf8') : part;
    const len = Buffer.alloc(4);
    len.writeUInt32BE(bytes.byteLength);
    mac.update(len);
    mac.update(bytes);
  };
  put('troupe-handshake');
  put(role);
  put(t.cluster);
  put(String(t.version));
  put(t.clientNode);
  put(t.clientIncarnation);
  put(t.clientNonce);
  put(t.serverNode);
  put(t.serverIncarnation);
  put(t.serverNonce);
  return new Uint8Array(mac.digest());
}

function sameProof(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && timingSafeEqual(a, b);
}

function checkCompat(me: HandshakeIdentity, cluster: string, version: number): string | undefined {
  if (cluster !== me.cluster) return `cluster id mismatch: peer is in cluster "${cluster.slice(0, 64)}", this node in "${me.cluster}"`;
  if (version !== PROTOCOL_VERSION) return `protocol version mismatch: peer speaks ${version}, this node ${PROTOCOL_VERSION}`;
  return undefined;
}

export function makeHello(me: HandshakeIdentity, nonce: Uint8Array, listenPort?: number): Hello {
  return { t: 'hello', cluster: me.cluster, version: PROTOCOL_VERSION, node: me.node, incarnation: me.incarnation, nonce, ...(listenPort !== undefined ? { listenPort } : {}) };
}

/** Server: answers a hello with a challenge, or rejects it. */
export function answerHello(me: HandshakeIdentity, hello: Hello, serverNonce: Uint8Array): Verdict<Challenge> {
  const incompatible = checkCompat(me, hello.cluster, hello.version);
  if (incompatible !== undefined) return { ok: false, reason: incompatible };
  if (hello.node === me.node) return { ok: false, reason: `peer claims this node's own id "${me.node}"` };
  const proof = proofOf(me.secret, 'server', transcriptOf(hello, me, serverNonce));
  return { ok: true, value: { t: 'challenge', cluster: me.cluster, version: PROTOCOL_VERSION, node: me.node, incarnation: me.incarnation, nonce: serverNonce, proof } };
}

function transcriptOf(hello: Hello, server: { node: string; incarnation: string }, serverNonce: Uint8Array): Transcript {
  return {
    cluster: hello.cluster,
    version: hello.version,
    clientNode: hello.node,
    clientIncarnation: hello.incarnation,
    clientNonce: hello.nonce,
    serverNode: server.node,
    serverIncarnation: server.incarnation,
    serverNonce,
  };
}

/** Client: checks the server's proof and answers with its own. `expectNode`, when known, pins the server's id. */
export function answerChallenge(me: HandshakeIdentity, hello: Hello, challenge: Challenge, expectNode?: string): Verdict<Auth> {
  const incompatible = checkCompat(me, challenge.cluster, challenge.version);
  if (incompatible !== undefined) return { ok: false, reason: incompatible };
  if (expectNode !== undefined && challenge.node !== expectNode) return { ok: false, reason: `dialed node "${expectNode}" but "${challenge.node.slice(0, 64)}" answered` };
  const t = transcriptOf(hello, challenge, challenge.nonce);
  if (!sameProof(proofOf(me.secret, 'server', t), challenge.proof)) return { ok: false, reason: 'server failed authentication (wrong cluster secret?)' };
  return { ok: true, value: { t: 'auth', proof: proofOf(me.secret, 'client', t) } };
}

/** Server: checks the client's proof against the hello and challenge of this connection. */
export function checkAuth(me: HandshakeIdentity, hello: Hello, serverNonce: Uint8Array, auth: Auth): Verdict<true> {
  const expected = proofOf(me.secret, 'client', transcriptOf(hello, me, serverNonce));
  if (!sameProof(expected, auth.proof)) return { ok: false, reason: 'client failed authentication (wrong cluster secret or replayed handshake)' };
  return { ok: true, value: true };
}
