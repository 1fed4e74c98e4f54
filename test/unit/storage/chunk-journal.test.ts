import { describe, expect, it } from 'vitest';
import { seededRandom, type Random } from '../../../src/runtime/random.js';
import { ChunkStore } from '../../../src/storage/chunk-store.js';
import { decodeJournal, encodeJournalFrame, journalFileName, parseJournalFileName } from '../../../src/storage/chunk-journal.js';
import type { ChunkStoreConfig } from '../../../src/storage/config.js';
import { joinPath, type Disk } from '../../../src/storage/disk.js';
import { isStorageError } from '../../../src/storage/errors.js';
import { CrashPointDisk } from '../../../src/storage/sim/crash-point-disk.js';
import { SimDisk } from '../../../src/storage/sim/sim-disk.js';
import { ManualTime, diskKinds, simKind, testSeeds, type DiskKind } from './helpers.js';

/**
 * The chunk store's write-ahead journal (storage README, "Chunk journal"; invariants 12–15): a
 * mutation is durable once its journal round is fsynced, the chunk files follow lazily, a crash is
 * recovered by replaying the journal, and the journal stays within its bounds.
 */

const B = 256;
const journalConfig: Partial<ChunkStoreConfig> = {
  blockSizeBytes: B,
  chunkSizeBytes: 64 * B,
  readSegmentBytes: 4 * B,
  journalSegmentBytes: 8 * B,
  journalRoundBytesMax: 4 * B,
  journalBytesMax: 8 * B + 2 * 4 * B + 2 * (64 * B + 1024),
  journalPendingBytesMax: 16 * B,
};

async function openStore(disk: Disk, config: Partial<ChunkStoreConfig> = journalConfig): Promise<ChunkStore> {
  return ChunkStore.open(disk, { dir: 'chunks', clock: new ManualTime(), config });
}

async function journalFiles(disk: Disk): Promise<{ name: string; bytes: number }[]> {
  const out: { name: string; bytes: number }[] = [];
  for (const name of await disk.list('chunks')) {
    if (parseJournalFileName(name) === undefined) continue;
    out.push({ name, bytes: (await disk.stat(joinPath('chunks', name)))?.sizeBytes ?? 0 });
  }
  return out;
}

describe('chunk journal: group commit and reads', () => {
  it('settings that cannot work (journal bytes below a segment plus two rounds) are refused at open with a message naming them, before anything is read', async () => {
    const disk = new CrashPointDisk(new SimDisk({ random: seededRandom(1) }));
    const bad = { ...journalConfig, journalBytesMax: 8 * B };
    await expect(openStore(disk, bad)).rejects.toThrow(/journalBytesMax \(2048\) must be at least journalSegmentBytes \(2048\) \+ 2 × journalRoundBytesMax \(1024\) = 4096; for a GFS chunkserver raise chunkJournalBytesMax/);
    expect(disk.calls.fsync).toBe(0);
  });

  it('one or two journal fsyncs make the mutations of many chunks durable, with no fsync of any chunk or checksum file (BlueStore-style group commit)', async () => {
    const disk = new CrashPointDisk(new SimDisk({ random: seededRandom(1) }));
    const store = await openStore(disk);
    const handles = ['a', 'b', 'c', 'd', 'e', 'f'];
    const r = seededRandom(2);
    for (const h of handles) await store.create(h, 1);
    // A first wave creates the data files (each durably named before its first write).
    await Promise.all(handles.map((h) => store.append(h, r.bytes(10))));
    await Promise.all(handles.map((h) => store.sync(h)));
    const before = disk.calls.fsync;
    await Promise.all(handles.map((h) => store.append(h, r.bytes(100))));
    await Promise.all(handles.map((h) => store.sync(h)));
    // Without the journal: a data fsync and a checksum-file fsync per chunk (12 here).
    expect(disk.calls.fsync - before).toBeLessThanOrEqual(2);
    for (const h of handles) expect((await disk.stat(`chunks/${h}.crc`))).toBeUndefined();
    await store.close();
  });

  it('reads see journaled data at once, before and after its round is durable, and through a checkpoint', async () => {
    const disk = new SimDisk({ random: seededRandom(3) });
    const store = await openStore(disk);
    await store.create('c', 1);
    const r = seededRandom(4);
    let model = new Uint8Array(0);
    for (let i = 0; i < 60; i++) {
      const data = r.bytes(r.range(1, 2 * B));
      const offset = r.chance(0.5) ? model.length : r.int(Math.min(model.length, 64 * B - data.length) + 1);
      const write = store.write('c', offset, data);
      const next = new Uint8Array(Math.max(model.length, offset + data.length));
      next.set(model);
      next.set(data, offset);
      model = next;
      await write;
      expect(await store.read('c', 0, model.length)).toEqual(model);
      if (r.chance(0.3)) await store.sync('c');
    }
    await store.sync('c');
    await store.close();
    const again = await openStore(disk.crash());
    expect(await again.read('c', 0, model.length)).toEqual(model);
    await again.close();
  });
});

describe('chunk journal: bounded', () => {
  it('the journal files never hold more than journalBytesMax: when full, a checkpoint writes the chunk files and removes old journal files (trim)', async () => {
    const disk = new SimDisk({ random: seededRandom(5) });
    const store = await openStore(disk);
    const r = seededRandom(6);
    const models = new Map<string, Uint8Array>();
    let maxSeen = 0;
    let filesSeen = 0;
    for (let i = 0; i < 4; i++) {
      await store.create(`c${i}`, 1);
      models.set(`c${i}`, new Uint8Array(0));
    }
    for (let step = 0; step < 120; step++) {
      const h = `c${r.int(4)}`;
      const m = models.get(h)!;
      if (m.length + 2 * B > 64 * B) continue;
      const data = r.bytes(r.range(1, 2 * B));
      await store.append(h, data);
      const next = new Uint8Array(m.length + data.length);
      next.set(m);
      next.set(data, m.length);
      models.set(h, next);
      await store.sync(h);
      const files = await journalFiles(disk);
      filesSeen = Math.max(filesSeen, files.length);
      maxSeen = Math.max(maxSeen, files.reduce((n, f) => n + f.bytes, 0));
    }
    expect(filesSeen).toBeGreaterThan(1);
    expect(maxSeen).toBeLessThanOrEqual(journalConfig.journalBytesMax!);
    for (const [h, m] of models) expect(await store.read(h, 0, m.length)).toEqual(m);
    await store.close();
    const again = await openStore(disk.crash());
    for (const [h, m] of models) expect(await again.read(h, 0, m.length)).toEqual(m);
    await again.close();
  });

  it('more mutations than journal room wait (backpressure); past admitWaitersMax they fail with backlog_full, and every acknowledged one survives a crash', async () => {
    const disk = new SimDisk({ random: seededRandom(7) });
    const store = await openStore(disk, { ...journalConfig, journalPendingBytesMax: 2 * B, journalAdmitWaitersMax: 4 });
    const handles = Array.from({ length: 12 }, (_, i) => `w${i}`);
    for (const h of handles) await store.create(h, 1);
    const r = seededRandom(8);
    const datas = handles.map(() => r.bytes(B));
    const results = await Promise.allSettled(handles.map(async (h, i) => {
      await store.write(h, 0, datas[i]!);
      await store.sync(h);
    }));
    const refused = results.filter((x) => x.status === 'rejected');
    expect(refused.length).toBeGreaterThan(0);
    for (const x of refused) expect(isStorageError((x as PromiseRejectedResult).reason, 'backlog_full')).toBe(true);
    const again = await openStore(disk.crash());
    results.forEach((x, i) => {
      if (x.status === 'fulfilled') expect(again.has(handles[i]!)).toBe(true);
    });
    for (let i = 0; i < handles.length; i++) {
      if (results[i]!.status === 'fulfilled') expect(await again.read(handles[i]!, 0, B)).toEqual(datas[i]);
    }
    await again.close();
  });
});

describe('chunk journal: recovery', () => {
  it('a torn last round (half a frame, or zeros) is cut: everything synced before it comes back', async () => {
    for (const tail of ['half', 'zeros'] as const) {
      const disk = new SimDisk({ random: seededRandom(9) });
      const store = await openStore(disk);
      await store.create('c', 1);
      const data = seededRandom(10).bytes(3 * B);
      await store.append('c', data);
      await store.sync('c');
      await store.close();
      const [file] = await journalFiles(disk);
      const f = await disk.open(joinPath('chunks', file!.name));
      const frame = encodeJournalFrame(99, { kind: 'write', handle: 'c', version: 1, offsetBytes: 3 * B, sizeAfterBytes: 4 * B, firstBlock: 3, crcs: new Uint32Array([1]), lengthBytes: B, data: new Uint8Array(B) });
      await f.append(tail === 'half' ? frame.subarray(0, frame.length >> 1) : new Uint8Array(frame.length));
      await f.fsync();
      await f.close();
      const again = await openStore(disk);
      expect(again.info('c').sizeBytes).toBe(3 * B);
      expect(await again.read('c', 0, 3 * B)).toEqual(data);
      await again.close();
    }
  });

  it('a damaged record followed by a later round is corrupt_log, never skipped: that record was acknowledged', async () => {
    const disk = new SimDisk({ random: seededRandom(11) });
    const store = await openStore(disk, { ...journalConfig, journalSegmentBytes: 64 * B });
    await store.create('c', 1);
    const r = seededRandom(12);
    for (let i = 0; i < 3; i++) {
      await store.append('c', r.bytes(B));
      await store.sync('c');
    }
    await store.close();
    const [file] = await journalFiles(disk);
    const f = await disk.open(joinPath('chunks', file!.name));
    // The first round's frame (the chunk's creation) ends well before the last round: damage a byte in the second frame's data.
    const bytes = await f.read(0, f.sizeBytes());
    const decoded = decodeJournal(bytes, parseJournalFileName(file!.name)!);
    expect(decoded.records.length).toBeGreaterThanOrEqual(4);
    await f.write(120, new Uint8Array([bytes[120]! ^ 0x10]));
    await f.fsync();
    await f.close();
    await expect(openStore(disk)).rejects.toSatisfy((e) => isStorageError(e, 'corrupt_log'));
  });

  it('a journal left by a store is replayed by a store opened without one, and a data folder from before the journal opens with it', async () => {
    const disk = new SimDisk({ random: seededRandom(13) });
    const data = seededRandom(14).bytes(5 * B);
    const journaled = await openStore(disk);
    await journaled.create('j', 3);
    await journaled.append('j', data);
    await journaled.sync('j');
    await journaled.close();
    const after = disk.crash();
    const plain = await openStore(after, { blockSizeBytes: B, chunkSizeBytes: 64 * B, readSegmentBytes: 4 * B });
    expect(plain.info('j').version).toBe(3);
    expect(await plain.read('j', 0, data.length)).toEqual(data);
    await plain.create('p', 2);
    await plain.append('p', data);
    await plain.sync('p');
    await plain.close();
    expect(await journalFiles(after)).toEqual([]);
    const again = await openStore(after);
    expect(await again.read('j', 0, data.length)).toEqual(data);
    expect(await again.read('p', 0, data.length)).toEqual(data);
    expect(again.info('p').version).toBe(2);
    await again.close();
  });

  it('a full disk does not stop the journal: a refused round fails only its own mutations or is made durable in the chunk files, and writes go on once space is back', async () => {
    const disk = new SimDisk({ random: seededRandom(18) });
    const store = await openStore(disk);
    const r = seededRandom(19);
    const model = new Map<string, Uint8Array>();
    for (const h of ['a', 'b']) {
      await store.create(h, 1);
      const first = r.bytes(B);
      await store.append(h, first);
      await store.sync(h);
      model.set(h, first);
    }
    disk.setCapacityBytes(disk.usedSpaceBytes);
    const outcomes = await Promise.allSettled(['a', 'b'].map(async (h) => {
      const more = r.bytes(B);
      await store.append(h, more);
      await store.sync(h);
      return more;
    }));
    for (const o of outcomes) if (o.status === 'rejected') expect(isStorageError(o.reason, 'no_space')).toBe(true);
    disk.setCapacityBytes(Number.MAX_SAFE_INTEGER);
    const lastly = r.bytes(B);
    ['a', 'b'].forEach((h, i) => {
      const o = outcomes[i]!;
      const m = model.get(h)!;
      const grown = new Uint8Array(m.length + B + (o.status === 'fulfilled' ? B : 0));
      grown.set(m);
      if (o.status === 'fulfilled') grown.set(o.value, m.length);
      model.set(h, grown);
    });
    for (const h of ['a', 'b']) {
      const m = model.get(h)!;
      // A failed append leaves its bytes in place (GFS: a failed mutation's region is undefined); write over the same end.
      await store.write(h, m.length - B, lastly);
      m.set(lastly, m.length - B);
      await store.sync(h);
    }
    const again = await openStore(disk.crash());
    for (const h of ['a', 'b']) {
      const m = model.get(h)!;
      expect(again.info(h).sizeBytes).toBe(m.length);
      expect(await again.read(h, 0, m.length)).toEqual(m);
    }
    await again.close();
  });

  it('a failed journal fsync fails the sync with io_error and poisons the journal; reopening recovers what was acknowledged', async () => {
    const disk = new SimDisk({ random: seededRandom(15) });
    const store = await openStore(disk);
    await store.create('c', 1);
    const first = seededRandom(16).bytes(B);
    await store.append('c', first);
    await store.sync('c');
    const [file] = await journalFiles(disk);
    disk.failNext('fsync', 'io_error', joinPath('chunks', file!.name));
    await store.append('c', seededRandom(17).bytes(B));
    await expect(store.sync('c')).rejects.toSatisfy((e) => isStorageError(e, 'io_error'));
    await expect(store.append('c', new Uint8Array(1))).rejects.toSatisfy((e) => isStorageError(e, 'closed'));
    const again = await openStore(disk.crash());
    expect(again.info('c').sizeBytes).toBeGreaterThanOrEqual(B);
    expect(await again.read('c', 0, B)).toEqual(first);
    await again.close();
  });
});

/**
 * A seeded workload over three chunks: appends, overwrites, version bumps, truncates (seals),
 * deletes with re-creation, and syncs. Each chunk's history is a list of states (bytes, version);
 * `durable` is the index of the last state an operation that returned promised durable.
 */
interface History {
  incarnations: { states: { bytes: Uint8Array; version: number }[]; durable: number; overwrittenAfterDurable: boolean }[];
  /** Oldest incarnation that may still come back: older ones were deleted durably. */
  oldest: number;
}

async function journalWorkload(disk: Disk, seed: number, steps: number, histories: Map<string, History>, config: Partial<ChunkStoreConfig>): Promise<void> {
  const r: Random = seededRandom(seed);
  try {
    const store = await openStore(disk, config);
    const handles = ['h0', 'h1', 'h2'];
    for (const h of handles) {
      histories.set(h, { incarnations: [{ states: [{ bytes: new Uint8Array(0), version: 1 }], durable: -1, overwrittenAfterDurable: false }], oldest: 0 });
      await store.create(h, 1);
    }
    for (let i = 0; i < steps; i++) {
      const h = r.pick(handles);
      const hist = histories.get(h)!;
      const inc = hist.incarnations[hist.incarnations.length - 1]!;
      const cur = inc.states[inc.states.length - 1]!;
      const push = (bytes: Uint8Array, version: number): number => inc.states.push({ bytes, version }) - 1;
      const roll = r.next();
      if (roll < 0.35) {
        const data = r.bytes(r.range(1, 2 * B));
        if (cur.bytes.length + data.length > 64 * B) continue;
        const next = new Uint8Array(cur.bytes.length + data.length);
        next.set(cur.bytes);
        next.set(data, cur.bytes.length);
        push(next, cur.version);
        await store.append(h, data);
      } else if (roll < 0.5 && cur.bytes.length > 0) {
        const offset = r.int(cur.bytes.length);
        const data = r.bytes(r.range(1, Math.min(2 * B, 64 * B - offset)));
        const next = new Uint8Array(Math.max(cur.bytes.length, offset + data.length));
        next.set(cur.bytes);
        next.set(data, offset);
        push(next, cur.version);
        inc.overwrittenAfterDurable = true;
        await store.write(h, offset, data);
      } else if (roll < 0.6) {
        const at = push(cur.bytes, cur.version + 1);
        await store.setVersion(h, cur.version + 1);
        inc.durable = at;
        inc.overwrittenAfterDurable = false;
      } else if (roll < 0.67 && cur.bytes.length > 0) {
        const size = r.int(cur.bytes.length);
        const at = push(cur.bytes.slice(0, size), cur.version);
        await store.truncate(h, size);
        inc.durable = at;
        inc.overwrittenAfterDurable = false;
      } else if (roll < 0.72) {
        hist.incarnations.push({ states: [{ bytes: new Uint8Array(0), version: 1 }], durable: -1, overwrittenAfterDurable: false });
        await store.delete(h);
        hist.oldest = hist.incarnations.length - 1;
        await store.create(h, 1);
      } else {
        const at = inc.states.length - 1;
        await store.sync(h);
        inc.durable = at;
        inc.overwrittenAfterDurable = false;
      }
    }
    await store.close();
  } catch {
    // crashed
  }
}

async function checkAfterCrash(disk: Disk, histories: Map<string, History>, point: number, config: Partial<ChunkStoreConfig>): Promise<string[]> {
  const violations: string[] = [];
  let store: ChunkStore;
  try {
    store = await openStore(disk, config);
  } catch (err) {
    return [`point ${point}: open failed: ${String(err)}`];
  }
  for (const [h, hist] of histories) {
    const candidates = hist.incarnations.slice(hist.oldest);
    if (!store.has(h)) {
      // Missing is fine only while no candidate incarnation was made durable, or a delete was in progress.
      if (candidates.every((c) => c.durable >= 0) && candidates.length === 1) violations.push(`point ${point}: chunk ${h} was synced but is missing`);
      continue;
    }
    const info = store.info(h);
    const got = await store.read(h, 0, info.sizeBytes).catch((e: unknown) => e);
    if (!(got instanceof Uint8Array)) {
      const corruptOk = isStorageError(got, 'corrupt_block') && candidates.some((c) => c.overwrittenAfterDurable);
      if (!corruptOk) violations.push(`point ${point}: chunk ${h} unreadable: ${String(got)}`);
      continue;
    }
    const matches = candidates.some((c) => c.states.some((st, j) => j >= c.durable && st.version === info.version && st.bytes.length === got.length && st.bytes.every((b, k) => b === got[k])));
    if (!matches) violations.push(`point ${point}: chunk ${h} (v${info.version}, ${got.length} bytes) matches no state at or after its last durable one`);
  }
  await store.close();
  return violations;
}

async function journalCrashAtEveryPoint(kind: DiskKind, seed: number, steps: number, fsyncIsNoop = false, config = journalConfig): Promise<{ points: number; violations: string[] }> {
  const dry = await kind.makeCrashing(seed, undefined, { fsyncIsNoop });
  await journalWorkload(dry.disk, seed, steps, new Map(), config);
  const points = dry.disk.points;
  await dry.dispose();
  const violations: string[] = [];
  for (let p = 1; p <= points; p++) {
    const c = await kind.makeCrashing(seed * 1000 + p, p, { fsyncIsNoop });
    try {
      const histories = new Map<string, History>();
      await journalWorkload(c.disk, seed, steps, histories, config);
      violations.push(...(await checkAfterCrash(await c.crashed(), histories, p, config)));
    } finally {
      await c.dispose();
    }
  }
  return { points, violations };
}

describe('chunk journal: crash at every point of a round, a checkpoint and a trim', () => {
  for (const kind of diskKinds) {
    for (const seed of testSeeds(kind.name === 'real' ? [1] : [1, 2])) {
      it(`on the ${kind.name} disk, seed ${seed}: every chunk comes back at a state at or after its last acknowledged one (a replayed journal), or as corrupt only after an unacknowledged overwrite`, async () => {
        const { points, violations } = await journalCrashAtEveryPoint(kind, seed, kind.name === 'real' ? 25 : 60);
        expect(points).toBeGreaterThan(30);
        expect(violations, `STORAGE_SEED=${seed}`).toEqual([]);
      });
    }
  }

  for (const seed of testSeeds([3, 4])) {
    it(`on the sim disk, seed ${seed}, writes over B/2 bytes not in the journal (their data fdatasynced in place before their round): the same holds`, async () => {
      const { points, violations } = await journalCrashAtEveryPoint(simKind, seed, 60, false, { ...journalConfig, journalInlineBelowBytes: B / 2 });
      expect(points).toBeGreaterThan(30);
      expect(violations, `STORAGE_SEED=${seed}`).toEqual([]);
    });
  }

  it('mutation check: with fsync a no-op, the same check reports acknowledged mutations lost', async () => {
    const { violations } = await journalCrashAtEveryPoint(simKind, 1, 60, true);
    expect(violations.length).toBeGreaterThan(0);
    const large = await journalCrashAtEveryPoint(simKind, 1, 60, true, { ...journalConfig, journalInlineBelowBytes: B / 2 });
    expect(large.violations.length).toBeGreaterThan(0);
  });
});

describe('chunk journal: file names', () => {
  it('journal files are named by their first JSN and parsed back', () => {
    expect(parseJournalFileName(journalFileName(42))).toBe(42);
    expect(parseJournalFileName('journal-x')).toBeUndefined();
  });
});
