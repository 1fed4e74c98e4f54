import type { Envelope, FailPayload } from '../envelope.js';
import type { RuntimeErrorCode } from '../errors.js';
import { transferPayloadsOf } from './ownership.js';
import type { Transport, TransportSink } from './transport.js';

/**
 * A transport that can hand failure notices back towards senders it does not host (a worker
 * thread's link relays them into the worker).
 */
export interface RelayTransport extends Transport {
  /** An envelope this link carried *from* its far side could not be delivered further. */
  relayUndeliverable(env: Envelope, code: RuntimeErrorCode, maybeDelivered?: boolean): void;
  /** Tells the far side that `node` is down (its watchers and pending asks need to know). */
  relayLinkDown(node: string): void;
  relayLinkUp(node: string): void;
}

/** A host transport that can tell other hosts that one of this process's nodes is down. */
export interface NodeDownAnnouncer {
  announceNodeDown(node: string): void;
}

function isRelay(t: Transport): t is RelayTransport {
  return typeof (t as Partial<RelayTransport>).relayUndeliverable === 'function';
}

/** Which process hosts a node id: worker nodes are `<host>/w<i>`. */
export function hostOfNode(node: string): string {
  const slash = node.indexOf('/');
  return slash < 0 ? node : node.slice(0, slash);
}

/**
 * The transport of a process that hosts worker threads: routes each envelope by destination node
 * to a worker link (exact node id) or to the default route (TCP to other hosts), and forwards what
 * arrives on one link but is addressed elsewhere (worker → worker until the two have a direct
 * channel, worker → remote host, remote host → worker). Each sender/receiver pair has exactly one path and every hop is FIFO, so
 * per-pair order holds end to end (thesis §3.3).
 *
 * Failure notices follow the envelope back: an envelope from a worker that cannot be forwarded is
 * reported inside that worker; one from a remote host that was an ask gets a `fail` reply; a
 * link failure is announced locally and relayed to every worker. When a host goes down, the
 * worker nodes of that host seen in traffic are announced down too.
 */
export class RoutingTransport implements Transport {
  private readonly exact = new Map<string, Transport>();
  private fallback: Transport | undefined;
  private local: string | undefined;
  private sink: TransportSink | undefined;
  /** Remote nodes seen through the default route, by host, so a host's failure covers its workers. */
  private readonly remoteNodes = new Map<string, Set<string>>();

  bind(node: string, sink: TransportSink): void {
    if (this.sink !== undefined) throw new Error('RoutingTransport.bind called twice');
    this.local = node;
    this.sink = sink;
    for (const t of new Set([...this.exact.values(), ...(this.fallback !== undefined ? [this.fallback] : [])])) t.bind(node, this.childSink(t));
  }

  /** Routes envelopes for `node` (exactly) to `transport`. Binds it if the router is bound already. */
  addRoute(node: string, transport: Transport): void {
    this.exact.set(node, transport);
    if (this.local !== undefined) transport.bind(this.local, this.childSink(transport));
  }

  removeRoute(node: string): void {
    this.exact.delete(node);
  }

  /** Routes every node without an exact route (other hosts) to `transport`. */
  setDefault(transport: Transport): void {
    if (this.fallback !== undefined) throw new Error('RoutingTransport: default route already set');
    this.fallback = transport;
    if (this.local !== undefined) transport.bind(this.local, this.childSink(transport));
  }

  send(env: Envelope): void {
    const node = env.to.node;
    const t = this.exact.get(node);
    if (t !== undefined) {
      t.send(env);
      return;
    }
    if (this.fallback !== undefined && hostOfNode(node) !== this.local) {
      this.seen(node);
      this.fallback.send(env);
      return;
    }
    this.fail(env, 'node_unreachable');
  }

  async close(): Promise<void> {
    const all = new Set([...this.exact.values(), ...(this.fallback !== undefined ? [this.fallback] : [])]);
    await Promise.all([...all].map((t) => t.close()));
  }

  private seen(node: string): void {
    const host = hostOfNode(node);
    if (host === node) return;
    let set = this.remoteNodes.get(host);
    if (set === undefined) this.remoteNodes.set(host, (set = new Set()));
    set.add(node);
  }

  /** Reports `env` as undeliverable to whoever sent it, wherever that is. */
  private fail(env: Envelope, code: RuntimeErrorCode, maybeDelivered?: boolean): void {
    const sink = this.sink;
    if (sink === undefined) return;
    const from = env.from?.node;
    if (from === undefined || from === this.local) {
      sink.undeliverable(env, code, maybeDelivered);
      return;
    }
    const back = this.exact.get(from);
    if (back !== undefined && isRelay(back)) {
      back.relayUndeliverable(env, code, maybeDelivered);
      return;
    }
    if (env.kind === 'ask' && env.from !== undefined) {
      const payload: FailPayload = { code, message: `could not forward to ${env.to.node}` };
      this.send({ kind: 'fail', to: env.from, from: env.to, msg: payload, corr: env.corr });
    }
    // A tell from another host that cannot be forwarded: that host learns of the failure through
    // link notifications; the envelope itself has no one to report to.
  }

  private linkDown(node: string, origin: Transport): void {
    const nodes = [node, ...(this.remoteNodes.get(node) ?? [])];
    this.remoteNodes.delete(node);
    // One of this process's workers died: other hosts may watch its actors too.
    if (hostOfNode(node) === this.local && node !== this.local && this.fallback !== undefined && origin !== this.fallback) {
      (this.fallback as Partial<NodeDownAnnouncer>).announceNodeDown?.(node);
    }
    for (const n of nodes) {
      this.sink?.linkDown(n);
      for (const t of this.exact.values()) if (t !== origin && isRelay(t)) t.relayLinkDown(n);
    }
  }

  private childSink(t: Transport): TransportSink {
    return {
      deliver: (env) => {
        if (env.to.node === this.local) {
          if (t === this.fallback && env.from !== undefined) this.seen(env.from.node);
          this.sink?.deliver(env);
          return;
        }
        // Passing through (from another host, or from one worker to another): this thread decoded
        // the payloads and holds no other reference to them, so the next link may move them
        // instead of copying.
        transferPayloadsOf(env.msg);
        this.send(env);
      },
      undeliverable: (env, code, maybeDelivered) => this.fail(env, code, maybeDelivered),
      linkDown: (node) => this.linkDown(node, t),
      linkUp: (node) => {
        this.sink?.linkUp?.(node);
        for (const other of this.exact.values()) if (other !== t && isRelay(other)) other.relayLinkUp(node);
      },
    };
  }
}
