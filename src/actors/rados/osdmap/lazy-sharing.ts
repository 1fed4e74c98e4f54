/**
 * Lazy map sharing (thesis §6.2.5; digest §3.5): map updates ride on the messages OSDs exchange
 * anyway. Each party tags its messages with its epoch (R9), notes the epochs its peers show, and
 *  - answers a message that shows an older epoch with the incrementals the sender lacks, and
 *  - attaches incrementals pre-emptively when it contacts a peer it believes to be behind.
 * A peer whose epoch it has never seen gets a safe recent history (`recentHistory`). This file
 * holds the decisions; `mapBundleFor` / `recentHistory` build the bundles. README R9–R11.
 */
import type { OsdMap } from './osd-map.js';

/** What to attach to a message for one peer. */
export type SharePlan =
  /** The peer is believed current. */
  | { readonly kind: 'none' }
  /** The peer is believed to be at `since`: send the incrementals after it. */
  | { readonly kind: 'since'; readonly since: number }
  /** Nothing is known about the peer: send the recent history. */
  | { readonly kind: 'recent' };

/**
 * The epochs a party believes its peers have: the newest each peer has shown in a message, or
 * the newest this party has sent it, whichever is larger. Soft state, bounded: beyond
 * `maxTracked` peers the least recently updated is forgotten (it then gets the recent history
 * again, which is safe).
 */
export class PeerEpochs<K> {
  private readonly known = new Map<K, number>();

  constructor(private readonly maxTracked: number) {
    if (!Number.isInteger(maxTracked) || maxTracked < 1) throw new RangeError(`maxTracked ${maxTracked} must be a positive integer`);
  }

  /** The epoch `peer` is believed to have, or undefined. */
  epochOf(peer: K): number | undefined {
    return this.known.get(peer);
  }

  get size(): number {
    return this.known.size;
  }

  private raise(peer: K, epoch: number): void {
    const old = this.known.get(peer);
    if (old !== undefined && old >= epoch) return;
    this.known.delete(peer);
    if (this.known.size >= this.maxTracked) this.known.delete(this.known.keys().next().value as K);
    this.known.set(peer, epoch);
  }

  /**
   * A message from `peer` tagged `theirEpoch` arrived while this party is at `myEpoch`. Notes the
   * peer's epoch and returns what to send back: the incrementals after `theirEpoch` when the peer
   * is behind (thesis: "it shares the necessary incremental(s) to bring that peer in sync"). The
   * peer is then believed current.
   */
  onReceive(peer: K, theirEpoch: number, myEpoch: number): SharePlan {
    this.raise(peer, theirEpoch);
    if (theirEpoch >= myEpoch) return { kind: 'none' };
    this.raise(peer, myEpoch);
    return { kind: 'since', since: theirEpoch };
  }

  /**
   * This party, at `myEpoch`, is about to send `peer` a message: what to attach pre-emptively
   * (thesis: "when contacting a peer thought to have an older epoch, incremental updates are
   * preemptively shared"). The peer is then believed current.
   */
  onSend(peer: K, myEpoch: number): SharePlan {
    const known = this.known.get(peer);
    if (known !== undefined && known >= myEpoch) return { kind: 'none' };
    this.raise(peer, myEpoch);
    return known === undefined ? { kind: 'recent' } : { kind: 'since', since: known };
  }

  /** Forgets a peer (it left the party's PGs, or restarted and lost its map). */
  forget(peer: K): void {
    this.known.delete(peer);
  }
}

/** What an OSD should do about its own entry in a map it just received. */
export type SelfState =
  /** The map has it up at its address. */
  | 'up'
  /** The map has it down (or up at another address — an older incarnation) while it is alive: it asks to be marked up again (`rados.mon.osdBoot`). */
  | 'marked_down'
  /** The map has no such OSD. */
  | 'unknown';

/**
 * An OSD's check of its own entry (thesis §6.2.3: an OSD that finds itself marked down; digest
 * §3.6). The thesis's OSD kills itself; as Ceph does today, ours asks to be marked up again.
 */
export function selfState(map: OsdMap, osd: number, addr: string): SelfState {
  const o = map.osds[osd];
  if (!o) return 'unknown';
  return o.up && o.addr === addr ? 'up' : 'marked_down';
}
