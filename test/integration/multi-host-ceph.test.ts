/**
 * A Ceph-style cluster on three hosts from one spec file (issue 15 item 6: the spec roles `monitor`
 * and `osd`): each host runs `troupe node --config FILE --name NAME` with a monitor and two OSDs —
 * in its own network namespace where the kernel allows (CI runs as root), else as three processes
 * on loopback ports, which the test says. `troupe ceph status --json --config FILE` on the driver
 * shows the quorum, the leader and the OSDs; the host of the leader is then stopped (the other two
 * keep a quorum, its OSDs are marked down by their peers' failure reports in a new epoch) and
 * started again on its data directory (it rejoins the quorum and its OSDs boot back up).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CephStatus, OsdTreeRow } from '../../src/actors/rados/mon/cluster-status.js';
import { runCli } from '../support/cli.js';
import { startSpecHost, stopSpecHost } from '../support/spec-host.js';
import { createNetnsLab, type NetnsLab } from '../support/netns.js';

const dir = mkdtempSync(join(tmpdir(), 'troupe-multihost-ceph-'));
const specFile = join(dir, 'cluster.json');
const names = ['h1', 'h2', 'h3'] as const;
let lab: NetnsLab | undefined;
const hosts = new Map<string, ChildProcess>();

const startHost = (name: string): Promise<ChildProcess> => startSpecHost(specFile, name, lab?.namespaces[names.indexOf(name as (typeof names)[number])]);
const stopHost = stopSpecHost;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** `troupe ceph status --json` through the spec; undefined when the command failed. */
async function status(): Promise<CephStatus | undefined> {
  const r = await runCli(['ceph', 'status', '--json', '--config', specFile], 60_000);
  return r.code === 0 ? (JSON.parse(r.out) as CephStatus) : undefined;
}

/** Asks for the status until `done` holds (at most `attempts` times, a second apart); returns the last answer. */
async function statusUntil(done: (s: CephStatus) => boolean, attempts: number): Promise<CephStatus | undefined> {
  let last: CephStatus | undefined;
  for (let i = 0; i < attempts; i++) {
    last = await status();
    if (last !== undefined && done(last)) return last;
    await sleep(1_000);
  }
  if (last !== undefined) console.log(`status after ${attempts} polls: ${JSON.stringify({ health: last.health, checks: last.checks, pgs: last.pgs })}`);
  return last;
}

async function osdStates(): Promise<Array<[string, string | undefined]>> {
  const r = await runCli(['ceph', 'osd', 'tree', '--json', '--config', specFile], 60_000);
  expect(r.code, r.err).toBe(0);
  return (JSON.parse(r.out) as OsdTreeRow[]).filter((row) => row.type === 'osd').map((row) => [row.name, row.status]);
}

beforeAll(async () => {
  try {
    lab = createNetnsLab(3);
    console.log(`multi-host ceph test: network namespaces ${lab.namespaces.join(', ')} at ${lab.hostAddresses.join(', ')}`);
  } catch (err) {
    console.log(`multi-host ceph test: network namespaces refused (${(err as Error).message.split('\n')[0]}); falling back to 3 processes on loopback ports`);
  }
  const base = 20_000 + ((process.pid + 7_000) % 20_000);
  const addr = (i: number): { host: string; port: number } => (lab !== undefined ? { host: lab.hostAddresses[i] as string, port: 7070 } : { host: '127.0.0.1', port: base + i });
  writeFileSync(join(dir, 'secret'), 'multi-host-ceph-test-secret-0123456789\n', { mode: 0o600 });
  const spec = {
    cluster: 'multi-host-ceph',
    secretFile: 'secret',
    nodes: Object.fromEntries(names.map((name, i) => [name, { ...addr(i), rack: `r${i}`, dataDir: join(dir, name), roles: ['monitor', 'osd'], osds: 2 }])),
  };
  writeFileSync(specFile, JSON.stringify(spec, null, 2));
  for (const name of names) hosts.set(name, await startHost(name));
}, 120_000);

afterAll(async () => {
  const codes = await Promise.all([...hosts.values()].map(stopHost));
  lab?.destroy();
  rmSync(dir, { recursive: true, force: true });
  expect(codes).toEqual([0, 0, 0]);
});

describe('a multi-host Ceph-style cluster from a spec file', () => {
  let epochBefore = 0;
  let stopped = '';

  it('the three monitors form a quorum with a leader, and every OSD is up and in', async () => {
    // Health waits for the primaries' PG reports to show every PG active+clean.
    const s = await statusUntil((x) => x.monitors.quorum.length === 3 && x.osds.up === 6 && x.osds.in === 6 && x.pools === 1 && x.health === 'HEALTH_OK', 60);
    expect(s?.monitors).toMatchObject({ count: 3, quorum: [0, 1, 2], down: [] });
    expect(s?.monitors.leader).toBeTypeOf('number');
    expect(s?.osds).toEqual({ total: 6, up: 6, in: 6 });
    expect(s?.health).toBe('HEALTH_OK');
    expect(s?.pools).toBe(1);
    epochBefore = s?.epoch ?? 0;
    expect(await osdStates()).toEqual([0, 1, 2, 3, 4, 5].map((id) => [`osd.${id}`, 'up']));
  }, 120_000);

  it("with the leader's host stopped, the other two keep a quorum, its OSDs are marked down in a new epoch, and status still answers", async () => {
    const before = await status();
    const leader = before?.monitors.leader ?? 0;
    // Monitor ranks follow the spec's node order; OSDs 2r and 2r + 1 live on the same host.
    stopped = names[leader] as string;
    expect(await stopHost(hosts.get(stopped) as ChildProcess)).toBe(0);
    hosts.delete(stopped);
    const others = [0, 1, 2].filter((r) => r !== leader);
    // Failure reports need the OSDs' heartbeat grace (20 s, Ceph's default) to run out first.
    const s = await statusUntil((x) => x.osds.up === 4, 90);
    expect(s?.monitors.quorum).toEqual(others);
    expect(others).toContain(s?.monitors.leader);
    expect(s?.monitors.down).toEqual([leader]);
    expect(s?.osds).toEqual({ total: 6, up: 4, in: 6 });
    expect(s?.health).toBe('HEALTH_WARN');
    expect(s?.epoch).toBeGreaterThan(epochBefore);
    const down = new Set([`osd.${2 * leader}`, `osd.${2 * leader + 1}`]);
    expect(await osdStates()).toEqual([0, 1, 2, 3, 4, 5].map((id) => [`osd.${id}`, down.has(`osd.${id}`) ? 'down' : 'up']));
    epochBefore = s?.epoch ?? 0;
  }, 180_000);

  it('started again on its data directory, the host rejoins the quorum and its OSDs come back up', async () => {
    hosts.set(stopped, await startHost(stopped));
    const s = await statusUntil((x) => x.monitors.quorum.length === 3 && x.osds.up === 6 && x.health === 'HEALTH_OK', 60);
    expect(s?.monitors).toMatchObject({ count: 3, quorum: [0, 1, 2], down: [] });
    expect(s?.osds).toEqual({ total: 6, up: 6, in: 6 });
    expect(s?.health).toBe('HEALTH_OK');
    expect(s?.epoch).toBeGreaterThan(epochBefore);
    expect(await osdStates()).toEqual([0, 1, 2, 3, 4, 5].map((id) => [`osd.${id}`, 'up']));
  }, 120_000);
});
