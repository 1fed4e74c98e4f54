/**
 * Logs and tracing as the README tells a user (issue #7, item 6): `troupe up` logs to
 * <data-dir>/logs; `troupe fs put -v` names its request id; `troupe trace <id>` shows that write
 * across the client, the master and every chunkserver of its chain, in time order; a failed
 * command names its id; an unknown id is an error (exit code 1).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, startClusterProcess, type ClusterProcess } from '../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'troupe-e2e-trace-'));
const dataDir = join(dir, 'data');
let cluster: ClusterProcess | undefined;

afterAll(async () => {
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Entry {
  time: number;
  node: string;
  actor?: string;
  level: string;
  msg: string;
  fields: Record<string, unknown>;
}

describe('troupe trace', () => {
  it('follows one put from the client through the master to the chunkservers of its write chain', async () => {
    cluster = await startClusterProcess(dataDir, ['--chunk-size', '1MiB']);
    expect(cluster.banner).toContain(`logs: ${dataDir}/logs`);
    const flags = ['--data-dir', dataDir, '--port', String(cluster.port)];
    const local = join(dir, 'small.txt');
    writeFileSync(local, 'hello, trace\n'.repeat(100));

    const put = await runCli(['fs', 'put', local, '/small', '-v', ...flags]);
    expect(put.code).toBe(0);
    const rid = /troupe: request (\S+)/.exec(put.err)?.[1];
    expect(rid).toBeDefined();

    const trace = await runCli(['trace', rid as string, '--json', '--data-dir', dataDir]);
    expect(trace.code, trace.err).toBe(0);
    const { requestId, entries } = JSON.parse(trace.out) as { requestId: string; entries: Entry[] };
    expect(requestId).toBe(rid);

    // In time order.
    for (let i = 1; i < entries.length; i++) expect(entries[i]?.time).toBeGreaterThanOrEqual(entries[i - 1]?.time as number);

    // The client: the put's create and write, started and done.
    const client = entries.filter((e) => e.actor === 'client').map((e) => e.msg);
    expect(client).toEqual(expect.arrayContaining(['client create', 'client create done', 'client write', 'client write done']));
    expect(entries[0]?.actor).toBe('client');
    expect(entries.at(-1)?.msg).toBe('client write done');

    // The master: the create and the lease request of the write.
    const master = entries.filter((e) => e.actor === 'master').map((e) => e.msg);
    expect(master).toEqual(expect.arrayContaining(['gfs.master.create', 'gfs.master.findLeaseHolder']));

    // The chunkservers: the primary ordered the write, and every server of the chain logged the push.
    const write = entries.find((e) => e.msg === 'gfs.chunkserver.write');
    expect(write).toBeDefined();
    const primary = write?.actor as string;
    const secondaries = String(write?.fields['secondaries']).split(',').filter((s) => s !== '');
    expect(secondaries.length).toBeGreaterThan(0);
    for (const server of [primary, ...secondaries]) {
      expect(entries.some((e) => e.actor === server && e.msg === 'gfs.chunkserver.pushData')).toBe(true);
    }
    for (const server of secondaries) expect(entries.some((e) => e.actor === server && e.msg === 'gfs.chunkserver.applyMutation')).toBe(true);

    // The text timeline names the same request and actors.
    const text = await runCli(['trace', rid as string, '--data-dir', dataDir]);
    expect(text.code).toBe(0);
    expect(text.out).toContain(`request ${rid}:`);
    expect(text.out).toMatch(/client\s+info\s+client write done/);
    expect(text.out).toMatch(new RegExp(`${primary}\\s+info\\s+gfs.chunkserver.write`));
  });

  it('a failed command names its request id (text and --json), and the trace shows the failure', async () => {
    const flags = ['--data-dir', dataDir, '--port', String(cluster?.port)];
    const r = await runCli(['fs', 'stat', '/no/such/file', '--json', ...flags]);
    expect(r.code).toBe(1);
    const rid = /\(request (\S+);/.exec(r.err)?.[1];
    expect(rid).toBeDefined();
    expect(JSON.parse(r.out)).toMatchObject({ ok: false, code: 'not_found', requestId: rid });
    const trace = JSON.parse((await runCli(['trace', rid as string, '--json', '--data-dir', dataDir])).out) as { entries: Entry[] };
    expect(trace.entries.some((e) => e.actor === 'client' && e.level === 'warn' && e.msg === 'client stat failed')).toBe(true);
    expect(trace.entries.some((e) => e.actor !== 'client' && e.msg === 'gfs.master.stat' && String(e.fields['outcome']).startsWith('not_found'))).toBe(true);
  });

  it('a request id chosen with --request-id is the one logged', async () => {
    const flags = ['--data-dir', dataDir, '--port', String(cluster?.port)];
    expect((await runCli(['fs', 'mkdir', '/traced', '--request-id', 'my-mkdir-1', ...flags])).code).toBe(0);
    const trace = await runCli(['trace', 'my-mkdir-1', '--data-dir', dataDir]);
    expect(trace.code, trace.err).toBe(0);
    expect(trace.out).toMatch(/master\s+info\s+gfs.master.mkdir/);
    // Commands that ask the master directly (status) carry their id too.
    expect((await runCli(['status', '--request-id', 'my-status-1', ...flags])).code).toBe(0);
    expect((await runCli(['trace', 'my-status-1', '--data-dir', dataDir])).out).toMatch(/master\s+info\s+gfs.master.status/);
  });

  it('an id no entry has is an error with exit code 1', async () => {
    const r = await runCli(['trace', 'no-such-request', '--data-dir', dataDir]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('no log entry has request id no-such-request');
  });

  it('Ctrl-C flushes the logs: every node and worker thread wrote its files', async () => {
    expect(await cluster?.stop()).toBe(0);
    cluster = undefined;
    for (const f of ['troupe.log', 'rpc-troupe.log', 'troupe-w0.log', 'rpc-troupe-w0.log', 'clients.log']) expect(existsSync(join(dataDir, 'logs', f))).toBe(true);
    const main = readFileSync(join(dataDir, 'logs', 'troupe.log'), 'utf8').trim().split('\n');
    expect(main.every((l) => typeof (JSON.parse(l) as { time: unknown }).time === 'number')).toBe(true);
    expect(main.some((l) => l.includes('"master ready"'))).toBe(true);
  });
});
