import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Cancel, Clock, Timers } from '../../../src/runtime/env.js';
import { seededRandom } from '../../../src/runtime/random.js';
import type { Disk } from '../../../src/storage/disk.js';
import { NodeDisk } from '../../../src/storage/node/node-disk.js';
import { CrashPointDisk } from '../../../src/storage/sim/crash-point-disk.js';
import { ssdTiming } from '../../../src/storage/sim/disk-timing.js';
import { SimDisk, type DiskScheduler, type SimDiskOptions } from '../../../src/storage/sim/sim-disk.js';

/** A virtual clock and timers: time moves only when a test advances it. */
export class ManualTime implements Clock, Timers {
  private t = 0;
  private seq = 0;
  private readonly queue: { at: number; seq: number; fn: () => void; cancelled: boolean }[] = [];

  now(): number {
    return this.t;
  }

  after(delayMs: number, fn: () => void): Cancel {
    const entry = { at: this.t + Math.max(0, delayMs), seq: this.seq++, fn, cancelled: false };
    this.queue.push(entry);
    return () => {
      entry.cancelled = true;
    };
  }

  /**
   * Runs due timers in time order up to `now + ms`, letting promises settle between them. With
   * `awaitReschedule`, after each timer it also waits (up to 10 s of real time) until a new timer is
   * scheduled: for periodic tasks doing real-disk I/O between ticks (the scrubber).
   */
  async advance(ms: number, options?: { readonly awaitReschedule?: boolean }): Promise<void> {
    const end = this.t + ms;
    while (true) {
      await settle();
      this.queue.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.queue[0];
      if (next === undefined || next.at > end) break;
      this.queue.shift();
      this.t = next.at;
      if (next.cancelled) continue;
      const pending = this.queue.length;
      next.fn();
      // A periodic task (the scrubber) does real I/O and then schedules its next timer: on a real
      // disk, wait for that (up to 10 s of real time: a task that never reschedules just costs the wait),
      // so virtual time does not run ahead of it.
      const deadline = performance.now() + (options?.awaitReschedule === true ? 10_000 : 0);
      while (this.queue.length <= pending && performance.now() < deadline) await new Promise((resolve) => setImmediate(resolve));
    }
    this.t = end;
    await settle();
  }
}

/** Lets pending microtasks (and simulated disk completions) run. */
export async function settle(rounds = 50): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}

/** A disk under test: fresh, reopenable after a crash, and disposable. */
export interface DiskUnderTest {
  readonly disk: Disk;
  /** The disk as it is after a crash (power cut for the sim; process crash for real files). */
  reopen(): Promise<Disk>;
  dispose(): Promise<void>;
}

/**
 * The disks every storage suite runs against (issue 4 item 6): the simulated disk, instant and on
 * virtual time, and real files in a fresh temporary folder.
 */
export interface DiskKind {
  readonly name: 'sim' | 'timed sim' | 'real';
  /** Makes a fresh disk; `seed` drives the simulated disk's randomness. */
  make(seed: number): Promise<DiskUnderTest>;
  /**
   * Makes a fresh disk wrapped to crash at `crashAtPoint` (see CrashPointDisk). `crashed()` gives the
   * disk to recover on (the sim's surviving image, or the same folder).
   */
  makeCrashing(seed: number, crashAtPoint: number | undefined, options?: { fsyncIsNoop?: boolean; unsyncedOnCrash?: 'prefix-torn' | 'drop' }): Promise<CrashingDisk>;
}

export interface CrashingDisk {
  readonly disk: CrashPointDisk;
  crashed(): Promise<Disk>;
  dispose(): Promise<void>;
}

/** A kind of simulated disk: `extra` adds options (a scheduler and timing) to each disk it makes. */
function simDiskKind(name: 'sim' | 'timed sim', extra: () => Partial<SimDiskOptions>): DiskKind {
  return {
    name,
    async make(seed) {
      let disk = new SimDisk({ random: seededRandom(seed), ...extra() });
      return {
        get disk() {
          return disk;
        },
        async reopen() {
          disk = disk.crash();
          return disk;
        },
        async dispose() {},
      };
    },
    async makeCrashing(seed, crashAtPoint, options) {
      const sim = new SimDisk({ random: seededRandom(seed), ...extra(), unsyncedOnCrash: options?.unsyncedOnCrash ?? 'prefix-torn' });
      let image: SimDisk | undefined;
      const disk = new CrashPointDisk(sim, {
        ...(crashAtPoint === undefined ? {} : { crashAtPoint }),
        onCrash: () => {
          image = sim.crash();
        },
        fsyncIsNoop: options?.fsyncIsNoop ?? false,
      });
      return {
        disk,
        async crashed() {
          await disk.settled();
          return image ?? sim.crash();
        },
        async dispose() {},
      };
    },
  };
}

/** The simulated disk that completes every operation after a microtask. */
export const simKind: DiskKind = simDiskKind('sim', () => ({}));

async function tempRoot(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'troupe-storage-'));
}

export const realKind: DiskKind = {
  name: 'real',
  async make() {
    const root = await tempRoot();
    return {
      disk: new NodeDisk(root),
      async reopen() {
        return new NodeDisk(root);
      },
      async dispose() {
        await rm(root, { recursive: true, force: true });
      },
    };
  },
  async makeCrashing(_seed, crashAtPoint, options) {
    const root = await tempRoot();
    const disk = new CrashPointDisk(new NodeDisk(root), {
      ...(crashAtPoint === undefined ? {} : { crashAtPoint }),
      fsyncIsNoop: options?.fsyncIsNoop ?? false,
    });
    return {
      disk,
      async crashed() {
        await disk.releaseAfterCrash();
        return new NodeDisk(root);
      },
      async dispose() {
        await rm(root, { recursive: true, force: true });
      },
    };
  },
};

/**
 * Virtual time that moves on its own: whenever the host has nothing else to run (a `setImmediate`
 * turn, after every promise continuation), the earliest due callback runs and time jumps to it. It
 * lets a timed `SimDisk` serve plain async tests, with its operations ordered and costed as on the
 * simulator's agenda.
 */
export class SelfDrivingScheduler implements DiskScheduler {
  private t = 0;
  private seq = 0;
  private readonly due: { at: number; seq: number; fn: () => void }[] = [];
  private armed = false;

  now(): number {
    return this.t;
  }

  at(timeMs: number, fn: () => void): void {
    this.due.push({ at: Math.max(timeMs, this.t), seq: this.seq++, fn });
    this.arm();
  }

  private arm(): void {
    if (this.armed || this.due.length === 0) return;
    this.armed = true;
    setImmediate(() => {
      this.armed = false;
      this.due.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.due.shift();
      if (next !== undefined) {
        this.t = next.at;
        next.fn();
      }
      this.arm();
    });
  }
}

/** The simulated disk on virtual time (the SSD preset), driven by a `SelfDrivingScheduler`. */
export const timedSimKind: DiskKind = simDiskKind('timed sim', () => ({ scheduler: new SelfDrivingScheduler(), timing: ssdTiming }));

export const diskKinds: readonly DiskKind[] = [simKind, timedSimKind, realKind];

/** Seeds used by seeded tests; `STORAGE_SEED=n` runs one chosen seed instead. */
export function testSeeds(defaults: readonly number[]): readonly number[] {
  const env = process.env['STORAGE_SEED'];
  return env === undefined ? defaults : [Number(env)];
}

export function bytesOf(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}
