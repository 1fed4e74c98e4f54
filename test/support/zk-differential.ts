/**
 * The differential workload (issue 17, item 8): the same seeded random operation sequence run
 * through the npm package node-zookeeper-client against any ZooKeeper-compatible server, recorded
 * as a transcript of results and watch events with zxids, times and session ids normalised. Real
 * ZooKeeper 3.8 and Troupe's server must produce identical transcripts.
 *
 * Operations run one at a time. After each, every live client issues a barrier read: the server
 * queues a client's watch events ahead of its later replies (README invariant W3), so when the
 * barrier reply arrives, every event that operation caused has arrived too — which makes the
 * event part of the transcript deterministic.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { seededRandom, type Random } from '../../src/runtime/random.js';

const require = createRequire(import.meta.url);

interface NzkStat {
  czxid: Buffer;
  mzxid: Buffer;
  pzxid: Buffer;
  ctime: Buffer;
  mtime: Buffer;
  version: number;
  cversion: number;
  aversion: number;
  ephemeralOwner: Buffer;
  dataLength: number;
  numChildren: number;
}
interface NzkError {
  code: number;
  name: string;
}
interface NzkEvent {
  getName(): string;
  getPath(): string;
}
type Cb<T extends unknown[]> = (err: NzkError | null, ...rest: T) => void;
interface NzkTx {
  create(path: string, data?: Buffer, acls?: unknown, mode?: number): NzkTx;
  setData(path: string, data: Buffer, version?: number): NzkTx;
  check(path: string, version?: number): NzkTx;
  remove(path: string, version?: number): NzkTx;
  commit(cb: Cb<[{ type: number; path?: string; stat?: NzkStat; err?: number }[] | undefined]>): void;
}
export interface NzkClient {
  connect(): void;
  close(): void;
  once(ev: string, cb: () => void): void;
  on(ev: string, cb: (...args: unknown[]) => void): void;
  getSessionId(): Buffer;
  create(path: string, data: Buffer, acls: unknown, mode: number, cb: Cb<[string]>): void;
  remove(path: string, version: number, cb: Cb<[]>): void;
  setData(path: string, data: Buffer, version: number, cb: Cb<[NzkStat]>): void;
  getData(path: string, watcher: ((e: NzkEvent) => void) | undefined, cb: Cb<[Buffer, NzkStat]>): void;
  exists(path: string, watcher: ((e: NzkEvent) => void) | undefined, cb: Cb<[NzkStat | null]>): void;
  getChildren(path: string, watcher: ((e: NzkEvent) => void) | undefined, cb: Cb<[string[], NzkStat]>): void;
  getACL(path: string, cb: Cb<[{ permission: number; id: { scheme: string; id: string } }[], NzkStat]>): void;
  setACL(path: string, acls: unknown[], version: number, cb: Cb<[NzkStat]>): void;
  addAuthInfo(scheme: string, auth: Buffer): void;
  transaction(): NzkTx;
}
interface Nzk {
  createClient(conn: string, opts: Record<string, unknown>): NzkClient;
  ACL: { new (perms: number, id: unknown): unknown; OPEN_ACL_UNSAFE: unknown };
  Id: new (scheme: string, id: string) => unknown;
  CreateMode: Record<string, number>;
}
export const nzk = require('node-zookeeper-client') as Nzk;

export function connectNzk(connectString: string, sessionTimeoutMs = 10_000): Promise<NzkClient> {
  return new Promise((resolve, reject) => {
    const c = nzk.createClient(connectString, { sessionTimeout: sessionTimeoutMs, spinDelay: 100, retries: 0 });
    const t = setTimeout(() => reject(new Error(`could not connect to ${connectString}`)), 60_000);
    c.once('connected', () => {
      clearTimeout(t);
      resolve(c);
    });
    c.connect();
  });
}

export function closeNzk(c: NzkClient): Promise<void> {
  return new Promise((resolve) => {
    c.once('disconnected', () => resolve());
    c.close();
  });
}

const call = <T extends unknown[]>(fn: (cb: Cb<T>) => void): Promise<{ err: number; rest: T }> =>
  new Promise((resolve) => fn((err, ...rest) => resolve({ err: err ? err.code : 0, rest })));

interface Slot {
  client: NzkClient;
  /** The session id as hex, for normalising ephemeralOwner. */
  session: string;
  /** Incarnation: a slot that closed its session and reconnected gets a new name. */
  name: string;
  events: string[];
}

function longHex(b: Buffer): string {
  return b.toString('hex');
}

function normStat(s: NzkStat | null | undefined, slots: Slot[]): unknown {
  if (!s) return null;
  const owner = longHex(s.ephemeralOwner);
  const ownerName = owner === '0000000000000000' ? 0 : (slots.find((x) => x.session === owner)?.name ?? 'other-session');
  return {
    version: s.version,
    cversion: s.cversion,
    aversion: s.aversion,
    dataLength: s.dataLength,
    numChildren: s.numChildren,
    owner: ownerName,
    // zxids and times are normalised away; the zxid relations are kept (times depend on the clock).
    createdIsModified: longHex(s.czxid) === longHex(s.mzxid),
    childrenSinceCreate: longHex(s.pzxid) !== longHex(s.czxid),
  };
}

const NAMES = ['a', 'b', 'c', 'a/x', 'a/y', 'b/x', 'a/x/z'];

/** Runs one seeded scenario and returns its transcript (one JSON line per step). */
export async function runDifferentialScenario(connectString: string, seed: number, steps: number): Promise<string[]> {
  const rnd: Random = seededRandom(seed);
  const root = `/diff-${seed}`;
  const out: string[] = [];
  let incarnation = 0;
  const slots: Slot[] = [];
  const open = async (i: number): Promise<void> => {
    const client = await connectNzk(connectString);
    // Each slot authenticates as its own digest user, so ACL checks differ between sessions.
    client.addAuthInfo('digest', Buffer.from(`user${i}:pw${i}`));
    slots[i] = { client, session: longHex(client.getSessionId()), name: `s${i}.${incarnation++}`, events: [] };
  };
  for (let i = 0; i < 3; i++) await open(i);
  const first = slots[0] as Slot;
  const setup = await call<[string]>((cb) => first.client.create(root, Buffer.from('root'), nzk.ACL.OPEN_ACL_UNSAFE, 0, cb));
  out.push(JSON.stringify({ setup: setup.err }));

  const pathOf = (): string => `${root}/${rnd.pick(NAMES)}`;
  const dataOf = (): Buffer => (rnd.chance(0.2) ? Buffer.alloc(0) : Buffer.from(`v${rnd.int(1000)}`));
  const versionOf = (): number => (rnd.chance(0.5) ? -1 : rnd.int(3));
  const watcherFor = (slot: Slot, kind: string) => (e: NzkEvent): void => {
    slot.events.push(`${kind}:${e.getName()}:${e.getPath().slice(root.length) || '/'}`);
  };

  for (let step = 0; step < steps; step++) {
    const i = rnd.int(3);
    const slot = slots[i] as Slot;
    const c = slot.client;
    const kind = rnd.pick(['create', 'create', 'create', 'set', 'set', 'delete', 'delete', 'delete', 'get', 'get', 'exists', 'exists', 'children', 'children', 'multi', 'multi', 'acl', 'setacl', 'close']);
    let rec: Record<string, unknown> = { step, who: slot.name, kind };
    switch (kind) {
      case 'create': {
        const mode = rnd.pick([0, 0, 1, 2, 3]);
        const path = mode >= 2 ? `${root}/${rnd.pick(['a', 'b', 'c'])}/q-` : pathOf();
        const r = await call<[string]>((cb) => c.create(path, dataOf(), nzk.ACL.OPEN_ACL_UNSAFE, mode, cb));
        rec = { ...rec, path: path.slice(root.length), mode, err: r.err, created: r.err === 0 ? r.rest[0].slice(root.length) : undefined };
        break;
      }
      case 'set': {
        const path = pathOf();
        const version = versionOf();
        const r = await call<[NzkStat]>((cb) => c.setData(path, dataOf(), version, cb));
        rec = { ...rec, path: path.slice(root.length), version, err: r.err, stat: r.err === 0 ? normStat(r.rest[0], slots) : undefined };
        break;
      }
      case 'delete': {
        const path = rnd.chance(0.3) ? `${root}/${rnd.pick(['a', 'b', 'c'])}/q-000000000${rnd.int(4)}` : pathOf();
        const version = versionOf();
        const r = await call<[]>((cb) => c.remove(path, version, cb));
        rec = { ...rec, path: path.slice(root.length), version, err: r.err };
        break;
      }
      case 'get': {
        const path = pathOf();
        const watch = rnd.chance(0.6);
        const r = await call<[Buffer, NzkStat]>((cb) => c.getData(path, watch ? watcherFor(slot, 'data') : undefined, cb));
        rec = { ...rec, path: path.slice(root.length), watch, err: r.err, data: r.err === 0 ? r.rest[0]?.toString() ?? null : undefined, stat: r.err === 0 ? normStat(r.rest[1], slots) : undefined };
        break;
      }
      case 'exists': {
        const path = pathOf();
        const watch = rnd.chance(0.6);
        const r = await call<[NzkStat | null]>((cb) => c.exists(path, watch ? watcherFor(slot, 'exists') : undefined, cb));
        rec = { ...rec, path: path.slice(root.length), watch, err: r.err, stat: normStat(r.rest[0], slots) };
        break;
      }
      case 'children': {
        const path = rnd.chance(0.3) ? root : `${root}/${rnd.pick(['a', 'b', 'c', 'a/x'])}`;
        const watch = rnd.chance(0.6);
        const r = await call<[string[], NzkStat]>((cb) => c.getChildren(path, watch ? watcherFor(slot, 'child') : undefined, cb));
        rec = { ...rec, path: path.slice(root.length), watch, err: r.err, children: r.err === 0 ? [...r.rest[0]].sort() : undefined, stat: r.err === 0 ? normStat(r.rest[1], slots) : undefined };
        break;
      }
      case 'multi': {
        const tx = c.transaction();
        const ops: string[] = [];
        const n = rnd.range(1, 4);
        for (let k = 0; k < n; k++) {
          const path = pathOf();
          const op = rnd.pick(['create', 'set', 'check', 'delete']);
          const version = versionOf();
          ops.push(`${op} ${path.slice(root.length)} ${version}`);
          if (op === 'create') tx.create(path, dataOf(), nzk.ACL.OPEN_ACL_UNSAFE, rnd.pick([0, 1]));
          else if (op === 'set') tx.setData(path, dataOf(), version);
          else if (op === 'check') tx.check(path, version);
          else tx.remove(path, version);
        }
        const r = await call<[{ type: number; path?: string; stat?: NzkStat; err?: number }[] | undefined]>((cb) => tx.commit(cb));
        const results = (r.rest[0] ?? []).map((x) => ({ type: x.type, err: x.err, path: x.path?.slice(root.length), stat: x.stat ? normStat(x.stat, slots) : undefined }));
        rec = { ...rec, ops, err: r.err, results };
        break;
      }
      case 'acl': {
        const path = pathOf();
        const r = await call<[{ permission: number; id: { scheme: string; id: string } }[], NzkStat]>((cb) => c.getACL(path, cb));
        rec = { ...rec, path: path.slice(root.length), err: r.err, acl: r.err === 0 ? r.rest[0].map((a) => `${a.id.scheme}:${a.id.id}:${a.permission}`) : undefined };
        break;
      }
      case 'setacl': {
        // Restrict a node to this slot's digest user (all but ADMIN, or read-only for everyone) or open it again.
        const path = pathOf();
        const choice = rnd.pick(['mine', 'readonly', 'open']);
        const digest = (n: number): string => `user${n}:${createHash('sha1').update(`user${n}:pw${n}`).digest('base64')}`;
        const acls =
          choice === 'mine'
            ? [new nzk.ACL(15, new nzk.Id('digest', digest(i)))]
            : choice === 'readonly'
              ? [new nzk.ACL(1, new nzk.Id('world', 'anyone')), new nzk.ACL(31, new nzk.Id('digest', digest(i)))]
              : [new nzk.ACL(31, new nzk.Id('world', 'anyone'))];
        const version = versionOf();
        const r = await call<[NzkStat]>((cb) => c.setACL(path, acls, version, cb));
        rec = { ...rec, path: path.slice(root.length), choice, version, err: r.err, stat: r.err === 0 ? normStat(r.rest[0], slots) : undefined };
        break;
      }
      case 'close': {
        // The session ends: its ephemerals go, other sessions' watches fire; the slot reconnects.
        await closeNzk(c);
        rec = { ...rec, closed: true };
        out.push(JSON.stringify(rec));
        await open(i);
        rec = { step, reopened: (slots[i] as Slot).name };
        break;
      }
    }
    out.push(JSON.stringify(rec));
    // Barrier: every live client's events from this step have arrived once its read returns.
    for (const s of slots) await call<[NzkStat | null]>((cb) => s.client.exists('/', undefined, cb));
    for (const s of slots) {
      if (s.events.length > 0) out.push(JSON.stringify({ step, events: s.name, got: s.events.splice(0) }));
    }
  }
  // The final tree under the root, depth first, children sorted.
  const dump = async (path: string): Promise<void> => {
    const d = await call<[Buffer, NzkStat]>((cb) => first.client.getData(path, undefined, cb));
    const ch = await call<[string[], NzkStat]>((cb) => first.client.getChildren(path, undefined, cb));
    const slotsNow = slots;
    out.push(JSON.stringify({ tree: path.slice(root.length) || '/', data: d.rest[0]?.toString() ?? null, stat: normStat(d.rest[1], slotsNow) }));
    for (const k of [...(ch.rest[0] ?? [])].sort()) await dump(`${path}/${k}`);
  };
  await dump(root);
  for (const s of slots) await closeNzk(s.client);
  return out;
}
