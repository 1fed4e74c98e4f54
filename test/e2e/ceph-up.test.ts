/**
 * The Ceph-style cluster as a user runs it: `troupe up --system ceph` as a process, `troupe ceph`
 * admin commands over authenticated TCP, typed errors with exit codes for bad input, and a full
 * restart that recovers every committed epoch from the monitors' logs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, startClusterProcess, type ClusterProcess } from '../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'troupe-ceph-e2e-'));
const dataDir = join(dir, 'data');
let cluster: ClusterProcess | undefined;
const flags = (): string[] => ['--data-dir', dataDir, '--port', String(cluster?.port ?? 0)];

interface StatusJson {
  health: string;
  epoch: number;
  monitors: { quorum: number[]; leader: number };
  osds: { total: number; up: number; in: number };
  pools: number;
  pgs: { total: number; byState: Record<string, number> };
}

async function status(): Promise<StatusJson> {
  const r = await runCli(['ceph', 'status', '--json', ...flags()]);
  expect(r.code, r.err).toBe(0);
  return JSON.parse(r.out) as StatusJson;
}

/** Re-runs `check` until it returns true, at most `tries` times `everyMs` apart. */
async function eventually(check: () => Promise<boolean>, tries: number, everyMs: number): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return false;
}

afterAll(async () => {
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('troupe up --system ceph', () => {
  it('starts 3 monitors and 4 OSDs on 2 racks with pool rbd; osd out 1 shows in status with a new epoch', async () => {
    cluster = await startClusterProcess(dataDir, ['--system', 'ceph']);
    expect(cluster.banner).toContain('osd.3');
    // Every OSD up, then every PG reported active+clean by its primary.
    expect(await eventually(async () => { const x = await status(); return x.osds.up === 4 && x.pgs.byState['active+clean'] === 64; }, 60, 500)).toBe(true);
    const before = await status();
    expect(before).toMatchObject({ health: 'HEALTH_OK', monitors: { quorum: [0, 1, 2], leader: 0 }, osds: { total: 4, up: 4, in: 4 }, pools: 1, pgs: { total: 64, byState: { 'active+clean': 64 } } });

    // The dashboard's snapshot and /metrics show the monitors and OSDs.
    const url = /dashboard: (http:\/\/[\d.]+:\d+)\//.exec(cluster.banner)?.[1];
    expect(url).toBeDefined();
    let metrics = '';
    // The dashboard polls once a second: wait for a poll after the status above.
    expect(await eventually(async () => new RegExp(`^troupe_ceph_osdmap_epoch ${before.epoch}$`, 'm').test((metrics = await (await fetch(`${url}/metrics`)).text())) && /^troupe_ceph_pgs\{state="active\+clean"\} 64$/m.test(metrics), 20, 500)).toBe(true);
    expect(metrics).toMatch(/^troupe_ceph_mon_quorum_size 3$/m);
    expect(metrics).toMatch(/^troupe_ceph_pgs\{state="active\+clean"\} 64$/m);
    const snap = (await (await fetch(`${url}/api/status`)).json()) as { ceph: { monitors: { role: string }[]; osds: { id: number; rack: string; up: boolean }[] } };
    expect(snap.ceph.monitors.map((m) => m.role).sort()).toEqual(['leader', 'peon', 'peon']);
    expect(snap.ceph.osds.map((o) => o.rack)).toEqual(['rack0', 'rack0', 'rack1', 'rack1']);

    const tree = await runCli(['ceph', 'osd', 'tree', ...flags()]);
    expect(tree.code).toBe(0);
    expect(tree.out).toMatch(/rack rack0[\s\S]*host host0[\s\S]*osd\.0\s+up/);
    expect(tree.out).toContain('rack rack1');

    const out = await runCli(['ceph', 'osd', 'out', '1', '--json', ...flags()]);
    expect(out.code, out.err).toBe(0);
    const outEpoch = (JSON.parse(out.out) as { epoch: number }).epoch;
    expect(outEpoch).toBeGreaterThan(before.epoch);
    const after = await status();
    expect(after.epoch).toBeGreaterThanOrEqual(outEpoch);
    expect(after.osds).toEqual({ total: 4, up: 4, in: 3 });

    const map = await runCli(['ceph', 'osd', 'map', 'rbd', 'myobject', ...flags()]);
    expect(map.code).toBe(0);
    expect(map.out).toMatch(/^osdmap e\d+ pool 'rbd' \(1\) object 'myobject' -> pg 1\.[0-9a-f]+ \(1\.[0-9a-f]+\) -> up \(\[\d+,\d+,\d+\], p\d+\) acting \(\[\d+,\d+,\d+\], p\d+\)/);
    expect(map.out).not.toMatch(/[[,]1[,\]]/);

    const pool = await runCli(['ceph', 'osd', 'pool', 'create', 'chained', '16', '--size', '2', '--replication', 'chain', ...flags()]);
    expect(pool.code, pool.err).toBe(0);
    const ls = await runCli(['ceph', 'osd', 'pool', 'ls', ...flags()]);
    expect(ls.out).toBe('rbd\nchained\n');
  });

  it('bad input gets a typed error and exit code, and changes nothing', async () => {
    const epoch = (await status()).epoch;
    const cases: Array<[string[], number, string]> = [
      [['ceph', 'osd', 'map', 'nopool', 'x'], 1, 'unknown_pool'],
      [['ceph', 'osd', 'out', '9'], 1, 'unknown_osd'],
      [['ceph', 'osd', 'pool', 'set', 'rbd', 'pg_num', '8'], 1, 'pg_num_decrease'],
      [['ceph', 'osd', 'pool', 'create', 'wide', '8', '--size', '5'], 1, 'rule_cannot_place'],
      [['ceph', 'osd', 'pool', 'create', 'rbd', '8'], 1, 'pool_exists'],
      [['ceph', 'osd', 'reweight', '0', '2'], 2, 'reweight'],
      [['ceph', 'status', '--mon', '7'], 2, 'no monitor of rank 7'],
    ];
    for (const [args, code, text] of cases) {
      const r = await runCli([...args, ...flags()]);
      expect(r.code, `${args.join(' ')}: ${r.err}`).toBe(code);
      expect(r.err).toContain(text);
    }
    const json = await runCli(['ceph', 'osd', 'out', '9', '--json', ...flags()]);
    expect(JSON.parse(json.out)).toMatchObject({ ok: false, code: 'unknown_osd' });
    expect((await status()).epoch).toBe(epoch);
  });

  it('a restart recovers every committed epoch from the monitors\' logs', async () => {
    const before = await status();
    expect(await cluster?.stop()).toBe(0);
    cluster = await startClusterProcess(dataDir, ['--system', 'ceph']);
    expect(cluster.banner).toContain('recovered');
    const after = await status();
    expect(after.epoch).toBeGreaterThanOrEqual(before.epoch);
    expect(after.osds.in).toBe(3);
    const ls = await runCli(['ceph', 'osd', 'pool', 'ls', ...flags()]);
    expect(ls.out).toBe('rbd\nchained\n');
  });
});
