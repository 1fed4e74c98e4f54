import { afterEach, describe, expect, it } from 'vitest';
import { seededRandom } from '../../../src/runtime/random.js';
import { CheckpointStore, checkpointName, openLogWithCheckpoints, takeCheckpoint } from '../../../src/storage/checkpoint.js';
import { joinPath } from '../../../src/storage/disk.js';
import { isStorageError } from '../../../src/storage/errors.js';
import { OpLog, segmentName } from '../../../src/storage/op-log.js';
import { CrashPointDisk } from '../../../src/storage/sim/crash-point-disk.js';
import { SimDisk } from '../../../src/storage/sim/sim-disk.js';
import { bytesOf, diskKinds, simKind, testSeeds, type DiskUnderTest } from './helpers.js';
import { crashAtEveryPoint } from './log-workload.js';

const text = (b: Uint8Array): string => new TextDecoder().decode(b);

async function replay(disk: DiskUnderTest['disk'], dir = 'log'): Promise<{ log: OpLog; records: string[] }> {
  const records: string[] = [];
  const log = await OpLog.open(disk, { dir, config: { segmentMaxBytes: 256 }, onRecord: (r) => records.push(text(r.payload)) });
  return { log, records };
}

for (const kind of diskKinds) {
  describe(`operation log on the ${kind.name} disk (patent ¶47–51)`, () => {
    let d: DiskUnderTest;
    afterEach(async () => d.dispose());

    it('records come back in order after reopening, across rotated segments', async () => {
      d = await kind.make(1);
      const { log } = await replay(d.disk);
      const lsns = await Promise.all(Array.from({ length: 40 }, (_, i) => log.append(bytesOf(`record ${i}`))));
      expect(lsns).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
      await log.close();
      expect(log.segmentFirstLsns.length).toBeGreaterThan(1);
      const again = await replay(d.disk);
      expect(again.records).toEqual(Array.from({ length: 40 }, (_, i) => `record ${i}`));
      expect(await again.log.append(bytesOf('next'))).toBe(41);
      await again.log.close();
    });

    it('group commit: 100 concurrent appends are made durable by far fewer fsyncs (patent ¶47 "in batches")', async () => {
      d = await kind.make(2);
      const counted = new CrashPointDisk(d.disk);
      const log = await OpLog.open(counted, { dir: 'log' });
      await Promise.all(Array.from({ length: 100 }, (_, i) => log.append(bytesOf(`r${i}`))));
      await log.close();
      expect(counted.calls.fsync).toBeLessThanOrEqual(2);
      expect(log.durableLsn).toBe(100);
    });

    it('recovery stops cleanly at a torn tail, cuts it, and appends after it', async () => {
      d = await kind.make(3);
      const { log } = await replay(d.disk);
      for (let i = 0; i < 5; i++) await log.append(bytesOf(`r${i}`));
      await log.close();
      const seg = await d.disk.open(joinPath('log', segmentName(1)));
      const size = seg.sizeBytes();
      // A torn frame: a header announcing 100 bytes followed by only 7, then an all-zero tail variant.
      const torn = new Uint8Array(16 + 7);
      new DataView(torn.buffer).setUint32(0, 100, true);
      await seg.append(torn);
      await seg.close();
      const a = await replay(d.disk);
      expect(a.records).toEqual(['r0', 'r1', 'r2', 'r3', 'r4']);
      expect(await d.disk.stat(joinPath('log', segmentName(1)))).toEqual({ sizeBytes: size });
      await a.log.append(bytesOf('r5'));
      await a.log.close();
      const seg2 = await d.disk.open(joinPath('log', segmentName(1)));
      await seg2.append(new Uint8Array(64));
      await seg2.close();
      const b = await replay(d.disk);
      expect(b.records).toEqual(['r0', 'r1', 'r2', 'r3', 'r4', 'r5']);
      await b.log.close();
    });

    it('a damaged record before the end of the log is corrupt_log, not a silent truncation', async () => {
      d = await kind.make(4);
      const { log } = await replay(d.disk);
      for (let i = 0; i < 60; i++) await log.append(bytesOf(`record number ${i}`));
      await log.close();
      const segs = log.segmentFirstLsns;
      expect(segs.length).toBeGreaterThan(2);
      const f = await d.disk.open(joinPath('log', segmentName(segs[0]!)));
      const b = await f.read(20, 1);
      await f.write(20, new Uint8Array([b[0]! ^ 0x10]));
      await f.close();
      await expect(replay(d.disk)).rejects.toSatisfy((e) => isStorageError(e, 'corrupt_log'));
    });

    it('recovery = newest complete checkpoint + later records; incomplete checkpoints are skipped (patent ¶49, ¶51)', async () => {
      d = await kind.make(5);
      const dir = 'meta';
      let state: string[] = [];
      const open = () =>
        openLogWithCheckpoints(d.disk, {
          dir,
          checkpointConfig: { checkpointsKept: 3 },
          onCheckpoint: (data) => {
            state = JSON.parse(text(data)) as string[];
          },
          onRecord: (r) => state.push(text(r.payload)),
        });
      const { log, checkpoints } = await open();
      const applied: string[] = [];
      const add = (s: string): Promise<number> => {
        applied.push(s);
        return log.append(bytesOf(s));
      };
      const snap = () => {
        const view = applied.slice();
        return { serialize: () => bytesOf(JSON.stringify(view)) };
      };
      await add('a');
      await add('b');
      const c1 = await takeCheckpoint(log, checkpoints, snap);
      await add('c');
      const c2 = await takeCheckpoint(log, checkpoints, snap);
      await add('d');
      await log.close();
      expect([c1, c2]).toEqual([2, 3]);
      // A checkpoint left half-written under its temporary name, and the newest one damaged.
      const tmp = await d.disk.open(joinPath(dir, `${checkpointName(9)}.tmp`), { create: true });
      await tmp.append(bytesOf('partial'));
      await tmp.close();
      const newest = await d.disk.open(joinPath(dir, checkpointName(c2)));
      await newest.truncate(newest.sizeBytes() - 1);
      await newest.close();
      state = [];
      const again = await open();
      expect(state).toEqual(['a', 'b', 'c', 'd']);
      expect(again.checkpointLsn).toBe(c1);
      expect(again.checkpoints.skipped.map((s) => s.name)).toEqual([checkpointName(c2)]);
      await again.log.close();
    });

    it('old checkpoints and the log segments only they need are removed once checkpointsKept newer ones exist (patent ¶51)', async () => {
      d = await kind.make(6);
      const { log, checkpoints } = await openLogWithCheckpoints(d.disk, {
        dir: 'm',
        logConfig: { segmentMaxBytes: 100 },
        checkpointConfig: { checkpointsKept: 2 },
        onCheckpoint: () => undefined,
        onRecord: () => undefined,
      });
      for (let round = 0; round < 5; round++) {
        for (let i = 0; i < 10; i++) await log.append(bytesOf(`round ${round} record ${i}`));
        await takeCheckpoint(log, checkpoints, () => ({ serialize: () => bytesOf(`state ${round}`) }));
      }
      await log.close();
      const lsns = await new CheckpointStore(d.disk, 'm').list();
      expect(lsns).toEqual([40, 50]);
      // Every remaining segment is needed: none ends at or before the oldest kept checkpoint.
      const firsts = log.segmentFirstLsns;
      expect(firsts[1]! - 1).toBeGreaterThan(40);
      const names = await d.disk.list('m');
      expect(names.filter((n) => n.startsWith('log-')).length).toBe(firsts.length);
    });

    it('checkpointing does not block appends (patent ¶50)', async () => {
      d = await kind.make(7);
      const { log, checkpoints } = await openLogWithCheckpoints(d.disk, { dir: 'm', onCheckpoint: () => undefined, onRecord: () => undefined });
      await log.append(bytesOf('before'));
      let finishSerialize!: (b: Uint8Array) => void;
      const serialized = new Promise<Uint8Array>((resolve) => {
        finishSerialize = resolve;
      });
      let checkpointDone = false;
      const ck = takeCheckpoint(log, checkpoints, () => ({ serialize: () => serialized })).then((lsn) => {
        checkpointDone = true;
        return lsn;
      });
      // While the checkpoint is being built, appends commit.
      const during = await Promise.all([log.append(bytesOf('during 1')), log.append(bytesOf('during 2'))]);
      expect(during).toEqual([2, 3]);
      expect(checkpointDone).toBe(false);
      finishSerialize(bytesOf('state'));
      expect(await ck).toBe(1);
      await log.close();
    });
  });
}

describe('operation log failure handling', () => {
  it('more than pendingMaxRecords waiting records are refused with backlog_full', async () => {
    const log = await OpLog.open(new SimDisk({ random: seededRandom(1) }), { dir: 'l', config: { pendingMaxRecords: 5 } });
    const ok = Array.from({ length: 5 }, () => log.append(bytesOf('x')));
    const refused = await log.append(bytesOf('y')).catch((e: unknown) => e);
    expect(isStorageError(refused, 'backlog_full')).toBe(true);
    await Promise.all(ok);
    await log.close();
  });

  it('after a failed fsync the log refuses further appends instead of pretending (fsync-gate)', async () => {
    const sim = new SimDisk({ random: seededRandom(2) });
    const log = await OpLog.open(sim, { dir: 'l' });
    await log.append(bytesOf('ok'));
    sim.failNext('fsync', 'io_error');
    await expect(log.append(bytesOf('fails'))).rejects.toSatisfy((e) => isStorageError(e, 'io_error'));
    await expect(log.append(bytesOf('after'))).rejects.toSatisfy((e) => isStorageError(e, 'closed'));
  });

  it('ENOSPC gives a clear no_space error and leaves earlier records intact', async () => {
    const sim = new SimDisk({ random: seededRandom(3), capacityBytes: 300 });
    const log = await OpLog.open(sim, { dir: 'l' });
    for (let i = 0; i < 5; i++) await log.append(bytesOf(`keep ${i}`));
    const err = await log.append(new Uint8Array(500)).catch((e: unknown) => e);
    expect(isStorageError(err, 'no_space')).toBe(true);
    const records: string[] = [];
    await OpLog.open(sim.crash(), { dir: 'l', onRecord: (r) => records.push(text(r.payload)) });
    expect(records).toEqual(['keep 0', 'keep 1', 'keep 2', 'keep 3', 'keep 4']);
  });
});

describe('crash at every write and fsync point (issue 4 item 6)', () => {
  for (const kind of diskKinds) {
    for (const seed of testSeeds(kind.name === 'sim' ? [1, 2, 3] : [1])) {
      it(`on the ${kind.name} disk, seed ${seed}: recovery gives a prefix of the issued records holding every acknowledged one (patent ¶48)`, async () => {
        const { points, violations } = await crashAtEveryPoint(kind, seed, kind.name === 'sim' ? 40 : 15);
        expect(points).toBeGreaterThan(20);
        expect(violations, `STORAGE_SEED=${seed}`).toEqual([]);
      });
    }
  }

  it('on the sim disk with only fsynced data surviving a crash (seed 4): the same holds', async () => {
    const seed = testSeeds([4])[0]!;
    const { points, violations } = await crashAtEveryPoint(simKind, seed, 40, { unsyncedOnCrash: 'drop' });
    expect(points).toBeGreaterThan(20);
    expect(violations, `STORAGE_SEED=${seed}`).toEqual([]);
  });

  it('mutation check: with fsync made a no-op the same test finds lost acknowledged records', async () => {
    const { violations } = await crashAtEveryPoint(simKind, 1, 40, { fsyncIsNoop: true, unsyncedOnCrash: 'drop', stopAtFirst: true });
    expect(violations.length).toBeGreaterThan(0);
    expect(violations[0]).toMatch(/acknowledged record \d+ was lost/);
  });
});
