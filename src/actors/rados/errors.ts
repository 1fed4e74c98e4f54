/**
 * RADOS error codes (STYLE.md): one per situation a caller reacts to differently. Replies carry
 * them as values (`{ ok: false, error }`); `throw` is for broken invariants and API misuse only.
 * README.md (this folder) lists where each is produced.
 */
export type RadosErrorCode =
  /** A map that is not a well-formed OSD map (wrong field type, duplicate id, unparsable CRUSH map, …). */
  | 'malformed_map'
  /** An incremental that is not well formed, or names something it cannot change. */
  | 'malformed_incremental'
  /** An incremental that does not start at the map's epoch (a gap or a replay): fetch the missing ones. */
  | 'epoch_mismatch'
  /** No pool with that id or name. */
  | 'unknown_pool'
  /** No OSD with that id. */
  | 'unknown_osd'
  /** No CRUSH rule with that id or name, or a rule of the wrong type for the pool. */
  | 'unknown_rule'
  /** A pool with that name exists already. */
  | 'pool_exists'
  /** pg_num (or pgp_num) may only grow: PGs split, they never merge (thesis §6.2.1). */
  | 'pg_num_decrease'
  /** The pool's CRUSH rule cannot place `size` distinct replicas on the map's OSDs. */
  | 'rule_cannot_place'
  /** A command field out of range or of the wrong type (a caller bug, not worth retrying). */
  | 'invalid_command'
  /**
   * The command asks for what the map already says (e.g. mark down an OSD that is down). Not a
   * failure: nothing is proposed and the caller is answered with the map (thesis §6.2.4: a
   * known failure is answered with the incrementals the reporter lacks).
   */
  | 'no_change';

export interface RadosError {
  readonly code: RadosErrorCode;
  readonly message: string;
}

export function radosError(code: RadosErrorCode, message: string): RadosError {
  return { code, message };
}

/**
 * Errors of the object data path (OSDs and the object client, thesis §6.1, §6.3). The first group
 * reaches callers of the client; the second is between OSDs and the client, which retries them
 * (after refreshing its map where the reply carries a newer one) until its deadline.
 */
export type ObjectErrorCode =
  /** The object (or xattr) does not exist. */
  | 'not_found'
  /** An exclusive create found the object. */
  | 'exists'
  /** No pool with that name or id in the map. */
  | 'no_pool'
  /** No answer within the operation's deadline; a mutation may or may not have been applied. */
  | 'timeout'
  /** The map changed and the op could not be resent (its PG has no OSD, or the client is closing). */
  | 'interrupted'
  /** An OSD's store is full; nothing was applied. */
  | 'full'
  /** A compare-xattr guard of a compound operation failed; nothing was applied (Ceph's ECANCELED). */
  | 'canceled'
  /** An object name, xattr, offset or size outside the limits, or an op that is not well formed. */
  | 'invalid_argument'
  /** The cluster refused the client's credentials (not the cluster's secret): nothing was sent to a monitor or OSD. */
  | 'auth_failed'
  // ---- retried by the client ----
  /** The OSD is not the one the op should go to in its map (its epoch and the newer map come back). */
  | 'misdirected'
  /** The PG is not active on this OSD in this interval (activating, or stale until peering). */
  | 'pg_inactive'
  /** The sender's map is newer than the OSD's: it is fetching it. */
  | 'osd_behind'
  /** The read-serving OSD has not heard from every replica within the read lease (thesis §6.3.3). */
  | 'lease_expired'
  /** The PG's queue of waiting ops is full. */
  | 'busy';

export interface ObjectError {
  readonly code: ObjectErrorCode;
  readonly message: string;
}

export function objectError(code: ObjectErrorCode, message: string): ObjectError {
  return { code, message };
}

/** Codes the client retries (to the same or a new target) rather than returning. */
export const RETRIED_OBJECT_ERRORS: ReadonlySet<ObjectErrorCode> = new Set(['misdirected', 'pg_inactive', 'osd_behind', 'lease_expired', 'busy']);
