/**
 * How long a simulated disk takes (the pure part of `SimDisk`'s timing; no clock, no I/O).
 *
 * The model, per operation:
 * - a *data* operation (read, write, append, truncate) first spends an access time — `randomAccessMs`
 *   when it does not continue where the previous operation on this disk ended (a seek plus rotation on
 *   a disk with a head; command and flash latency on an SSD), `sequentialAccessMs` when it does — and
 *   then moves its bytes over the disk's one transfer channel at `bandwidthBytesPerSec`;
 * - a *flush* (fsync, and the directory sync behind a durable namespace change) is a barrier: it
 *   starts once everything admitted before it has completed, takes `fsyncMs`, and nothing else is
 *   served meanwhile (a SATA FLUSH CACHE is a non-queued command: the queue drains first). It also
 *   forgets where the head was: the journal commit lands elsewhere.
 * - At most `queueDepth` operations are in service at once. Their access times overlap (an SSD's
 *   flash channels, a device's command queue); their transfers do not, and go in admission order, so
 *   operations complete in the order they were admitted. The shell (`SimDisk`) admits in call order.
 * - Access and flush times are scaled by a jitter factor drawn uniformly from
 *   `[1 - jitterFraction, 1 + jitterFraction]` (mean 1, so the presets' means hold), from the disk's
 *   seeded random stream. Transfer times are not jittered.
 *
 * A disk with one head cannot overlap positioning, so `sata7200` has `queueDepth` 1 (NCQ's
 * reordering of queued requests is not modelled).
 */
export interface DiskTiming {
  /** Access time of an operation that does not continue the previous one (seek + rotation, or SSD read latency), ms. */
  readonly randomAccessMs: number;
  /** Access time of an operation that starts where the previous one on this disk ended, ms. */
  readonly sequentialAccessMs: number;
  /** Transfer rate of the one channel every read and write crosses, bytes per second. */
  readonly bandwidthBytesPerSec: number;
  /** Duration of a flush (fsync, directory sync), ms; a barrier for every other operation. */
  readonly fsyncMs: number;
  /** Operations in service at once (their access times overlap). At least 1. */
  readonly queueDepth: number;
  /**
   * Operations waiting for a service slot, beyond which the disk refuses new ones with `backlog_full`
   * instead of letting the wait queue grow without bound (a caller issuing that many concurrent
   * operations has no bound of its own).
   */
  readonly waitingOpsMax: number;
  /** Access and flush times are scaled by a factor uniform in [1 - jitterFraction, 1 + jitterFraction]. In [0, 1). */
  readonly jitterFraction: number;
}

/**
 * The default: a modest SATA SSD. ~80 µs for a random 4 KiB read (datasheets of mainstream SATA
 * SSDs give 50–100 µs at queue depth 1), ~20 µs of command overhead for a sequential one; 500 MB/s,
 * close to what SATA 6 Gb/s carries (~550 MB/s) and what such drives sustain in sequential reads and
 * writes; 1 ms for a flush (a consumer drive without power-loss protection writes its volatile cache
 * back; 0.5–2 ms is typical, drives with capacitors answer in tens of µs); NCQ's 32 slots.
 * Chosen so that a 1 MiB write takes ~2 ms and a 4 KiB fsynced log append ~1.1 ms: far below the
 * GFS testbed's 100 Mbps NICs (80 ms per MiB), so the network stays the bottleneck as in the paper.
 */
export const ssdTiming: DiskTiming = {
  randomAccessMs: 0.08,
  sequentialAccessMs: 0.02,
  bandwidthBytesPerSec: 500e6,
  fsyncMs: 1,
  queueDepth: 32,
  waitingOpsMax: 4096,
  jitterFraction: 0.2,
};

/**
 * The Ceph thesis's commodity disk: a 500 GB 7200 rpm SATA drive, where "a random seek followed by a
 * single 4 KB read takes about 13 ms" (thesis §4.5.2.1) and an OSD's throughput is "ultimately limited
 * by the raw disk bandwidth (around 58 MB/sec)" (§6.4.0.1, Fig. 6.7). So 58 MB/s, and a random access
 * of 12.93 ms: with the 4 KiB transfer (0.07 ms) that is 13.0 ms. (It is also what the parts give: an
 * average seek of ~8.5 ms plus half a rotation at 7200 rpm, 4.2 ms.) The thesis's other figure
 * follows: 512 KiB after a seek takes 12.93 + 9.0 = 22 ms, "about twice" the 4 KB read.
 * A sequential access costs nothing (the head is there; the track buffer reads ahead). A flush is
 * not described in the thesis: 13 ms, one more random access (the file system's journal commit lands
 * elsewhere on the platter). Jitter ±30%: seek distance and rotational position vary widely. One head,
 * so one operation in service at a time.
 */
export const sata7200Timing: DiskTiming = {
  randomAccessMs: 12.93,
  sequentialAccessMs: 0,
  bandwidthBytesPerSec: 58e6,
  fsyncMs: 13,
  queueDepth: 1,
  waitingOpsMax: 4096,
  jitterFraction: 0.3,
};

/** The named timing presets. */
export const diskTimingPresets = { ssd: ssdTiming, sata7200: sata7200Timing } as const;

/** Throws on a timing a disk cannot follow (API misuse). */
export function checkDiskTiming(t: DiskTiming): void {
  const nonNegative = (name: string, v: number): void => {
    if (!(Number.isFinite(v) && v >= 0)) throw new RangeError(`disk timing: ${name} must be a finite number >= 0, got ${v}`);
  };
  nonNegative('randomAccessMs', t.randomAccessMs);
  nonNegative('sequentialAccessMs', t.sequentialAccessMs);
  nonNegative('fsyncMs', t.fsyncMs);
  if (!(Number.isFinite(t.bandwidthBytesPerSec) && t.bandwidthBytesPerSec > 0)) throw new RangeError(`disk timing: bandwidthBytesPerSec must be positive, got ${t.bandwidthBytesPerSec}`);
  if (!(Number.isSafeInteger(t.queueDepth) && t.queueDepth >= 1)) throw new RangeError(`disk timing: queueDepth must be an integer >= 1, got ${t.queueDepth}`);
  if (!(Number.isSafeInteger(t.waitingOpsMax) && t.waitingOpsMax >= 0)) throw new RangeError(`disk timing: waitingOpsMax must be an integer >= 0, got ${t.waitingOpsMax}`);
  if (!(t.jitterFraction >= 0 && t.jitterFraction < 1)) throw new RangeError(`disk timing: jitterFraction must be in [0, 1), got ${t.jitterFraction}`);
}

/** What an operation asks of the device. `file` identifies the file (for sequentiality); `offsetBytes` where it starts. */
export type DiskRequest =
  | { readonly kind: 'data'; readonly file: number; readonly offsetBytes: number; readonly bytes: number }
  | { readonly kind: 'flush' };

/** The device's timeline: when the transfer channel frees, until when a flush bars access, where the head is. */
export interface DiskTimeline {
  readonly channelFreeAtMs: number;
  readonly barrierUntilMs: number;
  /** The file and end offset of the last data operation admitted, or undefined (fresh disk, after a flush). */
  readonly head: { readonly file: number; readonly endBytes: number } | undefined;
}

export const idleTimeline: DiskTimeline = { channelFreeAtMs: 0, barrierUntilMs: 0, head: undefined };

/**
 * Admits one request at `nowMs` (the shell calls it only when a service slot is free) and returns
 * when it completes and the new timeline. `jitter` is a uniform draw in [0, 1).
 * Completion times never decrease in admission order (postcondition), which is what lets a later
 * fsync cover every earlier write and a later read see it.
 */
export function admit(t: DiskTiming, line: DiskTimeline, req: DiskRequest, nowMs: number, jitter: number): { readonly doneAtMs: number; readonly timeline: DiskTimeline } {
  if (!(jitter >= 0 && jitter < 1)) throw new RangeError(`jitter draw must be in [0, 1), got ${jitter}`);
  const factor = 1 + t.jitterFraction * (2 * jitter - 1);
  const lastDone = Math.max(line.channelFreeAtMs, line.barrierUntilMs);
  if (req.kind === 'flush') {
    const start = Math.max(nowMs, lastDone);
    const doneAtMs = start + t.fsyncMs * factor;
    return { doneAtMs, timeline: { channelFreeAtMs: doneAtMs, barrierUntilMs: doneAtMs, head: undefined } };
  }
  const sequential = line.head !== undefined && line.head.file === req.file && line.head.endBytes === req.offsetBytes;
  const accessDone = Math.max(nowMs, line.barrierUntilMs) + (sequential ? t.sequentialAccessMs : t.randomAccessMs) * factor;
  const doneAtMs = Math.max(accessDone, lastDone) + (req.bytes / t.bandwidthBytesPerSec) * 1000;
  if (!(doneAtMs >= lastDone)) throw new Error(`disk timing invariant broken: completion ${doneAtMs} before the previous one ${lastDone}`);
  return { doneAtMs, timeline: { channelFreeAtMs: doneAtMs, barrierUntilMs: line.barrierUntilMs, head: { file: req.file, endBytes: req.offsetBytes + req.bytes } } };
}

/** Service time of one request on an idle disk with no jitter (for documentation and tests): access + transfer, or the flush. */
export function serviceMs(t: DiskTiming, req: DiskRequest, sequential: boolean): number {
  if (req.kind === 'flush') return t.fsyncMs;
  return (sequential ? t.sequentialAccessMs : t.randomAccessMs) + (req.bytes / t.bandwidthBytesPerSec) * 1000;
}
