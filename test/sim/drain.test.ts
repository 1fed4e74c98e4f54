/**
 * The simulator drains every promise continuation a step caused before the next step, with a
 * mechanism of its own and no host macrotask (DESIGN.md §3): async handlers, ask replies, adopted
 * promises, thenables and combinators all finish in the step that started them.
 */
import { describe, expect, it } from 'vitest';
import { Simulation } from 'troupe/testkit';
import type { ActorRef } from 'troupe';
import { MicrotaskDrain } from '../../src/runtime/sim/microtask-drain.js';

/** A continuation chain of every kind the drain must see through, `depth` levels deep. */
async function chain(depth: number): Promise<number> {
  let v = 0;
  for (let i = 0; i < depth; i++) {
    const adopted = new Promise<number>((resolve) => resolve(Promise.resolve(i)));
    const thenable = { then: (ok: (x: number) => void) => ok(i) };
    const [a, b] = await Promise.all([adopted, thenable, Promise.race([Promise.resolve(1)])]);
    v += (await (async () => a)()) + b;
  }
  return v;
}

describe('microtask drain', () => {
  it('a deep continuation chain started by a step finishes before the next step, at the same virtual time', async () => {
    const sim = new Simulation({ seed: 1 });
    const seen: Array<{ what: string; now: number; steps: number }> = [];
    sim.at(1, () => {
      void chain(200).then(() => seen.push({ what: 'chain done', now: sim.now, steps: sim.steps }));
    });
    sim.at(2, () => seen.push({ what: 'next event', now: sim.now, steps: sim.steps }));
    await sim.run();
    expect(seen).toEqual([
      // `steps` counts finished steps: the chain ends after step 0 is counted, before step 1 runs.
      { what: 'chain done', now: 1, steps: 1 },
      { what: 'next event', now: 2, steps: 1 },
    ]);
  });

  it('an async handler that awaits an ask finishes its turn before any other actor runs a step it could race with', async () => {
    for (const seed of [1, 2, 3]) {
      const sim = new Simulation({ seed });
      const log: string[] = [];
      let echo!: ActorRef<number>;
      let asker!: ActorRef<'go'>;
      sim.addNode('a', (system) => {
        echo = system.spawn<number>(() => ({ receive: (n) => n + 1 }), { name: 'echo' });
        asker = system.spawn<'go'>((ctx) => ({
          receive: async () => {
            const r = await ctx.ask<number>(echo, 1);
            await chain(20);
            log.push(`asker got ${r} at step ${sim.steps}`);
          },
        }), { name: 'asker' });
      });
      sim.system('a').tell(asker, 'go');
      await sim.run();
      // go (step 0), echo handles the ask (step 1); the reply is delivered inside echo's step, so the
      // whole continuation runs before step 2 would — and there is none.
      expect(log).toEqual(['asker got 2 at step 2']);
    }
  });

  it('two simulations running at once in one thread each give the hash they give alone', async () => {
    const build = (seed: number): Simulation => {
      const sim = new Simulation({ seed, network: { latencyMinMs: 0.1, latencyMaxMs: 2 } });
      const refs: ActorRef<number>[] = [];
      for (const node of ['x', 'y', 'z']) {
        sim.addNode(node, (system) => {
          refs.push(system.spawn<number>((ctx) => ({
            receive: async (n) => {
              await chain(3);
              if (n > 0) ctx.tell(refs[n % refs.length] as ActorRef<number>, n - 1);
            },
          }), { name: 'relay' }));
        });
      }
      sim.system('x').tell(refs[0] as ActorRef<number>, 300);
      sim.system('y').tell(refs[1] as ActorRef<number>, 200);
      return sim;
    };
    const alone: string[] = [];
    for (const seed of [5, 6]) {
      const sim = build(seed);
      await sim.run();
      alone.push(sim.traceHash());
    }
    const a = build(5);
    const b = build(6);
    await Promise.all([a.run(), b.run()]);
    expect([a.traceHash(), b.traceHash()]).toEqual(alone);
    expect(alone[0]).not.toBe(alone[1]);
  });

  it('the promise hooks are removed when no simulation is running', async () => {
    const sim = new Simulation({ seed: 1 });
    sim.at(1, () => void chain(2));
    await sim.run();
    const before = MicrotaskDrain.activityCount;
    await chain(5);
    expect(MicrotaskDrain.activityCount).toBe(before);
  });

  it('a run resolves synchronously-handled messages without any drain (no promise activity)', async () => {
    const sim = new Simulation({ seed: 3 });
    let count = 0;
    let ref!: ActorRef<number>;
    sim.addNode('a', (system) => {
      ref = system.spawn<number>((ctx) => ({
        receive: (n) => {
          count++;
          if (n > 0) ctx.tell(ctx.self, n - 1);
        },
      }));
    });
    sim.system('a').tell(ref, 1_000);
    const result = await sim.run();
    expect(count).toBe(1_001);
    expect(result.idle).toBe(true);
  });

  it('the caller\'s continuations queued before a run go on after its first step, not after every synchronous step', async () => {
    const sim = new Simulation({ seed: 4 });
    let ticks = 0;
    sim.addNode('a', (system) => {
      system.spawn<'tick'>((ctx) => {
        ctx.timers.repeat('t', 1, 'tick');
        return { receive: () => void ticks++ };
      });
    });
    let seenAtTicks: number | undefined;
    void Promise.resolve().then(() => {
      seenAtTicks = ticks;
    });
    await sim.run({ forMs: 100 });
    expect(ticks).toBeGreaterThanOrEqual(99);
    expect(seenAtTicks).toBeLessThanOrEqual(1);
  });

  it('sim.result settles a promise that needs only continuations, with nothing on the agenda', async () => {
    const sim = new Simulation({ seed: 1 });
    await expect(sim.result(chain(10))).resolves.toBe(90);
    expect(sim.now).toBe(0);
  });
});
