import type { Disk, DiskFile } from '../../src/storage/disk.js';

/**
 * A disk that passes every call through to `current()` but runs each file's fsync through
 * `fsync(inner)` — for slow or hung devices in tests. `current` is a function so a test can swap
 * the disk underneath (a simulated power cut returns a new one).
 */
export function withFsync(current: () => Disk, fsync: (inner: () => Promise<void>) => Promise<void>): Disk {
  return {
    open: async (path, options) => {
      const f = await current().open(path, options);
      const file: DiskFile = {
        path: f.path,
        sizeBytes: () => f.sizeBytes(),
        read: (o, n) => f.read(o, n),
        readInto: (o, into) => f.readInto(o, into),
        write: (o, d) => f.write(o, d),
        append: (d) => f.append(d),
        truncate: (n) => f.truncate(n),
        fsync: () => fsync(() => f.fsync()),
        close: () => f.close(),
      };
      return file;
    },
    stat: (path) => current().stat(path),
    list: (dir) => current().list(dir),
    rename: (from, to) => current().rename(from, to),
    remove: (path, options) => current().remove(path, options),
    freeSpaceBytes: () => current().freeSpaceBytes(),
  };
}
