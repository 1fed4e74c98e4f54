import type { ActorRef } from './ref.js';
import type { RuntimeErrorCode } from './errors.js';

/**
 * What travels between ActorSystems. Plain data only: every field survives structured clone and
 * msgpack, so any transport (and the simulator's trace) can carry it.
 *
 * - `tell`: one-way user message.
 * - `ask`: user message expecting one reply; `corr` identifies it at the asking node.
 * - `reply` / `fail`: the answer to an ask, routed to `to.node` and matched by `corr`;
 *   `fail` carries `{ code, message }` (a `RuntimeErrorCode`).
 * - `sys`: runtime control between nodes (remote watch, terminated, stop).
 */
export type EnvelopeKind = 'tell' | 'ask' | 'reply' | 'fail' | 'sys';

export interface Envelope {
  readonly kind: EnvelopeKind;
  readonly to: ActorRef<unknown>;
  /** The sending actor; for asks from outside any actor, the asking system's `$system` ref. */
  readonly from: ActorRef<unknown> | undefined;
  readonly msg: unknown;
  /** Ask correlation id, unique per asking node; 0 for tells and system messages. */
  readonly corr: number;
}

export interface FailPayload {
  readonly code: RuntimeErrorCode;
  readonly message: string;
}

/** Runtime control messages between nodes (`sys` envelopes). */
export type SystemMessage =
  | { readonly type: 'troupe.watch'; readonly watcher: ActorRef<unknown> }
  | { readonly type: 'troupe.unwatch'; readonly watcher: ActorRef<unknown> }
  | { readonly type: 'troupe.terminated'; readonly ref: ActorRef<unknown>; readonly reason: TerminationReason }
  | { readonly type: 'troupe.stop' };

/** Why an actor is gone, as watchers see it. */
export type TerminationReason = 'stopped' | 'failed' | 'not_found' | 'node_down' | 'system_stopped';
