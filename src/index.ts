/**
 * Troupe's public API: the actor runtime. Explicit named exports only (no `export *`), so the
 * public surface is exactly this list. The deterministic simulator and test helpers are in
 * `troupe/testkit`.
 */
export { ActorSystem } from './runtime/system.js';
export type { DeadLetter, SystemDefaults, SystemEvents, SystemOptions } from './runtime/system.js';
export type { ActorContext, ActorFactory, ActorTimers, AskOptions, Behavior, ReplyHandle, Signal, SpawnOptions } from './runtime/behavior.js';
export type { ActorInspection, CellState } from './runtime/cell.js';
export { EscalatedError } from './runtime/cell.js';
export { isRef, makeRef, refKey, sameRef } from './runtime/ref.js';
export type { ActorRef } from './runtime/ref.js';
export { isTroupeError, TroupeError } from './runtime/errors.js';
export type { RuntimeErrorCode } from './runtime/errors.js';
export { backoffDelay, decide, defaultBackoff, defaultSupervision } from './runtime/supervision.js';
export type { Backoff, Supervision, SupervisionDecision } from './runtime/supervision.js';
export { stderrLogger } from './runtime/log.js';
export type { Log, LogEntry, Logger, LogLevel } from './runtime/log.js';
export { seededRandom } from './runtime/random.js';
export type { Random } from './runtime/random.js';
export type { Cancel, Clock, Env, Timers } from './runtime/env.js';
export { realEnv } from './runtime/node/env.js';
export type { Envelope, EnvelopeKind, SystemMessage, TerminationReason } from './runtime/envelope.js';
export type { Transport, TransportSink } from './runtime/transport/transport.js';
export type { Dispatcher, Runnable } from './runtime/dispatcher.js';
export type { EnqueueResult, MailboxStats, OverflowPolicy } from './mailbox/mailbox.js';
