/**
 * The ensemble server: the actor shell around the Zab peer (peer.ts), its durable store (store.ts)
 * and the replicated state machine (a `ZabStateMachine`). It
 * - runs the peer's effects: sends to other servers over Troupe's transport, hands durable writes
 *   to the store in order (the peer sends acknowledgements only once they complete, Z9), applies
 *   committed transactions;
 * - takes requests from its local sessions (`coord.zab.submit`): writes are ordered by the leader
 *   (forwarded when this server follows), answered after their commit; reads are served from the
 *   local state; `sync` waits until everything the leader had proposed is applied here. Each
 *   session's answers leave in the order it asked (Z7);
 * - answers `coord.zab.status` (role, epochs, zxids, followers and their lag, outstanding requests).
 *
 * Serial turns (the default): every handler runs to completion without awaiting; disk work runs in
 * the store and reports back by message (`coord.zab.persisted`). Bounded: `pendingRequestsMax`
 * requests held, `outstandingProposalsMax` proposals in flight; every held request has a deadline.
 */
import type { ActorContext, ActorFactory, Behavior, ReplyHandle } from '../../../runtime/behavior.js';
import type { ActorRef } from '../../../runtime/ref.js';
import { MessageDecoder, MessageEncoder } from '../../../runtime/transport/codec.js';
import type { Disk } from '../../../storage/disk.js';
import { zabConfig, type ZabConfig } from './config.js';
import { check, zabError, type ZabError } from './errors.js';
import { ZabPeer, type ZabEffect } from './peer.js';
import type { LogEntry, PeerMsg, ServerId, ServerMsg, SubmitMsg, SubmitReply, ZabStatus, ZabTxn } from './protocol.js';
import type { ZabStateMachine } from './state-machine.js';
import { ZabStore } from './store.js';
import type { Zxid } from './zxid.js';

export interface ZabServerOptions {
  readonly id: ServerId;
  /** Every voting member's actor, by id (this server's included). */
  readonly peers: ReadonlyMap<ServerId, ActorRef<ServerMsg>>;
  readonly disk: Disk;
  /** Folder on `disk` for the log, snapshots and epochs. */
  readonly dir: string;
  /** Creates the (empty) state machine; called at start and at every restart. */
  readonly stateMachine: () => ZabStateMachine;
  readonly config?: Partial<ZabConfig>;
  /** Test hook: called with every transaction this server applies, in order (the fault suite's checker c). */
  readonly onApply?: (e: { readonly server: ServerId; readonly zxid: Zxid; readonly txn: ZabTxn }) => void;
  /** Test hook: called when a SNAP from the leader replaced the state (it reflects everything through `zxid`). */
  readonly onRestore?: (e: { readonly server: ServerId; readonly zxid: Zxid }) => void;
  /** Leader only: sessions with traffic at some server (`coord.zab.touch`), for the layer above's expiry. */
  readonly onTouch?: (sessions: readonly string[]) => void;
  /** Called when this server's role or serving state changes (the layer above expires sessions only while leading). */
  readonly onRole?: (e: { readonly role: ZabStatus['role']; readonly serving: boolean; readonly leader: ServerId | undefined }) => void;
  /** Test hook: called once recovery finished, with what it found. */
  readonly onRecovered?: (e: { readonly server: ServerId; readonly snapshotZxid: Zxid; readonly logEntries: number; readonly tornBytes: number }) => void;
}

interface Held {
  readonly id: number;
  readonly session: string;
  readonly cxid: number;
  readonly kind: SubmitMsg['kind'];
  readonly request: unknown;
  readonly seenZxid: Zxid;
  readonly handle: ReplyHandle | undefined;
  readonly deadline: number;
  /** Forwarded to (or ordered by) this leader epoch; a change of leader makes its outcome unknown. */
  readonly servingKey: string;
  answer: SubmitReply | undefined;
}

interface SnapshotImage {
  readonly state: Uint8Array;
  /** Session → last ordered cxid (the guard of Z7). */
  readonly sessions: ReadonlyArray<readonly [string, number]>;
}

export function zabServer(o: ZabServerOptions): ActorFactory<ServerMsg> {
  const config = zabConfig(o.config);
  return (ctx) => new ZabServer(ctx, o, config);
}

class ZabServer implements Behavior<ServerMsg> {
  private peer!: ZabPeer;
  private store!: ZabStore;
  private sm: ZabStateMachine;
  private readonly encoder = new MessageEncoder({ attachmentMinBytes: Infinity });
  private readonly decoder: MessageDecoder;
  /** Applied: session → last cxid ordered (replicated with the state). */
  private readonly sessions = new Map<string, number>();
  private appliedZxid: Zxid = 0;
  private snapshotZxid: Zxid = 0;
  private appliedSinceSnapshot = 0;
  private nextId = 1;
  /** Held requests by id, and per session in arrival order. */
  private readonly held = new Map<number, Held>();
  private readonly bySession = new Map<string, Held[]>();
  /** Writes this server originated that are waiting for their commit: `session#cxid` → id. */
  private readonly awaitingCommit = new Map<string, number>();
  private servingKey = '';
  private recovering = true;

  constructor(
    private readonly ctx: ActorContext<ServerMsg>,
    private readonly o: ZabServerOptions,
    private readonly config: ZabConfig,
  ) {
    this.sm = o.stateMachine();
    this.decoder = new MessageDecoder({ maxItemBytes: config.snapshotMaxBytes });
  }

  async preStart(): Promise<void> {
    const self = this.ctx.self;
    const { store, recovered } = await ZabStore.open(
      this.o.disk,
      this.o.dir,
      this.config,
      (seq) => void this.ctx.tell(self, { type: 'coord.zab.persisted', seq }),
      (err) => void this.ctx.tell(self, { type: 'coord.zab.storeFailed', reason: err instanceof Error ? err.message : String(err) }),
    );
    this.store = store;
    if (recovered.snapshot !== undefined) this.restore(recovered.snapshot.zxid, recovered.snapshot.data);
    this.snapshotZxid = recovered.snapshot?.zxid ?? 0;
    this.peer = new ZabPeer({
      id: this.o.id,
      members: [...this.o.peers.keys()],
      acceptedEpoch: recovered.acceptedEpoch,
      currentEpoch: recovered.currentEpoch,
      snapshotZxid: this.snapshotZxid,
      entries: recovered.entries,
      config: this.config,
    });
    this.o.onRecovered?.({ server: this.o.id, snapshotZxid: this.snapshotZxid, logEntries: recovered.entries.length, tornBytes: recovered.tornBytes });
    this.recovering = false;
    this.ctx.timers.repeat('tick', this.config.tickMs, { type: 'coord.zab.tick' });
    this.run(this.peer.start());
  }

  /** A planned stop closes the log's files; a crash runs no code and leaves them to the disk's rules. */
  async postStop(): Promise<void> {
    if ((this.store as ZabStore | undefined) === undefined) return;
    await this.store.close().catch((err: unknown) => this.ctx.log.warn('zab: closing the log failed', { reason: err instanceof Error ? err.message : String(err) }));
  }

  receive(m: ServerMsg): unknown {
    switch (m.type) {
      case 'coord.zab.submit':
        return this.onSubmit(m);
      case 'coord.zab.status':
        return this.status();
      case 'coord.zab.tick':
        this.run(this.peer.tick());
        this.expire();
        return undefined;
      case 'coord.zab.persisted':
        this.run(this.peer.persisted(m.seq));
        return undefined;
      case 'coord.zab.storeFailed':
        // The disk failed under the log: what is durable is unknown. Crash; supervision restarts and recovers (Z10).
        throw new Error(`coord server ${this.o.id}: durable store failed: ${m.reason}`);
      case 'coord.zab.touch':
        if (this.peer.role === 'leading' && this.peer.serving) this.o.onTouch?.(m.sessions);
        else if (m.forwarded !== true && this.peer.serving && this.peer.leaderId !== undefined && m.sessions.length <= this.config.sessionsTrackedMax) {
          const ref = this.o.peers.get(this.peer.leaderId);
          if (ref !== undefined) this.ctx.tell(ref, { type: 'coord.zab.touch', sessions: m.sessions, forwarded: true });
        }
        return undefined;
      case 'coord.zab.snapshotWritten':
        this.snapshotZxid = Math.max(this.snapshotZxid, m.zxid);
        return undefined;
      case 'coord.zab.request':
        this.onForwarded(m.from, m.id, m.session, m.cxid, m.request);
        return undefined;
      case 'coord.zab.requestFailed':
        this.finish(m.id, { ok: false, error: m.error });
        return undefined;
      case 'coord.zab.syncRequest': {
        const r = this.peer.syncRequest(m.from, m.id);
        if (!r.accepted) this.tellPeer(m.from, { type: 'coord.zab.requestFailed', from: this.o.id, id: m.id, error: { code: 'not_ready', message: `server ${this.o.id} is not an established leader` } });
        this.run(r.effects);
        return undefined;
      }
      case 'coord.zab.vote':
      case 'coord.zab.followerInfo':
      case 'coord.zab.leaderInfo':
      case 'coord.zab.ackEpoch':
      case 'coord.zab.sync':
      case 'coord.zab.ackNewLeader':
      case 'coord.zab.proposal':
      case 'coord.zab.ack':
      case 'coord.zab.commit':
      case 'coord.zab.ping':
      case 'coord.zab.synced':
        this.run(this.peer.receive(m));
        return undefined;
      default: {
        const never: never = m;
        this.ctx.log.warn('coord.zab: dropped a malformed message', { message: JSON.stringify(never)?.slice(0, 200) });
        return undefined;
      }
    }
  }

  invariants(): void {
    if (this.recovering) return;
    this.peer.invariants();
    check(this.appliedZxid === this.peer.deliveredZxid, 'Z8', `applied ${this.appliedZxid} but the peer delivered ${this.peer.deliveredZxid}`);
    check(this.held.size <= this.config.pendingRequestsMax, 'Z13', 'held requests over their bound');
  }

  // ---- Effects ----------------------------------------------------------------------------------

  private run(effects: readonly ZabEffect[]): void {
    for (const e of effects) {
      switch (e.kind) {
        case 'send':
          this.tellPeer(e.to, e.msg);
          break;
        case 'durable':
          this.store.run(e.seq, e.op);
          break;
        case 'restore':
          this.restore(e.zxid, e.data);
          this.snapshotZxid = e.zxid;
          this.o.onRestore?.({ server: this.o.id, zxid: e.zxid });
          break;
        case 'deliver':
          this.deliver(e.entries);
          break;
        case 'sendSnapshot': {
          check(e.zxid === this.appliedZxid, 'Z6', `snapshot for SNAP at ${e.zxid} but the state is at ${this.appliedZxid}`);
          this.tellPeer(e.to, { ...e.msg, snapshot: { zxid: e.zxid, data: this.image() } });
          break;
        }
        case 'syncDone':
          this.finish(e.id, { ok: true, value: { result: undefined, zxid: this.appliedZxid } });
          break;
        case 'roleChanged':
          this.onRoleChanged();
          break;
        default: {
          const never: never = e;
          throw new Error(`unknown effect ${JSON.stringify(never)}`);
        }
      }
    }
  }

  private tellPeer(to: ServerId, msg: PeerMsg): void {
    const ref = this.o.peers.get(to);
    if (ref !== undefined) this.ctx.tell(ref, msg);
  }

  private deliver(entries: readonly LogEntry[]): void {
    for (const { zxid, txn } of entries) {
      check(zxid > this.appliedZxid, 'Z8', `apply of ${zxid} not after ${this.appliedZxid}`);
      const result: SubmitReply = txn.error !== undefined ? { ok: false, error: txn.error as ZabError } : { ok: true, value: { result: this.sm.apply(txn.body, zxid), zxid } };
      this.appliedZxid = zxid;
      this.noteSession(txn.session, txn.cxid);
      this.appliedSinceSnapshot++;
      this.o.onApply?.({ server: this.o.id, zxid, txn });
      if (txn.origin === this.o.id) {
        const key = `${txn.session}#${txn.cxid}`;
        const id = this.awaitingCommit.get(key);
        if (id !== undefined) {
          this.awaitingCommit.delete(key);
          this.finish(id, result.ok ? result : { ok: false, error: result.error });
        }
      }
    }
    this.peer.trim();
    // Reads held behind writes of their session may go now.
    for (const session of this.bySession.keys()) this.drain(session);
    if (this.appliedSinceSnapshot >= this.config.snapshotEveryTxns) {
      const zxid = this.appliedZxid;
      const self = this.ctx.self;
      if (this.store.snapshot(zxid, this.image(), () => void this.ctx.tell(self, { type: 'coord.zab.snapshotWritten', zxid }))) this.appliedSinceSnapshot = 0;
    }
  }

  private noteSession(session: string, cxid: number): void {
    const prev = this.sessions.get(session);
    if (prev !== undefined && prev >= cxid) return;
    this.sessions.delete(session);
    this.sessions.set(session, cxid);
    // Bounded: the session ordered longest ago is forgotten first (README: left out).
    while (this.sessions.size > this.config.sessionsTrackedMax) this.sessions.delete(this.sessions.keys().next().value as string);
  }

  private image(): Uint8Array {
    const img: SnapshotImage = { state: this.sm.snapshot(), sessions: [...this.sessions] };
    return this.encoder.encode(img).header.slice();
  }

  private restore(zxid: Zxid, data: Uint8Array): void {
    const img = this.decoder.decode(data) as SnapshotImage;
    this.sm = this.o.stateMachine();
    this.sm.restore(img.state);
    this.sessions.clear();
    for (const [s, c] of img.sessions) this.sessions.set(s, c);
    this.appliedZxid = zxid;
    this.appliedSinceSnapshot = 0;
  }

  private onRoleChanged(): void {
    this.o.onRole?.({ role: this.peer.role, serving: this.peer.serving, leader: this.peer.leaderId });
    const key = this.peer.serving ? `${this.peer.leaderId}@${this.peer.servingEpoch}` : '';
    if (key === this.servingKey) return;
    this.servingKey = key;
    // Requests forwarded under the previous leader: their outcome is unknown (ZooKeeper: CONNECTIONLOSS).
    for (const h of this.held.values()) {
      if (h.answer === undefined && h.kind !== 'read' && h.servingKey !== key) this.finish(h.id, zabError('connection_loss', `leader changed while request ${h.session}#${h.cxid} was in flight; it may or may not have taken effect`));
    }
  }

  // ---- Client requests --------------------------------------------------------------------------

  private onSubmit(m: SubmitMsg): SubmitReply | undefined {
    const bad = validateSubmit(m);
    if (bad !== undefined) return zabError('bad_request', bad);
    if (this.held.size >= this.config.pendingRequestsMax) return zabError('queue_full', `server ${this.o.id} holds ${this.held.size} requests (pendingRequestsMax)`);
    if (m.kind !== 'read' && !this.peer.serving) return zabError('not_ready', `server ${this.o.id} is ${this.peer.role}, not serving`);
    const handle = this.ctx.deferReply();
    const h: Held = {
      id: this.nextId++,
      session: m.session,
      cxid: m.cxid,
      kind: m.kind,
      request: m.request,
      seenZxid: m.seenZxid ?? 0,
      handle,
      deadline: this.ctx.clock.now() + this.config.requestTimeoutMs,
      servingKey: this.servingKey,
      answer: undefined,
    };
    this.held.set(h.id, h);
    let q = this.bySession.get(m.session);
    if (q === undefined) this.bySession.set(m.session, (q = []));
    q.push(h);
    if (m.kind === 'write') {
      this.awaitingCommit.set(`${m.session}#${m.cxid}`, h.id);
      const leader = this.peer.leaderId as ServerId;
      if (leader === this.o.id) this.onForwarded(this.o.id, h.id, m.session, m.cxid, m.request);
      else this.tellPeer(leader, { type: 'coord.zab.request', from: this.o.id, id: h.id, session: m.session, cxid: m.cxid, request: m.request });
    } else if (m.kind === 'sync') {
      const leader = this.peer.leaderId as ServerId;
      if (leader === this.o.id) {
        const r = this.peer.syncRequest(this.o.id, h.id);
        if (!r.accepted) this.finish(h.id, zabError('not_ready', 'not an established leader'));
        this.run(r.effects);
      } else this.tellPeer(leader, { type: 'coord.zab.syncRequest', from: this.o.id, id: h.id });
    } else {
      this.drain(m.session);
    }
    return undefined;
  }

  /** Leader: order a session's write (Z7, Z8), or refuse it to its origin. */
  private onForwarded(origin: ServerId, id: number, session: string, cxid: number, request: unknown): void {
    const refuse = (error: ZabError): void => {
      if (origin === this.o.id) this.finish(id, { ok: false, error });
      else this.tellPeer(origin, { type: 'coord.zab.requestFailed', from: this.o.id, id, error });
    };
    if (this.peer.role !== 'leading' || !this.peer.serving) return refuse({ code: 'not_ready', message: `server ${this.o.id} is not an established leader` });
    const pending = this.peer.pendingEntries();
    let last = this.sessions.get(session) ?? -1;
    for (const e of pending) if (e.txn.session === session && e.txn.cxid > last) last = e.txn.cxid;
    // Z7: a request behind a later one of its session (it came by another server after the session moved) is refused, never ordered after it.
    if (cxid <= last) return refuse({ code: 'stale_request', message: `session ${session} already ordered request ${last}; ${cxid} is stale` });
    const prepared = this.sm.prepare(request, { appliedZxid: this.appliedZxid, pending: pending.filter((e) => e.txn.body !== undefined).map((e) => ({ zxid: e.zxid, body: e.txn.body })), epoch: this.peer.servingEpoch });
    const txn: ZabTxn = prepared.ok ? { origin, session, cxid, body: prepared.body } : { origin, session, cxid, error: prepared.error };
    const r = this.peer.propose(txn);
    if (r.zxid === undefined) refuse(r.reason === 'queue_full' ? { code: 'queue_full', message: `${this.config.outstandingProposalsMax} proposals outstanding` } : { code: 'not_ready', message: 'not an established leader' });
    this.run(r.effects);
  }

  private finish(id: number, answer: SubmitReply): void {
    const h = this.held.get(id);
    if (h === undefined || h.answer !== undefined) return;
    h.answer = answer;
    if (h.kind === 'write') this.awaitingCommit.delete(`${h.session}#${h.cxid}`);
    this.drain(h.session);
  }

  /** Answers a session's held requests in the order it sent them, as far as they are done (Z7). */
  private drain(session: string): void {
    const q = this.bySession.get(session);
    if (q === undefined) return;
    while (q.length > 0) {
      const h = q[0] as Held;
      if (h.answer === undefined && h.kind === 'read') {
        if (this.appliedZxid < h.seenZxid) break;
        h.answer = { ok: true, value: { result: this.sm.read(h.request), zxid: this.appliedZxid } };
      }
      if (h.answer === undefined) break;
      q.shift();
      this.held.delete(h.id);
      if (h.handle !== undefined) this.ctx.reply(h.handle, h.answer);
    }
    if (q.length === 0) this.bySession.delete(session);
  }

  /** Every wait has a deadline: writes and syncs past it become `connection_loss`, reads `server_behind`. */
  private expire(): void {
    const now = this.ctx.clock.now();
    for (const h of [...this.held.values()]) {
      if (h.answer !== undefined || h.deadline > now) continue;
      if (h.kind === 'read') this.finish(h.id, zabError('server_behind', `server ${this.o.id} applied ${this.appliedZxid}, the session has seen ${h.seenZxid}`));
      else this.finish(h.id, zabError('connection_loss', `no commit within ${this.config.requestTimeoutMs} ms; the request may or may not take effect`));
    }
  }

  private status(): ZabStatus {
    return {
      id: this.o.id,
      role: this.peer.role,
      serving: this.peer.serving,
      leader: this.peer.leaderId,
      acceptedEpoch: this.peer.acceptedEpoch,
      currentEpoch: this.peer.currentEpoch,
      lastZxid: this.peer.lastZxid,
      committedZxid: this.peer.committedZxid,
      appliedZxid: this.appliedZxid,
      followers: this.peer.followers(),
      outstandingRequests: this.held.size,
      outstandingProposals: this.peer.outstandingProposals,
      electionRound: this.peer.electionRound,
      snapshotZxid: this.snapshotZxid,
    };
  }
}

function validateSubmit(m: SubmitMsg): string | undefined {
  if (typeof m.session !== 'string' || m.session.length === 0 || m.session.length > 256) return 'session must be a non-empty string of at most 256 characters';
  if (!Number.isSafeInteger(m.cxid) || m.cxid < 0) return 'cxid must be a non-negative integer';
  if (m.kind !== 'write' && m.kind !== 'read' && m.kind !== 'sync') return `unknown request kind ${String(m.kind)}`;
  if (m.seenZxid !== undefined && !(Number.isSafeInteger(m.seenZxid) && m.seenZxid >= 0)) return 'seenZxid must be a non-negative integer';
  return undefined;
}
