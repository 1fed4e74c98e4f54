/**
 * A real ZooKeeper 3.8 server for differential and fixture tests: Debian's `zookeeper` package,
 * started directly with java on a temp data dir and a free loopback port, stopped by its own PID.
 * When the package is missing and we run as root (CI), it is installed with apt-get first;
 * otherwise the test fails and says how to install it (it never skips).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDebianPackages } from './debian.js';

export const ZK_JAR = '/usr/share/java/zookeeper.jar';
export const ZK_CLI = '/usr/share/zookeeper/bin/zkCli.sh';
export const INSTALL_HINT = 'ZooKeeper 3.8 is not installed: run `apt-get install -y zookeeper` (as root; .ci/run does this in CI)';

/** Installs Debian's zookeeper package when it is missing and we may (root); returns whether it is there. */
export function ensureZooKeeperInstalled(): boolean {
  return ensureDebianPackages(() => existsSync(ZK_JAR) && existsSync(ZK_CLI), ['zookeeper']);
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** The first of `n` consecutive free ports (an ensemble's client ports are basePort + i - 1). */
export async function consecutiveFreePorts(n: number): Promise<number> {
  for (;;) {
    const p = await freePort();
    if (p + n > 65_000) continue;
    const rest = Array.from({ length: n - 1 }, (_, i) => p + 1 + i);
    const ok = await Promise.all(
      rest.map(
        (q) =>
          new Promise<boolean>((r) => {
            const s = createServer();
            s.once('error', () => r(false));
            s.listen(q, '127.0.0.1', () => s.close(() => r(true)));
          }),
      ),
    );
    if (ok.every(Boolean)) return p;
  }
}

/** Sends a four-letter word and returns the text answer ('' when nothing answered). */
export function fourLetter(port: number, word: string, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve) => {
    let out = '';
    const s = connect(port, '127.0.0.1', () => s.write(word));
    const t = setTimeout(() => s.destroy(), timeoutMs);
    s.on('data', (d) => (out += d.toString()));
    s.on('close', () => {
      clearTimeout(t);
      resolve(out);
    });
    s.on('error', () => undefined);
  });
}

export interface ZooKeeperPeer {
  readonly port: number;
  stop(): Promise<void>;
}

/** Starts a standalone ZooKeeper 3.8 (tickTime 2000, 4lw whitelisted) and waits until it serves. */
export async function startZooKeeper(): Promise<ZooKeeperPeer> {
  if (!ensureZooKeeperInstalled()) throw new Error(INSTALL_HINT);
  const dir = mkdtempSync(join(tmpdir(), 'troupe-zkpeer-'));
  const port = await freePort();
  mkdirSync(join(dir, 'data'));
  const cfg = join(dir, 'zoo.cfg');
  writeFileSync(
    cfg,
    [
      'tickTime=2000',
      `dataDir=${join(dir, 'data')}`,
      `clientPort=${port}`,
      'clientPortAddress=127.0.0.1',
      'maxClientCnxns=0',
      'admin.enableServer=false',
      '4lw.commands.whitelist=srvr,ruok,mntr,stat,conf',
      'forceSync=no',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(
    'java',
    ['-Xms128m', '-Xmx256m', `-Dzookeeper.log.dir=${dir}`, '-Dzookeeper.root.logger=WARN,CONSOLE', '-cp', `${dir}:${ZK_JAR}`, 'org.apache.zookeeper.server.quorum.QuorumPeerMain', cfg],
    { stdio: 'ignore' },
  );
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) break;
    if ((await fourLetter(port, 'ruok', 1000)) === 'imok' && (await fourLetter(port, 'srvr', 2000)).includes('Mode:')) return { port, stop };
    await new Promise((r) => setTimeout(r, 200));
  }
  await stop();
  throw new Error('ZooKeeper did not start serving within 120 s');
}

/**
 * Runs zkCli.sh against 127.0.0.1:port with `args` (one command) or with `input` on stdin (batch
 * mode). zkCli prints results on stdout and errors (and "Created") on stderr; the JVM buffers the
 * two separately, so their interleaving varies from run to run: compare each stream on its own.
 * Asynchronous: the server under test may run in this very process.
 */
export function zkCli(port: number, args: string[], input?: string): Promise<{ stdout: string; stderr: string; output: string; status: number | null }> {
  return new Promise((resolve) => {
    const child = spawn(ZK_CLI, ['-server', `127.0.0.1:${port}`, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('close', (status) => {
      clearTimeout(t);
      resolve({ stdout, stderr, output: `${stdout}\n${stderr}`, status });
    });
    child.stdin.end(input ?? '');
  });
}

