import { describe, expect, it } from 'vitest';
import { LockTable, lockSet, type LockRequest } from '../../../src/actors/gfs/master/lock-table.js';
import { ancestors, lockOrder } from '../../../src/actors/gfs/master/paths.js';
import { seededRandom } from '../../../src/runtime/random.js';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('namespace locks (patent ¶53–59)', () => {
  it('an operation takes read locks on every ancestor and a lock on the full path (¶55)', () => {
    expect(ancestors('/d1/d2/d3/leaf')).toEqual(['/d1', '/d1/d2', '/d1/d2/d3']);
    expect(lockSet([{ path: '/home/user/foo', mode: 'write' }])).toEqual([
      { path: '/home', mode: 'read' },
      { path: '/home/user', mode: 'read' },
      { path: '/home/user/foo', mode: 'write' },
    ]);
  });

  it('the ¶57 example: snapshot /home/user → /save/user and create /home/user/foo conflict on /home/user and serialize', async () => {
    const t = new LockTable();
    const snapshot = lockSet([{ path: '/home/user', mode: 'write' }, { path: '/save/user', mode: 'write' }]);
    // ¶57: read locks on /home and /save, write locks on /home/user and /save/user.
    expect(snapshot).toEqual([
      { path: '/home', mode: 'read' },
      { path: '/save', mode: 'read' },
      { path: '/home/user', mode: 'write' },
      { path: '/save/user', mode: 'write' },
    ]);
    const releaseSnapshot = await t.acquire(snapshot);
    let created = false;
    const create = t.acquire(lockSet([{ path: '/home/user/foo', mode: 'write' }])).then((release) => {
      created = true;
      return release;
    });
    await tick();
    expect(created).toBe(false);
    expect(t.inspect('/home/user')).toEqual({ readers: 0, writer: true, waiting: 1 });
    releaseSnapshot();
    (await create)();
    expect(created).toBe(true);
  });

  it('N concurrent creates in one directory proceed together while a snapshot of that directory waits (¶58)', async () => {
    const t = new LockTable();
    const creates = await Promise.all(Array.from({ length: 16 }, (_, i) => t.acquire(lockSet([{ path: `/dir/file${i}`, mode: 'write' }]))));
    expect(t.inspect('/dir')).toEqual({ readers: 16, writer: false, waiting: 0 });
    let snapshotted = false;
    const snap = t.acquire(lockSet([{ path: '/dir', mode: 'write' }, { path: '/copy', mode: 'write' }])).then((r) => ((snapshotted = true), r));
    // A create arriving after the snapshot queues behind it (no writer starvation, invariant M2).
    let late = false;
    const lateCreate = t.acquire(lockSet([{ path: '/dir/late', mode: 'write' }])).then((r) => ((late = true), r));
    await tick();
    expect(snapshotted).toBe(false);
    expect(late).toBe(false);
    for (const release of creates) release();
    (await snap)();
    expect(snapshotted).toBe(true);
    (await lateCreate)();
    expect(late).toBe(true);
    expect(t.size).toBe(0); // locks are freed as soon as unused (¶59)
  });

  it('two creates of the same name serialize on the per-file write lock (¶58)', async () => {
    const t = new LockTable();
    const a = await t.acquire(lockSet([{ path: '/d/same', mode: 'write' }]));
    let second = false;
    const b = t.acquire(lockSet([{ path: '/d/same', mode: 'write' }])).then((r) => ((second = true), r));
    await tick();
    expect(second).toBe(false);
    a();
    (await b)();
  });

  it('locks are ordered by depth, then lexicographically (¶59)', () => {
    expect(['/b/c', '/a', '/b', '/a/z'].sort(lockOrder)).toEqual(['/a', '/b', '/a/z', '/b/c']);
  });

  it.each([1, 2, 3, 4, 5, 6, 7, 8])('seed %i: random operation mixes never deadlock (property, M1)', async (seed) => {
    const rnd = seededRandom(seed);
    const t = new LockTable();
    const dirs = ['/a', '/a/b', '/a/b/c', '/x', '/x/y'];
    const randomPath = (): string => `${rnd.pick(dirs)}/${rnd.pick(['f', 'g', 'h', 'b', 'y'])}`;
    let finished = 0;
    const ops = Array.from({ length: 200 }, async (_, i) => {
      for (let k = rnd.int(5); k > 0; k--) await tick();
      const paths: { path: string; mode: 'read' | 'write' }[] = [];
      const n = 1 + rnd.int(2);
      for (let j = 0; j < n; j++) paths.push({ path: rnd.chance(0.3) ? rnd.pick(dirs) : randomPath(), mode: rnd.chance(0.5) ? 'write' : 'read' });
      const uniq = new Map(paths.map((p) => [p.path, p]));
      const release = await t.acquire(lockSet([...uniq.values()]));
      for (let k = rnd.int(4); k > 0; k--) await tick();
      release();
      finished++;
      return i;
    });
    const all = Promise.all(ops);
    let timer: NodeJS.Timeout | undefined;
    const guard = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`deadlock: ${finished} of 200 finished (seed ${seed})`)), 20_000)));
    await Promise.race([all, guard]).finally(() => clearTimeout(timer));
    expect(finished).toBe(200);
    expect(t.size).toBe(0);
  });

  it('refuses a lock set that names one path twice (API misuse)', async () => {
    const t = new LockTable();
    const bad: LockRequest[] = [{ path: '/a', mode: 'read' }, { path: '/a', mode: 'write' }];
    await expect(t.acquire(bad)).rejects.toThrow(/twice/);
  });
});
