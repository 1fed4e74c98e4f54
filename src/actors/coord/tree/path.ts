/**
 * ZooKeeper's path rules (PathUtils.validatePath): absolute, no trailing slash (except the root),
 * no empty, "." or ".." component, and none of the characters ZooKeeper refuses. A sequential
 * create validates the path with a digit appended, so "/queue/" is a valid sequential prefix.
 * Invalid paths fail with BADARGUMENTS (README invariant T1).
 */

/** Why `path` is not a valid znode path, or undefined when it is. */
export function pathError(path: string, sequential = false): string | undefined {
  const p = sequential ? `${path}1` : path;
  if (p.length === 0) return 'Path length must be > 0';
  if (p[0] !== '/') return 'Path must start with / character';
  if (p.length === 1) return undefined;
  if (p[p.length - 1] === '/') return 'Path must not end with / character';
  let last = '/';
  for (let i = 1; i < p.length; i++) {
    const c = p.charCodeAt(i);
    const ch = p[i] as string;
    if (c === 0) return `null character not allowed @${i}`;
    if (ch === '/' && last === '/') return `empty node name specified @${i}`;
    if (ch === '.' && last === '.') {
      if (p[i - 2] === '/' && (i + 1 === p.length || p[i + 1] === '/')) return `relative paths not allowed @${i}`;
    } else if (ch === '.') {
      if (p[i - 1] === '/' && (i + 1 === p.length || p[i + 1] === '/')) return `relative paths not allowed @${i}`;
    } else if ((c > 0 && c <= 0x1f) || (c >= 0x7f && c <= 0x9f) || (c >= 0xd800 && c <= 0xf8ff) || (c >= 0xfff0 && c <= 0xffff)) {
      return `invalid character @${i}`;
    }
    last = ch;
  }
  return undefined;
}

/** The parent of an absolute path ("/" for top-level nodes). */
export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

/** The last component of an absolute path. */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export function childPath(parent: string, name: string): string {
  return parent === '/' ? `/${name}` : `${parent}/${name}`;
}

/** Paths ZooKeeper reserves: the root and its /zookeeper subtree's system nodes. */
export function isSpecialPath(path: string): boolean {
  return path === '/' || path === '/zookeeper' || path === '/zookeeper/quota' || path === '/zookeeper/config';
}
