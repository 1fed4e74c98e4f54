import { StorageError, assert } from './errors.js';

/**
 * A disk as the storage layer sees it: a flat namespace of files named by `/`-separated relative
 * paths, byte-oriented and asynchronous. Two implementations: real files (`node/node-disk.ts`) and
 * the simulator's in-memory disk (`sim/sim-disk.ts`). Storage code depends only on this interface,
 * so the runtime can hand a node's disk to its actors (`ctx.disk`) and the simulator can control
 * every completion, crash and fault.
 *
 * Durability contract (both implementations):
 * - `write`, `append` and `truncate` change the file's contents as seen by later reads at once, but
 *   survive a crash only after a later `fsync` of the same file returns. A crash can keep any prefix
 *   of the unsynced changes and can tear the last one kept.
 * - Namespace changes (`open` with `create` making a new file, `rename`, `remove`) are durable when
 *   they return (the real disk syncs the directory). `rename` replaces its target atomically.
 * - Except with `durable: false` (on `open` with `create`, and on `remove`): then the change may be
 *   lost in a crash until a later durable namespace change in the same folder returns, which makes it
 *   durable too (the real disk's directory sync covers every entry of the folder). For files whose
 *   name matters only once a later rename in that folder is durable (a temp file, a chunk's data file
 *   before its first checksum file), or whose reappearance after a crash is cleaned up (an orphan):
 *   each saves a directory sync (a journal commit, ~2 ms on ext4).
 */
export interface Disk {
  /**
   * Opens a file. Without `create` a missing file fails with `not_found`; parent folders are made as
   * needed. A file it creates is durable at once, unless `durable: false` (see the contract above).
   */
  open(path: string, options?: DiskOpenOptions): Promise<DiskFile>;
  /** Size of a file, or undefined when there is no file at `path`. */
  stat(path: string): Promise<{ readonly sizeBytes: number } | undefined>;
  /** Names (not paths) of the files directly in `dir`, sorted; empty when `dir` does not exist. */
  list(dir: string): Promise<string[]>;
  /** Atomically renames `from` to `to`, replacing `to`. `not_found` when `from` is missing. */
  rename(from: string, to: string): Promise<void>;
  /** Removes a file, durably unless `durable: false`. `not_found` when it is missing. Open handles keep working on the unlinked file. */
  remove(path: string, options?: DiskNamespaceOptions): Promise<void>;
  /** Bytes still available for file data. */
  freeSpaceBytes(): Promise<number>;
}

export interface DiskNamespaceOptions {
  /** Default true. False: the change may be lost in a crash until a later durable namespace change in the same folder (see `Disk`). */
  readonly durable?: boolean;
}

export interface DiskOpenOptions extends DiskNamespaceOptions {
  /** Create the file when it is missing. */
  readonly create?: boolean;
}

export interface DiskFile {
  readonly path: string;
  /** Current size, including unsynced changes made through any handle of this file. */
  sizeBytes(): number;
  /** Up to `lengthBytes` bytes from `offsetBytes`; shorter only at the end of the file. */
  read(offsetBytes: number, lengthBytes: number): Promise<Uint8Array>;
  /** Reads into `into` from `offsetBytes`; returns the bytes read (fewer only at the end of the file). Saves an allocation and a copy on large reads. */
  readInto(offsetBytes: number, into: Uint8Array): Promise<number>;
  /** Writes `data` at `offsetBytes`; writing past the end leaves a hole that reads as zeros. Do not change `data` until the promise settles. */
  write(offsetBytes: number, data: Uint8Array): Promise<void>;
  /** Writes `data` at the end of the file; returns the offset it was written at. Concurrent appends get disjoint ranges in call order. */
  append(data: Uint8Array): Promise<number>;
  /**
   * Optional: `append` of the concatenation of `parts`, without concatenating them first (one
   * vectored write on a real disk). Same durability and crash behaviour as one `append`. Callers
   * go through `appendParts`, which falls back to a copy and `append` when a file lacks it.
   */
  appendv?(parts: readonly Uint8Array[]): Promise<number>;
  /** Cuts or extends (with zeros) the file to `sizeBytes`. */
  truncate(sizeBytes: number): Promise<void>;
  /** Makes every change made so far to this file durable. */
  fsync(): Promise<void>;
  /** Releases the handle; later calls fail with `closed`. Does not fsync. */
  close(): Promise<void>;
}

/** Validates a disk path: relative, `/`-separated, no empty, `.` or `..` segments. */
export function checkDiskPath(path: string): void {
  if (path.length === 0 || path.startsWith('/') || path.endsWith('/')) throw new Error(`invalid disk path "${path}": must be relative and name a file`);
  for (const seg of path.split('/')) {
    if (seg === '' || seg === '.' || seg === '..') throw new Error(`invalid disk path "${path}": empty, "." or ".." segment`);
  }
}

export function joinPath(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}

export function parentDir(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

/** Total length of `parts`. */
export function partsBytes(parts: readonly Uint8Array[]): number {
  let n = 0;
  for (const p of parts) n += p.length;
  return n;
}

/** Appends the concatenation of `parts` as one append: vectored when the file supports it, else copied into one buffer. */
export function appendParts(file: DiskFile, parts: readonly Uint8Array[]): Promise<number> {
  if (parts.length === 1) return file.append(parts[0]!);
  if (file.appendv !== undefined) return file.appendv(parts);
  return file.append(concatParts(parts));
}

/** The concatenation of `parts` in one new buffer. */
export function concatParts(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(partsBytes(parts));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Reads a whole file. */
export async function readWholeFile(disk: Disk, path: string, maxBytes: number): Promise<Uint8Array> {
  const f = await disk.open(path);
  try {
    const size = f.sizeBytes();
    if (size > maxBytes) throw new StorageError('io_error', `${path} is ${size} bytes, more than the ${maxBytes} allowed`, { path });
    const data = await f.read(0, size);
    assert(data.length === size, `read of ${path} returned ${data.length} of ${size} bytes`);
    return data;
  } finally {
    await f.close();
  }
}

/**
 * Replaces the file at `path` with `data` so that a crash leaves either the old file or the whole
 * new one: write to `<path>.tmp`, fsync, rename over `path` (patent ¶50–51 for checkpoints).
 *
 * The temp file is created with `durable: false`: its name matters only once the rename is durable,
 * and callers remove leftover `.tmp` files when they open. With `renameAfter`, the rename waits for
 * that promise too (and is skipped, rejecting with its error, if it fails): a caller can write the
 * new file while something it must follow is still in flight (the chunk store's data fsync). The
 * caller still handles that promise's own rejection: it is not awaited when writing the temp file
 * fails first.
 */
export async function writeFileAtomically(disk: Disk, path: string, data: Uint8Array, options?: { readonly renameAfter?: Promise<void> }): Promise<void> {
  const tmp = `${path}.tmp`;
  const f = await disk.open(tmp, { create: true, durable: false });
  try {
    await f.truncate(0);
    await f.write(0, data);
    await f.fsync();
  } finally {
    await f.close();
  }
  if (options?.renameAfter !== undefined) await options.renameAfter;
  await disk.rename(tmp, path);
}
