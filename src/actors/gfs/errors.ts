import type { Delivery, RuntimeErrorCode } from '../../runtime/errors.js';

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
  /**
   * The chunk is sealed (an extension of the paper, README S1–S4): its length is final and no
   * replica accepts a mutation of it. Record appends go on in the file's next chunk; a write into
   * the chunk cannot succeed.
   */
  | 'chunk_sealed'
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
  /**
   * For `lease_unavailable` after a master restart: the master waits for the report of the server
   * it last leased the chunk to (M6), normally a heartbeat away — worth waiting for rather than
   * sealing the chunk (S4).
   */
  readonly awaitingReport?: boolean;
  /**
   * Set when no GFS server answered and the runtime failed the request instead (`ask_timeout`,
   * `link_down`, `node_unreachable`, `mailbox_full`, `actor_not_found`, …): its code. The GFS code is
   * then `chunkserver_failed` (or, from the client, the operation's failure after its retries).
   */
  readonly runtimeCode?: RuntimeErrorCode;
  /**
   * With `runtimeCode`: `not_delivered` — the request never reached a server, so it had no effect
   * and is safe to retry; `unknown` — no answer: it may have taken effect (a namespace change may
   * have been applied; a write or append may have reached some replicas).
   */
  readonly delivery?: Delivery;
}

/** The runtime part of an error (`runtimeCode`, `delivery`), to carry from one error to the next. */
export type RuntimeCause = Pick<GfsError, 'runtimeCode' | 'delivery'>;

/** `e`'s runtime fields alone (nothing when it has none). */
export function runtimeCause(e: GfsError | undefined): RuntimeCause {
  if (e?.runtimeCode === undefined) return {};
  return { runtimeCode: e.runtimeCode, ...(e.delivery === undefined ? {} : { delivery: e.delivery }) };
}

export type GfsResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: GfsError };

export function ok<T>(value: T): GfsResult<T> {
  return { ok: true, value };
}

export function fail<T = never>(code: GfsErrorCode, message: string, extra: { master?: string; retryAfterMs?: number; awaitingReport?: boolean } & RuntimeCause = {}): GfsResult<T> {
  return { ok: false, error: { code, message, ...extra } };
}
