/**
 * Namespace operations as pure plans (thesis §3.2, §4.2.2): POSIX-style typed errors for bad
 * input, hard links through remote entries and the anchor table, truncation and purge records.
 */
import { describe, expect, it } from 'vitest';
import type { Inode } from '../../../src/actors/mds/dir-object.js';
import type { MdsOp } from '../../../src/actors/mds/protocol.js';
import { CoreHarness } from './harness.js';

function inode(h: CoreHarness, op: MdsOp): Inode {
  const p = h.run(op);
  if (p.kind !== 'done') throw new Error(`${op.op}: ${p.error.code} ${p.error.message}`);
  return p.reply as Inode;
}

describe('MDS namespace plans', () => {
  it('bad paths get EINVAL or ENAMETOOLONG and change nothing', () => {
    const h = new CoreHarness({ nameBytesMax: 8, pathBytesMax: 32 });
    expect(h.code({ op: 'mkdir', path: 'relative' })).toBe('EINVAL');
    expect(h.code({ op: 'mkdir', path: '/a\0b' })).toBe('EINVAL');
    expect(h.code({ op: 'mkdir', path: '/a/../b' })).toBe('EINVAL');
    expect(h.code({ op: 'mkdir', path: '/a//b' })).toBe('EINVAL');
    expect(h.code({ op: 'mkdir', path: '/123456789' })).toBe('ENAMETOOLONG');
    expect(h.code({ op: 'mkdir', path: '/abcdefg'.repeat(5) })).toBe('ENAMETOOLONG');
    expect(h.code({ op: 'symlink', target: 'x\0', path: '/s' })).toBe('EINVAL');
    expect(h.code({ op: 'setattr', path: '/', mode: 0o10000 })).toBe('EINVAL');
    expect(h.journal.filter((e) => e.e === 'update')).toEqual([]);
  });

  it('typed errors for operations the namespace does not allow', () => {
    const h = new CoreHarness({ fileSizeBytesMax: 1000, dirEntriesMax: 3 });
    h.run({ op: 'mkdir', path: '/d' });
    h.run({ op: 'create', path: '/d/f' });
    expect(h.code({ op: 'mkdir', path: '/d' })).toBe('EEXIST');
    expect(h.code({ op: 'create', path: '/d/f', exclusive: true })).toBe('EEXIST');
    expect(h.code({ op: 'create', path: '/d/f' })).toBe('ok');
    expect(h.code({ op: 'mkdir', path: '/nope/x' })).toBe('ENOENT');
    expect(h.code({ op: 'mkdir', path: '/d/f/x' })).toBe('ENOTDIR');
    expect(h.code({ op: 'unlink', path: '/d' })).toBe('EISDIR');
    expect(h.code({ op: 'rmdir', path: '/d/f' })).toBe('ENOTDIR');
    expect(h.code({ op: 'rmdir', path: '/d' })).toBe('ENOTEMPTY');
    expect(h.code({ op: 'rmdir', path: '/' })).toBe('EBUSY');
    expect(h.code({ op: 'rename', from: '/', to: '/x' })).toBe('EBUSY');
    expect(h.code({ op: 'link', existing: '/d', path: '/l' })).toBe('EPERM');
    expect(h.code({ op: 'open', path: '/d', write: true })).toBe('EISDIR');
    expect(h.code({ op: 'setattr', path: '/d', sizeBytes: 1 })).toBe('EISDIR');
    expect(h.code({ op: 'setattr', path: '/d/f', sizeBytes: 1001 })).toBe('EFBIG');
    expect(h.code({ op: 'close', ino: 12345, sizeBytes: 1 })).toBe('EBADF');
    h.run({ op: 'create', path: '/d/g' });
    h.run({ op: 'create', path: '/d/h' });
    expect(h.code({ op: 'create', path: '/d/i' })).toBe('ENOSPC');
    h.run({ op: 'symlink', target: '/loop2', path: '/loop1' });
    h.run({ op: 'symlink', target: '/loop1', path: '/loop2' });
    expect(h.code({ op: 'stat', path: '/loop1' })).toBe('ELOOP');
    expect(h.code({ op: 'lookup', path: '/loop1' })).toBe('ok');
  });

  it('rename refuses to move a directory into its own subtree (EINVAL), including through a symbolic link', () => {
    const h = new CoreHarness();
    h.run({ op: 'mkdir', path: '/a' });
    h.run({ op: 'mkdir', path: '/a/b' });
    h.run({ op: 'mkdir', path: '/a/b/c' });
    h.run({ op: 'symlink', target: '/a/b', path: '/sl' });
    expect(h.code({ op: 'rename', from: '/a', to: '/a/b/c/a' })).toBe('EINVAL');
    expect(h.code({ op: 'rename', from: '/a/b', to: '/a/b/x' })).toBe('EINVAL');
    expect(h.code({ op: 'rename', from: '/a', to: '/sl/x' })).toBe('EINVAL');
    expect(h.code({ op: 'rename', from: '/a/b/c', to: '/c' })).toBe('ok');
    expect(h.code({ op: 'rename', from: '/a', to: '/c/a' })).toBe('ok');
    expect(inode(h, { op: 'stat', path: '/c/a/b' }).type).toBe('dir');
  });

  it('rename replaces a file, an empty directory, and is a no-op onto another name of the same inode', () => {
    const h = new CoreHarness();
    const f = inode(h, { op: 'create', path: '/f' });
    const g = inode(h, { op: 'create', path: '/g' });
    h.run({ op: 'mkdir', path: '/d' });
    h.run({ op: 'mkdir', path: '/e' });
    expect(h.code({ op: 'rename', from: '/f', to: '/d' })).toBe('EISDIR');
    expect(h.code({ op: 'rename', from: '/d', to: '/f' })).toBe('ENOTDIR');
    const p = h.run({ op: 'rename', from: '/f', to: '/g' });
    expect(p.kind === 'done' && p.update?.blob.purges).toEqual([{ ino: g.ino, kind: 'file', layout: g.layout, sizeBytes: 0 }]);
    expect(inode(h, { op: 'stat', path: '/g' }).ino).toBe(f.ino);
    expect(h.code({ op: 'rename', from: '/d', to: '/e' })).toBe('ok');
    h.run({ op: 'link', existing: '/g', path: '/g2' });
    const same = h.run({ op: 'rename', from: '/g', to: '/g2' });
    expect(same.kind === 'done' && same.update).toBe(undefined);
  });

  it('hard links: a remote entry holds only the inode number; unlinking the primary name moves the inode to a remaining link (§4.2.2)', () => {
    const h = new CoreHarness();
    h.run({ op: 'mkdir', path: '/a' });
    h.run({ op: 'mkdir', path: '/b' });
    const f = inode(h, { op: 'create', path: '/a/f' });
    expect(inode(h, { op: 'link', existing: '/a/f', path: '/b/l1' }).nlink).toBe(2);
    h.run({ op: 'link', existing: '/b/l1', path: '/l2' });
    const b = inode(h, { op: 'lookup', path: '/b' }).ino;
    expect(h.cache.dirs.get(b)!.dentries.get('l1')).toMatchObject({ kind: 'remote', ino: f.ino, type: 'file' });
    expect(h.cache.anchors.get(f.ino)?.remotes).toHaveLength(2);
    expect(inode(h, { op: 'stat', path: '/l2' })).toMatchObject({ ino: f.ino, nlink: 3 });
    const un = h.run({ op: 'unlink', path: '/a/f' });
    expect(un.kind === 'done' && un.update?.blob.purges).toBe(undefined);
    expect(h.cache.dirs.get(b)!.dentries.get('l1')).toMatchObject({ kind: 'primary', inode: { ino: f.ino, nlink: 2 } });
    expect(inode(h, { op: 'stat', path: '/l2' }).nlink).toBe(2);
    h.run({ op: 'unlink', path: '/l2' });
    expect(h.cache.anchors.has(f.ino)).toBe(false);
    expect(inode(h, { op: 'stat', path: '/b/l1' }).nlink).toBe(1);
    const last = h.run({ op: 'unlink', path: '/b/l1' });
    expect(last.kind === 'done' && last.update?.blob.purges?.map((p) => p.ino)).toEqual([f.ino]);
  });

  it('readdir returns entries with their inodes, in name order, in pages (§3.2.3)', () => {
    const h = new CoreHarness({ readdirEntriesMax: 2 });
    for (const n of ['c', 'a', 'b']) h.run({ op: 'create', path: `/${n}` });
    h.run({ op: 'link', existing: '/a', path: '/z' });
    const p1 = h.run({ op: 'readdir', path: '/' });
    const r1 = p1.kind === 'done' ? (p1.reply as { entries: { name: string; inode: Inode }[]; more: boolean }) : undefined;
    expect(r1?.entries.map((e) => e.name)).toEqual(['a', 'b']);
    expect(r1?.more).toBe(true);
    const p2 = h.run({ op: 'readdir', path: '/', after: 'b' });
    const r2 = p2.kind === 'done' ? (p2.reply as { entries: { name: string; inode: Inode }[]; more: boolean }) : undefined;
    expect(r2?.entries.map((e) => [e.name, e.inode.nlink])).toEqual([['c', 1], ['z', 2]]);
    expect(r2?.more).toBe(false);
  });

  it('a smaller size records a truncation of the data past it; a larger one does not', () => {
    const h = new CoreHarness();
    const f = inode(h, { op: 'open', path: '/f', create: true, write: true });
    const closed = h.run({ op: 'close', ino: f.ino, sizeBytes: 5000 });
    expect(closed.kind).toBe('error'); // not open in this harness: the server passes the open location
    h.run({ op: 'setattr', path: '/f', sizeBytes: 5000 });
    const up = h.run({ op: 'setattr', path: '/f', sizeBytes: 9000 });
    expect(up.kind === 'done' && up.update?.blob.truncate).toBe(undefined);
    const down = h.run({ op: 'setattr', path: '/f', sizeBytes: 100 });
    expect(down.kind === 'done' && down.update?.blob.truncate).toEqual({ ino: f.ino, layout: f.layout, fromBytes: 9000, toBytes: 100 });
    expect(h.cache.truncating.has(f.ino)).toBe(true);
  });
});
