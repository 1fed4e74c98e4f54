/**
 * The user's path from the README (issue: one-command cluster): `troupe up` on a fresh data
 * directory, files in and out with `troupe fs`, a failed chunkserver seen by `troupe fsck` and
 * repaired by re-replication, a full restart that recovers everything, and clear errors.
 */
import { createHash } from 'node:crypto';
import { createReadStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/runtime/random.js';
import { runCli, startClusterProcess, type ClusterProcess } from '../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'troupe-e2e-'));
const dataDir = join(dir, 'data');
let cluster: ClusterProcess | undefined;
let port = 0;
const run = runCli;
const flags = (): string[] => ['--data-dir', dataDir, '--port', String(port)];

async function up(): Promise<void> {
  cluster = await startClusterProcess(dataDir, ['--chunk-size', '16MiB']);
  port = cluster.port;
}

async function stopCluster(): Promise<number | null> {
  const c = cluster;
  cluster = undefined;
  return c === undefined ? null : c.stop();
}

async function sha256(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const part of createReadStream(path)) h.update(part as Buffer);
  return h.digest('hex');
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
  await stopCluster();
  rmSync(dir, { recursive: true, force: true });
});

describe('troupe up and the CLI on a fresh data directory', () => {
  it('rejects a bad option with a usage error (exit code 2) that names the option', async () => {
    const r = await run(['up', '--workers', 'many']);
    expect(r.code).toBe(2);
    expect(r.err).toContain("'--workers <n>'");
    expect(r.err).toContain("expected a positive integer, got 'many'");
  });

  it('a client with no cluster to talk to says what to do (exit code 3)', async () => {
    const r = await run(['status', '--data-dir', dir]);
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/no cluster in .* is `npm start` running/);
  });

  it('creates the cluster with its secret (mode 0600), stores and returns a 200 MiB file intact, survives a failed chunkserver and a restart', async () => {
    await up();
    expect(readFileSync(join(dataDir, 'cluster.json'), 'utf8')).toContain('troupe-');
    const { statSync } = await import('node:fs');
    expect(statSync(join(dataDir, 'secret')).mode & 0o777).toBe(0o600);

    const status = JSON.parse((await run(['status', '--json', ...flags()])).out) as { servers: unknown[] };
    expect(status.servers).toHaveLength(4);

    // 200 MiB of pseudo-random bytes, in and out, compared by sha256.
    const src = join(dir, 'big.bin');
    const rnd = seededRandom(2026);
    const parts: Uint8Array[] = [];
    for (let i = 0; i < 200 * 16; i++) parts.push(rnd.bytes(64 * 1024));
    writeFileSync(src, Buffer.concat(parts));
    expect((await run(['fs', 'mkdir', '-p', '/data', ...flags()])).code).toBe(0);
    const put = await run(['fs', 'put', src, '/data/big.bin', ...flags()], 180_000);
    expect(put.err).toBe('');
    expect(put.code).toBe(0);
    // When put returns, ls already shows the whole length (the client reports it; no heartbeat needed).
    const listed = JSON.parse((await run(['fs', 'ls', '/data', '--json', ...flags()])).out) as Array<{ path: string; sizeBytes?: number }>;
    expect(listed).toContainEqual(expect.objectContaining({ path: '/data/big.bin', sizeBytes: 200 * 1024 * 1024 }));
    const record = join(dir, 'record.txt');
    writeFileSync(record, 'before the restart\n');
    expect((await run(['fs', 'append', '/data/log', record, ...flags()])).code).toBe(0);
    const out = join(dir, 'big.out');
    expect((await run(['fs', 'get', '/data/big.bin', out, ...flags()], 180_000)).code).toBe(0);
    expect(await sha256(out)).toBe(await sha256(src));

    // A chunkserver fails: fsck reports under-replication, then re-replication restores the goal.
    expect((await run(['admin', 'kill', 'cs1', ...flags()])).code).toBe(0);
    const degraded = await eventually(async () => {
      const r = await run(['fsck', ...flags()]);
      return r.code === 1 && r.out.includes('under-replicated');
    }, 60, 500);
    expect(degraded).toBe(true);
    const healed = await eventually(async () => (await run(['fsck', ...flags()])).out.includes('HEALTHY'), 120, 1_000);
    expect(healed).toBe(true);

    // The whole cluster restarts on its data directory and every file is there.
    expect(await stopCluster()).toBe(0);
    await up();
    rmSync(out);
    expect((await run(['fs', 'get', '/data/big.bin', out, ...flags()], 180_000)).code).toBe(0);
    expect(await sha256(out)).toBe(await sha256(src));
    // The first append after the restart goes to the existing chunk (its lease holder reported none).
    writeFileSync(record, 'after the restart\n');
    const appended = await run(['fs', 'append', '/data/log', record, '--json', ...flags()]);
    expect(appended.code).toBe(0);
    expect(JSON.parse(appended.out)).toMatchObject({ offset: 'before the restart\n'.length });
    // A hang guard, not a performance bound: healing waits out the killed primary's leases (60 s, M9).
  }, 600_000);

  it('refuses a wrong secret with a clear message, and a missing path exits non-zero', async () => {
    const bad = join(dir, 'wrong-secret');
    writeFileSync(bad, 'not-the-cluster-secret-at-all\n', { mode: 0o600 });
    const r = await run(['status', '--secret-file', bad, ...flags()]);
    expect(r.code).toBe(3);
    expect(r.err).toContain('refused our credentials');
    // The same through a file command, whose client retries and falls back to shadow masters first.
    const ls = await run(['fs', 'ls', '/', '--secret-file', bad, ...flags()]);
    expect(ls.code).toBe(3);
    expect(ls.err).toContain('refused our credentials');
    const missing = await run(['fs', 'get', '/no/such/file', ...flags()]);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('not_found: /no/such/file does not exist');
  });

  it('with the cluster stopped, file commands say no master answers (exit code 3) and that a retry is safe', async () => {
    expect(await stopCluster()).toBe(0);
    const ls = await run(['fs', 'ls', '/', ...flags()]);
    expect(ls.code).toBe(3);
    expect(ls.err).toMatch(/no master at 127\.0\.0\.1:\d+ — is `npm start` running\?/);
    const local = join(dir, 'never-sent.txt');
    writeFileSync(local, 'x');
    const put = await run(['fs', 'put', local, '/never', '--json', ...flags()]);
    expect(put.code).toBe(3);
    expect(JSON.parse(put.out)).toMatchObject({ ok: false, code: 'unavailable', delivery: 'not_delivered' });
    expect(put.err).toContain('safe to run the command again');
  });
});
