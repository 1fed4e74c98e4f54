/**
 * The simulator itself, and the runtime's ordering contract under it: per-pair FIFO on every
 * path (thesis §3.3), notified failures, crash/restart, and bit-for-bit replay from a seed.
 */
import { describe, expect, it } from 'vitest';
import type { Signal } from '../../src/runtime/behavior.js';
import type { ActorRef } from '../../src/runtime/ref.js';
import type { ActorSystem } from '../../src/runtime/system.js';
import { Simulation, SimulationError, simSeeds, withSeed } from '../../src/testkit.js';

type Seq = { readonly type: 'seq'; readonly sender: string; readonly n: number };
type Go = { readonly type: 'go' };

/**
 * `nodes` nodes; on each, `senders` actors that each send `count` numbered messages to one
 * receiver on node n0, in bursts whose sizes and spacing come from the seed.
 */
function orderingScenario(seed: number, opts: { nodes: number; senders: number; count: number; lossRate?: number }) {
  const sim = new Simulation({ seed, network: { latencyMinMs: 0.1, latencyMaxMs: 5, lossRate: opts.lossRate ?? 0, reconnectMs: 20 } });
  const received = new Map<string, number[]>();
  const undeliverable = new Map<string, number[]>();
  const receiverRef: ActorRef<Seq> = { node: 'n0', id: 'receiver' };
  for (let k = 0; k < opts.nodes; k++) {
    sim.addNode(`n${k}`, (system: ActorSystem) => {
      if (k === 0) {
        system.spawn<Seq>(() => ({
          receive(m) {
            const list = received.get(m.sender) ?? [];
            list.push(m.n);
            received.set(m.sender, list);
          },
        }), { name: 'receiver', mailboxCapacity: 1_000_000 });
      }
      for (let s = 0; s < opts.senders; s++) {
        const name = `s${k}.${s}`;
        const sender = system.spawn<Go>((ctx) => {
          let next = 0;
          return {
            receive() {
              const burst = 1 + ctx.random.int(8);
              for (let i = 0; i < burst && next < opts.count; i++) ctx.tell(receiverRef, { type: 'seq', sender: name, n: next++ });
              if (next < opts.count) ctx.timers.once('go', ctx.random.int(3), { type: 'go' });
            },
            onSignal(sig: Signal) {
              if (sig.type === 'troupe.undeliverable') {
                const m = sig.message as Seq;
                const list = undeliverable.get(m.sender) ?? [];
                list.push(m.n);
                undeliverable.set(m.sender, list);
              }
            },
          };
        }, { name });
        system.tell(sender, { type: 'go' });
      }
    });
  }
  return { sim, received, undeliverable };
}

function expectFifo(received: Map<string, number[]>, undeliverable: Map<string, number[]>, senders: string[], count: number): void {
  for (const s of senders) {
    const got = received.get(s) ?? [];
    for (let i = 1; i < got.length; i++) expect(got[i], `sender ${s}: ${got[i - 1]} then ${got[i]}`).toBeGreaterThan(got[i - 1] as number);
    // Nothing vanishes: every message was delivered or reported undeliverable to its sender.
    const lost = undeliverable.get(s) ?? [];
    expect([...got, ...lost].sort((a, b) => a - b)).toEqual(Array.from({ length: count }, (_, i) => i));
  }
}

describe('per-pair FIFO under random interleavings (property, thesis §3.3)', () => {
  const seeds = simSeeds(Array.from({ length: 30 }, (_, i) => i + 1));
  it.each(seeds)('seed %i: messages from each sender arrive in send order, locally and across nodes', async (seed) => {
    await withSeed(seed, async () => {
      const { sim, received, undeliverable } = orderingScenario(seed, { nodes: 3, senders: 4, count: 60 });
      await sim.run();
      const senders = [0, 1, 2].flatMap((k) => [0, 1, 2, 3].map((s) => `s${k}.${s}`));
      expectFifo(received, undeliverable, senders, 60);
      expect([...undeliverable.values()].flat()).toEqual([]);
    });
  });

  it.each(seeds.slice(0, 10))('seed %i: with lossy links, delivered messages stay in order and every loss is reported to its sender', async (seed) => {
    await withSeed(seed, async () => {
      const { sim, received, undeliverable } = orderingScenario(seed, { nodes: 3, senders: 2, count: 80, lossRate: 0.02 });
      await sim.run();
      const senders = [0, 1, 2].flatMap((k) => [0, 1].map((s) => `s${k}.${s}`));
      expectFifo(received, undeliverable, senders, 80);
    });
  });
});

describe('determinism', () => {
  it('the same seed gives the same trace; another seed gives another', async () => {
    const hashes: string[] = [];
    for (const seed of [11, 11, 12]) {
      const { sim } = orderingScenario(seed, { nodes: 3, senders: 3, count: 40, lossRate: 0.01 });
      await sim.run();
      hashes.push(sim.traceHash());
      expect(sim.traceLength).toBeGreaterThan(100);
    }
    expect(hashes[0]).toBe(hashes[1]);
    expect(hashes[2]).not.toBe(hashes[0]);
  });

  it('scheduling order is drawn from the seed: different seeds interleave local actors differently', async () => {
    const orders = new Set<string>();
    for (let seed = 1; seed <= 5; seed++) {
      const sim = new Simulation({ seed });
      const order: string[] = [];
      sim.addNode('a', (system) => {
        for (const name of ['p', 'q', 'r']) {
          const ref = system.spawn<number>(() => ({ receive: (n) => void order.push(`${name}${n}`) }), { name });
          for (let i = 0; i < 3; i++) system.tell(ref, i);
        }
      });
      await sim.run();
      orders.add(order.join(','));
      // Per-actor order holds whatever the interleaving.
      for (const name of ['p', 'q', 'r']) expect(order.filter((o) => o.startsWith(name))).toEqual([0, 1, 2].map((i) => `${name}${i}`));
    }
    expect(orders.size).toBeGreaterThan(1);
  });
});

describe('failures are notified, never silent', () => {
  function pair(seed: number) {
    const sim = new Simulation({ seed, network: { latencyMinMs: 1, latencyMaxMs: 2 } });
    const echo: ActorRef<string> = { node: 'b', id: 'echo' };
    sim.addNode('b', (system) => void system.spawn<string>(() => ({ receive: (m) => m }), { name: 'echo' }));
    const a = sim.addNode('a', () => {});
    return { sim, a, echo };
  }

  it('a partition fails asks with link_down and reports tells to their sender; healing restores delivery', async () => {
    const { sim, a, echo } = pair(5);
    expect(await sim.result(a.system.ask(echo, 'hello'))).toBe('hello');
    const signals: Signal[] = [];
    const sender = a.system.spawn<string>((ctx) => ({ receive: (m) => void ctx.tell(echo, m), onSignal: (s) => void signals.push(s) }));
    sim.partition(['a'], ['b']);
    await expect(sim.result(a.system.ask(echo, 'during'))).rejects.toMatchObject({ code: 'link_down' });
    a.system.tell(sender, 'lost');
    await sim.run();
    expect(signals).toEqual([{ type: 'troupe.undeliverable', to: echo, message: 'lost', code: 'link_down' }]);
    sim.heal();
    expect(await sim.result(a.system.ask(echo, 'after'))).toBe('after');
  });

  it('a crashed node: in-flight asks fail, watchers see node_down, and a restart boots its actors again', async () => {
    const { sim, a, echo } = pair(6);
    const seen: Signal[] = [];
    a.system.spawn<never>((ctx) => {
      ctx.watch(echo);
      return { receive: () => {}, onSignal: (s) => void seen.push(s) };
    });
    await sim.run();
    const inflight = a.system.ask(echo, 'x', { timeoutMs: 10_000 });
    sim.crash('b');
    await expect(sim.result(inflight)).rejects.toMatchObject({ code: 'link_down' });
    await sim.run({ forMs: 100 });
    expect(seen).toEqual([{ type: 'troupe.terminated', ref: echo, reason: 'node_down' }]);
    expect(sim.now).toBeLessThan(10_000);
    sim.restart('b');
    expect(sim.node('b').incarnation).toBe(1);
    expect(await sim.result(a.system.ask(echo, 'again'))).toBe('again');
  });

  it('bandwidth delays large messages by their size', async () => {
    const sim = new Simulation({ seed: 1, network: { latencyMinMs: 0, latencyMaxMs: 0, bandwidthBytesPerSec: 1_000_000 } });
    let arrivedAt = -1;
    sim.addNode('b', (system) => void system.spawn<Uint8Array>(() => ({ receive: () => void (arrivedAt = sim.now) }), { name: 'sink' }));
    const a = sim.addNode('a', () => {});
    a.system.tell({ node: 'b', id: 'sink' }, new Uint8Array(500_000));
    await sim.run();
    expect(arrivedAt).toBeGreaterThanOrEqual(500);
    expect(arrivedAt).toBeLessThan(501);
  });

  it('a NIC is shared by all of a node\'s links; a trunk by every pair across its switches; packets interleave', async () => {
    const sim = new Simulation({ seed: 1, network: { latencyMinMs: 0, latencyMaxMs: 0 } });
    const arrived = new Map<string, number>();
    for (const n of ['b', 'c']) sim.addNode(n, (system) => void system.spawn<Uint8Array>(() => ({ receive: () => void arrived.set(n, sim.now) }), { name: 'sink' }));
    const a = sim.addNode('a', () => {});
    sim.network.setNic('a', { egressBytesPerSec: 1_000_000, ingressBytesPerSec: 1_000_000 });
    // Two messages of 500 kB to two nodes share a's 1 MB/s egress: both take about a second, not half.
    a.system.tell({ node: 'b', id: 'sink' }, new Uint8Array(500_000));
    a.system.tell({ node: 'c', id: 'sink' }, new Uint8Array(500_000));
    await sim.run();
    expect(arrived.get('b')).toBeGreaterThanOrEqual(500);
    expect(arrived.get('c')).toBeGreaterThanOrEqual(1_000);
    expect(arrived.get('c')).toBeLessThan(1_001);

    // Across a 1 MB/s trunk between fast NICs, one 1 MB message takes a second, and a second pair's
    // message shares the trunk; a pair on one switch does not touch it.
    const t = new Simulation({ seed: 1, network: { latencyMinMs: 0, latencyMaxMs: 0 } });
    const got = new Map<string, number>();
    for (const n of ['y1', 'y2', 'x2b']) t.addNode(n, (system) => void system.spawn<Uint8Array>(() => ({ receive: () => void got.set(n, t.now) }), { name: 'sink' }));
    const x1 = t.addNode('x1', () => {});
    const x2 = t.addNode('x2', () => {});
    for (const n of ['x1', 'x2', 'x2b']) t.network.setNic(n, { egressBytesPerSec: 10_000_000, ingressBytesPerSec: 10_000_000, switch: 'X' });
    for (const n of ['y1', 'y2']) t.network.setNic(n, { egressBytesPerSec: 10_000_000, ingressBytesPerSec: 10_000_000, switch: 'Y' });
    t.network.setTrunk('X', 'Y', 1_000_000);
    x1.system.tell({ node: 'y1', id: 'sink' }, new Uint8Array(1_000_000));
    x2.system.tell({ node: 'y2', id: 'sink' }, new Uint8Array(1_000_000));
    x2.system.tell({ node: 'x2b', id: 'sink' }, new Uint8Array(1_000_000));
    await t.run();
    // Packets of the two cross-trunk flows interleave, so both finish near 2 s (not 1 s and 2 s).
    expect(got.get('y1')).toBeGreaterThan(1_900);
    expect(got.get('y2')).toBeGreaterThan(1_900);
    expect(got.get('y2')).toBeLessThan(2_200);
    // x2 → x2b waits only for x2's egress (after its 1 MB to y2 at 10 MB/s): about 0.2 s.
    expect(got.get('x2b')).toBeLessThan(300);
  });

  it('clock skew is per node', async () => {
    const sim = new Simulation({ seed: 1 });
    const a = sim.addNode('a', () => {});
    const b = sim.addNode('b', () => {});
    b.skewMs = 250;
    await sim.run({ forMs: 1_000 });
    expect(a.system.env.clock.now()).toBe(1_000);
    expect(b.system.env.clock.now()).toBe(1_250);
  });
});

describe('checks stop the run with the seed and the replay command', () => {
  it('an invariant violation fails the run with SEED=<n>', async () => {
    const sim = new Simulation({ seed: 4242 });
    sim.addNode('a', (system) => {
      const ref = system.spawn<number>(() => {
        let total = 0;
        return {
          receive: (n) => void (total += n),
          invariants() {
            if (total > 10) throw new Error(`total ${total} exceeds 10`);
          },
        };
      });
      for (let i = 0; i < 10; i++) system.tell(ref, i);
    });
    const err = await sim.run().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SimulationError);
    expect((err as Error).message).toContain('SEED=4242');
    expect((err as Error).message).toContain('npm run test:sim');
    expect((err as Error).message).toMatch(/invariant violated in .*: total \d+ exceeds 10/);
  });

  it('a message that is not plain data fails the run (it could not cross a real transport)', async () => {
    const sim = new Simulation({ seed: 1 });
    sim.addNode('b', (system) => void system.spawn(() => ({ receive: () => {} }), { name: 'sink' }));
    const a = sim.addNode('a', () => {});
    a.system.tell({ node: 'b', id: 'sink' }, { callback: () => 1 });
    await expect(sim.run()).rejects.toThrow(/not plain data/);
  });

  it('withSeed adds the seed and replay command to an ordinary assertion failure', async () => {
    const err = await withSeed(77, async () => {
      expect(1).toBe(2);
    }).catch((e: unknown) => e);
    expect((err as Error).message).toContain('SEED=77');
  });
});
