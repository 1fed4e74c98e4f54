/**
 * The monitor's pure core: elections, Paxos and leases as one state machine (STYLE.md: pure cores,
 * thin shells; etcd raft's `Step`/`Ready`). No I/O, no clock, no await: every input (a peer message,
 * a command, a timer tick) comes with `now`, and the core returns the effects to perform, in order:
 * records to make durable, messages to send, replies, and commit notices. The shell (`monitor.ts`)
 * makes each `persist` durable before it performs any effect after it (invariant P3).
 *
 * The protocol follows the thesis (§6.2.4) and Ceph's monitor Paxos:
 * - Elections: a candidate proposes itself to every monitor with an odd election epoch; a monitor
 *   votes once per epoch, for the lowest rank it hears first; a candidate wins with the votes of
 *   every monitor, or of a majority when its election timeout (T) expires; the victory makes the
 *   epoch even and names the quorum.
 * - Recovery (collect/last): the new leader picks a proposal number above any it has seen, has the
 *   quorum promise it, learns the committed versions it lacks and the accepted-but-uncommitted value
 *   with the highest proposal number, and re-proposes that value first.
 * - Updates (begin/accept/commit): one proposal at a time, for version lastCommitted + 1; every
 *   quorum member accepts (durably) before the leader commits; peons drop their read lease on
 *   begin, so no monitor serves the old version once the new one is committed.
 * - Leases: while no update is in flight the leader grants leases of T to the quorum every renew
 *   interval; a lease or proposal not acknowledged by the whole quorum in time, or a peon's lease
 *   that lapses unrenewed, calls an election.
 */
import { commitWaitAfterVictoryMs, type MonitorConfig } from './config.js';
import { REQUEST_ID_CHARS_MAX } from './protocol.js';
import { fail, ok, type MonResult } from './errors.js';
import type { ReplyHandle } from '../../../runtime/behavior.js';
import type { MonitorRole, MonitorStatus, PeerMsg, ReadReply, RequestIdTable, RequestIds, Share, SubmitReply, Uncommitted } from './protocol.js';
import type { MonitorService } from './service.js';

/** What must be durable before anything that follows it happens (the shell logs these, in order). */
export type MonRecord<S = unknown, I = unknown> =
  /** The highest proposal number this monitor promised (P2). */
  | { readonly t: 'promise'; readonly pn: number }
  /** A value accepted for a version (P2). */
  | { readonly t: 'accept'; readonly version: number; readonly pn: number; readonly inc: I; readonly rids?: RequestIds }
  /** A committed version (P1, P4). */
  | { readonly t: 'commit'; readonly version: number; readonly inc: I; readonly rids?: RequestIds }
  /** A full state received from a peer that had trimmed the versions this monitor lacked. */
  | { readonly t: 'snapshot'; readonly version: number; readonly state: S; readonly rids?: RequestIdTable }
  /** The election epoch this monitor voted in: one vote per epoch, across restarts too (P7). */
  | { readonly t: 'vote'; readonly epoch: number };

/** Everything durable, as one value: a checkpoint, and what recovery rebuilds. */
export interface MonCheckpoint<S = unknown, I = unknown> {
  readonly lastPn: number;
  readonly electionEpoch: number;
  readonly baseVersion: number;
  readonly baseState: S;
  readonly incs: ReadonlyArray<readonly [number, I, RequestIds?]>;
  /** The remembered request ids (P10), the kept versions' included. */
  readonly rids?: RequestIdTable;
  readonly uncommitted?: Uncommitted<I>;
}

/** Reported back to the core when a record it asked for is durable. */
export type DurableEvent = { readonly type: 'selfAccept'; readonly version: number; readonly pn: number };

export type Effect<S = unknown, I = unknown> =
  /**
   * Make `rec` durable. By default it gates every later send and reply (they wait for it: P3).
   * With `gate: false` later effects do not wait — for the leader's own accept (it counts as a vote
   * only once durable, reported through `onDurable`) and its commit record (the value is already
   * durable as accepted on every quorum member).
   */
  | { readonly k: 'persist'; readonly rec: MonRecord<S, I>; readonly gate?: false; readonly onDurable?: DurableEvent }
  /**
   * Send `msg` to monitor `to`. By default it waits for every gating record issued before it (P3);
   * with `held: false` it goes at once — only for a peon's `revoked`, which vouches for nothing
   * durable (it says this monitor stopped serving reads: P3's exception, README).
   */
  | { readonly k: 'send'; readonly to: number; readonly msg: PeerMsg<S, I>; readonly held?: false }
  | { readonly k: 'reply'; readonly handle: ReplyHandle; readonly value: MonResult<unknown> }
  /** Run the core's `tick` again after `afterMs` (a deadline sooner than the next regular tick). */
  | { readonly k: 'wake'; readonly afterMs: number }
  /** Version `version` is committed here; performed once every record issued before it is durable. `inc` is undefined when it came inside a snapshot. */
  | { readonly k: 'committed'; readonly version: number; readonly inc: I | undefined };

interface Waiter {
  readonly handle: ReplyHandle | undefined;
  readonly reply: unknown;
}

/** A queued command with its request id, if it has one. */
type Pending<C> = { readonly cmd: C; readonly handle: ReplyHandle | undefined; readonly rid: string | undefined };

interface Proposal<I> {
  readonly version: number;
  readonly pn: number;
  readonly inc: I;
  /** Monitors whose accept is durable (the leader's own once its record is). */
  readonly accepted: Set<number>;
  /** Quorum members that dropped their lease for this update (the leader at once). */
  readonly revoked: Set<number>;
  readonly sentAt: number;
  readonly deadline: number;
  /** Grows when a command the proposal holds is resubmitted meanwhile (P10). */
  readonly waiters: Waiter[];
  readonly rids: RequestIds;
}

interface Collect<I> {
  readonly pn: number;
  readonly sentAt: number;
  readonly deadline: number;
  readonly answered: Set<number>;
  /** Accepted-but-uncommitted values reported, the leader's own included. */
  readonly values: Uncommitted<I>[];
  readonly peerCommitted: Map<number, number>;
}

interface LeaseRound {
  readonly round: number;
  readonly sentAt: number;
  readonly deadline: number;
  readonly acks: Set<number>;
}

/** Proposal numbers: a counter times this, plus the rank (unique per monitor, as Ceph's). */
const PN_RANKS = 100;

export class MonitorCore<S, C, I> {
  readonly majority: number;
  // ----- durable (P2, P4): rebuilt from the store at startup -----
  private lastPn = 0;
  private baseVersion = 0;
  private baseState: S;
  private readonly incs = new Map<number, I>();
  /** Request ids of the kept versions (P10): by version, and each id with its version and reply. */
  private readonly ridsByVersion = new Map<number, RequestIds>();
  private readonly committedRids = new Map<string, { readonly version: number; readonly reply: unknown }>();
  private lastCommittedV = 0;
  private stateV: S;
  private uncommitted: Uncommitted<I> | undefined;
  // ----- election -----
  private epoch = 0;
  private roleV: MonitorRole = 'electing';
  private leaderRank: number | undefined;
  private quorumV: number[] = [];
  /** Whom this monitor voted for in the current (odd) epoch. */
  private votedFor: number | undefined;
  private readonly votes = new Set<number>();
  private electionDeadline = 0;
  // ----- leader -----
  private collect: Collect<I> | undefined;
  private proposal: Proposal<I> | undefined;
  private recovered: Uncommitted<I> | undefined;
  /** The proposal in flight re-proposes a value recovered in the collect: no reads until it commits (P6). */
  private recovering = false;
  private readonly pending: Pending<C>[] = [];
  private commitNotBefore = 0;
  private proposeNotBefore = 0;
  private leaseRound = 0;
  private readonly leaseRounds: LeaseRound[] = [];
  private nextLeaseAt = 0;
  /** Until when the leader itself may serve reads (P6). */
  private leaderReadableUntil = 0;
  private active = false;
  // ----- peon -----
  private leaseUntil = 0;
  private peonDeadline = 0;

  constructor(
    private readonly service: MonitorService<S, C, I>,
    private readonly cfg: MonitorConfig,
    readonly rank: number,
    readonly monitors: number,
    recovered?: MonCheckpoint<S, I>,
  ) {
    if (!(Number.isInteger(monitors) && monitors >= 1 && monitors < PN_RANKS)) throw new RangeError(`monitor count ${monitors} outside 1..${PN_RANKS - 1}`);
    if (!(Number.isInteger(rank) && rank >= 0 && rank < monitors)) throw new RangeError(`rank ${rank} outside 0..${monitors - 1}`);
    this.majority = Math.floor(monitors / 2) + 1;
    this.baseState = service.initial();
    this.stateV = this.baseState;
    if (recovered !== undefined) this.restore(recovered);
  }

  // ----- recovery -----

  /** Rebuilds the durable state from a checkpoint (P5: state = snapshot + incrementals). */
  private restore(c: MonCheckpoint<S, I>): void {
    this.lastPn = c.lastPn;
    this.epoch = c.electionEpoch;
    this.baseVersion = c.baseVersion;
    this.baseState = c.baseState;
    this.stateV = c.baseState;
    this.incs.clear();
    this.loadRidTable(c.rids);
    let v = c.baseVersion;
    for (const [version, inc, rids] of c.incs) {
      if (version !== v + 1) throw new Error(`checkpoint holds version ${version} after ${v}`);
      this.incs.set(version, inc);
      this.keepRids(version, rids);
      this.stateV = this.service.apply(this.stateV, inc);
      v = version;
    }
    this.lastCommittedV = v;
    this.uncommitted = c.uncommitted !== undefined && c.uncommitted.version === v + 1 ? c.uncommitted : undefined;
  }

  /** Replays one logged record on top of the restored state (recovery only). */
  replay(r: MonRecord<S, I>): void {
    switch (r.t) {
      case 'promise':
        this.lastPn = Math.max(this.lastPn, r.pn);
        break;
      case 'accept':
        this.lastPn = Math.max(this.lastPn, r.pn);
        if (r.version === this.lastCommittedV + 1) this.uncommitted = { version: r.version, pn: r.pn, inc: r.inc, ...(r.rids === undefined ? {} : { rids: r.rids }) };
        break;
      case 'commit':
        if (r.version === this.lastCommittedV + 1) this.applyCommit(r.version, r.inc, r.rids);
        break;
      case 'snapshot':
        if (r.version > this.lastCommittedV) this.adoptSnapshot(r.version, r.state, r.rids);
        break;
      case 'vote':
        this.epoch = Math.max(this.epoch, r.epoch);
        break;
      default:
        assertNever(r);
    }
  }

  /** The durable state as one value, for a checkpoint. */
  checkpoint(): MonCheckpoint<S, I> {
    return {
      lastPn: this.lastPn,
      electionEpoch: this.epoch,
      baseVersion: this.baseVersion,
      baseState: this.baseState,
      incs: [...this.incs].map(([v, inc]) => this.withRids(v, inc)),
      ...(this.committedRids.size === 0 ? {} : { rids: this.ridTable() }),
      ...(this.uncommitted === undefined ? {} : { uncommitted: this.uncommitted }),
    };
  }

  // ----- observers -----

  get lastCommitted(): number {
    return this.lastCommittedV;
  }

  get firstCommitted(): number {
    return this.baseVersion + 1;
  }

  get state(): S {
    return this.stateV;
  }

  get role(): MonitorRole {
    return this.roleV;
  }

  get electionEpoch(): number {
    return this.epoch;
  }

  get leader(): number | undefined {
    return this.leaderRank;
  }

  get quorum(): readonly number[] {
    return this.quorumV;
  }

  get promisedPn(): number {
    return this.lastPn;
  }

  get pendingCount(): number {
    return this.pending.length;
  }

  /** Whether a read served now is linearizable (P6): a leader that completed recovery within its lease, or a peon under a lease. */
  readable(now: number): boolean {
    if (this.roleV === 'leader') return this.active && !this.recovering && now < this.leaderReadableUntil;
    if (this.roleV === 'peon') return now < this.leaseUntil;
    return false;
  }

  status(now: number, subscribers: number): MonitorStatus {
    return {
      service: this.service.name,
      rank: this.rank,
      monitors: this.monitors,
      role: this.roleV,
      electionEpoch: this.epoch,
      ...(this.leaderRank === undefined ? {} : { leader: this.leaderRank }),
      quorum: this.quorumV,
      lastCommitted: this.lastCommittedV,
      firstCommitted: this.firstCommitted,
      readable: this.readable(now),
      pendingCommands: this.pending.length,
      subscribers,
    };
  }

  /** Serves a read under the lease, or says why not. */
  read(now: number, since?: number): MonResult<ReadReply<S, I>> {
    if (since !== undefined && !(Number.isSafeInteger(since) && since >= 0)) return fail('invalid_request', `since must be a version (a non-negative integer), got ${String(since)}`);
    if (!this.readable(now)) return this.notServing();
    if (since === undefined) return ok({ version: this.lastCommittedV, state: this.stateV });
    return ok({ version: this.lastCommittedV, share: this.shareSince(since, this.cfg.shareVersionsMax) });
  }

  /**
   * Committed versions after `since`: the incrementals, or — when `since` is older than the kept
   * history, or more than `max` versions behind — the current state as a snapshot.
   */
  shareSince(since: number, max: number, forPeer = false): Share<S, I> {
    if (since >= this.lastCommittedV) return { incs: [] };
    if (since < this.baseVersion || this.lastCommittedV - since > max) {
      // A monitor catching up gets the remembered request ids too (P10); clients and subscribers do not need them.
      const rids = forPeer && this.committedRids.size > 0 ? { rids: this.ridTable() } : {};
      return { snapshot: { version: this.lastCommittedV, state: this.stateV, ...rids }, incs: [] };
    }
    const incs: (readonly [number, I, RequestIds?])[] = [];
    for (let v = since + 1; v <= this.lastCommittedV; v++) incs.push(this.withRids(v, this.incs.get(v) as I));
    return { incs };
  }

  private notServing<T>(): MonResult<T> {
    if (this.roleV === 'electing') return fail('no_quorum', `monitor ${this.rank} is not in a quorum (election epoch ${this.epoch}); ask another monitor`, { quorum: this.quorumV });
    return fail('lease_expired', `monitor ${this.rank} holds no valid read lease right now (an update is in flight or its lease lapsed); ask again or ask another monitor`, { quorum: this.quorumV });
  }

  // ----- inputs -----

  /** At startup: call an election (thesis §6.2.4). */
  start(now: number): Effect<S, I>[] {
    const out: Effect<S, I>[] = [];
    this.startElection(now, out);
    return out;
  }

  /** A command from a client (`handle` answers it) or from the service's own tick (no handle). */
  submit(cmd: C, handle: ReplyHandle | undefined, now: number, requestId?: string): Effect<S, I>[] {
    const out: Effect<S, I>[] = [];
    if (requestId !== undefined && !(typeof requestId === 'string' && requestId.length > 0 && requestId.length <= REQUEST_ID_CHARS_MAX)) {
      if (handle !== undefined) out.push({ k: 'reply', handle, value: fail('invalid_request', `requestId must be a string of 1..${REQUEST_ID_CHARS_MAX} characters`) });
      return out;
    }
    if (this.roleV === 'peon' && this.leaderRank !== undefined) {
      if (handle !== undefined) out.push({ k: 'send', to: this.leaderRank, msg: { type: 'rados.mon.forward', from: this.rank, epoch: this.epoch, cmd, handle, ...(requestId === undefined ? {} : { requestId }) } });
      return out;
    }
    if (this.roleV !== 'leader') {
      if (handle !== undefined) out.push({ k: 'reply', handle, value: this.notServing() });
      return out;
    }
    this.enqueue(cmd, handle, requestId, out);
    this.maybePropose(now, out);
    return out;
  }

  private enqueue(cmd: C, handle: ReplyHandle | undefined, rid: string | undefined, out: Effect<S, I>[]): void {
    if (rid !== undefined && this.answerKnown(rid, handle, out)) return;
    if (this.pending.length >= this.cfg.pendingCommandsMax) {
      if (handle !== undefined) out.push({ k: 'reply', handle, value: fail('busy', `${this.pending.length} commands already wait at the leader (pendingCommandsMax); retry later`) });
      return;
    }
    this.pending.push({ cmd, handle, rid });
  }

  /**
   * A resubmitted command (P10): committed already — answer it with its version and reply; held by
   * the proposal in flight — answer it with the others when that commits. Returns whether it did.
   */
  private answerKnown(rid: string, handle: ReplyHandle | undefined, out: Effect<S, I>[]): boolean {
    const done = this.committedRids.get(rid);
    if (done !== undefined) {
      if (handle !== undefined) out.push({ k: 'reply', handle, value: ok(submitReply(done.version, done.reply)) });
      return true;
    }
    const p = this.proposal;
    const held = p?.rids.find(([r]) => r === rid);
    if (p !== undefined && held !== undefined) {
      if (handle !== undefined) p.waiters.push({ handle, reply: held[1] });
      return true;
    }
    return false;
  }

  /** A message from another monitor. */
  receive(m: PeerMsg<S, I>, now: number): Effect<S, I>[] {
    const out: Effect<S, I>[] = [];
    if (!(Number.isInteger(m.from) && m.from >= 0 && m.from < this.monitors) || m.from === this.rank) return out;
    switch (m.type) {
      case 'rados.mon.propose':
        this.onPropose(m.from, m.epoch, now, out);
        break;
      case 'rados.mon.vote':
        if (m.epoch === this.epoch && this.roleV === 'electing' && this.votedFor === this.rank) {
          this.votes.add(m.from);
          if (this.votes.size === this.monitors) this.victory(now, out);
        }
        break;
      case 'rados.mon.victory':
        this.onVictory(m.from, m.epoch, m.quorum, now, out);
        break;
      default:
        // Paxos and lease messages belong to one stable epoch (P7).
        if (m.epoch !== this.epoch || this.roleV === 'electing') break;
        if (this.roleV === 'peon') this.peonReceive(m, now, out);
        else this.leaderReceive(m, now, out);
    }
    return out;
  }

  /** Timer: checks every deadline. */
  tick(now: number): Effect<S, I>[] {
    const out: Effect<S, I>[] = [];
    switch (this.roleV) {
      case 'electing':
        if (now >= this.electionDeadline) {
          if (this.votedFor === this.rank && this.votes.size >= this.majority) this.victory(now, out);
          else this.startElection(now, out);
        }
        break;
      case 'peon':
        if (now >= this.peonDeadline) this.startElection(now, out);
        break;
      case 'leader': {
        const late = (this.collect !== undefined && now >= this.collect.deadline) || (this.proposal !== undefined && now >= this.proposal.deadline) || this.leaseRounds.some((r) => now >= r.deadline);
        if (late) {
          this.startElection(now, out);
          break;
        }
        if (this.active && this.service.tick !== undefined && this.proposal === undefined) {
          for (const cmd of this.service.tick(this.stateV, now)) this.enqueue(cmd, undefined, undefined, out);
        }
        this.commit(now, out);
        this.maybePropose(now, out);
        if (this.active && this.proposal === undefined && now >= this.nextLeaseAt) this.sendLeases(now, out);
        break;
      }
      default:
        assertNever(this.roleV);
    }
    return out;
  }

  // ----- elections -----

  private startElection(now: number, out: Effect<S, I>[]): void {
    this.stepDown(out);
    this.epoch = this.epoch % 2 === 1 ? this.epoch + 2 : this.epoch + 1;
    this.votedFor = this.rank;
    out.push({ k: 'persist', rec: { t: 'vote', epoch: this.epoch } });
    this.votes.clear();
    this.votes.add(this.rank);
    this.electionDeadline = now + this.electionTimeout();
    this.broadcast(out, { type: 'rados.mon.propose', from: this.rank, epoch: this.epoch });
    if (this.monitors === 1) this.victory(now, out);
  }

  private electionTimeout(): number {
    return this.cfg.electionTimeoutMs + this.rank * this.cfg.electionRankStaggerMs;
  }

  /** Leaves the leader or peon role: drops the lease and fails what waits on the old quorum. */
  private stepDown(out: Effect<S, I>[]): void {
    if (this.roleV === 'leader') {
      for (const w of this.proposal?.waiters ?? []) {
        if (w.handle !== undefined) out.push({ k: 'reply', handle: w.handle, value: fail('outcome_unknown', `monitor ${this.rank} lost its quorum while committing version ${this.proposal?.version}: the command may or may not be committed`) });
      }
      for (const p of this.pending.splice(0)) {
        if (p.handle !== undefined) out.push({ k: 'reply', handle: p.handle, value: fail('no_quorum', `monitor ${this.rank} lost its quorum before proposing the command; submit it again`) });
      }
    }
    this.roleV = 'electing';
    this.leaderRank = undefined;
    this.collect = undefined;
    this.proposal = undefined;
    this.recovered = undefined;
    this.recovering = false;
    this.leaseRounds.length = 0;
    this.leaderReadableUntil = 0;
    this.active = false;
    this.leaseUntil = 0;
  }

  private onPropose(from: number, epoch: number, now: number, out: Effect<S, I>[]): void {
    if (epoch < this.epoch) {
      // A monitor outside the quorum (restarted, or back from a partition) wants in: the leader
      // calls an election that includes it (peons got the same propose and leave it to the leader).
      if (this.roleV === 'leader') this.startElection(now, out);
      else if (this.roleV === 'electing' && this.votedFor === this.rank) out.push({ k: 'send', to: from, msg: { type: 'rados.mon.propose', from: this.rank, epoch: this.epoch } });
      return;
    }
    if (epoch > this.epoch || this.roleV !== 'electing') {
      // A new election: join it (an even epoch is a stable one; a propose for it would be a bug of the sender, so treat it as the next odd one).
      this.stepDown(out);
      this.epoch = epoch % 2 === 1 ? epoch : epoch + 1;
      this.votedFor = undefined;
      this.votes.clear();
      this.electionDeadline = now + this.electionTimeout();
    }
    if (this.votedFor !== undefined) return; // one vote per epoch (P7)
    if (from < this.rank) {
      this.votedFor = from;
      out.push({ k: 'persist', rec: { t: 'vote', epoch: this.epoch } });
      out.push({ k: 'send', to: from, msg: { type: 'rados.mon.vote', from: this.rank, epoch: this.epoch } });
    } else {
      // This monitor ranks lower (better) than the proposer: it stands itself.
      this.votedFor = this.rank;
      out.push({ k: 'persist', rec: { t: 'vote', epoch: this.epoch } });
      this.votes.add(this.rank);
      this.broadcast(out, { type: 'rados.mon.propose', from: this.rank, epoch: this.epoch });
    }
  }

  private victory(now: number, out: Effect<S, I>[]): void {
    this.epoch += 1;
    this.roleV = 'leader';
    this.leaderRank = this.rank;
    this.quorumV = [...this.votes].sort((a, b) => a - b);
    this.votedFor = undefined;
    // Every monitor that voted dropped its lease when it joined this election and ignores the old
    // epoch since; only monitors outside the quorum may still hold a lease of a previous leader, so
    // with all of them in the quorum there is nothing to wait for (P6).
    this.commitNotBefore = this.quorumV.length === this.monitors ? now : now + commitWaitAfterVictoryMs(this.cfg);
    for (const r of this.quorumV) if (r !== this.rank) out.push({ k: 'send', to: r, msg: { type: 'rados.mon.victory', from: this.rank, epoch: this.epoch, quorum: this.quorumV } });
    this.startCollect(now, out);
  }

  private onVictory(from: number, epoch: number, quorum: readonly number[], now: number, out: Effect<S, I>[]): void {
    if (epoch < this.epoch || epoch % 2 !== 0 || !quorum.includes(this.rank) || !quorum.includes(from)) return;
    if (epoch === this.epoch && this.roleV !== 'electing') return;
    this.stepDown(out);
    this.epoch = epoch;
    this.roleV = 'peon';
    this.leaderRank = from;
    this.quorumV = [...quorum];
    this.votedFor = undefined;
    this.peonDeadline = now + 2 * this.cfg.leaseMs + this.cfg.proposalTimeoutMs;
  }

  // ----- leader -----

  private startCollect(now: number, out: Effect<S, I>[]): void {
    const pn = (Math.floor(this.lastPn / PN_RANKS) + 1) * PN_RANKS + this.rank;
    this.lastPn = pn;
    out.push({ k: 'persist', rec: { t: 'promise', pn } });
    this.collect = {
      pn,
      sentAt: now,
      deadline: now + this.cfg.proposalTimeoutMs,
      answered: new Set([this.rank]),
      values: this.uncommitted === undefined ? [] : [this.uncommitted],
      peerCommitted: new Map(),
    };
    this.active = false;
    for (const r of this.quorumV) if (r !== this.rank) out.push({ k: 'send', to: r, msg: { type: 'rados.mon.collect', from: this.rank, epoch: this.epoch, pn, lastCommitted: this.lastCommittedV } });
    this.maybeFinishCollect(now, out);
  }

  private leaderReceive(m: PeerMsg<S, I>, now: number, out: Effect<S, I>[]): void {
    if (!this.quorumV.includes(m.from)) return;
    switch (m.type) {
      case 'rados.mon.last': {
        const c = this.collect;
        if (c === undefined || m.pn !== c.pn) return;
        if (m.promised > c.pn) {
          // Someone promised a higher number: collect again above it.
          this.lastPn = Math.max(this.lastPn, m.promised);
          this.startCollect(now, out);
          return;
        }
        if (m.share !== undefined) this.adoptShare(m.share, out);
        c.peerCommitted.set(m.from, m.lastCommitted);
        c.answered.add(m.from);
        if (m.uncommitted !== undefined) c.values.push(m.uncommitted);
        this.maybeFinishCollect(now, out);
        return;
      }
      case 'rados.mon.revoked':
      case 'rados.mon.accept': {
        const p = this.proposal;
        if (p === undefined || m.pn !== p.pn || m.version !== p.version) return;
        p.revoked.add(m.from);
        if (m.type === 'rados.mon.accept') p.accepted.add(m.from);
        this.commit(now, out);
        return;
      }
      case 'rados.mon.leaseAck': {
        const i = this.leaseRounds.findIndex((r) => r.round === m.round);
        if (i < 0) return;
        const r = this.leaseRounds[i]!;
        r.acks.add(m.from);
        if (this.quorumV.every((q) => r.acks.has(q))) {
          // Every quorum member was in this epoch after the round was sent (P6).
          this.leaderReadableUntil = Math.max(this.leaderReadableUntil, r.sentAt + this.cfg.leaseMs - this.cfg.clockSkewMaxMs);
          this.leaseRounds.splice(0, i + 1);
        }
        return;
      }
      case 'rados.mon.behind':
        this.sendShare(m.from, m.lastCommitted, out);
        if (this.proposal !== undefined && m.lastCommitted < this.proposal.version - 1) {
          // The peon could not accept the begin it lacked versions for: send it again after the share.
          const p = this.proposal;
          out.push({ k: 'send', to: m.from, msg: { type: 'rados.mon.begin', from: this.rank, epoch: this.epoch, pn: p.pn, version: p.version, inc: p.inc, ...(p.rids.length === 0 ? {} : { rids: p.rids }) } });
        }
        return;
      case 'rados.mon.forward':
        this.enqueue(m.cmd as C, m.handle, typeof m.requestId === 'string' ? m.requestId : undefined, out);
        this.maybePropose(now, out);
        return;
      case 'rados.mon.share':
        this.adoptShare(m.share, out);
        return;
      default:
        // collect, begin, commit, lease go from leader to peon: another leader of this epoch cannot exist (P7).
        return;
    }
  }

  private maybeFinishCollect(now: number, out: Effect<S, I>[]): void {
    const c = this.collect;
    if (c === undefined || !this.quorumV.every((r) => c.answered.has(r))) return;
    this.collect = undefined;
    for (const [r, v] of c.peerCommitted) if (v < this.lastCommittedV) this.sendShare(r, v, out);
    // The value a previous leader may have committed for the next version: among those accepted
    // for it, the one with the highest proposal number (Paxos; P1).
    let best: Uncommitted<I> | undefined;
    for (const u of c.values) if (u.version === this.lastCommittedV + 1 && (best === undefined || u.pn > best.pn)) best = u;
    this.recovered = best;
    this.active = true;
    // The whole quorum answered after the collect went out: it is a lease round (P6). With a
    // recovered value pending the leader serves no read until that value is committed.
    this.leaderReadableUntil = c.sentAt + this.cfg.leaseMs - this.cfg.clockSkewMaxMs;
    this.nextLeaseAt = now;
    this.maybePropose(now, out);
    if (this.proposal === undefined) this.sendLeases(now, out);
  }

  private maybePropose(now: number, out: Effect<S, I>[], committed?: { readonly version: number; readonly pn: number }): void {
    if (this.roleV !== 'leader' || !this.active || this.proposal !== undefined) return;
    if (this.recovered === undefined && (this.pending.length === 0 || now < this.proposeNotBefore)) return;
    const version = this.lastCommittedV + 1;
    let inc: I;
    let waiters: Waiter[] = [];
    let rids: RequestIds = [];
    if (this.recovered !== undefined) {
      // Re-proposed with its request ids, so they are committed with it (P10).
      inc = this.recovered.inc;
      rids = this.recovered.rids ?? [];
      this.recovered = undefined;
      this.recovering = true;
    } else {
      // Request ids of this batch: a command resubmitted while its first copy still waited in the
      // queue joins the first's answer; one committed meanwhile is answered from the table (P10).
      const batchRids = new Map<string, unknown>();
      const known = (p: Pending<C>): boolean => {
        if (p.rid === undefined) return false;
        if (batchRids.has(p.rid)) {
          waiters.push({ handle: p.handle, reply: batchRids.get(p.rid) });
          return true;
        }
        return this.answerKnown(p.rid, p.handle, out);
      };
      const accepted = (p: Pending<C>, reply: unknown): void => {
        waiters.push({ handle: p.handle, reply });
        if (p.rid !== undefined) batchRids.set(p.rid, reply);
      };
      let composed: I | undefined;
      let taken = 0;
      const reject = (handle: ReplyHandle | undefined, error: { code: string; message: string }): void => {
        if (handle !== undefined) out.push({ k: 'reply', handle, value: fail('rejected', error.message, { serviceCode: error.code }) });
      };
      if (this.service.batch !== undefined) {
        // The service accumulates the batch itself: no state copy or composition per command.
        const batch = this.service.batch(this.stateV, now);
        let added = 0;
        while (this.pending.length > taken && waiters.length < this.cfg.proposalCommandsMax) {
          const p = this.pending[taken++]!;
          if (known(p)) continue;
          const r = batch.add(p.cmd);
          if (r.ok) {
            accepted(p, r.reply);
            added++;
          } else reject(p.handle, r.error);
        }
        composed = added === 0 ? undefined : batch.finish();
      } else {
        let scratch = this.stateV;
        while (this.pending.length > taken && waiters.length < this.cfg.proposalCommandsMax) {
          if (composed !== undefined && this.service.compose === undefined) break;
          const p = this.pending[taken++]!;
          if (known(p)) continue;
          const r = this.service.prepare(scratch, p.cmd, now);
          if (!r.ok) {
            reject(p.handle, r.error);
            continue;
          }
          scratch = this.service.apply(scratch, r.inc);
          composed = composed === undefined ? r.inc : (this.service.compose as (a: I, b: I) => I)(composed, r.inc);
          accepted(p, r.reply);
        }
      }
      this.pending.splice(0, taken);
      if (composed === undefined) return;
      rids = [...batchRids];
      inc = composed;
    }
    const pn = this.lastPn;
    const withRids = rids.length === 0 ? {} : { rids };
    this.uncommitted = { version, pn, inc, ...withRids };
    // The leader's own accept counts once it is durable; the begin need not wait for it (the
    // peons log theirs meanwhile), so one round costs one fsync on the critical path.
    out.push({ k: 'persist', rec: { t: 'accept', version, pn, inc, ...withRids }, gate: false, onDurable: { type: 'selfAccept', version, pn } });
    this.proposal = { version, pn, inc, accepted: new Set(), revoked: new Set([this.rank]), sentAt: now, deadline: Math.max(now, this.commitNotBefore) + this.cfg.proposalTimeoutMs, waiters, rids };
    // An update revokes the leases (§6.2.4): pending lease rounds no longer matter.
    this.leaseRounds.length = 0;
    const begin: PeerMsg<S, I> = { type: 'rados.mon.begin', from: this.rank, epoch: this.epoch, pn, version, inc, ...withRids, ...(committed === undefined ? {} : { commit: committed }) };
    for (const r of this.quorumV) if (r !== this.rank) out.push({ k: 'send', to: r, msg: begin });
    waiters = [];
  }

  /** A record this core asked for with `onDurable` is durable. */
  durable(ev: DurableEvent, now: number): Effect<S, I>[] {
    const out: Effect<S, I>[] = [];
    const p = this.proposal;
    if (ev.type === 'selfAccept' && this.roleV === 'leader' && p !== undefined && p.version === ev.version && p.pn === ev.pn) {
      p.accepted.add(this.rank);
      this.commit(now, out);
    }
    return out;
  }

  /**
   * Commits the proposal in flight once a majority of the monitors hold it durably (it is chosen:
   * P1), every quorum member has dropped its lease for the old version (no read can return it
   * after the commit), and no lease of a previous leader can be in force (P6).
   */
  private commit(now: number, out: Effect<S, I>[]): void {
    const p = this.proposal;
    if (p === undefined || p.accepted.size < this.majority || !this.quorumV.every((r) => p.revoked.has(r)) || now < this.commitNotBefore) return;
    this.proposal = undefined;
    this.recovering = false;
    // Every quorum member accepted after the begin went out: a lease round too (P6).
    this.leaderReadableUntil = Math.max(this.leaderReadableUntil, p.sentAt + this.cfg.leaseMs - this.cfg.clockSkewMaxMs);
    this.applyCommit(p.version, p.inc, p.rids);
    // Every quorum member holds the value durably as accepted: it is chosen, whatever happens to
    // this record, so nothing waits for it (a leader restarted without it recovers the value in its
    // next collect). The commit notice below still waits for it (P4).
    const pRids = p.rids.length === 0 ? {} : { rids: p.rids };
    out.push({ k: 'persist', rec: { t: 'commit', version: p.version, inc: p.inc, ...pRids }, gate: false });
    out.push({ k: 'committed', version: p.version, inc: p.inc });
    for (const w of p.waiters) if (w.handle !== undefined) out.push({ k: 'reply', handle: w.handle, value: ok(submitReply(p.version, w.reply)) });
    if (this.cfg.proposalBatchDelayMs > 0) {
      // Let the clients just answered join the next proposal.
      this.proposeNotBefore = now + this.cfg.proposalBatchDelayMs;
      out.push({ k: 'wake', afterMs: this.cfg.proposalBatchDelayMs });
    }
    // When the next proposal starts in this turn its begin carries the commit (the peons log the
    // commit and the new accept in one batch: one fsync per round each); otherwise the commit goes alone.
    this.maybePropose(now, out, { version: p.version, pn: p.pn });
    if (this.proposal === undefined) {
      for (const r of this.quorumV) if (r !== this.rank) out.push({ k: 'send', to: r, msg: { type: 'rados.mon.commit', from: this.rank, epoch: this.epoch, version: p.version, inc: p.inc, ...pRids } });
    }
    // Leases for the new version, unless another update follows right away (it would revoke them).
    if (this.proposal === undefined && this.pending.length === 0) this.sendLeases(now, out);
  }

  private sendLeases(now: number, out: Effect<S, I>[]): void {
    this.nextLeaseAt = now + this.cfg.leaseRenewIntervalMs;
    if (this.quorumV.length === 1) {
      this.leaderReadableUntil = now + this.cfg.leaseMs - this.cfg.clockSkewMaxMs;
      return;
    }
    const round = ++this.leaseRound;
    this.leaseRounds.push({ round, sentAt: now, deadline: now + this.cfg.leaseAckTimeoutMs, acks: new Set([this.rank]) });
    const expiresAt = now + this.cfg.leaseMs;
    for (const r of this.quorumV) if (r !== this.rank) out.push({ k: 'send', to: r, msg: { type: 'rados.mon.lease', from: this.rank, epoch: this.epoch, round, version: this.lastCommittedV, expiresAt } });
  }

  private sendShare(to: number, since: number, out: Effect<S, I>[]): void {
    if (since >= this.lastCommittedV) return;
    out.push({ k: 'send', to, msg: { type: 'rados.mon.share', from: this.rank, epoch: this.epoch, share: this.shareSince(since, this.cfg.shareVersionsMax, true) } });
  }

  // ----- peon -----

  private peonReceive(m: PeerMsg<S, I>, now: number, out: Effect<S, I>[]): void {
    if (m.from !== this.leaderRank) return;
    this.peonDeadline = now + this.cfg.leaseMs + this.cfg.proposalTimeoutMs;
    const reply = (msg: PeerMsg<S, I>): void => void out.push({ k: 'send', to: m.from, msg });
    switch (m.type) {
      case 'rados.mon.collect': {
        this.leaseUntil = 0;
        if (m.pn > this.lastPn) {
          this.lastPn = m.pn;
          out.push({ k: 'persist', rec: { t: 'promise', pn: m.pn } });
        }
        const u = this.uncommitted?.version === this.lastCommittedV + 1 ? this.uncommitted : undefined;
        reply({
          type: 'rados.mon.last',
          from: this.rank,
          epoch: this.epoch,
          pn: m.pn,
          promised: this.lastPn,
          lastCommitted: this.lastCommittedV,
          ...(this.lastCommittedV > m.lastCommitted ? { share: this.shareSince(m.lastCommitted, this.cfg.shareVersionsMax, true) } : {}),
          ...(u === undefined ? {} : { uncommitted: u }),
        });
        return;
      }
      case 'rados.mon.begin': {
        // An update revokes this monitor's lease until it commits (§6.2.4, P6). A new leader may
        // hold its first commit back for up to the wait of P6.
        this.leaseUntil = 0;
        this.peonDeadline = now + commitWaitAfterVictoryMs(this.cfg) + this.cfg.proposalTimeoutMs;
        const c = m.commit;
        const u = this.uncommitted;
        if (c !== undefined && c.version === this.lastCommittedV + 1 && u !== undefined && u.version === c.version && u.pn === c.pn) {
          // The previous version's commit, riding on this begin: its value is the one accepted here
          // under that proposal number (one value per version and proposal number: P1). Logged in
          // the same batch as the accept below.
          this.applyCommit(c.version, u.inc, u.rids);
          out.push({ k: 'persist', rec: { t: 'commit', version: c.version, inc: u.inc, ...(u.rids === undefined ? {} : { rids: u.rids }) } });
          out.push({ k: 'committed', version: c.version, inc: u.inc });
        }
        if (m.pn < this.lastPn) return;
        if (m.version > this.lastCommittedV + 1) {
          reply({ type: 'rados.mon.behind', from: this.rank, epoch: this.epoch, lastCommitted: this.lastCommittedV });
          return;
        }
        if (m.version <= this.lastCommittedV) return;
        // The leader may commit once a majority holds the value, so tell it at once that this
        // monitor serves the old version no more; the accept follows when the value is durable.
        // Not held behind earlier records (the commit just logged, say): it promises nothing durable.
        out.push({ k: 'send', to: m.from, msg: { type: 'rados.mon.revoked', from: this.rank, epoch: this.epoch, pn: m.pn, version: m.version }, held: false });
        this.lastPn = m.pn;
        const mRids = m.rids === undefined ? {} : { rids: m.rids };
        this.uncommitted = { version: m.version, pn: m.pn, inc: m.inc, ...mRids };
        out.push({ k: 'persist', rec: { t: 'accept', version: m.version, pn: m.pn, inc: m.inc, ...mRids } });
        reply({ type: 'rados.mon.accept', from: this.rank, epoch: this.epoch, pn: m.pn, version: m.version });
        return;
      }
      case 'rados.mon.commit':
        if (m.version === this.lastCommittedV + 1) {
          this.applyCommit(m.version, m.inc, m.rids);
          out.push({ k: 'persist', rec: { t: 'commit', version: m.version, inc: m.inc, ...(m.rids === undefined ? {} : { rids: m.rids }) } });
          out.push({ k: 'committed', version: m.version, inc: m.inc });
        } else if (m.version > this.lastCommittedV + 1) {
          reply({ type: 'rados.mon.behind', from: this.rank, epoch: this.epoch, lastCommitted: this.lastCommittedV });
        }
        return;
      case 'rados.mon.lease':
        if (m.version === this.lastCommittedV) {
          this.leaseUntil = Math.max(this.leaseUntil, m.expiresAt - this.cfg.clockSkewMaxMs);
          this.peonDeadline = Math.max(this.peonDeadline, m.expiresAt + this.cfg.leaseRenewIntervalMs + this.cfg.leaseAckTimeoutMs);
          reply({ type: 'rados.mon.leaseAck', from: this.rank, epoch: this.epoch, round: m.round });
        } else if (m.version > this.lastCommittedV) {
          reply({ type: 'rados.mon.behind', from: this.rank, epoch: this.epoch, lastCommitted: this.lastCommittedV });
        }
        return;
      case 'rados.mon.share':
        this.adoptShare(m.share, out);
        return;
      default:
        return;
    }
  }

  // ----- committed state (P1, P4, P5) -----

  private applyCommit(version: number, inc: I, rids: RequestIds | undefined): void {
    if (version !== this.lastCommittedV + 1) throw new Error(`commit of version ${version} after ${this.lastCommittedV}`);
    this.stateV = this.service.apply(this.stateV, inc);
    this.incs.set(version, inc);
    this.keepRids(version, rids);
    this.lastCommittedV = version;
    if (this.uncommitted !== undefined && this.uncommitted.version <= version) this.uncommitted = undefined;
    this.trim();
  }

  /** Remembers the request ids a committed version holds (P10). */
  private keepRids(version: number, rids: RequestIds | undefined): void {
    if (rids === undefined || rids.length === 0) return;
    this.ridsByVersion.set(version, rids);
    for (const [rid, reply] of rids) this.rememberRid(rid, version, reply);
  }

  /** Newest last (a Map keeps insertion order); the oldest go past `requestIdsMax`. */
  private rememberRid(rid: string, version: number, reply: unknown): void {
    this.committedRids.delete(rid);
    this.committedRids.set(rid, { version, reply });
    for (const old of this.committedRids.keys()) {
      if (this.committedRids.size <= this.cfg.requestIdsMax) break;
      this.committedRids.delete(old);
    }
  }

  private ridTable(): RequestIdTable {
    return [...this.committedRids].map(([rid, { version, reply }]) => [rid, version, reply] as const);
  }

  private loadRidTable(table: RequestIdTable | undefined): void {
    this.committedRids.clear();
    for (const [rid, version, reply] of table ?? []) this.rememberRid(rid, version, reply);
  }

  private withRids(version: number, inc: I): readonly [number, I, RequestIds?] {
    const rids = this.ridsByVersion.get(version);
    return rids === undefined ? [version, inc] : [version, inc, rids];
  }

  private adoptSnapshot(version: number, state: S, rids: RequestIdTable | undefined): void {
    this.baseVersion = version;
    this.baseState = state;
    this.stateV = state;
    this.incs.clear();
    // The snapshot carries the sender's remembered request ids (P10).
    this.ridsByVersion.clear();
    this.loadRidTable(rids);
    this.lastCommittedV = version;
    if (this.uncommitted !== undefined && this.uncommitted.version <= version) this.uncommitted = undefined;
  }

  /** Applies committed versions from a peer; each one it adds is logged. */
  private adoptShare(share: Share<S, I>, out: Effect<S, I>[]): void {
    if (share.snapshot !== undefined && share.snapshot.version > this.lastCommittedV) {
      this.adoptSnapshot(share.snapshot.version, share.snapshot.state, share.snapshot.rids);
      out.push({ k: 'persist', rec: { t: 'snapshot', version: share.snapshot.version, state: share.snapshot.state, ...(share.snapshot.rids === undefined ? {} : { rids: share.snapshot.rids }) } });
      out.push({ k: 'committed', version: share.snapshot.version, inc: undefined });
    }
    for (const [version, inc, rids] of share.incs) {
      if (version !== this.lastCommittedV + 1) continue;
      this.applyCommit(version, inc, rids);
      out.push({ k: 'persist', rec: { t: 'commit', version, inc, ...(rids === undefined ? {} : { rids }) } });
      out.push({ k: 'committed', version, inc });
    }
  }

  /** Folds the oldest incrementals into the base snapshot once the history exceeds its maximum. */
  private trim(): void {
    const kept = this.lastCommittedV - this.baseVersion;
    if (kept <= this.cfg.historyVersionsMax + this.cfg.historyTrimSlackVersions) return;
    const target = this.lastCommittedV - this.cfg.historyVersionsMax;
    let s = this.baseState;
    for (let v = this.baseVersion + 1; v <= target; v++) {
      s = this.service.apply(s, this.incs.get(v) as I);
      this.incs.delete(v);
      // Its request ids stay remembered (up to requestIdsMax), only no longer by version.
      this.ridsByVersion.delete(v);
    }
    this.baseState = s;
    this.baseVersion = target;
  }

  // ----- helpers -----

  private broadcast(out: Effect<S, I>[], msg: PeerMsg<S, I>): void {
    for (let r = 0; r < this.monitors; r++) if (r !== this.rank) out.push({ k: 'send', to: r, msg });
  }

  /** Throws if the state breaks an invariant (the simulator calls it after every message). */
  invariants(): void {
    if (this.lastCommittedV < this.baseVersion) throw new Error(`last committed ${this.lastCommittedV} below the base ${this.baseVersion}`);
    if (this.incs.size !== this.lastCommittedV - this.baseVersion) throw new Error(`${this.incs.size} incrementals kept for versions ${this.baseVersion + 1}..${this.lastCommittedV}`);
    if (this.uncommitted !== undefined && this.uncommitted.version !== this.lastCommittedV + 1) throw new Error(`uncommitted value for version ${this.uncommitted.version} with ${this.lastCommittedV} committed`);
    if (this.proposal !== undefined && this.proposal.version !== this.lastCommittedV + 1) throw new Error(`proposal for version ${this.proposal.version} with ${this.lastCommittedV} committed`);
    if (this.roleV === 'leader' && this.epoch % 2 !== 0) throw new Error(`leader in odd election epoch ${this.epoch}`);
    if (this.pending.length > this.cfg.pendingCommandsMax) throw new Error('pending commands over their limit');
  }
}

function submitReply(version: number, reply: unknown): SubmitReply {
  return reply === undefined ? { version } : { version, reply };
}

function assertNever(x: never): never {
  throw new Error(`unexpected ${JSON.stringify(x)}`);
}
