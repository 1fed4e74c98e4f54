import { EventEmitter } from 'eventemitter3';
import { nanoid } from 'nanoid';
import { AskTable } from './ask-table.js';
import type { ActorFactory, AskOptions, ReplyHandle, SpawnOptions } from './behavior.js';
import { Cell, errorText, type ActorInspection } from './cell.js';
import type { Dispatcher } from './dispatcher.js';
import type { Env } from './env.js';
import type { Envelope, FailPayload, SystemMessage, TerminationReason } from './envelope.js';
import { TroupeError, type RuntimeErrorCode } from './errors.js';
import { makeLog, stderrLogger, type Log, type Logger } from './log.js';
import type { OverflowPolicy } from '../mailbox/mailbox.js';
import { realDispatcher } from './node/dispatcher.js';
import { realEnv } from './node/env.js';
import { makeRef, refKey, type ActorRef } from './ref.js';
import { defaultSupervision, type Supervision } from './supervision.js';
import type { Transport, TransportSink } from './transport/transport.js';

/** Sees each user message an actor is about to handle: who gets it, tell or ask, from whom, what. Called on the hot path; must not allocate much. */
export type DeliveryHook = (to: ActorRef<unknown>, kind: 'tell' | 'ask', from: ActorRef<unknown> | undefined, msg: unknown) => void;

export interface SystemOptions {
  /** This node's id, unique in the cluster. Default: a random one. */
  readonly node?: string;
  /** Distinguishes restarts of a node in generated actor ids. Default: random. */
  readonly incarnation?: string;
  /** Clock, timers and the root random stream. Default: the real ones. */
  readonly env?: Env;
  readonly dispatcher?: Dispatcher;
  /** How envelopes reach other nodes. Without one, sends to other nodes fail with `node_unreachable`. */
  readonly transport?: Transport;
  /** Receives every log entry. Default: warnings and errors to stderr as JSON lines. */
  readonly logger?: Logger;
  /** Default user-lane bound per actor (10,000). */
  readonly mailboxCapacity?: number;
  readonly overflow?: OverflowPolicy;
  /** Default messages per turn (32). */
  readonly throughput?: number;
  readonly supervision?: Supervision;
  /** Default ask timeout (5,000 ms). */
  readonly askTimeoutMs?: number;
  /** Granularity of ask timeouts (10 ms). */
  readonly askTimeoutResolutionMs?: number;
  /** Bound on outstanding asks of this node (1,000,000). */
  readonly maxPendingAsks?: number;
  /** Call each actor's `invariants()` after every message (the simulator turns this on). */
  readonly checkInvariants?: boolean;
  /** Called with every user message an actor is about to handle (the simulator's trace). */
  readonly onDeliver?: DeliveryHook;
  /** What to do when `invariants()` throws. Default: treat it as a failure of the actor. */
  readonly onInvariantViolation?: (ref: ActorRef<unknown>, error: unknown) => void;
}

export interface SystemDefaults {
  readonly mailboxCapacity: number;
  readonly overflow: OverflowPolicy;
  readonly throughput: number;
  readonly supervision: Supervision;
  readonly askTimeoutMs: number;
}

/** Runtime events (eventemitter3). */
export interface SystemEvents {
  spawned: [{ ref: ActorRef<unknown> }];
  stopped: [{ ref: ActorRef<unknown>; reason: TerminationReason }];
  failed: [{ ref: ActorRef<unknown>; error: unknown }];
  restarted: [{ ref: ActorRef<unknown>; attempt: number; delayMs: number }];
  escalated: [{ ref: ActorRef<unknown>; error: unknown }];
  deadLetter: [DeadLetter];
  invariantViolated: [{ ref: ActorRef<unknown>; error: unknown }];
  linkDown: [{ node: string }];
  linkUp: [{ node: string }];
}

/** A message that reached no actor, and why. */
export interface DeadLetter {
  readonly to: ActorRef<unknown>;
  readonly from: ActorRef<unknown> | undefined;
  readonly message: unknown;
  readonly reason: RuntimeErrorCode | 'dropped';
}

const SYSTEM_ID = '$system';

/**
 * An actor system: the actors of one node (a process, a worker thread or a simulated node), their
 * dispatcher, and the node's end of the transport. Refs are location-independent: `tell` and `ask`
 * take any ref and route by its node.
 *
 * Ordering: envelopes from one sender to one receiver are delivered in send order — locally by the
 * FIFO user lane, remotely by the transport's per-pair FIFO (thesis §3.3).
 */
export class ActorSystem {
  readonly node: string;
  readonly env: Env;
  readonly dispatcher: Dispatcher;
  readonly events = new EventEmitter<SystemEvents>();
  readonly log: Log;
  readonly defaults: SystemDefaults;
  readonly checkInvariants: boolean;
  readonly onDeliver: DeliveryHook | undefined;
  /** The pseudo-actor that sends asks and watches made from outside any actor. */
  readonly systemRef: ActorRef<unknown>;
  private readonly cells = new Map<string, Cell>();
  private readonly asks: AskTable;
  private readonly transport: Transport | undefined;
  private readonly logger: Logger;
  private readonly incarnation: string;
  private readonly onInvariantViolation: ((ref: ActorRef<unknown>, error: unknown) => void) | undefined;
  private readonly systemWatches = new Map<string, Array<(reason: TerminationReason) => void>>();
  private seq = 0;
  private deadLetters = 0;
  /** postStop hooks still running (closing files): `shutdown` waits for them. */
  private readonly stopping = new Set<Promise<unknown>>();
  private alive = true;

  constructor(options: SystemOptions = {}) {
    this.node = options.node ?? `node-${nanoid(8)}`;
    this.incarnation = options.incarnation ?? nanoid(6);
    this.env = options.env ?? realEnv();
    this.dispatcher = options.dispatcher ?? realDispatcher();
    this.logger = options.logger ?? stderrLogger();
    this.log = makeLog(this.logger, this.env.clock, this.node);
    this.defaults = {
      mailboxCapacity: options.mailboxCapacity ?? 10_000,
      overflow: options.overflow ?? 'reject',
      throughput: options.throughput ?? 32,
      supervision: options.supervision ?? defaultSupervision,
      askTimeoutMs: options.askTimeoutMs ?? 5_000,
    };
    this.checkInvariants = options.checkInvariants ?? false;
    this.onDeliver = options.onDeliver;
    this.onInvariantViolation = options.onInvariantViolation;
    this.systemRef = makeRef(this.node, SYSTEM_ID);
    this.asks = new AskTable(this.env.clock, this.env.timers, options.askTimeoutResolutionMs ?? 10, options.maxPendingAsks ?? 1_000_000);
    this.transport = options.transport;
    this.transport?.bind(this.node, this.sink);
  }

  // ----- public API -----

  /** Starts a top-level actor. Throws if `name` is taken (API misuse). */
  spawn<M>(factory: ActorFactory<M>, options: SpawnOptions = {}): ActorRef<M> {
    return this.spawnCell(factory, options, undefined);
  }

  /** One-way send from outside any actor. Returns false when refused at once (full mailbox, no such local actor). */
  tell<M>(to: ActorRef<M>, message: M): boolean {
    return this.send('tell', to, message, undefined);
  }

  /** Request/response from outside any actor; rejects with a `TroupeError`. */
  ask<R = unknown, M = unknown>(to: ActorRef<M>, message: M, options?: AskOptions): Promise<R> {
    return this.askFrom<R>(to, message, options, undefined);
  }

  /** Answers an ask whose reply was deferred with `ctx.deferReply()`. */
  reply(handle: ReplyHandle, value: unknown): void {
    this.replyOk(handle.to, handle.corr, this.systemRef, value);
  }

  replyError(handle: ReplyHandle, code: RuntimeErrorCode, message: string): void {
    this.replyFail(handle.to, handle.corr, this.systemRef, code, message);
  }

  /** Stops an actor (local or remote) after its current turn; its children stop first. */
  stop(ref: ActorRef<unknown>): void {
    if (ref.node === this.node) this.cells.get(ref.id)?.requestStop();
    else this.sendSystem(ref, { type: 'troupe.stop' }, undefined);
  }

  /** Resolves when `ref` terminates (at once with `not_found` if it does not exist). */
  terminated(ref: ActorRef<unknown>): Promise<TerminationReason> {
    return new Promise((resolve) => {
      const key = refKey(ref);
      const list = this.systemWatches.get(key) ?? [];
      list.push(resolve);
      this.systemWatches.set(key, list);
      if (list.length === 1) this.sendSystem(ref, { type: 'troupe.watch', watcher: this.systemRef }, this.systemRef);
    });
  }

  /** Live actor refs of this node. */
  actors(): ActorRef<unknown>[] {
    return [...this.cells.values()].map((c) => c.ref);
  }

  inspect(ref: ActorRef<unknown>): ActorInspection | undefined {
    return ref.node === this.node ? this.cells.get(ref.id)?.inspect() : undefined;
  }

  /** The user messages queued for a local actor, oldest first (for tests and debugging). */
  queuedMessages(ref: ActorRef<unknown>): unknown[] {
    if (ref.node !== this.node) return [];
    return this.cells.get(ref.id)?.mailbox.peekUser() ?? [];
  }

  /** Messages that reached no actor since start. */
  get deadLetterCount(): number {
    return this.deadLetters;
  }

  get pendingAsks(): number {
    return this.asks.size;
  }

  get isAlive(): boolean {
    return this.alive;
  }

  /**
   * Stops every actor, waits for their postStop hooks (so files are closed and logs flushed; at
   * most `shutdownTimeoutMs`, 10 s), fails outstanding asks, closes the transport.
   */
  async shutdown(shutdownTimeoutMs = 10_000): Promise<void> {
    if (!this.alive) return;
    for (const cell of [...this.cells.values()]) if (cell.parent === undefined) cell.stop('system_stopped');
    if (this.stopping.size > 0) {
      let cancel: (() => void) | undefined;
      const limit = new Promise<void>((resolve) => (cancel = this.env.timers.after(shutdownTimeoutMs, resolve)));
      await Promise.race([Promise.allSettled([...this.stopping]), limit]);
      cancel?.();
    }
    this.alive = false;
    this.asks.rejectAll(() => new TroupeError('system_stopped', `actor system ${this.node} shut down`));
    await this.transport?.close();
  }

  /** Crash semantics: every actor vanishes at once, no hooks run, nothing is sent (simulated node death). */
  kill(): void {
    this.alive = false;
    for (const cell of this.cells.values()) cell.kill();
    this.cells.clear();
    this.asks.rejectAll(() => new TroupeError('system_stopped', `node ${this.node} crashed`));
  }

  // ----- runtime internals (used by Cell and transports) -----

  spawnChild<M>(parent: Cell, factory: ActorFactory<M>, options: SpawnOptions): ActorRef<M> {
    return this.spawnCell(factory, options, parent);
  }

  private spawnCell<M>(factory: ActorFactory<M>, options: SpawnOptions, parent: Cell | undefined): ActorRef<M> {
    if (!this.alive) throw new TroupeError('system_stopped', `actor system ${this.node} is shut down`);
    let id: string;
    if (options.name !== undefined) {
      if (options.name.length === 0 || options.name.startsWith('$')) throw new RangeError(`invalid actor name '${options.name}'`);
      id = parent === undefined ? options.name : `${parent.id}/${options.name}`;
      if (this.cells.has(id)) throw new RangeError(`an actor named '${id}' already exists on ${this.node}`);
    } else {
      id = `$${this.incarnation}.${(++this.seq).toString(36)}`;
    }
    const cell = new Cell(this, factory as ActorFactory<unknown>, id, parent, options);
    this.cells.set(id, cell);
    parent?.children.set(id, cell);
    this.events.emit('spawned', { ref: cell.ref });
    cell.start();
    return cell.ref as ActorRef<M>;
  }

  /** Keeps a running postStop hook until it settles, for `shutdown`. */
  trackStop(p: Promise<unknown>): void {
    this.stopping.add(p);
    void p.finally(() => this.stopping.delete(p));
  }

  unregister(cell: Cell): void {
    this.cells.delete(cell.id);
    cell.parent?.children.delete(cell.id);
  }

  send(kind: 'tell', to: ActorRef<unknown>, msg: unknown, from: ActorRef<unknown> | undefined): boolean {
    if (to.node === this.node) return this.enqueueLocal(to, msg, from, 0);
    return this.route({ kind, to, from, msg, corr: 0 });
  }

  askFrom<R>(to: ActorRef<unknown>, msg: unknown, options: AskOptions | undefined, from: ActorRef<unknown> | undefined): Promise<R> {
    if (!this.alive) return Promise.reject(new TroupeError('system_stopped', `actor system ${this.node} is shut down`, 'not_delivered'));
    const { corr, promise } = this.asks.open<R>(to, options?.timeoutMs ?? this.defaults.askTimeoutMs);
    if (corr === 0) return promise;
    if (to.node === this.node) this.enqueueLocal(to, msg, from ?? this.systemRef, corr);
    else this.route({ kind: 'ask', to, from: from ?? this.systemRef, msg, corr });
    return promise;
  }

  sendSystem(to: ActorRef<unknown>, msg: SystemMessage, from: ActorRef<unknown> | undefined): void {
    this.route({ kind: 'sys', to, from, msg, corr: 0 });
  }

  enqueueTimer(cell: Cell, msg: unknown): void {
    if (cell.mailbox.enqueueUser(msg, cell.ref, 0) === 'ok') cell.wake();
    else this.deadLetter(cell.ref, cell.ref, msg, 'mailbox_full');
  }

  /** Answers ask `corr` of `asker` (the asking actor, or its node's `$system`). */
  replyOk(asker: ActorRef<unknown> | undefined, corr: number, replier: ActorRef<unknown>, value: unknown): void {
    if (asker === undefined) return;
    if (asker.node === this.node) this.asks.resolve(corr, value);
    else this.toTransport({ kind: 'reply', to: asker, from: replier, msg: value, corr });
  }

  replyFail(asker: ActorRef<unknown> | undefined, corr: number, replier: ActorRef<unknown>, code: RuntimeErrorCode, message: string): void {
    if (asker === undefined) return;
    if (asker.node === this.node) this.asks.reject(corr, new TroupeError(code, message));
    else this.toTransport({ kind: 'fail', to: asker, from: replier, msg: { code, message } satisfies FailPayload, corr });
  }

  deadLetter(to: ActorRef<unknown>, from: ActorRef<unknown> | undefined, message: unknown, reason: DeadLetter['reason']): void {
    this.deadLetters++;
    if (this.events.listenerCount('deadLetter') > 0) this.events.emit('deadLetter', { to, from, message, reason });
  }

  watch(watcher: Cell, target: ActorRef<unknown>, hasMessage: boolean, message: unknown): void {
    const key = refKey(target);
    if (watcher.watching.has(key)) return;
    watcher.watching.set(key, { ref: target, hasMessage, message });
    this.sendSystem(target, { type: 'troupe.watch', watcher: watcher.ref }, watcher.ref);
  }

  unwatch(watcher: Cell, target: ActorRef<unknown>): void {
    if (watcher.watching.delete(refKey(target))) this.sendSystem(target, { type: 'troupe.unwatch', watcher: watcher.ref }, watcher.ref);
  }

  actorLog(actorId: string): Log {
    return makeLog(this.logger, this.env.clock, this.node, actorId);
  }

  invariantViolated(cell: Cell, error: unknown): void {
    this.events.emit('invariantViolated', { ref: cell.ref, error });
    if (this.onInvariantViolation !== undefined) this.onInvariantViolation(cell.ref, error);
    else cell.fail(new Error(`invariant violated: ${errorText(error)}`), undefined, 0);
  }

  // ----- routing -----

  private route(env: Envelope): boolean {
    if (env.to.node === this.node) return this.deliverLocal(env);
    if (!this.alive) return false;
    this.toTransport(env);
    return true;
  }

  private toTransport(env: Envelope): void {
    if (this.transport === undefined) {
      this.bounce(env, 'node_unreachable', `no transport to node ${env.to.node}`);
      return;
    }
    this.transport.send(env);
  }

  private deliverLocal(env: Envelope): boolean {
    if (!this.alive) return false;
    switch (env.kind) {
      case 'tell':
      case 'ask':
        return this.enqueueLocal(env.to, env.msg, env.from, env.corr);
      case 'reply':
        this.asks.resolve(env.corr, env.msg);
        return true;
      case 'fail': {
        const f = env.msg as FailPayload;
        this.asks.reject(env.corr, new TroupeError(f.code, f.message));
        return true;
      }
      case 'sys':
        return this.deliverSystem(env);
    }
  }

  private deliverSystem(env: Envelope): boolean {
    const m = env.msg as SystemMessage;
    if (env.to.id === SYSTEM_ID) {
      if (m.type === 'troupe.terminated') {
        const key = refKey(m.ref);
        const list = this.systemWatches.get(key);
        this.systemWatches.delete(key);
        for (const resolve of list ?? []) resolve(m.reason);
      }
      return true;
    }
    const cell = this.cells.get(env.to.id);
    if (cell === undefined) {
      // Watching an actor that is gone answers at once, like Erlang's monitor on a dead pid.
      if (m.type === 'troupe.watch') this.sendSystem(m.watcher, { type: 'troupe.terminated', ref: env.to, reason: 'not_found' }, env.to);
      return false;
    }
    if (m.type === 'troupe.stop') {
      cell.requestStop();
      return true;
    }
    cell.mailbox.enqueueSystem(env);
    cell.wake();
    return true;
  }

  /** Puts a user message in a local actor's mailbox, or refuses it (no such actor, full mailbox). */
  private enqueueLocal(to: ActorRef<unknown>, msg: unknown, from: ActorRef<unknown> | undefined, corr: number): boolean {
    if (!this.alive) return false;
    const cell = this.cells.get(to.id);
    if (cell === undefined) {
      this.refuse(to, msg, from, corr, 'actor_not_found', `no actor ${to.id} on ${this.node}`, false);
      return false;
    }
    const r = cell.mailbox.enqueueUser(msg, from, corr);
    if (r === 'ok') {
      cell.wake();
      return true;
    }
    if (r === 'rejected') this.refuse(to, msg, from, corr, 'mailbox_full', `mailbox of ${to.id} is full (${cell.mailbox.capacity})`, true);
    else this.deadLetter(to, from, msg, 'dropped');
    return false;
  }

  /**
   * A user message could not be delivered: an ask fails with `code`; a tell from a local actor is
   * reported back to it as a `troupe.undeliverable` signal (when `notifySender`); otherwise it is
   * counted as a dead letter.
   */
  private refuse(to: ActorRef<unknown>, msg: unknown, from: ActorRef<unknown> | undefined, corr: number, code: RuntimeErrorCode, text: string, notifySender: boolean): void {
    if (corr !== 0) {
      this.replyFail(from, corr, to, code, text);
      return;
    }
    if (notifySender && from !== undefined && from.id !== SYSTEM_ID && from.node === this.node && this.cells.has(from.id)) {
      this.signalUndeliverable(from, to, msg, code);
    } else {
      this.deadLetter(to, from, msg, code);
    }
  }

  /** `refuse` for an envelope that could not leave this node or reach its target. */
  private bounce(env: Envelope, code: RuntimeErrorCode, message: string): void {
    if (env.kind === 'ask' || env.kind === 'tell') {
      this.refuse(env.to, env.msg, env.from, env.corr, code, message, true);
      return;
    }
    if (env.kind === 'sys' && (env.msg as SystemMessage).type === 'troupe.watch') {
      // The watched actor's node is unreachable: the watcher learns it is gone.
      const w = (env.msg as { watcher: ActorRef<unknown> }).watcher;
      this.deliverLocal({ kind: 'sys', to: w, from: env.to, msg: { type: 'troupe.terminated', ref: env.to, reason: 'node_down' }, corr: 0 });
    }
  }

  private signalUndeliverable(from: ActorRef<unknown>, to: ActorRef<unknown>, message: unknown, code: RuntimeErrorCode): void {
    const cell = this.cells.get(from.id);
    if (cell === undefined) return;
    cell.mailbox.enqueueSystem({ kind: 'sys', to: from, from: to, msg: { type: 'troupe.undeliverable', to, message, code }, corr: 0 });
    cell.wake();
  }

  /** The transport's view of this system. */
  private readonly sink: TransportSink = {
    deliver: (env) => {
      this.deliverLocal(env);
    },
    undeliverable: (env, code, maybeDelivered) => {
      // The envelope came back: the receiver never saw it, unless the transport says it was sent
      // and its link failed before an acknowledgement (then the outcome is unknown).
      if (env.kind === 'ask') {
        this.asks.reject(
          env.corr,
          maybeDelivered === true
            ? new TroupeError(code, `request to ${env.to.id}@${env.to.node} may have been delivered: its link failed before it was acknowledged`, 'unknown')
            : new TroupeError(code, `request to ${env.to.id}@${env.to.node} was not delivered`, 'not_delivered'),
        );
      }
      else if (env.kind === 'tell' || env.kind === 'sys') this.bounce(env, code, `not delivered to ${env.to.node}`);
      // A lost reply: the asker's node times it out (or fails it when it sees the link go down).
    },
    linkDown: (node) => {
      this.asks.rejectNode(node, () => new TroupeError('link_down', `link to node ${node} failed`));
      for (const cell of this.cells.values()) {
        for (const w of cell.watching.values()) {
          if (w.ref.node === node) cell.mailbox.enqueueSystem({ kind: 'sys', to: cell.ref, from: w.ref, msg: { type: 'troupe.terminated', ref: w.ref, reason: 'node_down' }, corr: 0 });
        }
        for (const [key, w] of cell.watchers) if (w.node === node) cell.watchers.delete(key);
        cell.wake();
      }
      for (const [key, list] of this.systemWatches) {
        if (!key.endsWith(`@${node}`)) continue;
        this.systemWatches.delete(key);
        for (const resolve of list) resolve('node_down');
      }
      this.events.emit('linkDown', { node });
    },
    linkUp: (node) => {
      this.events.emit('linkUp', { node });
    },
  };
}
