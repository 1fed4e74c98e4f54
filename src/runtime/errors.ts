/**
 * Runtime error codes (STYLE.md, "Errors a caller can act on"): one code per situation a caller
 * reacts to differently. Asks reject with a `TroupeError` carrying one of these; undeliverable
 * tells are reported to the sending actor with the same codes.
 */
export type RuntimeErrorCode =
  /** The ask got no reply within its timeout. */
  | 'ask_timeout'
  /** The receiver's user lane is full and its policy is `reject`. */
  | 'mailbox_full'
  /** No such actor (never existed, or already stopped). */
  | 'actor_not_found'
  /** The receiver stopped before replying. */
  | 'actor_stopped'
  /** The receiver's handler threw while handling this ask (its supervisor was told). */
  | 'actor_failed'
  /** The link to the receiver's node broke (thesis §3.3: failure is notified, not silent). */
  | 'link_down'
  /** No route to the receiver's node. */
  | 'node_unreachable'
  /** The local ActorSystem is shut down. */
  | 'system_stopped'
  /** The transport's bounded outbound queue to that node is full: the peer is slow; back off and retry. */
  | 'outbound_queue_full'
  /** The peer failed the cluster handshake (wrong cluster secret, cluster id or protocol version). */
  | 'auth_failed';

/**
 * Whether a failed request can have reached its receiver — what a caller needs to decide on a
 * retry. `not_delivered`: it came back, or was refused before any handler ran (no route, a full
 * mailbox or queue, no such actor); it had no effect, so sending it again is safe. `unknown`: no
 * answer (a timeout, a link that broke after the send, a receiver that stopped or failed); it may
 * have taken effect.
 */
export type Delivery = 'not_delivered' | 'unknown';

/** Codes that by themselves say the request never reached a handler. */
const NEVER_DELIVERED: ReadonlySet<RuntimeErrorCode> = new Set<RuntimeErrorCode>(['mailbox_full', 'actor_not_found', 'node_unreachable', 'outbound_queue_full', 'auth_failed']);

export class TroupeError extends Error {
  override readonly name = 'TroupeError';
  /** See `Delivery`. By default derived from the code; the runtime passes it where it knows more (an envelope that came back). */
  readonly delivery: Delivery;
  constructor(
    readonly code: RuntimeErrorCode,
    message: string,
    delivery?: Delivery,
  ) {
    super(`${code}: ${message}`);
    this.delivery = delivery ?? (NEVER_DELIVERED.has(code) ? 'not_delivered' : 'unknown');
  }
}

export function isTroupeError(err: unknown, code?: RuntimeErrorCode): err is TroupeError {
  return err instanceof TroupeError && (code === undefined || err.code === code);
}
