import { afterEach, describe, expect, it } from 'vitest';
import type { ActorRef } from '../../src/runtime/ref.js';
import { TroupeNode } from '../../src/runtime/node/troupe-node.js';
import type { BehaviorSpec } from '../../src/runtime/node/worker-protocol.js';

/**
 * Direct worker-to-worker channels (`node/worker-transport.ts`, transport README "Direct
 * channels"): brokered once through the main thread, then used directly; per-pair FIFO across the
 * switch (thesis §3.3), and a worker that dies gives its peers the same reports as when
 * everything went through the main thread.
 */

const fixtures = new URL('../fixtures/actors.mjs', import.meta.url).href;
const spec = (name: string): BehaviorSpec => ({ module: fixtures, export: name });
const quiet = { logger: () => undefined };

let node: TroupeNode | undefined;
afterEach(async () => {
  await node?.close();
  node = undefined;
});

async function start(workers: number, directChannels: boolean): Promise<TroupeNode> {
  node = await TroupeNode.start({ node: 'host', workers: { workers, directChannels }, system: quiet });
  return node;
}

type Tagged = { tag: string; i: number };

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within 20 s`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Streams n tells from a streamer on each `from` worker to a recorder on each `to` worker (all pairs), then checks per-sender order. */
async function streamAll(n: TroupeNode, from: number[], to: number[], count: number): Promise<void> {
  const recorders = new Map<number, ActorRef<unknown>>();
  for (const w of to) recorders.set(w, await n.spawn(spec('recorder'), { placement: { worker: w }, mailboxCapacity: 200_000 }));
  const streams: { streamer: ActorRef<unknown>; to: number; tag: string }[] = [];
  for (const f of from) {
    for (const t of to) {
      if (f === t) continue;
      const streamer = await n.spawn(spec('streamer'), { placement: { worker: f } });
      streams.push({ streamer, to: t, tag: `w${f}->w${t}` });
    }
  }
  for (const s of streams) n.system.tell(s.streamer, { type: 'stream', to: recorders.get(s.to), n: count, chunk: 97, tag: s.tag });
  for (const [w, rec] of recorders) {
    const expected = streams.filter((s) => s.to === w).length * count;
    await until(`recorder on w${w}`, async () => (await n.system.ask<number>(rec, { type: 'count' }, { timeoutMs: 10_000 })) >= expected);
    const seen = await n.system.ask<Tagged[]>(rec, { type: 'get' }, { timeoutMs: 10_000 });
    expect(seen).toHaveLength(expected);
    for (const s of streams.filter((x) => x.to === w)) {
      const mine = seen.filter((m) => m.tag === s.tag).map((m) => m.i);
      expect(mine, `sender ${s.tag}`).toEqual(Array.from({ length: count }, (_, i) => i));
    }
  }
}

describe('direct worker-to-worker channels', () => {
  it('opens one channel per pair of workers that talk, and keeps per-pair order across the switch from brokered to direct', async () => {
    const n = await start(2, true);
    expect((await n.pool!.inspect(0)).directChannels).toBe(0);
    // Many turns per stream, each yielding to the event loop: the channel opens mid-stream, so
    // the first envelopes of each pair go through the main thread and the rest directly.
    await streamAll(n, [0, 1], [0, 1], 20_000);
    expect((await n.pool!.inspect(0)).directChannels).toBe(1);
    expect((await n.pool!.inspect(1)).directChannels).toBe(1);
  });

  it('routes everything through the main thread when direct channels are off, with the same order', async () => {
    const n = await start(2, false);
    await streamAll(n, [0, 1], [0, 1], 5_000);
    expect((await n.pool!.inspect(0)).directChannels).toBe(0);
    expect((await n.pool!.inspect(1)).directChannels).toBe(0);
  });

  it('with many workers: all-to-all streams keep per-pair order; each worker has at most workers − 1 channels', async () => {
    const workers = 5;
    const n = await start(workers, true);
    const all = Array.from({ length: workers }, (_, i) => i);
    await streamAll(n, all, all, 3_000);
    for (const w of all) expect((await n.pool!.inspect(w)).directChannels).toBe(workers - 1);
    // Asks both ways over the channels, from every worker to every other.
    const echoes = await Promise.all(all.map((w) => n.spawn(spec('echo'), { placement: { worker: w } })));
    const probers = await Promise.all(all.map((w) => n.spawn(spec('prober'), { placement: { worker: w } })));
    for (const w of all) {
      for (const t of all) {
        if (t === w) continue;
        const out = await n.system.ask<unknown[]>(probers[w]!, { type: 'run', target: echoes[t], script: [{ ask: { type: 'where' } }, { ask: 'x' }] }, { timeoutMs: 10_000 });
        expect(out).toEqual([`host/w${t}`, 'x']);
      }
    }
    for (const w of all) expect((await n.pool!.inspect(w)).directChannels).toBe(workers - 1);
  });

  it('reports actor_not_found across a channel, and never dials names that are not sibling workers', async () => {
    const n = await start(2, true);
    const prober = await n.spawn(spec('prober'), { placement: { worker: 0 } });
    const echo = await n.spawn(spec('echo'), { placement: { worker: 1 } });
    await n.system.ask(prober, { type: 'run', target: echo, script: [{ ask: 'hi' }] }, { timeoutMs: 10_000 });
    await until('channel w0-w1', async () => (await n.pool!.inspect(0)).directChannels === 1);
    const missing = await n.system.ask<unknown[]>(prober, { type: 'run', target: { node: 'host/w1', id: 'nobody' }, script: [{ ask: 'hi' }] }, { timeoutMs: 10_000 });
    expect(missing).toEqual(['error:actor_not_found']);
    const stranger = await n.system.ask<unknown[]>(prober, { type: 'run', target: { node: 'host/w7', id: 'x' }, script: [{ ask: 'hi' }] }, { timeoutMs: 10_000 });
    expect(stranger).toEqual(['error:node_unreachable']);
    expect((await n.pool!.inspect(0)).directChannels).toBe(1);
  });

  for (const directChannels of [true, false]) {
    it(`a worker that dies mid-stream: its peers' asks fail link_down or node_unreachable, watchers see node_down, then a restarted worker is reached again (direct channels ${directChannels ? 'on' : 'off'})`, async () => {
      const n = await start(3, directChannels);
      const prober = await n.spawn(spec('prober'), { placement: { worker: 0 } });
      const victim = await n.spawn(spec('crasher'), { placement: { worker: 1 } });
      expect(await n.system.ask(prober, { type: 'run', target: victim, script: [{ ask: 'ping' }] }, { timeoutMs: 10_000 })).toEqual(['alive']);
      if (directChannels) await until('channel w0-w1', async () => (await n.pool!.inspect(0)).directChannels === 1 && (await n.pool!.inspect(1)).directChannels === 1);
      n.system.tell(prober, { type: 'watch', target: victim });
      const exited = new Promise((resolve) => n.pool!.events.once('worker-exit', resolve));
      // Asks, then the crash, then more asks, all in one turn of the prober.
      const script = [...Array.from({ length: 20 }, () => ({ ask: 'ping' })), { tell: { type: 'crash' } }, ...Array.from({ length: 20 }, () => ({ ask: 'ping' }))];
      const outcomes = await n.system.ask<string[]>(prober, { type: 'run', target: victim, script }, { timeoutMs: 20_000 });
      await exited;
      expect(outcomes).toHaveLength(40);
      for (const o of outcomes) expect(['alive', 'error:link_down', 'error:node_unreachable']).toContain(o);
      // Nothing after the crash was answered.
      for (const o of outcomes.slice(20)) expect(o).not.toBe('alive');
      const signals = await n.system.ask<{ type: string; reason?: string }[]>(prober, { type: 'signals' }, { timeoutMs: 10_000 });
      expect(signals).toContainEqual({ type: 'troupe.terminated', reason: 'node_down', code: undefined });
      expect((await n.pool!.inspect(0)).pendingAsks).toBe(0);
      expect((await n.pool!.inspect(0)).directChannels).toBe(0);
      // Sent after the link went down: refused at once.
      expect(await n.system.ask(prober, { type: 'run', target: victim, script: [{ ask: 'ping' }] }, { timeoutMs: 10_000 })).toEqual(['error:node_unreachable']);
      // The third worker is unaffected, and the restarted one is reached again (directly, when on).
      const bystander = await n.spawn(spec('echo'), { placement: { worker: 2 } });
      expect(await n.system.ask(prober, { type: 'run', target: bystander, script: [{ ask: 'still' }] }, { timeoutMs: 10_000 })).toEqual(['still']);
      await n.pool!.restartWorker(1);
      const back = await n.spawn(spec('echo'), { placement: { worker: 1 } });
      expect(await n.system.ask(prober, { type: 'run', target: back, script: [{ ask: 'again' }, { ask: 'and again' }] }, { timeoutMs: 10_000 })).toEqual(['again', 'and again']);
      if (directChannels) await until('channel w0-w1 after the restart', async () => (await n.pool!.inspect(0)).directChannels === 2);
    });
  }
});
