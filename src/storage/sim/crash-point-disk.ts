import { appendParts, type Disk, type DiskFile, type DiskNamespaceOptions, type DiskOpenOptions } from '../disk.js';
import { StorageError } from '../errors.js';

/**
 * A `Disk` wrapper that crashes at the n-th crash point: every call that can change the disk
 * (`open` with `create`, `write`, `append`, `truncate`, `fsync`, `rename`, `remove`) is one point.
 * When point `crashAtPoint` is reached, `onCrash` runs (a `SimDisk` is power-cut there) and that
 * call and every later one fail with `crashed`; calls already in flight fail as they return.
 *
 * Over a `SimDisk` this models a power cut; over the real disk, a process crash (what was written
 * stays in the page cache). `fsyncIsNoop` turns fsync into a no-op, for mutation tests that prove a
 * durability test can fail.
 */
export class CrashPointDisk implements Disk {
  /** Crash points passed so far. */
  points = 0;
  crashed = false;
  /** Calls made, by operation (for tests that count fsyncs). */
  readonly calls: Record<'open' | 'read' | 'write' | 'append' | 'truncate' | 'fsync' | 'rename' | 'remove' | 'list' | 'stat', number> = {
    open: 0,
    read: 0,
    write: 0,
    append: 0,
    truncate: 0,
    fsync: 0,
    rename: 0,
    remove: 0,
    list: 0,
    stat: 0,
  };
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly openFiles = new Set<DiskFile>();

  constructor(
    private readonly inner: Disk,
    private readonly options: { readonly crashAtPoint?: number; readonly onCrash?: () => void; readonly fsyncIsNoop?: boolean } = {},
  ) {}

  /** Resolves once no call to the inner disk is in flight (so a real disk is quiet before recovery). */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  open(path: string, options?: DiskOpenOptions): Promise<DiskFile> {
    this.calls.open++;
    return this.call(options?.create === true, async () => {
      const f = await this.inner.open(path, options);
      this.openFiles.add(f);
      return new CrashPointFile(this, f, () => this.openFiles.delete(f));
    });
  }

  /** After a crash: waits for calls in flight, then releases every inner file handle still open (the process that held them is gone). */
  async releaseAfterCrash(): Promise<void> {
    await this.settled();
    for (const f of this.openFiles) await f.close();
    this.openFiles.clear();
  }

  stat(path: string): Promise<{ readonly sizeBytes: number } | undefined> {
    this.calls.stat++;
    return this.call(false, () => this.inner.stat(path));
  }

  list(dir: string): Promise<string[]> {
    this.calls.list++;
    return this.call(false, () => this.inner.list(dir));
  }

  rename(from: string, to: string): Promise<void> {
    this.calls.rename++;
    return this.call(true, () => this.inner.rename(from, to));
  }

  remove(path: string, options?: DiskNamespaceOptions): Promise<void> {
    this.calls.remove++;
    return this.call(true, () => this.inner.remove(path, options));
  }

  freeSpaceBytes(): Promise<number> {
    return this.call(false, () => this.inner.freeSpaceBytes());
  }

  get fsyncIsNoop(): boolean {
    return this.options.fsyncIsNoop === true;
  }

  /** Runs `fn` unless the disk crashed; a mutating call counts one crash point first. */
  async call<T>(mutating: boolean, fn: () => Promise<T>): Promise<T> {
    this.check();
    if (mutating) {
      this.points++;
      if (this.options.crashAtPoint !== undefined && this.points >= this.options.crashAtPoint) {
        this.crashed = true;
        this.options.onCrash?.();
        this.check();
      }
    }
    const p = fn();
    this.inFlight.add(p);
    try {
      const out = await p;
      this.check();
      return out;
    } finally {
      this.inFlight.delete(p);
    }
  }

  private check(): void {
    if (this.crashed) throw new StorageError('crashed', `crash point ${this.options.crashAtPoint ?? '?'} reached`);
  }
}

class CrashPointFile implements DiskFile {
  constructor(
    private readonly disk: CrashPointDisk,
    private readonly inner: DiskFile,
    private readonly onClose: () => void,
  ) {}

  get path(): string {
    return this.inner.path;
  }

  sizeBytes(): number {
    return this.inner.sizeBytes();
  }

  read(offsetBytes: number, lengthBytes: number): Promise<Uint8Array> {
    this.disk.calls.read++;
    return this.disk.call(false, () => this.inner.read(offsetBytes, lengthBytes));
  }

  readInto(offsetBytes: number, into: Uint8Array): Promise<number> {
    this.disk.calls.read++;
    return this.disk.call(false, () => this.inner.readInto(offsetBytes, into));
  }

  write(offsetBytes: number, data: Uint8Array): Promise<void> {
    this.disk.calls.write++;
    return this.disk.call(true, () => this.inner.write(offsetBytes, data));
  }

  append(data: Uint8Array): Promise<number> {
    this.disk.calls.append++;
    return this.disk.call(true, () => this.inner.append(data));
  }

  appendv(parts: readonly Uint8Array[]): Promise<number> {
    this.disk.calls.append++;
    return this.disk.call(true, () => appendParts(this.inner, parts));
  }

  truncate(sizeBytes: number): Promise<void> {
    this.disk.calls.truncate++;
    return this.disk.call(true, () => this.inner.truncate(sizeBytes));
  }

  fsync(): Promise<void> {
    this.disk.calls.fsync++;
    return this.disk.call(true, () => (this.disk.fsyncIsNoop ? Promise.resolve() : this.inner.fsync()));
  }

  close(): Promise<void> {
    this.onClose();
    return this.inner.close();
  }
}
