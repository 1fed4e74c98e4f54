/**
 * Path checks (POSIX names): absolute, `/`-separated, no empty, `.` or `..` components, no NUL,
 * bounded component and total lengths. Pure.
 */
import { fail, ok, type MdsResult } from './errors.js';

const utf8 = new TextEncoder();

export interface PathLimits {
  readonly nameBytesMax: number;
  readonly pathBytesMax: number;
}

/** The components of an absolute path (`[]` for the root). */
export function splitPath(path: string, l: PathLimits): MdsResult<string[]> {
  if (typeof path !== 'string' || !path.startsWith('/')) return fail('EINVAL', `path ${JSON.stringify(path)} is not absolute`);
  if (path.includes('\0')) return fail('EINVAL', 'path contains NUL');
  if (utf8.encode(path).length > l.pathBytesMax) return fail('ENAMETOOLONG', `path longer than ${l.pathBytesMax} bytes`);
  const parts = path.split('/').filter((p, i, all) => !(p === '' && (i === 0 || i === all.length - 1)));
  for (const p of parts) {
    const bad = checkName(p, l);
    if (bad !== undefined) return { ok: false, error: bad.error };
  }
  return ok(parts);
}

/** An error for a name that cannot be a directory entry, else undefined. */
export function checkName(name: string, l: PathLimits): { error: { code: 'EINVAL' | 'ENAMETOOLONG'; message: string } } | undefined {
  if (name === '' ) return { error: { code: 'EINVAL', message: 'empty path component' } };
  if (name === '.' || name === '..') return { error: { code: 'EINVAL', message: `path component '${name}' is not allowed` } };
  if (name.includes('/') || name.includes('\0')) return { error: { code: 'EINVAL', message: 'name contains / or NUL' } };
  if (utf8.encode(name).length > l.nameBytesMax) return { error: { code: 'ENAMETOOLONG', message: `name longer than ${l.nameBytesMax} bytes` } };
  return undefined;
}

export function joinPath(parts: readonly string[]): string {
  return '/' + parts.join('/');
}
