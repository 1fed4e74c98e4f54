import type { Envelope } from '../envelope.js';
import { Ref, type ActorRef } from '../ref.js';

/**
 * The simulator's copy of a message crossing between nodes: what the receiver would get from a
 * real transport, so no node can reach another's objects.
 *
 * Messages are plain data (DESIGN.md §3): objects, arrays, strings, numbers, booleans, bigints,
 * null/undefined and `Uint8Array` payloads. Those are copied by a direct walk, several times faster
 * than `structuredClone` for the small messages that dominate a simulation (it was the largest
 * cost in the `sim` bench). Like the msgpack and worker transports, the walk does not keep shared
 * references shared. A byte view smaller than its buffer becomes a compact copy (a 64 KiB view
 * into a 1 MiB buffer costs 64 KiB, and the receiver never sees the neighbours' bytes).
 *
 * Anything else — a Map, a Date, a class instance, a cycle or nesting deeper than
 * `walkDepthMax` — goes through `structuredClone`, which copies what it can and throws on what no
 * transport could carry (functions, symbols); the caller reports that as a failed check.
 */
export function copyMessage<T>(value: T): T {
  try {
    return walk(value, 0);
  } catch (err) {
    if (err !== notPlain) throw err;
    const transfer: ArrayBuffer[] = [];
    return structuredClone(compactViews(value, transfer, 0), { transfer });
  }
}

/**
 * An envelope as it would arrive: its fields are known, so only the message is walked (the
 * envelope and its refs are rebuilt directly; this is every cross-node message's cost).
 */
export function copyEnvelope(env: Envelope): Envelope {
  return { kind: env.kind, to: plainRef(env.to), from: env.from === undefined ? undefined : plainRef(env.from), msg: copyMessage(env.msg), corr: env.corr };
}

function plainRef(r: ActorRef<unknown>): ActorRef<unknown> {
  return { node: r.node, id: r.id };
}

const walkDepthMax = 32;
const notPlain = new Error('not plain data');

function walk<T>(value: T, depth: number): T {
  if (typeof value !== 'object' || value === null) {
    if (typeof value === 'function' || typeof value === 'symbol') throw notPlain;
    return value;
  }
  if (depth > walkDepthMax) throw notPlain;
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = walk(value[i] as unknown, depth + 1);
    return out as T;
  }
  if (value instanceof Uint8Array) {
    if (value.constructor !== Uint8Array) throw notPlain;
    return value.slice() as T;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  // An actor ref arrives as the plain `{ node, id }` structuredClone and msgpack make of it.
  if (proto !== Object.prototype && proto !== null && proto !== Ref.prototype) throw notPlain;
  const out: Record<string, unknown> = {};
  for (const key in value) out[key] = walk((value as Record<string, unknown>)[key], depth + 1);
  return out as T;
}

/**
 * For the `structuredClone` path: `structuredClone` copies a typed array's whole underlying
 * buffer, so views smaller than their buffer are replaced by compact copies first, whose buffers
 * it then moves (`transfer`) instead of copying again. Only plain objects and arrays are walked.
 */
function compactViews<T>(value: T, transfer: ArrayBuffer[], depth: number): T {
  if (typeof value !== 'object' || value === null || depth > 16) return value;
  if (value instanceof Uint8Array) {
    if (!(value.buffer instanceof ArrayBuffer) || value.byteLength === value.buffer.byteLength) return value;
    const compact = value.slice();
    transfer.push(compact.buffer);
    return compact as T;
  }
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    value.forEach((v: unknown, i) => {
      const c = compactViews(v, transfer, depth + 1);
      if (c !== v) (out ??= [...(value as unknown[])])[i] = c;
    });
    return (out ?? value) as T;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return value;
  let out: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(value)) {
    const c = compactViews(v, transfer, depth + 1);
    if (c !== v) (out ??= { ...(value as Record<string, unknown>) })[k] = c;
  }
  return (out ?? value) as T;
}
