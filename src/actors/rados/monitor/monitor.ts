import type { ActorContext, ActorFactory, Behavior } from '../../../runtime/behavior.js';
import { Deque } from '../../../mailbox/deque.js';
import { isRef, refKey, type ActorRef } from '../../../runtime/ref.js';
import { defaultMonitorConfig, type MonitorConfig } from './config.js';
import { fail, ok } from './errors.js';
import { MonitorCore, type Effect, type MonRecord } from './paxos.js';
import type { ClientMsg, MonitorMsg, MonitorPush, PeerMsg } from './protocol.js';
import type { MonitorService } from './service.js';
import type { MonitorStore } from './store.js';

/**
 * A monitor as an actor (thesis §6.2.4): hosts one `MonitorService` and replicates it with the
 * other monitors through the pure core in `paxos.ts`. This shell does the I/O: it logs the core's
 * records in the store and holds back every message, reply and commit notice that follows a record
 * until the record is durable (invariant P3: persist before send); it drives the core's deadlines
 * from a timer; it serves reads under the lease, pushes committed versions to subscribers, and
 * answers status.
 *
 * Turns: serial (the default). No handler awaits: durability completes in the background and
 * releases the held effects in order, so commands that arrive while a proposal is in flight queue
 * at the leader and go out together in the next proposal.
 */
export interface MonitorOptions<S, C, I> {
  readonly service: MonitorService<S, C, I>;
  /** This monitor's rank: its index in `monitors`. Lower ranks win elections. */
  readonly rank: number;
  /** Every monitor of the cluster, by rank (this one included). */
  readonly monitors: readonly ActorRef<MonitorMsg>[];
  readonly store: MonitorStore;
  readonly config?: Partial<MonitorConfig>;
  /**
   * Observers for tests and metrics (must not throw or block): `recovered` once the durable state is
   * loaded, `committed` for each version once it is committed here and durable (with its
   * incremental, or undefined when it arrived inside a snapshot).
   */
  readonly probe?: {
    /** `error` set when the durable state could not be read (the monitor then stops): it has nothing, version 0. */
    readonly recovered?: (version: number, error?: string) => void;
    readonly committed?: (version: number, inc: I | undefined) => void;
  };
}

interface Held {
  readonly after: number;
  readonly effect: Effect;
}

interface Subscription {
  readonly ref: ActorRef<MonitorPush>;
  version: number;
  expiresAt: number;
}

/** Effects held behind unsynced records at most; past it the monitor is overloaded beyond repair and restarts. */
const HELD_EFFECTS_MAX = 1_000_000;

export function radosMonitor<S, C, I>(options: MonitorOptions<S, C, I>): ActorFactory<MonitorMsg> {
  return (ctx) => new Monitor(ctx, options).behavior();
}

class Monitor<S, C, I> {
  private readonly cfg: MonitorConfig;
  private core: MonitorCore<S, C, I> | undefined;
  /** Records issued to the store, the last one that gates later sends, and the last one durable (they become durable in order). */
  private issued = 0;
  private lastGate = 0;
  private durable = 0;
  /** Sends and replies waiting for `lastGate` as it was when they were issued. */
  private readonly held = new Deque<Held>(64);
  /** Commit notices waiting for every record issued before them. */
  private readonly heldNotices = new Deque<Held>(16);
  private readonly subscribers = new Map<string, Subscription>();
  private checkpointVersion = 0;
  private checkpointing = false;
  private failed = false;

  constructor(
    private readonly ctx: ActorContext<MonitorMsg>,
    private readonly opts: MonitorOptions<S, C, I>,
  ) {
    this.cfg = { ...defaultMonitorConfig, ...opts.config };
    if (opts.monitors.length < 1) throw new RangeError('a monitor cluster needs at least one monitor');
  }

  behavior(): Behavior<MonitorMsg> {
    return {
      preStart: () => this.start(),
      receive: (m) => this.receive(m),
      postStop: () => this.opts.store.close(),
      invariants: () => this.core?.invariants(),
    };
  }

  private async start(): Promise<void> {
    let loaded: Awaited<ReturnType<MonitorStore['load']>>;
    try {
      loaded = await this.opts.store.load();
    } catch (err) {
      // A damaged log: this monitor cannot vouch for anything it promised or committed. It stops
      // (supervision) rather than rejoin with less than it had (P4); restore it from a peer.
      this.opts.probe?.recovered?.(0, err instanceof Error ? err.message : String(err));
      throw err;
    }
    const { checkpoint, records } = loaded;
    const core = new MonitorCore<S, C, I>(this.opts.service, this.cfg, this.opts.rank, this.opts.monitors.length, checkpoint as never);
    for (const r of records) core.replay(r as MonRecord<S, I>);
    this.core = core;
    this.checkpointVersion = core.lastCommitted;
    this.opts.probe?.recovered?.(core.lastCommitted);
    this.ctx.log.info('monitor recovered', { rank: this.opts.rank, service: this.opts.service.name, lastCommitted: core.lastCommitted, firstCommitted: core.firstCommitted });
    this.ctx.timers.repeat('tick', this.cfg.tickIntervalMs, { type: 'rados.mon.tick' });
    this.run(core.start(this.ctx.clock.now()));
  }

  private receive(m: MonitorMsg): unknown {
    const core = this.core as MonitorCore<S, C, I>;
    const now = this.ctx.clock.now();
    if (typeof m !== 'object' || m === null || typeof (m as { type?: unknown }).type !== 'string') {
      this.ctx.log.warn('monitor: dropped a malformed message', { message: String(m) });
      return fail('invalid_request', 'not a monitor message');
    }
    switch (m.type) {
      case 'rados.mon.tick':
        this.run(core.tick(now));
        this.expireSubscribers(now);
        this.maybeCheckpoint();
        return undefined;
      case 'rados.mon.storeFailed':
        // The log is unusable: restart, which reloads the durable state (supervision).
        throw new Error(`monitor ${this.opts.rank}: store failed: ${m.reason}`);
      case 'rados.mon.submit': {
        const handle = this.ctx.deferReply();
        if (handle === undefined) {
          this.ctx.log.warn('monitor: submit sent with tell; it needs ask to get its reply', {});
          return undefined;
        }
        this.run(core.submit(m.cmd as C, handle, now, m.requestId));
        return undefined;
      }
      case 'rados.mon.read':
        return core.read(now, m.since);
      case 'rados.mon.subscribe':
        return this.subscribe(m, now);
      case 'rados.mon.unsubscribe':
        if (isRef(m.subscriber)) this.subscribers.delete(refKey(m.subscriber));
        return ok({});
      case 'rados.mon.status':
        return ok(core.status(now, this.subscribers.size));
      case 'rados.mon.propose':
      case 'rados.mon.vote':
      case 'rados.mon.victory':
      case 'rados.mon.collect':
      case 'rados.mon.last':
      case 'rados.mon.begin':
      case 'rados.mon.revoked':
      case 'rados.mon.accept':
      case 'rados.mon.commit':
      case 'rados.mon.lease':
      case 'rados.mon.leaseAck':
      case 'rados.mon.behind':
      case 'rados.mon.share':
      case 'rados.mon.forward':
        if (typeof m.from !== 'number' || typeof m.epoch !== 'number') {
          this.ctx.log.warn('monitor: dropped a peer message without rank or epoch', { type: m.type });
          return undefined;
        }
        this.run(core.receive(m as PeerMsg<S, I>, now));
        return undefined;
      default: {
        const unknown: never = m;
        this.ctx.log.warn('monitor: dropped an unknown message', { type: String((unknown as { type: unknown }).type) });
        return fail('invalid_request', `unknown monitor message ${String((unknown as { type: unknown }).type)}`);
      }
    }
  }

  // ----- effects: persist before anything that follows (P3) -----

  private run(effects: readonly Effect<S, I>[]): void {
    for (const e of effects) {
      if (e.k === 'persist') {
        const seq = ++this.issued;
        if (e.gate !== false) this.lastGate = seq;
        const onDurable = e.onDurable;
        this.opts.store.append(e.rec).then(
          () => {
            this.durable = seq;
            this.release();
            if (onDurable !== undefined && !this.failed && this.core !== undefined) this.run(this.core.durable(onDurable, this.ctx.clock.now()));
          },
          (err: unknown) => this.storeFailed(err),
        );
        continue;
      }
      if (e.k === 'wake') {
        this.ctx.timers.once('wake', e.afterMs, { type: 'rados.mon.tick' });
        continue;
      }
      if (e.k === 'send' && e.held === false) {
        this.perform(e);
        continue;
      }
      const notice = e.k === 'committed';
      const queue = notice ? this.heldNotices : this.held;
      const after = notice ? this.issued : this.lastGate;
      if (queue.length === 0 && this.durable >= after) {
        this.perform(e);
      } else {
        if (queue.length >= HELD_EFFECTS_MAX) throw new Error(`monitor ${this.opts.rank}: ${queue.length} effects wait for the disk`);
        queue.push({ after, effect: e });
      }
    }
  }

  private release(): void {
    if (this.failed) return;
    for (const queue of [this.held, this.heldNotices]) {
      for (let h = queue.peek(); h !== undefined && h.after <= this.durable; h = queue.peek()) {
        queue.shift();
        this.perform(h.effect as Effect<S, I>);
      }
    }
  }

  private storeFailed(err: unknown): void {
    if (this.failed) return;
    // Nothing that waited on the failed record may happen (P3).
    this.failed = true;
    this.held.drain();
    this.heldNotices.drain();
    this.ctx.tell(this.ctx.self, { type: 'rados.mon.storeFailed', reason: err instanceof Error ? err.message : String(err) });
  }

  private perform(e: Effect<S, I>): void {
    switch (e.k) {
      case 'send': {
        const to = this.opts.monitors[e.to];
        if (to !== undefined) this.ctx.tell(to, e.msg as MonitorMsg);
        return;
      }
      case 'reply':
        this.ctx.reply(e.handle, e.value);
        return;
      case 'committed':
        this.opts.probe?.committed?.(e.version, e.inc as I | undefined);
        this.push();
        return;
      case 'persist':
      case 'wake':
        throw new Error(`${e.k} effects are not held`);
      default: {
        const x: never = e;
        throw new Error(`unknown effect ${JSON.stringify(x)}`);
      }
    }
  }

  // ----- subscriptions -----

  private subscribe(m: Extract<ClientMsg, { type: 'rados.mon.subscribe' }>, now: number): unknown {
    if (!isRef(m.subscriber)) return fail('invalid_request', 'subscribe needs a subscriber actor ref');
    if (!(Number.isSafeInteger(m.since) && m.since >= 0)) return fail('invalid_request', `since must be a version (a non-negative integer), got ${String(m.since)}`);
    const key = refKey(m.subscriber);
    const existing = this.subscribers.get(key);
    if (existing === undefined && this.subscribers.size >= this.cfg.subscribersMax) return fail('busy', `monitor ${this.opts.rank} already has ${this.subscribers.size} subscribers (subscribersMax); subscribe to another monitor`);
    const sub: Subscription = existing ?? { ref: m.subscriber, version: m.since, expiresAt: 0 };
    sub.version = Math.max(existing === undefined ? m.since : sub.version, m.since);
    sub.expiresAt = now + this.cfg.subscriptionTtlMs;
    this.subscribers.set(key, sub);
    this.push();
    return ok({ version: (this.core as MonitorCore<S, C, I>).lastCommitted });
  }

  /** Sends each subscriber the committed versions it lacks (versions only grow on a link: P4). */
  private push(): void {
    const core = this.core as MonitorCore<S, C, I>;
    for (const sub of this.subscribers.values()) {
      if (sub.version >= core.lastCommitted) continue;
      const share = core.shareSince(sub.version, this.cfg.shareVersionsMax);
      const msg: MonitorPush<S, I> = { type: 'rados.mon.update', monitor: this.opts.rank, version: core.lastCommitted, share };
      this.ctx.tell(sub.ref, msg);
      sub.version = core.lastCommitted;
    }
  }

  private expireSubscribers(now: number): void {
    for (const [key, sub] of this.subscribers) if (now >= sub.expiresAt) this.subscribers.delete(key);
  }

  // ----- checkpoints: trim the log (P5) -----

  private maybeCheckpoint(): void {
    const core = this.core as MonitorCore<S, C, I>;
    if (this.checkpointing || this.failed || core.lastCommitted - this.checkpointVersion < this.cfg.checkpointEveryVersions) return;
    this.checkpointing = true;
    const version = core.lastCommitted;
    this.opts.store.checkpoint(() => core.checkpoint()).then(
      () => {
        this.checkpointing = false;
        this.checkpointVersion = version;
      },
      (err: unknown) => this.storeFailed(err),
    );
  }
}
