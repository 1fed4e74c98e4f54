/**
 * Behaviors the `transport` bench places on worker threads and peer nodes (loaded there by
 * module URL, so they live in their own module).
 */
import type { Behavior } from '../../runtime/behavior.js';
import { transferOwnership } from '../../runtime/transport/ownership.js';

/** Counts tells; an ask for 'count' answers with the number seen so far. */
export function counter(): Behavior<unknown> {
  let n = 0;
  return {
    receive(msg) {
      if (msg === 'count') return n;
      n++;
      return undefined;
    },
  };
}

/** Answers every ask with the message itself; a byte payload is handed back (transferred, not copied). */
export function echo(): Behavior<unknown> {
  return { receive: (msg) => (msg instanceof Uint8Array ? transferOwnership(msg) : msg) };
}

/** Counts payload bytes of `{ data }` tells; 'bytes' answers the total. */
export function byteSink(): Behavior<unknown> {
  let bytes = 0;
  return {
    receive(msg) {
      if (msg === 'bytes') return bytes;
      const data = (msg as { data?: Uint8Array }).data;
      if (data !== undefined) bytes += data.byteLength;
      return undefined;
    },
  };
}
