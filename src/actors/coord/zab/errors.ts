/**
 * Errors of the ensemble layer, as reply values (STYLE.md: one code per situation a caller reacts
 * to differently). The layer above maps them to ZooKeeper's codes (`connection_loss` →
 * CONNECTIONLOSS, `not_ready` → the server is not serving yet, so the client tries another).
 */
export type ZabErrorCode =
  /** The server has no established leader (electing, syncing, or cut off): try another server or later. */
  | 'not_ready'
  /** The request was forwarded but its outcome is unknown: leadership changed or the wait timed out. */
  | 'connection_loss'
  /** A later request of this session was already ordered (the session moved servers); this one is refused. */
  | 'stale_request'
  /** A bounded queue is full (pending requests of this server, outstanding proposals at the leader). */
  | 'queue_full'
  /** The request is malformed (not what the protocol allows); nothing happened. */
  | 'bad_request'
  /** A read waited too long for this server to catch up with what the client has already seen. */
  | 'server_behind';

export interface ZabError {
  readonly code: ZabErrorCode;
  readonly message: string;
}

export type ZabResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: ZabError };

export function zabError(code: ZabErrorCode, message: string): { ok: false; error: ZabError } {
  return { ok: false, error: { code, message } };
}

/** A broken invariant of the ensemble (a bug, or damaged durable state): thrown, handled by supervision. */
export class ZabInvariantError extends Error {
  constructor(
    readonly invariant: string,
    message: string,
  ) {
    super(`${invariant}: ${message}`);
    this.name = 'ZabInvariantError';
  }
}

export function check(cond: boolean, invariant: string, message: string | (() => string)): asserts cond {
  if (!cond) throw new ZabInvariantError(invariant, typeof message === 'string' ? message : message());
}
