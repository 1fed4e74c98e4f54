/**
 * Payload ownership across threads. Sending a `Uint8Array` to an actor on another thread copies
 * it (structured clone) unless its owner says it is done with it: `transferOwnership(bytes)` marks
 * the array, and the thread transport then *transfers* its buffer instead — no copy, and the
 * sender's array becomes detached (length 0). Marking is explicit because an actor may keep what
 * it sends (a chunkserver keeps the data it forwards down the chain; a client may send one buffer
 * to several replicas): moving it behind the sender's back would empty its copy.
 *
 * Only an array that is the whole of its own `ArrayBuffer` can move (a view into a larger buffer
 * would take its neighbours along); marking another one is allowed and it is copied as before.
 * Marks are per thread. `SharedArrayBuffer`-backed arrays are never copied and need no mark.
 */
const owned = new WeakSet<Uint8Array>();

/** Marks `bytes` as given up by its sender: the next send to another thread moves it. Returns `bytes`. */
export function transferOwnership<T extends Uint8Array>(bytes: T): T {
  owned.add(bytes);
  return bytes;
}

/** True when `bytes` was marked with `transferOwnership` and can move without a copy. */
export function isTransferable(bytes: Uint8Array): boolean {
  return owned.has(bytes) && bytes.buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.byteLength > 0;
}

/**
 * Marks the payloads of a message nobody else in this thread holds (the message itself, its
 * fields and their array elements, and the same one level down, as thread transports look for
 * them) — e.g. one decoded from the network and only passing through.
 */
export function transferPayloadsOf(msg: unknown, depth = 0): void {
  if (typeof msg !== 'object' || msg === null) return;
  if (msg instanceof Uint8Array) {
    owned.add(msg);
    return;
  }
  if (depth > 1 || ArrayBuffer.isView(msg)) return;
  for (const v of Array.isArray(msg) ? msg : Object.values(msg)) {
    if (v instanceof Uint8Array) owned.add(v);
    else if (Array.isArray(v)) {
      for (const w of v) if (w instanceof Uint8Array) owned.add(w);
    } else if (typeof v === 'object' && v !== null && depth === 0) transferPayloadsOf(v, 1);
  }
}
