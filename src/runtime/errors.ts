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

export class TroupeError extends Error {
  override readonly name = 'TroupeError';
  constructor(
    readonly code: RuntimeErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

export function isTroupeError(err: unknown, code?: RuntimeErrorCode): err is TroupeError {
  return err instanceof TroupeError && (code === undefined || err.code === code);
}
