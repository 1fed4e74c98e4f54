/**
 * RADOS messages for the OSD map (thesis §6.2.2–6.2.5; README.md here). Messages are plain data
 * with a namespaced `type` (DESIGN.md §3); commands are imperative. Every message an OSD, client
 * or monitor sends carries the sender's map epoch (R9, thesis §6.2.5), so a receiver can tell
 * when either side is behind and share the missing incrementals.
 *
 * The monitor's own messages (Paxos, elections, leases) live in monitor/; the OSD data path comes
 * with the OSD actor.
 */
import type { OsdMap, OsdMapIncremental, ReplicationMode } from './osdmap/osd-map.js';

/** Every RADOS message carries the sender's epoch (thesis §6.2.5: "tags all messages with its latest epoch"). */
export interface EpochTagged {
  readonly epoch: number;
}

/**
 * A map update for a party at some epoch: the incrementals it lacks, in order (several bundled to
 * bridge a gap), or the full map when the sender's history does not reach back far enough.
 */
export type MapBundle =
  | { readonly kind: 'none' }
  | { readonly kind: 'incrementals'; readonly incrementals: readonly OsdMapIncremental[] }
  | { readonly kind: 'full'; readonly map: OsdMap };

/**
 * Commands the OSD-map service turns into incrementals (`osdMapService.prepare`, on the leader
 * monitor). OSDs send boots; the failure tracker and the down→out timer produce mark-down and
 * mark-out commands; the rest come from administrators (`troupe ceph osd …`).
 */
export type OsdMonCommand =
  /**
   * An OSD is online at `addr` and has map `epoch` (thesis §6.2.5). Also sent by an OSD that finds
   * itself marked down while alive, to be marked up again. `addr` should name the incarnation
   * (Ceph's addresses carry a nonce): a boot at the address the map already has up is `no_change`.
   */
  | { readonly type: 'rados.mon.osdBoot'; readonly osd: number; readonly addr: string; readonly epoch: number }
  | { readonly type: 'rados.mon.osdMarkDown'; readonly osds: readonly number[]; readonly reason: 'failure' | 'admin' }
  | { readonly type: 'rados.mon.osdMarkOut'; readonly osds: readonly number[]; readonly reason: 'admin' | 'down_out' }
  | { readonly type: 'rados.mon.osdMarkIn'; readonly osds: readonly number[] }
  /** Reweight in [0, 1] (Ceph's `osd reweight`). */
  | { readonly type: 'rados.mon.osdReweight'; readonly osd: number; readonly weight: number }
  /** Replace the CRUSH map (Ceph text syntax); devices without an OSD become new OSDs, down and out until they boot. */
  | { readonly type: 'rados.mon.setCrush'; readonly crush: string }
  | {
      readonly type: 'rados.mon.poolCreate';
      readonly name: string;
      readonly pgNum: number;
      readonly pgpNum?: number;
      readonly size?: number;
      readonly minSize?: number;
      /** Rule id or name; default rule 0. */
      readonly crushRule?: number | string;
      readonly replication?: ReplicationMode;
    }
  | { readonly type: 'rados.mon.poolDelete'; readonly name: string }
  /** Raise pg_num and/or pgp_num (thesis §6.2.1: PGs split; they never merge). */
  | { readonly type: 'rados.mon.poolSet'; readonly name: string; readonly pgNum?: number; readonly pgpNum?: number };

/** One failed peer in a failure report. */
export interface FailedPeer {
  readonly osd: number;
  /** How long the reporter has not heard from it, ms. */
  readonly failedForMs: number;
}

/**
 * OSD → any monitor: peers it found failed, batched and throttled (thesis §6.2.4); `alive` withdraws
 * earlier reports (the peer answered again). Acknowledged by a map update marking them down.
 */
export interface OsdFailureReport extends EpochTagged {
  readonly type: 'rados.mon.osdFailure';
  readonly reporter: number;
  readonly failed: readonly FailedPeer[];
  readonly alive: readonly number[];
}

/** Monitor → OSD or client: the map changes it lacks. */
export interface OsdMapUpdate extends EpochTagged {
  readonly type: 'rados.osdMap';
  readonly bundle: MapBundle;
}

/** OSD ↔ OSD heartbeat (thesis §6.2.3: PG peers exchange heartbeats every 2 s), lazily carrying incrementals (§6.2.5). */
export interface OsdPing extends EpochTagged {
  readonly type: 'rados.osd.ping';
  readonly from: number;
  /** Incrementals the sender believes the receiver lacks; `none` when it believes it current. */
  readonly share: MapBundle;
}

export type RadosMapMsg = OsdFailureReport | OsdMapUpdate | OsdPing;
