import { afterEach, describe, expect, it } from 'vitest';
import { tcpNode, tell, until, type TcpTestNode } from '../support/tcp-node.js';

const open: TcpTestNode[] = [];
async function node(name: string, opts: Parameters<typeof tcpNode>[1] = {}): Promise<TcpTestNode> {
  const n = await tcpNode(name, opts);
  open.push(n);
  return n;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((n) => n.transport.close()));
});

describe('TCP transport: the Ceph communication model (thesis §3.3: ordered, fail-stop, notified)', () => {
  it('delivers per-pair FIFO under load, with no loss or duplicates across forced reconnects', async () => {
    const a = await node('a', { outboundQueueMax: 50_000, linkDownAfterMs: 15_000 });
    const b = await node('b');
    a.transport.addPeer('b', { host: '127.0.0.1', port: b.port });
    const total = 20_000;
    const burst = 2_500;
    for (let start = 0; start < total; start += burst) {
      for (let i = start; i < start + burst; i++) a.transport.send(tell('a', 'b', { i, pad: i % 7 === 0 ? new Uint8Array(8192).fill(i & 0xff) : null }));
      // Break the link while this burst is in flight: part delivered, part written but unacked, part queued.
      await until(() => b.delivered.length > start, 'the burst starts arriving');
      if (b.delivered.length < start + burst) a.transport.breakConnections();
    }
    await until(() => b.delivered.length >= total || a.undeliverable.length > 0, 'all messages delivered');
    expect(a.undeliverable).toEqual([]);
    await new Promise((r) => setTimeout(r, 50)); // any duplicate would arrive now
    expect(b.delivered.map((e) => (e.msg as { i: number }).i)).toEqual(Array.from({ length: total }, (_, i) => i));
    const withPad = b.delivered[7]!.msg as { pad: Uint8Array };
    expect(withPad.pad.byteLength).toBe(8192);
    expect(withPad.pad[0]).toBe(7);
    expect(a.undeliverable).toEqual([]);
    expect(b.linkUps).toEqual(['a']);
    expect(a.log.filter((e) => e.event === 'connection_lost').length).toBeGreaterThan(0);
  });

  it('reports every message lost with a dead peer to its sender, then signals link down', async () => {
    const a = await node('a', { linkDownAfterMs: 300 });
    const b = await node('b');
    a.transport.addPeer('b', { host: '127.0.0.1', port: b.port });
    a.transport.send(tell('a', 'b', 'first'));
    await until(() => b.delivered.length === 1, 'first delivery');
    await b.transport.close();
    for (let i = 0; i < 10; i++) a.transport.send(tell('a', 'b', i));
    await until(() => a.linkDowns.length === 1, 'link down');
    await until(() => a.undeliverable.length === 10, 'undeliverable reports');
    expect(a.undeliverable.map((u) => u.code)).toEqual(Array(10).fill('link_down'));
    expect(a.undeliverable.map((u) => u.env.msg)).toEqual(Array.from({ length: 10 }, (_, i) => i));
    expect(a.linkDowns).toEqual(['b']);
  });

  it('applies backpressure: a full outbound queue rejects sends with outbound_queue_full instead of growing', async () => {
    const a = await node('a', { outboundQueueMax: 8, linkDownAfterMs: 5000 });
    // A peer that accepts TCP but never answers the handshake: nothing drains the queue.
    const { createServer } = await import('node:net');
    const silent = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    a.transport.addPeer('slow', { host: '127.0.0.1', port });
    for (let i = 0; i < 20; i++) a.transport.send(tell('a', 'slow', i));
    await until(() => a.undeliverable.length === 12, 'rejections');
    expect(a.undeliverable.every((u) => u.code === 'outbound_queue_full')).toBe(true);
    expect(a.undeliverable.map((u) => u.env.msg)).toEqual(Array.from({ length: 12 }, (_, i) => i + 8));
    expect(a.transport.pending('slow')).toBe(8);
    await a.transport.close();
    silent.close();
  });

  it('refuses a peer with the wrong cluster secret and tells the sender auth_failed', async () => {
    const a = await node('a', { secret: 'not-the-secret', linkDownAfterMs: 300 });
    const b = await node('b');
    a.transport.addPeer('b', { host: '127.0.0.1', port: b.port });
    a.transport.send(tell('a', 'b', 'hi'));
    await until(() => a.undeliverable.length === 1, 'auth failure report');
    expect(a.undeliverable[0]!.code).toBe('auth_failed');
    expect(b.delivered).toEqual([]);
    expect(b.log.some((e) => e.event === 'rejected')).toBe(true);
  });

  it('learns the address of a peer that dialed in, so replies need no configuration', async () => {
    const a = await node('a');
    const b = await node('b');
    a.transport.addPeer('b', { host: '127.0.0.1', port: b.port });
    a.transport.send(tell('a', 'b', 'ping'));
    await until(() => b.delivered.length === 1, 'ping');
    b.transport.send(tell('b', 'a', 'pong'));
    await until(() => a.delivered.length === 1, 'pong');
    expect(a.delivered[0]!.msg).toBe('pong');
  });

  it('treats a restarted peer (new incarnation) as a failed link: unacked messages are reported (thesis §A.1 nonces)', async () => {
    const a = await node('a', { linkDownAfterMs: 5000 });
    const b1 = await node('b');
    a.transport.addPeer('b', { host: '127.0.0.1', port: b1.port });
    a.transport.send(tell('a', 'b', 'to-first'));
    await until(() => b1.delivered.length === 1, 'first delivery');
    const port = b1.port;
    await b1.transport.close();
    const b2 = await node('b', { listen: { port } });
    a.transport.send(tell('a', 'b', 'to-second'));
    await until(() => b2.delivered.length === 1 || a.undeliverable.length > 0, 'second incarnation reached');
    expect(a.linkDowns).toEqual(['b']);
  });
});
