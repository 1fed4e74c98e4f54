/**
 * The object store's crash-at-every-point check, shared by the store's tests (object-store.test.ts)
 * and the incremental-checkpoint tests: a seeded workload of random transactions (each sets
 * meta/seq = its index) runs on a disk that crashes at its p-th write or fsync, for every p; the
 * reopened store must hold exactly the first k transactions with every committed one among them.
 */
import { seededRandom, type Random } from '../../../src/runtime/random.js';
import type { Disk } from '../../../src/storage/disk.js';
import { ObjectStore, type Transaction } from '../../../src/storage/object-store.js';
import { SimDisk } from '../../../src/storage/sim/sim-disk.js';
import type { DiskKind } from './helpers.js';

type OpenOptions = Parameters<typeof ObjectStore.open>[1];

export interface CrashWorkload {
  /** How the store under test is opened (before and after the crash). */
  readonly options: OpenOptions;
  /** How the model (a store that never crashes) is opened. */
  readonly modelOptions: OpenOptions;
  /** A transaction valid against the store's state; it must set meta/seq to `index`. */
  readonly randomTransaction: (r: Random, store: ObjectStore, index: number) => Transaction;
  /** Transactions submitted at once per step, drawn from this range. */
  readonly burst: readonly [number, number];
  /** Besides the automatic checkpoints, one in this many steps asks for one (while transactions are in flight); absent: never. */
  readonly checkpointOneIn?: number;
  /** After the prefix check, the recovered store must keep working: one more transaction, a checkpoint and a reopen keep its state. */
  readonly checkAfterRecovery?: boolean;
}

/** Every collection, object, byte and attribute of a store, as text (stores compare by it). */
export function dumpStore(store: ObjectStore): string {
  const hex = (b: Uint8Array | undefined): string => (b === undefined ? '-' : Buffer.from(b).toString('hex'));
  const out: Record<string, unknown> = {};
  for (const cid of store.listCollections()) {
    const objects: Record<string, unknown> = {};
    for (const oid of store.listObjects(cid)) {
      const attrs = [...store.getAttrs(cid, oid)].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}=${hex(v)}`);
      objects[oid] = { data: hex(store.read(cid, oid)), attrs };
    }
    out[cid] = { seq: hex(store.collectionAttr(cid, 'seq')), objects };
  }
  return JSON.stringify(out);
}

/** Runs the workload until it ends or the disk crashes; `out` records what was submitted and how many committed. */
export async function crashWorkload(w: CrashWorkload, disk: Disk, seed: number, steps: number, out: { txns: Transaction[]; committed: number }): Promise<void> {
  const r = seededRandom(seed);
  try {
    const store = await ObjectStore.open(disk, w.options);
    for (let i = 0; i < steps; i++) {
      const waits: Promise<void>[] = [];
      for (let j = r.range(w.burst[0], w.burst[1]); j > 0; j--) {
        const index = out.txns.length;
        const txn = w.randomTransaction(r, store, index);
        out.txns.push(txn);
        const h = store.submit(txn);
        await h.applied;
        const done = h.committed.then(() => void (out.committed = Math.max(out.committed, index + 1)));
        // Handled now: it may reject (a crash) while the next transaction is being applied.
        done.catch(() => undefined);
        waits.push(done);
      }
      if (w.checkpointOneIn !== undefined && r.int(w.checkpointOneIn) === 0) await store.checkpoint();
      await Promise.all(waits);
    }
    await store.close();
  } catch {
    // crashed
  }
}

/** The workload crashed at each of its disk's write and fsync points in turn; the violations found. */
export async function crashAtEveryPoint(w: CrashWorkload, kind: DiskKind, seed: number, steps: number): Promise<{ points: number; violations: string[] }> {
  const dry = await kind.makeCrashing(seed, undefined);
  await crashWorkload(w, dry.disk, seed, steps, { txns: [], committed: 0 });
  const points = dry.disk.points;
  await dry.dispose();
  const violations: string[] = [];
  for (let p = 1; p <= points; p++) {
    const c = await kind.makeCrashing(seed * 1000 + p, p);
    try {
      const out = { txns: [] as Transaction[], committed: 0 };
      await crashWorkload(w, c.disk, seed, steps, out);
      const after = await c.crashed();
      const recovered = await ObjectStore.open(after, w.options);
      const seqBytes = recovered.hasCollection('meta') ? recovered.collectionAttr('meta', 'seq') : undefined;
      const k = seqBytes === undefined ? 0 : Number(new TextDecoder().decode(seqBytes)) + 1;
      if (k < out.committed) violations.push(`point ${p}: recovered ${k} transactions but ${out.committed} were committed`);
      if (k > out.txns.length) violations.push(`point ${p}: recovered ${k} transactions but only ${out.txns.length} were submitted`);
      // The recovered state must equal the state after exactly the first k transactions.
      const model = await ObjectStore.open(new SimDisk({ random: seededRandom(0) }), w.modelOptions);
      for (const t of out.txns.slice(0, k)) await model.submit(t).applied;
      if (dumpStore(model) !== dumpStore(recovered)) violations.push(`point ${p}: recovered state differs from the state after the first ${k} transactions`);
      await model.close();
      if (w.checkAfterRecovery === true) {
        await recovered.submit({ ops: [{ op: 'createCollection', cid: `after-${p}` }] }).committed;
        await recovered.checkpoint();
        const expected = dumpStore(recovered);
        await recovered.close();
        const again = await ObjectStore.open(after, w.options);
        if (dumpStore(again) !== expected) violations.push(`point ${p}: a checkpoint after recovery lost data`);
        await again.close();
      } else {
        await recovered.close();
      }
    } finally {
      await c.dispose();
    }
  }
  return { points, violations };
}
