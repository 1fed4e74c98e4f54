import type { ActorContext, ActorFactory, ActorTimers, AskOptions, Behavior, ReplyHandle, Signal, SpawnOptions } from './behavior.js';
import type { Cancel, Clock, Env } from './env.js';
import type { Envelope, SystemMessage, TerminationReason } from './envelope.js';
import type { RuntimeErrorCode } from './errors.js';
import type { Runnable } from './dispatcher.js';
import type { Log } from './log.js';
import { Mailbox, type MailboxStats } from '../mailbox/mailbox.js';
import type { Random } from './random.js';
import { makeRef, refKey, type ActorRef } from './ref.js';
import { decide, type Supervision } from './supervision.js';
import type { ActorSystem } from './system.js';

/** A timer's message as queued: discarded at dequeue when the timer was cancelled or replaced. */
class TimerFire {
  constructor(
    readonly key: string,
    readonly gen: number,
    readonly message: unknown,
  ) {}
}

interface Watch {
  readonly ref: ActorRef<unknown>;
  readonly hasMessage: boolean;
  readonly message: unknown;
}

export type CellState = 'running' | 'suspended' | 'stopped';

/** What `ActorSystem.inspect` reports about one actor. */
export interface ActorInspection {
  readonly ref: ActorRef<unknown>;
  readonly state: CellState;
  readonly busy: boolean;
  readonly reentrant: boolean;
  readonly mailbox: MailboxStats;
  readonly children: ActorRef<unknown>[];
  readonly restarts: number;
  readonly timers: string[];
  readonly watching: ActorRef<unknown>[];
  readonly watchers: ActorRef<unknown>[];
}

/**
 * One actor: its mailbox, its behavior, its turn state and its supervision. Only the runtime
 * touches a Cell; actors see their `ActorContext`.
 *
 * Turn semantics (DESIGN.md §3): a serial actor (default) handles one message at a time to
 * completion: while a handler's promise is pending the actor is `busy` and takes no further
 * messages, system messages included, except `stop`. A reentrant actor takes the next message
 * as soon as a handler returns (or awaits).
 */
export class Cell implements Runnable {
  readonly ref: ActorRef<unknown>;
  readonly mailbox: Mailbox<Envelope, ActorRef<unknown>>;
  readonly throughput: number;
  readonly reentrant: boolean;
  readonly supervision: Supervision;
  readonly children = new Map<string, Cell>();
  /** Who watches this actor, by ref key. */
  readonly watchers = new Map<string, ActorRef<unknown>>();
  /** Whom this actor watches, by ref key. */
  readonly watching = new Map<string, Watch>();
  readonly ctx: Context<unknown>;
  scheduled = false;
  state: CellState = 'running';
  private behavior: Behavior<unknown> | undefined;
  private busy = false;
  private inTurn = false;
  private stopRequested = false;
  /** Bumped at each restart; completions of an earlier incarnation's handlers are ignored. */
  private generation = 0;
  private readonly restartTimes: number[] = [];
  private readonly timers = new Map<string, TimerEntry>();
  private timerGen = 0;
  private restartCancel: Cancel | undefined;
  /** Sender and correlation id of the message being handled (for ctx.sender and deferReply). */
  curFrom: ActorRef<unknown> | undefined = undefined;
  curCorr = 0;
  deferred = false;

  constructor(
    readonly system: ActorSystem,
    private readonly factory: ActorFactory<unknown>,
    readonly id: string,
    readonly parent: Cell | undefined,
    options: SpawnOptions,
  ) {
    const d = system.defaults;
    this.ref = makeRef(system.node, id);
    this.mailbox = new Mailbox(options.mailboxCapacity ?? d.mailboxCapacity, options.overflow ?? d.overflow);
    this.throughput = options.throughput ?? d.throughput;
    this.reentrant = options.reentrant ?? false;
    this.supervision = options.supervision ?? d.supervision;
    this.ctx = new Context(this);
  }

  /** Creates the behavior and runs preStart (at spawn and after each restart). */
  start(): void {
    this.state = 'running';
    const gen = this.generation;
    let pre: void | Promise<void>;
    try {
      this.behavior = this.factory(this.ctx);
      pre = this.behavior.preStart?.(this.ctx);
    } catch (err) {
      this.fail(err, undefined, 0);
      return;
    }
    if (isThenable(pre)) {
      this.busy = true;
      pre.then(
        () => {
          if (gen !== this.generation || this.state === 'stopped') return;
          this.busy = false;
          this.wake();
        },
        (err: unknown) => {
          if (gen !== this.generation || this.state === 'stopped') return;
          this.busy = false;
          this.fail(err, undefined, 0);
        },
      );
    }
    this.wake();
  }

  /** Schedules this actor if it has a message it may handle now. */
  wake(): void {
    if (!this.scheduled && this.runnable()) {
      this.scheduled = true;
      this.system.dispatcher.schedule(this);
    }
  }

  private runnable(): boolean {
    return this.state === 'running' && !this.busy && !this.mailbox.isEmpty;
  }

  run(budget: number): boolean {
    const mb = this.mailbox;
    for (let n = 0; n < budget; n++) {
      if (this.state !== 'running' || this.busy) break;
      if (mb.hasSystem) {
        this.handleSystem(mb.dequeueSystem() as Envelope);
        continue;
      }
      if (!mb.shiftUser()) break;
      const from = mb.outFrom;
      const corr = mb.outCorr;
      let msg = mb.outMsg;
      mb.outMsg = undefined;
      if (msg instanceof TimerFire) {
        const t = this.timers.get(msg.key);
        if (t === undefined || t.gen !== msg.gen) continue; // cancelled or replaced
        if (!t.repeating) this.timers.delete(msg.key);
        msg = msg.message;
      }
      this.turn(msg, from, corr, undefined);
    }
    const more = this.runnable();
    if (!more) this.scheduled = false;
    return more;
  }

  /**
   * Runs one handler call — `receive(msg)`, or `onSignal(signal)` when `signal` is given — with
   * the turn bookkeeping (ask reply, busy flag, invariants, deferred stop). No allocation per
   * message: this is the hot path of every tell.
   */
  private turn(msg: unknown, from: ActorRef<unknown> | undefined, corr: number, signal: Signal | undefined): void {
    const sys = this.system;
    if (signal === undefined && sys.onDeliver !== undefined) sys.onDeliver(this.ref, corr === 0 ? 'tell' : 'ask', from, msg);
    this.curFrom = from;
    this.curCorr = corr;
    this.deferred = false;
    this.inTurn = true;
    let result: unknown;
    try {
      const behavior = this.behavior as Behavior<unknown>;
      result = signal === undefined ? behavior.receive(msg, this.ctx) : behavior.onSignal?.(signal, this.ctx);
    } catch (err) {
      this.inTurn = false;
      this.curFrom = undefined;
      this.curCorr = 0;
      this.fail(err, from, corr);
      return;
    }
    this.inTurn = false;
    this.curFrom = undefined;
    this.curCorr = 0;
    const replyNow = corr !== 0 && !this.deferred;
    if (isThenable(result)) {
      const gen = this.generation;
      if (!this.reentrant) this.busy = true;
      result.then(
        (value) => {
          if (replyNow) sys.replyOk(from, corr, this.ref, value);
          if (gen !== this.generation || this.state === 'stopped') return;
          this.busy = false;
          this.afterMessage();
          this.wake();
        },
        (err: unknown) => {
          if (gen !== this.generation || this.state === 'stopped') {
            if (corr !== 0) sys.replyFail(from, corr, this.ref, 'actor_failed', errorText(err));
            return;
          }
          this.busy = false;
          this.fail(err, from, corr);
          this.wake();
        },
      );
    } else {
      if (replyNow) sys.replyOk(from, corr, this.ref, result);
      this.afterMessage();
    }
    if (this.stopRequested) this.stop('stopped');
  }

  private afterMessage(): void {
    if (this.system.checkInvariants && this.behavior?.invariants !== undefined && this.state !== 'stopped') {
      try {
        this.behavior.invariants();
      } catch (err) {
        this.system.invariantViolated(this, err);
      }
    }
  }

  private handleSystem(env: Envelope): void {
    const m = env.msg as SystemMessage | Signal;
    switch (m.type) {
      case 'troupe.terminated': {
        const key = refKey(m.ref);
        const w = this.watching.get(key);
        if (w === undefined) return; // unwatched meanwhile
        this.watching.delete(key);
        if (w.hasMessage) {
          this.turn(w.message, m.ref, 0, undefined);
        } else {
          this.signal({ type: 'troupe.terminated', ref: m.ref, reason: m.reason });
        }
        return;
      }
      case 'troupe.undeliverable':
        this.signal(m);
        return;
      case 'troupe.watch':
        this.watchers.set(refKey(m.watcher), m.watcher);
        return;
      case 'troupe.unwatch':
        this.watchers.delete(refKey(m.watcher));
        return;
      case 'troupe.stop':
        this.stop('stopped');
        return;
      default:
        this.system.log.warn('unknown system message dropped', { actor: this.id, type: (m as { type?: unknown }).type });
    }
  }

  private signal(s: Signal): void {
    const behavior = this.behavior as Behavior<unknown>;
    if (behavior.onSignal === undefined) {
      if (s.type === 'troupe.undeliverable') this.system.deadLetter(s.to, this.ref, s.message, s.code);
      return;
    }
    this.turn(undefined, undefined, 0, s);
  }

  /** Stops now, or after the current turn's handler returns when called from inside it. */
  requestStop(): void {
    if (this.inTurn) this.stopRequested = true;
    else this.stop('stopped');
  }

  /** A handler (or preStart) threw: answer the ask, then apply the supervision strategy. */
  fail(err: unknown, from: ActorRef<unknown> | undefined, corr: number): void {
    const sys = this.system;
    if (corr !== 0) sys.replyFail(from, corr, this.ref, 'actor_failed', errorText(err));
    if (this.state === 'stopped') return;
    sys.events.emit('failed', { ref: this.ref, error: err });
    sys.log.error('actor failed', { actor: this.id, error: errorText(err) });
    const decision = decide(this.supervision, this.restartTimes, sys.env.clock.now());
    switch (decision.action) {
      case 'resume':
        return;
      case 'restart':
        this.restart(err, decision.delayMs, decision.attempt);
        return;
      case 'stop':
        this.stop('failed');
        return;
      case 'escalate':
        this.stop('failed');
        if (this.parent !== undefined && this.parent.state !== 'stopped') {
          this.parent.fail(new EscalatedError(this.ref, err), undefined, 0);
        } else {
          sys.events.emit('escalated', { ref: this.ref, error: err });
          sys.log.error('failure escalated to the system: actor stopped', { actor: this.id, error: errorText(err) });
        }
        return;
    }
  }

  private restart(err: unknown, delayMs: number, attempt: number): void {
    const sys = this.system;
    try {
      this.behavior?.preRestart?.(this.ctx, err);
    } catch (hookErr) {
      sys.log.error('preRestart threw', { actor: this.id, error: errorText(hookErr) });
    }
    this.state = 'suspended';
    this.busy = false;
    this.generation++;
    for (const child of [...this.children.values()]) child.stop('stopped');
    this.cancelAllTimers();
    this.restartTimes.push(sys.env.clock.now());
    if (this.restartTimes.length > 64) this.restartTimes.shift();
    sys.events.emit('restarted', { ref: this.ref, attempt, delayMs });
    this.restartCancel = sys.env.timers.after(delayMs, () => {
      this.restartCancel = undefined;
      if (this.state !== 'suspended') return;
      this.start();
    });
  }

  /** Stops this actor and its children; pending asks in its mailbox fail with `actor_stopped`. */
  stop(reason: TerminationReason): void {
    if (this.state === 'stopped') return;
    const sys = this.system;
    this.state = 'stopped';
    this.generation++;
    this.restartCancel?.();
    for (const child of [...this.children.values()]) child.stop('stopped');
    this.cancelAllTimers();
    for (const w of this.watching.values()) sys.sendSystem(w.ref, { type: 'troupe.unwatch', watcher: this.ref }, this.ref);
    this.watching.clear();
    // A watch still queued behind the stop (a remote `terminated()` followed at once by `stop()`,
    // whose stop is acted on as it arrives) is honoured: the watcher learns of the termination.
    for (const e of this.mailbox.drainSystem()) {
      const m = e.msg as SystemMessage | Signal;
      if (m.type === 'troupe.watch') this.watchers.set(refKey(m.watcher), m.watcher);
      else if (m.type === 'troupe.unwatch') this.watchers.delete(refKey(m.watcher));
    }
    for (const e of this.mailbox.drainUser()) {
      if (e.corr !== 0) sys.replyFail(e.from, e.corr, this.ref, 'actor_stopped', `${this.id} stopped before handling the request`);
      else if (!(e.msg instanceof TimerFire)) sys.deadLetter(this.ref, e.from, e.msg, 'actor_stopped');
    }
    sys.unregister(this);
    try {
      const post = this.behavior?.postStop?.(this.ctx);
      if (isThenable(post)) sys.trackStop(Promise.resolve(post).then(undefined, (err: unknown) => sys.log.error('postStop failed', { actor: this.id, error: errorText(err) })));
    } catch (err) {
      sys.log.error('postStop threw', { actor: this.id, error: errorText(err) });
    }
    for (const w of this.watchers.values()) sys.sendSystem(w, { type: 'troupe.terminated', ref: this.ref, reason }, this.ref);
    this.watchers.clear();
    sys.events.emit('stopped', { ref: this.ref, reason });
  }

  /** Crash semantics (a simulated node dying): no hooks, no notifications, nothing runs again. */
  kill(): void {
    this.state = 'stopped';
    this.generation++;
    this.restartCancel?.();
    for (const t of this.timers.values()) t.cancel();
    this.timers.clear();
  }

  // ----- timers -----

  setTimer(key: string, delayMs: number, message: unknown, intervalMs: number | undefined): void {
    this.cancelTimer(key);
    const gen = ++this.timerGen;
    const timers = this.system.env.timers;
    const fire = (): void => {
      const t = this.timers.get(key);
      if (t === undefined || t.gen !== gen || this.state === 'stopped') return;
      this.system.enqueueTimer(this, new TimerFire(key, gen, message));
      if (intervalMs !== undefined) t.cancel = timers.after(intervalMs, fire);
    };
    this.timers.set(key, { gen, cancel: timers.after(delayMs, fire), repeating: intervalMs !== undefined });
  }

  cancelTimer(key: string): void {
    const t = this.timers.get(key);
    if (t === undefined) return;
    t.cancel();
    this.timers.delete(key);
  }

  timerActive(key: string): boolean {
    return this.timers.has(key);
  }

  cancelAllTimers(): void {
    for (const t of this.timers.values()) t.cancel();
    this.timers.clear();
  }

  inspect(): ActorInspection {
    return {
      ref: this.ref,
      state: this.state,
      busy: this.busy,
      reentrant: this.reentrant,
      mailbox: this.mailbox.stats(),
      children: [...this.children.values()].map((c) => c.ref),
      restarts: this.restartTimes.length,
      timers: [...this.timers.keys()],
      watching: [...this.watching.values()].map((w) => w.ref),
      watchers: [...this.watchers.values()],
    };
  }
}

interface TimerEntry {
  gen: number;
  cancel: Cancel;
  repeating: boolean;
}

/** The failure a parent sees when a child escalates. */
export class EscalatedError extends Error {
  override readonly name = 'EscalatedError';
  constructor(
    readonly child: ActorRef<unknown>,
    override readonly cause: unknown,
  ) {
    super(`child ${child.id} escalated: ${errorText(cause)}`);
  }
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function isThenable(x: unknown): x is PromiseLike<unknown> {
  return x !== null && typeof x === 'object' && typeof (x as { then?: unknown }).then === 'function';
}

/** The actor-facing view of a cell (methods on a prototype: one small object per actor). */
class Context<M> implements ActorContext<M> {
  private rnd: Random | undefined;
  private logger: Log | undefined;
  private timerApi: ActorTimers<M> | undefined;

  constructor(private readonly cell: Cell) {}

  get self(): ActorRef<M> {
    return this.cell.ref as ActorRef<M>;
  }
  get parent(): ActorRef<unknown> | undefined {
    return this.cell.parent?.ref;
  }
  get node(): string {
    return this.cell.system.node;
  }
  get sender(): ActorRef<unknown> | undefined {
    return this.cell.curFrom;
  }
  get clock(): Clock {
    return this.cell.system.env.clock;
  }
  get env(): Env {
    return this.cell.system.env;
  }
  get random(): Random {
    return (this.rnd ??= this.cell.system.env.random.fork(`actor:${this.cell.id}`));
  }
  get log(): Log {
    return (this.logger ??= this.cell.system.actorLog(this.cell.id));
  }
  get timers(): ActorTimers<M> {
    const cell = this.cell;
    return (this.timerApi ??= {
      once: (key, delayMs, message) => cell.setTimer(key, delayMs, message, undefined),
      repeat: (key, intervalMs, message, initialDelayMs) => cell.setTimer(key, initialDelayMs ?? intervalMs, message, intervalMs),
      cancel: (key) => cell.cancelTimer(key),
      cancelAll: () => cell.cancelAllTimers(),
      isActive: (key) => cell.timerActive(key),
    });
  }

  tell<T>(to: ActorRef<T>, message: T): boolean {
    return this.cell.system.send('tell', to, message, this.cell.ref);
  }

  ask<R = unknown, T = unknown>(to: ActorRef<T>, message: T, options?: AskOptions): Promise<R> {
    return this.cell.system.askFrom<R>(to, message, options, this.cell.ref);
  }

  deferReply(): ReplyHandle | undefined {
    const cell = this.cell;
    if (cell.curCorr === 0 || cell.curFrom === undefined) return undefined;
    cell.deferred = true;
    return { to: cell.curFrom, corr: cell.curCorr };
  }

  reply(handle: ReplyHandle, value: unknown): void {
    this.cell.system.reply(handle, value);
  }

  replyError(handle: ReplyHandle, code: RuntimeErrorCode, message: string): void {
    this.cell.system.replyError(handle, code, message);
  }

  spawn<C>(factory: ActorFactory<C>, options?: SpawnOptions): ActorRef<C> {
    return this.cell.system.spawnChild(this.cell, factory, options ?? {});
  }

  stop(ref?: ActorRef<unknown>): void {
    if (ref === undefined || (ref.node === this.cell.ref.node && ref.id === this.cell.id)) this.cell.requestStop();
    else this.cell.system.stop(ref);
  }

  watch<T>(ref: ActorRef<T>, message?: M): void {
    this.cell.system.watch(this.cell, ref, message !== undefined, message);
  }

  unwatch<T>(ref: ActorRef<T>): void {
    this.cell.system.unwatch(this.cell, ref);
  }
}
