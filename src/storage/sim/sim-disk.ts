import type { Random } from '../../runtime/random.js';
import { checkDiskPath, parentDir, type Disk, type DiskFile, type DiskNamespaceOptions, type DiskOpenOptions } from '../disk.js';
import { StorageError, assert } from '../errors.js';

/**
 * The simulated disk: files in memory, with the crash and fault model of DESIGN.md §3.
 *
 * Each file keeps its durable image (as of the last fsync) and the list of changes made since.
 * `crash()` is a power cut: it returns a new disk holding, per file, the durable image plus a random
 * prefix of the unsynced changes, the last of which may be torn (only some of its 512-byte sectors
 * land); with `unsyncedOnCrash: 'drop'` only fsynced data survives. Namespace changes are durable
 * at once (the contract of `Disk`), except those made with `durable: false`: per folder, a crash keeps
 * a random prefix of them (none with `'drop'`), until a durable namespace change in that folder makes
 * them all durable (as the real disk's directory sync does).
 *
 * Faults, all decided by the injected `Random` so a run replays from its seed: bit flips on write,
 * misdirected writes (the data lands at another offset), EIO on any operation, ENOSPC once
 * `capacityBytes` is reached; and by hand: `flipBit`, `failNext`.
 *
 * Every operation completes after a microtask, so concurrent callers interleave deterministically.
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

type Change = { readonly kind: 'write'; readonly offset: number; readonly data: Uint8Array } | { readonly kind: 'truncate'; readonly size: number };

/** A growable byte array. */
class Bytes {
  private buf: Uint8Array;
  size: number;

  constructor(initial?: Uint8Array) {
    this.buf = new Uint8Array(Math.max(64, initial?.length ?? 0));
    this.size = 0;
    if (initial !== undefined) this.write(0, initial);
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

  truncate(size: number): void {
    if (size > this.size) {
      this.ensure(size);
      this.buf.fill(0, this.size, size);
    }
    this.size = size;
  }

  apply(c: Change): void {
    if (c.kind === 'write') this.write(c.offset, c.data);
    else this.truncate(c.size);
  }

  read(offset: number, length: number): Uint8Array {
    const end = Math.min(this.size, offset + length);
    return end <= offset ? new Uint8Array(0) : this.buf.slice(offset, end);
  }

  flipBit(bit: number): void {
    const byte = Math.floor(bit / 8);
    assert(byte < this.size, 'bit flip inside the file');
    this.buf[byte]! ^= 1 << (bit % 8);
  }

  copy(): Bytes {
    return new Bytes(this.buf.subarray(0, this.size));
  }
}

/** A namespace change made with `durable: false`, not yet made durable by a later durable change in its folder. */
interface PendingNameChange {
  readonly kind: 'create' | 'remove';
  readonly path: string;
  readonly inode: SimInode;
}

/** One file (an inode): handles and the namespace point at it. */
class SimInode {
  readonly durable: Bytes;
  readonly current: Bytes;
  unsynced: Change[] = [];

  constructor(durable: Bytes) {
    this.durable = durable;
    this.current = durable.copy();
  }
}

export class SimDisk implements Disk {
  private readonly files = new Map<string, SimInode>();
  /** Non-durable namespace changes by folder, in call order. */
  private readonly pendingNames = new Map<string, PendingNameChange[]>();
  private readonly random: Random;
  private readonly faults: SimDiskFaults;
  private readonly unsyncedOnCrash: 'prefix-torn' | 'drop';
  readonly fsyncIsNoop: boolean;
  private capacityBytes: number;
  private usedBytes = 0;
  private dead = false;
  private readonly forcedFailures: { op: SimDiskOp; path: string | undefined; code: 'io_error' | 'no_space' }[] = [];
  /** Faults injected so far (the most recent `faultLogMax`). */
  readonly faultLog: SimDiskFaultRecord[] = [];

  constructor(options: SimDiskOptions) {
    this.random = options.random;
    this.faults = options.faults ?? {};
    this.unsyncedOnCrash = options.unsyncedOnCrash ?? 'prefix-torn';
    this.capacityBytes = options.capacityBytes ?? Number.MAX_SAFE_INTEGER;
    this.fsyncIsNoop = options.fsyncIsNoop ?? false;
  }

  /**
   * Power cut. This disk stops working (every later call fails with `crashed`, including calls in
   * flight); the returned disk holds what survived and has the same options, with a forked random stream.
   */
  crash(): SimDisk {
    this.dead = true;
    const next = new SimDisk({ random: this.random.fork('after-crash'), capacityBytes: this.capacityBytes, faults: this.faults, unsyncedOnCrash: this.unsyncedOnCrash, fsyncIsNoop: this.fsyncIsNoop });
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
      const image = inode.durable.copy();
      if (this.unsyncedOnCrash === 'prefix-torn' && inode.unsynced.length > 0) {
        const kept = this.random.int(inode.unsynced.length + 1);
        for (let i = 0; i < kept; i++) {
          const c = inode.unsynced[i]!;
          if (i === kept - 1 && c.kind === 'write' && c.data.length > sectorBytes && this.random.chance(0.5)) {
            // Tear the last write kept: only a prefix of its sectors reaches the platter.
            const sectors = Math.ceil(c.data.length / sectorBytes);
            const landed = this.random.int(sectors);
            image.write(c.offset, c.data.subarray(0, landed * sectorBytes));
            this.logFault({ kind: 'torn_write', path, offsetBytes: c.offset + landed * sectorBytes });
          } else {
            image.apply(c);
          }
        }
      }
      next.files.set(path, new SimInode(image));
      next.usedBytes += image.size;
    }
    return next;
  }

  /** Namespace changes made with `durable: false` and not yet durable (for tests). */
  pendingNameChanges(): number {
    let n = 0;
    for (const changes of this.pendingNames.values()) n += changes.length;
    return n;
  }

  /** Flips one stored bit (media corruption): in the durable image and in the current contents. */
  flipBit(path: string, bitOffset: number): void {
    const inode = this.inode(path);
    inode.current.flipBit(bitOffset);
    if (Math.floor(bitOffset / 8) < inode.durable.size) inode.durable.flipBit(bitOffset);
    this.logFault({ kind: 'bit_flip', path, offsetBytes: Math.floor(bitOffset / 8) });
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
    await this.tick();
    let inode = this.files.get(path);
    if (inode === undefined) {
      if (options?.create !== true) throw new StorageError('not_found', `no file ${path}`, { path });
      inode = new SimInode(new Bytes());
      this.files.set(path, inode);
      this.nameChanged({ kind: 'create', path, inode }, options);
    }
    return new SimFile(this, path, inode);
  }

  async stat(path: string): Promise<{ readonly sizeBytes: number } | undefined> {
    checkDiskPath(path);
    await this.tick();
    const inode = this.files.get(path);
    return inode === undefined ? undefined : { sizeBytes: inode.current.size };
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
    await this.tick();
    const inode = this.files.get(from);
    if (inode === undefined) throw new StorageError('not_found', `cannot rename ${from}: no such file`, { path: from });
    const replaced = this.files.get(to);
    if (replaced !== undefined && replaced !== inode) this.usedBytes -= replaced.current.size;
    this.files.delete(from);
    this.files.set(to, inode);
    this.pendingNames.delete(parentDir(from));
    this.pendingNames.delete(parentDir(to));
  }

  async remove(path: string, options?: DiskNamespaceOptions): Promise<void> {
    checkDiskPath(path);
    await this.tick();
    const inode = this.files.get(path);
    if (inode === undefined) throw new StorageError('not_found', `cannot remove ${path}: no such file`, { path });
    this.files.delete(path);
    this.usedBytes -= inode.current.size;
    this.nameChanged({ kind: 'remove', path, inode }, options);
  }

  async freeSpaceBytes(): Promise<number> {
    await this.tick();
    return Math.max(0, this.capacityBytes - this.usedBytes);
  }

  // ---- used by SimFile ----

  /** Waits a microtask, then fails if the disk crashed meanwhile. */
  async tick(): Promise<void> {
    this.checkAlive();
    await Promise.resolve();
    this.checkAlive();
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
      const sectors = Math.max(1, Math.floor(inode.current.size / sectorBytes));
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
    return this.inode.current.size;
  }

  async read(offsetBytes: number, lengthBytes: number): Promise<Uint8Array> {
    checkRange(offsetBytes, lengthBytes);
    await this.enter('read', offsetBytes);
    return this.inode.current.read(offsetBytes, lengthBytes);
  }

  async readInto(offsetBytes: number, into: Uint8Array): Promise<number> {
    checkRange(offsetBytes, into.length);
    await this.enter('read', offsetBytes);
    const data = this.inode.current.read(offsetBytes, into.length);
    into.set(data);
    return data.length;
  }

  async write(offsetBytes: number, data: Uint8Array): Promise<void> {
    checkRange(offsetBytes, data.length);
    await this.enter('write', offsetBytes);
    this.store(offsetBytes, data);
  }

  async append(data: Uint8Array): Promise<number> {
    // The offset is taken before the await so that concurrent appends get disjoint ranges in call order.
    this.checkOpen();
    const offset = this.inode.current.size;
    const reserved = offset + data.length;
    this.disk.grow(this.path, offset, reserved);
    this.inode.current.truncate(reserved);
    this.inode.unsynced.push({ kind: 'truncate', size: reserved });
    // If this fails, nothing of the data was written and the reserved range stays as zeros, as a failed append can leave.
    await this.enter('append', offset);
    const landed = this.disk.faultWrite(this.path, this.inode, offset, data);
    this.inode.current.write(landed.offset, landed.data);
    this.inode.unsynced.push({ kind: 'write', offset: landed.offset, data: landed.data.slice() });
    return offset;
  }

  async truncate(sizeBytes: number): Promise<void> {
    checkRange(sizeBytes, 0);
    await this.enter('truncate', sizeBytes);
    const old = this.inode.current.size;
    this.disk.grow(this.path, old, sizeBytes);
    this.disk.shrink(old, sizeBytes);
    this.inode.current.truncate(sizeBytes);
    this.inode.unsynced.push({ kind: 'truncate', size: sizeBytes });
  }

  async fsync(): Promise<void> {
    await this.enter('fsync', 0);
    if (this.disk.fsyncIsNoop) return;
    for (const c of this.inode.unsynced) this.inode.durable.apply(c);
    this.inode.unsynced = [];
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.resolve();
  }

  private store(offset: number, data: Uint8Array): void {
    const old = this.inode.current.size;
    this.disk.grow(this.path, old, Math.max(old, offset + data.length));
    const landed = this.disk.faultWrite(this.path, this.inode, offset, data);
    const before = this.inode.current.size;
    this.inode.current.write(landed.offset, landed.data);
    // A misdirected write can land past the intended end; account for it too.
    if (this.inode.current.size > Math.max(old, offset + data.length)) this.disk.grow(this.path, Math.max(before, offset + data.length), this.inode.current.size);
    this.inode.unsynced.push({ kind: 'write', offset: landed.offset, data: landed.data.slice() });
  }

  private checkOpen(): void {
    this.disk.checkAlive();
    if (this.closed) throw new StorageError('closed', `${this.path} is closed`, { path: this.path });
  }

  private async enter(op: SimDiskOp, offset: number): Promise<void> {
    this.checkOpen();
    await this.disk.tick();
    this.checkOpen();
    this.disk.maybeFail(op, this.path, offset);
  }
}

function checkRange(offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) throw new Error(`invalid byte range: offset ${offset}, length ${length}`);
}
