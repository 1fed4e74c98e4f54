/**
 * Storage errors a caller can act on. Each code is one situation the caller reacts to differently:
 * `no_space` (free space, then retry or refuse the write), `io_error` (the device failed; treat the
 * file or disk as suspect), `corrupt_block` and `checksum_file_corrupt` (report the replica and
 * re-clone it, patent ¶124), `not_found`, `stale_version` (the replica missed mutations),
 * `corrupt_log` (acknowledged history is damaged: stop and restore from a replica),
 * `backlog_full` (too many records waiting for group commit: back off), `crashed` (a simulated
 * power cut or process crash happened; reopen), `closed` (the object was closed or poisoned by an
 * earlier failure), `invalid_transaction` (an ObjectStore transaction failed validation; nothing
 * of it was applied).
 *
 * `throw new Error(...)` is reserved for API misuse and broken invariants.
 */
export type StorageErrorCode =
  | 'no_space'
  | 'io_error'
  | 'corrupt_block'
  | 'checksum_file_corrupt'
  | 'not_found'
  | 'already_exists'
  | 'stale_version'
  | 'corrupt_log'
  | 'backlog_full'
  | 'crashed'
  | 'closed'
  | 'invalid_transaction';

export class StorageError extends Error {
  readonly code: StorageErrorCode;
  /** The file or object the error is about, when there is one. */
  readonly path: string | undefined;

  constructor(code: StorageErrorCode, message: string, options?: { path?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'StorageError';
    this.code = code;
    this.path = options?.path;
  }
}

export function isStorageError(err: unknown, code?: StorageErrorCode): err is StorageError {
  return err instanceof StorageError && (code === undefined || err.code === code);
}

/** Asserts an internal invariant; a failure is a bug in this layer, not a condition to handle. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`storage invariant broken: ${message}`);
}
