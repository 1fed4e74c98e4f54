/**
 * Bench suite `coord` (issue 17 item 9): the coordination ensemble under ZooKeeper's own client,
 * beside a real ZooKeeper 3.8 ensemble on the same machine.
 *
 * Load (the parameters of the reference figures): 6 node-zookeeper-client sessions, session i on
 * server i mod 3 only, 100 requests outstanding in all (a closed loop: each reply issues the next
 * request on the next session in turn), 1 KiB values.
 * - `create`: persistent znodes with fresh names;
 * - `set`: setData (any version) on random znodes made by the case's setup;
 * - `get`: getData on random znodes made by the case's setup.
 *
 * Troupe: `startCoordEnsemble` with 3 servers on one node, logs in a temp directory, synced to disk
 * (group commit with fsync). ZooKeeper (`create:zookeeper`, ...): 3 QuorumPeerMain JVMs from
 * Debian's package (the jar and java), loopback ports picked free, a temp data directory,
 * ZooKeeper's defaults otherwise (forceSync on). Each case starts its ensemble in its setup and
 * stops it (and removes its directory) in its teardown. Every case is `selfTimed`: an iteration
 * runs a fixed number of operations and returns the time from the first request to the last reply,
 * so session set-up and the znodes made in setup do not count. A ZooKeeper case is skipped, with a
 * line on stderr, when the jar (Debian's path, or `TROUPE_ZK_JAR`) or java is missing.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchCase, BenchSuite, RatioTarget } from '../harness.js';
import { startCoordEnsemble, type CoordEnsembleHandle } from '../../actors/coord/node/ensemble.js';
import { withTimeout } from '../../runtime/node/timeout.js';

const SESSIONS = 6;
const OUTSTANDING = 100;
const VALUE_BYTES = 1024;
const SERVERS = 3;
/** Znodes the setup of `set` and `get` makes, the keys those cases pick from at random. */
const KEYS = 5_000;
const OPS: Record<Phase, number> = { create: 10_000, set: 10_000, get: 20_000 };
const READY_TIMEOUT_MS = 120_000;
const CALL_TIMEOUT_MS = 60_000;

const ZK_JAR = process.env['TROUPE_ZK_JAR'] ?? '/usr/share/java/zookeeper.jar';

type Phase = 'create' | 'set' | 'get';

// The part of node-zookeeper-client's API the bench uses (the package ships no types).
interface ZkError {
  readonly code: number;
  readonly name: string;
}
type Callback = (err: ZkError | null) => void;
interface ZkClient {
  connect(): void;
  close(): void;
  once(event: string, listener: () => void): void;
  create(path: string, data: Buffer, acls: unknown, mode: number, cb: Callback): void;
  setData(path: string, data: Buffer, version: number, cb: Callback): void;
  getData(path: string, watcher: undefined, cb: Callback): void;
}
interface ZkModule {
  createClient(connectString: string, options: Record<string, unknown>): ZkClient;
  ACL: { OPEN_ACL_UNSAFE: unknown };
  CreateMode: { PERSISTENT: number };
}
const zk = createRequire(import.meta.url)('node-zookeeper-client') as ZkModule;

const within = <T>(p: Promise<T>, ms: number, what: string): Promise<T> => withTimeout(p, ms, () => new Error(`${what}: no answer within ${ms} ms`));

function openSession(server: string): Promise<ZkClient> {
  const c = zk.createClient(server, { sessionTimeout: 30_000, spinDelay: 200, retries: 2 });
  const connected = new Promise<ZkClient>((resolve) => c.once('connected', () => resolve(c)));
  c.connect();
  return within(connected, 30_000, `connecting to ${server}`).catch((err: unknown) => {
    c.close();
    throw err;
  });
}

function closeSession(c: ZkClient): Promise<void> {
  const gone = new Promise<void>((resolve) => c.once('disconnected', resolve));
  c.close();
  return within(gone, 10_000, 'closing a session').catch(() => undefined);
}

/**
 * Runs `count` requests with `OUTSTANDING` in flight, request k on session k mod SESSIONS;
 * resolves with the ms from the first request to the last reply. Any error fails the iteration.
 */
function drive(sessions: readonly ZkClient[], count: number, issue: (k: number, c: ZkClient, done: Callback) => void): Promise<number> {
  const run = new Promise<number>((resolve, reject) => {
    let issued = 0;
    let replied = 0;
    let failed = false;
    const t0 = performance.now();
    const next = (): void => {
      const k = issued++;
      issue(k, sessions[k % sessions.length] as ZkClient, (err) => {
        if (failed) return;
        if (err !== null) {
          failed = true;
          reject(new Error(`request ${k} failed: ${err.name} (${err.code})`));
          return;
        }
        replied++;
        if (replied === count) resolve(performance.now() - t0);
        else if (issued < count) next();
      });
    };
    for (let i = 0; i < Math.min(OUTSTANDING, count); i++) next();
  });
  return within(run, CALL_TIMEOUT_MS + count, `${count} requests`);
}

/** A running ensemble: its servers' `host:port`s, and how to stop it and remove its files. */
interface Ensemble {
  readonly servers: readonly string[];
  close(): Promise<void>;
}

async function troupeEnsemble(): Promise<Ensemble> {
  const dir = mkdtempSync(join(tmpdir(), 'troupe-bench-coord-'));
  let handle: CoordEnsembleHandle | undefined;
  try {
    const basePort = await freePortRun(SERVERS);
    handle = await startCoordEnsemble({ dataDir: dir, servers: SERVERS, host: '127.0.0.1', basePort });
    await handle.ready(READY_TIMEOUT_MS);
  } catch (err) {
    await handle?.close();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const h = handle;
  return {
    servers: h.connectString.split(','),
    async close() {
      try {
        await h.close();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** A free loopback port p such that p .. p + n - 1 are all free (the Troupe ensemble needs consecutive ports). */
async function freePortRun(n: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const p = await freePort();
    if (p + n - 1 > 65535) continue;
    let ok = true;
    for (let i = 1; i < n && ok; i++) ok = await portFree(p + i);
    if (ok) return p;
  }
  throw new Error(`no run of ${n} free loopback ports found`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** The text a server answers to a four-letter word ('' when nothing answered in time). */
function fourLetter(port: number, word: string, timeoutMs = 2_000): Promise<string> {
  return new Promise((resolve) => {
    let out = '';
    const s = connect(port, '127.0.0.1', () => s.write(word));
    const t = setTimeout(() => s.destroy(), timeoutMs);
    s.on('data', (d: Buffer) => (out += d.toString()));
    s.on('close', () => {
      clearTimeout(t);
      resolve(out);
    });
    s.on('error', () => undefined);
  });
}

/** Java processes this module started and has not seen exit: killed if the bench process exits early. */
const liveJvms = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of liveJvms) c.kill('SIGKILL');
});

function stopJvm(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
  c.kill('SIGTERM');
  const t = setTimeout(() => c.kill('SIGKILL'), 10_000);
  return within(exited, 20_000, 'stopping a ZooKeeper server').finally(() => clearTimeout(t));
}

/** A 3-server ZooKeeper ensemble of Debian's jar, on free loopback ports, in a temp directory. */
async function zooKeeperEnsemble(): Promise<Ensemble> {
  const dir = mkdtempSync(join(tmpdir(), 'troupe-bench-zk-'));
  const jvms: ChildProcess[] = [];
  const close = async (): Promise<void> => {
    try {
      await Promise.all(jvms.map(stopJvm));
    } finally {
      for (const c of jvms) liveJvms.delete(c);
      rmSync(dir, { recursive: true, force: true });
    }
  };
  try {
    const ports: number[] = [];
    while (ports.length < SERVERS * 3) {
      const p = await freePort();
      if (!ports.includes(p)) ports.push(p);
    }
    const client = (i: number): number => ports[i] as number;
    const quorum = (i: number): number => ports[SERVERS + i] as number;
    const election = (i: number): number => ports[2 * SERVERS + i] as number;
    for (let i = 0; i < SERVERS; i++) {
      const home = join(dir, `zk${i + 1}`);
      mkdirSync(join(home, 'data'), { recursive: true });
      writeFileSync(join(home, 'data', 'myid'), `${i + 1}\n`);
      const cfg = [
        'tickTime=2000',
        'initLimit=10',
        'syncLimit=5',
        `dataDir=${join(home, 'data')}`,
        `clientPort=${client(i)}`,
        'clientPortAddress=127.0.0.1',
        'maxClientCnxns=0',
        'admin.enableServer=false',
        '4lw.commands.whitelist=srvr,ruok',
        'autopurge.purgeInterval=0',
        ...Array.from({ length: SERVERS }, (_, j) => `server.${j + 1}=127.0.0.1:${quorum(j)}:${election(j)}`),
        '',
      ].join('\n');
      writeFileSync(join(home, 'zoo.cfg'), cfg);
      const child = spawn(
        'java',
        ['-Xms1g', '-Xmx1g', '-XX:+UseG1GC', `-Dzookeeper.log.dir=${home}`, '-Dzookeeper.root.logger=WARN,CONSOLE', '-cp', `${home}:${ZK_JAR}`, 'org.apache.zookeeper.server.quorum.QuorumPeerMain', join(home, 'zoo.cfg')],
        { stdio: 'ignore' },
      );
      child.on('error', () => undefined);
      jvms.push(child);
      liveJvms.add(child);
    }
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (let i = 0; i < SERVERS; i++) {
      for (;;) {
        const exited = jvms.find((c) => c.exitCode !== null);
        if (exited !== undefined) throw new Error(`a ZooKeeper server exited with code ${String(exited.exitCode)} while starting`);
        if (/^Mode: (leader|follower)$/m.test(await fourLetter(client(i), 'srvr'))) break;
        if (Date.now() > deadline) throw new Error(`ZooKeeper ensemble not serving within ${READY_TIMEOUT_MS} ms`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    return { servers: Array.from({ length: SERVERS }, (_, i) => `127.0.0.1:${client(i)}`), close };
  } catch (err) {
    await close();
    throw err;
  }
}

const call = (fn: (cb: Callback) => void): Promise<void> =>
  within(
    new Promise<void>((resolve, reject) => fn((err) => (err === null ? resolve() : reject(new Error(`${err.name} (${err.code})`))))),
    CALL_TIMEOUT_MS,
    'a request',
  );

/** One case: an ensemble (started in setup), 6 sessions over its servers, and a phase per iteration. */
function phaseCase(phase: Phase, peer: 'troupe' | 'zookeeper'): BenchCase {
  const value = Buffer.alloc(VALUE_BYTES, 0x61);
  const root = '/bench';
  let ensemble: Ensemble | undefined;
  let sessions: ZkClient[] = [];
  let created = 0;
  const key = (): string => `${root}/k${Math.floor(Math.random() * KEYS)}`;
  const issue: Record<Phase, (k: number, c: ZkClient, done: Callback) => void> = {
    create: (_k, c, done) => c.create(`${root}/c${created++}`, value, zk.ACL.OPEN_ACL_UNSAFE, zk.CreateMode.PERSISTENT, done),
    set: (_k, c, done) => c.setData(key(), value, -1, done),
    get: (_k, c, done) => c.getData(key(), undefined, done),
  };
  const teardown = async (): Promise<void> => {
    await Promise.all(sessions.map(closeSession));
    sessions = [];
    const e = ensemble;
    ensemble = undefined;
    await e?.close();
  };
  return {
    name: peer === 'troupe' ? phase : `${phase}:zookeeper`,
    unit: 'ops',
    perIteration: OPS[phase],
    selfTimed: true,
    shape: `${OPS[phase]} ${phase} requests of 1 KiB values per iteration; ${SESSIONS} sessions (session i on server i mod ${SERVERS}), ${OUTSTANDING} outstanding in all; ${
      peer === 'troupe' ? 'Troupe coord' : 'ZooKeeper 3.8 (Debian jar, forceSync on)'
    } 3-server ensemble on this machine, logs synced to disk${phase === 'create' ? '' : `; ${KEYS} znodes made in setup`}`,
    setup: async () => {
      created = 0;
      try {
        ensemble = peer === 'troupe' ? await troupeEnsemble() : await zooKeeperEnsemble();
        const servers = ensemble.servers;
        sessions = await Promise.all(Array.from({ length: SESSIONS }, (_, i) => openSession(servers[i % servers.length] as string)));
        const first = sessions[0] as ZkClient;
        await call((cb) => first.create(root, Buffer.alloc(0), zk.ACL.OPEN_ACL_UNSAFE, zk.CreateMode.PERSISTENT, cb));
        if (phase !== 'create') await drive(sessions, KEYS, (k, c, done) => c.create(`${root}/k${k}`, value, zk.ACL.OPEN_ACL_UNSAFE, zk.CreateMode.PERSISTENT, done));
      } catch (err) {
        await teardown();
        throw err;
      }
    },
    run: () => {
      if (sessions.length === 0) throw new Error('coord bench case run without its setup');
      return drive(sessions, OPS[phase], issue[phase]);
    },
    teardown,
  };
}

/** Why ZooKeeper cannot run here, or undefined when it can. */
function zooKeeperMissing(): string | undefined {
  if (!existsSync(ZK_JAR)) return `${ZK_JAR} is missing (install Debian's zookeeper package)`;
  if (spawnSync('java', ['-version'], { stdio: 'ignore', timeout: 30_000 }).status !== 0) return 'java is not on the PATH (install a JRE, e.g. Debian default-jre-headless)';
  return undefined;
}

function cases(): BenchCase[] {
  const phases: Phase[] = ['create', 'set', 'get'];
  const missing = zooKeeperMissing();
  if (missing !== undefined) process.stderr.write(`coord: ${missing}, so create:zookeeper, set:zookeeper and get:zookeeper are skipped\n`);
  return phases.flatMap((p) => [phaseCase(p, 'troupe'), ...(missing === undefined ? [phaseCase(p, 'zookeeper')] : [])]);
}

const targets: RatioTarget[] = (['create', 'set', 'get'] as const).map((p) => ({ name: p, baseline: `${p}:zookeeper`, atLeast: 1 }));

const suite: BenchSuite = {
  name: 'coord',
  cases: cases(),
  targets,
  timeMs: 2_000,
  iterations: 5,
};

export default suite;
