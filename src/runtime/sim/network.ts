import { Deque } from '../../mailbox/deque.js';
import type { Envelope } from '../envelope.js';
import type { RuntimeErrorCode } from '../errors.js';
import type { Random } from '../random.js';

/**
 * One direction of a simulated link. Latency is drawn uniformly from [latencyMinMs,
 * latencyMaxMs] per message; bandwidth serializes messages by their estimated size; `lossRate`
 * is the chance that a send breaks the link (thesis §3.3: failures are fail-stop and notified, so
 * a loss is a broken connection — the message and everything in flight on the link are reported
 * undeliverable — never a silent gap). Per-link FIFO always holds: a message is never delivered
 * before one sent earlier on the same link.
 */
export interface LinkConfig {
  readonly latencyMinMs: number;
  readonly latencyMaxMs: number;
  /** Infinity for no bandwidth model. */
  readonly bandwidthBytesPerSec: number;
  /** Per message, in [0, 1]. */
  readonly lossRate: number;
  /** How long a broken link stays down before it reconnects. */
  readonly reconnectMs: number;
}

export const defaultLinkConfig: LinkConfig = {
  latencyMinMs: 0.05,
  latencyMaxMs: 2,
  bandwidthBytesPerSec: Infinity,
  lossRate: 0,
  reconnectMs: 200,
};

/** What the network needs from the simulation. */
export interface NetworkHost {
  now(): number;
  at(time: number, fn: () => void): void;
  /** Delivers to the node's system if it is alive; returns false if the node is down. */
  deliver(node: string, env: Envelope): boolean;
  undeliverable(node: string, env: Envelope, code: RuntimeErrorCode): void;
  linkDown(observer: string, peer: string): void;
  linkUp(observer: string, peer: string): void;
  isAlive(node: string): boolean;
  exists(node: string): boolean;
  /** Deep-copies a message as a transport would (and rejects what is not plain data). */
  copy(env: Envelope): Envelope;
}

interface Link {
  config: LinkConfig;
  /** Broken by loss, waiting to reconnect. */
  broken: boolean;
  /** Bumped whenever in-flight messages are written off. */
  epoch: number;
  lastDeliverAt: number;
  busyUntil: number;
  readonly inflight: Deque<Envelope>;
}

export class SimNetwork {
  private readonly links = new Map<string, Link>();
  /** Unordered pairs `a|b` that cannot talk. */
  private readonly cut = new Set<string>();
  private defaults: LinkConfig;

  constructor(
    private readonly host: NetworkHost,
    private readonly random: Random,
    defaults: Partial<LinkConfig> = {},
  ) {
    this.defaults = { ...defaultLinkConfig, ...defaults };
  }

  /** Changes the default for links not configured individually (and already-created ones that use it). */
  configureAll(config: Partial<LinkConfig>): void {
    this.defaults = { ...this.defaults, ...config };
    for (const l of this.links.values()) l.config = { ...l.config, ...config };
  }

  /** Configures both directions between a and b. */
  configure(a: string, b: string, config: Partial<LinkConfig>): void {
    for (const l of [this.link(a, b), this.link(b, a)]) l.config = { ...l.config, ...config };
  }

  send(from: string, env: Envelope): void {
    const to = env.to.node;
    const h = this.host;
    if (!h.exists(to)) {
      h.at(h.now(), () => h.undeliverable(from, env, 'node_unreachable'));
      return;
    }
    const link = this.link(from, to);
    if (link.broken || this.isCut(from, to) || !h.isAlive(to)) {
      h.at(h.now(), () => h.undeliverable(from, env, 'link_down'));
      return;
    }
    const copy = h.copy(env);
    if (link.config.lossRate > 0 && this.random.chance(link.config.lossRate)) {
      link.inflight.push(env);
      this.breakLink(from, to, link.config.reconnectMs);
      return;
    }
    const now = h.now();
    let start = now;
    if (Number.isFinite(link.config.bandwidthBytesPerSec)) {
      start = Math.max(now, link.busyUntil);
      link.busyUntil = start + (estimateBytes(env.msg) / link.config.bandwidthBytesPerSec) * 1000;
      start = link.busyUntil;
    }
    const latency = link.config.latencyMinMs + this.random.next() * (link.config.latencyMaxMs - link.config.latencyMinMs);
    const at = Math.max(start + latency, link.lastDeliverAt);
    link.lastDeliverAt = at;
    link.inflight.push(env);
    const epoch = link.epoch;
    h.at(at, () => {
      if (link.epoch !== epoch) return; // written off and reported when the link broke
      link.inflight.shift();
      h.deliver(to, copy);
    });
  }

  /** Cuts every link between the two groups, both ways, until `heal`. */
  partition(groupA: readonly string[], groupB: readonly string[]): void {
    for (const a of groupA) {
      for (const b of groupB) {
        if (a === b || this.isCut(a, b)) continue;
        this.cut.add(pairKey(a, b));
        this.writeOff(a, b);
        this.writeOff(b, a);
        this.host.linkDown(a, b);
        this.host.linkDown(b, a);
      }
    }
  }

  /** Restores every cut link (or only those between the two groups). */
  heal(groupA?: readonly string[], groupB?: readonly string[]): void {
    const pairs = groupA !== undefined && groupB !== undefined ? groupA.flatMap((a) => groupB.map((b) => pairKey(a, b))) : [...this.cut];
    for (const key of pairs) {
      if (!this.cut.delete(key)) continue;
      const [a, b] = key.split('|') as [string, string];
      if (this.host.isAlive(a) && this.host.isAlive(b)) {
        this.host.linkUp(a, b);
        this.host.linkUp(b, a);
      }
    }
  }

  isCut(a: string, b: string): boolean {
    return this.cut.has(pairKey(a, b));
  }

  /** A link breaks (loss): in-flight messages both ways are reported, both ends see link down, and it reconnects later. */
  breakLink(a: string, b: string, reconnectMs: number): void {
    const ab = this.link(a, b);
    const ba = this.link(b, a);
    if (ab.broken) return;
    ab.broken = true;
    ba.broken = true;
    this.writeOff(a, b);
    this.writeOff(b, a);
    this.host.linkDown(a, b);
    this.host.linkDown(b, a);
    this.host.at(this.host.now() + reconnectMs, () => {
      ab.broken = false;
      ba.broken = false;
      if (this.host.isAlive(a) && this.host.isAlive(b) && !this.isCut(a, b)) {
        this.host.linkUp(a, b);
        this.host.linkUp(b, a);
      }
    });
  }

  /** A node crashed: what was in flight to it is reported to its senders; what it sent is lost with it. */
  nodeCrashed(node: string): void {
    for (const [key, link] of this.links) {
      const [from, to] = key.split('>') as [string, string];
      if (to === node) this.writeOff(from, to);
      else if (from === node) {
        link.epoch++;
        link.inflight.drain();
      }
    }
  }

  private writeOff(from: string, to: string): void {
    const link = this.link(from, to);
    link.epoch++;
    link.lastDeliverAt = this.host.now();
    link.busyUntil = this.host.now();
    for (const env of link.inflight.drain()) {
      this.host.at(this.host.now(), () => this.host.undeliverable(from, env, 'link_down'));
    }
  }

  private link(from: string, to: string): Link {
    const key = `${from}>${to}`;
    let l = this.links.get(key);
    if (l === undefined) {
      l = { config: this.defaults, broken: false, epoch: 0, lastDeliverAt: 0, busyUntil: 0, inflight: new Deque<Envelope>() };
      this.links.set(key, l);
    }
    return l;
  }
}

function pairKey(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}

/** A rough wire size for the bandwidth model: payload bytes count exactly, the rest approximately. */
export function estimateBytes(value: unknown, depth = 0): number {
  if (value === null || value === undefined) return 1;
  switch (typeof value) {
    case 'string':
      return value.length + 2;
    case 'number':
    case 'bigint':
      return 9;
    case 'boolean':
      return 1;
    case 'object': {
      if (ArrayBuffer.isView(value)) return value.byteLength + 5;
      if (depth > 16) return 16;
      let n = 3;
      if (Array.isArray(value)) for (const v of value) n += estimateBytes(v, depth + 1);
      else for (const [k, v] of Object.entries(value)) n += k.length + 2 + estimateBytes(v, depth + 1);
      return n;
    }
    default:
      return 8;
  }
}
