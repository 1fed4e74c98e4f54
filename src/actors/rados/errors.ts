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
