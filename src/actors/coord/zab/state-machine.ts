/**
 * The replicated state machine as Zab sees it: an adapter with four operations. The layer above
 * (the znode tree, sessions) implements it; the ensemble never looks inside requests, bodies or
 * snapshots. All values crossing it are plain msgpack-encodable data.
 */
import type { Zxid } from './zxid.js';

export interface PrepareView {
  /** The last transaction applied to the state. */
  readonly appliedZxid: Zxid;
  /** Transactions ordered after it and not applied yet, in zxid order: prepare validates against state plus these (ZooKeeper's outstanding changes). */
  readonly pending: ReadonlyArray<{ readonly zxid: Zxid; readonly body: unknown }>;
  /** The epoch the leader serves: state a machine keeps for the leader alone (session owners) starts afresh in a new one. */
  readonly epoch?: number;
}

export type Prepared = { readonly ok: true; readonly body: unknown } | { readonly ok: false; readonly error: { readonly code: string; readonly message: string } };

export interface ZabStateMachine {
  /** Leader only, in the order requests are ordered: validate a write and turn it into a transaction body, or refuse it with the caller's error. Must not change state. */
  prepare(request: unknown, view: PrepareView): Prepared;
  /**
   * Applies a committed transaction body; returns the result for the client. Called in zxid order.
   * Must be idempotent for a body whose zxid is at or below what a restored snapshot already
   * reflects (fuzzy snapshots, Z11): recovery replays the log from the snapshot's zxid.
   * Times a body needs (ZooKeeper's mtime) are put into it by `prepare`, on the leader's clock.
   */
  apply(body: unknown, zxid: Zxid): unknown;
  /** Reads (served locally, never replicated). */
  read(request: unknown): unknown;
  /** The whole state, as bytes. The ensemble labels it with the zxid last applied before the call. */
  snapshot(): Uint8Array;
  /** Replaces the state with a snapshot's. */
  restore(data: Uint8Array): void;
}
