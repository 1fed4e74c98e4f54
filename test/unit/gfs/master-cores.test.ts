import { describe, expect, it } from 'vitest';
import { LeaseTable } from '../../../src/actors/gfs/master/lease-table.js';
import { MasterState, type MasterRecord } from '../../../src/actors/gfs/master/master-state.js';
import { expiredHidden, findHidden, planCreate, planDelete, planRename, planSetPolicy, planSnapshot, planUndelete, type PlanContext } from '../../../src/actors/gfs/master/namespace.js';
import { choosePlacement, planRebalance, type ServerView } from '../../../src/actors/gfs/master/placement.js';
import { planClones, type UnderReplicated } from '../../../src/actors/gfs/master/replication.js';
import type { GfsResult } from '../../../src/actors/gfs/errors.js';

function ctx(state: MasterState, now = 1_000, seq = 1): PlanContext {
  return { state, now, pathLengthMax: 4096, replicationDefault: 3, seq };
}
function run(state: MasterState, r: GfsResult<MasterRecord[]>): void {
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  for (const rec of r.value) state.apply(rec);
}

describe('namespace as a lookup table of full paths (¶42, ¶53–59)', () => {
  it('creates, lists, renames and validates paths with typed errors', () => {
    const s = new MasterState();
    run(s, planCreate(ctx(s), '/home', 'dir'));
    run(s, planCreate(ctx(s), '/home/a', 'file'));
    expect(s.children('/home')).toEqual(['/home/a']);
    expect(planCreate(ctx(s), '/home/a', 'file')).toMatchObject({ ok: false, error: { code: 'already_exists' } });
    expect(planCreate(ctx(s), '/nope/a', 'file')).toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect(planCreate(ctx(s), '/home/a/b', 'file')).toMatchObject({ ok: false, error: { code: 'not_a_directory' } });
    for (const bad of ['relative', '/a//b', '/a/../b', '/a/', '', '/a\0b']) expect(planCreate(ctx(s), bad, 'file')).toMatchObject({ ok: false, error: { code: 'invalid_path' } });
    run(s, planRename(ctx(s), '/home', '/users'));
    expect(s.children('/users')).toEqual(['/users/a']);
    expect(planRename(ctx(s), '/users', '/users/inside')).toMatchObject({ ok: false, error: { code: 'invalid_path' } });
    s.invariants();
  });

  it('delete hides with a timestamp, undelete restores, expiry erases and orphans the chunks (¶72–74)', () => {
    const s = new MasterState();
    run(s, planCreate(ctx(s), '/f', 'file'));
    const h = s.nextHandle();
    s.apply({ op: 'addChunk', path: '/f', index: 0, handle: h, version: 1, at: 1 });
    run(s, planDelete(ctx(s, 5_000), '/f', false));
    expect(s.get('/f')).toBeUndefined();
    const hidden = findHidden(s, '/f') as string;
    expect(hidden).toMatch(/^\/\.deleted\.5000\.1\.f$/);
    expect(s.get(hidden)).toMatchObject({ deletedAt: 5_000, origPath: '/f' });
    run(s, planUndelete(ctx(s), '/f'));
    expect(s.get('/f')?.kind).toBe('file');
    run(s, planDelete(ctx(s, 6_000), '/f', false));
    expect(expiredHidden(s, 6_000 + 3 * 86_400_000 - 1, 3 * 86_400_000)).toEqual([]);
    const expired = expiredHidden(s, 6_000 + 3 * 86_400_000, 3 * 86_400_000);
    expect(expired).toHaveLength(1);
    s.apply({ op: 'remove', path: expired[0] as string });
    expect(s.chunks.has(h)).toBe(false); // orphaned chunk erased (¶74)
    s.invariants();
  });

  it('deleting a deleted file reclaims at once; a temp directory reclaims immediately with one replica (¶81, ¶117)', () => {
    const s = new MasterState();
    run(s, planCreate(ctx(s), '/tmp', 'dir'));
    run(s, planSetPolicy(ctx(s), '/tmp', 1, true));
    run(s, planCreate(ctx(s), '/tmp/x', 'file'));
    expect(s.policy('/tmp/x', 3)).toEqual({ replication: 1, reclaimImmediately: true });
    expect(planDelete(ctx(s), '/tmp/x', false)).toEqual({ ok: true, value: [{ op: 'remove', path: '/tmp/x' }] });
    run(s, planCreate(ctx(s), '/y', 'file'));
    run(s, planDelete(ctx(s), '/y', false));
    const hidden = findHidden(s, '/y') as string;
    expect(planDelete(ctx(s), hidden, false)).toEqual({ ok: true, value: [{ op: 'remove', path: hidden }] });
  });

  it('a non-empty directory is deleted only recursively', () => {
    const s = new MasterState();
    run(s, planCreate(ctx(s), '/d', 'dir'));
    run(s, planCreate(ctx(s), '/d/f', 'file'));
    expect(planDelete(ctx(s), '/d', false)).toMatchObject({ ok: false, error: { code: 'not_empty' } });
    run(s, planDelete(ctx(s), '/d', true));
    expect(s.get('/d')).toBeUndefined();
    expect(s.children('/').filter((p) => p.includes('.deleted.'))).toHaveLength(1);
    s.invariants();
  });

  it('snapshot duplicates metadata and shares chunks by reference count (¶112–113)', () => {
    const s = new MasterState();
    run(s, planCreate(ctx(s), '/src', 'dir'));
    run(s, planCreate(ctx(s), '/src/f', 'file'));
    const h = s.nextHandle();
    s.apply({ op: 'addChunk', path: '/src/f', index: 0, handle: h, version: 1, at: 1 });
    run(s, planSnapshot(ctx(s), '/src', '/snap'));
    expect(s.get('/snap/f')).toMatchObject({ kind: 'file', chunks: [h] });
    expect(s.chunks.get(h)?.refs).toBe(2);
    const c2 = s.nextHandle();
    s.apply({ op: 'cow', path: '/src/f', index: 0, from: h, to: c2, version: 1 });
    expect(s.chunks.get(h)?.refs).toBe(1);
    expect(s.get('/snap/f')).toMatchObject({ chunks: [h] });
    expect(s.get('/src/f')).toMatchObject({ chunks: [c2] });
    s.invariants();
  });

  it('chunk handles are 64-bit and encode the logical time (¶43–44), and survive a checkpoint round trip (¶49)', () => {
    const s = new MasterState();
    run(s, planCreate(ctx(s), '/f', 'file'));
    const h1 = s.nextHandle();
    s.apply({ op: 'addChunk', path: '/f', index: 0, handle: h1, version: 1, at: 1 });
    const h2 = s.nextHandle();
    expect(h2 > h1).toBe(true);
    expect(h1 >> 16n).toBe(1n);
    const back = MasterState.fromCheckpoint(structuredClone(s.toCheckpoint()));
    expect(back.get('/f')).toEqual(s.get('/f'));
    expect(back.chunks.get(h1)).toMatchObject({ version: 1, refs: 1 });
    expect(back.nextHandle() > h2 - 1n).toBe(true);
  });

  it('the lease holder is logged with each version bump and survives checkpoints; an older log leaves it unknown (M6)', () => {
    const s = new MasterState();
    run(s, planCreate(ctx(s), '/f', 'file'));
    const h = s.nextHandle();
    s.apply({ op: 'addChunk', path: '/f', index: 0, handle: h, version: 1, at: 1 });
    expect(s.chunks.get(h)?.leaseHolder).toBeUndefined();
    s.apply({ op: 'bumpVersion', handle: h, version: 2, primary: 'cs3' });
    expect(s.chunks.get(h)?.leaseHolder).toBe('cs3');
    expect(MasterState.fromCheckpoint(structuredClone(s.toCheckpoint())).chunks.get(h)?.leaseHolder).toBe('cs3');
    s.apply({ op: 'bumpVersion', handle: h, version: 3, primary: null }); // adopted from reports: no lease at it
    expect(MasterState.fromCheckpoint(structuredClone(s.toCheckpoint())).chunks.get(h)?.leaseHolder).toBeNull();
    s.apply({ op: 'bumpVersion', handle: h, version: 4 }); // a record from before holders were logged
    expect(s.chunks.get(h)?.leaseHolder).toBeUndefined();
    s.apply({ op: 'bumpVersion', handle: h, version: 4, primary: 'cs1' }); // not newer: changes nothing
    expect(s.chunks.get(h)?.leaseHolder).toBeUndefined();
  });
});

describe('leases (¶89–90): at most one primary per chunk (M6)', () => {
  it('grants, extends while held, and refuses a second grant until the first surely ended', () => {
    const t = new LeaseTable(60_000, 1_000, 0, false);
    const l = t.grant(1n, 'cs1', 2, 0);
    expect(l.expiresAt).toBe(60_000);
    expect(t.extend(1n, 'cs1', 30_000)?.expiresAt).toBe(90_000);
    expect(t.extend(1n, 'cs2', 30_000)).toBeUndefined();
    expect(t.grantableAt(1n, 40_000)).toBe(91_000);
    expect(() => t.grant(1n, 'cs2', 3, 40_000)).toThrow(/M6/);
    expect(t.current(1n, 91_000)).toBeUndefined();
    expect(t.grant(1n, 'cs2', 3, 91_000).primary).toBe('cs2');
  });

  it('after a master restart no lease is granted until any earlier one must have expired, unless the log says who could hold it', () => {
    const t = new LeaseTable(60_000, 1_000, 5_000, true);
    expect(t.grantableAt(7n, 5_000)).toBe(66_000);
    expect(t.grantableAt(7n, 5_000, undefined)).toBe(66_000); // holder unknown (an older log): any replica may hold it
    expect(t.grantableAt(7n, 5_000, null)).toBe(5_000); // no lease granted at the current version
    expect(t.grantableAt(7n, 5_000, 'cs1')).toBe(66_000); // cs1 has not reported its leases yet
    t.holderReported('cs1', 6_000);
    expect(t.grantableAt(7n, 6_000, 'cs1')).toBe(6_000);
    expect(t.grantableAt(8n, 6_000, 'cs2')).toBe(66_000);
    expect(t.grantableAt(8n, 66_000, 'cs2')).toBe(66_000);
  });

  it('a reported lease is adopted with the time it had left: grants wait for it and the skew margin; its primary may extend it', () => {
    const t = new LeaseTable(60_000, 1_000, 0, true);
    t.adopt(7n, 'cs1', 4, 30_000, 10_000);
    t.holderReported('cs1', 10_000);
    expect(t.grantableAt(7n, 10_000, 'cs1')).toBe(31_000);
    expect(() => t.grant(7n, 'cs2', 5, 20_000, 'cs1')).toThrow(/M6/);
    expect(t.extend(7n, 'cs1', 20_000)?.expiresAt).toBe(80_000);
    // A later report never shortens what the table holds.
    t.adopt(7n, 'cs1', 4, 25_000, 20_000);
    expect(t.current(7n, 20_000)?.expiresAt).toBe(80_000);
    expect(t.grant(7n, 'cs2', 5, 81_000, 'cs1').primary).toBe('cs2');
  });

  it('a chunk this incarnation leased itself is not waited for again, whoever held it before', () => {
    const t = new LeaseTable(10_000, 500, 0, true);
    t.holderReported('cs1', 0);
    const l = t.grant(7n, 'cs2', 3, 100, 'cs1');
    expect(t.grantableAt(7n, l.expiresAt + 500, 'cs2')).toBe(l.expiresAt + 500);
  });
});

describe('placement (¶61–65)', () => {
  const server = (id: string, rack: string, used: number, recent = 0): ServerView => ({ id, rack, usedBytes: used, capacityBytes: 100, recentCreations: recent, eligible: true });

  it('prefers below-average utilization and spreads replicas across racks', () => {
    const servers = [server('a1', 'A', 10), server('a2', 'A', 20), server('b1', 'B', 90), server('b2', 'B', 30), server('c1', 'C', 80)];
    expect(choosePlacement(servers, 3, { recentCreationsMax: 8 })).toEqual(['a1', 'b2', 'c1']);
  });

  it('avoids servers with many recent creations (¶62)', () => {
    const servers = [server('a', 'A', 10, 8), server('b', 'B', 20), server('c', 'C', 30)];
    expect(choosePlacement(servers, 1, { recentCreationsMax: 8 })).toEqual(['b']);
  });

  it('rebalancing moves replicas from the fullest to the emptiest server, a few per pass (¶70–71)', () => {
    const servers = [server('full', 'A', 90), server('mid', 'B', 50), server('new', 'C', 0)];
    const moves = planRebalance(servers, (id) => (id === 'full' ? [1n, 2n, 3n] : []), () => new Set(['full']), { threshold: 0.1, movesMax: 2, rackOf: () => 'A' });
    expect(moves).toEqual([
      { handle: 1n, from: 'full', to: 'new' },
      { handle: 2n, from: 'full', to: 'new' },
    ]);
  });
});

describe('re-replication (¶66–69)', () => {
  const chunk = (handle: bigint, live: string[], extra: Partial<UnderReplicated> = {}): UnderReplicated => ({ handle, version: 1, goal: 3, live, deletedOnly: false, blockingClient: false, ...extra });
  const targets = (_c: UnderReplicated, n: number, exclude: ReadonlySet<string>) => ['t1', 't2', 't3', 't4'].filter((t) => !exclude.has(t)).slice(0, n);

  it('orders by blocking clients, then replicas missing, then live before deleted files (¶68)', () => {
    const plans = planClones(
      [chunk(1n, ['s1', 's2'], { deletedOnly: true }), chunk(2n, ['s1', 's2']), chunk(3n, ['s3']), chunk(4n, ['s4', 's5'], { blockingClient: true })],
      new Map(),
      { totalMax: 100, perServerMax: 100 },
      targets,
    );
    expect([...new Set(plans.map((p) => p.handle))]).toEqual([4n, 3n, 2n, 1n]);
  });

  it('never exceeds the clone limits in total and per server (¶69)', () => {
    const many = Array.from({ length: 20 }, (_, i) => chunk(BigInt(i + 1), [`s${i % 3}`]));
    const plans = planClones(many, new Map([['t1', 1]]), { totalMax: 5, perServerMax: 2 }, targets);
    expect(plans.length).toBeLessThanOrEqual(5);
    const load = new Map<string, number>([['t1', 1]]);
    for (const p of plans) for (const s of [p.source, p.target]) load.set(s, (load.get(s) ?? 0) + 1);
    for (const [s, n] of load) expect(n, s).toBeLessThanOrEqual(2);
  });

  it('skips chunks with no valid replica to copy from', () => {
    expect(planClones([chunk(1n, [])], new Map(), { totalMax: 5, perServerMax: 2 }, targets)).toEqual([]);
  });
});
