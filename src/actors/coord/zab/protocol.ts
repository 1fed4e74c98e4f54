/**
 * Messages of the ensemble layer (`coord.zab.*`): between servers (election, discovery,
 * synchronization, broadcast — ZooKeeper review §3 "Zab for leader-based atomic broadcast") and from
 * the layer above (a session's request, a status query). Plain data only: they cross every
 * transport and the simulator records them.
 *
 * The replicated payload is opaque: the state machine (`ZabStateMachine`, state-machine.ts) turns a
 * request into a transaction body at the leader and applies bodies in zxid order everywhere.
 */
import type { ZabError } from './errors.js';
import type { Zxid } from './zxid.js';

/** A server's id in the ensemble (ZooKeeper's `myid`): a small positive integer, unique. */
export type ServerId = number;

/** Who asked, so the origin server can answer its client after the commit (FIFO per session, Z7). */
export interface TxnHeader {
  /** The server the client is connected to; it answers the client. */
  readonly origin: ServerId;
  /** The client's session, and its request number within the session (strictly increasing). */
  readonly session: string;
  readonly cxid: number;
}

/** One replicated transaction: the state machine's body, or the error its preparation gave (ordered like any write, so answers keep FIFO order). */
export type ZabTxn = TxnHeader & ({ readonly body: unknown; readonly error?: undefined } | { readonly body?: undefined; readonly error: ZabError | { readonly code: string; readonly message: string } });

export interface LogEntry {
  readonly zxid: Zxid;
  readonly txn: ZabTxn;
}

/** What a server votes for in leader election: the candidate and its credentials (Z1). */
export interface Vote {
  readonly leader: ServerId;
  /** The candidate's current epoch (the last epoch whose leader it synchronized with). */
  readonly epoch: number;
  /** The candidate's last logged zxid. */
  readonly zxid: Zxid;
}

export type PeerState = 'looking' | 'leading' | 'following';

export type PeerMsg =
  /** Fast Leader Election notification: the sender's current vote, its election round and its state. */
  | { readonly type: 'coord.zab.vote'; readonly from: ServerId; readonly round: number; readonly state: PeerState; readonly vote: Vote }
  /** Discovery, follower → leader: the epoch it last accepted. */
  | { readonly type: 'coord.zab.followerInfo'; readonly from: ServerId; readonly acceptedEpoch: number }
  /** Discovery, leader → follower: the new epoch (above every accepted epoch of a quorum). */
  | { readonly type: 'coord.zab.leaderInfo'; readonly from: ServerId; readonly epoch: number }
  /** Discovery, follower → leader: it accepted `epoch`; its credentials, so a leader behind it steps aside. */
  | { readonly type: 'coord.zab.ackEpoch'; readonly from: ServerId; readonly epoch: number; readonly currentEpoch: number; readonly lastZxid: Zxid }
  /**
   * Synchronization, leader → follower: how to make its log the leader's (DIFF: append `entries`;
   * TRUNC: cut after `truncZxid`, then append; SNAP: replace everything with the snapshot, then
   * append), then NEWLEADER for `epoch`. `commitZxid`: what is already committed among them.
   */
  | {
      readonly type: 'coord.zab.sync';
      readonly from: ServerId;
      readonly epoch: number;
      readonly mode: 'diff' | 'trunc' | 'snap';
      readonly truncZxid?: Zxid;
      readonly snapshot?: { readonly zxid: Zxid; readonly data: Uint8Array };
      readonly entries: readonly LogEntry[];
      readonly commitZxid: Zxid;
    }
  /** Synchronization, follower → leader: its log is the leader's through `zxid` and its current epoch is `epoch`, durably. */
  | { readonly type: 'coord.zab.ackNewLeader'; readonly from: ServerId; readonly epoch: number; readonly zxid: Zxid }
  | { readonly type: 'coord.zab.proposal'; readonly from: ServerId; readonly epoch: number; readonly entry: LogEntry }
  /** Cumulative: every proposal of this epoch through `zxid` is durable at the sender. Also the answer to a ping. */
  | { readonly type: 'coord.zab.ack'; readonly from: ServerId; readonly epoch: number; readonly zxid: Zxid }
  /** Cumulative: everything through `zxid` is committed. */
  | { readonly type: 'coord.zab.commit'; readonly from: ServerId; readonly epoch: number; readonly zxid: Zxid }
  | { readonly type: 'coord.zab.ping'; readonly from: ServerId; readonly epoch: number; readonly commitZxid: Zxid }
  /** A client's write forwarded by the server it is connected to. `id`: the origin's handle for the answer. */
  | { readonly type: 'coord.zab.request'; readonly from: ServerId; readonly id: number; readonly session: string; readonly cxid: number; readonly request: unknown }
  /** The leader refused a forwarded request before ordering it (stale, queue full, not leading). */
  | { readonly type: 'coord.zab.requestFailed'; readonly from: ServerId; readonly id: number; readonly error: ZabError }
  /** A session's `sync`, forwarded to the leader (ZooKeeper review §3: "sync causes a server to apply all pending write requests before processing the read"). */
  | { readonly type: 'coord.zab.syncRequest'; readonly from: ServerId; readonly id: number }
  /** The leader's answer to a sync, sent after the commits of everything proposed before it. */
  | { readonly type: 'coord.zab.synced'; readonly from: ServerId; readonly epoch: number; readonly id: number };

/** What a session asks of its server. */
export type RequestKind = 'write' | 'read' | 'sync';

export interface SubmitMsg {
  readonly type: 'coord.zab.submit';
  readonly session: string;
  /** Strictly increasing within the session. */
  readonly cxid: number;
  readonly kind: RequestKind;
  /** For writes and reads: the state machine's request (opaque here). */
  readonly request?: unknown;
  /** The highest zxid the session has seen: a read waits until this server applied it (no going back in time when a client moves). */
  readonly seenZxid?: Zxid;
}

/**
 * The answer to a submit: the state machine's result and the zxid it reflects (for writes, the zxid
 * of the transaction); or an error — one of `ZabErrorCode`, or the state machine's own code when
 * `prepare` refused the write (ordered like a write all the same, so it is answered in FIFO order).
 */
export type SubmitReply = { readonly ok: true; readonly value: { readonly result: unknown; readonly zxid: Zxid } } | { readonly ok: false; readonly error: ZabError | { readonly code: string; readonly message: string } };

export type ZabRole = PeerState;

export interface FollowerStatus {
  readonly id: ServerId;
  /** Synchronized and acknowledging proposals of this epoch. */
  readonly synced: boolean;
  readonly ackedZxid: Zxid;
  /** Proposals the leader holds that this follower has not acknowledged. */
  readonly lagTxns: number;
}

export interface ZabStatus {
  readonly id: ServerId;
  readonly role: ZabRole;
  /** Serving: a follower synchronized with an established leader, or an established leader. */
  readonly serving: boolean;
  readonly leader: ServerId | undefined;
  readonly acceptedEpoch: number;
  readonly currentEpoch: number;
  readonly lastZxid: Zxid;
  readonly committedZxid: Zxid;
  readonly appliedZxid: Zxid;
  /** Leader only: its followers, with their lag. */
  readonly followers: readonly FollowerStatus[];
  /** Client requests this server holds (waiting for commit, sync, or an earlier request of their session). */
  readonly outstandingRequests: number;
  /** Leader only: proposals not yet committed. */
  readonly outstandingProposals: number;
  readonly electionRound: number;
  readonly snapshotZxid: Zxid;
}

export type ServerMsg =
  | PeerMsg
  | SubmitMsg
  | { readonly type: 'coord.zab.status' }
  /** Internal: the durable store finished everything through `seq`. */
  | { readonly type: 'coord.zab.persisted'; readonly seq: number }
  /** Internal: the durable store failed (the disk is gone or full); the server stops serving until restarted. */
  | { readonly type: 'coord.zab.storeFailed'; readonly reason: string }
  | { readonly type: 'coord.zab.tick' }
  | { readonly type: 'coord.zab.snapshotWritten'; readonly zxid: Zxid }
  /**
   * The layer above's session liveness (ZooKeeper's learner session pings): sessions with traffic
   * at a follower, passed to the leader, whose layer above decides expiry. Not replicated; a
   * follower forwards it once (`forwarded`), a non-leader receiving a forwarded one drops it.
   */
  | { readonly type: 'coord.zab.touch'; readonly sessions: readonly string[]; readonly forwarded?: boolean };

export type { ZabError };
