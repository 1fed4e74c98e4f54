/**
 * The multi-host spec's `coord` role: three Troupe nodes (in this process, each with its own TCP
 * listener, so the Zab servers talk over Troupe's authenticated transport) each run one
 * coordination server from the same spec; a ZooKeeper client writes through one and reads
 * through another.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseSpec, coordLayoutOf, SpecError } from '../../src/cluster/spec.js';
import { startSpecNode, type SpecNode } from '../../src/cluster/spec-node.js';
import { closeNzk, connectNzk, nzk } from '../support/zk-differential.js';
import { freePort } from '../support/zk-peer.js';

const dir = mkdtempSync(join(tmpdir(), 'troupe-coord-spec-'));
const nodes: SpecNode[] = [];

afterAll(async () => {
  for (const n of nodes) await n.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the coord role of a cluster spec', () => {
  it('rejects a bad zkPort', () => {
    expect(() => parseSpec({ cluster: 'c', nodes: { a: { host: '127.0.0.1', port: 7000, roles: ['coord'], zkPort: 0 } } }, 'spec.json')).toThrow(SpecError);
  });

  it('runs one server per coord node; they form an ensemble that ZooKeeper clients use', async () => {
    const raw: { cluster: string; nodes: Record<string, unknown> } = { cluster: 'coordspec', nodes: {} };
    for (const name of ['h1', 'h2', 'h3']) raw.nodes[name] = { host: '127.0.0.1', port: await freePort(), roles: ['coord'], zkPort: await freePort(), dataDir: join(dir, name) };
    const spec = parseSpec(raw, join(dir, 'cluster.json'));
    const layout = coordLayoutOf(spec);
    expect(layout.servers.map((s) => s.id)).toEqual([1, 2, 3]);
    for (const name of ['h1', 'h2', 'h3']) nodes.push(await startSpecNode(spec, name, { secret: 'coord-spec-test-secret', logger: () => {} }));
    expect(nodes.map((n) => n.coord?.connectString)).toEqual([layout.connectString, layout.connectString, layout.connectString]);

    const [p1, p2] = layout.servers.map((s) => s.zkPort) as [number, number];
    const a = await connectNzk(`127.0.0.1:${p1}`);
    let err = -1;
    // The servers elect a leader after they start: retry until a create is served.
    for (let i = 0; i < 100 && err !== 0; i++) {
      err = await new Promise<number>((r) => a.create('/spec', Buffer.from('ok'), (nzk as unknown as { ACL: { OPEN_ACL_UNSAFE: unknown } }).ACL.OPEN_ACL_UNSAFE, 0, (e) => r(e ? e.code : 0)));
      if (err === -110) err = 0;
      if (err !== 0) await new Promise((res) => setTimeout(res, 200));
    }
    expect(err).toBe(0);
    const b = await connectNzk(`127.0.0.1:${p2}`);
    let data = '';
    for (let i = 0; i < 100 && data !== 'ok'; i++) {
      data = await new Promise<string>((r) => b.getData('/spec', undefined, (e, d) => r(e ? '' : (d?.toString() ?? ''))));
      if (data !== 'ok') await new Promise((res) => setTimeout(res, 50));
    }
    expect(data).toBe('ok');
    await closeNzk(a);
    await closeNzk(b);
  }, 120_000);
});
