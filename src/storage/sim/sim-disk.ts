import type { Random } from '../../runtime/random.js';
import { checkDiskPath, concatParts, parentDir, type Disk, type DiskFile, type DiskNamespaceOptions, type DiskOpenOptions } from '../disk.js';
import { StorageError, assert } from '../errors.js';
import { admit, checkDiskTiming, idleTimeline, ssdTiming, type DiskRequest, type DiskTimeline, type DiskTiming } from './disk-timing.js';

/**
 * The simulated disk: files in memory, with the crash and fault model of DESIGN.md §3.
 *
 * Each file keeps its current contents and, for the changes made since the last fsync, an undo
 * record of what each change replaced. `crash()` is a power cut: it returns a new disk holding, per
 * file, the durable image plus a random prefix of the unsynced changes, the last of which may be torn
 * (only some of its 512-byte sectors land); with `unsyncedOnCrash: 'drop'` only fsynced data survives.
 * Namespace changes are durable at once (the contract of `Disk`), except those made with
 * `durable: false`: per folder, a crash keeps a random prefix of them (none with `'drop'`), until a
 * durable namespace change in that folder makes them all durable (as the real disk's directory sync does).
 *
 * Memory: one copy of each file plus the bytes unsynced changes overwrote. Undo rather than redo
 * because the common operations are then the cheap ones: a read is one copy out of the current
 * bytes (a redo list would overlay every unsynced change on each read), an fsync drops the undo list
 * (a durable image would need every unsynced byte copied into it, and then holds a second copy of
 * the file), and an append — the bulk of the writes (chunks, logs) — replaces only the zeros it
 * reserved, recorded as a length, not bytes. Only an overwrite of existing non-zero bytes stores
 * them, as long as it stays unsynced. The price is paid at a crash, which walks the undo records
 * back (a rare event, in proportion to the unsynced data).
 *
 * Faults, all decided by the injected `Random` so a run replays from its seed: bit flips on write,
 * misdirected writes (the data lands at another offset), EIO on any operation, ENOSPC once
 * `capacityBytes` is reached; and by hand: `flipBit`, `failNext`.
 *
 * Time (`disk-timing.ts`): with a `scheduler`, operations take virtual time from a model of the
 * device (default `ssdTiming`), completing in call order, and every effect (a write's bytes, an
 * fsync making things durable, a created name) happens when the operation completes. Without one
 * (or with `timing: 'instant'`) every operation completes after a microtask, so concurrent callers
 * still interleave deterministically: for unit tests that do not care about time.
 *
 * A crash with operations in flight (timed disks): they never complete. Each rejects at once with
 * `crashed`; a write, append (its data), truncate or fsync still in flight had no effect — the
 * caller never saw it succeed, so nothing acknowledged is lost. An append's reservation of its range
 * (the file grows with zeros when it is called, so concurrent appends get disjoint ranges) is an
 * unsynced change like any other. The dead disk's scheduled completions find their operations
 * already settled and do nothing; the disk `crash()` returns is a separate object that nothing
 * issued before the crash can reach.
 */
export interface SimDiskOptions {
  readonly random: Random;
  /** Total file bytes the disk holds; writes beyond it fail with `no_space`. */
  readonly capacityBytes?: number;
  readonly faults?: SimDiskFaults;
  /** What a crash keeps of unsynced changes (default `prefix-torn`). */
  readonly unsyncedOnCrash?: 'prefix-torn' | 'drop';
  /**
   * A lying disk: fsync succeeds without making anything durable. For mutation checks that prove a
   * durability test notices lost acknowledged data.
   */
  readonly fsyncIsNoop?: boolean;
  /**
   * Virtual time and the agenda operations complete on (a `Simulation`'s `scheduler()`). Without it
   * the disk is instant.
   */
  readonly scheduler?: DiskScheduler;
  /** How long operations take when a scheduler is given: a model (default `ssdTiming`) or `'instant'`. */
  readonly timing?: DiskTiming | 'instant';
}

/** Virtual time (ms) and a way to run a callback at a virtual time; never real timers. */
export interface DiskScheduler {
  now(): number;
  at(timeMs: number, fn: () => void): void;
}

export interface SimDiskFaults {
  /** Probability that a write or append stores one bit flipped. */
  readonly bitFlipOnWriteProbability?: number;
  /** Probability that a write lands at a different, sector-aligned offset of the same file. */
  readonly misdirectedWriteProbability?: number;
  /** Probability that any read, write, append, truncate or fsync fails with `io_error`. */
  readonly ioErrorProbability?: number;
}

export type SimDiskOp = 'read' | 'write' | 'append' | 'truncate' | 'fsync';

/** A record of an injected fault, for debugging a failed seed. */
export interface SimDiskFaultRecord {
  readonly kind: 'bit_flip' | 'misdirected_write' | 'io_error' | 'no_space' | 'torn_write';
  readonly path: string;
  readonly offsetBytes: number;
}

const sectorBytes = 512;
const faultLogMax = 1000;
/** Non-durable namespace changes kept per folder; past it the oldest counts as durable (a real file system commits its journal on its own too). */
const pendingNameChangesMax = 1000;

/**
 * What one unsynced change replaced, enough to take it back: the file's size before it, and the
 * bytes it overwrote (`old`, or, when they were all zeros, only their count).
 */
interface Undo {
  readonly kind: 'write' | 'truncate';
  readonly oldSize: number;
  /** Where the overwritten bytes start (a write's offset; a shrinking truncate's new size). */
  readonly offset: number;
  /** The overwritten bytes; undefined when they were all zeros (an append's reserved range). */
  old: Uint8Array | undefined;
  readonly oldLength: number;
  /** Bytes a write stored (a tear keeps a prefix of its sectors); 0 for a truncate. */
  readonly writeLength: number;
}

/** A growable byte array. */
class Bytes {
  private buf: Uint8Array;
  size: number;

  constructor() {
    this.buf = new Uint8Array(64);
    this.size = 0;
  }

  /** Bytes allocated (≥ size: the buffer grows by doubling). */
  get capacityBytes(): number {
    return this.buf.length;
  }

  private ensure(capacity: number): void {
    if (capacity <= this.buf.length) return;
    const next = new Uint8Array(Math.max(capacity, this.buf.length * 2));
    next.set(this.buf.subarray(0, this.size));
    this.buf = next;
  }

  write(offset: number, data: Uint8Array): void {
    const end = offset + data.length;
    this.ensure(end);
    if (offset > this.size) this.buf.fill(0, this.size, offset);
    this.buf.set(data, offset);
    if (end > this.size) this.size = end;
  }

  /** Sets `length` bytes from `offset` to zero (inside the file). */
  zero(offset: number, length: number): void {
    assert(offset + length <= this.size, 'zeroed range inside the file');
    this.buf.fill(0, offset, offset + length);
  }

  truncate(size: number): void {
    if (size > this.size) {
      this.ensure(size);
      this.buf.fill(0, this.size, size);
    }
    this.size = size;
  }

  read(offset: number, length: number): Uint8Array {
    const end = Math.min(this.size, offset + length);
    return end <= offset ? new Uint8Array(0) : this.buf.slice(offset, end);
  }

  /** Copies the bytes in [offset, offset + into.length) ∩ the file into `into`; returns how many. */
  readInto(offset: number, into: Uint8Array): number {
    const end = Math.min(this.size, offset + into.length);
    if (end <= offset) return 0;
    into.set(this.buf.subarray(offset, end));
    return end - offset;
  }

  /** The bytes in [offset, offset + length) ∩ the file, or undefined when they are all zeros. */
  saved(offset: number, length: number): Uint8Array | undefined {
    const end = Math.min(this.size, offset + length);
    return isZero(this.buf, offset, end) ? undefined : this.buf.slice(offset, end);
  }

  flipBit(bit: number): void {
    const byte = Math.floor(bit / 8);
    assert(byte < this.size, 'bit flip inside the file');
    this.buf[byte]! ^= 1 << (bit % 8);
  }
}

/** Whether buf[start, end) is all zeros: 4 bytes at a time over the aligned middle (appends check whole MiB ranges). */
function isZero(buf: Uint8Array, start: number, end: number): boolean {
  let i = start;
  const alignedStart = Math.min(end, (start + 3) & ~3);
  for (; i < alignedStart; i++) if (buf[i] !== 0) return false;
  const words = (end - i) >>> 2;
  if (words > 0) {
    const view = new Int32Array(buf.buffer, buf.byteOffset + i, words);
    for (let w = 0; w < words; w++) if (view[w] !== 0) return false;
    i += words * 4;
  }
  for (; i < end; i++) if (buf[i] !== 0) return false;
  return true;
}

/** A namespace change made with `durable: false`, not yet made durable by a later durable change in its folder. */
interface PendingNameChange {
  readonly kind: 'create' | 'remove';
  readonly path: string;
  readonly inode: SimInode;
}

/**
 * One file (an inode): handles and the namespace point at it. `bytes` is the current contents;
 * undoing `undo` from the last record back gives the durable image (invariant).
 */
class SimInode {
  bytes: Bytes;
  undo: Undo[] = [];

  constructor(
    readonly id: number,
    bytes: Bytes,
  ) {
    this.bytes = bytes;
  }

  get size(): number {
    return this.bytes.size;
  }

  write(offset: number, data: Uint8Array): void {
    const oldSize = this.bytes.size;
    const oldLength = Math.max(0, Math.min(oldSize, offset + data.length) - offset);
    this.undo.push({ kind: 'write', oldSize, offset, old: oldLength > 0 ? this.bytes.saved(offset, oldLength) : undefined, oldLength, writeLength: data.length });
    this.bytes.write(offset, data);
  }

  truncate(size: number): void {
    const oldSize = this.bytes.size;
    const oldLength = Math.max(0, oldSize - size);
    this.undo.push({ kind: 'truncate', oldSize, offset: size, old: oldLength > 0 ? this.bytes.saved(size, oldLength) : undefined, oldLength, writeLength: 0 });
    this.bytes.truncate(size);
  }

  /** Takes back the last unsynced change. */
  undoLast(): Undo {
    const u = this.undo.pop();
    assert(u !== undefined, 'an unsynced change to undo');
    this.bytes.truncate(u.oldSize);
    if (u.oldLength > 0) {
      if (u.old === undefined) this.bytes.zero(u.offset, u.oldLength);
      else this.bytes.write(u.offset, u.old);
    }
    return u;
  }

  /** Size of the durable image. */
  get durableSize(): number {
    return this.undo[0]?.oldSize ?? this.bytes.size;
  }

  /** Flips a bit of the durable image where an unsynced change overwrote it (the earliest such change holds it). */
  flipDurableUnder(byte: number, bit: number): boolean {
    for (const u of this.undo) {
      if (byte >= u.offset && byte < u.offset + u.oldLength) {
        u.old ??= new Uint8Array(u.oldLength);
        u.old[byte - u.offset]! ^= 1 << bit;
        return true;
      }
    }
    return false;
  }

  get undoBytes(): number {
    let n = 0;
    for (const u of this.undo) n += u.old?.length ?? 0;
    return n;
  }
}

/** An operation waiting for, or in, service on a timed disk. */
interface DiskOp {
  readonly req: DiskRequest;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
  settled: boolean;
}

/** Bytes a simulated disk holds in memory (`SimDisk.heldBytes`). */
export interface SimDiskMemory {
  /** Current contents of every file in the namespace. */
  readonly fileBytes: number;
  /** Bytes unsynced changes overwrote, kept to take them back in a crash. */
  readonly undoBytes: number;
  /** Buffers allocated for file contents (≥ fileBytes: buffers grow by doubling). */
  readonly bufferBytes: number;
}

export class SimDisk implements Disk {
  private readonly files = new Map<string, SimInode>();
  /** Non-durable namespace changes by folder, in call order. */
  private readonly pendingNames = new Map<string, PendingNameChange[]>();
  private readonly options: SimDiskOptions;
  private readonly random: Random;
  private readonly faults: SimDiskFaults;
  private readonly unsyncedOnCrash: 'prefix-torn' | 'drop';
  readonly fsyncIsNoop: boolean;
  private capacityBytes: number;
  private usedBytes = 0;
  private dead = false;
  private nextInodeId = 1;
  private readonly forcedFailures: { op: SimDiskOp; path: string | undefined; code: 'io_error' | 'no_space' }[] = [];
  /** Faults injected so far (the most recent `faultLogMax`). */
  readonly faultLog: SimDiskFaultRecord[] = [];
  // ---- timing (undefined: instant) ----
  /** The timing model in use, or undefined for an instant disk. */
  readonly timing: DiskTiming | undefined;
  private readonly scheduler: DiskScheduler | undefined;
  private readonly jitter: Random;
  private timeline: DiskTimeline = idleTimeline;
  private serving = 0;
  /** Operations waiting for a service slot, oldest first (from `waitingHead`). */
  private waiting: DiskOp[] = [];
  private waitingHead = 0;
  private readonly inService = new Set<DiskOp>();

  constructor(options: SimDiskOptions) {
    this.options = options;
    this.random = options.random;
    this.faults = options.faults ?? {};
    this.unsyncedOnCrash = options.unsyncedOnCrash ?? 'prefix-torn';
    this.capacityBytes = options.capacityBytes ?? Number.MAX_SAFE_INTEGER;
    this.fsyncIsNoop = options.fsyncIsNoop ?? false;
    this.scheduler = options.scheduler;
    const timing = options.timing ?? ssdTiming;
    if (timing !== 'instant' && options.scheduler === undefined && options.timing !== undefined) {
      throw new Error('SimDisk: a timing model needs a scheduler (a Simulation\'s scheduler()) to complete operations on virtual time');
    }
    this.timing = timing === 'instant' || options.scheduler === undefined ? undefined : timing;
    if (this.timing !== undefined) checkDiskTiming(this.timing);
    // A stream of its own, so timing draws never shift the fault and crash draws of a seed.
    this.jitter = options.random.fork('timing');
  }

  /**
   * Power cut. This disk stops working (every later call fails with `crashed`, and every call in
   * flight rejects with `crashed` at once, without effect); the returned disk holds what survived and
   * has the same options (timing and scheduler too), with a forked random stream. The file contents
   * move to the new disk: the dead disk's handles report size 0.
   */
  crash(): SimDisk {
    this.dead = true;
    this.abortInFlight();
    const next = new SimDisk({ ...this.options, random: this.random.fork('after-crash'), capacityBytes: this.capacityBytes, faults: this.faults, unsyncedOnCrash: this.unsyncedOnCrash, fsyncIsNoop: this.fsyncIsNoop });
    // The namespace that survives: the current one, with the non-durable changes each folder lost undone (latest first).
    const names = new Map(this.files);
    for (const changes of this.pendingNames.values()) {
      const kept = this.unsyncedOnCrash === 'prefix-torn' ? this.random.int(changes.length + 1) : 0;
      for (let i = changes.length - 1; i >= kept; i--) {
        const c = changes[i]!;
        if (c.kind === 'create' && names.get(c.path) === c.inode) names.delete(c.path);
        if (c.kind === 'remove' && !names.has(c.path)) names.set(c.path, c.inode);
      }
    }
    for (const [path, inode] of names) {
      const n = inode.undo.length;
      const kept = this.unsyncedOnCrash === 'prefix-torn' && n > 0 ? this.random.int(n + 1) : 0;
      while (inode.undo.length > kept) inode.undoLast();
      const last = inode.undo[kept - 1];
      if (last !== undefined && last.kind === 'write' && last.writeLength > sectorBytes && this.random.chance(0.5)) {
        // Tear the last write kept: only a prefix of its sectors reaches the platter.
        const sectors = Math.ceil(last.writeLength / sectorBytes);
        const landed = this.random.int(sectors);
        const data = inode.bytes.read(last.offset, landed * sectorBytes);
        inode.undoLast();
        inode.bytes.write(last.offset, data);
        this.logFault({ kind: 'torn_write', path, offsetBytes: last.offset + landed * sectorBytes });
      }
      const survivor = new SimInode(next.nextInodeId++, inode.bytes);
      next.files.set(path, survivor);
      next.usedBytes += survivor.size;
      // The contents moved; the dead inode keeps nothing.
      inode.bytes = new Bytes();
      inode.undo = [];
    }
    return next;
  }

  /** Namespace changes made with `durable: false` and not yet durable (for tests). */
  pendingNameChanges(): number {
    let n = 0;
    for (const changes of this.pendingNames.values()) n += changes.length;
    return n;
  }

  /** What the disk holds in memory: one copy of each file plus the bytes unsynced overwrites replaced. */
  heldBytes(): SimDiskMemory {
    let fileBytes = 0;
    let undoBytes = 0;
    let bufferBytes = 0;
    for (const inode of this.files.values()) {
      fileBytes += inode.size;
      undoBytes += inode.undoBytes;
      bufferBytes += inode.bytes.capacityBytes;
    }
    return { fileBytes, undoBytes, bufferBytes };
  }

  /** Operations in service and waiting for a slot (timed disks; 0 for an instant one). */
  get queuedOps(): { readonly inService: number; readonly waiting: number } {
    return { inService: this.serving, waiting: this.waiting.length - this.waitingHead };
  }

  /** Flips one stored bit (media corruption): in the durable image and in the current contents. */
  flipBit(path: string, bitOffset: number): void {
    const inode = this.inode(path);
    const byte = Math.floor(bitOffset / 8);
    inode.bytes.flipBit(bitOffset);
    if (byte < inode.durableSize) inode.flipDurableUnder(byte, bitOffset % 8);
    this.logFault({ kind: 'bit_flip', path, offsetBytes: byte });
  }

  /** Makes the next `op` (on `path`, or on any file) fail with `code`. */
  failNext(op: SimDiskOp, code: 'io_error' | 'no_space', path?: string): void {
    this.forcedFailures.push({ op, path, code });
  }

  setCapacityBytes(capacityBytes: number): void {
    this.capacityBytes = capacityBytes;
  }

  /** Bytes of file data currently stored (unsynced included). */
  get usedSpaceBytes(): number {
    return this.usedBytes;
  }

  async open(path: string, options?: DiskOpenOptions): Promise<DiskFile> {
    checkDiskPath(path);
    const creates = options?.create === true && !this.files.has(path) && options.durable !== false;
    await (creates ? this.service({ kind: 'flush' }) : this.tick());
    let inode = this.files.get(path);
    if (inode === undefined) {
      if (options?.create !== true) throw new StorageError('not_found', `no file ${path}`, { path });
      inode = new SimInode(this.nextInodeId++, new Bytes());
      this.files.set(path, inode);
      this.nameChanged({ kind: 'create', path, inode }, options);
    }
    return new SimFile(this, path, inode);
  }

  async stat(path: string): Promise<{ readonly sizeBytes: number } | undefined> {
    checkDiskPath(path);
    await this.tick();
    const inode = this.files.get(path);
    return inode === undefined ? undefined : { sizeBytes: inode.size };
  }

  async list(dir: string): Promise<string[]> {
    await this.tick();
    const names: string[] = [];
    for (const path of this.files.keys()) {
      if (parentDir(path) === dir) names.push(path.slice(dir === '' ? 0 : dir.length + 1));
    }
    return names.sort();
  }

  async rename(from: string, to: string): Promise<void> {
    checkDiskPath(from);
    checkDiskPath(to);
    await this.service({ kind: 'flush' });
    const inode = this.files.get(from);
    if (inode === undefined) throw new StorageError('not_found', `cannot rename ${from}: no such file`, { path: from });
    const replaced = this.files.get(to);
    if (replaced !== undefined && replaced !== inode) this.usedBytes -= replaced.size;
    this.files.delete(from);
    this.files.set(to, inode);
    this.pendingNames.delete(parentDir(from));
    this.pendingNames.delete(parentDir(to));
  }

  async remove(path: string, options?: DiskNamespaceOptions): Promise<void> {
    checkDiskPath(path);
    await (options?.durable === false ? this.tick() : this.service({ kind: 'flush' }));
    const inode = this.files.get(path);
    if (inode === undefined) throw new StorageError('not_found', `cannot remove ${path}: no such file`, { path });
    this.files.delete(path);
    this.usedBytes -= inode.size;
    this.nameChanged({ kind: 'remove', path, inode }, options);
  }

  async freeSpaceBytes(): Promise<number> {
    await this.tick();
    return Math.max(0, this.capacityBytes - this.usedBytes);
  }

  // ---- used by SimFile ----

  /** Waits a microtask, then fails if the disk crashed meanwhile: the cost of an operation that needs no device time (metadata in memory), and of every operation on an instant disk. */
  async tick(): Promise<void> {
    this.checkAlive();
    await Promise.resolve();
    this.checkAlive();
  }

  /**
   * Waits until the device has served `req` (a microtask on an instant disk), then fails if the disk
   * crashed meanwhile. Requests are admitted in call order, at most `queueDepth` at once; past
   * `waitingOpsMax` waiting ones a new request fails with `backlog_full`.
   */
  service(req: DiskRequest): Promise<void> {
    // The instant disk's promise is the tick's own, so it costs the same microtasks as it always did.
    return this.timing === undefined ? this.tick() : this.timedService(req, this.timing);
  }

  private async timedService(req: DiskRequest, timing: DiskTiming): Promise<void> {
    this.checkAlive();
    await new Promise<void>((resolve, reject) => {
      const op: DiskOp = { req, resolve, reject, settled: false };
      if (this.serving < timing.queueDepth) {
        this.startOp(op);
        return;
      }
      if (this.waiting.length - this.waitingHead >= timing.waitingOpsMax) {
        reject(new StorageError('backlog_full', `the simulated disk already has ${timing.waitingOpsMax} operations waiting for service (waitingOpsMax); back off`));
        return;
      }
      this.waiting.push(op);
    });
    this.checkAlive();
  }

  private startOp(op: DiskOp): void {
    const timing = this.timing as DiskTiming;
    const scheduler = this.scheduler as DiskScheduler;
    const now = scheduler.now();
    const { doneAtMs, timeline } = admit(timing, this.timeline, op.req, now, this.jitter.next());
    this.timeline = timeline;
    this.serving++;
    this.inService.add(op);
    assert(this.serving <= timing.queueDepth, 'operations in service within queueDepth');
    scheduler.at(doneAtMs, () => this.completeOp(op));
  }

  private completeOp(op: DiskOp): void {
    if (op.settled) return; // rejected by a crash
    op.settled = true;
    this.inService.delete(op);
    this.serving--;
    while (this.serving < (this.timing as DiskTiming).queueDepth && this.waitingHead < this.waiting.length) {
      const next = this.waiting[this.waitingHead]!;
      this.waiting[this.waitingHead++] = undefined as unknown as DiskOp;
      if (this.waitingHead > 1024 && this.waitingHead * 2 > this.waiting.length) {
        this.waiting = this.waiting.slice(this.waitingHead);
        this.waitingHead = 0;
      }
      this.startOp(next);
    }
    op.resolve();
  }

  /** A crash: every operation waiting or in service rejects with `crashed`, without effect. */
  private abortInFlight(): void {
    const err = (): StorageError => new StorageError('crashed', 'the simulated disk lost power with this operation in flight; it had no effect');
    for (const op of this.inService) {
      op.settled = true;
      op.reject(err());
    }
    this.inService.clear();
    for (let i = this.waitingHead; i < this.waiting.length; i++) {
      const op = this.waiting[i]!;
      op.settled = true;
      op.reject(err());
    }
    this.waiting = [];
    this.waitingHead = 0;
    this.serving = 0;
  }

  checkAlive(): void {
    if (this.dead) throw new StorageError('crashed', 'the simulated disk lost power');
  }

  /** Throws an injected fault for this operation, if one is due. */
  maybeFail(op: SimDiskOp, path: string, offsetBytes: number): void {
    const i = this.forcedFailures.findIndex((f) => f.op === op && (f.path === undefined || f.path === path));
    if (i >= 0) {
      const [f] = this.forcedFailures.splice(i, 1);
      this.logFault({ kind: f!.code, path, offsetBytes });
      throw f!.code === 'io_error'
        ? new StorageError('io_error', `simulated EIO on ${op} of ${path} at ${offsetBytes}`, { path })
        : new StorageError('no_space', `simulated ENOSPC on ${op} of ${path}`, { path });
    }
    const p = this.faults.ioErrorProbability ?? 0;
    if (p > 0 && this.random.chance(p)) {
      this.logFault({ kind: 'io_error', path, offsetBytes });
      throw new StorageError('io_error', `simulated EIO on ${op} of ${path} at ${offsetBytes}`, { path });
    }
  }

  /** Reserves space for a file growing from `oldSize` to `newSize`, or throws `no_space`. */
  grow(path: string, oldSize: number, newSize: number): void {
    const delta = newSize - oldSize;
    if (delta <= 0) return;
    if (this.usedBytes + delta > this.capacityBytes) {
      this.logFault({ kind: 'no_space', path, offsetBytes: oldSize });
      throw new StorageError('no_space', `no space left on the simulated disk to grow ${path} by ${delta} bytes (${this.capacityBytes - this.usedBytes} free)`, { path });
    }
    this.usedBytes += delta;
  }

  shrink(oldSize: number, newSize: number): void {
    if (newSize < oldSize) this.usedBytes -= oldSize - newSize;
  }

  /** Applies random write faults: returns where and what actually gets written. */
  faultWrite(path: string, inode: SimInode, offset: number, data: Uint8Array): { offset: number; data: Uint8Array } {
    let outOffset = offset;
    let out = data;
    const flip = this.faults.bitFlipOnWriteProbability ?? 0;
    if (flip > 0 && data.length > 0 && this.random.chance(flip)) {
      out = data.slice();
      const bit = this.random.int(out.length * 8);
      out[bit >>> 3]! ^= 1 << (bit & 7);
      this.logFault({ kind: 'bit_flip', path, offsetBytes: offset + (bit >>> 3) });
    }
    const mis = this.faults.misdirectedWriteProbability ?? 0;
    if (mis > 0 && this.random.chance(mis)) {
      const sectors = Math.max(1, Math.floor(inode.size / sectorBytes));
      const target = this.random.int(sectors) * sectorBytes;
      if (target !== offset) {
        outOffset = target;
        this.logFault({ kind: 'misdirected_write', path, offsetBytes: offset });
      }
    }
    return { offset: outOffset, data: out };
  }

  /** A durable change makes its folder's earlier non-durable ones durable too; a non-durable one waits for that. */
  private nameChanged(change: PendingNameChange, options: DiskNamespaceOptions | undefined): void {
    const dir = parentDir(change.path);
    if (options?.durable !== false) {
      this.pendingNames.delete(dir);
      return;
    }
    const changes = this.pendingNames.get(dir);
    if (changes === undefined) {
      this.pendingNames.set(dir, [change]);
      return;
    }
    changes.push(change);
    if (changes.length > pendingNameChangesMax) changes.shift();
  }

  private inode(path: string): SimInode {
    const inode = this.files.get(path);
    if (inode === undefined) throw new StorageError('not_found', `no file ${path}`, { path });
    return inode;
  }

  private logFault(r: SimDiskFaultRecord): void {
    if (this.faultLog.length >= faultLogMax) this.faultLog.shift();
    this.faultLog.push(r);
  }
}

class SimFile implements DiskFile {
  private closed = false;

  constructor(
    private readonly disk: SimDisk,
    readonly path: string,
    private readonly inode: SimInode,
  ) {}

  sizeBytes(): number {
    return this.inode.size;
  }

  async read(offsetBytes: number, lengthBytes: number): Promise<Uint8Array> {
    checkRange(offsetBytes, lengthBytes);
    await this.enter('read', offsetBytes, this.readable(offsetBytes, lengthBytes));
    return this.inode.bytes.read(offsetBytes, lengthBytes);
  }

  async readInto(offsetBytes: number, into: Uint8Array): Promise<number> {
    checkRange(offsetBytes, into.length);
    await this.enter('read', offsetBytes, this.readable(offsetBytes, into.length));
    // Straight into the caller's buffer: a scrubbing chunkserver reads most of what the suite reads.
    return this.inode.bytes.readInto(offsetBytes, into);
  }

  async write(offsetBytes: number, data: Uint8Array): Promise<void> {
    checkRange(offsetBytes, data.length);
    await this.enter('write', offsetBytes, data.length);
    this.store(offsetBytes, data);
  }

  async append(data: Uint8Array): Promise<number> {
    // The offset is taken before the await so that concurrent appends get disjoint ranges in call order.
    this.checkOpen();
    const offset = this.inode.size;
    const reserved = offset + data.length;
    this.disk.grow(this.path, offset, reserved);
    this.inode.truncate(reserved);
    // If this fails, nothing of the data was written and the reserved range stays as zeros, as a failed append can leave.
    await this.enter('append', offset, data.length);
    const landed = this.disk.faultWrite(this.path, this.inode, offset, data);
    this.inode.write(landed.offset, landed.data);
    return offset;
  }

  /** One append of the parts' concatenation (the simulated device sees a single write). */
  appendv(parts: readonly Uint8Array[]): Promise<number> {
    return this.append(concatParts(parts));
  }

  async truncate(sizeBytes: number): Promise<void> {
    checkRange(sizeBytes, 0);
    await this.enter('truncate', sizeBytes, 0);
    const old = this.inode.size;
    this.disk.grow(this.path, old, sizeBytes);
    this.disk.shrink(old, sizeBytes);
    this.inode.truncate(sizeBytes);
  }

  async fsync(): Promise<void> {
    this.checkOpen();
    await this.disk.service({ kind: 'flush' });
    this.checkOpen();
    this.disk.maybeFail('fsync', this.path, 0);
    if (this.disk.fsyncIsNoop) return;
    this.inode.undo = [];
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.resolve();
  }

  private store(offset: number, data: Uint8Array): void {
    const old = this.inode.size;
    this.disk.grow(this.path, old, Math.max(old, offset + data.length));
    const landed = this.disk.faultWrite(this.path, this.inode, offset, data);
    const before = this.inode.size;
    this.inode.write(landed.offset, landed.data);
    // A misdirected write can land past the intended end; account for it too.
    if (this.inode.size > Math.max(old, offset + data.length)) this.disk.grow(this.path, Math.max(before, offset + data.length), this.inode.size);
  }

  /** Bytes a read at `offset` of up to `length` would return now (what the device transfers). */
  private readable(offset: number, length: number): number {
    return Math.max(0, Math.min(this.inode.size, offset + length) - offset);
  }

  private checkOpen(): void {
    this.disk.checkAlive();
    if (this.closed) throw new StorageError('closed', `${this.path} is closed`, { path: this.path });
  }

  private async enter(op: SimDiskOp, offset: number, bytes: number): Promise<void> {
    this.checkOpen();
    await this.disk.service({ kind: 'data', file: this.inode.id, offsetBytes: offset, bytes });
    this.checkOpen();
    this.disk.maybeFail(op, this.path, offset);
  }
}

function checkRange(offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) throw new Error(`invalid byte range: offset ${offset}, length ${length}`);
}

/** Options shared by every disk of a simulated cell (`simDisks`). */
export type SimDiskDefaults = Omit<SimDiskOptions, 'random'> & { readonly random: Random };

/**
 * The disks of a whole simulated cell, with one set of defaults (the per-simulation setting: one
 * scheduler, one timing, the same faults), each overridable per disk. Disk `label` gets the random
 * stream `random.fork('disk:<label>')`, so adding a disk never shifts another's draws.
 *
 * ```ts
 * const disk = simDisks({ random: sim.random, scheduler: sim.scheduler(), timing: ssdTiming });
 * const d1 = disk('cs1');
 * const slow = disk('cs2', { timing: sata7200Timing });
 * ```
 */
export function simDisks(defaults: SimDiskDefaults): (label: string, options?: Partial<Omit<SimDiskOptions, 'random'>>) => SimDisk {
  return (label, options) => new SimDisk({ ...defaults, ...options, random: defaults.random.fork(`disk:${label}`) });
}
