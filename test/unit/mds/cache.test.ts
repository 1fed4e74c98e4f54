/**
 * The dirty set and trimming (thesis §4.2.3; digest §4.1, §4.8): updates are journaled, marked
 * dirty on their segment's list, and committed to the directory object only when the segment is
 * trimmed — one write per directory for all of its updates. Replay rebuilds the same cache.
 */
import { describe, expect, it } from 'vitest';
import { MdsCache, rootInode } from '../../../src/actors/mds/cache.js';
import { ROOT_INO } from '../../../src/actors/mds/dir-object.js';
import { CoreHarness } from './harness.js';

function inoOf(h: CoreHarness, path: string): number {
  const p = h.run({ op: 'lookup', path });
  if (p.kind !== 'done') throw new Error(p.error.message);
  return (p.reply as { ino: number }).ino;
}

describe('MDS cache: dirty set, commits and trimming', () => {
  it('one write commits all of a directory\'s updates when their segment is trimmed (§4.2.3)', () => {
    const h = new CoreHarness();
    h.run({ op: 'mkdir', path: '/d' });
    for (let i = 0; i < 20; i++) h.run({ op: 'create', path: `/d/f${i}` });
    h.run({ op: 'unlink', path: '/d/f3' });
    h.run({ op: 'rename', from: '/d/f4', to: '/d/g4' });
    expect(h.store.size).toBe(0); // nothing committed yet: only journaled
    h.newSegment();
    const d = inoOf(h, '/d');
    expect(h.trimOldest().sort()).toEqual([ROOT_INO, d].sort());
    const obj = h.store.get(d)!;
    expect(obj.dentries.map((e) => e.name)).toEqual([...Array.from({ length: 20 }, (_, i) => `f${i}`).filter((n) => n !== 'f3' && n !== 'f4'), 'g4'].sort());
    expect(h.cache.dirs.get(d)!.dirty.size).toBe(0);
    // The deletion's null entries were dropped once committed.
    expect(h.cache.dirs.get(d)!.dentries.has('f3')).toBe(false);
  });

  it('an entry dirtied again moves to the later segment; trimming the earlier one then writes nothing', () => {
    const h = new CoreHarness();
    h.run({ op: 'create', path: '/x' });
    h.newSegment();
    h.run({ op: 'setattr', path: '/x', mode: 0o600 });
    expect(h.trimOldest()).toEqual([]);
    h.newSegment();
    expect(h.trimOldest()).toEqual([ROOT_INO]);
    expect(h.store.get(ROOT_INO)!.dentries[0]).toMatchObject({ name: 'x', inode: { mode: 0o600 } });
  });

  it('refuses to forget a segment whose entries are still dirty', () => {
    const h = new CoreHarness();
    h.run({ op: 'create', path: '/x' });
    h.newSegment();
    expect(() => h.cache.dropOldestSegment()).toThrow(/still dirty/);
  });

  it('fragment versions: committed ≤ committing ≤ version, and every dirtied entry gets the next version (B.2.1)', () => {
    const h = new CoreHarness();
    h.run({ op: 'create', path: '/a' });
    h.run({ op: 'create', path: '/b' });
    const root = h.cache.dirs.get(ROOT_INO)!;
    expect([root.dentries.get('a')!.version, root.dentries.get('b')!.version]).toEqual([1, 2]);
    expect(root.version).toBe(2);
    h.newSegment();
    h.trimOldest();
    expect([root.committed, root.committing, root.version]).toEqual([2, 2, 2]);
    h.run({ op: 'unlink', path: '/a' });
    expect(root.dentries.get('a')).toMatchObject({ kind: 'null', version: 3 });
    expect(root.committed).toBe(2);
  });

  it('replay of the journal from a subtree map rebuilds the same entries, versions, dirty sets and tables (§4.4.2)', () => {
    const h = new CoreHarness();
    h.run({ op: 'mkdir', path: '/d' });
    h.run({ op: 'create', path: '/d/f' });
    h.run({ op: 'link', existing: '/d/f', path: '/g' }, { client: 'c1', tid: 7 });
    h.newSegment();
    h.run({ op: 'symlink', target: '/d/f', path: '/s' });
    h.run({ op: 'rename', from: '/d/f', to: '/h' });
    const r = h.replay();
    const view = (c: MdsCache) =>
      [...c.dirs.values()].map((d) => ({ ino: d.ino, version: d.version, entries: [...d.dentries.values()], dirty: [...d.dirty] })).sort((a, b) => a.ino - b.ino);
    expect(view(r)).toEqual(view(h.cache));
    expect([...r.anchors]).toEqual([...h.cache.anchors]);
    expect(r.inoNext).toBe(h.cache.inoNext);
    expect(r.completedReply({ client: 'c1', tid: 7 }).found).toBe(true);
    expect(r.segments.map((s) => [...s.dirtyDirs].sort())).toEqual(h.cache.segments.map((s) => [...s.dirtyDirs].sort()));
    r.invariants();
  });

  it('after a trim, replay starts at the next subtree map; fetching a committed directory marks older entries clean (B.2.1)', () => {
    const h = new CoreHarness();
    h.run({ op: 'create', path: '/a' });
    h.newSegment();
    const second = h.journal.length - 1;
    h.run({ op: 'create', path: '/b' });
    h.run({ op: 'create', path: '/c' });
    h.trimOldest(); // commits root with a, b and c
    h.run({ op: 'create', path: '/d' });
    const r = h.replay(second);
    const root = r.dirs.get(ROOT_INO)!;
    expect(root.complete).toBe(false);
    expect([...root.dirty.keys()].sort()).toEqual(['b', 'c', 'd']);
    r.applyFetched(h.store.get(ROOT_INO)!);
    expect([...root.dentries.keys()].sort()).toEqual(['a', 'b', 'c', 'd']);
    expect([...root.dirty.keys()]).toEqual(['d']);
    expect(root.committed).toBe(3);
    r.invariants();
  });

  it('remembers a bounded number of completed requests per client and of clients', () => {
    const c = new MdsCache({ completedRequestsPerClientMax: 2, sessionsMax: 2 }, rootInode(0));
    c.beginSegment(0);
    const ev = (client: string, tid: number) => ({ e: 'update' as const, op: 'setattr' as const, req: { client, tid }, reply: tid, blob: { dirs: [] } });
    for (const [cl, t] of [['a', 1], ['a', 2], ['a', 3], ['b', 1], ['c', 1]] as const) c.apply(ev(cl, t));
    expect(c.completedReply({ client: 'a', tid: 1 }).found).toBe(false);
    expect(c.completedReply({ client: 'b', tid: 1 })).toEqual({ found: true, reply: 1 });
    expect(c.completedReply({ client: 'a', tid: 3 }).found).toBe(false); // client a was the least recent
  });

  it('expires clean, unpinned directories least recently used first, never dirty ones or the root', () => {
    const h = new CoreHarness();
    for (const d of ['a', 'b', 'c']) h.run({ op: 'mkdir', path: `/${d}` });
    for (const d of ['a', 'b', 'c']) h.run({ op: 'create', path: `/${d}/f` });
    h.newSegment();
    h.trimOldest();
    const [a, b, c] = ['a', 'b', 'c'].map((n) => inoOf(h, `/${n}`));
    h.run({ op: 'create', path: '/c/g' }); // c is dirty again
    h.run({ op: 'readdir', path: '/a' }); // a was used last
    expect(h.cache.expire(3, new Set())).toEqual([b]);
    expect(h.cache.expire(1, new Set([a!]))).toEqual([]);
    expect(h.cache.dirs.has(c!)).toBe(true);
    expect(h.cache.dirs.has(ROOT_INO)).toBe(true);
  });
});
