import { encode } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import { seededRandom, type Random } from '../../../src/runtime/random.js';
import { CheckpointStore } from '../../../src/storage/checkpoint.js';
import type { Disk } from '../../../src/storage/disk.js';
import { ObjectStore, type Transaction, type TransactionOp } from '../../../src/storage/object-store.js';
import { OpLog } from '../../../src/storage/op-log.js';
import { SimDisk } from '../../../src/storage/sim/sim-disk.js';
import { bytesOf, diskKinds, testSeeds } from './helpers.js';
import { crashAtEveryPoint, dumpStore as dump, type CrashWorkload } from './object-store-crash.js';

/** Small pages and frequent checkpoints, so a short workload crosses many pages, checkpoints and compactions. */
const options = {
  dir: 'osd',
  logConfig: { segmentMaxBytes: 1024 },
  config: { pageBytes: 8, checkpointEveryLogBytes: 700, segmentCompactBelowLiveFraction: 0.5 },
  checkpointConfig: { checkpointsKept: 2 },
};

async function dataSegments(disk: Disk): Promise<{ name: string; sizeBytes: number }[]> {
  const out: { name: string; sizeBytes: number }[] = [];
  for (const name of await disk.list('osd')) {
    if (!name.startsWith('data-')) continue;
    out.push({ name, sizeBytes: (await disk.stat(`osd/${name}`))?.sizeBytes ?? -1 });
  }
  return out;
}

/** A transaction valid against the store's state, over a few objects spanning several pages; it sets meta/seq = index. */
function randomTransaction(r: Random, store: ObjectStore, index: number): Transaction {
  const ops: TransactionOp[] = [];
  if (!store.hasCollection('meta')) ops.push({ op: 'createCollection', cid: 'meta' }, { op: 'createCollection', cid: 'pg' });
  const oid = `o${r.int(4)}`;
  const exists = store.hasCollection('pg') && store.stat('pg', oid) !== undefined;
  const choice = r.int(6);
  if (choice <= 2 || !exists) ops.push({ op: 'write', cid: 'pg', oid, offsetBytes: r.int(80), data: r.bytes(r.range(1, 60)) });
  else if (choice === 3) ops.push({ op: 'truncate', cid: 'pg', oid, sizeBytes: r.int(90) });
  else if (choice === 4) ops.push({ op: 'setAttr', cid: 'pg', oid, name: `a${r.int(2)}`, value: r.bytes(r.int(10)) });
  else ops.push({ op: 'remove', cid: 'pg', oid });
  ops.push({ op: 'setCollectionAttr', cid: 'meta', name: 'seq', value: bytesOf(String(index)) });
  return { ops };
}

const checkpointWorkload: CrashWorkload = {
  options,
  modelOptions: { dir: 'model', config: { checkpointEveryLogBytes: 0 } },
  randomTransaction,
  burst: [1, 3],
  checkpointOneIn: 5,
  checkAfterRecovery: true,
};

describe('object store: incremental checkpoints (data segments of changed pages)', () => {
  it('a checkpoint writes only the pages changed since the previous one, and reopening reads them back', async () => {
    const disk = new SimDisk({ random: seededRandom(3) });
    const store = await ObjectStore.open(disk, { dir: 'osd', config: { pageBytes: 16, checkpointEveryLogBytes: 0 } });
    const big = Uint8Array.from({ length: 160 }, (_, i) => i);
    await store.submit({ ops: [{ op: 'createCollection', cid: 'pg' }, { op: 'write', cid: 'pg', oid: 'big', offsetBytes: 0, data: big }, { op: 'write', cid: 'pg', oid: 'cold', offsetBytes: 0, data: new Uint8Array(64).fill(5) }] }).committed;
    const first = await store.checkpoint();
    expect(await dataSegments(disk)).toEqual([{ name: `data-${String(first).padStart(16, '0')}`, sizeBytes: 160 + 64 }]);
    // Five bytes inside one page: the next checkpoint writes that page alone.
    await store.submit({ ops: [{ op: 'write', cid: 'pg', oid: 'big', offsetBytes: 50, data: bytesOf('hello') }] }).committed;
    const second = await store.checkpoint();
    const segs = await dataSegments(disk);
    expect(segs).toContainEqual({ name: `data-${String(second).padStart(16, '0')}`, sizeBytes: 16 });
    // Nothing logged since: no new checkpoint.
    expect(await store.checkpoint()).toBe(second);
    const expected = dump(store);
    await store.close();
    const reopened = await ObjectStore.open(disk, { dir: 'osd', config: { pageBytes: 16 } });
    expect(dump(reopened)).toBe(expected);
    expect(Buffer.from(reopened.read('pg', 'big', 48, 10)).toString('latin1')).toBe(`\x30\x31hello\x37\x38\x39`);
    await reopened.close();
    // Opened with another page size, the data is the same.
    const resized = await ObjectStore.open(disk, { dir: 'osd', config: { pageBytes: 5 } });
    expect(dump(resized)).toBe(expected);
    await resized.close();
  });

  it('a damaged page in the newest checkpoint: recovery falls back to the older checkpoint and the log after it (patent ¶51)', async () => {
    let disk = new SimDisk({ random: seededRandom(4) });
    const store = await ObjectStore.open(disk, { dir: 'osd', config: { pageBytes: 16, checkpointEveryLogBytes: 0 }, checkpointConfig: { checkpointsKept: 2 } });
    await store.submit({ ops: [{ op: 'createCollection', cid: 'pg' }, { op: 'write', cid: 'pg', oid: 'a', offsetBytes: 0, data: new Uint8Array(40).fill(1) }] }).committed;
    await store.checkpoint();
    await store.submit({ ops: [{ op: 'write', cid: 'pg', oid: 'b', offsetBytes: 0, data: new Uint8Array(40).fill(2) }] }).committed;
    const newest = await store.checkpoint();
    const expected = dump(store);
    await store.close();
    disk = disk.crash();
    disk.flipBit(`osd/data-${String(newest).padStart(16, '0')}`, 8 * 20 + 3);
    const recovered = await ObjectStore.open(disk, { dir: 'osd', config: { pageBytes: 16 }, checkpointConfig: { checkpointsKept: 2 } });
    expect(dump(recovered)).toBe(expected);
    await recovered.close();
  });

  it('data segments stay bounded while the same objects are overwritten again and again (compaction)', async () => {
    const disk = new SimDisk({ random: seededRandom(5) });
    const fraction = 0.5;
    const kept = 2;
    const store = await ObjectStore.open(disk, { dir: 'osd', config: { pageBytes: 8, checkpointEveryLogBytes: 0, segmentCompactBelowLiveFraction: fraction }, checkpointConfig: { checkpointsKept: kept } });
    await store.submit({ ops: [{ op: 'createCollection', cid: 'pg' }] }).committed;
    const r = seededRandom(6);
    const live = 4 * 64;
    for (let round = 0; round < 40; round++) {
      // One object rewritten a little each round, so old segments keep a few live pages each.
      const ops: TransactionOp[] = [];
      for (let o = 0; o < 4; o++) {
        if (round === 0) ops.push({ op: 'write', cid: 'pg', oid: `o${o}`, offsetBytes: 0, data: r.bytes(64) });
        else if (r.int(2) === 0) ops.push({ op: 'write', cid: 'pg', oid: `o${o}`, offsetBytes: 8 * r.int(8), data: r.bytes(8) });
      }
      if (ops.length > 0) await store.submit({ ops }).committed;
      await store.checkpoint();
      const onDisk = (await dataSegments(disk)).reduce((n, s) => n + s.sizeBytes, 0);
      expect(onDisk, `round ${round}`).toBeLessThanOrEqual((kept * live) / fraction);
    }
    const expected = dump(store);
    await store.close();
    const reopened = await ObjectStore.open(disk, { dir: 'osd', config: { pageBytes: 8 } });
    expect(dump(reopened)).toBe(expected);
    await reopened.close();
  });

  it('a store written in the earlier format (whole-state checkpoint, msgpack records) opens with its data', async () => {
    const disk = new SimDisk({ random: seededRandom(7) });
    const oldState = [['pg', [['seq', bytesOf('7')]], [['a', bytesOf('old object'), [['v', bytesOf('1')]]]]]];
    await new CheckpointStore(disk, 'osd').write(5, encode(oldState));
    const log = await OpLog.open(disk, { dir: 'osd', afterLsn: 5 });
    await log.append(encode([{ op: 'write', cid: 'pg', oid: 'b', offsetBytes: 2, data: bytesOf('new') }]));
    await log.close();
    const store = await ObjectStore.open(disk, { dir: 'osd', config: { pageBytes: 4 } });
    expect(new TextDecoder().decode(store.read('pg', 'a'))).toBe('old object');
    expect([...store.read('pg', 'b')]).toEqual([0, 0, ...bytesOf('new')]);
    expect(new TextDecoder().decode(store.getAttr('pg', 'a', 'v'))).toBe('1');
    // Its next checkpoint is in the new format, and the data comes back from it.
    await store.submit({ ops: [{ op: 'touch', cid: 'pg', oid: 'c' }] }).committed;
    await store.checkpoint();
    const expected = dump(store);
    await store.close();
    const reopened = await ObjectStore.open(disk, { dir: 'osd', config: { pageBytes: 4 } });
    expect(dump(reopened)).toBe(expected);
    await reopened.close();
  });
});

describe('object store: crash at every disk call of a workload with incremental checkpoints and compaction', () => {
  for (const kind of diskKinds) {
    if (kind.name === 'timed sim') continue;
    for (const seed of testSeeds(kind.name === 'sim' ? [1, 2] : [1])) {
      it(`on the ${kind.name} disk, seed ${seed}: recovery gives a prefix of the applied transactions holding every committed one`, async () => {
        const { points, violations } = await crashAtEveryPoint(checkpointWorkload, kind, seed, kind.name === 'sim' ? 25 : 10);
        expect(points).toBeGreaterThan(40);
        expect(violations, `STORAGE_SEED=${seed}`).toEqual([]);
      });
    }
  }
});
