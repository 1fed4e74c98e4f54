import { describe, expect, it } from 'vitest';
import type { Envelope } from '../../../src/runtime/envelope.js';
import type { RuntimeErrorCode } from '../../../src/runtime/errors.js';
import { Ref } from '../../../src/runtime/ref.js';
import { RoutingTransport, type RelayTransport } from '../../../src/runtime/transport/router.js';
import type { Transport, TransportSink } from '../../../src/runtime/transport/transport.js';

class FakeLink implements RelayTransport {
  sink: TransportSink | undefined;
  sent: Envelope[] = [];
  relayed: { env: Envelope; code: RuntimeErrorCode }[] = [];
  downs: string[] = [];
  ups: string[] = [];
  bind(_node: string, sink: TransportSink): void {
    this.sink = sink;
  }
  send(env: Envelope): void {
    this.sent.push(env);
  }
  async close(): Promise<void> {}
  relayUndeliverable(env: Envelope, code: RuntimeErrorCode): void {
    this.relayed.push({ env, code });
  }
  relayLinkDown(node: string): void {
    this.downs.push(node);
  }
  relayLinkUp(node: string): void {
    this.ups.push(node);
  }
}

class FakeHost implements Transport {
  sink: TransportSink | undefined;
  sent: Envelope[] = [];
  announced: string[] = [];
  bind(_node: string, sink: TransportSink): void {
    this.sink = sink;
  }
  send(env: Envelope): void {
    this.sent.push(env);
  }
  async close(): Promise<void> {}
  announceNodeDown(node: string): void {
    this.announced.push(node);
  }
}

function setup() {
  const router = new RoutingTransport();
  const w0 = new FakeLink();
  const w1 = new FakeLink();
  const tcp = new FakeHost();
  const local = { delivered: [] as Envelope[], lost: [] as [Envelope, RuntimeErrorCode][], downs: [] as string[] };
  router.addRoute('h/w0', w0);
  router.setDefault(tcp);
  router.bind('h', { deliver: (e) => local.delivered.push(e), undeliverable: (e, c) => local.lost.push([e, c]), linkDown: (n) => local.downs.push(n) });
  router.addRoute('h/w1', w1);
  return { router, w0, w1, tcp, local };
}

const env = (to: string, from: string, kind: Envelope['kind'] = 'tell'): Envelope => ({ kind, to: new Ref(to, 'a'), from: new Ref(from, 'b'), msg: 'm', corr: kind === 'ask' ? 5 : 0 });

describe('routing transport: one path per pair, failure notices follow the envelope back (thesis §3.3)', () => {
  it('routes by exact worker node, sends other hosts to the default route, forwards between links', () => {
    const { router, w0, w1, tcp, local } = setup();
    router.send(env('h/w1', 'h'));
    router.send(env('other', 'h'));
    router.send(env('other/w3', 'h'));
    w0.sink!.deliver(env('h/w1', 'h/w0'));
    w0.sink!.deliver(env('h', 'h/w0'));
    tcp.sink!.deliver(env('h/w0', 'other'));
    expect(w1.sent.map((e) => e.from?.node)).toEqual(['h', 'h/w0']);
    expect(tcp.sent.map((e) => e.to.node)).toEqual(['other', 'other/w3']);
    expect(local.delivered.map((e) => e.from?.node)).toEqual(['h/w0']);
    expect(w0.sent.map((e) => e.from?.node)).toEqual(['other']);
  });

  it('reports an unroutable envelope to its sender: locally, inside the sending worker, or as a fail reply to another host', () => {
    const { router, w0, tcp, local } = setup();
    router.send(env('h/w9', 'h'));
    w0.sink!.deliver(env('h/w9', 'h/w0'));
    tcp.sink!.deliver(env('h/w9', 'other', 'ask'));
    expect(local.lost.map(([e, c]) => [e.to.node, c])).toEqual([['h/w9', 'node_unreachable']]);
    expect(w0.relayed.map((r) => r.code)).toEqual(['node_unreachable']);
    expect(tcp.sent).toHaveLength(1);
    expect(tcp.sent[0]).toMatchObject({ kind: 'fail', corr: 5, to: { node: 'other' }, msg: { code: 'node_unreachable' } });
  });

  it('announces a dead worker locally, to the other workers and to other hosts; a dead host takes its seen workers with it', () => {
    const { router, w0, w1, tcp, local } = setup();
    w1.sink!.linkDown('h/w1');
    expect(local.downs).toEqual(['h/w1']);
    expect(w0.downs).toEqual(['h/w1']);
    expect(w1.downs).toEqual([]);
    expect(tcp.announced).toEqual(['h/w1']);
    router.send(env('other/w2', 'h'));
    tcp.sink!.linkDown('other');
    expect(local.downs).toEqual(['h/w1', 'other', 'other/w2']);
    expect(w0.downs).toEqual(['h/w1', 'other', 'other/w2']);
    expect(tcp.announced).toEqual(['h/w1']);
  });
});
