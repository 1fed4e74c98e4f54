/**
 * kazoo, the Python ZooKeeper client, unmodified against the coordination service (issue 17,
 * item 5): a 3-server ensemble on real disks serves one scripted kazoo session
 * (test/fixtures/zk/kazoo-session.py) — reads and versioned writes, ZooKeeper's errors as kazoo's
 * exceptions, a one-time watch, ephemeral sequential nodes removed with their session, a
 * transaction refused whole and one applied whole, and kazoo's own lock recipe handing the lock
 * over in order. kazoo comes from Debian's `python3-kazoo`; the test installs it when missing and it
 * runs as root (as CI does), else it fails with the install command. It never skips.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startCoordEnsemble, type CoordEnsembleHandle } from '../../src/actors/coord/node/ensemble.js';
import { ensureDebianPackages, installHint } from '../support/debian.js';
import { runProcess, type Run } from '../support/cli.js';
import { consecutiveFreePorts } from '../support/zk-peer.js';

const root = mkdtempSync(join(tmpdir(), 'troupe-coord-kazoo-'));
let ens: CoordEnsembleHandle | undefined;

afterAll(async () => {
  await ens?.close();
  rmSync(root, { recursive: true, force: true });
});

/** Debian's Python, which `python3-kazoo` installs into (a `python3` earlier on PATH may be another one). */
const PYTHON = '/usr/bin/python3';
const hasKazoo = (): boolean => spawnSync(PYTHON, ['-c', 'import kazoo'], { stdio: 'ignore' }).status === 0;

const KAZOO_PACKAGES = ['python3', 'python3-kazoo'];

function runKazoo(connectString: string): Promise<Run> {
  return runProcess(PYTHON, [join(import.meta.dirname, '../fixtures/zk/kazoo-session.py'), connectString], 90_000);
}

describe('kazoo against a Troupe coordination ensemble', () => {
  it('runs a scripted session: errors, a watch, ephemerals, transactions and the lock recipe behave as ZooKeeper specifies', async () => {
    expect(ensureDebianPackages(hasKazoo, KAZOO_PACKAGES), installHint('kazoo', KAZOO_PACKAGES)).toBe(true);
    ens = await startCoordEnsemble({ dataDir: root, servers: 3, basePort: await consecutiveFreePorts(3), log: () => {} });
    await ens.ready();
    const r = await runKazoo(ens.connectString);
    expect(r.code, r.err).toBe(0);
    const steps = new Map((JSON.parse(r.out) as Array<{ step: string } & Record<string, unknown>>).map((s) => [s.step, s]));
    expect(steps.get('get')).toMatchObject({ data: 'v1', version: 0 });
    expect(steps.get('bad-version')).toMatchObject({ raised: true });
    expect(steps.get('set')).toMatchObject({ version: 1 });
    expect(steps.get('exists')).toMatchObject({ raised: true });
    expect(steps.get('no-node')).toMatchObject({ raised: true });
    // One event for the first change only: the watch was one-time.
    expect(steps.get('watch')).toMatchObject({ events: [['CHANGED', '/kz/app/conf']] });
    expect(steps.get('sequential')).toMatchObject({ names: ['member-0000000001', 'member-0000000002'] });
    expect(steps.get('members-live')).toMatchObject({ children: ['member-0000000001', 'member-0000000002'] });
    expect(steps.get('transaction-refused')).toMatchObject({ t1: false, failed: true });
    expect(steps.get('transaction')).toMatchObject({ t1: true, data: 'v5' });
    expect(steps.get('lock-contenders')).toMatchObject({ contenders: ['a', 'b'] });
    expect(steps.get('lock')).toMatchObject({ order: ['a-acquired', 'a-releasing', 'b-acquired'] });
    expect(steps.get('members-after-close')).toMatchObject({ children: [] });
    expect(steps.get('deleted')).toMatchObject({ exists: false });
  }, 180_000);
});
