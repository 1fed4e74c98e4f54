// Behaviors for the placement example. Each export is a factory `(ctx, args) => Behavior`;
// worker threads and other processes load this module by URL, because a closure cannot travel.

/** Forwards every message to `args.next`, stamping the node it passed through. */
export function relay(ctx, args) {
  return {
    receive(msg) {
      if (msg?.type === 'where') return ctx.node;
      ctx.tell(args.next, { ...msg, path: [...msg.path, ctx.node] });
      return undefined;
    },
  };
}

/** Counts what arrives and remembers the last path; `{ type: 'report' }` answers both. */
export function tally(ctx) {
  let count = 0;
  let inOrder = true;
  let lastPath = [];
  return {
    receive(msg) {
      if (msg?.type === 'where') return ctx.node;
      if (msg?.type === 'report') return { count, inOrder, lastPath };
      // Per-pair FIFO (thesis §3.3) end to end: message i arrives as the i-th.
      if (msg.i !== count) inOrder = false;
      count++;
      lastPath = [...msg.path, ctx.node];
      return undefined;
    },
  };
}
