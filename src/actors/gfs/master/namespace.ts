import { fail, ok, type GfsResult } from '../errors.js';
import type { FileInfo } from '../protocol.js';
import type { MasterRecord, MasterState, NamespaceNode } from './master-state.js';
import { ROOT, hiddenName, isHiddenName, isWithin, parent, pathProblem } from './paths.js';

/**
 * Namespace operations as pure planning functions: given the state (under the operation's locks,
 * patent ¶54–58) they validate the request and return the log records that perform it, or a typed
 * error. The master logs the records, then applies them (¶48: nothing is visible before it is
 * durable). Planning never mutates the state.
 */
export interface PlanContext {
  readonly state: MasterState;
  readonly now: number;
  readonly pathLengthMax: number;
  readonly replicationDefault: number;
  /** For unique hidden names. */
  readonly seq: number;
}

function check(path: string, max: number): GfsResult<void> | undefined {
  const p = pathProblem(path, max);
  return p === undefined ? undefined : fail(p.code, p.message);
}

function parentDir(c: PlanContext, path: string): GfsResult<void> | undefined {
  const d = c.state.get(parent(path));
  if (d === undefined) return fail('not_found', `parent directory of ${path} does not exist`);
  if (d.kind !== 'dir') return fail('not_a_directory', `${parent(path)} is a file`);
  return undefined;
}

export function planCreate(c: PlanContext, path: string, kind: 'file' | 'dir'): GfsResult<MasterRecord[]> {
  const bad = check(path, c.pathLengthMax) ?? parentDir(c, path);
  if (bad !== undefined) return bad as GfsResult<never>;
  if (path === ROOT || c.state.get(path) !== undefined) return fail('already_exists', `${path} already exists`);
  if (isHiddenName(path)) return fail('invalid_path', `names starting with '.deleted.' are reserved for deleted files`);
  return ok([{ op: kind === 'dir' ? 'mkdir' : 'create', path, at: c.now }]);
}

/**
 * Delete (¶72): hide the file (or subtree, with `recursive`) under a name carrying the deletion
 * time. Deleting an already-deleted (hidden) path, or any path under a directory whose policy is
 * immediate reclamation (¶81), erases it at once.
 */
export function planDelete(c: PlanContext, path: string, recursive: boolean): GfsResult<MasterRecord[]> {
  const bad = check(path, c.pathLengthMax);
  if (bad !== undefined) return bad as GfsResult<never>;
  if (path === ROOT) return fail('invalid_path', 'the root cannot be deleted');
  const n = c.state.get(path);
  if (n === undefined) return fail('not_found', `${path} does not exist`);
  if (n.kind === 'dir' && !recursive && c.state.children(path).length > 0) return fail('not_empty', `${path} is a non-empty directory (delete it recursively)`);
  if (n.deletedAt !== undefined || isHiddenName(path)) return ok([{ op: 'remove', path }]);
  if (c.state.policy(path, c.replicationDefault).reclaimImmediately) return ok([{ op: 'remove', path }]);
  return ok([{ op: 'hide', path, hidden: hiddenName(path, c.now, c.seq), at: c.now }]);
}

/** Undelete (¶72): rename the hidden file back, unless its name was taken meanwhile. `path` is the original name. */
export function planUndelete(c: PlanContext, path: string): GfsResult<MasterRecord[]> {
  const bad = check(path, c.pathLengthMax);
  if (bad !== undefined) return bad as GfsResult<never>;
  const hidden = findHidden(c.state, path);
  if (hidden === undefined) return fail('not_found', `no deleted file or directory named ${path} (it may have been reclaimed)`);
  if (c.state.get(path) !== undefined) return fail('name_taken', `${path} exists again; rename it first`);
  const p = parentDir(c, path);
  if (p !== undefined) return p as GfsResult<never>;
  return ok([{ op: 'unhide', hidden, path }]);
}

/** The most recently deleted hidden node whose original path is `path`. */
export function findHidden(state: MasterState, path: string): string | undefined {
  let best: string | undefined;
  let bestAt = -Infinity;
  const prefix = parent(path) === ROOT ? '/.deleted.' : `${parent(path)}/.deleted.`;
  for (const [p, n] of state.nodes) {
    // Entries of `path`'s directory only (not nodes inside a deleted directory); the latest deletion
    // wins, and of equal times the later one (nodes are kept in insertion order).
    if (p.startsWith(prefix) && !p.includes('/', prefix.length) && n.origPath === path && (n.deletedAt ?? -Infinity) >= bestAt) {
      best = p;
      bestAt = n.deletedAt ?? -Infinity;
    }
  }
  return best;
}

export function planRename(c: PlanContext, from: string, to: string): GfsResult<MasterRecord[]> {
  const bad = check(from, c.pathLengthMax) ?? check(to, c.pathLengthMax);
  if (bad !== undefined) return bad as GfsResult<never>;
  if (from === ROOT) return fail('invalid_path', 'the root cannot be renamed');
  if (c.state.get(from) === undefined) return fail('not_found', `${from} does not exist`);
  if (isWithin(to, from)) return fail('invalid_path', `cannot move ${from} into itself`);
  const p = parentDir(c, to);
  if (p !== undefined) return p as GfsResult<never>;
  if (c.state.get(to) !== undefined) return fail('already_exists', `${to} already exists`);
  if (isHiddenName(to)) return fail('invalid_path', `names starting with '.deleted.' are reserved for deleted files`);
  return ok([{ op: 'rename', from, to, at: c.now }]);
}

export function planSnapshot(c: PlanContext, source: string, target: string): GfsResult<MasterRecord[]> {
  const bad = check(source, c.pathLengthMax) ?? check(target, c.pathLengthMax);
  if (bad !== undefined) return bad as GfsResult<never>;
  if (c.state.get(source) === undefined) return fail('not_found', `${source} does not exist`);
  if (isWithin(target, source)) return fail('invalid_path', `cannot snapshot ${source} into itself`);
  const p = parentDir(c, target);
  if (p !== undefined) return p as GfsResult<never>;
  if (c.state.get(target) !== undefined) return fail('already_exists', `${target} already exists`);
  if (isHiddenName(target)) return fail('invalid_path', `names starting with '.deleted.' are reserved for deleted files`);
  return ok([{ op: 'snapshot', source, target, at: c.now }]);
}

export function planSetPolicy(c: PlanContext, path: string, replication: number | undefined, reclaimImmediately: boolean | undefined): GfsResult<MasterRecord[]> {
  const bad = check(path, c.pathLengthMax);
  if (bad !== undefined) return bad as GfsResult<never>;
  const n = c.state.get(path);
  if (n === undefined) return fail('not_found', `${path} does not exist`);
  if (n.kind !== 'dir') return fail('not_a_directory', `policies are set on directories; ${path} is a file`);
  if (replication !== undefined && !(Number.isInteger(replication) && replication >= 1 && replication <= 16)) return fail('invalid_path', `replication must be an integer from 1 to 16, got ${replication}`);
  return ok([{ op: 'setPolicy', path, ...(replication === undefined ? {} : { replication }), ...(reclaimImmediately === undefined ? {} : { reclaimImmediately }) }]);
}

export function info(state: MasterState, path: string, n: NamespaceNode, chunkSizeBytes: number, sizeOf: (handle: bigint) => number): FileInfo {
  if (n.kind === 'dir') return { path, kind: 'dir', ctime: n.ctime, ...(n.deletedAt === undefined ? {} : { deletedAt: n.deletedAt }) };
  const last = n.chunks[n.chunks.length - 1];
  const size = n.chunks.length === 0 || last === undefined ? 0 : (n.chunks.length - 1) * chunkSizeBytes + sizeOf(last);
  return {
    path,
    kind: 'file',
    ctime: n.ctime,
    mtime: n.mtime,
    chunks: n.chunks.length,
    sizeBytes: size,
    ...(n.deletedAt === undefined ? {} : { deletedAt: n.deletedAt }),
  };
}

/** Hidden nodes whose retention has passed (¶73): the GC scan removes them. */
export function expiredHidden(state: MasterState, now: number, retentionMs: number): string[] {
  const out: string[] = [];
  for (const [p, n] of state.nodes) {
    if (n.deletedAt !== undefined && now - n.deletedAt >= retentionMs) out.push(p);
  }
  return out;
}
