/**
 * The master's maintained counters (invariant M12, issue #13): file and directory counts, and per
 * chunk the replication settings and live references of the files holding it, kept by `apply` so
 * that status and re-replication need no scan of the files. After every kind of record the kept
 * values must equal a full scan (`checkCounters`), and the goal must be the one the policy gives
 * (¶66, ¶81: the nearest ancestor's replication setting; the highest among a chunk's files).
 */
import { describe, expect, it } from 'vitest';
import { MasterState, type MasterRecord } from '../../../src/actors/gfs/master/master-state.js';

const DEFAULT = 3;

function state(): { s: MasterState; touched: Set<bigint>; apply: (r: MasterRecord) => void; chunk: (path: string) => bigint } {
  const s = new MasterState();
  const touched = new Set<bigint>();
  const apply = (r: MasterRecord): void => {
    s.apply(r, touched);
    s.checkCounters();
  };
  const chunk = (path: string): bigint => {
    const f = s.get(path);
    if (f?.kind !== 'file') throw new Error(`no file ${path}`);
    const handle = s.nextHandle();
    apply({ op: 'addChunk', path, index: f.chunks.length, handle, version: 1, at: 0 });
    return handle;
  };
  return { s, touched, apply, chunk };
}

const goal = (s: MasterState, h: bigint): number | undefined => {
  const c = s.chunks.get(h);
  return c === undefined ? undefined : MasterState.goalOf(c, DEFAULT);
};

describe('maintained namespace counters (M12)', () => {
  it('counts files and directories as they are created and removed, without a scan', () => {
    const { s, apply, chunk } = state();
    expect([s.fileCount, s.dirCount]).toEqual([0, 1]); // the root is a directory
    apply({ op: 'mkdir', path: '/a', at: 0 });
    apply({ op: 'create', path: '/a/f', at: 0 });
    apply({ op: 'create', path: '/a/g', at: 0 });
    chunk('/a/f');
    expect([s.fileCount, s.dirCount]).toEqual([2, 2]);
    apply({ op: 'remove', path: '/a' });
    expect([s.fileCount, s.dirCount, s.chunks.size]).toEqual([0, 1, 0]);
  });

  it('a new chunk takes the replication setting of its directory; a setPolicy changes the goal of every chunk below (¶66, ¶81)', () => {
    const { s, touched, apply, chunk } = state();
    apply({ op: 'mkdir', path: '/hot', at: 0 });
    apply({ op: 'create', path: '/hot/f', at: 0 });
    const h = chunk('/hot/f');
    expect(goal(s, h)).toBe(DEFAULT);
    expect(touched.has(h)).toBe(true);
    touched.clear();
    apply({ op: 'setPolicy', path: '/hot', replication: 5 });
    expect(goal(s, h)).toBe(5);
    expect([...touched]).toEqual([h]);
    touched.clear();
    apply({ op: 'setPolicy', path: '/hot', reclaimImmediately: true });
    expect(touched.size).toBe(0); // reclamation policy does not change goals
  });

  it('a rename into a directory with another setting changes the goal; one within the same setting touches nothing', () => {
    const { s, touched, apply, chunk } = state();
    apply({ op: 'mkdir', path: '/one', at: 0 });
    apply({ op: 'setPolicy', path: '/one', replication: 1 });
    apply({ op: 'mkdir', path: '/two', at: 0 });
    apply({ op: 'create', path: '/two/f', at: 0 });
    const h = chunk('/two/f');
    touched.clear();
    apply({ op: 'rename', from: '/two/f', to: '/two/g', at: 1 });
    expect(touched.size).toBe(0);
    apply({ op: 'rename', from: '/two', to: '/one/two', at: 1 });
    expect(goal(s, h)).toBe(1);
    expect([...touched]).toEqual([h]);
  });

  it('a snapshot shares chunks: the goal is the highest among the files holding it, and drops back when the copy is erased (¶113)', () => {
    const { s, apply, chunk } = state();
    apply({ op: 'mkdir', path: '/src', at: 0 });
    apply({ op: 'create', path: '/src/f', at: 0 });
    const h = chunk('/src/f');
    apply({ op: 'mkdir', path: '/backup', at: 0 });
    apply({ op: 'setPolicy', path: '/backup', replication: 6 });
    apply({ op: 'snapshot', source: '/src', target: '/backup/src', at: 1 });
    expect(s.chunks.get(h)).toMatchObject({ refs: 2, liveRefs: 2 });
    expect(goal(s, h)).toBe(6);
    expect([s.fileCount, s.dirCount]).toEqual([2, 4]);
    apply({ op: 'remove', path: '/backup/src' });
    expect(s.chunks.get(h)).toMatchObject({ refs: 1, liveRefs: 1 });
    expect(goal(s, h)).toBe(DEFAULT);
  });

  it('copy-on-write moves the writer\'s reference to the new chunk; the old one keeps the snapshot\'s goal (¶113)', () => {
    const { s, touched, apply, chunk } = state();
    apply({ op: 'mkdir', path: '/snap', at: 0 });
    apply({ op: 'setPolicy', path: '/snap', replication: 2 });
    apply({ op: 'create', path: '/f', at: 0 });
    const h = chunk('/f');
    apply({ op: 'snapshot', source: '/f', target: '/snap/f', at: 1 });
    expect(goal(s, h)).toBe(DEFAULT);
    touched.clear();
    const to = s.nextHandle();
    apply({ op: 'cow', path: '/f', index: 0, from: h, to, version: 1 });
    expect(goal(s, h)).toBe(2);
    expect(goal(s, to)).toBe(DEFAULT);
    expect(touched).toEqual(new Set([h, to]));
  });

  it('delete and undelete change whether only deleted files hold a chunk (¶68: live files first); expiry erases it (¶72–74)', () => {
    const { s, touched, apply, chunk } = state();
    apply({ op: 'mkdir', path: '/d', at: 0 });
    apply({ op: 'create', path: '/d/f', at: 0 });
    const h = chunk('/d/f');
    touched.clear();
    apply({ op: 'hide', path: '/d', hidden: '/.deleted.d.1', at: 5 });
    expect(s.chunks.get(h)?.liveRefs).toBe(0);
    expect(touched.has(h)).toBe(true);
    apply({ op: 'unhide', hidden: '/.deleted.d.1', path: '/d' });
    expect(s.chunks.get(h)?.liveRefs).toBe(1);
    apply({ op: 'hide', path: '/d/f', hidden: '/d/.deleted.f.2', at: 6 });
    touched.clear();
    apply({ op: 'remove', path: '/d/.deleted.f.2' });
    expect(s.chunks.has(h)).toBe(false);
    expect(touched.has(h)).toBe(true);
    expect(s.fileCount).toBe(0);
  });

  it('a version bump touches the chunk (its replicas may have gone stale, ¶77); an older one does not', () => {
    const { apply, touched, chunk } = state();
    apply({ op: 'create', path: '/f', at: 0 });
    const h = chunk('/f');
    touched.clear();
    apply({ op: 'bumpVersion', handle: h, version: 2 });
    expect([...touched]).toEqual([h]);
    touched.clear();
    apply({ op: 'bumpVersion', handle: h, version: 2 });
    expect(touched.size).toBe(0);
  });

  it('a checkpoint does not persist the counters: loading one rebuilds them equal (M5)', () => {
    const { s, apply, chunk } = state();
    apply({ op: 'mkdir', path: '/a', at: 0 });
    apply({ op: 'setPolicy', path: '/a', replication: 4 });
    apply({ op: 'create', path: '/a/f', at: 0 });
    const h = chunk('/a/f');
    apply({ op: 'snapshot', source: '/a', target: '/b', at: 1 });
    apply({ op: 'setPolicy', path: '/b', replication: 2 });
    apply({ op: 'hide', path: '/a', hidden: '/.deleted.a.1', at: 2 });
    const back = MasterState.fromCheckpoint(structuredClone(s.toCheckpoint()));
    back.checkCounters();
    expect([back.fileCount, back.dirCount]).toEqual([s.fileCount, s.dirCount]);
    expect(back.chunks.get(h)).toMatchObject({ refs: 2, liveRefs: 1 });
    expect(goal(back, h)).toBe(4);
  });

  it('the check finds a counter that drifted from the namespace', () => {
    const { s, apply } = state();
    apply({ op: 'create', path: '/f', at: 0 });
    s.fileCount++;
    expect(() => s.checkCounters()).toThrow(/M12/);
  });

  it('the check finds a chunk whose replication settings, live references or reference count drifted (M12, M4)', () => {
    const { s, apply, chunk } = state();
    apply({ op: 'mkdir', path: '/a', at: 0 });
    apply({ op: 'setPolicy', path: '/a', replication: 4 });
    apply({ op: 'create', path: '/a/f', at: 0 });
    const h = chunk('/a/f');
    apply({ op: 'snapshot', source: '/a/f', target: '/g', at: 1 });
    const c = s.chunks.get(h)!;
    expect(c.goals).toEqual([4, 0]); // the two files disagree: one setting per reference
    c.goals = [4, 4];
    expect(() => s.checkCounters()).toThrow(/M12: chunk .* records replication settings \[4,4\], but its files have \[0,4\]/);
    c.goals = [0, 4];
    s.checkCounters();
    c.liveRefs = 1;
    expect(() => s.checkCounters()).toThrow(/M12: chunk .* counts 1 live references, but 2/);
    c.liveRefs = 2;
    c.refs = 3;
    expect(() => s.checkCounters()).toThrow(/M4: chunk .* has refs 3 but 2 files/);
    c.refs = 2;
    const one = s.chunks.get(chunk('/g'))!;
    one.goals = 4; // /g is under the root, which sets nothing (0: the default)
    expect(() => s.checkCounters()).toThrow(/M12: chunk .* records replication settings \[4\], but its files have \[0\]/);
    one.goals = 0;
  });

  it('the per-message check scans again whenever a record was applied, and finds drift made meanwhile by anything else (M5: records are the only way the state changes)', () => {
    const { s, apply, chunk } = state();
    apply({ op: 'create', path: '/f', at: 0 });
    const h = chunk('/f');
    s.invariants();
    s.chunks.get(h)!.liveRefs = 5;
    s.invariants(); // no record applied since the last scan: not scanned again
    s.apply({ op: 'create', path: '/g', at: 1 });
    expect(() => s.invariants()).toThrow(/M12: chunk .* counts 5 live references, but 1/);
    s.chunks.get(h)!.liveRefs = 1;
    s.invariants();
    s.fileCount++; // a counter moved without a record: scanned at once
    expect(() => s.invariants()).toThrow(/M12: file counter/);
  });
});
