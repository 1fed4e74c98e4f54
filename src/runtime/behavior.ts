import type { Clock, Env } from './env.js';
import type { RuntimeErrorCode } from './errors.js';
import type { Log } from './log.js';
import type { OverflowPolicy } from '../mailbox/mailbox.js';
import type { Random } from './random.js';
import type { ActorRef } from './ref.js';
import type { Supervision } from './supervision.js';
import type { TerminationReason } from './envelope.js';

/**
 * What an actor does with its messages. A factory creates it with fresh state at spawn and again
 * at every restart; the state lives in the factory's closure, reachable by nothing else.
 *
 * `receive`'s return value — or the value its promise resolves to — is the reply when the message
 * came through `ask` (unless the handler took a `deferReply()` handle to answer later). For tells
 * the value is ignored.
 */
export interface Behavior<M> {
  receive(message: M, ctx: ActorContext<M>): unknown;
  /** After the actor is created (and after each restart), before its first message. */
  preStart?(ctx: ActorContext<M>): void | Promise<void>;
  /** After the actor stopped (not on a crash of its node: crashes run no code). */
  postStop?(ctx: ActorContext<M>): void | Promise<void>;
  /** Before a restart replaces this behavior; `error` is what the handler threw. */
  preRestart?(ctx: ActorContext<M>, error: unknown): void;
  /** Runtime notifications: a watched actor terminated, a tell could not be delivered, a link failed. */
  onSignal?(signal: Signal, ctx: ActorContext<M>): void | Promise<void>;
  /** Throws if the actor's state breaks an invariant. The simulator calls it after every message. */
  invariants?(): void;
}

export type ActorFactory<M> = (ctx: ActorContext<M>) => Behavior<M>;

export type Signal =
  | { readonly type: 'troupe.terminated'; readonly ref: ActorRef<unknown>; readonly reason: TerminationReason }
  | { readonly type: 'troupe.undeliverable'; readonly to: ActorRef<unknown>; readonly message: unknown; readonly code: RuntimeErrorCode }
  | { readonly type: 'troupe.linkDown'; readonly node: string }
  | { readonly type: 'troupe.linkUp'; readonly node: string };

export interface SpawnOptions {
  /** Unique among this system's live actors; refs by name survive restarts of the node. */
  readonly name?: string;
  /** Bound of the user lane. Default: the system's `mailboxCapacity` (10,000). */
  readonly mailboxCapacity?: number;
  /** What happens when the user lane is full. Default `reject`. */
  readonly overflow?: OverflowPolicy;
  /** How failures of this actor are handled. Default: restart 3 times per 10 s with backoff, then escalate. */
  readonly supervision?: Supervision;
  /**
   * Serial turns (default, false): one message at a time, to completion, including any `await`
   * inside the handler. Reentrant (true): handlers interleave at `await` points; the actor guards
   * its own state (the GFS master does, with the patent's namespace locks).
   */
  readonly reentrant?: boolean;
  /** Messages handled per turn before another actor gets the thread. Default: the system's `throughput`. */
  readonly throughput?: number;
}

/** Where to send the answer to an ask later. Plain data: it can be stored or passed to another actor. */
export interface ReplyHandle {
  readonly to: ActorRef<unknown>;
  readonly corr: number;
}

export interface AskOptions {
  /** Default: the system's `askTimeoutMs` (5 s). */
  readonly timeoutMs?: number;
}

/** Message timers: each delivers `message` to the actor itself, through its mailbox. */
export interface ActorTimers<M> {
  /** After `delayMs`, once. Replaces an active timer with the same key. */
  once(key: string, delayMs: number, message: M): void;
  /** Every `intervalMs` (first after `initialDelayMs`, default `intervalMs`). Replaces an active timer with the same key. */
  repeat(key: string, intervalMs: number, message: M, initialDelayMs?: number): void;
  /** Cancels the timer; a message it already queued is discarded too. */
  cancel(key: string): void;
  cancelAll(): void;
  isActive(key: string): boolean;
}

export interface ActorContext<M> {
  readonly self: ActorRef<M>;
  readonly parent: ActorRef<unknown> | undefined;
  readonly node: string;
  /**
   * The sender of the message being handled (an actor, or `undefined` for messages from outside
   * any actor). In an async handler read it before the first `await`: in reentrant actors another
   * message may be current after it.
   */
  readonly sender: ActorRef<unknown> | undefined;
  readonly clock: Clock;
  /** This actor's own seeded stream (forked from the node's by actor id). */
  readonly random: Random;
  readonly timers: ActorTimers<M>;
  readonly log: Log;
  /** The node's host services (for storage objects owned by this actor). */
  readonly env: Env;

  /** One-way send; messages from this actor to one receiver arrive in send order. Returns false when refused at once (full mailbox, no such local actor). */
  tell<T>(to: ActorRef<T>, message: T): boolean;
  /** Request/response; rejects with a `TroupeError` (`ask_timeout`, `mailbox_full`, `actor_not_found`, ...). */
  ask<R = unknown, T = unknown>(to: ActorRef<T>, message: T, options?: AskOptions): Promise<R>;
  /**
   * Takes over the reply to the current ask, to answer later with `reply` (call it before the
   * handler's first `await`). Returns undefined when the current message is not an ask.
   */
  deferReply(): ReplyHandle | undefined;
  reply(handle: ReplyHandle, value: unknown): void;
  replyError(handle: ReplyHandle, code: RuntimeErrorCode, message: string): void;
  /** Spawns a child: it is stopped with this actor, and its escalations come here. */
  spawn<C>(factory: ActorFactory<C>, options?: SpawnOptions): ActorRef<C>;
  /** Stops a child or this actor (default). */
  stop(ref?: ActorRef<unknown>): void;
  /** Watches `ref`: when it terminates, `message` is delivered (if given), else a `troupe.terminated` signal. */
  watch<T>(ref: ActorRef<T>, message?: M): void;
  unwatch<T>(ref: ActorRef<T>): void;
}
