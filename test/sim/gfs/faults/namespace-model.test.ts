/**
 * The namespace model against the real master (issue #9 (c)): it answers as the master does, a
 * concurrent history of real clients is linearizable under it, and planted violations in real
 * histories are caught and named.
 */
import { describe, expect, it } from 'vitest';
import { checkLinearizable, History, simSeeds, withSeed, type HistoryOp } from '../../../../src/testkit.js';
import type { GfsClient } from '../../../../src/actors/gfs/client/client.js';
import { realCluster } from '../cluster.js';
import {
  callNamespaceOp,
  describeNamespaceOp,
  namespaceModel,
  recordNamespaceOutcome,
  settleNamespaceCall,
  type NamespaceEntry,
  type NamespaceInput,
  type NamespaceModelOptions,
  type NamespaceOutput,
} from './namespace-model.js';
import { seededRandom } from '../../../../src/runtime/random.js';

/** Deleted files must outlive the run: the model never reclaims them. */
const config = { deletedRetentionMs: 10 * 365 * 24 * 3600 * 1000 };

/** A seeded source of numbers in [0, 1). */
function uniform(seed: number): () => number {
  const r = seededRandom(seed);
  return () => r.next();
}

/**
 * Random namespace operations over a small tree (a few names up to depth `depthMax`), so they
 * collide: existing paths, missing parents, files where directories are expected, renames into
 * themselves, undeletes of names deleted and re-created — and a few malformed paths.
 */
function generator(seed: number, depthMax: number, names: readonly string[] = ['a', 'b', 'c', 'd']): () => NamespaceInput {
  const rnd = uniform(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const invalid = ['', 'a', '/a/', '/a//b', '/a/./b', '/a/../b', `/${'x'.repeat(5_000)}`, '/.deleted.1.a'];
  const path = (): string => {
    if (rnd() < 0.03) return pick(invalid);
    if (rnd() < 0.02) return '/';
    // Mostly shallow, so parents exist often enough for the operations to succeed.
    const depth = Math.min(depthMax, 1 + Math.floor(-Math.log2(1 - rnd() * 0.99) / 1.2));
    let p = '';
    for (let k = 0; k < depth; k++) p += `/${pick(names)}`;
    return p;
  };
  // Recently named paths, so renames, snapshots and undeletes often name something that exists.
  const made: string[] = [];
  const deleted: string[] = [];
  const remember = (list: string[], p: string): string => {
    list.push(p);
    if (list.length > 8) list.shift();
    return p;
  };
  const recent = (list: readonly string[]): string => (list.length > 0 && rnd() < 0.7 ? pick(list) : path());
  const sibling = (p: string): string => (rnd() < 0.7 && p.lastIndexOf('/') >= 0 ? `${p.slice(0, p.lastIndexOf('/'))}/${pick(names)}${pick(['', '2'])}` : path());
  return () => {
    const r = rnd();
    if (r < 0.18) return { op: 'mkdir', path: remember(made, path()) };
    if (r < 0.34) return { op: 'create', path: remember(made, path()) };
    if (r < 0.46) return { op: 'delete', path: remember(deleted, rnd() < 0.5 ? recent(made) : path()), ...(rnd() < 0.3 ? { recursive: true } : {}) };
    if (r < 0.56) return { op: 'undelete', path: recent(deleted) };
    if (r < 0.65) {
      const from = recent(made);
      return { op: 'rename', from, to: remember(made, sibling(from)) };
    }
    if (r < 0.73) {
      const source = recent(made);
      return { op: 'snapshot', source, target: remember(made, sibling(source)) };
    }
    if (r < 0.88) return { op: 'list', path: rnd() < 0.5 ? recent(made) : path() };
    return { op: 'stat', path: rnd() < 0.5 ? recent(made) : path() };
  };
}

type Op = HistoryOp<NamespaceInput, NamespaceOutput>;

function newHistory(): History<NamespaceInput, NamespaceOutput> {
  return new History<NamespaceInput, NamespaceOutput>({ describe: describeNamespaceOp });
}

/** Runs `count` operations from one client, one after another, recording them. */
async function runSequential(seed: number, count: number): Promise<History<NamespaceInput, NamespaceOutput>> {
  const c = realCluster({ seed, config });
  await c.sim.run({ forMs: 1_000 });
  const client = c.client('seq');
  const next = generator(seed, 3);
  const h = newHistory();
  for (let k = 0; k < count; k++) {
    const input = next();
    const id = h.invoke('seq', input, c.sim.now);
    recordNamespaceOutcome(h, id, await c.run(settleNamespaceCall(callNamespaceOp(client, input))), c.sim.now);
  }
  return h;
}

/** Four clients issue operations concurrently on a small shared tree, with short random pauses. */
async function runConcurrent(seed: number, perClient: number): Promise<History<NamespaceInput, NamespaceOutput>> {
  const c = realCluster({ seed, config });
  await c.sim.run({ forMs: 1_000 });
  const h = newHistory();
  const worker = async (client: GfsClient, name: string, k: number): Promise<void> => {
    const rnd = uniform(seed * 31 + k);
    const next = generator(seed * 17 + k, 2, ['a', 'b', 'c']);
    for (let n = 0; n < perClient; n++) {
      await new Promise<void>((resolve) => client.after(rnd() * 2, resolve));
      const input = next();
      const id = h.invoke(name, input, c.sim.now);
      recordNamespaceOutcome(h, id, await settleNamespaceCall(callNamespaceOp(client, input)), c.sim.now);
    }
  };
  const clients = [0, 1, 2, 3].map((k) => ({ name: `client${k}`, client: c.client(`client${k}`), k }));
  await c.run(Promise.all(clients.map((w) => worker(w.client, w.name, w.k))));
  return h;
}

/** Replays a sequential history through the model; returns the first disagreement. */
function firstDisagreement(ops: readonly Op[], options: NamespaceModelOptions = {}): { op: Op; expected: NamespaceOutput } | undefined {
  const model = namespaceModel(options);
  let s = model.init();
  for (const op of ops) {
    const r = model.step(s, op.input);
    if (op.status === 'info' || op.output === undefined || !model.equal(r.output, op.output)) return { op, expected: r.output };
    s = r.state;
  }
  return undefined;
}

const counts = (ops: readonly Op[]): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const op of ops) {
    const k = `${op.input.op} ${op.output?.code ?? op.status}`;
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
};

describe('GFS namespace model (issue #9 (c))', () => {
  const defaultSeeds = [1, 2, 3];
  for (const seed of simSeeds(defaultSeeds)) {
    it(`answers every operation of a random sequential run as the real master does (seed ${seed})`, async () => {
      await withSeed(seed, async () => {
        const h = await runSequential(seed, 500);
        const ops = h.ops();
        const bad = firstDisagreement(ops);
        if (bad !== undefined) {
          const from = Math.max(0, bad.op.id - 15);
          throw new Error(`the model answers ${describeNamespaceOp(bad.op.input, bad.expected)} but the master answered:\n${h.format([bad.op.id])}\nafter:\n${h.format(ops.slice(from, bad.op.id).map((o) => o.id))}`);
        }
        // The runs exercise the interesting answers: every operation succeeded sometimes, and the
        // errors came up. A property of the generator, checked on the fixed seeds (some other seeds miss one).
        if (!defaultSeeds.includes(seed)) return;
        const seen = counts(ops);
        const oks = new Set(ops.filter((op) => op.output?.code === 'ok').map((op) => op.input.op));
        const codes = new Set(ops.map((op) => op.output?.code));
        expect([...oks].sort(), JSON.stringify(seen)).toEqual(['create', 'delete', 'list', 'mkdir', 'rename', 'snapshot', 'stat', 'undelete']);
        // (not_empty is rarer in a sparse tree; the deletion tests below cover it.)
        for (const code of ['invalid_path', 'not_found', 'already_exists', 'not_a_directory', 'name_taken'] as const) expect(codes.has(code), `${code} in ${JSON.stringify(seen)}`).toBe(true);
      });
    });

    it(`a concurrent run of 4 clients against the real master is linearizable (seed ${seed})`, async () => {
      await withSeed(seed, async () => {
        const h = await runConcurrent(seed, 60);
        expect(h.ops().every((op) => op.status === 'ok' || op.status === 'fail')).toBe(true);
        const r = checkLinearizable(h.ops(), namespaceModel());
        if (r.ok !== true) throw new Error(`${r.reason}\n\nhistory:\n${h.format()}`);
        expect(r.opsChecked).toBe(240);
      });
    });
  }

  it('catches a create of an existing path that answered ok, naming the operation', async () => {
    const h = await runSequential(4, 300);
    const ops = h.ops().map((op) => ({ ...op }));
    const victim = ops.find((op) => op.input.op === 'create' && op.output?.code === 'already_exists') as Op;
    expect(victim).toBeDefined();
    victim.status = 'ok';
    victim.output = { code: 'ok' };
    const r = checkLinearizable(ops, namespaceModel());
    expect(r.ok).toBe(false);
    if (r.ok !== false) return;
    expect(r.stuckAt).toEqual([victim.id]);
    // One client: everything before the bad answer linearizes, in order, and nothing after it can.
    expect(r.longestPrefix).toEqual(ops.slice(0, victim.id).map((op) => op.id));
    expect(r.reason).toContain(`#${victim.id} seq `);
    expect(r.reason).toContain('the model answers: create');
    expect(r.reason).toContain('⇒ already_exists');
  });

  it('catches a listing that omits a file whose create completed before it, in a concurrent history', async () => {
    const h = await runConcurrent(5, 60);
    const ops = h.ops().map((op) => ({ ...op }));
    const reads = new Set(['list', 'stat']);
    const within = (p: string, d: string): boolean => d === '/' || p === d || p.startsWith(`${d}/`);
    const paths = (i: NamespaceInput): string[] => (i.op === 'rename' ? [i.from, i.to] : i.op === 'snapshot' ? [i.source, i.target] : [i.path]);
    const overlaps = (a: Op, b: Op): boolean => !((a.completedAt as number) < b.invokedAt || a.invokedAt > (b.completedAt as number));
    // A listing whose first entry no overlapping mutation touched: dropping that entry cannot be explained.
    const victim = ops.find((op) => {
      if (op.input.op !== 'list' || !Array.isArray(op.output?.value) || op.output.value.length === 0) return false;
      const first = op.output.value[0] as NamespaceEntry;
      const entry = op.input.path === '/' ? `/${first.name}` : `${op.input.path}/${first.name}`;
      return ops.every((o) => o === op || reads.has(o.input.op) || !overlaps(o, op) || paths(o.input).every((q) => !within(q, entry) && !within(entry, q)));
    }) as Op;
    const value = victim.output?.value as readonly NamespaceEntry[];
    victim.output = { code: 'ok', value: value.slice(1) };
    const r = checkLinearizable(ops, namespaceModel());
    expect(r.ok).toBe(false);
    if (r.ok !== false) return;
    expect(r.stuckAt).toContain(victim.id);
    expect(r.reason).toContain(`#${victim.id} `);
  });

  it('catches a stat that still sees a file after its delete completed', async () => {
    const h = await runSequential(6, 300);
    const ops = h.ops().map((op) => ({ ...op }));
    const victim = ops.find((op) => op.input.op === 'stat' && op.output?.code === 'not_found' && op.input.path !== '/' && !op.input.path.includes('.')) as Op;
    expect(victim).toBeDefined();
    victim.status = 'ok';
    victim.output = { code: 'ok', value: 'file' };
    const r = checkLinearizable(ops, namespaceModel());
    expect(r.ok).toBe(false);
    if (r.ok === false) expect(r.stuckAt).toEqual([victim.id]);
  });
});

/** Runs a few operations on a fresh master, returning the answers. */
async function onMaster(inputs: readonly NamespaceInput[]): Promise<NamespaceOutput[]> {
  const c = realCluster({ seed: 9, config });
  await c.sim.run({ forMs: 1_000 });
  const client = c.client();
  const out: NamespaceOutput[] = [];
  for (const i of inputs) {
    const o = await c.run(settleNamespaceCall(callNamespaceOp(client, i)));
    out.push(o.status === 'info' ? { code: 'io_error' } : o.output);
  }
  return out;
}

function onModel(inputs: readonly NamespaceInput[], options: NamespaceModelOptions = {}): NamespaceOutput[] {
  const m = namespaceModel(options);
  let s = m.init();
  return inputs.map((i) => {
    const r = m.step(s, i);
    s = r.state;
    return r.output;
  });
}

describe('GFS namespace model: deletion and undeletion (¶72)', () => {
  it('undelete restores the most recently deleted node of that name, and refuses a taken name', async () => {
    const inputs: NamespaceInput[] = [
      { op: 'create', path: '/f' },
      { op: 'delete', path: '/f' },
      { op: 'mkdir', path: '/f' },
      { op: 'create', path: '/f/inside' },
      { op: 'delete', path: '/f' }, // not empty
      { op: 'delete', path: '/f', recursive: true },
      { op: 'list', path: '/' },
      { op: 'undelete', path: '/f' },
      { op: 'stat', path: '/f' },
      { op: 'list', path: '/f' },
      { op: 'undelete', path: '/f' }, // the file: its name is taken by the directory
      { op: 'rename', from: '/f', to: '/d' },
      { op: 'undelete', path: '/f' },
      { op: 'stat', path: '/f' },
      { op: 'undelete', path: '/f' }, // nothing left
    ];
    const expected: NamespaceOutput[] = [
      { code: 'ok' },
      { code: 'ok' },
      { code: 'ok' },
      { code: 'ok' },
      { code: 'not_empty' },
      { code: 'ok' },
      { code: 'ok', value: [] },
      { code: 'ok' },
      { code: 'ok', value: 'dir' },
      { code: 'ok', value: [{ name: 'inside', kind: 'file' }] },
      { code: 'name_taken' },
      { code: 'ok' },
      { code: 'ok' },
      { code: 'ok', value: 'file' },
      { code: 'not_found' },
    ];
    expect(onModel(inputs)).toEqual(expected);
    expect(await onMaster(inputs)).toEqual(expected);
  });

  it('a directory holding only deleted files is not empty: they are deleted with it and come back with it', async () => {
    const inputs: NamespaceInput[] = [
      { op: 'mkdir', path: '/d' },
      { op: 'create', path: '/d/f' },
      { op: 'delete', path: '/d/f' },
      { op: 'list', path: '/d' },
      { op: 'delete', path: '/d' },
      { op: 'delete', path: '/d', recursive: true },
      { op: 'undelete', path: '/d' },
      { op: 'undelete', path: '/d/f' },
      { op: 'list', path: '/d' },
    ];
    const expected: NamespaceOutput[] = [{ code: 'ok' }, { code: 'ok' }, { code: 'ok' }, { code: 'ok', value: [] }, { code: 'not_empty' }, { code: 'ok' }, { code: 'ok' }, { code: 'ok' }, { code: 'ok', value: [{ name: 'f', kind: 'file' }] }];
    expect(onModel(inputs)).toEqual(expected);
    expect(await onMaster(inputs)).toEqual(expected);
  });

  it('the state key is canonical: the same namespace reached in different orders has one key', () => {
    const m = namespaceModel();
    const run = (inputs: readonly NamespaceInput[]): string => m.key(inputs.reduce((s, i) => m.step(s, i).state, m.init()));
    const a = run([{ op: 'mkdir', path: '/x' }, { op: 'create', path: '/y' }, { op: 'create', path: '/x/z' }, { op: 'create', path: '/q' }, { op: 'delete', path: '/q' }]);
    const b = run([{ op: 'create', path: '/q' }, { op: 'create', path: '/y' }, { op: 'delete', path: '/q' }, { op: 'mkdir', path: '/x' }, { op: 'create', path: '/x/z' }]);
    expect(a).toBe(b);
    expect(run([{ op: 'create', path: '/q' }])).not.toBe(run([{ op: 'mkdir', path: '/q' }]));
  });

  // ----- three cases the master once got wrong (found writing this model; fixed) -----

  const afterParentRename: NamespaceInput[] = [
    { op: 'mkdir', path: '/a' },
    { op: 'create', path: '/a/f' },
    { op: 'delete', path: '/a/f' },
    { op: 'rename', from: '/a', to: '/b' },
    { op: 'undelete', path: '/b/f' },
  ];
  it('a deleted file moves with its directory and is undeleted under the new name (¶72), in the model and the master', async () => {
    expect(onModel(afterParentRename).at(-1)).toEqual({ code: 'ok' });
    expect(await onMaster(afterParentRename)).toEqual(onModel(afterParentRename));
  });

  const snapshotOfDeleted: NamespaceInput[] = [
    { op: 'mkdir', path: '/a' },
    { op: 'create', path: '/a/f' },
    { op: 'delete', path: '/a/f' },
    { op: 'snapshot', source: '/a', target: '/t' },
    { op: 'list', path: '/t' },
    { op: 'undelete', path: '/t/f' },
  ];
  it("a snapshot's copy of a deleted file stays deleted, and can be undeleted in the copy (¶72, ¶112)", async () => {
    expect(onModel(snapshotOfDeleted).slice(-2)).toEqual([{ code: 'ok', value: [] }, { code: 'ok' }]);
    expect(await onMaster(snapshotOfDeleted)).toEqual(onModel(snapshotOfDeleted));
  });

  const reservedName: NamespaceInput[] = [
    { op: 'create', path: '/.deleted.1.a' },
    { op: 'create', path: '/a' },
    { op: 'snapshot', source: '/a', target: '/.deleted.2.a' },
    { op: 'rename', from: '/a', to: '/.deleted.1.a' },
  ];
  it('names starting with .deleted. are reserved for deleted entries, for every operation', async () => {
    expect(onModel(reservedName)).toEqual([{ code: 'invalid_path' }, { code: 'ok' }, { code: 'invalid_path' }, { code: 'invalid_path' }]);
    expect(await onMaster(reservedName)).toEqual(onModel(reservedName));
  });
});
