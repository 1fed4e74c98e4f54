/**
 * The coordination service as a user runs it: `troupe up --system coord` as a process prints the
 * ensemble's connect string; zkCli.sh (Debian's ZooKeeper 3.8, installed by the helper when
 * missing) creates a node through one server and reads it through another; after Ctrl-C and a
 * second `troupe up` on the same data directory the node is still there.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startClusterProcess, type ClusterProcess } from '../support/cli.js';
import { ensureZooKeeperInstalled, freePort, INSTALL_HINT, zkCli } from '../support/zk-peer.js';

const dir = mkdtempSync(join(tmpdir(), 'troupe-coord-e2e-'));
const dataDir = join(dir, 'data');
let cluster: ClusterProcess | undefined;

afterAll(async () => {
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const free = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });

/** A first port whose next two are free too. */
async function threePorts(): Promise<number> {
  for (;;) {
    const p = await freePort();
    if (p < 65_000 && (await free(p + 1)) && (await free(p + 2))) return p;
  }
}

describe('troupe up --system coord', () => {
  it('prints the connect string of 3 servers; zkCli creates and reads through different servers; a restart keeps the node', async () => {
    expect(ensureZooKeeperInstalled(), INSTALL_HINT).toBe(true);
    const base = await threePorts();
    cluster = await startClusterProcess(dataDir, ['--system', 'coord', '--zk-port', String(base)]);
    expect(cluster.banner).toContain(`zookeeper connect string: 127.0.0.1:${base},127.0.0.1:${base + 1},127.0.0.1:${base + 2}`);

    // The ensemble elects a leader after start: retry the first create until a server serves it.
    let created = '';
    for (let i = 0; i < 20 && !created.includes('Created /a'); i++) {
      const r = await zkCli(base, ['create', '/a', 'x']);
      created = r.output;
      if (created.includes('Node already exists')) created = 'Created /a';
    }
    expect(created).toContain('Created /a');
    // sync through a follower-or-leader, then a read there (zkCli prints the sync's outcome).
    expect((await zkCli(base + 1, ['sync', '/a'])).output).toContain('Sync is OK');
    let got = '';
    for (let i = 0; i < 20 && !/^x$/m.test(got); i++) got = (await zkCli(base + 2, ['get', '/a'])).stdout;
    expect(got).toMatch(/^x$/m);

    expect(await cluster.stop()).toBe(0);
    cluster = await startClusterProcess(dataDir, ['--system', 'coord', '--zk-port', String(base)]);
    let again = '';
    for (let i = 0; i < 20 && !/^x$/m.test(again); i++) again = (await zkCli(base + 1, ['get', '/a'])).stdout;
    expect(again).toMatch(/^x$/m);

    // The dashboard shows the ensemble: three servers, one of them the leader.
    const url = /dashboard: (http:\/\/\S+?)\/\s/.exec(cluster.banner)?.[1];
    expect(url, cluster.banner).toBeDefined();
    await expect
      .poll(
        async () => {
          const st = (await (await fetch(`${url}/api/status`, { signal: AbortSignal.timeout(10_000) })).json()) as { coord: { total: number; up: number; leader: string | null } | null };
          return st.coord === null ? null : { total: st.coord.total, up: st.coord.up, led: st.coord.leader !== null };
        },
        { timeout: 30_000, interval: 500 },
      )
      .toEqual({ total: 3, up: 3, led: true });
  }, 300_000);
});
