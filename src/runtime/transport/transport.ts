import type { Envelope } from '../envelope.js';
import type { RuntimeErrorCode } from '../errors.js';

/**
 * A transport moves envelopes between nodes (ActorSystems). The contract is the Ceph
 * communication model (thesis §3.3): between any pair of nodes, delivery is ordered (FIFO per
 * sender/receiver pair), and failure is fail-stop and *notified* — an envelope that cannot be
 * delivered is handed back through `undeliverable`, never silently dropped, and a broken link is
 * announced through `linkDown`.
 */
export interface Transport {
  /** Called once by the ActorSystem that owns this transport endpoint. */
  bind(node: string, sink: TransportSink): void;
  /** Sends to `env.to.node` (never the local node). Must not throw; failures go to the sink. */
  send(env: Envelope): void;
  /** Closes every link; envelopes still queued are reported undeliverable. */
  close(): Promise<void>;
}

export interface TransportSink {
  /** An envelope arrived for this node. */
  deliver(env: Envelope): void;
  /**
   * An envelope this node sent could not be delivered. `maybeDelivered`: it was sent but never
   * acknowledged before its link failed, so it may have arrived (a caller must not assume it had no
   * effect); otherwise it surely never reached the receiver.
   */
  undeliverable(env: Envelope, code: RuntimeErrorCode, maybeDelivered?: boolean): void;
  /** The link to `node` failed; watchers of its actors are told `node_down`. */
  linkDown(node: string): void;
  /** A link to `node` (re)established. */
  linkUp?(node: string): void;
}
