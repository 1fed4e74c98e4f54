/**
 * A sequential model of the GFS master's namespace (patent ¶54–59, ¶72, ¶112), for checking
 * histories of namespace operations with `checkLinearizable`. It is written from the documented
 * behaviour — the planning functions' checks in `master/namespace.ts` and their effect in
 * `master/master-state.ts` — not by calling them, so a bug in either shows up as a disagreement.
 *
 * The namespace is an immutable tree (states are shared between the search's branches): a
 * directory holds its visible children and, in deletion order, its hidden (deleted) entries (¶72:
 * a deleted file is renamed to a hidden name in the same directory; undelete renames the most
 * recently deleted one back). Hidden entries are never reclaimed in the model: the runner must
 * configure `deletedRetentionMs` longer than the run.
 *
 * Not modelled: file data, sizes and times (checked elsewhere); `setPolicy` (no directory may set
 * `reclaimImmediately`: deletes must hide); `includeDeleted` listings; paths that name a hidden
 * entry directly (`/.deleted.<time>.<seq>.name`: the model cannot know the times in those names,
 * so a runner must not guess them). Reserved names no hidden entry has, such as `/.deleted.1.a`
 * (one number, where the master writes two), are fine: they name nothing, and create refuses them.
 *
 * Deleted entries move with their directory and undelete to where it is now; a snapshot's copies of
 * deleted entries stay deleted (undeletable in the copy); no operation gives a visible node a
 * reserved `.deleted.` name (¶72, ¶112). The master departed from this in all three places until
 * this model's tests against it found them.
 */
import type { HistoryOp, Model } from '../../../../src/testkit.js';
import type { GfsErrorCode } from '../../../../src/actors/gfs/errors.js';
import { GfsClientError, type GfsClient } from '../../../../src/actors/gfs/client/client.js';
import { defaultGfsConfig } from '../../../../src/actors/gfs/config.js';

export type NamespaceInput =
  | { readonly op: 'mkdir' | 'create'; readonly path: string }
  | { readonly op: 'delete'; readonly path: string; readonly recursive?: boolean }
  | { readonly op: 'undelete'; readonly path: string }
  | { readonly op: 'rename'; readonly from: string; readonly to: string }
  | { readonly op: 'snapshot'; readonly source: string; readonly target: string }
  | { readonly op: 'list'; readonly path: string }
  | { readonly op: 'stat'; readonly path: string };

export type NodeKind = 'file' | 'dir';

/** A listed child: its base name and kind. Listings are sorted by name. */
export interface NamespaceEntry {
  readonly name: string;
  readonly kind: NodeKind;
}

/**
 * What an operation answered: `ok` or the master's error code; `list` adds the visible children
 * (a file lists as itself), `stat` the kind. Mutations carry no value.
 */
export interface NamespaceOutput {
  readonly code: 'ok' | GfsErrorCode;
  readonly value?: readonly NamespaceEntry[] | NodeKind;
}

// ----- the state: an immutable tree -----

interface FileNode {
  readonly kind: 'file';
}

interface HiddenEntry {
  /** The base name the entry had when it was deleted. */
  readonly name: string;
  readonly node: NamespaceNode;
}

interface DirNode {
  readonly kind: 'dir';
  readonly children: ReadonlyMap<string, NamespaceNode>;
  /** Deleted entries of this directory, oldest deletion first. */
  readonly hidden: readonly HiddenEntry[];
}

type NamespaceNode = FileNode | DirNode;

/** The model's state: the root directory. */
export type NamespaceState = DirNode;

const FILE: FileNode = Object.freeze({ kind: 'file' });
const EMPTY_DIR: DirNode = Object.freeze({ kind: 'dir', children: new Map<string, NamespaceNode>(), hidden: [] });

const HIDDEN_PREFIX = '.deleted.';

export interface NamespaceModelOptions {
  /** The master's `pathLengthMax`. Default: `defaultGfsConfig`'s. */
  readonly pathLengthMax?: number;
}

// ----- paths -----

function pathProblem(path: string, max: number): boolean {
  if (typeof path !== 'string' || path.length === 0 || path[0] !== '/' || path.length > max) return true;
  if (path === '/') return false;
  if (path.endsWith('/')) return true;
  return path
    .slice(1)
    .split('/')
    .some((part) => part === '' || part === '.' || part === '..' || part.includes('\0'));
}

function parts(path: string): string[] {
  return path === '/' ? [] : path.slice(1).split('/');
}

function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

function baseOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

function within(path: string, dir: string): boolean {
  return dir === '/' || path === dir || path.startsWith(`${dir}/`);
}

function lookup(root: DirNode, path: string): NamespaceNode | undefined {
  let n: NamespaceNode = root;
  for (const p of parts(path)) {
    if (n.kind !== 'dir') return undefined;
    const c = n.children.get(p);
    if (c === undefined) return undefined;
    n = c;
  }
  return n;
}

/** A new root with the directory at `dir` (which must exist) replaced by `f(dir)`. */
function updateDir(root: DirNode, dir: string, f: (d: DirNode) => DirNode): DirNode {
  const go = (d: DirNode, rest: readonly string[]): DirNode => {
    const [head, ...tail] = rest;
    if (head === undefined) return f(d);
    const c = d.children.get(head);
    if (c === undefined || c.kind !== 'dir') throw new Error(`model: ${dir} is not a directory`);
    return withChild(d, head, go(c, tail));
  };
  return go(root, parts(dir));
}

function withChild(d: DirNode, name: string, n: NamespaceNode): DirNode {
  const children = new Map(d.children);
  children.set(name, n);
  return { kind: 'dir', children, hidden: d.hidden };
}

function withoutChild(d: DirNode, name: string): DirNode {
  const children = new Map(d.children);
  children.delete(name);
  return { kind: 'dir', children, hidden: d.hidden };
}

// ----- the model -----

const OK: NamespaceOutput = Object.freeze({ code: 'ok' });
const err = (code: GfsErrorCode): NamespaceOutput => ({ code });

/** The sequential namespace of one GFS master, for `checkLinearizable`. */
export function namespaceModel(options: NamespaceModelOptions = {}): Model<NamespaceState, NamespaceInput, NamespaceOutput> {
  const max = options.pathLengthMax ?? defaultGfsConfig.pathLengthMax;
  const keys = new WeakMap<DirNode, string>();

  const keyOf = (n: NamespaceNode): string => {
    if (n.kind === 'file') return 'f';
    const cached = keys.get(n);
    if (cached !== undefined) return cached;
    const kids = [...n.children.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, c]) => `${JSON.stringify(k)}:${keyOf(c)}`);
    // Only the order among entries of one name matters (undelete takes the latest): sort stably by name.
    const hidden = [...n.hidden]
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map((h) => `${JSON.stringify(h.name)}:${keyOf(h.node)}`);
    const k = `d{${kids.join(',')}|${hidden.join(',')}}`;
    keys.set(n, k);
    return k;
  };

  /** undefined when the parent of `path` is a directory; else the master's error. */
  const parentProblem = (s: DirNode, path: string): NamespaceOutput | undefined => {
    const d = lookup(s, parentOf(path));
    if (d === undefined) return err('not_found');
    if (d.kind !== 'dir') return err('not_a_directory');
    return undefined;
  };

  const unchanged = (s: DirNode, output: NamespaceOutput): { output: NamespaceOutput; state: DirNode } => ({ output, state: s });

  const step = (s: DirNode, i: NamespaceInput): { output: NamespaceOutput; state: DirNode } => {
    switch (i.op) {
      case 'mkdir':
      case 'create': {
        if (pathProblem(i.path, max)) return unchanged(s, err('invalid_path'));
        const bad = parentProblem(s, i.path);
        if (bad !== undefined) return unchanged(s, bad);
        if (i.path === '/' || lookup(s, i.path) !== undefined) return unchanged(s, err('already_exists'));
        if (baseOf(i.path).startsWith(HIDDEN_PREFIX)) return unchanged(s, err('invalid_path'));
        return { output: OK, state: updateDir(s, parentOf(i.path), (d) => withChild(d, baseOf(i.path), i.op === 'mkdir' ? EMPTY_DIR : FILE)) };
      }
      case 'delete': {
        if (pathProblem(i.path, max) || i.path === '/') return unchanged(s, err('invalid_path'));
        const n = lookup(s, i.path);
        if (n === undefined) return unchanged(s, err('not_found'));
        // Deleted entries count: a directory holding only deleted files is not empty (they go with it, ¶72).
        if (n.kind === 'dir' && i.recursive !== true && (n.children.size > 0 || n.hidden.length > 0)) return unchanged(s, err('not_empty'));
        const name = baseOf(i.path);
        return { output: OK, state: updateDir(s, parentOf(i.path), (d) => ({ kind: 'dir', children: withoutChild(d, name).children, hidden: [...d.hidden, { name, node: n }] })) };
      }
      case 'undelete': {
        if (pathProblem(i.path, max)) return unchanged(s, err('invalid_path'));
        const d = lookup(s, parentOf(i.path));
        const name = baseOf(i.path);
        let at = -1;
        if (d !== undefined && d.kind === 'dir' && i.path !== '/') {
          for (let k = d.hidden.length - 1; k >= 0 && at < 0; k--) {
            const h = d.hidden[k] as HiddenEntry;
            if (h.name === name) at = k;
          }
        }
        if (at < 0 || d === undefined || d.kind !== 'dir') return unchanged(s, err('not_found'));
        if (d.children.has(name)) return unchanged(s, err('name_taken'));
        const entry = d.hidden[at] as HiddenEntry;
        return { output: OK, state: updateDir(s, parentOf(i.path), (p) => ({ kind: 'dir', children: withChild(p, name, entry.node).children, hidden: p.hidden.filter((_, k) => k !== at) })) };
      }
      case 'rename':
      case 'snapshot': {
        const from = i.op === 'rename' ? i.from : i.source;
        const to = i.op === 'rename' ? i.to : i.target;
        if (pathProblem(from, max) || pathProblem(to, max)) return unchanged(s, err('invalid_path'));
        if (i.op === 'rename' && from === '/') return unchanged(s, err('invalid_path'));
        const n = lookup(s, from);
        if (n === undefined) return unchanged(s, err('not_found'));
        if (within(to, from)) return unchanged(s, err('invalid_path'));
        const bad = parentProblem(s, to);
        if (bad !== undefined) return unchanged(s, bad);
        if (lookup(s, to) !== undefined) return unchanged(s, err('already_exists'));
        // Names starting with '.deleted.' are reserved for deleted entries, for renames and snapshots as for create.
        if (baseOf(to).startsWith(HIDDEN_PREFIX)) return unchanged(s, err('invalid_path'));
        if (i.op === 'rename') {
          // `to` is not inside `from`, so removing `from` leaves `to`'s parent where it was.
          const removed = updateDir(s, parentOf(from), (d) => withoutChild(d, baseOf(from)));
          return { output: OK, state: updateDir(removed, parentOf(to), (d) => withChild(d, baseOf(to), n)) };
        }
        return { output: OK, state: updateDir(s, parentOf(to), (d) => withChild(d, baseOf(to), n)) };
      }
      case 'list': {
        if (pathProblem(i.path, max)) return unchanged(s, err('invalid_path'));
        const n = lookup(s, i.path);
        if (n === undefined) return unchanged(s, err('not_found'));
        if (n.kind === 'file') return unchanged(s, { code: 'ok', value: [{ name: baseOf(i.path), kind: 'file' }] });
        const value = [...n.children.entries()].map(([name, c]) => ({ name, kind: c.kind })).sort(byName);
        return unchanged(s, { code: 'ok', value });
      }
      case 'stat': {
        if (pathProblem(i.path, max)) return unchanged(s, err('invalid_path'));
        const n = lookup(s, i.path);
        return unchanged(s, n === undefined ? err('not_found') : { code: 'ok', value: n.kind });
      }
      default: {
        const never: never = i;
        throw new Error(`namespace model: unknown input ${JSON.stringify(never)}`);
      }
    }
  };

  return {
    init: () => EMPTY_DIR,
    step,
    equal: (expected, actual) => {
      if (expected.code !== actual.code) return false;
      return valueKey(expected.value) === valueKey(actual.value);
    },
    key: keyOf,
    describe: describeNamespaceOp,
  };
}

function byName(a: NamespaceEntry, b: NamespaceEntry): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

function valueKey(v: NamespaceOutput['value']): string {
  if (v === undefined) return '';
  if (typeof v === 'string') return v;
  return v.map((e) => `${e.kind === 'dir' ? 'd' : 'f'}:${e.name}`).join('/');
}

/** `mkdir /a → ok`, `list /a → ok [b/, f]`, `rename /a → /b → not_found`. */
export function describeNamespaceOp(input: NamespaceInput, output: NamespaceOutput | undefined): string {
  const what =
    input.op === 'rename' ? `rename ${input.from} → ${input.to}` : input.op === 'snapshot' ? `snapshot ${input.source} → ${input.target}` : input.op === 'delete' && input.recursive === true ? `delete -r ${input.path}` : `${input.op} ${input.path}`;
  if (output === undefined) return what;
  const v = output.value;
  const shown = v === undefined ? '' : typeof v === 'string' ? ` ${v}` : ` [${v.map((e) => (e.kind === 'dir' ? `${e.name}/` : e.name)).join(', ')}]`;
  return `${what} ⇒ ${output.code}${shown}`;
}

// ----- recording client outcomes -----

/** The error codes the master's namespace planning answers with: definite outcomes, compared by the model. */
const DEFINITE_CODES: ReadonlySet<GfsErrorCode> = new Set<GfsErrorCode>(['invalid_path', 'not_found', 'already_exists', 'not_a_directory', 'is_a_directory', 'not_empty', 'name_taken']);

/** How to record a client call: a definite answer (ok, or an error the model predicts), or an unknown outcome. */
export type NamespaceOutcome =
  | { readonly status: 'ok' | 'fail'; readonly output: NamespaceOutput }
  /** `notDelivered`: the runtime reports the request never reached the master (`GfsClientError.delivery`), so it had no effect. */
  | { readonly status: 'info'; readonly reason: string; readonly notDelivered: boolean };

/**
 * Turns a settled `GfsClient` call (`list`, `stat`, or a namespace mutation) into what the history
 * records. Answers: `list` gives `FileInfo[]`, `stat` a `FileInfo`, mutations nothing. Rejections
 * are `GfsClientError`s; their code is a definite answer when it is one the namespace planning
 * gives (`invalid_path`, `not_found`, `already_exists`, `not_a_directory`, `not_empty`,
 * `name_taken`; and `is_a_directory`, which it does not give today), and an unknown outcome otherwise: a timeout or unreachable master
 * (`chunkserver_failed`, `io_error`), `log_unavailable` (applied on the primary, maybe not on its
 * replicas), `not_primary` — the operation may or may not have taken effect. Any other rejection
 * is a bug in the caller or the client, and is rethrown.
 *
 * Reads answered by a shadow master (the client falls back to shadows when the primary is
 * unreachable, ¶120) may lag, so they are not linearizable: a history checked with this model must
 * come from clients that know only the primary.
 */
export function toNamespaceOutput(result: PromiseSettledResult<unknown>): NamespaceOutcome {
  if (result.status === 'rejected') {
    const e: unknown = result.reason;
    if (!(e instanceof GfsClientError)) throw e;
    if (DEFINITE_CODES.has(e.code)) return { status: 'fail', output: { code: e.code } };
    return { status: 'info', reason: e.message, notDelivered: e.delivery === 'not_delivered' };
  }
  const v: unknown = result.value;
  if (v === undefined || v === null) return { status: 'ok', output: { code: 'ok' } };
  if (Array.isArray(v)) {
    const value = v.map((f: { path: string; kind: NodeKind }) => ({ name: baseOf(f.path), kind: f.kind })).sort(byName);
    return { status: 'ok', output: { code: 'ok', value } };
  }
  if (typeof v === 'object' && 'kind' in v && (v.kind === 'file' || v.kind === 'dir')) return { status: 'ok', output: { code: 'ok', value: v.kind } };
  throw new TypeError(`toNamespaceOutput: not a namespace answer: ${JSON.stringify(v)}`);
}

/** Settles a client call into a `NamespaceOutcome` (never rejects, except for bugs). */
export async function settleNamespaceCall(call: Promise<unknown>): Promise<NamespaceOutcome> {
  const [r] = await Promise.allSettled([call]);
  return toNamespaceOutput(r as PromiseSettledResult<unknown>);
}

/** Records an outcome in a history (`ok` / `fail` / `info`). */
export function recordNamespaceOutcome(history: { ok(id: number, output: NamespaceOutput, at: number): void; fail(id: number, output: NamespaceOutput, at: number): void; info(id: number, at: number, reason?: string): void }, id: number, outcome: NamespaceOutcome, at: number): void {
  if (outcome.status === 'info') history.info(id, at, outcome.reason);
  else if (outcome.status === 'ok') history.ok(id, outcome.output, at);
  else history.fail(id, outcome.output, at);
}

/** A recorded namespace operation. */
export type NamespaceHistoryOp = HistoryOp<NamespaceInput, NamespaceOutput>;

/** Runs one namespace operation on a client (the answer is what `toNamespaceOutput` reads). */
export function callNamespaceOp(client: GfsClient, i: NamespaceInput): Promise<unknown> {
  switch (i.op) {
    case 'mkdir':
      return client.mkdir(i.path);
    case 'create':
      return client.create(i.path);
    case 'delete':
      return client.delete(i.path, i.recursive === undefined ? {} : { recursive: i.recursive });
    case 'undelete':
      return client.undelete(i.path);
    case 'rename':
      return client.rename(i.from, i.to);
    case 'snapshot':
      return client.snapshot(i.source, i.target);
    case 'list':
      return client.list(i.path);
    case 'stat':
      return client.stat(i.path);
    default: {
      const never: never = i;
      throw new Error(`unknown namespace input ${JSON.stringify(never)}`);
    }
  }
}
