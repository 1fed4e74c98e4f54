import { afterEach, describe, expect, it } from 'vitest';
import { seededRandom, type Random } from '../../../src/runtime/random.js';
import { isStorageError } from '../../../src/storage/errors.js';
import { ObjectStore, type Transaction, type TransactionOp } from '../../../src/storage/object-store.js';
import { SimDisk } from '../../../src/storage/sim/sim-disk.js';
import { bytesOf, diskKinds, testSeeds, type DiskUnderTest } from './helpers.js';
import { crashAtEveryPoint, dumpStore as dump, type CrashWorkload } from './object-store-crash.js';

const storeOptions = { dir: 'osd', logConfig: { segmentMaxBytes: 2048 }, config: { checkpointEveryLogBytes: 3000 }, checkpointConfig: { checkpointsKept: 2 } };

for (const kind of diskKinds) {
  describe(`object store on the ${kind.name} disk (thesis ch. 7, §6.3.2)`, () => {
    let d: DiskUnderTest;
    afterEach(async () => d.dispose());

    it('objects with data and attributes in collections survive reopening, through checkpoints and the log', async () => {
      d = await kind.make(1);
      const store = await ObjectStore.open(d.disk, storeOptions);
      await store.submit({ ops: [{ op: 'createCollection', cid: 'pg.1' }, { op: 'setCollectionAttr', cid: 'pg.1', name: 'seq', value: bytesOf('1') }] }).committed;
      for (let i = 0; i < 30; i++) {
        const h = store.submit({
          ops: [
            { op: 'write', cid: 'pg.1', oid: `obj${i % 7}`, offsetBytes: i * 10, data: bytesOf(`data ${i}`) },
            { op: 'setAttr', cid: 'pg.1', oid: `obj${i % 7}`, name: 'version', value: bytesOf(String(i)) },
          ],
        });
        await h.committed;
      }
      await store.checkpoint();
      await store.submit({ ops: [{ op: 'remove', cid: 'pg.1', oid: 'obj3' }, { op: 'truncate', cid: 'pg.1', oid: 'obj1', sizeBytes: 5 }] }).committed;
      const before = dump(store);
      expect(store.listObjects('pg.1')).toEqual(['obj0', 'obj1', 'obj2', 'obj4', 'obj5', 'obj6']);
      expect(new TextDecoder().decode(store.read('pg.1', 'obj1'))).toBe('\0\0\0\0\0');
      await store.close();
      const again = await ObjectStore.open(await d.reopen(), storeOptions);
      expect(dump(again)).toBe(before);
      await again.close();
    });

    it('a transaction is atomic: when one operation is invalid nothing of it is applied, and both notifications reject', async () => {
      d = await kind.make(2);
      const store = await ObjectStore.open(d.disk, storeOptions);
      await store.submit({ ops: [{ op: 'createCollection', cid: 'pg' }, { op: 'write', cid: 'pg', oid: 'a', offsetBytes: 0, data: bytesOf('keep') }] }).committed;
      const before = dump(store);
      const h = store.submit({
        ops: [
          { op: 'write', cid: 'pg', oid: 'a', offsetBytes: 0, data: bytesOf('lost') },
          { op: 'setAttr', cid: 'pg', oid: 'a', name: 'x', value: bytesOf('y') },
          { op: 'createCollection', cid: 'pg2' },
          { op: 'remove', cid: 'pg', oid: 'missing' },
        ],
      });
      await expect(h.applied).rejects.toSatisfy((e) => isStorageError(e, 'invalid_transaction'));
      await expect(h.committed).rejects.toSatisfy((e) => isStorageError(e, 'invalid_transaction'));
      expect(dump(store)).toBe(before);
      expect(store.hasCollection('pg2')).toBe(false);
      await store.close();
      const again = await ObjectStore.open(await d.reopen(), storeOptions);
      expect(dump(again)).toBe(before);
      await again.close();
    });

    it('applied (ack) comes before committed (durable), and reads see applied changes at once (thesis §6.3.2)', async () => {
      d = await kind.make(3);
      const store = await ObjectStore.open(d.disk, storeOptions);
      const order: string[] = [];
      const h = store.submit({ ops: [{ op: 'createCollection', cid: 'pg' }, { op: 'touch', cid: 'pg', oid: 'o' }] });
      expect(store.stat('pg', 'o')).toEqual({ sizeBytes: 0 });
      await Promise.all([h.applied.then(() => order.push('applied')), h.committed.then(() => order.push('committed'))]);
      expect(order).toEqual(['applied', 'committed']);
      await store.close();
    });
  });
}

describe('object store durability and limits', () => {
  it('only committed transactions are promised after a crash; an applied but uncommitted one may be rolled back (EBOFS, thesis §7.3)', async () => {
    const sim = new SimDisk({ random: seededRandom(4), unsyncedOnCrash: 'drop' });
    const store = await ObjectStore.open(sim, storeOptions);
    await store.submit({ ops: [{ op: 'createCollection', cid: 'pg' }] }).committed;
    const h = store.submit({ ops: [{ op: 'touch', cid: 'pg', oid: 'uncommitted' }] });
    await h.applied;
    expect(store.listObjects('pg')).toEqual(['uncommitted']);
    const after = await ObjectStore.open(sim.crash(), storeOptions);
    expect(after.listObjects('pg')).toEqual([]);
  });

  it('a transaction that would exceed storeMaxBytes fails with no_space and changes nothing', async () => {
    const store = await ObjectStore.open(new SimDisk({ random: seededRandom(5) }), { ...storeOptions, config: { storeMaxBytes: 100 } });
    await store.submit({ ops: [{ op: 'createCollection', cid: 'pg' }, { op: 'write', cid: 'pg', oid: 'a', offsetBytes: 0, data: new Uint8Array(60) }] }).committed;
    const h = store.submit({ ops: [{ op: 'write', cid: 'pg', oid: 'b', offsetBytes: 0, data: new Uint8Array(30) }, { op: 'write', cid: 'pg', oid: 'c', offsetBytes: 0, data: new Uint8Array(30) }] });
    await expect(h.applied).rejects.toSatisfy((e) => isStorageError(e, 'no_space'));
    expect(store.listObjects('pg')).toEqual(['a']);
    expect(store.usedSpaceBytes).toBe(60);
    await store.close();
  });
});

/** A random transaction that is valid against the current state; it also sets meta/seq = index. */
function randomTransaction(r: Random, store: ObjectStore, index: number): Transaction {
  const ops: TransactionOp[] = [];
  const pgs = ['pg.0', 'pg.1', 'pg.2'];
  if (!store.hasCollection('meta')) {
    ops.push({ op: 'createCollection', cid: 'meta' });
    for (const pg of pgs) ops.push({ op: 'createCollection', cid: pg });
  }
  const n = r.range(1, 4);
  const removed = new Set<string>();
  for (let i = 0; i < n; i++) {
    const cid = r.pick(pgs);
    const oid = `o${r.int(6)}`;
    const exists = store.hasCollection(cid) && store.stat(cid, oid) !== undefined && !removed.has(`${cid}/${oid}`);
    const choice = r.int(4);
    if (choice === 0 || !exists) ops.push({ op: 'write', cid, oid, offsetBytes: r.int(200), data: r.bytes(r.range(1, 150)) });
    else if (choice === 1) ops.push({ op: 'setAttr', cid, oid, name: `a${r.int(3)}`, value: r.bytes(r.int(20)) });
    else if (choice === 2) ops.push({ op: 'truncate', cid, oid, sizeBytes: r.int(100) });
    else {
      ops.push({ op: 'remove', cid, oid });
      removed.add(`${cid}/${oid}`);
    }
    if (choice === 3) break;
  }
  ops.push({ op: 'setCollectionAttr', cid: 'meta', name: 'seq', value: bytesOf(String(index)) });
  return { ops };
}

const storeWorkload: CrashWorkload = { options: storeOptions, modelOptions: storeOptions, randomTransaction, burst: [1, 4] };

describe('object store crash at every write and fsync point (issue 4 item 6)', () => {
  for (const kind of diskKinds) {
    for (const seed of testSeeds(kind.name === 'sim' ? [1, 2] : [1])) {
      it(`on the ${kind.name} disk, seed ${seed}: recovery gives the state after a prefix of the applied transactions holding every committed one`, async () => {
        const { points, violations } = await crashAtEveryPoint(storeWorkload, kind, seed, kind.name === 'sim' ? 30 : 10);
        expect(points).toBeGreaterThan(15);
        expect(violations, `STORAGE_SEED=${seed}`).toEqual([]);
      });
    }
  }
});
