import { InvalidArgumentError, type Command } from 'commander';
import { Code, CoordClientError, codeName } from '../../actors/coord/errors.js';
import { CreateFlag, EventType, KeeperState, Perm, type Acl, type Stat, type WatchEvent } from '../../actors/coord/protocol.js';
import { ZkConnectError, ZkWireClient } from '../../actors/coord/node/wire-client.js';
import { ExitCode, type Register } from '../program.js';
import { parsePositiveSeconds } from './client-options.js';

/**
 * `troupe zk …`: zkCli's commands, one per process, against any ZooKeeper-protocol servers — the
 * coordination service (`troupe up --system coord` prints its connect string) or ZooKeeper itself.
 * Each command opens a session, runs, and closes it (so a `create -e` node goes away when the
 * command ends, as with zkCli's one-shot mode). Output follows zkCli's where it has one (stat
 * fields by name, `ls` as `[a, b]`); `--json` prints one object. Exit codes: 1 when the server
 * refuses the operation (no node, node exists, bad version, not empty, no auth, …), 2 for bad
 * arguments, 3 when no server answers or the connection is lost mid-command.
 */

export const DEFAULT_CONNECT_STRING = '127.0.0.1:2181,127.0.0.1:2182,127.0.0.1:2183';
/** How long `-w` waits for the watch event unless `--timeout` says otherwise. */
const WATCH_WAIT_SECONDS_DEFAULT = 60;
const LS_RECURSIVE_NODES_MAX = 100_000;

interface ZkFlags {
  readonly server: string;
  readonly json?: boolean;
  readonly timeout?: number;
  readonly requestTimeout?: number;
}

/** A server's refusal, a lost connection, or bad input — each with its exit code. */
class ZkCommandError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** zkCli's wording for ZooKeeper's error codes (KeeperException messages). */
export function describeZkError(code: number, path: string): string {
  switch (code) {
    case Code.NONODE:
      return `Node does not exist: ${path}`;
    case Code.NODEEXISTS:
      return `Node already exists: ${path}`;
    case Code.BADVERSION:
      return `BadVersion: the node's version does not match: ${path}`;
    case Code.NOTEMPTY:
      return `NotEmpty: node has children: ${path}`;
    case Code.NOAUTH:
      return `Insufficient permission (NoAuth): ${path}`;
    case Code.NOCHILDRENFOREPHEMERALS:
      return `Ephemerals cannot have children: ${path}`;
    case Code.BADARGUMENTS:
      return `BadArguments (an invalid path, ACL or data too large): ${path}`;
    case Code.INVALIDACL:
      return `InvalidACL: ${path}`;
    case Code.CONNECTIONLOSS:
      return `ConnectionLoss: the connection to the server was lost (the operation may or may not have been applied): ${path}`;
    case Code.OPERATIONTIMEOUT:
      return `OperationTimeout: no reply from the server: ${path}`;
    case Code.SESSIONEXPIRED:
      return `SessionExpired: ${path}`;
    default:
      return `${codeName(code)}: ${path}`;
  }
}

const UNAVAILABLE_CODES = new Set<number>([Code.CONNECTIONLOSS, Code.OPERATIONTIMEOUT, Code.SESSIONEXPIRED]);

function fromClientError(e: CoordClientError, path: string): ZkCommandError {
  return new ZkCommandError(describeZkError(e.code, path), codeName(e.code), UNAVAILABLE_CODES.has(e.code) ? ExitCode.unavailable : ExitCode.failure);
}

/** Runs one command with a session; prints failures and sets the exit code. */
async function withZk(flags: ZkFlags, path: string, fn: (c: ZkWireClient) => Promise<void>): Promise<void> {
  let client: ZkWireClient | undefined;
  try {
    try {
      client = await ZkWireClient.connect({ connectString: flags.server, sessionTimeoutMs: 30_000, requestTimeoutMs: Math.round((flags.requestTimeout ?? 10) * 1000) });
    } catch (e) {
      if (e instanceof ZkConnectError) throw new ZkCommandError(e.message, 'CONNECTIONLOSS', ExitCode.unavailable);
      throw e;
    }
    try {
      await fn(client);
    } catch (e) {
      if (e instanceof CoordClientError) throw fromClientError(e, errorPath(e, path));
      throw e;
    }
  } catch (e) {
    if (!(e instanceof ZkCommandError)) throw e;
    process.stderr.write(`${e.message}\n`);
    if (flags.json === true) process.stdout.write(`${JSON.stringify({ ok: false, code: e.code, message: e.message })}\n`);
    process.exitCode = e.exitCode;
  } finally {
    await client?.close();
  }
}

/** The path a client error names (deleteall fails on a descendant), else the command's. */
function errorPath(e: CoordClientError, fallback: string): string {
  const m = /^[A-Z_()\d-]+: (\/[^:]*)/.exec(e.message);
  return m?.[1] ?? fallback;
}

// ---- formatting --------------------------------------------------------------------------------

const hex = (n: number | bigint): string => `0x${n.toString(16)}`;

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Java's Date.toString in UTC, as zkCli prints times: `Mon Dec 07 06:33:35 UTC 2026`. */
function javaDate(ms: number): string {
  const d = new Date(ms);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} UTC ${d.getUTCFullYear()}`;
}

/** zkCli's stat block. */
export function formatStat(s: Stat): string {
  return [
    `cZxid = ${hex(s.czxid)}`,
    `ctime = ${javaDate(s.ctime)}`,
    `mZxid = ${hex(s.mzxid)}`,
    `mtime = ${javaDate(s.mtime)}`,
    `pZxid = ${hex(s.pzxid)}`,
    `cversion = ${s.cversion}`,
    `dataVersion = ${s.version}`,
    `aclVersion = ${s.aversion}`,
    `ephemeralOwner = ${hex(s.ephemeralOwner)}`,
    `dataLength = ${s.dataLength}`,
    `numChildren = ${s.numChildren}`,
  ]
    .map((l) => `${l}\n`)
    .join('');
}

/** A stat for `--json`: numbers, with the session id of an ephemeral owner in hex. */
export function statJson(s: Stat): Record<string, number | string> {
  return { czxid: s.czxid, mzxid: s.mzxid, pzxid: s.pzxid, ctime: s.ctime, mtime: s.mtime, version: s.version, cversion: s.cversion, aversion: s.aversion, ephemeralOwner: hex(s.ephemeralOwner), dataLength: s.dataLength, numChildren: s.numChildren };
}

const PERM_LETTERS: ReadonlyArray<[string, number]> = [
  ['c', Perm.CREATE],
  ['d', Perm.DELETE],
  ['r', Perm.READ],
  ['w', Perm.WRITE],
  ['a', Perm.ADMIN],
];

export function permString(perms: number): string {
  return PERM_LETTERS.filter(([, bit]) => (perms & bit) !== 0)
    .map(([l]) => l)
    .join('');
}

/**
 * zkCli's ACL syntax: `scheme:id:perms[,…]`, perms from `cdrwa` — `world:anyone:cdrwa`,
 * `digest:user:base64hash:r`, `ip:10.0.0.0/8:rw`, `auth::cdrwa`.
 */
export function parseAcl(text: string): Acl[] {
  const out: Acl[] = [];
  for (const entry of text.split(',')) {
    const first = entry.indexOf(':');
    const last = entry.lastIndexOf(':');
    if (first <= 0 || last === first) throw new InvalidArgumentError(`an ACL entry is scheme:id:perms, got '${entry}'`);
    const scheme = entry.slice(0, first);
    const id = entry.slice(first + 1, last);
    const letters = entry.slice(last + 1);
    let perms = 0;
    for (const ch of letters) {
      const bit = PERM_LETTERS.find(([l]) => l === ch.toLowerCase());
      if (bit === undefined) throw new InvalidArgumentError(`unknown permission '${ch}' in '${entry}' (use c, d, r, w, a)`);
      perms |= bit[1];
    }
    out.push({ perms, id: { scheme, id } });
  }
  return out;
}

const EVENT_NAMES: Record<number, string> = Object.fromEntries(Object.entries(EventType).map(([k, v]) => [v, k]));
const STATE_NAMES: Record<number, string> = Object.fromEntries(Object.entries(KeeperState).map(([k, v]) => [v, k]));

/** zkCli's line for a watch event. */
export function formatEvent(ev: WatchEvent): string {
  return `WATCHER::\n\nWatchedEvent state:${STATE_NAMES[ev.state] ?? ev.state} type:${EVENT_NAMES[ev.type] ?? ev.type} path:${ev.path}\n`;
}

const eventJson = (ev: WatchEvent): Record<string, string | number> => ({ type: EVENT_NAMES[ev.type] ?? ev.type, state: STATE_NAMES[ev.state] ?? ev.state, path: ev.path });

function parseVersion(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < -1 || n > 0x7fff_ffff) throw new InvalidArgumentError(`a version is an integer ≥ -1, got '${v}'`);
  return n;
}

const WORLD_ANYONE: Acl[] = [{ perms: Perm.ALL, id: { scheme: 'world', id: 'anyone' } }];
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array | null): string => (b === null ? 'null' : new TextDecoder().decode(b));

/** Waits for the watch event a `-w` set; no event within the time limit is a failure. */
async function awaitWatch(c: ZkWireClient, flags: ZkFlags, path: string): Promise<WatchEvent> {
  const seconds = flags.timeout ?? WATCH_WAIT_SECONDS_DEFAULT;
  const ev = await c.nextEvent(Math.round(seconds * 1000));
  if (ev === undefined) throw new ZkCommandError(`no watch event for ${path} within ${seconds} s`, 'TIMEOUT', ExitCode.failure);
  return ev;
}

/** Every path under `root` (itself first), breadth first, as zkCli's `ls -R` lists them. */
async function tree(c: ZkWireClient, root: string): Promise<string[]> {
  const out = [root];
  for (let i = 0; i < out.length; i++) {
    const p = out[i] as string;
    let children: string[];
    try {
      children = (await c.getChildren(p)).children;
    } catch (e) {
      // A node deleted while we walk is simply left out.
      if (i > 0 && e instanceof CoordClientError && e.code === Code.NONODE) continue;
      throw e;
    }
    for (const ch of children.sort()) {
      if (out.length >= LS_RECURSIVE_NODES_MAX) throw new ZkCommandError(`more than ${LS_RECURSIVE_NODES_MAX} nodes under ${root}`, 'TOO_MANY_NODES', ExitCode.failure);
      out.push(p === '/' ? `/${ch}` : `${p}/${ch}`);
    }
  }
  return out;
}

export const registerZk: Register = (program: Command) => {
  const zk = program
    .command('zk')
    .description('ZooKeeper commands in the manner of zkCli (create, get, set, delete, deleteall, ls, stat, sync, getAcl, setAcl)');
  const cmd = (spec: string, description: string): Command =>
    zk
      .command(spec)
      .description(description)
      .option('--server <host:port,...>', 'the servers to try (a ZooKeeper connect string)', DEFAULT_CONNECT_STRING)
      .option('--json', 'print the result as JSON')
      .option('--request-timeout <seconds>', 'time limit of each request (default 10)', parsePositiveSeconds);
  const print = (flags: ZkFlags, value: Record<string, unknown>, text: string): void => {
    process.stdout.write(flags.json === true ? `${JSON.stringify({ ok: true, ...value })}\n` : text);
  };
  const watchOption = (c: Command): Command => c.option('-w, --watch', 'set a watch and wait for its event, then print it').option('--timeout <seconds>', `how long -w waits for the event (default ${WATCH_WAIT_SECONDS_DEFAULT})`, parsePositiveSeconds);

  cmd('create <path> [data] [acl]', 'create a node (data as text; acl in zkCli syntax, default world:anyone:cdrwa)')
    .option('-e, --ephemeral', 'ephemeral: deleted when the session ends (this command\'s session ends with it)')
    .option('-s, --sequential', 'sequential: a 10-digit counter is appended to the name')
    .action(async (path: string, data: string | undefined, acl: string | undefined, o: ZkFlags & { ephemeral?: boolean; sequential?: boolean }) => {
      const acls = parseAclArg(acl);
      await withZk(o, path, async (c) => {
        const flags = o.ephemeral === true ? (o.sequential === true ? CreateFlag.ephemeralSequential : CreateFlag.ephemeral) : o.sequential === true ? CreateFlag.persistentSequential : CreateFlag.persistent;
        const r = await c.create(path, data === undefined ? null : enc(data), acls, flags);
        print(o, { path: r.path, ...(r.stat ? { stat: statJson(r.stat) } : {}) }, `Created ${r.path}\n`);
      });
    });

  watchOption(cmd('get <path>', 'print a node\'s data'))
    .option('-s, --stat', 'print the stat too')
    .action(async (path: string, o: ZkFlags & { watch?: boolean; stat?: boolean }) => {
      await withZk(o, path, async (c) => {
        const r = await c.getData(path, o.watch === true);
        if (o.json !== true) process.stdout.write(`${dec(r.data)}\n${o.stat === true ? formatStat(r.stat) : ''}`);
        const event = o.watch === true ? await awaitWatch(c, o, path) : undefined;
        if (o.json === true) print(o, { path, data: r.data === null ? null : dec(r.data), stat: statJson(r.stat), ...(event ? { event: eventJson(event) } : {}) }, '');
        else if (event) process.stdout.write(formatEvent(event));
      });
    });

  cmd('set <path> <data>', 'set a node\'s data')
    .option('-v, --version <version>', 'only if the node has this version', parseVersion)
    .option('-s, --stat', 'print the new stat')
    .action(async (path: string, data: string, o: ZkFlags & { version?: number; stat?: boolean }) => {
      await withZk(o, path, async (c) => {
        const stat = await c.setData(path, enc(data), o.version ?? -1);
        print(o, { path, stat: statJson(stat) }, o.stat === true ? formatStat(stat) : '');
      });
    });

  cmd('delete <path>', 'delete a node (it must have no children)')
    .option('-v, --version <version>', 'only if the node has this version', parseVersion)
    .action(async (path: string, o: ZkFlags & { version?: number }) => {
      await withZk(o, path, async (c) => {
        await c.delete(path, o.version ?? -1);
        print(o, { path }, '');
      });
    });

  cmd('deleteall <path>', 'delete a node and everything under it').action(async (path: string, o: ZkFlags) => {
    await withZk(o, path, async (c) => {
      const all = await tree(c, path);
      let deleted = 0;
      // Deepest first, so each node has no children left when its turn comes.
      for (const p of all.reverse()) {
        if (p === '/' || p === '/zookeeper' || p.startsWith('/zookeeper/')) continue;
        try {
          await c.delete(p, -1);
          deleted++;
        } catch (e) {
          if (!(e instanceof CoordClientError && e.code === Code.NONODE)) throw e;
        }
      }
      print(o, { path, deleted }, '');
    });
  });

  watchOption(cmd('ls <path>', 'list a node\'s children'))
    .option('-R, --recursive', 'list every node under the path')
    .option('-s, --stat', 'print the node\'s stat too')
    .action(async (path: string, o: ZkFlags & { watch?: boolean; recursive?: boolean; stat?: boolean }) => {
      await withZk(o, path, async (c) => {
        if (o.recursive === true) {
          const paths = await tree(c, path);
          print(o, { path, paths }, paths.map((p) => `${p}\n`).join(''));
          return;
        }
        const r = await c.getChildren(path, o.watch === true);
        const children = r.children.sort();
        if (o.json !== true) process.stdout.write(`[${children.join(', ')}]\n${o.stat === true ? formatStat(r.stat) : ''}`);
        const event = o.watch === true ? await awaitWatch(c, o, path) : undefined;
        if (o.json === true) print(o, { path, children, ...(o.stat === true ? { stat: statJson(r.stat) } : {}), ...(event ? { event: eventJson(event) } : {}) }, '');
        else if (event) process.stdout.write(formatEvent(event));
      });
    });

  watchOption(cmd('stat <path>', 'print a node\'s stat')).action(async (path: string, o: ZkFlags & { watch?: boolean }) => {
    await withZk(o, path, async (c) => {
      const stat = await c.exists(path, o.watch === true);
      if (stat === undefined && o.watch !== true) throw new CoordClientError(Code.NONODE, path);
      if (o.json !== true) process.stdout.write(stat === undefined ? `Node does not exist: ${path}\n` : formatStat(stat));
      const event = o.watch === true ? await awaitWatch(c, o, path) : undefined;
      if (o.json === true) print(o, { path, stat: stat === undefined ? null : statJson(stat), ...(event ? { event: eventJson(event) } : {}) }, '');
      else if (event) process.stdout.write(formatEvent(event));
    });
  });

  cmd('sync <path>', 'make the server catch up with the leader for this path').action(async (path: string, o: ZkFlags) => {
    await withZk(o, path, async (c) => {
      await c.sync(path);
      print(o, { path }, 'Sync is OK\n');
    });
  });

  cmd('getAcl <path>', 'print a node\'s ACL')
    .option('-s, --stat', 'print the stat too')
    .action(async (path: string, o: ZkFlags & { stat?: boolean }) => {
      await withZk(o, path, async (c) => {
        const r = await c.getACL(path);
        const text = r.acl.map((a) => `'${a.id.scheme},'${a.id.id}\n: ${permString(a.perms)}\n`).join('') + (o.stat === true ? formatStat(r.stat) : '');
        print(o, { path, acl: r.acl.map((a) => ({ scheme: a.id.scheme, id: a.id.id, perms: permString(a.perms) })), ...(o.stat === true ? { stat: statJson(r.stat) } : {}) }, text);
      });
    });

  cmd('setAcl <path> <acl>', 'set a node\'s ACL (zkCli syntax: world:anyone:cdrwa,digest:user:hash:r)')
    .option('-v, --version <version>', 'only if the ACL has this version (aclVersion)', parseVersion)
    .option('-s, --stat', 'print the new stat')
    .action(async (path: string, acl: string, o: ZkFlags & { version?: number; stat?: boolean }) => {
      const acls = parseAclArg(acl);
      await withZk(o, path, async (c) => {
        const stat = await c.setACL(path, acls, o.version ?? -1);
        print(o, { path, stat: statJson(stat) }, o.stat === true ? formatStat(stat) : '');
      });
    });
};

/** An ACL argument; a malformed one is a usage error (exit 2). */
function parseAclArg(text: string | undefined): Acl[] {
  if (text === undefined) return WORLD_ANYONE;
  try {
    return parseAcl(text);
  } catch (e) {
    // Commander's own error type: the CLI exits with the usage code (2).
    process.stderr.write(`troupe: ${(e as Error).message}\n`);
    throw e instanceof InvalidArgumentError ? e : new InvalidArgumentError(String(e));
  }
}
