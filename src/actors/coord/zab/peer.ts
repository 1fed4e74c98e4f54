/**
 * The Zab peer: one server's protocol state as a pure state machine (STYLE.md, etcd raft's model).
 * Inputs are peer messages, ticks, proposals from the shell and completions of durable writes;
 * outputs are effects — messages to send, durable writes to perform in order, committed entries to
 * apply. No I/O, no clock (time is counted in ticks), no randomness.
 *
 * Phases (ZooKeeper review §3; the Zab paper's phases as ZooKeeper implements them):
 * 1. election — Fast Leader Election style: every looking server votes for the best credentials
 *    (currentEpoch, lastZxid, id) it has heard of in its round; a quorum agreeing decides (Z3).
 * 2. discovery — followers send their accepted epoch; the leader picks one above all of a quorum's
 *    and every follower durably accepts it before answering with its credentials (Z4, Z5).
 * 3. synchronization — DIFF, TRUNC or SNAP makes each follower's log the leader's; NEWLEADER is
 *    acknowledged once that log and the new current epoch are durable (Z6). A quorum of
 *    acknowledgements establishes the leader and commits its whole history (Z7).
 * 4. broadcast — PROPOSAL, a quorum of durable ACKs, COMMIT; pipelined, committed in zxid order (Z8).
 *
 * Invariants Z1–Z13 are listed in README.md.
 */
import type { ZabConfig } from './config.js';
import { check } from './errors.js';
import type { FollowerStatus, LogEntry, PeerMsg, PeerState, ServerId, Vote, ZabTxn } from './protocol.js';
import { EPOCH_MAX, epochOf, makeZxid, type Zxid } from './zxid.js';

/** A durable write, executed by the shell in the order emitted; `seq` numbers them. */
export type DurableOp =
  | { readonly kind: 'append'; readonly entries: readonly LogEntry[] }
  /** Cut the log after `zxid` (TRUNC). */
  | { readonly kind: 'truncate'; readonly zxid: Zxid }
  /** Replace state and log with a snapshot (SNAP): write it durably, drop every log file. */
  | { readonly kind: 'installSnapshot'; readonly zxid: Zxid; readonly data: Uint8Array }
  | { readonly kind: 'epochs'; readonly acceptedEpoch: number; readonly currentEpoch: number };

export type ZabEffect =
  | { readonly kind: 'send'; readonly to: ServerId; readonly msg: PeerMsg }
  | { readonly kind: 'durable'; readonly seq: number; readonly op: DurableOp }
  /** Replace the state machine's state with a snapshot now, before any later `deliver`. */
  | { readonly kind: 'restore'; readonly zxid: Zxid; readonly data: Uint8Array }
  /** Committed entries, in zxid order, to apply now. */
  | { readonly kind: 'deliver'; readonly entries: readonly LogEntry[] }
  /** Leader: send `msg` to `to` with a snapshot of the state at `zxid` (the applied zxid now) filled in. */
  | { readonly kind: 'sendSnapshot'; readonly to: ServerId; readonly zxid: Zxid; readonly msg: Extract<PeerMsg, { type: 'coord.zab.sync' }> }
  /** A sync this server asked for (or its own, at the leader) is done: everything committed before it is delivered. */
  | { readonly kind: 'syncDone'; readonly id: number }
  /** Role or leader changed; requests waiting on the old leader have unknown outcomes. */
  | { readonly kind: 'roleChanged'; readonly role: PeerState; readonly leader: ServerId | undefined; readonly epoch: number };

/** What a server has on disk when it starts (recovery, Z10). */
export interface PeerInit {
  readonly id: ServerId;
  readonly members: readonly ServerId[];
  readonly acceptedEpoch: number;
  readonly currentEpoch: number;
  /** The zxid the state machine reflects (the snapshot's, or 0). */
  readonly snapshotZxid: Zxid;
  /** Logged entries after `snapshotZxid`, in zxid order (not known to be committed). */
  readonly entries: readonly LogEntry[];
  readonly config: ZabConfig;
}

/** Work waiting for a durable write: done when the write with sequence number `seq` completes. */
type AfterDurable =
  | { readonly seq: number; readonly gen: number; readonly kind: 'ackProposals' }
  | { readonly seq: number; readonly gen: number; readonly kind: 'ackEpoch'; readonly epoch: number }
  | { readonly seq: number; readonly gen: number; readonly kind: 'ackNewLeader'; readonly epoch: number }
  | { readonly seq: number; readonly gen: number; readonly kind: 'leaderEpochAccepted' }
  | { readonly seq: number; readonly gen: number; readonly kind: 'leaderEpochCurrent' };

interface Learner {
  /** Synchronization sent: the learner receives every later proposal and commit. */
  forwarding: boolean;
  /** Acknowledged NEWLEADER: its cumulative acks count toward commits (Z8). */
  synced: boolean;
  ackedZxid: Zxid;
  lastHeardTick: number;
  acceptedEpoch: number;
  ack?: { readonly currentEpoch: number; readonly lastZxid: Zxid };
}

interface Election {
  round: number;
  vote: Vote;
  /** Votes of this round (own included), and servers known to be following or leading. */
  readonly votes: Map<ServerId, Vote>;
  lastSentTick: number;
  /** A quorum agreed: decide at this tick unless a better vote comes first. */
  decideAtTick: number | undefined;
}

interface Following {
  readonly leader: ServerId;
  phase: 'discovery' | 'sync' | 'broadcast';
  epoch: number;
  startedTick: number;
  lastHeardTick: number;
  /** Proposals appended since the last ack was sent. */
  unacked: boolean;
}

interface Leading {
  phase: 'discovery' | 'epochWait' | 'ackEpoch' | 'currentWait' | 'newLeader' | 'broadcast';
  epoch: number;
  startedTick: number;
  readonly learners: Map<ServerId, Learner>;
  /** Leader's log end when it became current in the new epoch: committed once a quorum acks NEWLEADER. */
  newLeaderZxid: Zxid;
  selfNewLeaderDurable: boolean;
  counter: number;
  readonly pendingSyncs: Array<{ readonly zxid: Zxid; readonly from: ServerId; readonly id: number }>;
}

/** Credentials order of Z3: (epoch, zxid, id). */
export function compareVotes(a: Vote, b: Vote): number {
  if (a.epoch !== b.epoch) return a.epoch < b.epoch ? -1 : 1;
  if (a.zxid !== b.zxid) return a.zxid < b.zxid ? -1 : 1;
  return a.leader === b.leader ? 0 : a.leader < b.leader ? -1 : 1;
}

function sameVote(a: Vote, b: Vote): boolean {
  return a.leader === b.leader && a.epoch === b.epoch && a.zxid === b.zxid;
}

export class ZabPeer {
  readonly id: ServerId;
  readonly members: readonly ServerId[];
  readonly quorum: number;
  private readonly config: ZabConfig;

  acceptedEpoch: number;
  currentEpoch: number;
  /** In-memory log: entries after `logBase`, zxids strictly increasing. */
  private log: LogEntry[];
  /** The zxid just before the first in-memory entry: the last trimmed or snapshotted one. */
  logBase: Zxid;
  /** Highest zxid known committed here. */
  committedZxid: Zxid;
  /** Highest zxid handed to the state machine. */
  deliveredZxid: Zxid;
  /** The log's end as of the last completed durable write. */
  durableZxid: Zxid;

  role: PeerState = 'looking';
  private election: Election;
  private following: Following | undefined;
  private leading: Leading | undefined;
  private tickNo = 0;
  /** Bumped on every role change: durable completions of an earlier role do nothing (but still move `durableZxid`). */
  private gen = 0;
  private seq = 0;
  private doneSeq = 0;
  /** For each emitted durable op not yet completed: its sequence number and the log end after it. */
  private readonly durableEnds: Array<{ readonly seq: number; readonly zxid: Zxid }> = [];
  private readonly afterDurable: AfterDurable[] = [];
  private out: ZabEffect[] = [];

  constructor(init: PeerInit) {
    check(init.members.includes(init.id), 'Z0', `server ${init.id} is not a member of ${init.members.join(',')}`);
    check(init.currentEpoch <= init.acceptedEpoch, 'Z4', `current epoch ${init.currentEpoch} above accepted ${init.acceptedEpoch}`);
    this.id = init.id;
    this.members = [...init.members].sort((a, b) => a - b);
    this.quorum = Math.floor(this.members.length / 2) + 1;
    this.config = init.config;
    this.acceptedEpoch = init.acceptedEpoch;
    this.currentEpoch = init.currentEpoch;
    this.log = [...init.entries];
    this.logBase = init.snapshotZxid;
    this.committedZxid = init.snapshotZxid;
    this.deliveredZxid = init.snapshotZxid;
    this.durableZxid = this.lastZxid;
    this.election = { round: 0, vote: this.credentials(), votes: new Map(), lastSentTick: 0, decideAtTick: undefined };
    this.checkLog();
  }

  get lastZxid(): Zxid {
    return this.log.length === 0 ? this.logBase : (this.log[this.log.length - 1] as LogEntry).zxid;
  }

  get leaderId(): ServerId | undefined {
    return this.role === 'leading' ? this.id : this.following?.leader;
  }

  get electionRound(): number {
    return this.election.round;
  }

  /** Serving clients: an established leader, or a follower synchronized with one. */
  get serving(): boolean {
    if (this.leading !== undefined) return this.leading.phase === 'broadcast';
    return this.following?.phase === 'broadcast';
  }

  /** The epoch in which this server serves (leader's or follower's). */
  get servingEpoch(): number {
    return this.leading?.epoch ?? this.following?.epoch ?? 0;
  }

  get outstandingProposals(): number {
    return this.leading === undefined ? 0 : this.log.filter((e) => e.zxid > this.committedZxid).length;
  }

  /** Entries ordered but not applied (the state machine's prepare view). */
  pendingEntries(): readonly LogEntry[] {
    const i = this.indexAfter(this.deliveredZxid);
    return this.log.slice(i);
  }

  /** Entries in the in-memory log (for the shell's recovery of the session table and for tests). */
  entries(): readonly LogEntry[] {
    return this.log;
  }

  followers(): FollowerStatus[] {
    if (this.leading === undefined) return [];
    const last = this.lastZxid;
    return [...this.leading.learners].map(([id, l]) => ({ id, synced: l.synced, ackedZxid: l.ackedZxid, lagTxns: this.log.filter((e) => e.zxid > l.ackedZxid && e.zxid <= last).length }));
  }

  private credentials(): Vote {
    return { leader: this.id, epoch: this.currentEpoch, zxid: this.lastZxid };
  }

  private take(): ZabEffect[] {
    const out = this.out;
    this.out = [];
    return out;
  }

  private send(to: ServerId, msg: PeerMsg): void {
    if (to === this.id) return;
    this.out.push({ kind: 'send', to, msg });
  }

  private durable(op: DurableOp, after?: (seq: number) => AfterDurable): void {
    const seq = ++this.seq;
    this.out.push({ kind: 'durable', seq, op });
    this.durableEnds.push({ seq, zxid: this.lastZxid });
    if (after !== undefined) this.afterDurable.push(after(seq));
  }

  // ---- Inputs ----------------------------------------------------------------------------------

  /** Starts the peer: looking for a leader. */
  start(): ZabEffect[] {
    this.lookForLeader();
    return this.take();
  }

  tick(): ZabEffect[] {
    this.tickNo++;
    const t = this.tickNo;
    const c = this.config;
    if (this.role === 'looking') {
      // Re-send the vote each tick: notifications lost to partitions or crashes are repeated.
      if (t - this.election.lastSentTick >= 1) this.broadcastVote();
      this.tryDecide(true);
    } else if (this.following !== undefined) {
      const f = this.following;
      if (f.phase !== 'broadcast' && t - f.startedTick > c.initLimitTicks) this.lookForLeader();
      else if (f.phase === 'broadcast' && t - f.lastHeardTick > c.syncLimitTicks) this.lookForLeader();
      else if (f.phase === 'discovery') this.send(f.leader, { type: 'coord.zab.followerInfo', from: this.id, acceptedEpoch: this.acceptedEpoch });
    } else if (this.leading !== undefined) {
      const l = this.leading;
      if (l.phase !== 'broadcast') {
        if (t - l.startedTick > c.initLimitTicks) this.lookForLeader();
      } else {
        // A leader that has not heard from a quorum within syncLimit steps down (it could not commit anyway).
        let live = 1;
        for (const x of l.learners.values()) if (x.synced && t - x.lastHeardTick <= c.syncLimitTicks) live++;
        if (live < this.quorum) this.lookForLeader();
        else for (const [id, x] of l.learners) if (x.forwarding) this.send(id, { type: 'coord.zab.ping', from: this.id, epoch: l.epoch, commitZxid: this.committedZxid });
      }
    }
    return this.take();
  }

  /** The durable store finished every op through `seq`. */
  persisted(seq: number): ZabEffect[] {
    check(seq <= this.seq && seq >= this.doneSeq, 'Z9', `persisted(${seq}) out of order (done ${this.doneSeq}, issued ${this.seq})`);
    this.doneSeq = seq;
    while (this.durableEnds.length > 0 && (this.durableEnds[0] as { seq: number }).seq <= seq) this.durableZxid = (this.durableEnds.shift() as { zxid: Zxid }).zxid;
    while (this.afterDurable.length > 0 && (this.afterDurable[0] as AfterDurable).seq <= seq) {
      const a = this.afterDurable.shift() as AfterDurable;
      if (a.gen === this.gen) this.runAfterDurable(a);
    }
    if (this.leading?.phase === 'broadcast') this.advanceCommit();
    return this.take();
  }

  receive(m: PeerMsg): ZabEffect[] {
    if (!this.members.includes(m.from) || m.from === this.id) return this.take();
    switch (m.type) {
      case 'coord.zab.vote':
        this.onVote(m);
        break;
      case 'coord.zab.followerInfo':
        this.onFollowerInfo(m.from, m.acceptedEpoch);
        break;
      case 'coord.zab.leaderInfo':
        this.onLeaderInfo(m.from, m.epoch);
        break;
      case 'coord.zab.ackEpoch':
        this.onAckEpoch(m);
        break;
      case 'coord.zab.sync':
        this.onSync(m);
        break;
      case 'coord.zab.ackNewLeader':
        this.onAckNewLeader(m.from, m.epoch, m.zxid);
        break;
      case 'coord.zab.proposal':
        this.onProposal(m.from, m.epoch, m.entry);
        break;
      case 'coord.zab.ack':
        this.onAck(m.from, m.epoch, m.zxid);
        break;
      case 'coord.zab.commit':
        this.onCommit(m.from, m.epoch, m.zxid);
        break;
      case 'coord.zab.ping': {
        const f = this.fromLeader(m.from, m.epoch);
        if (f !== undefined && f.phase === 'broadcast') {
          this.send(f.leader, { type: 'coord.zab.ack', from: this.id, epoch: f.epoch, zxid: this.durableZxid });
          this.onCommit(m.from, m.epoch, m.commitZxid);
        }
        break;
      }
      case 'coord.zab.synced': {
        const f = this.fromLeader(m.from, m.epoch);
        if (f !== undefined) this.out.push({ kind: 'syncDone', id: m.id });
        break;
      }
      case 'coord.zab.request':
      case 'coord.zab.requestFailed':
      case 'coord.zab.syncRequest':
        // Handled by the shell (they need the state machine); never reach the core.
        break;
      default: {
        const never: never = m;
        throw new Error(`unknown peer message ${JSON.stringify(never)}`);
      }
    }
    return this.take();
  }

  /**
   * Leader only, established: orders a transaction (Z8). Returns its zxid, or undefined when this
   * server cannot order now (not an established leader, or too many proposals outstanding).
   */
  propose(txn: ZabTxn): { zxid: Zxid; effects: ZabEffect[] } | { zxid: undefined; reason: 'not_leader' | 'queue_full'; effects: ZabEffect[] } {
    const l = this.leading;
    if (l === undefined || l.phase !== 'broadcast') return { zxid: undefined, reason: 'not_leader', effects: this.take() };
    if (this.outstandingProposals >= this.config.outstandingProposalsMax) return { zxid: undefined, reason: 'queue_full', effects: this.take() };
    check(l.counter < 0xffff_ffff, 'Z8', 'zxid counter exhausted in this epoch');
    const entry: LogEntry = { zxid: makeZxid(l.epoch, ++l.counter), txn };
    check(entry.zxid > this.lastZxid, 'Z8', 'proposal zxid not above the log end');
    this.log.push(entry);
    this.durable({ kind: 'append', entries: [entry] });
    for (const [id, x] of l.learners) if (x.forwarding) this.send(id, { type: 'coord.zab.proposal', from: this.id, epoch: l.epoch, entry });
    return { zxid: entry.zxid, effects: this.take() };
  }

  /**
   * A sync from server `from` (this server itself included) with the origin's handle `id`. Leader
   * only: answered once everything proposed so far is committed, after those commits on the same
   * link. Returns false when this server is not an established leader.
   */
  syncRequest(from: ServerId, id: number): { accepted: boolean; effects: ZabEffect[] } {
    const l = this.leading;
    if (l === undefined || l.phase !== 'broadcast') return { accepted: false, effects: this.take() };
    if (this.committedZxid >= this.lastZxid) this.answerSync(from, id);
    else l.pendingSyncs.push({ zxid: this.lastZxid, from, id });
    return { accepted: true, effects: this.take() };
  }

  /** Forget applied entries beyond `committedLogMax` (the shell snapshots the state they are in). */
  trim(): void {
    const applied = this.indexAfter(this.deliveredZxid);
    const excess = applied - this.config.committedLogMax;
    if (excess <= 0) return;
    this.logBase = (this.log[excess - 1] as LogEntry).zxid;
    this.log = this.log.slice(excess);
  }

  // ---- Election (Z3) ----------------------------------------------------------------------------

  private lookForLeader(): void {
    this.leaveRole();
    this.role = 'looking';
    this.election.round++;
    this.election.vote = this.credentials();
    this.election.votes.clear();
    this.election.decideAtTick = undefined;
    this.election.votes.set(this.id, this.election.vote);
    this.out.push({ kind: 'roleChanged', role: 'looking', leader: undefined, epoch: this.currentEpoch });
    this.broadcastVote();
    this.tryDecide();
  }

  private leaveRole(): void {
    this.gen++;
    this.following = undefined;
    this.leading = undefined;
  }

  private broadcastVote(): void {
    this.election.lastSentTick = this.tickNo;
    for (const m of this.members) this.send(m, this.voteMsg());
  }

  private voteMsg(): PeerMsg {
    if (this.role === 'looking') return { type: 'coord.zab.vote', from: this.id, round: this.election.round, state: 'looking', vote: this.election.vote };
    const leader = this.leaderId as ServerId;
    return { type: 'coord.zab.vote', from: this.id, round: this.election.round, state: this.role, vote: { leader, epoch: this.servingEpoch, zxid: this.lastZxid } };
  }

  private onVote(m: Extract<PeerMsg, { type: 'coord.zab.vote' }>): void {
    const e = this.election;
    if (this.role !== 'looking') {
      // Tell a looking server who leads here, so it can join (ZooKeeper: servers out of election answer with their leader).
      if (m.state === 'looking') this.send(m.from, this.voteMsg());
      return;
    }
    if (m.state !== 'looking') {
      // A leader answered: join it (discovery decides whether it really leads, Z4). A follower's
      // word alone is not enough — two looking servers could then follow each other's leader.
      if (m.state === 'leading' && m.vote.leader === m.from) this.follow(m.from);
      return;
    }
    if (m.round > e.round) {
      e.round = m.round;
      e.decideAtTick = undefined;
      e.votes.clear();
      const own = this.credentials();
      e.vote = compareVotes(m.vote, own) > 0 ? m.vote : own;
      e.votes.set(this.id, e.vote);
      this.broadcastVote();
    } else if (m.round < e.round) {
      this.send(m.from, this.voteMsg());
      return;
    } else if (compareVotes(m.vote, e.vote) > 0) {
      e.vote = m.vote;
      e.decideAtTick = undefined;
      e.votes.set(this.id, e.vote);
      this.broadcastVote();
    }
    e.votes.set(m.from, m.vote);
    this.tryDecide();
  }

  /**
   * A quorum agreeing decides — at once when every member has voted, else after one more tick
   * without a better vote (ZooKeeper's finalizeWait), so a better candidate heard a moment later
   * still wins and the ensemble does not form around a worse one.
   */
  private tryDecide(fromTick = false): void {
    const e = this.election;
    let agree = 0;
    for (const v of e.votes.values()) if (sameVote(v, e.vote)) agree++;
    if (agree < this.quorum) {
      e.decideAtTick = undefined;
      return;
    }
    if (e.votes.size < this.members.length) {
      if (e.decideAtTick === undefined) e.decideAtTick = this.tickNo + 1;
      if (!fromTick || this.tickNo < e.decideAtTick) return;
    }
    if (e.vote.leader === this.id) this.lead();
    else this.follow(e.vote.leader);
  }

  // ---- Follower ---------------------------------------------------------------------------------

  private follow(leader: ServerId): void {
    this.leaveRole();
    this.role = 'following';
    this.following = { leader, phase: 'discovery', epoch: 0, startedTick: this.tickNo, lastHeardTick: this.tickNo, unacked: false };
    this.out.push({ kind: 'roleChanged', role: 'following', leader, epoch: this.currentEpoch });
    this.send(leader, { type: 'coord.zab.followerInfo', from: this.id, acceptedEpoch: this.acceptedEpoch });
  }

  /** The follower state when `from` is our leader in `epoch` (messages of other epochs or senders are stale). */
  private fromLeader(from: ServerId, epoch: number): Following | undefined {
    const f = this.following;
    if (f === undefined || f.leader !== from || f.epoch !== epoch || f.phase === 'discovery') return undefined;
    f.lastHeardTick = this.tickNo;
    return f;
  }

  private onLeaderInfo(from: ServerId, epoch: number): void {
    const f = this.following;
    if (f === undefined || f.leader !== from || f.phase !== 'discovery') return;
    // Z4: never accept an epoch below one already accepted.
    if (epoch < this.acceptedEpoch) {
      this.lookForLeader();
      return;
    }
    f.phase = 'sync';
    f.epoch = epoch;
    f.lastHeardTick = this.tickNo;
    if (epoch > this.acceptedEpoch) {
      this.acceptedEpoch = epoch;
      this.durable({ kind: 'epochs', acceptedEpoch: epoch, currentEpoch: this.currentEpoch }, (seq) => ({ seq, gen: this.gen, kind: 'ackEpoch', epoch }));
    } else {
      this.sendAckEpoch(f);
    }
  }

  private sendAckEpoch(f: Following): void {
    this.send(f.leader, { type: 'coord.zab.ackEpoch', from: this.id, epoch: f.epoch, currentEpoch: this.currentEpoch, lastZxid: this.lastZxid });
  }

  private onSync(m: Extract<PeerMsg, { type: 'coord.zab.sync' }>): void {
    const f = this.following;
    if (f === undefined || f.leader !== m.from || f.epoch !== m.epoch || f.phase !== 'sync') return;
    f.lastHeardTick = this.tickNo;
    if (m.mode === 'snap') {
      const snap = m.snapshot;
      check(snap !== undefined, 'Z6', 'SNAP without a snapshot');
      this.log = [];
      this.durableZxid = Math.min(this.durableZxid, snap.zxid);
      this.logBase = snap.zxid;
      this.committedZxid = snap.zxid;
      this.deliveredZxid = snap.zxid;
      this.out.push({ kind: 'restore', zxid: snap.zxid, data: snap.data });
      this.durable({ kind: 'installSnapshot', zxid: snap.zxid, data: snap.data });
    } else if (m.mode === 'trunc') {
      const to = m.truncZxid as Zxid;
      // Z12: only entries never applied are cut.
      check(to >= this.deliveredZxid, 'Z12', `TRUNC to ${to} below the applied ${this.deliveredZxid}`);
      this.log = this.log.slice(0, this.indexAfter(to));
      if (to < this.logBase) this.logBase = to;
      // What was durable above `to` is no longer ours: never acknowledge it.
      this.durableZxid = Math.min(this.durableZxid, to);
      this.durable({ kind: 'truncate', zxid: to });
    } else {
      check(m.entries.length === 0 || (m.entries[0] as LogEntry).zxid > this.lastZxid, 'Z6', 'DIFF does not continue the log');
    }
    const fresh = m.entries.filter((e) => e.zxid > this.lastZxid);
    for (const e of fresh) this.log.push(e);
    this.checkLog();
    if (fresh.length > 0) this.durable({ kind: 'append', entries: fresh });
    // Z6: the current epoch becomes the leader's only after the log is durably the leader's.
    this.currentEpoch = m.epoch;
    this.durable({ kind: 'epochs', acceptedEpoch: this.acceptedEpoch, currentEpoch: m.epoch }, (seq) => ({ seq, gen: this.gen, kind: 'ackNewLeader', epoch: m.epoch }));
    this.commitUpTo(Math.min(m.commitZxid, this.lastZxid));
  }

  private onProposal(from: ServerId, epoch: number, entry: LogEntry): void {
    const f = this.fromLeader(from, epoch);
    if (f === undefined) return;
    check(epochOf(entry.zxid) === epoch, 'Z8', `proposal ${entry.zxid} not of epoch ${epoch}`);
    // Z8: proposals of an epoch arrive gap-free (counter 1, 2, ...). A gap means the link lost
    // messages (a partition came and went): synchronize again rather than log around the hole.
    const last = this.lastZxid;
    const expected = epochOf(last) === epoch ? last + 1 : makeZxid(epoch, 1);
    if (entry.zxid !== expected) {
      this.follow(f.leader);
      return;
    }
    this.log.push(entry);
    this.durable({ kind: 'append', entries: [entry] }, (seq) => ({ seq, gen: this.gen, kind: 'ackProposals' }));
  }

  private onCommit(from: ServerId, epoch: number, zxid: Zxid): void {
    const f = this.fromLeader(from, epoch);
    if (f === undefined) return;
    this.commitUpTo(Math.min(zxid, this.lastZxid));
    // A commit beyond our log: proposals were lost on the way (see onProposal).
    if (zxid > this.lastZxid && f.phase === 'broadcast') this.follow(f.leader);
  }

  // ---- Leader -----------------------------------------------------------------------------------

  private lead(): void {
    this.leaveRole();
    this.role = 'leading';
    this.leading = { phase: 'discovery', epoch: 0, startedTick: this.tickNo, learners: new Map(), newLeaderZxid: 0, selfNewLeaderDurable: false, counter: 0, pendingSyncs: [] };
    this.out.push({ kind: 'roleChanged', role: 'leading', leader: this.id, epoch: this.currentEpoch });
    // Tell the others at once (they may be looking in an older round).
    this.broadcastVote();
    this.maybeChooseEpoch(this.leading);
  }

  private learner(l: Leading, from: ServerId): Learner {
    let x = l.learners.get(from);
    if (x === undefined) {
      x = { forwarding: false, synced: false, ackedZxid: 0, lastHeardTick: this.tickNo, acceptedEpoch: 0 };
      l.learners.set(from, x);
    }
    x.lastHeardTick = this.tickNo;
    return x;
  }

  private onFollowerInfo(from: ServerId, acceptedEpoch: number): void {
    const l = this.leading;
    if (l === undefined) return;
    const known = l.learners.get(from);
    // A follower that restarted and connects again starts over.
    if (known !== undefined && (known.forwarding || known.ack !== undefined)) l.learners.delete(from);
    const x = this.learner(l, from);
    x.acceptedEpoch = acceptedEpoch;
    if (l.phase === 'discovery') {
      this.maybeChooseEpoch(l);
    } else if (l.phase !== 'epochWait') {
      if (acceptedEpoch > l.epoch) {
        // Someone accepted a later epoch: this leader is stale.
        this.lookForLeader();
        return;
      }
      this.send(from, { type: 'coord.zab.leaderInfo', from: this.id, epoch: l.epoch });
    }
  }

  private maybeChooseEpoch(l: Leading): void {
    const infos = [...l.learners.values()];
    if (infos.length + 1 < this.quorum) return;
    // Z4: the new epoch is above every accepted epoch of a quorum (self included).
    const epoch = Math.max(this.acceptedEpoch, ...infos.map((i) => i.acceptedEpoch)) + 1;
    check(epoch <= EPOCH_MAX, 'Z4', 'epochs exhausted');
    l.epoch = epoch;
    l.phase = 'epochWait';
    this.acceptedEpoch = epoch;
    this.durable({ kind: 'epochs', acceptedEpoch: epoch, currentEpoch: this.currentEpoch }, (seq) => ({ seq, gen: this.gen, kind: 'leaderEpochAccepted' }));
  }

  private maybeBecomeCurrent(l: Leading): void {
    let acked = 1;
    for (const y of l.learners.values()) if (y.ack !== undefined) acked++;
    if (acked < this.quorum) return;
    l.phase = 'currentWait';
    l.newLeaderZxid = this.lastZxid;
    this.currentEpoch = l.epoch;
    this.durable({ kind: 'epochs', acceptedEpoch: this.acceptedEpoch, currentEpoch: l.epoch }, (seq) => ({ seq, gen: this.gen, kind: 'leaderEpochCurrent' }));
  }

  private onAckEpoch(m: Extract<PeerMsg, { type: 'coord.zab.ackEpoch' }>): void {
    const l = this.leading;
    if (l === undefined || m.epoch !== l.epoch || l.phase === 'discovery' || l.phase === 'epochWait') return;
    const x = this.learner(l, m.from);
    if (x.forwarding) return;
    const mine: Vote = { leader: 0, epoch: this.currentEpoch, zxid: this.lastZxid };
    const theirs: Vote = { leader: 0, epoch: m.currentEpoch, zxid: m.lastZxid };
    if (l.phase === 'ackEpoch' && compareVotes(theirs, mine) > 0) {
      // Z5: a follower of the discovery quorum is ahead of this leader: step aside, elect again.
      this.lookForLeader();
      return;
    }
    x.ack = { currentEpoch: m.currentEpoch, lastZxid: m.lastZxid };
    if (l.phase === 'ackEpoch') {
      this.maybeBecomeCurrent(l);
    } else if (l.phase === 'newLeader' || l.phase === 'broadcast') {
      this.syncLearner(l, m.from, x);
    }
  }

  private runAfterDurable(a: AfterDurable): void {
    switch (a.kind) {
      case 'ackProposals': {
        const f = this.following;
        if (f !== undefined && f.phase === 'broadcast') this.send(f.leader, { type: 'coord.zab.ack', from: this.id, epoch: f.epoch, zxid: this.durableZxid });
        break;
      }
      case 'ackEpoch': {
        const f = this.following;
        if (f !== undefined && f.epoch === a.epoch) this.sendAckEpoch(f);
        break;
      }
      case 'ackNewLeader': {
        const f = this.following;
        if (f === undefined || f.epoch !== a.epoch || f.phase !== 'sync') break;
        f.phase = 'broadcast';
        f.lastHeardTick = this.tickNo;
        this.send(f.leader, { type: 'coord.zab.ackNewLeader', from: this.id, epoch: f.epoch, zxid: this.durableZxid });
        this.out.push({ kind: 'roleChanged', role: 'following', leader: f.leader, epoch: f.epoch });
        break;
      }
      case 'leaderEpochAccepted': {
        const l = this.leading;
        if (l === undefined || l.phase !== 'epochWait') break;
        l.phase = 'ackEpoch';
        for (const [id, x] of l.learners) {
          if (x.acceptedEpoch > l.epoch) {
            this.lookForLeader();
            return;
          }
          this.send(id, { type: 'coord.zab.leaderInfo', from: this.id, epoch: l.epoch });
        }
        this.maybeBecomeCurrent(l);
        break;
      }
      case 'leaderEpochCurrent': {
        const l = this.leading;
        if (l === undefined || l.phase !== 'currentWait') break;
        l.phase = 'newLeader';
        // Durable epochs imply the log before them is durable too (ops complete in order).
        l.selfNewLeaderDurable = true;
        for (const [id, x] of l.learners) if (x.ack !== undefined) this.syncLearner(l, id, x);
        this.maybeEstablish(l);
        break;
      }
      default: {
        const never: never = a;
        throw new Error(`unknown durable continuation ${JSON.stringify(never)}`);
      }
    }
  }

  /** Z6: DIFF when the follower's last zxid is in our log, TRUNC to the last of ours below it otherwise, SNAP when it is behind our in-memory log. */
  private syncLearner(l: Leading, id: ServerId, x: Learner): void {
    const theirs = (x.ack as { lastZxid: Zxid }).lastZxid;
    const last = this.lastZxid;
    const base: Omit<Extract<PeerMsg, { type: 'coord.zab.sync' }>, 'mode' | 'entries'> = { type: 'coord.zab.sync', from: this.id, epoch: l.epoch, commitZxid: this.committedZxid };
    x.forwarding = true;
    if (theirs < this.logBase) {
      // SNAP: the state as applied now, then everything ordered after it.
      const entries = this.log.slice(this.indexAfter(this.deliveredZxid));
      this.out.push({ kind: 'sendSnapshot', to: id, zxid: this.deliveredZxid, msg: { ...base, mode: 'snap', entries } });
      return;
    }
    if (theirs === this.logBase || this.log.some((e) => e.zxid === theirs)) {
      this.send(id, { ...base, mode: 'diff', entries: this.log.slice(this.indexAfter(theirs)) });
      return;
    }
    // The follower has entries we do not (never committed): cut it back to the last zxid we share.
    const target = theirs > last ? last : this.greatestAtOrBelow(theirs);
    this.send(id, { ...base, mode: 'trunc', truncZxid: target, entries: this.log.slice(this.indexAfter(target)) });
  }

  private onAckNewLeader(from: ServerId, epoch: number, zxid: Zxid): void {
    const l = this.leading;
    if (l === undefined || epoch !== l.epoch) return;
    const x = l.learners.get(from);
    if (x === undefined || !x.forwarding) return;
    x.lastHeardTick = this.tickNo;
    x.synced = true;
    x.ackedZxid = Math.max(x.ackedZxid, zxid);
    if (l.phase === 'newLeader') this.maybeEstablish(l);
    else if (l.phase === 'broadcast') this.advanceCommit();
  }

  /** Z7: a quorum acknowledged NEWLEADER: the whole initial history is committed; broadcast begins. */
  private maybeEstablish(l: Leading): void {
    if (l.phase !== 'newLeader' || !l.selfNewLeaderDurable) return;
    let synced = 1;
    for (const x of l.learners.values()) if (x.synced) synced++;
    if (synced < this.quorum) return;
    l.phase = 'broadcast';
    this.out.push({ kind: 'roleChanged', role: 'leading', leader: this.id, epoch: l.epoch });
    this.advanceCommit();
  }

  private onAck(from: ServerId, epoch: number, zxid: Zxid): void {
    const l = this.leading;
    if (l === undefined || epoch !== l.epoch) return;
    const x = l.learners.get(from);
    if (x === undefined || !x.forwarding) return;
    // Followers ack only after they processed NEWLEADER of this epoch: an ack stands in for a lost ackNewLeader.
    if (!x.synced) {
      x.synced = true;
      x.ackedZxid = 0;
    }
    x.lastHeardTick = this.tickNo;
    if (zxid > x.ackedZxid) {
      x.ackedZxid = Math.min(zxid, this.lastZxid);
      if (l.phase === 'broadcast') this.advanceCommit();
    }
  }

  /** Z8: commit the highest zxid a quorum of synced servers (self included) hold durably. */
  private advanceCommit(): void {
    const l = this.leading as Leading;
    const acks = [this.durableZxid];
    for (const x of l.learners.values()) if (x.synced) acks.push(x.ackedZxid);
    acks.sort((a, b) => b - a);
    const c = acks[this.quorum - 1];
    if (c === undefined || c <= this.committedZxid) return;
    // A sync is answered exactly after the commits of what was proposed before it, and before those
    // of later proposals: a session's read after its sync never sees its own later writes (Z7).
    while (l.pendingSyncs.length > 0 && (l.pendingSyncs[0] as { zxid: Zxid }).zxid <= c) {
      const s = l.pendingSyncs.shift() as { zxid: Zxid; from: ServerId; id: number };
      this.commitAndTell(l, s.zxid);
      this.answerSync(s.from, s.id);
    }
    this.commitAndTell(l, c);
  }

  private commitAndTell(l: Leading, c: Zxid): void {
    if (c <= this.committedZxid) return;
    this.commitUpTo(c);
    for (const [id, x] of l.learners) if (x.forwarding) this.send(id, { type: 'coord.zab.commit', from: this.id, epoch: l.epoch, zxid: c });
  }

  private answerSync(from: ServerId, id: number): void {
    const l = this.leading as Leading;
    if (from === this.id) this.out.push({ kind: 'syncDone', id });
    else this.send(from, { type: 'coord.zab.synced', from: this.id, epoch: l.epoch, id });
  }

  // ---- Log --------------------------------------------------------------------------------------

  /** Marks entries through `zxid` committed and hands them to the state machine in zxid order (Z8). */
  private commitUpTo(zxid: Zxid): void {
    if (zxid <= this.committedZxid) return;
    check(zxid <= this.lastZxid, 'Z8', `commit of ${zxid} beyond the log end ${this.lastZxid}`);
    this.committedZxid = zxid;
    const from = this.indexAfter(this.deliveredZxid);
    const to = this.indexAfter(zxid);
    if (to > from) {
      const entries = this.log.slice(from, to);
      this.deliveredZxid = (entries[entries.length - 1] as LogEntry).zxid;
      this.out.push({ kind: 'deliver', entries });
    }
  }

  /** Index of the first in-memory entry with a zxid above `zxid`. */
  private indexAfter(zxid: Zxid): number {
    let lo = 0;
    let hi = this.log.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.log[mid] as LogEntry).zxid <= zxid) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private greatestAtOrBelow(zxid: Zxid): Zxid {
    const i = this.indexAfter(zxid);
    return i === 0 ? this.logBase : (this.log[i - 1] as LogEntry).zxid;
  }

  private checkLog(): void {
    let prev = this.logBase;
    for (const e of this.log) {
      check(e.zxid > prev, 'Z8', `log not in zxid order: ${e.zxid} after ${prev}`);
      prev = e.zxid;
    }
  }

  /** Throws if the peer's state breaks an invariant (the simulator calls the shell's after every message). */
  invariants(): void {
    check(this.deliveredZxid <= this.committedZxid, 'Z8', `delivered ${this.deliveredZxid} beyond committed ${this.committedZxid}`);
    check(this.committedZxid <= this.lastZxid, 'Z8', `committed ${this.committedZxid} beyond the log end ${this.lastZxid}`);
    check(this.currentEpoch <= this.acceptedEpoch, 'Z4', `current epoch ${this.currentEpoch} above accepted ${this.acceptedEpoch}`);
    check(this.log.length === 0 || (this.log[0] as LogEntry).zxid > this.logBase, 'Z8', `log starts at or below its base ${this.logBase}`);
    check(this.durableZxid <= this.lastZxid, 'Z9', `durable ${this.durableZxid} beyond the log end ${this.lastZxid}`);
    if (this.leading !== undefined && this.leading.phase === 'broadcast') check(epochOf(this.lastZxid) <= this.leading.epoch, 'Z8', `leader log at ${this.lastZxid}, beyond its epoch ${this.leading.epoch}`);
  }
}
