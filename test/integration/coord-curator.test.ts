/**
 * Apache Curator, unmodified, against the coordination service (issue 17, item 5): a 3-server
 * ensemble on real disks serves one scripted Curator session (test/fixtures/zk/CuratorSession.java,
 * run with Java's single-file source launcher) — a versioned write refused, a one-time watch,
 * ephemeral sequential nodes gone with their session, and Curator's recipes: a mutex handed over
 * only on release, a leader latch that passes on when the leader leaves, an atomic counter.
 * Curator comes from Debian's `libcurator-*-java` (with the JDK to compile the session); the test
 * installs them when missing and it runs as root (as CI does), else it fails with the install
 * command. It never skips.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startCoordEnsemble, type CoordEnsembleHandle } from '../../src/actors/coord/node/ensemble.js';
import { ensureDebianPackages, installHint } from '../support/debian.js';
import { runProcess, type Run } from '../support/cli.js';
import { consecutiveFreePorts } from '../support/zk-peer.js';

const root = mkdtempSync(join(tmpdir(), 'troupe-coord-curator-'));
let ens: CoordEnsembleHandle | undefined;

afterAll(async () => {
  await ens?.close();
  rmSync(root, { recursive: true, force: true });
});

const PACKAGES = ['libcurator-recipes-java', 'libcurator-framework-java', 'libcurator-client-java', 'libslf4j-java', 'openjdk-17-jdk-headless', 'zookeeper'];
const JARS = ['curator-recipes', 'curator-framework', 'curator-client', 'zookeeper', 'zookeeper-jute', 'guava', 'slf4j-api', 'slf4j-nop', 'netty-all'].map((j) => `/usr/share/java/${j}.jar`);
const hasCompiler = (): boolean => /jdk\.compiler/.test(spawnSync('java', ['--list-modules'], { encoding: 'utf8' }).stdout ?? '');
const installed = (): boolean => JARS.every((j) => existsSync(j)) && hasCompiler();


function runCurator(connectString: string): Promise<Run> {
  return runProcess('java', ['-cp', JARS.join(':'), join(import.meta.dirname, '../fixtures/zk/CuratorSession.java'), connectString], 150_000);
}

describe('Apache Curator against a Troupe coordination ensemble', () => {
  it('runs a scripted session: a refused versioned write, a watch, ephemerals, and the mutex, leader latch and counter recipes', async () => {
    expect(ensureDebianPackages(installed, PACKAGES), installHint('Curator', PACKAGES)).toBe(true);
    ens = await startCoordEnsemble({ dataDir: root, servers: 3, basePort: await consecutiveFreePorts(3), log: () => {} });
    await ens.ready();
    const r = await runCurator(ens.connectString);
    expect(r.code, r.err).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines).toEqual([
      'get data=v1 version=0',
      'bad-version raised=true',
      'watch events=NodeDataChanged:/cur/app/conf',
      'sequential name=member-0000000001', // the parent's cversion: its child conf was created first
      'mutex b-while-held=false b-after-release=true',
      'leader b-while-a=false b-after-a-closed=true',
      'counter value=10',
      'members-after-close count=0',
      'deleted exists=false',
    ]);
  }, 240_000);
});
