/**
 * `troupe zk` as a process against Troupe's standalone coordination server: zkCli's commands,
 * their output, watch events, errors and exit codes.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCoordServer, type CoordServerHandle } from '../../src/actors/coord/node/tcp-server.js';
import { cliPath, runCli } from '../support/cli.js';
import { fourLetter, freePort } from '../support/zk-peer.js';

let server: CoordServerHandle;
let S: string[];
beforeAll(async () => {
  server = await startCoordServer({ port: 0, log: () => undefined });
  S = ['--server', server.connectString];
});
afterAll(async () => server?.close());

const zk = (...args: string[]): ReturnType<typeof runCli> => runCli(['zk', ...args, ...S]);

describe('troupe zk', () => {
  it('creates, gets, sets, stats, lists recursively, deletes and deletes all', async () => {
    expect(await zk('create', '/app', 'v1')).toMatchObject({ code: 0, out: 'Created /app\n' });
    expect(await zk('create', '/app/a', 'x')).toMatchObject({ code: 0 });
    expect(await zk('create', '/app/a/deep')).toMatchObject({ code: 0 });
    expect(await zk('create', '/app/b')).toMatchObject({ code: 0 });

    const get = await zk('get', '-s', '/app');
    expect(get.code).toBe(0);
    expect(get.out).toMatch(/^v1\ncZxid = 0x[0-9a-f]+\nctime = .+\nmZxid = 0x[0-9a-f]+\nmtime = .+\npZxid = 0x[0-9a-f]+\ncversion = 2\ndataVersion = 0\naclVersion = 0\nephemeralOwner = 0x0\ndataLength = 2\nnumChildren = 2\n$/);

    expect(await zk('set', '/app', 'v2')).toMatchObject({ code: 0, out: '' });
    expect(await zk('set', '-v', '1', '/app', 'v3')).toMatchObject({ code: 0 });
    expect((await zk('get', '/app')).out).toBe('v3\n');
    expect((await zk('stat', '/app')).out).toMatch(/dataVersion = 2\n/);

    expect((await zk('ls', '/app')).out).toBe('[a, b]\n');
    expect((await zk('ls', '-R', '/app')).out).toBe('/app\n/app/a\n/app/b\n/app/a/deep\n');

    expect(await zk('delete', '/app/b')).toMatchObject({ code: 0, out: '' });
    expect((await zk('ls', '/app')).out).toBe('[a]\n');
    expect(await zk('deleteall', '/app')).toMatchObject({ code: 0 });
    expect((await zk('ls', '/')).out).toBe('[zookeeper]\n');
  });

  it('names sequential nodes with a 10-digit counter', async () => {
    await zk('create', '/seq');
    expect((await zk('create', '-s', '/seq/n-', 'a')).out).toBe('Created /seq/n-0000000000\n');
    expect((await zk('create', '-s', '/seq/n-', 'b')).out).toBe('Created /seq/n-0000000001\n');
    expect((await zk('ls', '/seq')).out).toBe('[n-0000000000, n-0000000001]\n');
    await zk('deleteall', '/seq');
  });

  it('removes an ephemeral node when the command that created it ends its session', async () => {
    expect(await zk('create', '-e', '/eph', 'gone')).toMatchObject({ code: 0, out: 'Created /eph\n' });
    const after = await zk('stat', '/eph');
    expect(after.code).toBe(1);
    expect(after.err).toContain('Node does not exist: /eph');
  });

  it('get -w prints the data, then the event when another process sets the node', async () => {
    await zk('create', '/watched', 'before');
    const child = spawn(process.execPath, [cliPath, 'zk', 'get', '-w', '/watched', '--timeout', '60', ...S], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const printed = new Promise<void>((resolve) =>
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('before\n')) resolve();
      }),
    );
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    await printed;
    expect(await zk('set', '/watched', 'after')).toMatchObject({ code: 0 });
    expect(await exited).toBe(0);
    expect(out).toBe('before\nWATCHER::\n\nWatchedEvent state:SyncConnected type:NodeDataChanged path:/watched\n');
    await zk('delete', '/watched');
  });

  it('ls -w --json prints the children and the child event as one object; a watch with no event fails at --timeout', async () => {
    await zk('create', '/dir');
    const child = spawn(process.execPath, [cliPath, 'zk', 'ls', '-w', '/dir', '--json', '--timeout', '60', ...S], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    // The watch is set once the server has the session's watch (mntr counts it).
    for (let i = 0; i < 600 && !/zk_watch_count\t[1-9]/.test(await fourLetter(server.port, 'mntr')); i++) await new Promise((r) => setTimeout(r, 50));
    expect(await zk('create', '/dir/c1')).toMatchObject({ code: 0 });
    expect(await exited).toBe(0);
    expect(JSON.parse(out)).toEqual({ ok: true, path: '/dir', children: [], event: { type: 'NodeChildrenChanged', state: 'SyncConnected', path: '/dir' } });

    const quiet = await zk('get', '-w', '/dir', '--timeout', '1');
    expect(quiet.code).toBe(1);
    expect(quiet.err).toContain('no watch event for /dir within 1 s');
    await zk('deleteall', '/dir');
  });

  it('reports a bad version and a missing node with exit code 1, and --json says which', async () => {
    await zk('create', '/ver', 'x');
    const bad = await zk('set', '-v', '7', '/ver', 'y');
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('BadVersion');
    expect(bad.err).toContain('/ver');
    const badDelete = await zk('delete', '-v', '3', '/ver');
    expect(badDelete.code).toBe(1);
    expect(badDelete.err).toContain('BadVersion');
    const exists = await zk('create', '/ver');
    expect(exists.code).toBe(1);
    expect(exists.err).toContain('Node already exists: /ver');
    await zk('create', '/ver/child');
    const notEmpty = await zk('delete', '/ver');
    expect(notEmpty.code).toBe(1);
    expect(notEmpty.err).toContain('NotEmpty');

    const missing = await zk('get', '/missing', '--json');
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('Node does not exist: /missing');
    expect(JSON.parse(missing.out)).toEqual({ ok: false, code: 'NONODE', message: 'Node does not exist: /missing' });
    await zk('deleteall', '/ver');
  });

  it('prints JSON results with --json', async () => {
    const created = JSON.parse((await zk('create', '/j', 'data', '--json')).out);
    expect(created).toMatchObject({ ok: true, path: '/j', stat: { version: 0, dataLength: 4, ephemeralOwner: '0x0' } });
    const got = JSON.parse((await zk('get', '/j', '--json')).out);
    expect(got).toMatchObject({ ok: true, path: '/j', data: 'data', stat: { version: 0, numChildren: 0 } });
    expect(JSON.parse((await zk('ls', '/', '--json')).out)).toEqual({ ok: true, path: '/', children: ['j', 'zookeeper'] });
    expect(JSON.parse((await zk('ls', '-R', '/j', '--json')).out)).toEqual({ ok: true, path: '/j', paths: ['/j'] });
    await zk('delete', '/j');
  });

  it('reads and sets ACLs in zkCli syntax', async () => {
    await zk('create', '/acl');
    expect(await zk('setAcl', '/acl', 'world:anyone:cdrwa,digest:user:tpBMZhm5wZMdaNhs1LDxlePM4J8=:r')).toMatchObject({ code: 0 });
    expect((await zk('getAcl', '/acl')).out).toBe("'world,'anyone\n: cdrwa\n'digest,'user:tpBMZhm5wZMdaNhs1LDxlePM4J8=\n: r\n");
    expect(await zk('setAcl', '/acl', 'world:anyone')).toMatchObject({ code: 2 });
    expect((await zk('sync', '/acl')).out).toBe('Sync is OK\n');
    await zk('delete', '/acl');
  });

  it('exits 3 when no server in the connect string answers', async () => {
    const dead = await freePort();
    const r = await runCli(['zk', 'ls', '/', '--server', `127.0.0.1:${dead}`]);
    expect(r.code).toBe(3);
    expect(r.err).toContain('no ZooKeeper server answered');
  });
});
