import type { Timers } from '../runtime/env.js';
import { appendParts, type Disk, type DiskFile } from './disk.js';
import { StorageError } from './errors.js';

/**
 * Bounds every disk call by `ioTimeoutMs` (STYLE.md: every wait has a timeout). A call that does not
 * settle in time fails with `io_error`; the operation itself cannot be cancelled and may still
 * complete, so a caller treats a timed-out write like a failed one (the op log poisons itself).
 * Every wait in the storage layer (group commit, a chunk's operation queue, recovery) is behind
 * some disk call, so wrapping the disk bounds them all.
 */
export function withIoTimeout(disk: Disk, timers: Timers, ioTimeoutMs: number): Disk {
  if (!(ioTimeoutMs > 0)) throw new Error(`ioTimeoutMs must be positive, got ${ioTimeoutMs}`);
  const bound = <T>(what: string, path: string, p: Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const cancel = timers.after(ioTimeoutMs, () => reject(new StorageError('io_error', `${what} ${path} did not complete within ${ioTimeoutMs} ms; the device may be hung`, { path })));
      p.then(
        (v) => {
          cancel();
          resolve(v);
        },
        (err: unknown) => {
          cancel();
          reject(err);
        },
      );
    });
  const wrapFile = (f: DiskFile): DiskFile => ({
    path: f.path,
    sizeBytes: () => f.sizeBytes(),
    read: (o, n) => bound('read', f.path, f.read(o, n)),
    readInto: (o, into) => bound('read', f.path, f.readInto(o, into)),
    write: (o, d) => bound('write', f.path, f.write(o, d)),
    append: (d) => bound('append', f.path, f.append(d)),
    appendv: (parts) => bound('append', f.path, appendParts(f, parts)),
    truncate: (n) => bound('truncate', f.path, f.truncate(n)),
    fsync: () => bound('fsync', f.path, f.fsync()),
    close: () => bound('close', f.path, f.close()),
  });
  return {
    open: async (path, options) => wrapFile(await bound('open', path, disk.open(path, options))),
    stat: (path) => bound('stat', path, disk.stat(path)),
    list: (dir) => bound('list', dir, disk.list(dir)),
    rename: (from, to) => bound('rename', from, disk.rename(from, to)),
    remove: (path, options) => bound('remove', path, disk.remove(path, options)),
    freeSpaceBytes: () => bound('statfs', '', disk.freeSpaceBytes()),
  };
}
