/**
 * PG statistics and scrubbing as a user runs them (README "PG statistics", "Scrubbing"): `troupe up
 * --system ceph` as a process, objects written with `troupe rados`, then `troupe ceph pg stat`,
 * `pg dump --json`, `pg PGID query`, `pg deep-scrub PGID` and `health detail`, with typed errors
 * and exit codes for bad PG ids; the dashboard and /metrics show the reported PGs and the scrub.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, startClusterProcess, type ClusterProcess } from '../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'troupe-ceph-pg-e2e-'));
const dataDir = join(dir, 'data');
let cluster: ClusterProcess | undefined;
const flags = (): string[] => ['--data-dir', dataDir, '--port', String(cluster?.port ?? 0)];

async function eventually(check: () => Promise<boolean>, tries: number, everyMs: number): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return false;
}

interface DumpJson {
  epoch: number;
  pgStats: { pgid: string; state: string; source: 'reported' | 'map'; acting: number[]; primary: number; stat?: { objects: number; bytes: number; lastDeepScrubMs: number; reporter: number } }[];
}

async function dump(): Promise<DumpJson> {
  const r = await runCli(['ceph', 'pg', 'dump', '--json', ...flags()]);
  expect(r.code, r.err).toBe(0);
  return JSON.parse(r.out) as DumpJson;
}

afterAll(async () => {
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('troupe ceph pg and health detail against troupe up --system ceph', () => {
  it('pg stat, pg dump --json, pg query, deep-scrub and health detail', async () => {
    cluster = await startClusterProcess(dataDir, ['--system', 'ceph']);
    const file = join(dir, 'obj.txt');
    writeFileSync(file, 'scrub me');
    for (const name of ['alpha', 'beta', 'gamma']) {
      const put = await runCli(['rados', '-p', 'rbd', 'put', name, file, ...flags()]);
      expect(put.code, put.err).toBe(0);
    }
    // Every PG reported by its primary as active+clean, holding the three objects between them.
    let d: DumpJson | undefined;
    expect(await eventually(async () => {
      d = await dump();
      return d.pgStats.length === 64 && d.pgStats.every((p) => p.source === 'reported' && p.state === 'active+clean') && d.pgStats.reduce((n, p) => n + (p.stat?.objects ?? 0), 0) === 3;
    }, 60, 500)).toBe(true);
    for (const p of d!.pgStats) expect(p.stat?.reporter).toBe(p.primary);

    const stat = await runCli(['ceph', 'pg', 'stat', ...flags()]);
    expect(stat.code, stat.err).toBe(0);
    expect(stat.out).toBe('64 pgs: 64 active+clean; 3 objects, 24 B data\n');

    const where = JSON.parse((await runCli(['ceph', 'osd', 'map', 'rbd', 'beta', '--json', ...flags()])).out) as { pg: { pool: number; ps: number }; primary: number };
    const pgid = `${where.pg.pool}.${where.pg.ps.toString(16)}`;
    const query = async (): Promise<{ osd: number; stat: { pgid: string; state: string; objects: number; lastDeepScrubMs: number }; scrub: { state: string; errors: number } }> => {
      const r = await runCli(['ceph', 'pg', pgid, 'query', ...flags()]);
      expect(r.code, r.err).toBe(0);
      return JSON.parse(r.out) as Awaited<ReturnType<typeof query>>;
    };
    const q = await query();
    expect(q).toMatchObject({ osd: where.primary, stat: { pgid, state: 'active+clean', lastDeepScrubMs: 0 }, scrub: { state: 'idle', errors: 0 } });
    expect(q.stat.objects).toBeGreaterThanOrEqual(1);

    const scrub = await runCli(['ceph', 'pg', 'deep-scrub', pgid, ...flags()]);
    expect(scrub.code, scrub.err).toBe(0);
    expect(scrub.out).toBe(`pg ${pgid}: deep-scrub queued on osd.${where.primary}\n`);
    expect(await eventually(async () => {
      const x = await query();
      return x.scrub.state === 'idle' && x.stat.lastDeepScrubMs > 0;
    }, 40, 500)).toBe(true);
    expect((await query()).scrub.errors).toBe(0);
    // The scrub stamp reaches the monitors with the next report.
    expect(await eventually(async () => ((await dump()).pgStats.find((p) => p.pgid === pgid)?.stat?.lastDeepScrubMs ?? 0) > 0, 30, 500)).toBe(true);

    const health = await runCli(['ceph', 'health', 'detail', ...flags()]);
    expect(health.code, health.err).toBe(0);
    expect(health.out).toBe('HEALTH_OK\n');
    const healthJson = JSON.parse((await runCli(['ceph', 'health', 'detail', '--json', ...flags()])).out) as { health: string; checks: unknown[] };
    expect(healthJson).toEqual({ health: 'HEALTH_OK', checks: [] });

    // /metrics has the scrub the primary ran and no recovery left.
    const url = /dashboard: (http:\/\/[\d.]+:\d+)\//.exec(cluster.banner)?.[1];
    let metrics = '';
    expect(await eventually(async () => new RegExp(`^troupe_ceph_osd_scrubs_total\\{osd="osd\\.${where.primary}",depth="deep"\\} 1$`, 'm').test((metrics = await (await fetch(`${url}/metrics`)).text())), 20, 500)).toBe(true);
    expect(metrics).toMatch(/^troupe_ceph_pg_objects\{kind="degraded"\} 0$/m);
    expect(metrics).toMatch(/^troupe_ceph_pgs_inconsistent 0$/m);
    const snap = (await (await fetch(`${url}/api/status`)).json()) as { ceph: { pgStats: { reported: number; objects: number }; pgHistory: { clean: number }[]; recovery: { objectsToRecover: number } } };
    expect(snap.ceph.pgStats).toMatchObject({ reported: 64, objects: 3 });
    expect(snap.ceph.pgHistory.at(-1)?.clean).toBe(64);
    expect(snap.ceph.recovery.objectsToRecover).toBe(0);
  }, 180_000);

  it('bad PG ids get typed errors and exit codes', async () => {
    const bad = await runCli(['ceph', 'pg', 'scrub', 'nope', ...flags()]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/PG id/);
    const unknown = await runCli(['ceph', 'pg', 'repair', '99.0', '--json', ...flags()]);
    expect(unknown.code).toBe(1);
    expect(JSON.parse(unknown.out)).toMatchObject({ ok: false, code: 'unknown_pg' });
    const beyond = await runCli(['ceph', 'pg', '1.ff', 'query', ...flags()]);
    expect(beyond.code).toBe(1);
    expect(beyond.err).toMatch(/unknown_pg/);
    const usage = await runCli(['ceph', 'pg', '1.0', 'frobnicate', ...flags()]);
    expect(usage.code).toBe(2);
    const ok = await runCli(['ceph', 'pg', 'query', '1.0', '--json', ...flags()]);
    expect(ok.code, ok.err).toBe(0);
    expect(JSON.parse(ok.out)).toMatchObject({ pgid: '1.0', stat: { pgid: '1.0' } });
  }, 60_000);

  it('raising pg_num on a pool holding objects is refused (the OSDs do not split PG data yet), and the map keeps its pg_num', async () => {
    const r = await runCli(['ceph', 'osd', 'pool', 'set', 'rbd', 'pg_num', '128', '--json', ...flags()]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out)).toMatchObject({ ok: false, code: 'pg_split_unsupported' });
    expect(r.err).toMatch(/holds 3 objects.*--yes-i-really-mean-it/);
    const pools = JSON.parse((await runCli(['ceph', 'osd', 'pool', 'ls', '--json', ...flags()])).out) as { name: string; pgNum: number }[];
    expect(pools.find((p) => p.name === 'rbd')?.pgNum).toBe(64);
  }, 60_000);
});
