import type { Delivery, RuntimeErrorCode } from '../../../runtime/errors.js';

/**
 * Monitor error codes (STYLE.md): one per situation a caller reacts to differently. Replies carry
 * them as values; `throw` is for broken invariants.
 */
export type MonErrorCode =
  /** This monitor is not in a quorum (electing, or on the minority side of a partition): ask another monitor. */
  | 'no_quorum'
  /** This monitor is in the quorum but holds no valid read lease right now (an update is in flight, or the lease lapsed): ask again or another monitor. */
  | 'lease_expired'
  /**
   * The leader lost its quorum while the command was being committed: it may or may not be
   * committed. Resubmit only idempotent commands, or read the state to find out.
   */
  | 'outcome_unknown'
  /** Too many commands queued at the leader, or too many subscribers: retry later. */
  | 'busy'
  /** A malformed request (bad field, unknown message): a caller bug, not worth retrying. */
  | 'invalid_request'
  /** The hosted service refused the command (its own `code` is in `serviceCode`). */
  | 'rejected'
  /** No monitor answered (from the client helper, after its retries). */
  | 'unavailable';

export interface MonError {
  readonly code: MonErrorCode;
  readonly message: string;
  /** For `rejected`: the service's own error code. */
  readonly serviceCode?: string;
  /** For `no_quorum` / `lease_expired`: the monitors of the last quorum this one knew, by rank. */
  readonly quorum?: readonly number[];
  /** Set when the runtime failed the request (no monitor answered): its code and whether the request may have been delivered. */
  readonly runtimeCode?: RuntimeErrorCode;
  readonly delivery?: Delivery;
}

export type MonResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: MonError };

export function ok<T>(value: T): MonResult<T> {
  return { ok: true, value };
}

export function fail<T = never>(code: MonErrorCode, message: string, extra: Omit<MonError, 'code' | 'message'> = {}): MonResult<T> {
  return { ok: false, error: { code, message, ...extra } };
}

/** Codes after which the same request may succeed at another monitor. */
export function tryAnotherMonitor(code: MonErrorCode): boolean {
  return code === 'no_quorum' || code === 'lease_expired' || code === 'busy' || code === 'unavailable';
}
