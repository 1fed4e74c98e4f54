/**
 * The object data path as a user runs it: `troupe up --system ceph` as a process, then `troupe
 * rados` put/get/append/stat/ls/xattrs/rm through the CLI, stdin and stdout with `-`, typed errors
 * with exit codes, and a 256 MiB object written and read back with the same sha256.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, runNode, startClusterProcess, type ClusterProcess } from '../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'troupe-rados-e2e-'));
const dataDir = join(dir, 'data');
let cluster: ClusterProcess | undefined;
const flags = (): string[] => ['--data-dir', dataDir, '--port', String(cluster?.port ?? 0)];

afterAll(async () => {
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('troupe rados against troupe up --system ceph', () => {
  it('put, get, append, stat, ls, xattrs and rm through the CLI; bad input gets typed errors', async () => {
    cluster = await startClusterProcess(dataDir, ['--system', 'ceph']);
    const file = join(dir, 'hello.txt');
    writeFileSync(file, 'hello ');
    const put = await runCli(['rados', '-p', 'rbd', 'put', 'greeting', file, ...flags()]);
    expect(put.code, put.err).toBe(0);
    const app = await runNode(['-e', `const {spawnSync}=require('node:child_process');const r=spawnSync(process.execPath,${JSON.stringify([join(process.cwd(), 'dist/cli/main.js'), 'rados', '-p', 'rbd', 'append', 'greeting', '-'])}.concat(${JSON.stringify(flags())}),{input:'world'});process.stdout.write(r.stderr);process.exit(r.status)`]);
    expect(app.code, app.out + app.err).toBe(0);
    const get = await runCli(['rados', '-p', 'rbd', 'get', 'greeting', '-', ...flags()]);
    expect(get.out).toBe('hello world');
    const stat = await runCli(['rados', '-p', 'rbd', 'stat', 'greeting', '--json', ...flags()]);
    expect(JSON.parse(stat.out)).toMatchObject({ object: 'greeting', size: 11 });
    expect((await runCli(['rados', '-p', 'rbd', 'setxattr', 'greeting', 'lang', 'en', ...flags()])).code).toBe(0);
    expect((await runCli(['rados', '-p', 'rbd', 'getxattr', 'greeting', 'lang', ...flags()])).out).toBe('en\n');
    expect((await runCli(['rados', '-p', 'rbd', 'listxattr', 'greeting', ...flags()])).out).toBe('lang\n');
    expect((await runCli(['rados', '-p', 'rbd', 'ls', ...flags()])).out).toBe('greeting\n');
    const df = JSON.parse((await runCli(['rados', 'df', '--json', ...flags()])).out) as { pools: { pool: string; objects: number; bytes: number }[] };
    expect(df.pools).toContainEqual(expect.objectContaining({ pool: 'rbd', objects: 1, bytes: 11 }));
    // /metrics shows the data path: OSD ops, ack and commit latency buckets, pool objects.
    const url = /dashboard: (http:\/\/[\d.]+:\d+)\//.exec(cluster.banner)?.[1];
    expect(url).toBeDefined();
    let metrics = '';
    for (let i = 0; i < 20 && !/^troupe_ceph_pool_objects\{pool="rbd"\} 1$/m.test(metrics); i++) {
      await new Promise((r) => setTimeout(r, 500));
      metrics = await (await fetch(`${url}/metrics`)).text();
    }
    expect(metrics).toMatch(/^troupe_ceph_pool_objects\{pool="rbd"\} 1$/m);
    expect(metrics).toMatch(/^troupe_ceph_osd_ops_total\{osd="osd\.\d",kind="write"\} [1-9]/m);
    expect(metrics).toMatch(/^troupe_ceph_osd_latency_ms_bucket\{osd="osd\.\d",stage="commit",le="\+Inf"\} [1-9]/m);

    const missing = await runCli(['rados', '-p', 'rbd', 'stat', 'nothing', '--json', ...flags()]);
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.out)).toMatchObject({ ok: false, code: 'not_found' });
    const noPool = await runCli(['rados', '-p', 'nopool', 'stat', 'x', ...flags()]);
    expect(noPool.code).toBe(1);
    expect(noPool.err).toMatch(/no_pool/);
    const longName = await runCli(['rados', '-p', 'rbd', 'put', 'x'.repeat(3000), file, ...flags()]);
    expect(longName.code).toBe(1);
    expect(longName.err).toMatch(/invalid_argument/);
    const noPoolFlag = await runCli(['rados', 'stat', 'x', ...flags()]);
    expect(noPoolFlag.code).toBe(2);
    expect((await runCli(['rados', '-p', 'rbd', 'rm', 'greeting', ...flags()])).code).toBe(0);
    expect((await runCli(['rados', '-p', 'rbd', 'get', 'greeting', '-', ...flags()])).code).toBe(1);
    // Nothing acknowledged was lost by the refusals: the cluster still serves.
    expect((await runCli(['rados', '-p', 'rbd', 'put', 'after', file, ...flags()])).code).toBe(0);
  }, 120_000);

  it('a client with a wrong cluster secret gets auth_failed at once and changes nothing (issue 16, bad input)', async () => {
    const bad = join(dir, 'wrong-secret');
    writeFileSync(bad, 'not-the-cluster-secret-at-all\n', { mode: 0o600 });
    const file = join(dir, 'intruder.txt');
    writeFileSync(file, 'should never land');
    const put = await runCli(['rados', '-p', 'rbd', 'put', 'intruder', file, '--secret-file', bad, '--json', ...flags()]);
    expect(put.code).toBe(3);
    expect(JSON.parse(put.out)).toMatchObject({ ok: false, code: 'auth_failed' });
    expect(put.err).toMatch(/^troupe: auth_failed: the cluster refused our credentials.*--secret-file/m);
    const ls = await runCli(['rados', '-p', 'rbd', 'ls', '--secret-file', bad, ...flags()]);
    expect(ls.code).toBe(3);
    expect(ls.err).toContain('auth_failed');
    // With the right secret the cluster answers, and the refused put left nothing behind.
    const stat = await runCli(['rados', '-p', 'rbd', 'stat', 'intruder', '--json', ...flags()]);
    expect(JSON.parse(stat.out)).toMatchObject({ ok: false, code: 'not_found' });
  }, 60_000);

  it('a 256 MiB object is written and read back with the same sha256', async () => {
    const big = join(dir, 'big.bin');
    const data = Buffer.alloc(256 * 1024 * 1024);
    for (let i = 0; i < data.length; i += 4096) data.writeUInt32LE((i * 2654435761) >>> 0, i);
    writeFileSync(big, data);
    const want = createHash('sha256').update(data).digest('hex');
    const put = await runCli(['rados', '-p', 'rbd', 'put', 'big', big, ...flags()], 300_000);
    expect(put.code, put.err).toBe(0);
    const back = join(dir, 'big.out');
    const get = await runCli(['rados', '-p', 'rbd', 'get', 'big', back, ...flags()], 300_000);
    expect(get.code, get.err).toBe(0);
    expect(createHash('sha256').update(readFileSync(back)).digest('hex')).toBe(want);
    expect((await runCli(['rados', '-p', 'rbd', 'rm', 'big', ...flags()])).code).toBe(0);
  }, 600_000);
});
