import { afterEach, describe, expect, it } from 'vitest';
import { ActorSystem } from '../../../src/runtime/system.js';

const quiet = (): void => {};
const systems: ActorSystem[] = [];
afterEach(async () => {
  for (const s of systems.splice(0)) await s.shutdown();
});

describe('turn semantics (DESIGN.md §3)', () => {
  function gateActor(reentrant: boolean) {
    const sys = new ActorSystem({ node: 't', logger: quiet });
    systems.push(sys);
    const log: string[] = [];
    const gates = new Map<string, () => void>();
    const ref = sys.spawn<string>(() => ({
      async receive(m) {
        if (m.startsWith('open:')) {
          gates.get(m.slice(5))?.();
          return;
        }
        log.push(`start ${m}`);
        await new Promise<void>((resolve) => gates.set(m, resolve));
        log.push(`end ${m}`);
      },
    }), { reentrant });
    return { sys, ref, log, gates };
  }

  it('serial by default: a handler runs to completion, across its awaits, before the next message', async () => {
    const { sys, ref, log, gates } = gateActor(false);
    sys.tell(ref, 'a');
    sys.tell(ref, 'b');
    await new Promise((r) => setTimeout(r, 5));
    expect(log).toEqual(['start a']); // b waits although a is suspended at an await
    gates.get('a')?.();
    await new Promise((r) => setTimeout(r, 5));
    expect(log).toEqual(['start a', 'end a', 'start b']);
    gates.get('b')?.();
    await new Promise((r) => setTimeout(r, 5));
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b']);
  });

  it('reentrant (opt-in): handlers interleave at await points', async () => {
    const { sys, ref, log, gates } = gateActor(true);
    sys.tell(ref, 'a');
    sys.tell(ref, 'b');
    await new Promise((r) => setTimeout(r, 5));
    expect(log).toEqual(['start a', 'start b']);
    sys.tell(ref, 'open:b');
    await new Promise((r) => setTimeout(r, 5));
    expect(log).toEqual(['start a', 'start b', 'end b']);
    gates.get('a')?.();
    await new Promise((r) => setTimeout(r, 5));
    expect(log).toEqual(['start a', 'start b', 'end b', 'end a']);
  });

  it('a stop reaches a serial actor even while its handler is suspended', async () => {
    const { sys, ref } = gateActor(false);
    sys.tell(ref, 'a');
    const queued = sys.ask(ref, 'b');
    await new Promise((r) => setTimeout(r, 5));
    sys.stop(ref);
    await expect(queued).rejects.toMatchObject({ code: 'actor_stopped' });
    expect(sys.actors()).toEqual([]);
  });
});

describe('fairness: the per-turn budget', () => {
  it('one flooded actor does not starve another (turns alternate every `throughput` messages)', async () => {
    const sys = new ActorSystem({ node: 'f', logger: quiet, throughput: 8 });
    systems.push(sys);
    const order: string[] = [];
    const busy = sys.spawn<number>(() => ({ receive: (n) => void order.push(`busy${n}`) }), { mailboxCapacity: 1_000 });
    const other = sys.spawn<number>(() => ({ receive: (n) => void order.push(`other${n}`) }));
    for (let i = 0; i < 100; i++) sys.tell(busy, i);
    sys.tell(other, 0);
    await sys.ask(other, -1);
    // `other` ran after the first turn of 8 busy messages, not after all 100.
    expect(order.indexOf('other0')).toBe(8);
  });

  it('a flood of messages does not starve the event loop (timers and I/O run in between)', async () => {
    const sys = new ActorSystem({ node: 'f', logger: quiet });
    systems.push(sys);
    let handled = 0;
    let handledWhenTimerRan = -1; // by the event loop's check phase
    const N = 300_000;
    const ref = sys.spawn<number>(() => ({ receive: () => void handled++ }), { mailboxCapacity: N });
    const done = new Promise<void>((resolve) => {
      const check = (): void => (handled === N ? resolve() : void setImmediate(check));
      setImmediate(check);
    });
    // Queued before the flood: it runs at the dispatcher's first yield to the event loop.
    setImmediate(() => (handledWhenTimerRan = handled));
    for (let i = 0; i < N; i++) sys.tell(ref, i);
    await done;
    expect(handledWhenTimerRan).toBeGreaterThan(0);
    expect(handledWhenTimerRan).toBeLessThan(N);
  });
});
