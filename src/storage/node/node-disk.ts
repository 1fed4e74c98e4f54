import { constants, type FileHandle } from 'node:fs/promises';
import * as fsp from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { checkDiskPath, type Disk, type DiskFile, type DiskNamespaceOptions, type DiskOpenOptions } from '../disk.js';
import { StorageError, type StorageErrorCode } from '../errors.js';

/**
 * The real disk: files under a root folder, through node:fs. This is the only storage code that
 * touches the host file system (DESIGN.md §3).
 *
 * Namespace changes are made durable before they return by fsyncing the parent folder (a new file,
 * a rename, a remove), as the `Disk` contract promises; with `durable: false` that sync is skipped,
 * and the next one of the same folder covers the change.
 */
export class NodeDisk implements Disk {
  /** @param root absolute folder that holds every file of this disk; created if missing. */
  constructor(readonly root: string) {}

  async open(path: string, options?: DiskOpenOptions): Promise<DiskFile> {
    checkDiskPath(path);
    const full = join(this.root, path);
    let handle: FileHandle;
    try {
      if (options?.create === true) {
        await fsp.mkdir(dirname(full), { recursive: true });
        try {
          handle = await fsp.open(full, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL, 0o644);
          if (options.durable !== false) await syncDir(dirname(full));
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
          handle = await fsp.open(full, constants.O_RDWR);
        }
      } else {
        handle = await fsp.open(full, constants.O_RDWR);
      }
      const st = await handle.stat();
      return new NodeFile(path, handle, st.size);
    } catch (err) {
      throw toStorageError(err, `open ${path}`, path);
    }
  }

  async stat(path: string): Promise<{ readonly sizeBytes: number } | undefined> {
    checkDiskPath(path);
    try {
      const st = await fsp.stat(join(this.root, path));
      return st.isFile() ? { sizeBytes: st.size } : undefined;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw toStorageError(err, `stat ${path}`, path);
    }
  }

  async list(dir: string): Promise<string[]> {
    if (dir !== '') checkDiskPath(dir);
    try {
      const entries = await fsp.readdir(join(this.root, dir), { withFileTypes: true });
      return entries
        .filter((e) => e.isFile())
        .map((e) => e.name)
        .sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw toStorageError(err, `list ${dir}`, dir);
    }
  }

  async rename(from: string, to: string): Promise<void> {
    checkDiskPath(from);
    checkDiskPath(to);
    const a = join(this.root, from);
    const b = join(this.root, to);
    try {
      await fsp.mkdir(dirname(b), { recursive: true });
      await fsp.rename(a, b);
      await syncDir(dirname(b));
      if (dirname(a) !== dirname(b)) await syncDir(dirname(a));
    } catch (err) {
      throw toStorageError(err, `rename ${from} to ${to}`, from);
    }
  }

  async remove(path: string, options?: DiskNamespaceOptions): Promise<void> {
    checkDiskPath(path);
    const full = join(this.root, path);
    try {
      await fsp.unlink(full);
      if (options?.durable !== false) await syncDir(dirname(full));
    } catch (err) {
      throw toStorageError(err, `remove ${path}`, path);
    }
  }

  async freeSpaceBytes(): Promise<number> {
    try {
      await fsp.mkdir(this.root, { recursive: true });
      const s = await fsp.statfs(this.root);
      return s.bavail * s.bsize;
    } catch (err) {
      throw toStorageError(err, 'statfs', this.root);
    }
  }
}

class NodeFile implements DiskFile {
  private size: number;
  private closed = false;

  constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    sizeBytes: number,
  ) {
    this.size = sizeBytes;
  }

  sizeBytes(): number {
    return this.size;
  }

  async read(offsetBytes: number, lengthBytes: number): Promise<Uint8Array> {
    this.checkOpen();
    const out = new Uint8Array(Math.max(0, Math.min(lengthBytes, this.size - offsetBytes)));
    const done = await this.readInto(offsetBytes, out);
    return done === out.length ? out : out.subarray(0, done);
  }

  async readInto(offsetBytes: number, into: Uint8Array): Promise<number> {
    this.checkOpen();
    const want = into.length;
    let done = 0;
    try {
      while (done < want) {
        const { bytesRead } = await this.handle.read(into, done, want - done, offsetBytes + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
    } catch (err) {
      throw toStorageError(err, `read ${this.path} at ${offsetBytes}`, this.path);
    }
    return done;
  }

  async write(offsetBytes: number, data: Uint8Array): Promise<void> {
    this.checkOpen();
    await this.writeAll(offsetBytes, data);
    const end = offsetBytes + data.length;
    if (end > this.size) this.size = end;
  }

  async append(data: Uint8Array): Promise<number> {
    this.checkOpen();
    // Positional writes at a reserved offset, not O_APPEND: concurrent appends get disjoint ranges in call order.
    const offset = this.size;
    this.size += data.length;
    await this.writeAll(offset, data);
    return offset;
  }

  async appendv(parts: readonly Uint8Array[]): Promise<number> {
    this.checkOpen();
    const offset = this.size;
    let total = 0;
    for (const p of parts) total += p.length;
    this.size += total;
    // One writev per call, at most `iovMax` buffers each (Linux's IOV_MAX is 1024); a short write continues where it stopped.
    let i = 0;
    let skip = 0;
    let at = offset;
    try {
      while (i < parts.length) {
        const batch: Uint8Array[] = [];
        let want = 0;
        for (let j = i; j < parts.length && batch.length < iovMax; j++) {
          const b = j === i ? parts[j]!.subarray(skip) : parts[j]!;
          batch.push(b);
          want += b.length;
        }
        const { bytesWritten } = await this.handle.writev(batch, at);
        at += bytesWritten;
        if (bytesWritten === want) {
          i += batch.length;
          skip = 0;
          continue;
        }
        // Short write: skip the fully written buffers and the written part of the next one.
        let left = bytesWritten;
        for (const b of batch) {
          if (left < b.length) break;
          left -= b.length;
          i++;
          skip = 0;
        }
        skip += left;
      }
    } catch (err) {
      throw toStorageError(err, `write ${total} bytes to ${this.path} at ${offset}`, this.path);
    }
    return offset;
  }

  async truncate(sizeBytes: number): Promise<void> {
    this.checkOpen();
    try {
      await this.handle.truncate(sizeBytes);
      this.size = sizeBytes;
    } catch (err) {
      throw toStorageError(err, `truncate ${this.path} to ${sizeBytes}`, this.path);
    }
  }

  async fsync(): Promise<void> {
    this.checkOpen();
    try {
      await this.handle.datasync();
    } catch (err) {
      throw toStorageError(err, `fsync ${this.path}`, this.path);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.handle.close();
  }

  private async writeAll(offset: number, data: Uint8Array): Promise<void> {
    let done = 0;
    try {
      while (done < data.length) {
        const { bytesWritten } = await this.handle.write(data, done, data.length - done, offset + done);
        done += bytesWritten;
      }
    } catch (err) {
      throw toStorageError(err, `write ${data.length} bytes to ${this.path} at ${offset}`, this.path);
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new StorageError('closed', `${this.path} is closed`, { path: this.path });
  }
}

/** Buffers per `writev` call (Linux's IOV_MAX). */
const iovMax = 1024;

async function syncDir(dir: string): Promise<void> {
  const h = await fsp.open(dir, constants.O_RDONLY);
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

function toStorageError(err: unknown, what: string, path: string): StorageError {
  if (err instanceof StorageError) return err;
  const errno = (err as NodeJS.ErrnoException).code;
  const code: StorageErrorCode = errno === 'ENOSPC' || errno === 'EDQUOT' ? 'no_space' : errno === 'ENOENT' ? 'not_found' : 'io_error';
  const hint = code === 'no_space' ? ': the disk is full' : code === 'not_found' ? ': no such file' : '';
  return new StorageError(code, `${what} failed (${errno ?? 'unknown error'})${hint}`, { path, cause: err });
}
