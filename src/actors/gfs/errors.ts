/**
 * GFS error codes (STYLE.md): one per situation a caller reacts to differently. Replies carry
 * them as values (`{ ok: false, error }`); `throw` is for broken invariants only.
 */
export type GfsErrorCode =
  /** The path is malformed (not absolute, empty component, `.`/`..`, NUL, too long). */
  | 'invalid_path'
  | 'not_found'
  | 'already_exists'
  /** A path component that must be a directory is a file (or the parent does not exist). */
  | 'not_a_directory'
  | 'is_a_directory'
  | 'not_empty'
  /** Undelete of a path whose original name is taken again. */
  | 'name_taken'
  /** No such chunk, or the chunk index is past the end of the file. */
  | 'chunk_not_found'
  /** Too few live chunkservers to place the replicas. */
  | 'no_chunkservers'
  /** The replica's version is older than the master's (patent ¶76–78). */
  | 'stale_version'
  /** This master does not accept mutations (a shadow, or a master still recovering); `master` names the primary. */
  | 'not_primary'
  /** The master cannot grant a lease yet (the previous primary's lease has not expired, or the post-restart grace period). */
  | 'lease_unavailable'
  /** The operation could not reach enough master replicas to commit (patent ¶48, ¶118). */
  | 'log_unavailable'
  /** A chunkserver refused or failed an instruction. */
  | 'chunkserver_failed'
  /** The server is not primary for the chunk, or its lease ran out: ask the master again (¶89–90). */
  | 'lease_expired'
  /** The pushed data for a mutation is not in the server's buffer (never arrived, or aged out, ¶94): push again. */
  | 'data_not_found'
  /** A checksum mismatch on this replica (¶124): read another replica; the master re-replicates. */
  | 'corrupt_replica'
  /** The push buffer or a queue is full: retry later. */
  | 'busy'
  /** A record larger than a quarter chunk (patent ¶104). */
  | 'record_too_large'
  /** A malformed or misdirected request (bad field, range past the chunk, unknown push): a caller bug, not worth retrying. */
  | 'invalid_request'
  | 'io_error';

export interface GfsError {
  readonly code: GfsErrorCode;
  readonly message: string;
  /** For `not_primary`: where the primary master is. */
  readonly master?: string;
  /** For `lease_unavailable`: when a retry can succeed. */
  readonly retryAfterMs?: number;
}

export type GfsResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: GfsError };

export function ok<T>(value: T): GfsResult<T> {
  return { ok: true, value };
}

export function fail<T = never>(code: GfsErrorCode, message: string, extra: { master?: string; retryAfterMs?: number } = {}): GfsResult<T> {
  return { ok: false, error: { code, message, ...extra } };
}
