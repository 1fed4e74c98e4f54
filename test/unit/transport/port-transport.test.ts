import { MessageChannel } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import type { Envelope } from '../../../src/runtime/envelope.js';
import type { RuntimeErrorCode } from '../../../src/runtime/errors.js';
import { PortTransport } from '../../../src/runtime/node/port-transport.js';
import { Ref } from '../../../src/runtime/ref.js';
import { transferOwnership } from '../../../src/runtime/transport/ownership.js';
import type { TransportSink } from '../../../src/runtime/transport/transport.js';

interface Recorder extends TransportSink {
  delivered: Envelope[];
  lost: { env: Envelope; code: RuntimeErrorCode; maybeDelivered: boolean }[];
  downs: string[];
}
function recorder(): Recorder {
  const r: Recorder = {
    delivered: [],
    lost: [],
    downs: [],
    deliver: (env) => r.delivered.push(env),
    undeliverable: (env, code, maybeDelivered) => r.lost.push({ env, code, maybeDelivered: maybeDelivered === true }),
    linkDown: (node) => r.downs.push(node),
  };
  return r;
}

const channels: MessageChannel[] = [];
function pair(): { a: PortTransport; b: PortTransport; ra: Recorder; rb: Recorder; posted: () => number } {
  const ch = new MessageChannel();
  channels.push(ch);
  let posts = 0;
  const post = ch.port1.postMessage.bind(ch.port1);
  ch.port1.postMessage = (m: unknown, t?: never) => {
    posts++;
    post(m, t);
  };
  const a = new PortTransport(ch.port1, { peerNode: 'w' });
  const b = new PortTransport(ch.port2, { peerNode: 'main' });
  const ra = recorder();
  const rb = recorder();
  a.bind('main', ra);
  b.bind('w', rb);
  return { a, b, ra, rb, posted: () => posts };
}
afterEach(() => {
  for (const ch of channels.splice(0)) {
    ch.port1.close();
    ch.port2.close();
  }
});

const to = new Ref('w', 'x');
const from = new Ref('main', 'y');
const tell = (msg: unknown): Envelope => ({ kind: 'tell', to, from, msg, corr: 0 });
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 20));

describe('thread data plane (PortTransport)', () => {
  it('batches the sends of one turn into one postMessage and keeps their order (thesis §3.3)', async () => {
    const { a, rb, posted } = pair();
    for (let i = 0; i < 1000; i++) a.send(tell(i));
    a.send({ kind: 'ask', to, from, msg: 'q', corr: 7 });
    await settle();
    expect(posted()).toBe(1);
    expect(rb.delivered.map((e) => e.msg)).toEqual([...Array.from({ length: 1000 }, (_, i) => i), 'q']);
    expect(rb.delivered[1000]).toMatchObject({ kind: 'ask', corr: 7, to: { node: 'w', id: 'x' }, from: { node: 'main', id: 'y' } });
  });

  it('transfers a payload its sender gave up; copies unmarked ones and views into a larger buffer', async () => {
    const { a, rb } = pair();
    const owned = transferOwnership(new Uint8Array(128 * 1024).fill(3));
    const kept = new Uint8Array(128 * 1024).fill(4);
    const view = transferOwnership(new Uint8Array(256 * 1024).subarray(0, 128 * 1024));
    a.send(tell({ owned, view, kept }));
    a.flush();
    expect(owned.byteLength).toBe(0);
    expect(view.byteLength).toBe(128 * 1024);
    expect(kept.byteLength).toBe(128 * 1024);
    await settle();
    const got = rb.delivered[0]!.msg as { owned: Uint8Array; view: Uint8Array };
    expect(got.owned.byteLength).toBe(128 * 1024);
    expect(got.owned[0]).toBe(3);
  });

  it('finds a given-up payload one level down, as in a reply { ok, value: { data } }; no deeper', async () => {
    const { a, rb } = pair();
    const data = transferOwnership(new Uint8Array(128 * 1024).fill(5));
    const deep = transferOwnership(new Uint8Array(128 * 1024).fill(6));
    a.send(tell({ ok: true, value: { data, more: { deep } } }));
    a.flush();
    expect(data.byteLength).toBe(0);
    expect(deep.byteLength).toBe(128 * 1024); // two levels down: copied
    await settle();
    const got = rb.delivered[0]!.msg as { value: { data: Uint8Array; more: { deep: Uint8Array } } };
    expect(got.value.data[0]).toBe(5);
    expect(got.value.more.deep[0]).toBe(6);
  });

  it('reports an uncloneable message to its sender and still delivers the rest of the batch, payloads intact', async () => {
    const { a, ra, rb } = pair();
    a.send(tell(1));
    a.send(tell({ f: () => 1 }));
    a.send(tell({ data: transferOwnership(new Uint8Array(100_000).fill(8)) }));
    await settle();
    expect(rb.delivered.map((e) => e.msg)).toEqual([1, { data: new Uint8Array(100_000).fill(8) }]);
    expect(ra.lost.map((l) => l.code)).toEqual(['node_unreachable']);
  });

  it('forgets posted envelopes once the far side acks their batch', async () => {
    const { a, rb } = pair();
    for (let i = 0; i < 10; i++) a.send(tell(i));
    a.flush();
    expect(a.inflightEnvelopes).toBe(10);
    await settle();
    expect(rb.delivered).toHaveLength(10);
    expect(a.inflightEnvelopes).toBe(0);
  });

  it('a reply posted in the turn its ask arrived carries the ask\'s ack: one postMessage each way per round trip', async () => {
    const ch = new MessageChannel();
    channels.push(ch);
    const posts = { main: 0, worker: 0 };
    for (const [port, side] of [[ch.port1, 'main'], [ch.port2, 'worker']] as const) {
      const post = port.postMessage.bind(port);
      port.postMessage = (m: unknown, t?: never) => {
        posts[side]++;
        post(m, t);
      };
    }
    const a = new PortTransport(ch.port1, { peerNode: 'w' });
    const b = new PortTransport(ch.port2, { peerNode: 'main' });
    const ra = recorder();
    a.bind('main', ra);
    // The far side answers each ask in the turn it arrives, as an actor that replies at once does.
    b.bind('w', { ...recorder(), deliver: (env) => b.send({ kind: 'reply', to: env.from!, from: env.to, msg: env.msg, corr: env.corr }) });
    for (let i = 1; i <= 3; i++) {
      a.send({ kind: 'ask', to, from, msg: i, corr: i });
      await settle();
    }
    expect(ra.delivered.map((e) => [e.kind, e.msg, e.corr])).toEqual([['reply', 1, 1], ['reply', 2, 2], ['reply', 3, 3]]);
    // The worker side posted only its replies (each carrying an ack) and no ack of its own.
    expect(posts.worker).toBe(3);
    expect(a.inflightEnvelopes).toBe(0);
    // The main side's acks of the replies went alone (it sent nothing back in those turns).
    expect(posts.main).toBe(6);
    expect(b.inflightEnvelopes).toBe(0);
  });

  it('on failure of the far side, reports posted-but-unacked (maybe delivered) and queued (not sent) envelopes as link_down, then the link (thesis §3.3)', async () => {
    const { a, ra } = pair();
    a.send(tell('posted'));
    a.flush();
    a.send(tell('queued'));
    a.fail(); // the far thread died before acking
    a.send(tell('after'));
    await settle();
    expect(ra.lost.map((l) => [l.env.msg, l.code, l.maybeDelivered])).toEqual([
      ['posted', 'link_down', true],
      ['queued', 'link_down', false],
      ['after', 'node_unreachable', false],
    ]);
    expect(ra.downs).toEqual(['w']);
  });

  it('relays failure notices to the far side: undeliverable, link down', async () => {
    const { a, rb } = pair();
    a.relayUndeliverable({ kind: 'tell', to: new Ref('elsewhere', 'z'), from: new Ref('w', 'x'), msg: 'm', corr: 0 }, 'link_down');
    a.relayUndeliverable({ kind: 'tell', to: new Ref('elsewhere', 'z'), from: new Ref('w', 'x'), msg: 'sent', corr: 0 }, 'link_down', true);
    a.relayLinkDown('other-host');
    await settle();
    expect(rb.lost.map((l) => [l.env.to.node, l.env.msg, l.code, l.maybeDelivered])).toEqual([
      ['elsewhere', 'm', 'link_down', false],
      ['elsewhere', 'sent', 'link_down', true],
    ]);
    expect(rb.downs).toEqual(['other-host']);
  });

  it('a batch keeps every envelope\'s kind, refs, sender and correlation id, whether small or large (heads as a typed array)', async () => {
    for (const count of [3, 7, 8, 500]) {
      const { a, rb } = pair();
      const other = new Ref('w', 'other');
      const kinds = ['tell', 'ask', 'reply', 'fail', 'sys'] as const;
      const sent: Envelope[] = Array.from({ length: count }, (_, i) => ({
        kind: kinds[i % kinds.length]!,
        to: i % 3 === 0 ? other : to,
        from: i % 4 === 0 ? undefined : from,
        msg: { i },
        corr: i % 5 === 0 ? 0 : 2 ** 40 + i,
      }));
      for (const env of sent) a.send(env);
      await settle();
      const view = (e: Envelope): unknown[] => [e.kind, e.to.node, e.to.id, e.from?.node, e.from?.id, e.msg, e.corr];
      expect(rb.delivered.map(view)).toEqual(sent.map(view));
    }
  });

  it('on failure after a large batch was posted, reports each of its envelopes whole (thesis §3.3)', async () => {
    const { a, ra } = pair();
    for (let i = 0; i < 100; i++) a.send({ kind: 'ask', to, from, msg: i, corr: 1_000 + i });
    a.flush();
    a.fail();
    await settle();
    expect(ra.lost).toHaveLength(100);
    expect(ra.lost.map((l) => [l.env.kind, l.env.to.node, l.env.to.id, l.env.from?.id, l.env.msg, l.env.corr, l.code])).toEqual(
      Array.from({ length: 100 }, (_, i) => ['ask', 'w', 'x', 'y', i, 1_000 + i, 'link_down']),
    );
  });
});
