import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Signal } from '../../src/runtime/behavior.js';
import { isTroupeError } from '../../src/runtime/errors.js';
import type { ActorRef } from '../../src/runtime/ref.js';
import { PLACEMENT_ACTOR, TroupeNode, type PlacementRequest } from '../../src/runtime/node/troupe-node.js';
import { hostOfNode } from '../../src/runtime/transport/router.js';
import type { BehaviorSpec } from '../../src/runtime/node/worker-protocol.js';
import { transferOwnership } from '../../src/runtime/transport/ownership.js';

const fixtures = new URL('../fixtures/actors.mjs', import.meta.url).href;
const spec = (name: string): BehaviorSpec => ({ module: fixtures, export: name });
const quiet = { logger: () => undefined };

let node: TroupeNode;
beforeAll(async () => {
  node = await TroupeNode.start({ node: 'host', workers: 2, system: quiet });
});
afterAll(async () => {
  await node?.close();
});

type Tagged = { tag: string; i: number };
function checkPerSenderFifo(seen: Tagged[], tags: string[], n: number): void {
  for (const tag of tags) {
    const mine = seen.filter((m) => m.tag === tag).map((m) => m.i);
    expect(mine, `sender ${tag}`).toEqual(Array.from({ length: n }, (_, i) => i));
  }
}

describe('worker-thread placement (DESIGN.md §3: placement per actor, location-transparent refs)', () => {
  it('places actors by worker index and by policy; refs name the worker node', async () => {
    const a = await node.spawn(spec('echo'), { placement: { worker: 0 } });
    const b = await node.spawn(spec('echo'), { placement: { worker: 1 } });
    const c = await node.spawn(spec('echo'), { placement: { policy: 'round-robin' } });
    const d = await node.spawn(spec('echo'));
    expect(a.node).toBe('host/w0');
    expect(b.node).toBe('host/w1');
    expect(['host/w0', 'host/w1']).toContain(c.node);
    expect(d.node).toBe('host');
    expect(await node.system.ask(a, { type: 'where' }, { timeoutMs: 5000 })).toBe('host/w0');
    expect(await node.system.ask(b, 'hello', { timeoutMs: 5000 })).toBe('hello');
    expect(await node.pool!.inspect(0)).toMatchObject({ node: 'host/w0' });
  });

  it("lets an actor place another actor on a worker through its host's placement actor", async () => {
    const placer = node.system.spawn<{ spec: BehaviorSpec }>((ctx) => ({
      receive: (msg) => {
        const req: PlacementRequest = { type: 'troupe.placement.spawn', spec: msg.spec, placement: { worker: 1 }, options: {} };
        return ctx.ask<ActorRef<unknown>>({ node: hostOfNode(ctx.node), id: PLACEMENT_ACTOR }, req, { timeoutMs: 10_000 });
      },
    }));
    const placed = await node.system.ask<ActorRef<unknown>>(placer, { spec: spec('echo') }, { timeoutMs: 10_000 });
    expect(placed.node).toBe('host/w1');
    expect(await node.system.ask(placed, { type: 'where' }, { timeoutMs: 5000 })).toBe('host/w1');
  });

  it('rejects a placement naming a factory that does not exist, with a clear error', async () => {
    await expect(node.spawn(spec('noSuchFactory'), { placement: { worker: 0 } })).rejects.toThrow(/no exported factory named noSuchFactory/);
    await expect(node.spawn({ module: 'file:///nonexistent/actors.mjs', export: 'x' }, { placement: { worker: 0 } })).rejects.toThrow(/cannot load behavior module/);
  });

  it('keeps per-pair FIFO across threads under load: worker→worker, main→worker (thesis §3.3)', async () => {
    const n = 20_000;
    const rec = await node.spawn(spec('recorder'), { placement: { worker: 1 }, mailboxCapacity: 100_000 });
    const blasterW0 = await node.spawn(spec('blaster'), { placement: { worker: 0 } });
    const blasterW1 = await node.spawn(spec('blaster'), { placement: { worker: 1 } });
    const blasterMain = await node.spawn(spec('blaster'));
    const asks = [
      node.system.ask(blasterW0, { type: 'blast', to: rec, n, tag: 'w0' }, { timeoutMs: 20_000 }),
      node.system.ask(blasterW1, { type: 'blast', to: rec, n, tag: 'w1' }, { timeoutMs: 20_000 }),
      node.system.ask(blasterMain, { type: 'blast', to: rec, n, tag: 'main' }, { timeoutMs: 20_000 }),
    ];
    for (let i = 0; i < n; i++) node.system.tell(rec, { tag: 'outside', i });
    await Promise.all(asks);
    const deadline = Date.now() + 20_000;
    while ((await node.system.ask<number>(rec, { type: 'count' }, { timeoutMs: 5000 })) < 4 * n) {
      if (Date.now() > deadline) throw new Error('messages did not all arrive within 20 s');
      await new Promise((r) => setTimeout(r, 20));
    }
    const seen = await node.system.ask<Tagged[]>(rec, { type: 'get' }, { timeoutMs: 10_000 });
    expect(seen).toHaveLength(4 * n);
    checkPerSenderFifo(seen, ['w0', 'w1', 'main', 'outside'], n);
  });

  it('copies a payload its sender keeps, and moves one its sender gives up (transferOwnership)', async () => {
    const sink = await node.spawn(spec('byteSink'), { placement: { worker: 0 } });
    const kept = new Uint8Array(1024 * 1024).fill(8);
    expect(await node.system.ask(sink, { data: kept }, { timeoutMs: 5000 })).toEqual({ bytes: 1024 * 1024, first: 8 });
    expect(kept.byteLength).toBe(1024 * 1024); // still the sender's
    const data = transferOwnership(new Uint8Array(1024 * 1024).fill(9));
    const reply = node.system.ask(sink, { data }, { timeoutMs: 5000 });
    await Promise.resolve();
    await new Promise((r) => setImmediate(r));
    expect(data.byteLength).toBe(0); // detached: ownership moved to the worker
    expect(await reply).toEqual({ bytes: 1024 * 1024, first: 9 });
  });

  it('shares SharedArrayBuffer-backed payloads: the worker writes into the same memory', async () => {
    const sink = await node.spawn(spec('byteSink'), { placement: { worker: 1 } });
    const shared = new Uint8Array(new SharedArrayBuffer(256 * 1024));
    expect(await node.system.ask(sink, { type: 'write-shared', data: shared }, { timeoutMs: 5000 })).toBe(true);
    expect(shared[0]).toBe(42);
    expect(shared.byteLength).toBe(256 * 1024);
  });

  it('turns a crashed worker into node_down for watchers and link_down for pending asks; a supervisor re-places the actor', async () => {
    const victim = await node.spawn(spec('crasher'), { placement: { worker: 1 } });
    const slowEcho = await node.spawn(spec('recorder'), { placement: { worker: 1 } });
    const signals: Signal[] = [];
    let replacement: Promise<ActorRef<unknown>> | undefined;
    // A supervisor in the main thread: watches the victim, re-places it on a live worker when its thread dies.
    const supervisor = node.system.spawn<{ type: 'watch'; ref: ActorRef<unknown> }>((ctx) => ({
      receive(msg) {
        ctx.watch(msg.ref);
      },
      onSignal(signal) {
        signals.push(signal);
        if (signal.type === 'troupe.terminated') replacement = node.spawn(spec('crasher'), { placement: { policy: 'least-loaded' } });
      },
    }));
    node.system.tell(supervisor, { type: 'watch', ref: victim });
    expect(await node.system.ask(victim, 'ping', { timeoutMs: 5000 })).toBe('alive');
    const exited = new Promise((resolve) => node.pool!.events.once('worker-exit', resolve));
    const systemWatch = node.system.terminated(victim);
    node.system.tell(victim, { type: 'crash' });
    await exited;
    expect(await systemWatch).toBe('node_down');
    await expect(node.system.ask(slowEcho, { type: 'count' }, { timeoutMs: 5000 })).rejects.toSatisfy((e: unknown) => isTroupeError(e, 'node_unreachable') || isTroupeError(e, 'link_down'));
    const deadline = Date.now() + 10_000;
    while (replacement === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(signals[0]).toMatchObject({ type: 'troupe.terminated', reason: 'node_down' });
    const fresh = await replacement!;
    expect(fresh.node).toBe('host/w0');
    expect(await node.system.ask(fresh, 'ping', { timeoutMs: 5000 })).toBe('alive');
    await node.pool!.restartWorker(1);
    const back = await node.spawn(spec('echo'), { placement: { worker: 1 } });
    expect(await node.system.ask(back, 'again', { timeoutMs: 5000 })).toBe('again');
  });
});
