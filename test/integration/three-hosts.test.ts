import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TroupeNode } from '../../src/runtime/node/troupe-node.js';
import type { BehaviorSpec } from '../../src/runtime/node/worker-protocol.js';
import { createNetnsLab, type NetnsLab } from '../support/netns.js';
import { kill, startNodeProcess, type NodeProcess } from '../support/node-process.js';

/**
 * Three hosts, each a Troupe node in its own OS process and — where the kernel allows (CI runs as
 * root) — its own network namespace with its own IP address, joined by veth pairs on a bridge.
 * Where namespaces are refused, the same test runs as 3 processes on loopback ports and says so.
 */

const fixtures = new URL('../fixtures/actors.mjs', import.meta.url).href;
const spec = (name: string): BehaviorSpec => ({ module: fixtures, export: name });
const cluster = { cluster: 'three-hosts', secret: 'three-hosts-secret' };

let lab: NetnsLab | undefined;
let driver: TroupeNode;
const hosts: NodeProcess[] = [];

beforeAll(async () => {
  try {
    lab = createNetnsLab(3);
    console.log(`3-host test: network namespaces ${lab.namespaces.join(', ')} at ${lab.hostAddresses.join(', ')}`);
  } catch (err) {
    console.log(`3-host test: network namespaces refused (${(err as Error).message.split('\n')[0]}); falling back to 3 processes on loopback ports`);
  }
  const driverHost = lab?.driverAddress ?? '127.0.0.1';
  driver = await TroupeNode.start({ node: 'driver', system: { logger: () => undefined }, tcp: { ...cluster, listen: { host: driverHost, port: 0 }, linkDownAfterMs: 1000 } });
  const peers: Record<string, { host: string; port: number }> = { driver: { host: driverHost, port: driver.address!.port } };
  for (let i = 0; i < 3; i++) {
    const p = await startNodeProcess({ node: `h${i + 1}`, host: lab?.hostAddresses[i] ?? '127.0.0.1', ...cluster, peers: { ...peers } }, lab !== undefined ? { netns: lab.namespaces[i] as string } : {});
    hosts.push(p);
    peers[p.node] = { host: p.host, port: p.port };
    driver.tcp!.addPeer(p.node, { host: p.host, port: p.port });
  }
}, 60_000);

afterAll(async () => {
  await Promise.all(hosts.map((h) => kill(h)));
  await driver?.close();
  lab?.destroy();
});

type Tagged = { tag: string; i: number };

describe('three hosts (thesis §3.3 between every pair)', () => {
  it('runs actors on three hosts, each host with its own address, with per-pair FIFO between them', async () => {
    const where = await Promise.all(hosts.map(async (h) => driver.system.ask<string>(await driver.spawn(spec('echo'), { placement: { host: h.node } }), { type: 'where' }, { timeoutMs: 10_000 })));
    expect(where).toEqual(['h1', 'h2', 'h3']);
    expect(new Set(hosts.map((h) => h.host)).size).toBe(lab !== undefined ? 3 : 1);
    const n = 3000;
    const rec = await driver.spawn(spec('recorder'), { placement: { host: 'h1' }, mailboxCapacity: 100_000 });
    const blasters = await Promise.all(['h2', 'h3'].map((host) => driver.spawn(spec('blaster'), { placement: { host } })));
    await Promise.all(blasters.map((b, k) => driver.system.ask(b, { type: 'blast', to: rec, n, tag: `h${k + 2}` }, { timeoutMs: 30_000 })));
    const deadline = Date.now() + 30_000;
    while ((await driver.system.ask<number>(rec, { type: 'count' }, { timeoutMs: 10_000 })) < 2 * n) {
      if (Date.now() > deadline) throw new Error('messages between hosts did not all arrive within 30 s');
      await new Promise((r) => setTimeout(r, 20));
    }
    const seen = await driver.system.ask<Tagged[]>(rec, { type: 'get' }, { timeoutMs: 10_000 });
    for (const tag of ['h2', 'h3']) expect(seen.filter((m) => m.tag === tag).map((m) => m.i)).toEqual(Array.from({ length: n }, (_, i) => i));
  });

  it('reports a killed host to watchers on the others as node_down', async () => {
    const victim = await driver.spawn(spec('echo'), { placement: { host: 'h3' } });
    const watched = driver.system.terminated(victim);
    await kill(hosts[2]);
    expect(await watched).toBe('node_down');
  });
});
