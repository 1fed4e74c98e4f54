/**
 * Bench suite `sim` (issue: simulator speed). How fast the deterministic simulator runs actors,
 * beside the same actors on the real in-process dispatcher:
 *
 * - `sim-step`: 1,000 actors on 10 simulated nodes (100 each) pass messages: each message handled
 *   is forwarded to another actor chosen from the message's own counter (the same choice on both
 *   sides), a third of the hops crossing nodes. 1,000 messages are in flight at once; a run ends
 *   when `MESSAGES` have been handled. The simulator takes one message per step, drawn by the
 *   seed, with network latency on virtual time, and drains every promise continuation between
 *   steps (`MicrotaskDrain`).
 * - `sim-step:runtime`: the same 1,000 actors and messages in one real `ActorSystem` (default
 *   dispatcher, no network).
 *
 * Target: sim-step >= 0.2x sim-step:runtime. The simulator does more per message by design (a
 * seeded draw per step, a trace hash update, a structured copy per message crossing nodes, the
 * invariant hook, an agenda event per network delivery), so 1x is not the goal; 0.2x keeps a
 * 200-seed fault suite affordable.
 */
import type { BenchCase, BenchSuite } from '../harness.js';
import { ActorSystem } from '../../runtime/system.js';
import type { ActorRef } from '../../runtime/ref.js';
import { Simulation } from '../../runtime/sim/simulation.js';

const NODES = 10;
const ACTORS_PER_NODE = 100;
const ACTORS = NODES * ACTORS_PER_NODE;
const IN_FLIGHT = 1_000;
const MESSAGES = 100_000;

interface Hop {
  readonly type: 'bench.sim.hop';
  readonly n: number;
}

/** Where message number `n` goes next: an actor index, a third of the time on another node. */
function nextActor(from: number, n: number): number {
  const h = Math.imul(n ^ (n >>> 15), 0x2c1b3c6d) >>> 0;
  const node = Math.floor(from / ACTORS_PER_NODE);
  const targetNode = h % 3 === 0 ? (node + 1 + (h >>> 8) % (NODES - 1)) % NODES : node;
  return targetNode * ACTORS_PER_NODE + ((h >>> 4) % ACTORS_PER_NODE);
}

/** The shared workload: counts handled messages, forwards until `MESSAGES`, then calls `done`. */
class Relay {
  refs: ActorRef<Hop>[] = [];
  handled = 0;
  done: () => void = () => {};

  behavior(index: number): { receive(m: Hop, ctx: { tell<T>(to: ActorRef<T>, m: T): boolean }): void } {
    return {
      receive: (m, ctx) => {
        if (++this.handled === MESSAGES) this.done();
        if (this.handled > MESSAGES - IN_FLIGHT) return;
        const to = this.refs[nextActor(index, m.n)] as ActorRef<Hop>;
        ctx.tell(to, { type: 'bench.sim.hop', n: m.n + 1 });
      },
    };
  }

  seed(tell: (to: ActorRef<Hop>, m: Hop) => void): void {
    this.handled = 0;
    for (let i = 0; i < IN_FLIGHT; i++) tell(this.refs[(i * 7) % ACTORS] as ActorRef<Hop>, { type: 'bench.sim.hop', n: i * 7919 });
  }
}

function simStep(): BenchCase {
  let seed = 1;
  return {
    name: 'sim-step',
    unit: 'ops',
    perIteration: MESSAGES,
    shape: `${ACTORS} actors on ${NODES} simulated nodes, ${IN_FLIGHT} messages in flight, ${MESSAGES} handled per iteration; a third of the hops cross nodes (0.1–1 ms latency)`,
    run: async () => {
      const relay = new Relay();
      const sim = new Simulation({ seed: seed++, network: { latencyMinMs: 0.1, latencyMaxMs: 1 }, traceLimit: 1_000});
      for (let n = 0; n < NODES; n++) {
        sim.addNode(`n${n}`, (system) => {
          for (let a = 0; a < ACTORS_PER_NODE; a++) {
            const index = n * ACTORS_PER_NODE + a;
            relay.refs[index] = system.spawn<Hop>(() => relay.behavior(index), { name: `a${index}` });
          }
        });
      }
      const client = sim.system('n0');
      let finished = false;
      relay.done = () => {
        finished = true;
      };
      relay.seed((to, m) => client.tell(to, m));
      await sim.run({ until: () => finished, maxSteps: 10 * MESSAGES });
      if (!finished) throw new Error(`sim-step: only ${relay.handled} of ${MESSAGES} messages handled`);
    },
  };
}

function runtimeStep(): BenchCase {
  let sys: ActorSystem;
  const relay = new Relay();
  return {
    name: 'sim-step:runtime',
    unit: 'ops',
    perIteration: MESSAGES,
    shape: `the same ${ACTORS} actors and messages in one real ActorSystem (in-process dispatcher)`,
    setup: () => {
      sys = new ActorSystem({ node: 'bench', logger: () => {} });
      for (let index = 0; index < ACTORS; index++) relay.refs[index] = sys.spawn<Hop>(() => relay.behavior(index), { name: `a${index}`, mailboxCapacity: 10_000 });
    },
    run: () =>
      new Promise<void>((resolve) => {
        relay.done = resolve;
        relay.seed((to, m) => sys.tell(to, m));
      }),
    teardown: () => sys.shutdown(),
  };
}

const suite: BenchSuite = {
  name: 'sim',
  cases: [simStep(), runtimeStep()],
  targets: [{ name: 'sim-step', baseline: 'sim-step:runtime', atLeast: 0.2 }],
  timeMs: 3_000,
};

export default suite;
