import { decode, encode } from '@msgpack/msgpack';
import type { CoordConfig } from './config.js';
import { DataTree, type TreeSnapshot } from './tree/data-tree.js';
import { prepare, prepareCloseSession, PrepView, type PrepContext, type PreparableRequest } from './tree/prepare.js';
import type { CoordTxn, TreeEvent, TxnResult } from './tree/txn.js';

/**
 * The boundary between the coordination service and its replication (README "State machine and
 * Zab"). Zab orders transactions; this object is what it replicates. Four calls:
 *
 * - `prepare` — leader only, in request order: validate a write against the tree plus every
 *   transaction prepared and not yet applied, and return the transaction to propose at `zxid`
 *   (an `error` transaction for a failed request: it takes its zxid too).
 * - `apply` — every server, for each committed transaction in zxid order. Deterministic: the same
 *   transactions give the same tree on every server (T7). Re-applying a transaction at or below
 *   what the tree reflects is harmless (T8), so a fuzzy snapshot plus the log from its zxid
 *   restores the tree.
 * - `snapshot` / `restore` — the tree and the sessions as bytes (msgpack), with the zxid of the
 *   last transaction applied when the snapshot began.
 *
 * zxid: a JS number, epoch * 2^32 + counter (epochs below 2^20, so it stays a safe integer).
 */
export interface CoordStateMachine {
  prepare(request: PreparableRequest | { op: 'closeSession'; sessionId: bigint }, ctx: PrepContext): CoordTxn;
  apply(txn: CoordTxn, zxid: number, time: number): { result: TxnResult; events: TreeEvent[] };
  snapshot(): { lastZxid: number; bytes: Uint8Array };
  restore(bytes: Uint8Array): void;
  readonly lastZxid: number;
}

export const zxidOf = (epoch: number, counter: number): number => epoch * 2 ** 32 + counter;
export const epochOf = (zxid: number): number => Math.floor(zxid / 2 ** 32);
export const counterOf = (zxid: number): number => zxid % 2 ** 32;

/** The data tree as a state machine (standalone and, once Zab is wired in, every server). */
export class TreeStateMachine implements CoordStateMachine {
  private treeValue: DataTree;
  private viewValue: PrepView;

  constructor(readonly config: CoordConfig, tree = new DataTree()) {
    this.treeValue = tree;
    this.viewValue = new PrepView(tree);
  }

  get tree(): DataTree {
    return this.treeValue;
  }

  get view(): PrepView {
    return this.viewValue;
  }

  get lastZxid(): number {
    return this.treeValue.lastZxid;
  }

  prepare(request: PreparableRequest | { op: 'closeSession'; sessionId: bigint }, ctx: PrepContext): CoordTxn {
    if (request.op === 'closeSession') return prepareCloseSession(request.sessionId, ctx.zxid, this.viewValue);
    return prepare(request, ctx, this.viewValue);
  }

  apply(txn: CoordTxn, zxid: number, time: number): { result: TxnResult; events: TreeEvent[] } {
    const out = this.treeValue.apply(txn, zxid, time);
    this.viewValue.applied(zxid);
    return out;
  }

  snapshot(): { lastZxid: number; bytes: Uint8Array } {
    const snap = this.treeValue.serialize();
    return { lastZxid: snap.lastZxid, bytes: encode(snap, { useBigInt64: true }) };
  }

  restore(bytes: Uint8Array): void {
    const snap = decode(bytes, { useBigInt64: true }) as TreeSnapshot;
    this.treeValue = DataTree.deserialize(snap);
    this.viewValue = new PrepView(this.treeValue);
  }
}
