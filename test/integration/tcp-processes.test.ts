import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTroupeError } from '../../src/runtime/errors.js';
import { TroupeNode } from '../../src/runtime/node/troupe-node.js';
import type { BehaviorSpec } from '../../src/runtime/node/worker-protocol.js';
import { kill, startNodeProcess, type NodeProcess } from '../support/node-process.js';

const fixtures = new URL('../fixtures/actors.mjs', import.meta.url).href;
const spec = (name: string): BehaviorSpec => ({ module: fixtures, export: name });
const cluster = { cluster: 'proc-test', secret: 'proc-secret' };

let driver: TroupeNode;
let b: NodeProcess | undefined;
let c: NodeProcess | undefined;
let d: NodeProcess | undefined;

beforeAll(async () => {
  driver = await TroupeNode.start({ node: 'driver', system: { logger: () => undefined }, tcp: { ...cluster, listen: { port: 0 }, linkDownAfterMs: 2000, heartbeatIntervalMs: 250, heartbeatTimeoutMs: 2000, handshakeTimeoutMs: 2000 } });
  b = await startNodeProcess({ node: 'b', workers: 1, ...cluster });
  c = await startNodeProcess({ node: 'c', ...cluster, peers: { b: { host: b.host, port: b.port } } });
  driver.tcp!.addPeer('b', { host: b.host, port: b.port });
  d = await startNodeProcess({ node: 'd', ...cluster });
  driver.tcp!.addPeer('c', { host: c.host, port: c.port });
  driver.tcp!.addPeer('d', { host: d.host, port: d.port });
});

afterAll(async () => {
  await Promise.all([kill(b), kill(c), kill(d)]);
  await driver?.close();
});

type Tagged = { tag: string; i: number };

describe('across processes over TCP (thesis §3.3: ordered, fail-stop delivery between any pair)', () => {
  it('places actors on another host and on that host\'s worker threads', async () => {
    const onB = await driver.spawn(spec('echo'), { placement: { host: 'b' } });
    const onBWorker = await driver.spawn(spec('echo'), { placement: { host: 'b', placement: { worker: 0 } } });
    expect(onB.node).toBe('b');
    expect(onBWorker.node).toBe('b/w0');
    expect(await driver.system.ask(onBWorker, { type: 'where' }, { timeoutMs: 5000 })).toBe('b/w0');
    const big = new Uint8Array(256 * 1024).fill(5);
    expect(await driver.system.ask(onBWorker, { n: 2n ** 60n, big }, { timeoutMs: 5000 })).toEqual({ n: 2n ** 60n, big: new Uint8Array(256 * 1024).fill(5) });
  });

  it('keeps per-pair FIFO under load between processes, into a worker thread of another process', async () => {
    const n = 8_000; // below the default outboundQueueMax (10,000): this test is about order, not backpressure
    const rec = await driver.spawn(spec('recorder'), { placement: { host: 'b', placement: { worker: 0 } }, mailboxCapacity: 100_000 });
    const blasterC = await driver.spawn(spec('blaster'), { placement: { host: 'c' } });
    const blasterB = await driver.spawn(spec('blaster'), { placement: { host: 'b' } });
    const asks = [
      driver.system.ask(blasterC, { type: 'blast', to: rec, n, tag: 'c' }, { timeoutMs: 30_000 }),
      driver.system.ask(blasterB, { type: 'blast', to: rec, n, tag: 'b' }, { timeoutMs: 30_000 }),
    ];
    for (let i = 0; i < n; i++) driver.system.tell(rec, { tag: 'driver', i });
    await Promise.all(asks);
    const deadline = Date.now() + 30_000;
    while ((await driver.system.ask<number>(rec, { type: 'count' }, { timeoutMs: 10_000 })) < 3 * n) {
      if (Date.now() > deadline) {
        const got = await driver.system.ask<Tagged[]>(rec, { type: 'get' }, { timeoutMs: 10_000 });
        throw new Error(`not all messages arrived within 30 s: ${JSON.stringify(['c', 'b', 'driver'].map((t) => got.filter((m) => m.tag === t).length))}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    const seen = await driver.system.ask<Tagged[]>(rec, { type: 'get' }, { timeoutMs: 10_000 });
    expect(seen).toHaveLength(3 * n);
    for (const tag of ['c', 'b', 'driver']) {
      expect(seen.filter((m) => m.tag === tag).map((m) => m.i), `sender ${tag}`).toEqual(Array.from({ length: n }, (_, i) => i));
    }
  });

  it('turns a killed process into node_down for watchers and link_down for pending asks', async () => {
    const victim = await driver.spawn(spec('recorder'), { placement: { host: 'c' } });
    expect(await driver.system.ask(victim, { type: 'count' }, { timeoutMs: 5000 })).toBe(0);
    const watched = driver.system.terminated(victim);
    const downs: string[] = [];
    driver.system.events.on('linkDown', ({ node }) => downs.push(node));
    await kill(c);
    c = undefined;
    const pending = driver.system.ask(victim, { type: 'count' }, { timeoutMs: 20_000 });
    await expect(pending).rejects.toSatisfy((e: unknown) => isTroupeError(e, 'link_down'));
    expect(await watched).toBe('node_down');
    expect(downs).toContain('c');
  });

  it('tells watchers on other hosts when a worker thread of a host crashes (node_down, in order with its data)', async () => {
    const victim = await driver.spawn(spec('crasher'), { placement: { host: 'b', placement: { worker: 0 } } });
    expect(victim.node).toBe('b/w0');
    expect(await driver.system.ask(victim, 'ping', { timeoutMs: 5000 })).toBe('alive');
    const watched = driver.system.terminated(victim);
    driver.system.tell(victim, { type: 'crash' });
    expect(await watched).toBe('node_down');
  });

  it('detects a frozen process (no RST, no FIN) by its silence: watchers see node_down', async () => {
    const victim = await driver.spawn(spec('echo'), { placement: { host: 'd' } });
    expect(await driver.system.ask(victim, 'ping', { timeoutMs: 5000 })).toBe('ping');
    const watched = driver.system.terminated(victim);
    d!.child.kill('SIGSTOP');
    expect(await watched).toBe('node_down');
  });
});
