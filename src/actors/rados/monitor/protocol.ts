/**
 * Monitor messages (STYLE.md: one protocol file per system; types namespaced by system and role).
 * Everything is plain data. `S`, `C`, `I` are the hosted service's state, command and incremental
 * types (`service.ts`). Peer messages carry the sender's rank and election epoch; a monitor drops
 * peer messages of another epoch (README, invariant P7).
 */
import type { ActorRef } from '../../../runtime/ref.js';
import type { ReplyHandle } from '../../../runtime/behavior.js';
import type { MonResult } from './errors.js';

/**
 * The request ids of the commands a version holds, each with the service's reply to it: kept with
 * the committed versions (replicated, logged, checkpointed) so whichever monitor leads answers a
 * resubmitted command from here instead of committing it again (README P10).
 */
export type RequestIds = ReadonlyArray<readonly [requestId: string, reply: unknown]>;

/** The remembered request ids of committed commands, oldest first, with the version and reply of each. */
export type RequestIdTable = ReadonlyArray<readonly [requestId: string, version: number, reply: unknown]>;

/** Committed versions handed from one party to another: a snapshot (when the receiver is behind the sender's history) and the incrementals after it, in order, with their request ids. */
export interface Share<S = unknown, I = unknown> {
  readonly snapshot?: { readonly version: number; readonly state: S; readonly rids?: RequestIdTable };
  readonly incs: ReadonlyArray<readonly [version: number, inc: I, rids?: RequestIds]>;
}

/** An accepted value not (yet) known committed. */
export interface Uncommitted<I = unknown> {
  readonly version: number;
  readonly pn: number;
  readonly inc: I;
  readonly rids?: RequestIds;
}

interface Peer {
  readonly from: number;
  readonly epoch: number;
}

/** Elections (thesis §6.2.4; Ceph's elector): lowest reachable rank wins, one vote per epoch. */
export type ElectionMsg =
  | (Peer & { readonly type: 'rados.mon.propose' })
  | (Peer & { readonly type: 'rados.mon.vote' })
  | (Peer & { readonly type: 'rados.mon.victory'; readonly quorum: readonly number[] });

/** Paxos (one proposal at a time) and leases. */
export type PaxosMsg<S = unknown, I = unknown> =
  | (Peer & { readonly type: 'rados.mon.collect'; readonly pn: number; readonly lastCommitted: number })
  | (Peer & {
      readonly type: 'rados.mon.last';
      /** The collect's proposal number, echoed. */
      readonly pn: number;
      /** The highest proposal number this monitor has promised (above `pn`: the collect was refused). */
      readonly promised: number;
      readonly lastCommitted: number;
      /** Committed versions the leader lacks. */
      readonly share?: Share<S, I>;
      readonly uncommitted?: Uncommitted<I>;
    })
  | (Peer & {
      readonly type: 'rados.mon.begin';
      readonly pn: number;
      readonly version: number;
      readonly inc: I;
      readonly rids?: RequestIds;
      /**
       * The previous version, committed by the leader in the same turn as it proposed this one:
       * the commit rides on the begin (no separate `commit` message), naming the value the peon
       * accepted for it by version and proposal number. A peon that holds no such accepted value
       * ignores it and answers the begin with `behind` (the leader then shares the version).
       */
      readonly commit?: { readonly version: number; readonly pn: number };
    })
  /** Sent on receipt of a begin, before the value is durable: this peon serves no more reads of the old version (P6). */
  | (Peer & { readonly type: 'rados.mon.revoked'; readonly pn: number; readonly version: number })
  /** Sent once the begin's value is durable here. */
  | (Peer & { readonly type: 'rados.mon.accept'; readonly pn: number; readonly version: number })
  | (Peer & { readonly type: 'rados.mon.commit'; readonly version: number; readonly inc: I; readonly rids?: RequestIds })
  | (Peer & { readonly type: 'rados.mon.lease'; readonly round: number; readonly version: number; readonly expiresAt: number })
  | (Peer & { readonly type: 'rados.mon.leaseAck'; readonly round: number })
  /** Catch-up: a peon tells the leader it lacks versions after `lastCommitted`. */
  | (Peer & { readonly type: 'rados.mon.behind'; readonly lastCommitted: number })
  | (Peer & { readonly type: 'rados.mon.share'; readonly share: Share<S, I> })
  /** A command a peon passes on to the leader, with the client's reply handle (the leader answers the client directly). */
  | (Peer & { readonly type: 'rados.mon.forward'; readonly cmd: unknown; readonly handle: ReplyHandle; readonly requestId?: string });

export type PeerMsg<S = unknown, I = unknown> = ElectionMsg | PaxosMsg<S, I>;

export type MonitorRole = 'electing' | 'leader' | 'peon';

export interface MonitorStatus {
  readonly service: string;
  readonly rank: number;
  readonly monitors: number;
  readonly role: MonitorRole;
  /** Odd while electing, even once a quorum stands (as Ceph's election epoch). */
  readonly electionEpoch: number;
  readonly leader?: number;
  /** Ranks in the quorum (empty while electing). */
  readonly quorum: readonly number[];
  readonly lastCommitted: number;
  /** Oldest version whose incremental is still kept (older ones are folded into the snapshot). */
  readonly firstCommitted: number;
  /** Whether this monitor may serve reads right now (a valid lease). */
  readonly readable: boolean;
  readonly pendingCommands: number;
  readonly subscribers: number;
}

export interface ReadReply<S = unknown, I = unknown> {
  readonly version: number;
  /** The whole state (a read without `since`). */
  readonly state?: S;
  /** The versions after `since` (a read with `since`). */
  readonly share?: Share<S, I>;
}

export interface SubmitReply {
  /** The version that holds the command's incremental. */
  readonly version: number;
  /** What the service's `prepare` returned for it. */
  readonly reply?: unknown;
}

/** The longest request id a submit may carry. */
export const REQUEST_ID_CHARS_MAX = 256;

/** Requests from clients, OSDs and admin tools (ask), and the push to subscribers (tell). */
export type ClientMsg =
  /** → `MonResult<SubmitReply>` once committed (forwarded to the leader when sent to a peon). */
  | {
      readonly type: 'rados.mon.submit';
      readonly cmd: unknown;
      /**
       * Names the command across retries (1..`REQUEST_ID_CHARS_MAX` characters, unique per
       * command, e.g. client name and a counter): a command whose id is already committed is
       * answered with its version and reply instead of being committed again (README P10).
       */
      readonly requestId?: string;
    }
  /** → `MonResult<ReadReply>`: served only under a valid lease. */
  | { readonly type: 'rados.mon.read'; readonly since?: number }
  /** → `MonResult<{ version }>`; then `rados.mon.update` pushes to `subscriber` for `subscriptionTtlMs` (subscribe again to renew). */
  | { readonly type: 'rados.mon.subscribe'; readonly subscriber: ActorRef<MonitorPush>; readonly since: number }
  | { readonly type: 'rados.mon.unsubscribe'; readonly subscriber: ActorRef<MonitorPush> }
  /** → `MonResult<MonitorStatus>` (always answered, quorum or not). */
  | { readonly type: 'rados.mon.status' };

/** Pushed to subscribers: committed versions after what they had. */
export interface MonitorPush<S = unknown, I = unknown> {
  readonly type: 'rados.mon.update';
  readonly monitor: number;
  readonly version: number;
  readonly share: Share<S, I>;
}

/** The actor's own timer and failure messages. */
export type InternalMsg = { readonly type: 'rados.mon.tick' } | { readonly type: 'rados.mon.storeFailed'; readonly reason: string };

export type MonitorMsg = PeerMsg | ClientMsg | InternalMsg;

export type SubmitResult = MonResult<SubmitReply>;
export type ReadResult<S = unknown, I = unknown> = MonResult<ReadReply<S, I>>;
