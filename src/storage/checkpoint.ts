import type { Defer } from '../runtime/env.js';
import type { Disk } from './disk.js';
import { joinPath, readWholeFile, writeFileAtomically } from './disk.js';
import { crc32c } from './crc32c.js';
import { checkpointConfigDefault, withDefaults, type CheckpointConfig, type OpLogConfig } from './config.js';
import { StorageError, assert, isStorageError } from './errors.js';
import { OpLog, type OpLogRecord } from './op-log.js';

/**
 * Checkpoints of a state machine whose mutations go through an `OpLog` (patent ¶49–51).
 *
 * A checkpoint file `<dir>/ckpt-<LSN>` holds the state after every record up to that LSN. It is
 * written to `<name>.tmp`, fsynced and renamed, so a crash leaves either no checkpoint or a whole
 * one; the header and trailer carry the LSN, length and a CRC32C, so an incomplete or damaged file
 * is detected and skipped (¶51), falling back to an older checkpoint and more of the log.
 *
 * Recovery (`openLogWithCheckpoints`) = newest complete checkpoint + the log records after it.
 * `takeCheckpoint` switches the log to a new segment and captures the state at that boundary in
 * the same turn; serializing and writing happen afterwards while appends go on (¶50). Then all but
 * the newest `checkpointsKept` checkpoints, and the log segments only they needed, are removed (¶51).
 */

const checkpointPrefix = 'ckpt-';
const magic = 0x4b435254; // "TRCK" little-endian
const formatVersion = 1;
/** magic u32, format u32, LSN hi u32, LSN lo u32, data length u32, CRC32C of the first 20 bytes and the data u32. */
const headerBytes = 24;

export function checkpointName(lsn: number): string {
  return `${checkpointPrefix}${lsn.toString().padStart(16, '0')}`;
}

export function parseCheckpointName(name: string): number | undefined {
  if (!name.startsWith(checkpointPrefix)) return undefined;
  const digits = name.slice(checkpointPrefix.length);
  return /^\d{16}$/.test(digits) ? Number(digits) : undefined;
}

export function encodeCheckpoint(lsn: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(headerBytes + data.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, magic, true);
  v.setUint32(4, formatVersion, true);
  v.setUint32(8, Math.floor(lsn / 0x1_0000_0000), true);
  v.setUint32(12, lsn >>> 0, true);
  v.setUint32(16, data.length, true);
  v.setUint32(20, crc32c(data, crc32c(out.subarray(0, 20))), true);
  out.set(data, headerBytes);
  return out;
}

/** The data of a checkpoint file, or a reason why it is not a complete checkpoint for `lsn`. */
export function decodeCheckpoint(file: Uint8Array, lsn: number): { data: Uint8Array } | { problem: string } {
  if (file.length < headerBytes) return { problem: `only ${file.length} bytes` };
  const v = new DataView(file.buffer, file.byteOffset, file.byteLength);
  if (v.getUint32(0, true) !== magic) return { problem: 'bad magic' };
  if (v.getUint32(4, true) !== formatVersion) return { problem: `unknown format ${v.getUint32(4, true)}` };
  const fileLsn = v.getUint32(8, true) * 0x1_0000_0000 + v.getUint32(12, true);
  if (fileLsn !== lsn) return { problem: `holds LSN ${fileLsn}, named ${lsn}` };
  const length = v.getUint32(16, true);
  if (file.length !== headerBytes + length) return { problem: `${file.length - headerBytes} data bytes, header says ${length}` };
  const data = file.subarray(headerBytes);
  if (crc32c(data, crc32c(file.subarray(0, 20))) !== v.getUint32(20, true)) return { problem: 'CRC mismatch' };
  return { data };
}

export class CheckpointStore {
  readonly config: CheckpointConfig;
  /** Checkpoints skipped at the last `loadNewest`, with the reason (for logs and tests). */
  readonly skipped: { name: string; problem: string }[] = [];

  constructor(
    private readonly disk: Disk,
    readonly dir: string,
    config?: Partial<CheckpointConfig>,
  ) {
    this.config = withDefaults(checkpointConfigDefault, config);
    assert(this.config.checkpointsKept >= 1, 'checkpointsKept >= 1');
  }

  /** LSNs of checkpoint files present (complete by name; contents not checked), oldest first. */
  async list(): Promise<number[]> {
    const names = await this.disk.list(this.dir);
    return names
      .map(parseCheckpointName)
      .filter((n): n is number => n !== undefined)
      .sort((a, b) => a - b);
  }

  /** The newest checkpoint whose contents check out; damaged ones are skipped (patent ¶51). */
  async loadNewest(): Promise<{ readonly lsn: number; readonly data: Uint8Array } | undefined> {
    this.skipped.length = 0;
    const lsns = await this.list();
    for (let i = lsns.length - 1; i >= 0; i--) {
      const lsn = lsns[i]!;
      const r = await this.read(lsn);
      if ('data' in r) return { lsn, data: r.data };
      this.skipped.push({ name: checkpointName(lsn), problem: r.problem });
    }
    return undefined;
  }

  /** The data of the checkpoint for `lsn`, or why it cannot be used (unreadable, incomplete, damaged). */
  async read(lsn: number): Promise<{ readonly data: Uint8Array } | { readonly problem: string }> {
    let file: Uint8Array;
    try {
      file = await readWholeFile(this.disk, joinPath(this.dir, checkpointName(lsn)), this.config.checkpointMaxBytes + headerBytes);
    } catch (err) {
      if (!isStorageError(err)) throw err;
      return { problem: err.message };
    }
    return decodeCheckpoint(file, lsn);
  }

  /** Writes the checkpoint for `lsn` atomically (temp name, fsync, rename). */
  async write(lsn: number, data: Uint8Array): Promise<void> {
    await writeFileAtomically(this.disk, joinPath(this.dir, checkpointName(lsn)), encodeCheckpoint(lsn, data));
  }

  /**
   * Keeps the newest `checkpointsKept` checkpoints and removes the rest, leftover temp files, and
   * the log segments no kept checkpoint needs. Returns the LSNs of the kept checkpoints, oldest first.
   */
  async prune(log: OpLog): Promise<readonly number[]> {
    const lsns = await this.list();
    const keep = lsns.slice(-this.config.checkpointsKept);
    for (const lsn of lsns.slice(0, lsns.length - keep.length)) await this.disk.remove(joinPath(this.dir, checkpointName(lsn)));
    for (const name of await this.disk.list(this.dir)) {
      if (name.startsWith(checkpointPrefix) && name.endsWith('.tmp')) await this.disk.remove(joinPath(this.dir, name)).catch(ignoreNotFound);
    }
    const oldest = keep[0];
    if (oldest !== undefined) await log.removeSegmentsThrough(oldest);
    return keep;
  }
}

function ignoreNotFound(err: unknown): void {
  if (!isStorageError(err, 'not_found')) throw err;
}

export interface RecoveredLog {
  readonly log: OpLog;
  readonly checkpoints: CheckpointStore;
  /** LSN of the checkpoint recovery started from (0 when there was none). */
  readonly checkpointLsn: number;
}

/**
 * Recovers a state machine: hands the newest complete checkpoint to `onCheckpoint`, then every
 * later log record to `onRecord`, and returns the log ready for appends. When the newest checkpoint
 * cannot be used with the log on disk, older ones are tried.
 */
export async function openLogWithCheckpoints(
  disk: Disk,
  options: {
    readonly dir: string;
    readonly logConfig?: Partial<OpLogConfig>;
    readonly checkpointConfig?: Partial<CheckpointConfig>;
    readonly onCheckpoint: (data: Uint8Array, lsn: number) => void;
    readonly onRecord: (record: OpLogRecord) => void;
    /** Passed to the log (see `OpLogOpenOptions.defer`). */
    readonly defer?: Defer;
  },
): Promise<RecoveredLog> {
  const checkpoints = new CheckpointStore(disk, options.dir, options.checkpointConfig);
  const newest = await checkpoints.loadNewest();
  if (newest !== undefined) options.onCheckpoint(newest.data, newest.lsn);
  const checkpointLsn = newest?.lsn ?? 0;
  const log = await OpLog.open(disk, {
    dir: options.dir,
    ...(options.logConfig === undefined ? {} : { config: options.logConfig }),
    afterLsn: checkpointLsn,
    onRecord: options.onRecord,
    ...(options.defer === undefined ? {} : { defer: options.defer }),
  });
  return { log, checkpoints, checkpointLsn };
}

/**
 * Takes a checkpoint without blocking appends (patent ¶50). `capture` runs synchronously at the log
 * boundary and must return a frozen view of the state (cheap: a copy-on-write snapshot); its
 * `serialize` runs afterwards, while new records are appended to the new segment.
 * Returns the checkpoint's LSN.
 */
export async function takeCheckpoint(
  log: OpLog,
  checkpoints: CheckpointStore,
  capture: () => { serialize(): Uint8Array | Promise<Uint8Array> },
): Promise<number> {
  const { boundaryLsn, done } = log.rotate();
  // Awaited below; handled now so a log failure during serialization is not an unhandled rejection.
  done.catch(() => undefined);
  const view = capture();
  const data = await view.serialize();
  if (data.length > checkpoints.config.checkpointMaxBytes) {
    throw new StorageError('no_space', `checkpoint of ${data.length} bytes exceeds checkpointMaxBytes ${checkpoints.config.checkpointMaxBytes}`);
  }
  // The checkpoint may only name LSNs that are durable in the log.
  await done;
  await checkpoints.write(boundaryLsn, data);
  await checkpoints.prune(log);
  return boundaryLsn;
}
