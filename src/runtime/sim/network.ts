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

/**
 * A node's network interface (the GFS paper's testbed, §6.1: 100 Mbps full-duplex NICs on two
 * switches joined by a 1 Gbps link). Unlike a link's bandwidth, which serializes only the
 * messages of one pair, a NIC is shared by every link of its node: everything the node sends
 * queues on its egress, everything it receives on its ingress. Full duplex: the two directions
 * are independent. `switch` names the switch the node hangs off; messages between nodes on two
 * switches joined by a trunk (`setTrunk`) also queue on the trunk, one queue per direction.
 */
export interface NicConfig {
  /** Infinity for no limit. */
  readonly egressBytesPerSec: number;
  readonly ingressBytesPerSec: number;
  readonly switch?: string;
}

/** A FIFO server of bytes (a NIC direction or a trunk direction). */
interface Pipe {
  readonly bytesPerSec: number;
  busyUntil: number;
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
  private readonly nics = new Map<string, { readonly switch: string | undefined; readonly egress: Pipe; readonly ingress: Pipe }>();
  /** Trunk directions by `fromSwitch>toSwitch`. */
  private readonly trunks = new Map<string, Pipe>();
  /**
   * Messages cross NICs and trunks as packets of at most this many bytes, each stored and
   * forwarded hop by hop, so a large message pipelines through the hops (its time is about that
   * of its slowest hop, not the sum) and the packets of concurrent flows interleave on a shared
   * hop in order of arrival.
   */
  private packetBytes = 64 * 1024;

  constructor(
    private readonly host: NetworkHost,
    private readonly random: Random,
    defaults: Partial<LinkConfig> = {},
  ) {
    this.defaults = { ...defaultLinkConfig, ...defaults };
  }

  /** Gives a node a NIC (replacing any earlier one; queued traffic is not re-timed). */
  setNic(node: string, config: NicConfig): void {
    if (!(config.egressBytesPerSec > 0 && config.ingressBytesPerSec > 0)) throw new RangeError('NIC bandwidth must be positive');
    this.nics.set(node, { switch: config.switch, egress: { bytesPerSec: config.egressBytesPerSec, busyUntil: 0 }, ingress: { bytesPerSec: config.ingressBytesPerSec, busyUntil: 0 } });
  }

  /** Joins two switches by a full-duplex trunk of `bytesPerSec` each way. */
  setTrunk(switchA: string, switchB: string, bytesPerSec: number): void {
    if (switchA === switchB) throw new RangeError('a trunk joins two different switches');
    if (!(bytesPerSec > 0)) throw new RangeError('trunk bandwidth must be positive');
    this.trunks.set(`${switchA}>${switchB}`, { bytesPerSec, busyUntil: 0 });
    this.trunks.set(`${switchB}>${switchA}`, { bytesPerSec, busyUntil: 0 });
  }

  /** The packet size of the NIC/trunk model (default 64 KiB). */
  setPacketBytes(bytes: number): void {
    if (!(Number.isInteger(bytes) && bytes > 0)) throw new RangeError('packet size must be a positive integer');
    this.packetBytes = bytes;
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
    link.inflight.push(env);
    const epoch = link.epoch;
    const arrive = (t: number): void => {
      const at = Math.max(t + latency, link.lastDeliverAt);
      link.lastDeliverAt = at;
      h.at(at, () => {
        if (link.epoch !== epoch) return; // written off and reported when the link broke
        link.inflight.shift();
        h.deliver(to, copy);
      });
    };
    const pipes = this.pipes(from, to);
    if (pipes.length === 0) arrive(start);
    else this.traverse(pipes, estimateBytes(env.msg), start, () => link.epoch === epoch, arrive);
  }

  /** The shared queues a message from `from` to `to` crosses: egress NIC, trunk, ingress NIC. */
  private pipes(from: string, to: string): Pipe[] {
    if (from === to || this.nics.size === 0) return [];
    const a = this.nics.get(from);
    const b = this.nics.get(to);
    const out: Pipe[] = [];
    if (a !== undefined && Number.isFinite(a.egress.bytesPerSec)) out.push(a.egress);
    if (a?.switch !== undefined && b?.switch !== undefined && a.switch !== b.switch) {
      const trunk = this.trunks.get(`${a.switch}>${b.switch}`);
      if (trunk !== undefined) out.push(trunk);
    }
    if (b !== undefined && Number.isFinite(b.ingress.bytesPerSec)) out.push(b.ingress);
    return out;
  }

  /**
   * Store-and-forward of a message's packets through FIFO pipes: a packet is queued on a pipe
   * when it arrives there (so packets of concurrent flows interleave by arrival), and `done`
   * runs when the last packet leaves the last pipe. Stops early if the message is written off.
   */
  private traverse(pipes: readonly Pipe[], bytes: number, start: number, live: () => boolean, done: (t: number) => void): void {
    const h = this.host;
    const packets = Math.max(1, Math.ceil(bytes / this.packetBytes));
    const hop = (i: number, size: number, last: boolean, t: number): void => {
      const pipe = pipes[i] as Pipe;
      const begin = Math.max(t, pipe.busyUntil);
      pipe.busyUntil = begin + (size / pipe.bytesPerSec) * 1000;
      const leave = pipe.busyUntil;
      if (i + 1 < pipes.length) {
        h.at(leave, () => {
          if (live()) hop(i + 1, size, last, leave);
        });
      } else if (last) done(leave);
    };
    const enter = (): void => {
      for (let p = 0; p < packets; p++) {
        const size = p < packets - 1 ? this.packetBytes : bytes - this.packetBytes * (packets - 1);
        hop(0, size, p === packets - 1, start);
      }
    };
    if (start <= h.now()) enter();
    else {
      h.at(start, () => {
        if (live()) enter();
      });
    }
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
