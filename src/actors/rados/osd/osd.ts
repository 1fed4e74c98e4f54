/**
 * An OSD (thesis §6.2.3–6.2.5; digest §3.4–3.6). With a store in its options it also serves the
 * object data path (`data-path.ts`: PGs, replication, PG logs, reads; thesis §6.3). The map side:
 *  - boots: tells the monitors it is up at its address with its epoch, and fetches the
 *    incrementals it lacks (`rados.mon.osdBoot`, then a read since its epoch);
 *  - subscribes to the monitors for new epochs, renewing the subscription through the monitor
 *    client, which tries another monitor when one does not answer (§6.2.4);
 *  - heartbeats the peers it shares PGs with (at least `heartbeatPeersMin`, topped up by id) at semi-random intervals around
 *    `heartbeatIntervalMs` (thesis: every 2 s), and reports peers not heard from for
 *    `heartbeatGraceMs` through a batched, throttled `FailureReportBatcher`;
 *  - shares maps lazily (§6.2.5): every ping carries its epoch and the incrementals it believes the
 *    peer lacks; a ping showing an older epoch is answered with the missing incrementals;
 *  - asks to be marked up again when a map has it down while it is alive.
 * No I/O but messages and the object store; time, timers and randomness come from the context. A
 * restarted OSD starts with no map and boots again at a new address (a new incarnation); its PGs
 * come back from its store.
 */
import type { ActorContext, ActorFactory, Behavior } from '../../../runtime/behavior.js';
import type { Defer } from '../../../runtime/env.js';
import type { Disk } from '../../../storage/disk.js';
import { ObjectStore } from '../../../storage/object-store.js';
import type { ObjectStoreConfig, OpLogConfig } from '../../../storage/config.js';
import { DEFAULT_DATA_PATH_CONFIG, DEFAULT_PG_STATS_CONFIG, DEFAULT_SCRUB_CONFIG } from '../config.js';
import type { DataPathConfig, PgStatsConfig, ScrubConfig } from '../config.js';
import { PgStatReporter } from './pg-stat-reporter.js';
import { Scrubber, type ScrubCounters } from './scrubber.js';
import { DataPath } from './data-path.js';
import type { DataPathProbe, DataPathSelfMsg, DataPathStats, HeldPg } from './data-path.js';
import type { ActorRef } from '../../../runtime/ref.js';
import { makeRef, refKey } from '../../../runtime/ref.js';
import { DEFAULT_OSDMAP_CONFIG } from '../config.js';
import type { OsdMapConfig } from '../config.js';
import { MonitorClient } from '../monitor/client.js';
import type { MonResult } from '../monitor/errors.js';
import type { MonitorMsg, MonitorPush, ReadReply, Share } from '../monitor/protocol.js';
import { FailureReportBatcher } from '../osdmap/failure-tracker.js';
import { PeerEpochs, selfState } from '../osdmap/lazy-sharing.js';
import type { SelfState } from '../osdmap/lazy-sharing.js';
import { appendHistory, applyBundle, mapBundleFor, recentHistory } from '../osdmap/map-history.js';
import { poolMappings } from '../osdmap/mapping.js';
import { applyIncremental, emptyOsdMap, validateOsdMap } from '../osdmap/osd-map.js';
import type { OsdMap, OsdMapIncremental } from '../osdmap/osd-map.js';
import type { MapBundle, OsdDataMsg, OsdFailureReport, OsdPing, OsdScrubMsg, PgCommand, PgCommandReply, PgStatsReport } from '../protocol.js';
import { formatPgid, type PgStat } from './pg-stats.js';

export interface OsdConfig {
  /** Mean time between heartbeats to one peer (thesis §6.2.3: every 2 s). */
  readonly heartbeatIntervalMs: number;
  /** Each interval is drawn uniformly from mean × [1 − jitter, 1 + jitter] (semi-random, so pings do not synchronize). */
  readonly heartbeatJitter: number;
  /** A peer not heard from for this long is reported failed (Ceph's `osd_heartbeat_grace`, 20 s). */
  readonly heartbeatGraceMs: number;
  /**
   * Heartbeat at least this many peers (Ceph's `osd_heartbeat_min_peers`, 10): when the OSDs it
   * shares PGs with are fewer — a cluster with no pools yet, or a small one — the next up OSDs by
   * id (wrapping) are added, so every up OSD is watched by someone and a failed one is reported.
   */
  readonly heartbeatPeersMin: number;
  /** The OSD's timer period: heartbeats, failure checks and reports are due on these ticks. */
  readonly tickMs: number;
  /** Renew the monitor subscription (and fetch what it missed) this often; below the monitors' subscription TTL. */
  readonly subscribeRenewMs: number;
  /** A boot not answered is retried after this. */
  readonly bootRetryMs: number;
  /** How long one monitor has to answer a request before the next is tried (thesis: "a few seconds"). */
  readonly monitorTimeoutMs: number;
  /** Incrementals the OSD keeps to share with peers (its bounded map history). */
  readonly historyMax: number;
}

export const DEFAULT_OSD_CONFIG: OsdConfig = {
  heartbeatIntervalMs: 2_000,
  heartbeatJitter: 0.5,
  heartbeatGraceMs: 20_000,
  heartbeatPeersMin: 10,
  tickMs: 250,
  subscribeRenewMs: 5_000,
  bootRetryMs: 3_000,
  monitorTimeoutMs: 3_000,
  historyMax: 500,
};

/** OSD-internal and admin messages. */
export type OsdControlMsg =
  | { readonly type: 'rados.osd.tick' }
  | { readonly type: 'rados.osd.booted'; readonly ok: boolean; readonly share?: Share<OsdMap, OsdMapIncremental> }
  | { readonly type: 'rados.osd.fetched'; readonly share?: Share<OsdMap, OsdMapIncremental>; readonly monitor?: number }
  | { readonly type: 'rados.osd.reported' }
  /** The scrubber goes on with its next chunk (a turn of its own, so client ops run between chunks). */
  | { readonly type: 'rados.osd.scrubContinue' }
  /** → `OsdStatus`. */
  | { readonly type: 'rados.osd.status' }
  /** The incrementals after the map this OSD saved before it restarted (for its PGs' past intervals). */
  | { readonly type: 'rados.osd.pastMaps'; readonly incs: readonly OsdMapIncremental[] };

export type OsdMsg = OsdPing | MonitorPush<OsdMap, OsdMapIncremental> | OsdControlMsg | OsdDataMsg | DataPathSelfMsg | OsdScrubMsg | PgCommand;

export interface OsdStatus {
  readonly osd: number;
  readonly addr: string;
  readonly epoch: number;
  readonly self: SelfState;
  /** PG peers it heartbeats. */
  readonly peers: readonly number[];
  /** Peers it currently finds failed. */
  readonly failed: readonly number[];
  readonly boots: number;
  /** The PGs this OSD is primary of, with their state and statistics (empty without a store). */
  readonly pgs: readonly PgStat[];
  /** Every PG this OSD holds, in any role. */
  readonly held: readonly HeldPg[];
  readonly usedBytes: number;
  readonly stats: DataPathStats | undefined;
  /** Scrub totals (undefined without a store). */
  readonly scrub?: ScrubCounters;
}

export interface OsdOptions {
  readonly id: number;
  readonly monitors: readonly ActorRef<MonitorMsg>[];
  readonly config?: Partial<OsdConfig>;
  readonly osdmap?: Partial<OsdMapConfig>;
  /** The object store's disk and directory; without it the OSD keeps the map side only (no data path). */
  readonly storage?: {
    readonly disk: Disk;
    readonly dir: string;
    readonly defer?: Defer;
    readonly config?: Partial<ObjectStoreConfig>;
    readonly logConfig?: Partial<OpLogConfig>;
  };
  readonly dataPath?: Partial<DataPathConfig>;
  readonly scrub?: Partial<ScrubConfig>;
  readonly pgStats?: Partial<PgStatsConfig>;
  /** Test hook: every apply, commit, ack and commit-to-client of the data path. */
  readonly probe?: DataPathProbe;
  /** Test hook: the object store once opened (fault injection and inspection of the replicas). */
  readonly onStoreOpened?: (store: ObjectStore) => void;
}

/** An OSD's address in the map: its actor ref and an incarnation nonce (`id@node#nonce`). */
export function osdAddr(ref: ActorRef<unknown>, nonce: number): string {
  return `${refKey(ref)}#${nonce}`;
}

/** The actor ref in an OSD address, or undefined when it is not one. */
export function refOfAddr<M>(addr: string): ActorRef<M> | undefined {
  const hash = addr.lastIndexOf('#');
  const base = hash < 0 ? addr : addr.slice(0, hash);
  const at = base.lastIndexOf('@');
  if (at <= 0 || at === base.length - 1) return undefined;
  return makeRef<M>(base.slice(at + 1), base.slice(0, at));
}

export function radosOsd(o: OsdOptions): ActorFactory<OsdMsg> {
  return (ctx) => new Osd(ctx, o).behavior();
}

interface Peer {
  lastHeardMs: number;
  nextPingMs: number;
  failed: boolean;
}

class Osd {
  private readonly cfg: OsdConfig;
  private readonly mapCfg: OsdMapConfig;
  private readonly client: MonitorClient;
  private readonly addr: string;
  private map: OsdMap = emptyOsdMap();
  private history: OsdMapIncremental[] = [];
  private readonly peers = new Map<number, Peer>();
  private readonly batcher: FailureReportBatcher;
  private readonly peerEpochs: PeerEpochs<number>;
  private bootInFlight = false;
  private nextBootMs = 0;
  private fetchInFlight = false;
  private nextRenewMs = 0;
  private reportInFlight = false;
  private boots = 0;
  private subscribedTo = -1;
  private store: ObjectStore | undefined;
  private data: DataPath | undefined;
  private scrubber: Scrubber | undefined;
  private readonly heardMs = new Map<number, number>();
  private readonly pgStatsCfg: PgStatsConfig;
  private readonly reporter: PgStatReporter;
  private nextStatCheckMs = 0;

  constructor(
    private readonly ctx: ActorContext<OsdMsg>,
    private readonly o: OsdOptions,
  ) {
    this.cfg = { ...DEFAULT_OSD_CONFIG, ...o.config };
    this.mapCfg = { ...DEFAULT_OSDMAP_CONFIG, ...o.osdmap };
    this.batcher = new FailureReportBatcher(this.mapCfg);
    this.pgStatsCfg = { ...DEFAULT_PG_STATS_CONFIG, ...o.pgStats };
    this.reporter = new PgStatReporter(this.pgStatsCfg);
    this.peerEpochs = new PeerEpochs<number>(this.mapCfg.peerEpochsTrackedMax);
    this.addr = osdAddr(ctx.self, ctx.random.uint32());
    this.client = new MonitorClient({
      ask: (to, msg, opts) => ctx.ask(to, msg, opts),
      monitors: o.monitors,
      timeoutMs: this.cfg.monitorTimeoutMs,
      attemptsMax: o.monitors.length,
      preferred: o.id % o.monitors.length,
    });
  }

  behavior(): Behavior<OsdMsg> {
    return {
      preStart: async () => {
        if (this.o.storage !== undefined) await this.openStore(this.o.storage);
        this.ctx.timers.repeat('tick', this.cfg.tickMs, { type: 'rados.osd.tick' });
        this.onTick();
      },
      postStop: async () => {
        await this.store?.close();
      },
      receive: (m) => this.receive(m),
      invariants: () => {
        this.data?.invariants();
        this.scrubber?.invariants();
      },
    };
  }

  private async openStore(st: NonNullable<OsdOptions['storage']>): Promise<void> {
    const store = await ObjectStore.open(st.disk, {
      dir: st.dir,
      ...(st.config === undefined ? {} : { config: st.config }),
      ...(st.logConfig === undefined ? {} : { logConfig: st.logConfig }),
      ...(st.defer === undefined ? {} : { defer: st.defer }),
    });
    this.store = store;
    this.o.onStoreOpened?.(store);
    const cfg = { ...DEFAULT_DATA_PATH_CONFIG, ...this.o.dataPath };
    this.data = new DataPath({
      id: this.o.id,
      ctx: this.ctx as unknown as ActorContext<never>,
      store,
      cfg,
      probe: this.o.probe,
      map: () => this.map,
      bundleFor: (epoch) => mapBundleFor(this.history, this.map, epoch, this.mapCfg.incrementalsPerMessageMax),
      fetchMap: () => this.fetch(),
      fetchPastMaps: (epoch) => {
        const self = this.ctx.self;
        void this.client.read<OsdMap, OsdMapIncremental>(epoch).then((r: MonResult<ReadReply<OsdMap, OsdMapIncremental>>) => {
          const incs = r.ok && r.value.share !== undefined ? r.value.share.incs.map(([, inc]) => inc) : [];
          this.ctx.tell(self, { type: 'rados.osd.pastMaps', incs });
        });
      },
      sendOsd: (osd, msg) => this.sendOsd(osd, msg),
      sendSelf: (msg) => this.ctx.tell(this.ctx.self, msg),
      lastHeardMs: (osd) => this.heardMs.get(osd),
      scrubBlocks: (pool, ps, oid) => this.scrubber?.blocks(pool, ps, oid) ?? false,
    });
    const data = this.data;
    this.scrubber = new Scrubber({
      id: this.o.id,
      store,
      cfg: { ...DEFAULT_SCRUB_CONFIG, ...this.o.scrub },
      now: () => this.ctx.clock.now(),
      map: () => this.map,
      view: (pool, ps) => data.scrubView(pool, ps),
      released: (pool, ps) => data.scrubReleased(pool, ps),
      sendOsd: (osd, msg) => this.sendOsd(osd, msg),
      continueSoon: () => this.ctx.tell(this.ctx.self, { type: 'rados.osd.scrubContinue' }),
      warn: (message, fields) => this.ctx.log.warn(message, fields),
    });
  }

  /** To another OSD at the address the map has for it (dropped when the map has none). */
  private sendOsd(osd: number, msg: OsdMsg): void {
    const addr = this.map.osds[osd]?.addr;
    const to = addr === undefined ? undefined : refOfAddr<OsdMsg>(addr);
    if (to !== undefined) this.ctx.tell(to, msg);
  }

  /** The PGs this OSD is primary of, with the scrubber's flags and each state's start time. */
  private primaryPgStats(now: number): PgStat[] {
    if (this.data === undefined) return [];
    const scrubber = this.scrubber;
    const mine = this.data.pgStats(now).filter((s) => s.primary === this.o.id);
    return this.reporter.observe(scrubber === undefined ? mine : mine.map((s) => scrubber.decorate(s)), now);
  }

  /** G1: the report to every monitor, periodically and soon after a state change. */
  private reportPgStats(now: number): void {
    if (this.data === undefined || now < this.nextStatCheckMs || selfState(this.map, this.o.id, this.addr) !== 'up') return;
    this.nextStatCheckMs = now + this.pgStatsCfg.reportMinIntervalMs;
    const stats = this.primaryPgStats(now);
    if (!this.reporter.due(stats, now)) return;
    this.reporter.sentAt(stats, now);
    const msg: PgStatsReport = { type: 'rados.mon.pgStats', epoch: this.map.epoch, osd: this.o.id, stats };
    for (const mon of this.o.monitors) this.ctx.tell(mon as unknown as ActorRef<PgStatsReport>, msg);
  }

  private pgCommand(c: PgCommand): PgCommandReply {
    if (this.scrubber === undefined || this.data === undefined) return { ok: false, osd: this.o.id, epoch: this.map.epoch, code: 'pg_inactive', message: `osd.${this.o.id} has no object store` };
    const data = this.data;
    const statOf = (pool: number, ps: number): PgStat | undefined => {
      const s = data.pgStats(this.ctx.clock.now()).find((x) => x.pgid === formatPgid(pool, ps));
      return s === undefined ? undefined : this.reporter.stamped(s);
    };
    return this.scrubber.command(c, statOf);
  }

  private receive(m: OsdMsg): unknown {
    if (typeof m !== 'object' || m === null) return undefined;
    switch (m.type) {
      case 'rados.osd.op':
      case 'rados.osd.pgList':
        if (this.data === undefined) {
          this.ctx.tell(m.client, { type: 'rados.client.error', epoch: this.map.epoch, tid: m.tid, error: { code: 'pg_inactive', message: `osd.${this.o.id} has no object store` } });
          return undefined;
        }
        this.data.receive(m);
        return undefined;
      case 'rados.osd.repOp':
      case 'rados.osd.repData':
      case 'rados.osd.repApplied':
      case 'rados.osd.repCommitted':
      case 'rados.osd.repRefused':
      case 'rados.osd.pgQuery':
      case 'rados.osd.pgInfo':
      case 'rados.osd.pgActivate':
      case 'rados.osd.pgActivated':
      case 'rados.osd.pgPull':
      case 'rados.osd.pgPush':
      case 'rados.osd.pgPushReply':
      case 'rados.osd.pgRecoverNow':
        if (typeof m.from === 'number') this.heardMs.set(m.from, this.ctx.clock.now());
        this.data?.receive(m);
        return undefined;
      case 'rados.osd.localCommitted':
        this.data?.onLocalCommitted(m);
        return undefined;
      case 'rados.osd.activationCommitted':
        this.data?.onActivationCommitted(m);
        return undefined;
      case 'rados.osd.activateRetry':
        this.data?.onActivateRetry(m);
        return undefined;
      case 'rados.osd.scrubMapRequest':
      case 'rados.osd.scrubMapReply':
      case 'rados.osd.scrubPull':
      case 'rados.osd.scrubPulled':
      case 'rados.osd.scrubPush':
      case 'rados.osd.scrubPushed':
        if (typeof m.from === 'number') this.heardMs.set(m.from, this.ctx.clock.now());
        this.scrubber?.receive(m);
        return undefined;
      case 'rados.osd.scrubContinue':
        this.scrubber?.continue();
        return undefined;
      case 'rados.osd.pgCommand':
        return this.pgCommand(m);
      case 'rados.osd.recoveryTimeout':
        this.data?.onRecoveryTimeout(m);
        return undefined;
      case 'rados.osd.pastMaps':
        this.data?.onPastMaps(m.incs);
        return undefined;
      case 'rados.osd.tick':
        this.onTick();
        return undefined;
      case 'rados.mon.update':
        this.onShare(m.share as Share<OsdMap, OsdMapIncremental>);
        return undefined;
      case 'rados.osd.ping':
        this.onPing(m);
        return undefined;
      case 'rados.osd.booted':
        this.bootInFlight = false;
        if (m.share) this.onShare(m.share);
        return undefined;
      case 'rados.osd.fetched':
        this.fetchInFlight = false;
        if (m.share) this.onShare(m.share);
        if (m.monitor !== undefined && m.monitor !== this.subscribedTo) this.subscribe(m.monitor);
        return undefined;
      case 'rados.osd.reported':
        this.reportInFlight = false;
        return undefined;
      case 'rados.osd.status':
        return this.status();
      default:
        this.ctx.log.warn('osd: dropped an unknown message', { type: String((m as { type?: unknown }).type) });
        return undefined;
    }
  }

  private status(): OsdStatus {
    return {
      osd: this.o.id,
      addr: this.addr,
      epoch: this.map.epoch,
      self: selfState(this.map, this.o.id, this.addr),
      peers: [...this.peers.keys()].sort((a, b) => a - b),
      failed: [...this.peers].filter(([, p]) => p.failed).map(([id]) => id),
      boots: this.boots,
      pgs: (this.data?.pgStats(this.ctx.clock.now()) ?? []).map((st) => this.scrubber?.decorate(st) ?? st),
      held: this.data?.heldPgs() ?? [],
      usedBytes: this.store?.usedSpaceBytes ?? 0,
      stats: this.data?.stats(),
      ...(this.scrubber === undefined ? {} : { scrub: this.scrubber.counts() }),
    };
  }

  // ----- maps -----

  /** Applies committed versions from a monitor (R9: the epoch never decreases). */
  private onShare(share: Share<OsdMap, OsdMapIncremental>): void {
    let map = this.map;
    let history = this.history;
    if (share.snapshot !== undefined && share.snapshot.version > map.epoch) {
      const v = validateOsdMap(share.snapshot.state);
      if (!v.ok) {
        this.ctx.log.warn('osd: a monitor sent a malformed map', { error: v.error.message });
        return;
      }
      map = v.value;
      history = [];
    }
    const maps: OsdMap[] = map === this.map ? [] : [map];
    for (const [, inc] of share.incs) {
      if (inc.epoch <= map.epoch) continue;
      const r = applyIncremental(map, inc);
      if (!r.ok) {
        // A gap: fetch what is missing from a monitor.
        this.fetch();
        break;
      }
      map = r.value;
      maps.push(map);
      history = appendHistory(history, inc, this.cfg.historyMax);
    }
    this.setMap(map, history, maps);
  }

  private onBundle(bundle: MapBundle): void {
    if (bundle.kind === 'none') return;
    const r = applyBundle(this.map, bundle);
    if (!r.ok) {
      this.fetch();
      return;
    }
    if (r.value.epoch <= this.map.epoch) return;
    let history = this.history;
    const maps: OsdMap[] = [];
    if (bundle.kind === 'incrementals') {
      // Every intermediate map, for the PGs' past intervals (thesis §6.3.5.1).
      let m = this.map;
      for (const inc of bundle.incrementals) {
        if (inc.epoch <= m.epoch) continue;
        const step = applyIncremental(m, inc);
        if (!step.ok) break;
        m = step.value;
        maps.push(m);
        history = appendHistory(history, inc, this.cfg.historyMax);
      }
    } else {
      history = [];
    }
    if (maps[maps.length - 1] !== r.value) maps.push(r.value);
    this.setMap(r.value, history, maps);
  }

  private setMap(map: OsdMap, history: OsdMapIncremental[], maps: readonly OsdMap[]): void {
    if (map.epoch <= this.map.epoch) return;
    this.map = map;
    this.history = history;
    this.batcher.onMap(map);
    this.updatePeers();
    this.checkSelf();
    this.data?.onMaps(maps);
    this.scrubber?.onMap();
  }

  /**
   * Heartbeat peers: the other OSDs of every PG whose CRUSH placement includes this one and that
   * the map has up, topped up to `heartbeatPeersMin` with the next up OSDs by id.
   */
  private updatePeers(): void {
    const now = this.ctx.clock.now();
    const want = new Set<number>();
    for (const pool of this.map.pools) {
      for (const m of poolMappings(this.map, pool.id)) {
        if (!m.raw.includes(this.o.id)) continue;
        for (const osd of m.raw) if (osd !== this.o.id && (this.map.osds[osd]?.up ?? false)) want.add(osd);
      }
    }
    const n = this.map.osds.length;
    for (let k = 1; k < n && want.size < this.cfg.heartbeatPeersMin; k++) {
      const id = (this.o.id + k) % n;
      if (this.map.osds[id]?.up ?? false) want.add(id);
    }
    for (const id of [...this.peers.keys()]) {
      if (!want.has(id)) {
        this.peers.delete(id);
        this.peerEpochs.forget(id);
      }
    }
    for (const id of want) {
      const p = this.peers.get(id);
      const upFromChanged = p !== undefined && p.failed && this.map.osds[id]?.upFrom === this.map.epoch;
      if (p === undefined || upFromChanged) this.peers.set(id, { lastHeardMs: now, nextPingMs: now, failed: false });
    }
  }

  private checkSelf(): void {
    if (this.map.epoch > 0 && selfState(this.map, this.o.id, this.addr) === 'marked_down' && this.boots > 0) {
      this.ctx.log.info('osd: the map has me down while I am alive; asking to be marked up', { osd: this.o.id, epoch: this.map.epoch });
      this.nextBootMs = 0;
    }
  }

  // ----- timer -----

  private onTick(): void {
    const now = this.ctx.clock.now();
    if (selfState(this.map, this.o.id, this.addr) !== 'up' && !this.bootInFlight && now >= this.nextBootMs) this.boot(now);
    if (now >= this.nextRenewMs) {
      this.nextRenewMs = now + this.cfg.subscribeRenewMs;
      this.fetch();
    }
    this.heartbeat(now);
    this.detectFailures(now);
    this.scrubber?.tick();
    this.reportPgStats(now);
    if (!this.reportInFlight) {
      const rep = this.batcher.take(this.o.id, this.map.epoch, now);
      if (rep !== null) this.report(rep);
    }
  }

  private boot(now: number): void {
    this.bootInFlight = true;
    this.nextBootMs = now + this.cfg.bootRetryMs;
    this.boots++;
    const since = this.map.epoch;
    const self = this.ctx.self;
    void (async () => {
      const r = await this.client.submit({ type: 'rados.mon.osdBoot', osd: this.o.id, addr: this.addr, epoch: since });
      // Committed, or already up at this address: fetch the incrementals this OSD lacks.
      const booted = r.ok || r.error.serviceCode === 'no_change';
      if (!booted) this.ctx.log.warn('osd: boot failed', { osd: this.o.id, error: r.error.message });
      const read = booted ? await this.client.read<OsdMap, OsdMapIncremental>(since) : undefined;
      this.ctx.tell(self, { type: 'rados.osd.booted', ok: booted, ...(read?.ok === true && read.value.share !== undefined ? { share: read.value.share } : {}) });
    })();
  }

  /** Fetches the versions after this OSD's epoch from any monitor, then subscribes to the one that answered. */
  private fetch(): void {
    if (this.fetchInFlight) return;
    this.fetchInFlight = true;
    const self = this.ctx.self;
    void this.client.read<OsdMap, OsdMapIncremental>(this.map.epoch).then((r: MonResult<ReadReply<OsdMap, OsdMapIncremental>>) => {
      const monitor = this.client.lastMonitor;
      this.ctx.tell(self, { type: 'rados.osd.fetched', ...(r.ok && r.value.share !== undefined ? { share: r.value.share } : {}), ...(r.ok && monitor !== undefined ? { monitor } : {}) });
    });
  }

  private subscribe(rank: number): void {
    const to = this.o.monitors[rank];
    if (to === undefined) return;
    this.subscribedTo = rank;
    // Renewed on every fetch; a lost subscribe is repaired by the next one.
    this.ctx.tell(to, { type: 'rados.mon.subscribe', subscriber: this.ctx.self as ActorRef<MonitorPush>, since: this.map.epoch });
  }

  private report(rep: OsdFailureReport): void {
    this.reportInFlight = true;
    const self = this.ctx.self;
    void this.client.submit(rep).then(() => this.ctx.tell(self, { type: 'rados.osd.reported' }));
  }

  // ----- heartbeats and lazy sharing -----

  private heartbeat(now: number): void {
    for (const [id, p] of this.peers) {
      if (now < p.nextPingMs) continue;
      const j = this.cfg.heartbeatJitter;
      p.nextPingMs = now + this.cfg.heartbeatIntervalMs * (1 - j + 2 * j * this.ctx.random.next());
      const plan = this.peerEpochs.onSend(id, this.map.epoch);
      const share: MapBundle =
        plan.kind === 'none'
          ? { kind: 'none' }
          : plan.kind === 'since'
            ? mapBundleFor(this.history, this.map, plan.since, this.mapCfg.incrementalsPerMessageMax)
            : { kind: 'incrementals', incrementals: recentHistory(this.history, now, this.mapCfg) };
      this.ping(id, share);
    }
  }

  private ping(id: number, share: MapBundle): void {
    const addr = this.map.osds[id]?.addr;
    const to = addr === undefined ? undefined : refOfAddr<OsdMsg>(addr);
    if (to === undefined) return;
    const msg: OsdPing = { type: 'rados.osd.ping', epoch: this.map.epoch, from: this.o.id, share };
    this.ctx.tell(to, msg);
  }

  private onPing(m: OsdPing): void {
    if (typeof m.from !== 'number' || typeof m.epoch !== 'number') return;
    const now = this.ctx.clock.now();
    if (m.share !== undefined) this.onBundle(m.share);
    // Still behind the sender after its share (it did not know this OSD's epoch well enough): ask a monitor.
    if (m.epoch > this.map.epoch) this.fetch();
    this.heardMs.set(m.from, now);
    const p = this.peers.get(m.from);
    if (p !== undefined) {
      p.lastHeardMs = now;
      if (p.failed) {
        p.failed = false;
        this.batcher.peerAlive(m.from);
      }
    }
    const plan = this.peerEpochs.onReceive(m.from, m.epoch, this.map.epoch);
    if (plan.kind === 'since') this.ping(m.from, mapBundleFor(this.history, this.map, plan.since, this.mapCfg.incrementalsPerMessageMax));
  }

  private detectFailures(now: number): void {
    for (const [id, p] of this.peers) {
      if (p.failed || now - p.lastHeardMs <= this.cfg.heartbeatGraceMs) continue;
      p.failed = true;
      this.ctx.log.info('osd: peer missed heartbeats past the grace', { osd: this.o.id, peer: id });
      this.batcher.peerFailed(id, p.lastHeardMs);
    }
  }
}
