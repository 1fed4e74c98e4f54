/**
 * A GFS cluster on three hosts from one spec file (issue: one-command cluster, item 2): each host
 * runs `troupe node --config FILE --name NAME` — in its own network namespace with its own address
 * where the kernel allows (CI runs as root), else as three processes on loopback ports, which the
 * test says. A client on the driver host writes and reads a file through the spec.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/runtime/random.js';
import { runCli } from '../support/cli.js';
import { startSpecHost, stopSpecHost } from '../support/spec-host.js';
import { createNetnsLab, type NetnsLab } from '../support/netns.js';

const dir = mkdtempSync(join(tmpdir(), 'troupe-multihost-'));
const specFile = join(dir, 'cluster.json');
let lab: NetnsLab | undefined;
const hosts: ChildProcess[] = [];

const startHost = (name: string, netns: string | undefined): Promise<ChildProcess> => startSpecHost(specFile, name, netns);
const stopHost = stopSpecHost;

beforeAll(async () => {
  try {
    lab = createNetnsLab(3);
    console.log(`multi-host test: network namespaces ${lab.namespaces.join(', ')} at ${lab.hostAddresses.join(', ')}`);
  } catch (err) {
    console.log(`multi-host test: network namespaces refused (${(err as Error).message.split('\n')[0]}); falling back to 3 processes on loopback ports`);
  }
  const base = 20_000 + (process.pid % 20_000);
  const addr = (i: number): { host: string; port: number } => (lab !== undefined ? { host: lab.hostAddresses[i] as string, port: 7070 } : { host: '127.0.0.1', port: base + i });
  writeFileSync(join(dir, 'secret'), 'multi-host-test-secret-0123456789\n', { mode: 0o600 });
  const spec = {
    cluster: 'multi-host-gfs',
    secretFile: 'secret',
    chunkSizeBytes: 1 << 20,
    nodes: {
      h1: { ...addr(0), rack: 'a', dataDir: join(dir, 'h1'), roles: ['master', 'shadow-master', 'chunkserver'] },
      h2: { ...addr(1), rack: 'b', dataDir: join(dir, 'h2'), roles: ['master-replica', 'chunkserver'] },
      h3: { ...addr(2), rack: 'c', dataDir: join(dir, 'h3'), roles: ['chunkserver'], chunkservers: 2 },
    },
  };
  writeFileSync(specFile, JSON.stringify(spec, null, 2));
  for (const [i, name] of ['h1', 'h2', 'h3'].entries()) hosts.push(await startHost(name, lab?.namespaces[i]));
}, 120_000);

afterAll(async () => {
  const codes = await Promise.all(hosts.map(stopHost));
  lab?.destroy();
  rmSync(dir, { recursive: true, force: true });
  expect(codes).toEqual([0, 0, 0]);
});

describe('a multi-host cluster from a spec file', () => {
  it('every host joins: the master sees 4 chunkservers on 3 racks', async () => {
    let servers: Array<{ server: string; rack: string; alive: boolean }> = [];
    for (let i = 0; i < 60 && servers.filter((s) => s.alive).length < 4; i++) {
      const r = await runCli(['status', '--json', '--config', specFile]);
      if (r.code === 0) servers = (JSON.parse(r.out) as { servers: typeof servers }).servers;
      else await new Promise((res) => setTimeout(res, 500));
    }
    expect(servers.map((s) => [s.server, s.rack, s.alive])).toEqual([
      ['h1-cs0', 'a', true],
      ['h2-cs0', 'b', true],
      ['h3-cs0', 'c', true],
      ['h3-cs1', 'c', true],
    ]);
  });

  it('a client writes a file across the hosts and reads it back intact', async () => {
    const data = Buffer.from(seededRandom(7).bytes(3 * (1 << 20) + 12_345));
    const src = join(dir, 'in.bin');
    writeFileSync(src, data);
    expect((await runCli(['fs', 'put', src, '/across', '--config', specFile], 120_000)).code).toBe(0);
    const out = join(dir, 'out.bin');
    expect((await runCli(['fs', 'get', '/across', out, '--config', specFile], 120_000)).code).toBe(0);
    expect(readFileSync(out).equals(data)).toBe(true);
    const fsck = await runCli(['fsck', '--config', specFile]);
    expect(fsck.out).toContain('4 chunks: 0 missing');
  });

  it('a host of a spec that does not name it, or a spec without a master, is refused with a clear error (exit 2)', async () => {
    const r = await runCli(['node', '--config', specFile, '--name', 'h9']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('no node "h9" in the cluster spec (it names h1, h2, h3)');
    const badSpec = join(dir, 'bad.json');
    writeFileSync(badSpec, JSON.stringify({ cluster: 'x', nodes: { a: { host: '127.0.0.1', port: 1, roles: ['chunkserver'] } } }));
    const r2 = await runCli(['node', '--config', badSpec, '--name', 'a']);
    expect(r2.code).toBe(2);
    expect(r2.err).toContain('exactly one node must have the "master" role');
  });
});
