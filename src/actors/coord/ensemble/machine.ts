import type { CoordConfig } from '../config.js';
import { Code } from '../errors.js';
import type { Id } from '../protocol.js';
import { TreeStateMachine } from '../state-machine.js';
import type { PreparableRequest } from '../tree/prepare.js';
import type { CoordTxn, TreeEvent, TxnResult } from '../tree/txn.js';
import type { Prepared, PrepareView, ZabStateMachine } from '../zab/state-machine.js';

/**
 * The coordination service's state machine as Zab replicates it (README "Assembled server"): the
 * znode tree and its session table (`TreeStateMachine`) behind Zab's `ZabStateMachine` adapter.
 *
 * A request names who asked (`tag`: the origin server, its connection, the request's place in
 * that connection) so that the origin answers its client from the apply itself, in zxid order,
 * with the watch events of every change before the replies that reflect it (W3).
 *
 * - `prepare` (leader): a write is validated against the tree plus the transactions prepared and
 *   not applied (T9: the tree's own overlay, fed by earlier prepares on this leader). A failed
 *   write becomes an `error` transaction and is ordered like any other, as ZooKeeper orders its
 *   ErrorTxn (T7), so it is never refused at the Zab level. The leader's clock stamps the body
 *   (ctime/mtime are the leader's, the same on every server).
 * - `apply` (every server, zxid order): the tree applies the transaction, then `onApplied` hands
 *   the result and the watch triggers to this server's client-facing core.
 * - `snapshot`/`restore`: the tree's serialize/deserialize (msgpack), sessions included.
 * - Session owners (S7, ZooKeeper's SESSIONMOVED): the leader remembers which server each session
 *   is attached to — set by its createSession, by a `revalidate` when the client reconnects
 *   elsewhere, or by its first request in a new epoch — and a request of that session arriving
 *   through another server fails with SESSIONMOVED. Owners are the leader's alone (not
 *   replicated); a new epoch starts without them, as a new ZooKeeper leader's session tracker does.
 */

/** Who asked: the server that answers the client, the connection, and the request's sequence number on it. */
export interface RequestTag {
  readonly server: number;
  readonly conn: number;
  readonly seq: number;
}

export type EnsembleRequest =
  | { readonly kind: 'write'; readonly request: PreparableRequest; readonly sessionId: bigint; readonly authIds: readonly Id[]; readonly address: string; readonly tag?: RequestTag }
  | { readonly kind: 'createSession'; readonly sessionId: bigint; readonly timeoutMs: number; readonly passwd: Uint8Array; readonly tag?: RequestTag }
  | { readonly kind: 'closeSession'; readonly sessionId: bigint; readonly tag?: RequestTag }
  /** The session's client reconnected through `server`: it owns the session from here on in the order of requests (S7). It changes no state: prepare refuses it (`revalidated`), so Zab orders it as an error transaction the tree never applies. */
  | { readonly kind: 'revalidate'; readonly sessionId: bigint; readonly server: number };

/** A replicated transaction body. */
export interface EnsembleBody {
  readonly txn: CoordTxn;
  /** The leader's clock at prepare. */
  readonly time: number;
  readonly tag?: RequestTag;
}

export interface AppliedTxn {
  readonly zxid: number;
  readonly body: EnsembleBody;
  readonly result: TxnResult;
  readonly events: readonly TreeEvent[];
}

export interface EnsembleMachineOptions {
  readonly config: CoordConfig;
  /** The leader's clock for transaction times (the node-specific module passes the real one). */
  readonly now: () => number;
  readonly onApplied: (a: AppliedTxn) => void;
  /** The tree was replaced by a snapshot (the session table with it). */
  readonly onRestored?: () => void;
}

export class EnsembleMachine implements ZabStateMachine {
  readonly tree: TreeStateMachine;
  /** Sessions created or closed by prepared, unapplied transactions (the session half of T9): session → live after it, and its zxid bound. */
  private readonly pendingSessions = new Map<bigint, { live: boolean; zxid: number }>();
  /** Leader only: the server each session is attached to, and the epoch these were learned in (S7). */
  private readonly owners = new Map<bigint, number>();
  private ownersEpoch: number | undefined;

  constructor(private readonly o: EnsembleMachineOptions) {
    this.tree = new TreeStateMachine(o.config);
  }

  prepare(request: unknown, view: PrepareView): Prepared {
    const r = request as EnsembleRequest;
    // The tree overlay tags each prepared change with a zxid and drops it once the tree applied that zxid.
    // The exact zxid Zab will assign is not known here; the next one after everything pending is a
    // lower bound of it, so an overlay entry never outlives its own transaction's apply.
    const last = view.pending.length > 0 ? (view.pending[view.pending.length - 1]?.zxid ?? view.appliedZxid) : view.appliedZxid;
    const zxid = Math.max(last, this.tree.lastZxid) + 1;
    const time = this.o.now();
    const tag = 'tag' in r && r.tag !== undefined ? { tag: r.tag } : {};
    for (const [id, p] of this.pendingSessions) if (p.zxid <= this.tree.lastZxid) this.pendingSessions.delete(id);
    if (view.epoch !== this.ownersEpoch) {
      this.owners.clear();
      this.ownersEpoch = view.epoch;
    }
    switch (r.kind) {
      case 'revalidate':
        if (this.sessionLive(r.sessionId)) this.owners.set(r.sessionId, r.server);
        return { ok: false, error: { code: 'revalidated', message: `session 0x${BigInt.asUintN(64, r.sessionId).toString(16)} is attached to server ${r.server}` } };
      case 'write': {
        // A write of a session that is closed — or whose close is already ordered — fails with
        // SESSIONEXPIRED, as ZooKeeper's leader checks the session before preparing (otherwise a
        // create pipelined behind the close would leave an ephemeral no session owns, S4).
        if (r.sessionId !== 0n && !this.sessionLive(r.sessionId)) return { ok: true, body: { txn: { type: 'error', err: Code.SESSIONEXPIRED }, time, ...tag } satisfies EnsembleBody };
        if (this.movedAway(r.sessionId, r.tag)) return { ok: true, body: { txn: { type: 'error', err: Code.SESSIONMOVED }, time, ...tag } satisfies EnsembleBody };
        const txn = this.tree.prepare(r.request, { sessionId: r.sessionId, principal: { authIds: [...r.authIds], address: r.address }, zxid, config: this.o.config });
        return { ok: true, body: { txn, time, ...tag } satisfies EnsembleBody };
      }
      case 'createSession':
        this.pendingSessions.set(r.sessionId, { live: true, zxid });
        if (r.tag !== undefined) this.owners.set(r.sessionId, r.tag.server);
        return { ok: true, body: { txn: { type: 'createSession', sessionId: r.sessionId, timeoutMs: r.timeoutMs, passwd: r.passwd }, time, ...tag } satisfies EnsembleBody };
      case 'closeSession':
        // A client's close through a server that no longer owns the session is refused (the leader's own expiry is untagged).
        if (this.sessionLive(r.sessionId) && this.movedAway(r.sessionId, r.tag)) return { ok: true, body: { txn: { type: 'error', err: Code.SESSIONMOVED }, time, ...tag } satisfies EnsembleBody };
        this.pendingSessions.set(r.sessionId, { live: false, zxid });
        this.owners.delete(r.sessionId);
        return { ok: true, body: { txn: this.tree.prepare({ op: 'closeSession', sessionId: r.sessionId }, { sessionId: r.sessionId, principal: { authIds: [], address: '' }, zxid, config: this.o.config }), time, ...tag } satisfies EnsembleBody };
      default:
        return { ok: false, error: { code: 'bad_request', message: `unknown coord request kind ${String((r as { kind?: unknown }).kind)}` } };
    }
  }

  /** S7: the request came through a server other than the session's owner (the first one seen in an epoch becomes the owner). */
  private movedAway(sessionId: bigint, tag: RequestTag | undefined): boolean {
    if (sessionId === 0n || tag === undefined) return false;
    const owner = this.owners.get(sessionId);
    if (owner === undefined) {
      this.owners.set(sessionId, tag.server);
      return false;
    }
    return owner !== tag.server;
  }

  private sessionLive(id: bigint): boolean {
    return this.pendingSessions.get(id)?.live ?? this.tree.tree.sessions.has(id);
  }

  apply(body: unknown, zxid: number): unknown {
    const b = body as EnsembleBody;
    const { result, events } = this.tree.apply(b.txn, zxid, b.time);
    this.o.onApplied({ zxid, body: b, result, events });
    return result;
  }

  /** Reads are served by the client-facing core from the tree directly, never through Zab. */
  read(): unknown {
    return undefined;
  }

  snapshot(): Uint8Array {
    return this.tree.snapshot().bytes;
  }

  restore(data: Uint8Array): void {
    this.tree.restore(data);
    this.o.onRestored?.();
  }
}
