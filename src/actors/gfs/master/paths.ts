import type { GfsErrorCode } from '../errors.js';

/**
 * Full pathnames are the master's keys (patent ¶42, ¶55): the namespace is a lookup table from
 * full path to metadata, with no per-directory lists. These helpers validate and split them.
 */
export const ROOT = '/';

/** Returns a problem with `path`, or undefined when it is a valid absolute, normalized path. */
export function pathProblem(path: string, maxLength: number): { code: GfsErrorCode; message: string } | undefined {
  if (typeof path !== 'string') return { code: 'invalid_path', message: 'path must be a string' };
  if (path.length === 0 || path[0] !== '/') return { code: 'invalid_path', message: `path must be absolute: '${path}'` };
  if (path.length > maxLength) return { code: 'invalid_path', message: `path longer than ${maxLength} characters` };
  if (path === ROOT) return undefined;
  if (path.endsWith('/')) return { code: 'invalid_path', message: `path must not end with '/': '${path}'` };
  for (const part of path.slice(1).split('/')) {
    if (part === '') return { code: 'invalid_path', message: `empty component in '${path}'` };
    if (part === '.' || part === '..') return { code: 'invalid_path', message: `'.' and '..' are not allowed: '${path}'` };
    if (part.includes('\0')) return { code: 'invalid_path', message: 'NUL in path' };
  }
  return undefined;
}

/** `/a/b/c` → [`/a`, `/a/b`] (the directories whose read locks an operation on the path takes, ¶55). */
export function ancestors(path: string): string[] {
  const out: string[] = [];
  if (path === ROOT) return out;
  let i = path.indexOf('/', 1);
  while (i > 0) {
    out.push(path.slice(0, i));
    i = path.indexOf('/', i + 1);
  }
  return out;
}

export function parent(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? ROOT : path.slice(0, i);
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export function depth(path: string): number {
  if (path === ROOT) return 0;
  let d = 0;
  for (let i = 0; i < path.length; i++) if (path.charCodeAt(i) === 47) d++;
  return d;
}

/** True when `path` is `dir` or inside it. */
export function isWithin(path: string, dir: string): boolean {
  return dir === ROOT || path === dir || path.startsWith(`${dir}/`);
}

/** Total lock order of ¶59: by level in the tree, then lexicographically. */
export function lockOrder(a: string, b: string): number {
  const da = depth(a);
  const db = depth(b);
  if (da !== db) return da - db;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Hidden name of a deleted file (¶72): kept in the same directory, marked with the deletion time. */
export function hiddenName(path: string, deletedAtMs: number, seq: number): string {
  return `${parent(path) === ROOT ? '' : parent(path)}/.deleted.${Math.floor(deletedAtMs)}.${seq}.${baseName(path)}`;
}

export function isHiddenName(path: string): boolean {
  return baseName(path).startsWith('.deleted.');
}
