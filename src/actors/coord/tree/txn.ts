import type { Acl, Stat } from '../protocol.js';

/**
 * Transactions: what the leader's `prepare` step (tree/prepare.ts) turns a write request into and
 * what every server's data tree applies in zxid order (the replicated state machine,
 * state-machine.ts). Plain data, msgpack-encodable: Zab carries them between servers and the
 * transaction log stores them. Values are absolute (the new version, the new cversion), so that
 * re-applying a transaction the tree already reflects changes nothing (invariant T8) — which is
 * what lets a fuzzy snapshot be completed by replaying the log from the snapshot's start zxid.
 */
export type CoordTxn =
  | {
      readonly type: 'create';
      readonly path: string;
      readonly data: Uint8Array | null;
      readonly acl: readonly Acl[];
      /** 0 (persistent), a session id (ephemeral), or ZooKeeper's container / TTL encodings (tree/node-kind.ts). */
      readonly ephemeralOwner: bigint;
      /** The parent's cversion after this create. */
      readonly parentCVersion: number;
    }
  | { readonly type: 'delete'; readonly path: string }
  | { readonly type: 'setData'; readonly path: string; readonly data: Uint8Array | null; readonly version: number }
  | { readonly type: 'setACL'; readonly path: string; readonly acl: readonly Acl[]; readonly version: number }
  | { readonly type: 'check'; readonly path: string }
  | { readonly type: 'multi'; readonly ops: readonly CoordTxn[] }
  /** A request that failed in prepare: it still takes a zxid, as in ZooKeeper (an ErrorTxn). */
  | { readonly type: 'error'; readonly err: number }
  | { readonly type: 'createSession'; readonly sessionId: bigint; readonly timeoutMs: number; readonly passwd: Uint8Array }
  /** Ends a session and removes its ephemeral nodes (on close or on expiry decided by the leader). */
  | { readonly type: 'closeSession'; readonly sessionId: bigint };

export type TxnResult =
  | { readonly type: 'create'; readonly path: string; readonly stat: Stat }
  | { readonly type: 'delete' }
  | { readonly type: 'setData'; readonly stat: Stat }
  | { readonly type: 'setACL'; readonly stat: Stat }
  | { readonly type: 'check' }
  | { readonly type: 'multi'; readonly results: readonly TxnResult[] }
  | { readonly type: 'error'; readonly err: number }
  | { readonly type: 'createSession' }
  | { readonly type: 'closeSession'; readonly deleted: readonly string[] };

/** A change watches react to (DataTree's triggerWatch calls), in the order they happened. */
export interface TreeEvent {
  /** EventType.NodeCreated | NodeDeleted | NodeDataChanged | NodeChildrenChanged. */
  readonly type: number;
  readonly path: string;
  /** The ACL of the node the event is about (the parent's for NodeChildrenChanged), at the change (W5). */
  readonly acl: readonly Acl[];
}
