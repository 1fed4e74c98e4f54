import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../src/runtime/random.js';
import { Simulation } from '../../../src/runtime/sim/simulation.js';
import { isStorageError } from '../../../src/storage/errors.js';
import { OpLog } from '../../../src/storage/op-log.js';
import { CrashPointDisk } from '../../../src/storage/sim/crash-point-disk.js';
import { admit, idleTimeline, sata7200Timing, serviceMs, ssdTiming, type DiskTiming } from '../../../src/storage/sim/disk-timing.js';
import { SimDisk, simDisks } from '../../../src/storage/sim/sim-disk.js';

const KiB = 1024;
const MiB = 1024 * 1024;
/** A timing with round numbers and no jitter, so expected times are exact. */
const plain: DiskTiming = { randomAccessMs: 10, sequentialAccessMs: 1, bandwidthBytesPerSec: 1e6, fsyncMs: 5, queueDepth: 1, waitingOpsMax: 100, jitterFraction: 0 };

function timedDisk(timing: DiskTiming | 'instant', seed = 1): { sim: Simulation; disk: SimDisk } {
  const sim = new Simulation({ seed });
  return { sim, disk: new SimDisk({ random: seededRandom(seed), scheduler: sim.scheduler(), timing }) };
}

/** Resolves with the virtual time at which `p` settled. */
function doneAt(sim: Simulation, p: Promise<unknown>): Promise<number> {
  return p.then(
    () => sim.now,
    () => sim.now,
  );
}

describe('disk timing model (disk-timing.ts)', () => {
  it('a single read, write or fsync on an idle disk takes access + bytes / bandwidth, or the flush time', () => {
    const read = admit(plain, idleTimeline, { kind: 'data', file: 1, offsetBytes: 0, bytes: 4000 }, 100, 0.5);
    expect(read.doneAtMs).toBeCloseTo(100 + 10 + 4, 9);
    const flush = admit(plain, idleTimeline, { kind: 'flush' }, 100, 0.5);
    expect(flush.doneAtMs).toBeCloseTo(105, 9);
    expect(serviceMs(plain, { kind: 'data', file: 1, offsetBytes: 0, bytes: 4000 }, true)).toBeCloseTo(5, 9);
  });

  it('an operation that continues where the last one ended pays the sequential access time; any other the random one', () => {
    const first = admit(plain, idleTimeline, { kind: 'data', file: 1, offsetBytes: 0, bytes: 1000 }, 0, 0.5);
    const next = admit(plain, first.timeline, { kind: 'data', file: 1, offsetBytes: 1000, bytes: 1000 }, first.doneAtMs, 0.5);
    expect(next.doneAtMs - first.doneAtMs).toBeCloseTo(1 + 1, 9);
    const otherFile = admit(plain, first.timeline, { kind: 'data', file: 2, offsetBytes: 1000, bytes: 1000 }, first.doneAtMs, 0.5);
    expect(otherFile.doneAtMs - first.doneAtMs).toBeCloseTo(10 + 1, 9);
    // A flush forgets the head: the journal commit went elsewhere.
    const flush = admit(plain, first.timeline, { kind: 'flush' }, first.doneAtMs, 0.5);
    const after = admit(plain, flush.timeline, { kind: 'data', file: 1, offsetBytes: 1000, bytes: 1000 }, flush.doneAtMs, 0.5);
    expect(after.doneAtMs - flush.doneAtMs).toBeCloseTo(10 + 1, 9);
  });

  it('jitter scales access and flush times within [1 - jitterFraction, 1 + jitterFraction], not transfers', () => {
    const t = { ...plain, jitterFraction: 0.5 };
    expect(admit(t, idleTimeline, { kind: 'data', file: 1, offsetBytes: 0, bytes: 1000 }, 0, 0).doneAtMs).toBeCloseTo(5 + 1, 9);
    expect(admit(t, idleTimeline, { kind: 'flush' }, 0, 0.999999).doneAtMs).toBeCloseTo(7.5, 4);
  });
});

describe('SimDisk on virtual time', () => {
  it('a write, a read and an fsync each complete after their modelled service time', async () => {
    const { sim, disk } = timedDisk(plain);
    const f = await sim.result(disk.open('f', { create: true, durable: false }));
    expect(sim.now).toBe(0); // a non-durable create needs no device time
    const t0 = sim.now;
    await sim.result(f.write(0, new Uint8Array(2000)));
    expect(sim.now - t0).toBeCloseTo(10 + 2, 9);
    const t1 = sim.now;
    await sim.result(f.read(0, 2000));
    expect(sim.now - t1).toBeCloseTo(10 + 2, 9); // not sequential: it starts where the write started
    const t2 = sim.now;
    await sim.result(f.fsync());
    expect(sim.now - t2).toBeCloseTo(5, 9);
    const t3 = sim.now;
    await sim.result(disk.rename('f', 'g'));
    expect(sim.now - t3).toBeCloseTo(5, 9); // a durable namespace change costs a directory sync
  });

  it('appends one after another are sequential; a read elsewhere pays the random access', async () => {
    const { sim, disk } = timedDisk(plain);
    const f = await sim.result(disk.open('log', { create: true, durable: false }));
    await sim.result(f.append(new Uint8Array(1000)));
    const t0 = sim.now;
    await sim.result(f.append(new Uint8Array(1000)));
    expect(sim.now - t0).toBeCloseTo(1 + 1, 9);
    const t1 = sim.now;
    await sim.result(f.read(0, 1000));
    expect(sim.now - t1).toBeCloseTo(10 + 1, 9);
  });

  it('at most queueDepth operations are in service; the rest wait and complete in call order (FIFO)', async () => {
    const t: DiskTiming = { ...plain, queueDepth: 2, jitterFraction: 0.3 };
    const { sim, disk } = timedDisk(t);
    const f = await sim.result(disk.open('f', { create: true, durable: false }));
    await sim.result(f.write(0, new Uint8Array(64 * KiB)));
    let inServiceMax = 0;
    const order: number[] = [];
    const ops = Array.from({ length: 8 }, (_, i) =>
      f.read(i * 4 * KiB, 4 * KiB).then(() => {
        order.push(i);
        inServiceMax = Math.max(inServiceMax, disk.queuedOps.inService);
      }),
    );
    expect(disk.queuedOps).toEqual({ inService: 2, waiting: 6 });
    const sample = (): void => {
      inServiceMax = Math.max(inServiceMax, disk.queuedOps.inService);
      if (disk.queuedOps.inService + disk.queuedOps.waiting > 0) sim.after(0.5, sample);
    };
    sample();
    await sim.result(Promise.all(ops));
    expect(inServiceMax).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(disk.queuedOps).toEqual({ inService: 0, waiting: 0 });
  });

  it('past waitingOpsMax a new operation is refused with backlog_full instead of queueing without bound', async () => {
    const { sim, disk } = timedDisk({ ...plain, queueDepth: 1, waitingOpsMax: 3 });
    const f = await sim.result(disk.open('f', { create: true, durable: false }));
    const ok = Array.from({ length: 4 }, () => f.append(new Uint8Array(10)));
    await expect(f.read(0, 10)).rejects.toSatisfy((e: unknown) => isStorageError(e, 'backlog_full'));
    await sim.result(Promise.all(ok));
  });

  it('an fsync covers every write called before it, even one still queued when it was called', async () => {
    const { sim, disk } = timedDisk({ ...ssdTiming, queueDepth: 1 });
    const f = await sim.result(disk.open('f', { create: true }));
    const writes = [f.write(0, new Uint8Array(MiB).fill(1)), f.write(MiB, new Uint8Array(MiB).fill(2))];
    const synced = f.fsync();
    await sim.result(Promise.all([...writes, synced]));
    const after = disk.crash();
    const g = await sim.result(after.open('f'));
    expect(g.sizeBytes()).toBe(2 * MiB);
  });

  it('the same seed gives the same completion times (jitter from the disk\'s random stream); another seed differs', async () => {
    const run = async (seed: number): Promise<number[]> => {
      const { sim, disk } = timedDisk(ssdTiming, seed);
      const f = await sim.result(disk.open('f', { create: true, durable: false }));
      const times = await sim.result(Promise.all(Array.from({ length: 20 }, (_, i) => doneAt(sim, f.write(i * 8 * KiB * 3, new Uint8Array(8 * KiB))))));
      return times;
    };
    const a = await run(7);
    expect(await run(7)).toEqual(a);
    expect(await run(8)).not.toEqual(a);
  });

  it('sata7200 (Ceph thesis §4.5.2.1, §6.4.0.1): a seek plus a 4 KiB read takes ≈13 ms, sequential transfer runs at ≈58 MB/s', async () => {
    expect(serviceMs(sata7200Timing, { kind: 'data', file: 1, offsetBytes: 0, bytes: 4 * KiB }, false)).toBeCloseTo(13, 1);
    const { sim, disk } = timedDisk(sata7200Timing, 3);
    const f = await sim.result(disk.open('big', { create: true, durable: false }));
    // Sequential: 64 MiB in 1 MiB appends.
    const t0 = sim.now;
    for (let i = 0; i < 64; i++) await sim.result(f.append(new Uint8Array(MiB)));
    const seqBytesPerSec = (64 * MiB) / ((sim.now - t0) / 1000);
    expect(seqBytesPerSec / 58e6).toBeGreaterThan(0.97); // only the first append pays a seek
    expect(seqBytesPerSec / 58e6).toBeLessThan(1.0);
    // Random 4 KiB reads: 13 ms on average (the jitter has mean 1).
    const random = seededRandom(99);
    const t1 = sim.now;
    const n = 400;
    for (let i = 0; i < n; i++) await sim.result(f.read(random.int(64 * 256) * 4 * KiB, 4 * KiB));
    const meanMs = (sim.now - t1) / n;
    expect(meanMs).toBeGreaterThan(12.5);
    expect(meanMs).toBeLessThan(13.5);
  });

  it('a crash with operations in flight: they reject with crashed and have no effect; the dead disk\'s completions cannot touch the new disk', async () => {
    const { sim, disk } = timedDisk(plain);
    const f = await sim.result(disk.open('f', { create: true }));
    await sim.result(f.append(new Uint8Array(100).fill(1)));
    await sim.result(f.fsync());
    const inFlight = [f.write(0, new Uint8Array(100).fill(9)), f.append(new Uint8Array(100).fill(2)), f.fsync()];
    const settled = Promise.allSettled(inFlight);
    await sim.run({ forMs: 1 }); // the write is in service, the rest waiting
    const after = disk.crash();
    const results = await settled;
    for (const r of results) {
      expect(r.status).toBe('rejected');
      expect(isStorageError((r as PromiseRejectedResult).reason, 'crashed')).toBe(true);
    }
    await sim.run({ forMs: 1_000 }); // the dead disk's scheduled completions come due
    const g = await sim.result(after.open('f'));
    // Durable: the first 100 bytes of 1s; the append's reservation (zeros) may or may not survive; never the 9s or the 2s.
    const data = await sim.result(g.read(0, 1_000));
    expect(data.length === 100 || data.length === 200).toBe(true);
    expect([...data.subarray(0, 100)].every((b) => b === 1)).toBe(true);
    expect([...data.subarray(100)].every((b) => b === 0)).toBe(true);
    await expect(f.read(0, 10)).rejects.toSatisfy((e: unknown) => isStorageError(e, 'crashed'));
    expect(after.queuedOps).toEqual({ inService: 0, waiting: 0 });
  });

  it('an instant disk (no scheduler) takes no virtual time, as before', async () => {
    const sim = new Simulation({ seed: 1 });
    const disk = new SimDisk({ random: seededRandom(1) });
    expect(disk.timing).toBeUndefined();
    const f = await sim.result(disk.open('f', { create: true }));
    await sim.result(f.append(new Uint8Array(MiB)));
    await sim.result(f.fsync());
    expect(sim.now).toBe(0);
    expect(() => new SimDisk({ random: seededRandom(1), timing: ssdTiming })).toThrow(/scheduler/);
  });

  it('simDisks gives every disk of a cell the same defaults, each overridable, with its own random stream', () => {
    const sim = new Simulation({ seed: 5 });
    const disk = simDisks({ random: sim.random, scheduler: sim.scheduler(), timing: ssdTiming });
    expect(disk('a').timing).toBe(ssdTiming);
    expect(disk('b', { timing: sata7200Timing }).timing).toBe(sata7200Timing);
    expect(disk('c', { timing: 'instant' }).timing).toBeUndefined();
  });
});

describe('SimDisk memory: one copy of each file plus what unsynced overwrites replaced', () => {
  it('a file of N bytes holds N bytes after fsync, and unsynced appends add no undo bytes', async () => {
    const disk = new SimDisk({ random: seededRandom(1) });
    const f = await disk.open('f', { create: true });
    for (let i = 0; i < 8; i++) await f.append(new Uint8Array(MiB).fill(i + 1));
    expect(disk.heldBytes()).toMatchObject({ fileBytes: 8 * MiB, undoBytes: 0 });
    await f.fsync();
    const held = disk.heldBytes();
    expect(held).toMatchObject({ fileBytes: 8 * MiB, undoBytes: 0 });
    expect(held.bufferBytes).toBeLessThan(2 * 8 * MiB);
  });

  it('an unsynced overwrite keeps the bytes it replaced until the next fsync, and a crash restores them', async () => {
    const disk = new SimDisk({ random: seededRandom(2), unsyncedOnCrash: 'drop' });
    const f = await disk.open('f', { create: true });
    await f.append(new Uint8Array(4 * KiB).fill(7));
    await f.fsync();
    await f.write(KiB, new Uint8Array(KiB).fill(8));
    expect(disk.heldBytes()).toMatchObject({ fileBytes: 4 * KiB, undoBytes: KiB });
    const after = disk.crash();
    const g = await after.open('f');
    expect([...(await g.read(0, 4 * KiB))].every((b) => b === 7)).toBe(true);
    await f.close().catch(() => {});
    await g.write(KiB, new Uint8Array(KiB).fill(8));
    await g.fsync();
    expect(after.heldBytes()).toMatchObject({ fileBytes: 4 * KiB, undoBytes: 0 });
  });

  it('a bit flipped under an unsynced overwrite is in the durable image a crash brings back', async () => {
    const disk = new SimDisk({ random: seededRandom(3), unsyncedOnCrash: 'drop' });
    const f = await disk.open('f', { create: true });
    await f.append(new Uint8Array(1_000));
    await f.fsync();
    await f.write(0, new Uint8Array(1_000).fill(0xff));
    disk.flipBit('f', 8 * 10 + 3);
    const g = await disk.crash().open('f');
    const data = await g.read(0, 1_000);
    expect(data[10]).toBe(1 << 3);
    expect(data.reduce((n, b) => n + (b === 0 ? 0 : 1), 0)).toBe(1);
  });
});

describe('disk time in a seeded simulation', () => {
  it('a group-committed op log on a slow disk batches more records per fsync than on a fast one (patent ¶48)', async () => {
    const recordsPerFsync = async (timing: DiskTiming): Promise<number> => {
      const sim = new Simulation({ seed: 11 });
      const inner = new SimDisk({ random: sim.random.fork('disk'), scheduler: sim.scheduler(), timing });
      const disk = new CrashPointDisk(inner);
      const log = await sim.result(OpLog.open(disk, { dir: 'log', defer: (fn) => sim.after(0, fn) }));
      const before = disk.calls.fsync;
      const appenders = 50;
      const perAppender = 20;
      const random = sim.random.fork('workload');
      await sim.result(
        Promise.all(
          Array.from({ length: appenders }, async (_, a) => {
            for (let i = 0; i < perAppender; i++) {
              await new Promise<void>((resolve) => sim.after(random.next() * 20, resolve));
              await log.append(new Uint8Array(128).fill(a));
            }
          }),
        ),
      );
      return (appenders * perAppender) / (disk.calls.fsync - before);
    };
    const fast = await recordsPerFsync(ssdTiming);
    const slow = await recordsPerFsync(sata7200Timing);
    expect(slow).toBeGreaterThan(2 * fast);
  });
});
