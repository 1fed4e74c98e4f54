import { describe, expect, it } from 'vitest';
import { ActorSystem } from '../../../src/runtime/system.js';
import { realEnv } from '../../../src/runtime/node/env.js';
import type { ActorRef } from '../../../src/runtime/ref.js';

type Seq = { readonly sender: number; readonly n: number };

describe('ordering on the real dispatcher (property: many senders, random interleavings)', () => {
  it.each([1, 2, 3, 4, 5])('seed %i: each sender\'s messages arrive in send order', async (seed) => {
    const sys = new ActorSystem({ node: 'o', env: realEnv(seed), logger: () => {}, throughput: 5 });
    const SENDERS = 25;
    const COUNT = 400;
    const last = new Array<number>(SENDERS).fill(-1);
    let violations = 0;
    let total = 0;
    let done!: () => void;
    const finished = new Promise<void>((r) => (done = r));
    const receiver = sys.spawn<Seq>(() => ({
      receive(m) {
        if (m.n !== (last[m.sender] as number) + 1) violations++;
        last[m.sender] = m.n;
        if (++total === SENDERS * COUNT) done();
      },
    }), { mailboxCapacity: SENDERS * COUNT });
    for (let s = 0; s < SENDERS; s++) {
      // Each sender sends a random-sized burst per turn, then yields by telling itself to go on,
      // so senders' bursts interleave differently for every seed.
      const sender = sys.spawn<'go'>((ctx) => {
        let n = 0;
        return {
          receive() {
            const burst = 1 + ctx.random.int(16);
            for (let i = 0; i < burst && n < COUNT; i++) ctx.tell(receiver as ActorRef<Seq>, { sender: s, n: n++ });
            if (n < COUNT) ctx.tell(ctx.self, 'go');
          },
        };
      });
      sys.tell(sender, 'go');
    }
    await finished;
    expect(violations).toBe(0);
    expect(last).toEqual(new Array<number>(SENDERS).fill(COUNT - 1));
    await sys.shutdown();
  });
});
