import type { MessagePort } from 'node:worker_threads';
import type { Envelope } from '../envelope.js';
import type { Transport, TransportSink } from '../transport/transport.js';
import { PortTransport } from './port-transport.js';
import type { ChannelControl } from './worker-protocol.js';

/**
 * A worker thread's transport: the data port to the parent, plus a direct channel to each sibling
 * worker of the same pool it talks to, so worker-to-worker envelopes skip the parent's router
 * (one hop and one wake-up of the main thread less each way).
 *
 * A channel is brokered once per pair of workers (transport README, "Direct channels"):
 * 1. The first envelope to a sibling goes through the parent as before; with it this worker
 *    posts `dial`.
 * 2. The parent makes a `MessageChannel` and posts one end to each of the two workers (`open`).
 * 3. Each side, on `open`, flushes what it queued for the parent, posts `fence` to the parent
 *    behind it, and from then on sends to that sibling on the channel. It does not read the
 *    channel yet.
 * 4. The parent passes each `fence` on to the other worker as `fenced`, behind every envelope
 *    of that sender it has routed there (its outbox to that worker is flushed first). On
 *    `fenced`, the worker starts reading the channel.
 *
 * Per-pair order (thesis §3.3) holds across the switch: what a worker sent through the parent
 * arrives before `fenced`, and what it sent on the channel is read only after. Every hop is FIFO.
 * Envelopes posted on the channel before `fenced` wait in the port; the wait is one pass through
 * the parent.
 *
 * Failure: the channel is a `PortTransport` like the link to the parent, with its acks and its
 * record of unacknowledged batches. When the parent announces a sibling down (its thread exited),
 * the channel to it fails first — every envelope posted and not acked is reported `link_down`
 * (maybe delivered), every one still queued `link_down` — and then `linkDown(sibling)` reaches
 * this system, once: the same reports, in the same order, as for envelopes that went through the
 * parent. A sibling the parent refuses (not a live worker of the pool) stays reached through the
 * parent until it is restarted (`reset`).
 *
 * Bounds: at most one channel and one dial state per sibling (`workers - 1`); names that are not
 * sibling workers are never dialed.
 */
export interface WorkerTransportOptions {
  /** This worker's node id (`<host>/w<i>`). */
  readonly node: string;
  readonly hostNode: string;
  /** Workers in the pool. */
  readonly workers: number;
  /** Dial sibling workers. Channels the siblings open are accepted either way. */
  readonly directChannels: boolean;
  readonly transferMinBytes: number;
}

export class WorkerTransport implements Transport {
  private sink: TransportSink | undefined;
  private readonly parent: PortTransport;
  /** Channels to siblings, by node: sends to those go there. */
  private readonly direct = new Map<string, PortTransport>();
  /** The id of each channel in `direct`, for matching its `fenced`. */
  private readonly channelIds = new Map<string, number>();
  /** Siblings dialed and not answered yet, or refused by the parent. */
  private readonly pending = new Map<string, 'dialing' | 'refused'>();
  private readonly siblingPrefix: string;
  private closed = false;
  /** The sink of the channels: reports go to this system; link failures come from the parent only. */
  private readonly channelSink: TransportSink = {
    deliver: (env) => this.sink?.deliver(env),
    undeliverable: (env, code, maybeDelivered) => this.sink?.undeliverable(env, code, maybeDelivered),
    linkDown: () => undefined,
  };

  constructor(
    parentPort: MessagePort,
    private readonly opts: WorkerTransportOptions,
  ) {
    this.siblingPrefix = `${opts.hostNode}/w`;
    this.parent = new PortTransport(parentPort, { peerNode: opts.hostNode, transferMinBytes: opts.transferMinBytes, onChannel: (c) => this.onChannel(c) });
  }

  /** Open direct channels (for inspection and tests). */
  get channels(): number {
    return this.direct.size;
  }

  bind(node: string, sink: TransportSink): void {
    if (this.sink !== undefined) throw new Error('WorkerTransport.bind called twice');
    this.sink = sink;
    this.parent.bind(node, {
      deliver: (env) => sink.deliver(env),
      undeliverable: (env, code, maybeDelivered) => sink.undeliverable(env, code, maybeDelivered),
      linkDown: (down) => {
        this.dropChannel(down);
        sink.linkDown(down);
      },
      linkUp: (up) => sink.linkUp?.(up),
    });
  }

  send(env: Envelope): void {
    const to = env.to.node;
    const channel = this.direct.get(to);
    if (channel !== undefined) {
      channel.send(env);
      return;
    }
    this.parent.send(env);
    if (this.opts.directChannels && !this.pending.has(to) && this.isSibling(to)) {
      this.pending.set(to, 'dialing');
      this.parent.postChannel({ t: 'chan', op: 'dial', node: to });
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const channels = [...this.direct.values()];
    this.direct.clear();
    this.channelIds.clear();
    this.pending.clear();
    await Promise.all([...channels.map((c) => c.close()), this.parent.close()]);
  }

  /** `<host>/w<i>` with `i` a worker index of the pool other than this one. */
  private isSibling(node: string): boolean {
    if (!node.startsWith(this.siblingPrefix) || node === this.opts.node) return false;
    const rest = node.slice(this.siblingPrefix.length);
    const index = Number(rest);
    return rest.length > 0 && Number.isInteger(index) && index >= 0 && index < this.opts.workers && String(index) === rest;
  }

  private onChannel(c: ChannelControl): void {
    switch (c.op) {
      case 'open': {
        if (this.closed || this.direct.has(c.node) || this.sink === undefined) {
          c.port.close();
          return;
        }
        const channel = new PortTransport(c.port, { peerNode: c.node, transferMinBytes: this.opts.transferMinBytes, paused: true });
        channel.bind(this.opts.node, this.channelSink);
        // Behind everything queued for the parent so far; from here on, sends to c.node use the channel.
        if (!this.parent.postChannel({ t: 'chan', op: 'fence', node: c.node, id: c.id })) {
          c.port.close();
          return;
        }
        this.pending.delete(c.node);
        this.direct.set(c.node, channel);
        this.channelIds.set(c.node, c.id);
        return;
      }
      case 'fenced':
        // Everything c.node sent through the parent has been delivered: its channel may be read.
        if (this.channelIds.get(c.node) === c.id) this.direct.get(c.node)?.start();
        return;
      case 'refuse':
        if (this.pending.get(c.node) === 'dialing') this.pending.set(c.node, 'refused');
        return;
      case 'reset':
        if (this.pending.get(c.node) === 'refused') this.pending.delete(c.node);
        return;
      case 'dial':
      case 'fence':
        return; // parent-side messages
    }
  }

  /** `node` is down: fail its channel (reporting what it carried), forget its dial state. */
  private dropChannel(node: string): void {
    this.pending.delete(node);
    const channel = this.direct.get(node);
    if (channel === undefined) return;
    this.direct.delete(node);
    this.channelIds.delete(node);
    channel.fail();
  }
}
