/**
 * The worker side of direct worker-to-worker channels (`node/worker-transport.ts`), with the
 * parent played by the test over real `MessageChannel`s in one thread, so each step of the
 * brokering (dial, open, fence, fenced) happens exactly when the test says: per-pair order across
 * the switch (thesis §3.3) and the failure reports of a channel whose far side dies.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import type { Envelope } from '../../../src/runtime/envelope.js';
import type { RuntimeErrorCode } from '../../../src/runtime/errors.js';
import { Ref } from '../../../src/runtime/ref.js';
import type { TransportSink } from '../../../src/runtime/transport/transport.js';
import { PortTransport } from '../../../src/runtime/node/port-transport.js';
import { WorkerTransport } from '../../../src/runtime/node/worker-transport.js';
import type { ChannelControl } from '../../../src/runtime/node/worker-protocol.js';

type Event = { t: 'deliver'; msg: unknown } | { t: 'undeliverable'; msg: unknown; code: RuntimeErrorCode; maybe: boolean } | { t: 'down'; node: string };

function recorder(): { sink: TransportSink; events: Event[]; delivered: () => unknown[] } {
  const events: Event[] = [];
  return {
    events,
    delivered: () => events.flatMap((e) => (e.t === 'deliver' ? [e.msg] : [])),
    sink: {
      deliver: (env) => events.push({ t: 'deliver', msg: env.msg }),
      undeliverable: (env, code, maybe) => events.push({ t: 'undeliverable', msg: env.msg, code, maybe: maybe === true }),
      linkDown: (node) => events.push({ t: 'down', node }),
    },
  };
}

/** Lets every posted message arrive (ports deliver in macrotasks). */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
}

const tell = (node: string, msg: unknown): Envelope => ({ kind: 'tell', to: new Ref(node, 'rec'), from: undefined, msg, corr: 0 });

/** Worker `index` of host `h` with its data port, and the parent's end of that port (played by the test). */
function worker(index: number, workers = 2) {
  const data = new MessageChannel();
  const node = `h/w${index}`;
  const w = new WorkerTransport(data.port2, { node, hostNode: 'h', workers, directChannels: true, transferMinBytes: 64 * 1024 });
  const rec = recorder();
  w.bind(node, rec.sink);
  const controls: ChannelControl[] = [];
  const routed: Envelope[] = [];
  const parent = new PortTransport(data.port1, { peerNode: node, onChannel: (c) => controls.push(c) });
  parent.bind('h', { deliver: (env) => routed.push(env), undeliverable: () => undefined, linkDown: () => undefined });
  return { node, w, rec, controls, routed, parent };
}

const open: (PortTransport | WorkerTransport)[] = [];
afterEach(async () => {
  for (const t of open.splice(0)) await t.close();
});

/** The parent's part of `dial`: one channel, an end to each worker. */
function broker(a: ReturnType<typeof worker>, b: ReturnType<typeof worker>, id: number): void {
  const ch: { port1: MessagePort; port2: MessagePort } = new MessageChannel();
  a.parent.postChannel({ t: 'chan', op: 'open', node: b.node, id, port: ch.port1 }, [ch.port1]);
  b.parent.postChannel({ t: 'chan', op: 'open', node: a.node, id, port: ch.port2 }, [ch.port2]);
}

/** Workers 0 and 1; `first` goes from 0 to 1 through the parent (which holds it), then the parent opens channel `id`. */
async function brokered(first: unknown, id: number) {
  const s = worker(0);
  const r = worker(1);
  open.push(s.w, r.w, s.parent, r.parent);
  s.w.send(tell(r.node, first));
  await settle();
  broker(s, r, id);
  await settle();
  return { s, r };
}

describe('WorkerTransport: direct channels between sibling workers', () => {
  it('delivers what went through the parent before what went on the channel, however late the parent forwards', async () => {
    const s = worker(0);
    const r = worker(1);
    open.push(s.w, r.w, s.parent, r.parent);
    for (let i = 0; i < 100; i++) s.w.send(tell(r.node, i));
    await settle();
    // The first envelopes went to the parent, with a dial; the parent holds them for now.
    expect(s.routed.map((e) => e.msg)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(s.controls).toEqual([{ t: 'chan', op: 'dial', node: r.node }]);
    broker(s, r, 1);
    await settle();
    expect(s.controls.at(-1)).toEqual({ t: 'chan', op: 'fence', node: r.node, id: 1 });
    expect(r.controls.at(-1)).toEqual({ t: 'chan', op: 'fence', node: s.node, id: 1 });
    // Switched: these go on the channel, not to the parent.
    for (let i = 100; i < 200; i++) s.w.send(tell(r.node, i));
    await settle();
    expect(s.routed).toHaveLength(100);
    expect(r.rec.delivered()).toEqual([]); // the channel is not read before the fence
    // The parent forwards the brokered ones now, then the fence behind them.
    for (const env of s.routed) r.parent.send(env);
    r.parent.postChannel({ t: 'chan', op: 'fenced', node: s.node, id: 1 });
    await settle();
    expect(r.rec.delivered()).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(s.w.channels).toBe(1);
    // Replies go the other way on the same channel once the other fence has passed.
    s.parent.postChannel({ t: 'chan', op: 'fenced', node: r.node, id: 1 });
    r.w.send(tell(s.node, 'back'));
    await settle();
    expect(s.rec.delivered()).toEqual(['back']);
    expect(r.routed).toHaveLength(0);
  });

  it('ignores a fence for a channel since replaced', async () => {
    const { s, r } = await brokered('first', 7);
    s.w.send(tell(r.node, 'direct'));
    r.parent.send(s.routed[0]!);
    r.parent.postChannel({ t: 'chan', op: 'fenced', node: s.node, id: 6 });
    await settle();
    expect(r.rec.delivered()).toEqual(['first']);
    r.parent.postChannel({ t: 'chan', op: 'fenced', node: s.node, id: 7 });
    await settle();
    expect(r.rec.delivered()).toEqual(['first', 'direct']);
  });

  it('when the parent announces the sibling down: what the channel carried unacked is link_down (maybe delivered), then linkDown once; later sends go to the parent and dial again', async () => {
    const { s, r } = await brokered('brokered', 1);
    for (let i = 0; i < 10; i++) s.w.send(tell(r.node, i));
    await settle();
    // r never reads them (no fence reaches it): as if its thread died before.
    await r.w.close();
    s.parent.relayLinkDown(r.node);
    await settle();
    expect(s.rec.events).toEqual([...Array.from({ length: 10 }, (_, i) => ({ t: 'undeliverable', msg: i, code: 'link_down', maybe: true })), { t: 'down', node: r.node }]);
    expect(s.w.channels).toBe(0);
    s.w.send(tell(r.node, 'after'));
    await settle();
    expect(s.routed.map((e) => e.msg)).toEqual(['brokered', 'after']);
    expect(s.controls.filter((c) => c.op === 'dial')).toHaveLength(2);
  });

  it('dials only sibling workers of the pool, once each; a refused sibling is dialed again only after a reset', async () => {
    const s = worker(0, 3);
    open.push(s.w, s.parent);
    for (const to of ['h', 'h/w0', 'h/w3', 'h/w01', 'h/wx', 'other/w1', 'h/w1', 'h/w1', 'h/w2']) s.w.send(tell(to, to));
    await settle();
    expect(s.controls).toEqual([
      { t: 'chan', op: 'dial', node: 'h/w1' },
      { t: 'chan', op: 'dial', node: 'h/w2' },
    ]);
    s.parent.postChannel({ t: 'chan', op: 'refuse', node: 'h/w1' });
    await settle();
    s.w.send(tell('h/w1', 'again'));
    await settle();
    expect(s.controls.filter((c) => c.op === 'dial')).toHaveLength(2);
    s.parent.postChannel({ t: 'chan', op: 'reset', node: 'h/w1' });
    await settle();
    s.w.send(tell('h/w1', 'and again'));
    await settle();
    expect(s.controls.filter((c) => c.op === 'dial')).toHaveLength(3);
  });
});
