/**
 * Behaviors the `transport` bench places on worker threads and peer nodes (loaded there by
 * module URL, so they live in their own module).
 */
import type { Behavior } from '../../runtime/behavior.js';

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

/** Answers every ask with the message itself (payload buffers are transferred back). */
export function echo(): Behavior<unknown> {
  return { receive: (msg) => msg };
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
