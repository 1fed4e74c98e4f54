/**
 * Directory objects (thesis §4.2, §4.2.1; digest §4.1): entries with embedded inodes in one
 * checksummed object per directory, named by the directory's inode number.
 */
import { describe, expect, it } from 'vitest';
import { decodeDirObject, dirObjectName, encodeDirObject, mergeFetched, ROOT_INO, type Dentry, type DirObject, type Inode } from '../../../src/actors/mds/dir-object.js';

const file = (ino: number, size = 0): Inode => ({ ino, type: 'file', mode: 0o644, nlink: 1, sizeBytes: size, mtimeMs: 5, atimeMs: 5, ctimeMs: 5, layout: { su: 4096, sc: 1, os: 4096 } });

describe('directory objects', () => {
  const obj: DirObject = {
    ino: 0x1000,
    version: 7,
    dentries: [
      { kind: 'primary', name: 'a.txt', version: 3, inode: file(0x1001, 12) },
      { kind: 'remote', name: 'link-to-x', version: 7, ino: 0x2000, type: 'file' },
    ],
  };

  it('are named by the directory inode number; the root is inode 1 (thesis Fig 4.1)', () => {
    expect(dirObjectName(ROOT_INO)).toBe('1.00000000');
    expect(dirObjectName(0x1000)).toBe('1000.00000000');
  });

  it('round-trip primary entries with their embedded inodes and remote entries with only an inode number (§4.2.1)', () => {
    const back = decodeDirObject(encodeDirObject(obj), 0x1000);
    expect(back).toEqual({ ok: true, value: obj });
  });

  it('never store null entries: they record a deletion not yet committed (B.2.1)', () => {
    expect(() => encodeDirObject({ ino: 1, version: 1, dentries: [{ kind: 'null', name: 'gone', version: 1 }] })).toThrow(/null dentries/);
  });

  it('refuse a flipped bit, a short object, and an object of another directory', () => {
    const bytes = encodeDirObject(obj);
    const flipped = bytes.slice();
    flipped[bytes.length - 3]! ^= 0x10;
    expect(decodeDirObject(flipped, 0x1000)).toMatchObject({ ok: false, reason: 'checksum mismatch' });
    expect(decodeDirObject(bytes.subarray(0, bytes.length - 1), 0x1000)).toMatchObject({ ok: false, reason: /truncated/ });
    expect(decodeDirObject(bytes, 0x1001)).toMatchObject({ ok: false, reason: /not 4097/ });
  });

  it('a fetched object merges with cached entries by version: the newer wins per name (B.2.1)', () => {
    const cached = new Map<string, Dentry>([
      ['a.txt', { kind: 'null', name: 'a.txt', version: 9 }],
      ['link-to-x', { kind: 'null', name: 'link-to-x', version: 2 }],
      ['new', { kind: 'primary', name: 'new', version: 8, inode: file(0x1005) }],
    ]);
    const m = mergeFetched(cached, obj);
    expect(m.get('a.txt')?.kind).toBe('null');
    expect(m.get('link-to-x')?.kind).toBe('remote');
    expect(m.get('new')?.kind).toBe('primary');
  });
});
