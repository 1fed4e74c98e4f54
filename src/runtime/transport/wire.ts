import type { Envelope, EnvelopeKind } from '../envelope.js';
import { Ref } from '../ref.js';

/**
 * The data-plane messages inside TCP frames after the handshake (pure).
 *
 * - data (client → server): `[0, seq, kind, toNode, toId, fromNode | null, fromId | null, msg, corr]`
 * - ack  (server → client): `[1, receivedSeq]` — everything up to `receivedSeq` was handed to the
 *   receiving ActorSystem; the sender may forget it.
 * - node down (client → server): `[2, seq, node]` — a worker thread of the sending process
 *   (`node` = `<sender>/w<i>`) is gone; sequenced with the data, so it follows what was sent before.
 * - ping (client → server): `[3]` — a heartbeat; the server answers with an ack. Either side
 *   closes a connection it has not heard from for the heartbeat timeout (a frozen or partitioned
 *   peer sends no RST), and the client then reconnects or, failing that, reports the link down.
 *
 * Arrays rather than maps: smaller and faster to encode, and the position is the schema.
 */
export const WIRE_DATA = 0;
export const WIRE_ACK = 1;
export const WIRE_NODE_DOWN = 2;
export const WIRE_PING = 3;

const KINDS: ReadonlySet<string> = new Set<EnvelopeKind>(['tell', 'ask', 'reply', 'fail', 'sys']);

export function dataHeader(seq: number, env: Envelope): unknown[] {
  return [WIRE_DATA, seq, env.kind, env.to.node, env.to.id, env.from?.node ?? null, env.from?.id ?? null, env.msg, env.corr];
}

export function ackHeader(receivedSeq: number): unknown[] {
  return [WIRE_ACK, receivedSeq];
}

export function nodeDownHeader(seq: number, node: string): unknown[] {
  return [WIRE_NODE_DOWN, seq, node];
}

export function pingHeader(): unknown[] {
  return [WIRE_PING];
}

export type WireMessage =
  | { readonly type: 'data'; readonly seq: number; readonly env: Envelope }
  | { readonly type: 'ack'; readonly receivedSeq: number }
  | { readonly type: 'nodeDown'; readonly seq: number; readonly node: string }
  | { readonly type: 'ping' };

function isSeq(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
}

function isName(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= 1024;
}

/** Validates an untrusted decoded header; returns the message or the reason it is malformed. */
export function parseWire(value: unknown): WireMessage | string {
  if (!Array.isArray(value)) return 'data-plane header is not an array';
  const tag = value[0];
  if (tag === WIRE_ACK) {
    if (value.length !== 2 || !(isSeq(value[1]) || value[1] === 0)) return 'malformed ack';
    return { type: 'ack', receivedSeq: value[1] as number };
  }
  if (tag === WIRE_PING) return value.length === 1 ? { type: 'ping' } : 'malformed ping';
  if (tag === WIRE_NODE_DOWN) {
    if (value.length !== 3 || !isSeq(value[1]) || !isName(value[2])) return 'malformed node-down notice';
    return { type: 'nodeDown', seq: value[1], node: value[2] };
  }
  if (tag !== WIRE_DATA) return `unknown data-plane tag ${String(tag).slice(0, 20)}`;
  if (value.length !== 9) return `data header has ${value.length} fields, expected 9`;
  const [, seq, kind, toNode, toId, fromNode, fromId, msg, corr] = value as unknown[];
  if (!isSeq(seq)) return 'data header has an invalid sequence number';
  if (typeof kind !== 'string' || !KINDS.has(kind)) return 'data header has an invalid envelope kind';
  if (!isName(toNode) || !isName(toId)) return 'data header has an invalid receiver';
  const hasFrom = fromNode !== null || fromId !== null;
  if (hasFrom && (!isName(fromNode) || !isName(fromId))) return 'data header has an invalid sender';
  if (typeof corr !== 'number' || !Number.isSafeInteger(corr) || corr < 0) return 'data header has an invalid correlation id';
  const env: Envelope = {
    kind: kind as EnvelopeKind,
    to: new Ref(toNode, toId),
    from: hasFrom ? new Ref(fromNode as string, fromId as string) : undefined,
    msg,
    corr,
  };
  return { type: 'data', seq, env };
}
