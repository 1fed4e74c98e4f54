/**
 * The OSD's scrubber (README "Scrubbing", invariants S1–S7; post-thesis, as Ceph): schedules light
 * and deep scrubs of the PGs this OSD is primary of, runs them a chunk of object names at a time
 * against every acting member, records what `scrub.ts` finds, and repairs from the authoritative
 * copy on `pg repair` or when `autoRepair` is set. It also answers the members' side of the
 * protocol (scrub maps, pulls and pushes).
 *
 * A chunk holds writes to its names only (S1): the primary stops taking updates of those objects,
 * waits until none is in flight unapplied here, notes its log head, and asks the members for their
 * maps once they applied up to it, so every member describes the same history of those objects.
 * Writes to other names go on; held writes wait in the PG's queue and run when the chunk ends.
 *
 * Runs inside the OSD actor's turns; no awaits. Time comes from the host.
 */
import { decode } from '@msgpack/msgpack';
import type { ObjectStore, TransactionOp } from '../../../storage/object-store.js';
import type { ScrubConfig } from '../config.js';
import { pgMapping } from '../osdmap/mapping.js';
import type { OsdMap } from '../osdmap/osd-map.js';
import type { OsdScrubMsg, PgCommand, PgCommandReply, ScrubCopy, ScrubMapReply, ScrubMapRequest, ScrubPull, ScrubPulled, ScrubPush, ScrubPushed } from '../protocol.js';
import { RESERVED_OID_PREFIX, VERSION_ATTR } from './object-ops.js';
import { compareVersions, formatVersion, type Eversion } from './pg-log.js';
import { formatPgState, formatPgid, parsePgState, parsePgid, type PgStat, type PgStateFlag } from './pg-stats.js';
import { compareScrubMaps, scrubEntry, scrubErrorCount, type ObjectInconsistency, type ScrubErrorKind, type ScrubMap } from './scrub.js';

/** Running totals for /metrics (through `rados.osd.status`). */
export interface ScrubCounters {
  readonly scrubsCompleted: number;
  readonly deepScrubsCompleted: number;
  readonly scrubsAborted: number;
  /** Bad copies found (one per member and object). */
  readonly errorsFound: number;
  readonly objectsRepaired: number;
  readonly bytesScrubbed: number;
}

export interface ScrubberHost {
  readonly id: number;
  readonly store: ObjectStore;
  readonly cfg: ScrubConfig;
  now(): number;
  map(): OsdMap;
  /** The data path's view of a PG (`DataPath.scrubView`). */
  view(pool: number, ps: number): { active: boolean; acting: readonly number[]; head: Eversion; lastUpdate: Eversion; unapplied: ReadonlySet<string> } | undefined;
  /** Writes held for a chunk may run now (`DataPath.scrubReleased`). */
  released(pool: number, ps: number): void;
  sendOsd(osd: number, msg: OsdScrubMsg): void;
  /** Continue in a later turn (a message to itself), so client ops get their turns between chunks. */
  continueSoon(): void;
  warn(message: string, fields: Record<string, unknown>): void;
}

interface PgScrubState {
  /** When this OSD first saw the PG: scheduled scrubs count from here until the first one (0 stamps = never scrubbed). */
  readonly firstSeenMs: number;
  lastScrubMs: number;
  lastDeepScrubMs: number;
  /** Not before this (after an abandoned scrub). */
  nextTryMs: number;
  requested: { deep: boolean; repair: boolean } | undefined;
  inconsistent: ObjectInconsistency[];
}

interface Running {
  readonly id: number;
  readonly pool: number;
  readonly ps: number;
  readonly acting: readonly number[];
  readonly deep: boolean;
  readonly repair: boolean;
  cursor: string;
  chunk: number;
  phase: 'waiting' | 'maps' | 'pull' | 'push';
  range: { readonly after: string; readonly upto: string | undefined } | undefined;
  deadlineMs: number;
  version: Eversion | undefined;
  readonly maps: Map<number, ScrubMap>;
  readonly waiting: Set<number>;
  found: ObjectInconsistency[];
  chunkFound: ObjectInconsistency[];
  copies: Map<string, ScrubCopy>;
}

interface PendingRequest {
  readonly m: ScrubMapRequest;
  readonly untilMs: number;
}

const key = (pool: number, ps: number): string => `${pool}.${ps}`;
const DEEP_KINDS: ReadonlySet<ScrubErrorKind> = new Set(['data_digest_mismatch', 'stored_digest_mismatch']);
const SCHEDULE_EVERY_MS = 1_000;

export class Scrubber {
  private readonly pgs = new Map<string, PgScrubState>();
  private readonly running = new Map<string, Running>();
  private pending: PendingRequest[] = [];
  private seq = 0;
  private nextScheduleMs = 0;
  private readonly counters = { scrubsCompleted: 0, deepScrubsCompleted: 0, scrubsAborted: 0, errorsFound: 0, objectsRepaired: 0, bytesScrubbed: 0 };

  constructor(private readonly h: ScrubberHost) {}

  counts(): ScrubCounters {
    return { ...this.counters };
  }

  /** S1: whether a chunk in progress holds writes to `oid` of the PG. */
  blocks(pool: number, ps: number, oid: string): boolean {
    const r = this.running.get(key(pool, ps));
    const range = r?.range;
    return range !== undefined && oid > range.after && (range.upto === undefined || oid <= range.upto);
  }

  /** The scrub flags and fields of a PG's stat (`scrubbing`, `deep`, `repair`, `inconsistent`; S6). */
  decorate(stat: PgStat): PgStat {
    const id = parsePgid(stat.pgid);
    if (id === undefined) return stat;
    const st = this.pgs.get(key(id.pool, id.ps));
    const r = this.running.get(key(id.pool, id.ps));
    const flags: PgStateFlag[] = [];
    if (r !== undefined) {
      flags.push('scrubbing');
      if (r.deep) flags.push('deep');
      if (r.repair) flags.push('repair');
    }
    if ((st?.inconsistent.length ?? 0) > 0) flags.push('inconsistent');
    return {
      ...stat,
      state: flags.length === 0 ? stat.state : formatPgState([...(parsePgState(stat.state) ?? []), ...flags]),
      lastScrubMs: Math.max(stat.lastScrubMs, st?.lastScrubMs ?? 0),
      lastDeepScrubMs: Math.max(stat.lastDeepScrubMs, st?.lastDeepScrubMs ?? 0),
      inconsistentObjects: st?.inconsistent.length ?? 0,
    };
  }

  /** What `pg query` shows of the scrubber for one PG. */
  describe(pool: number, ps: number): { state: 'idle' | 'queued' | 'scrubbing'; deep: boolean; repair: boolean; errors: number; inconsistent: readonly ObjectInconsistency[] } {
    const st = this.pgs.get(key(pool, ps));
    const r = this.running.get(key(pool, ps));
    const inconsistent = st?.inconsistent ?? [];
    const base = { errors: scrubErrorCount(inconsistent), inconsistent };
    if (r !== undefined) return { state: 'scrubbing', deep: r.deep, repair: r.repair, ...base };
    if (st?.requested !== undefined) return { state: 'queued', deep: st.requested.deep, repair: st.requested.repair, ...base };
    return { state: 'idle', deep: false, repair: false, ...base };
  }

  // ----- scheduling -----

  private state(pool: number, ps: number): PgScrubState {
    const k = key(pool, ps);
    let st = this.pgs.get(k);
    if (st === undefined) {
      // Scheduled scrubs count from when each PG appeared here, so a new cluster does not scrub everything at once.
      st = { firstSeenMs: this.h.now(), lastScrubMs: 0, lastDeepScrubMs: 0, nextTryMs: 0, requested: undefined, inconsistent: [] };
      this.pgs.set(k, st);
    }
    return st;
  }

  /** `troupe ceph pg scrub|deep-scrub|repair|query PGID` at this OSD. */
  command(c: PgCommand, statOf: (pool: number, ps: number) => PgStat | undefined): PgCommandReply {
    const map = this.h.map();
    const base = { osd: this.h.id, epoch: map.epoch };
    const id = typeof c.pgid === 'string' ? parsePgid(c.pgid) : undefined;
    const pool = id === undefined ? undefined : map.pools.find((p) => p.id === id.pool);
    if (id === undefined || pool === undefined || id.ps >= pool.pgNum) return { ok: false, ...base, code: 'unknown_pg', message: `no PG ${String(c.pgid)} at epoch ${map.epoch}` };
    const pgid = formatPgid(id.pool, id.ps);
    const primary = pgMapping(map, id.pool, id.ps)?.acting[0] ?? -1;
    if (primary !== this.h.id) return { ok: false, ...base, code: 'not_primary', message: `osd.${this.h.id} is not the primary of pg ${pgid} at epoch ${map.epoch} (osd.${primary} is)` };
    if (c.command === 'query') {
      const stat = statOf(id.pool, id.ps);
      if (stat === undefined) return { ok: false, ...base, code: 'pg_inactive', message: `osd.${this.h.id} holds no copy of pg ${pgid} yet` };
      return { ok: true, ...base, message: `pg ${pgid}`, query: { stat: this.decorate(stat), scrub: this.describe(id.pool, id.ps) } };
    }
    const st = this.state(id.pool, id.ps);
    if (st.requested === undefined && [...this.pgs.values()].filter((s) => s.requested !== undefined).length >= this.h.cfg.queuedMax) {
      return { ok: false, ...base, code: 'busy', message: `osd.${this.h.id} already has ${this.h.cfg.queuedMax} scrubs queued; try again later` };
    }
    const deep = c.command !== 'scrub';
    const repair = c.command === 'repair';
    st.requested = { deep: deep || (st.requested?.deep ?? false), repair: repair || (st.requested?.repair ?? false) };
    this.nextScheduleMs = 0;
    return { ok: true, ...base, message: `pg ${pgid}: ${c.command} queued on osd.${this.h.id}` };
  }

  /** The OSD's tick: time out chunks, answer members that caught up, start due scrubs. */
  tick(): void {
    const now = this.h.now();
    for (const r of [...this.running.values()]) {
      if (now > r.deadlineMs) this.abort(r, 'the chunk timed out');
      else if (r.phase === 'waiting') this.tryChunk(r);
    }
    this.retryPending(now);
    if (now >= this.nextScheduleMs) {
      this.nextScheduleMs = now + SCHEDULE_EVERY_MS;
      this.schedule(now);
    }
  }

  /** A chunk boundary: the next chunk of every scrub waiting to go on. */
  continue(): void {
    for (const r of [...this.running.values()]) if (r.phase === 'waiting') this.tryChunk(r);
  }

  /** After a new map: scrubs of PGs whose interval changed, or that this OSD no longer leads, stop (S5). */
  onMap(): void {
    for (const r of [...this.running.values()]) {
      const v = this.h.view(r.pool, r.ps);
      if (v === undefined || !v.active || v.acting.join() !== r.acting.join()) this.abort(r, 'the acting set changed');
    }
  }

  private schedule(now: number): void {
    const map = this.h.map();
    const due: { pool: number; ps: number; deep: boolean; repair: boolean; order: number }[] = [];
    for (const pool of map.pools) {
      for (let ps = 0; ps < pool.pgNum; ps++) {
        if (this.running.has(key(pool.id, ps))) continue;
        if (pgMapping(map, pool.id, ps)?.acting[0] !== this.h.id) continue;
        const v = this.h.view(pool.id, ps);
        if (v === undefined || !v.active) continue;
        const st = this.state(pool.id, ps);
        if (st.requested !== undefined) {
          due.push({ pool: pool.id, ps, ...st.requested, order: 0 });
          continue;
        }
        if (now < st.nextTryMs) continue;
        const { deepScrubIntervalMs: deepMs, scrubIntervalMs: lightMs } = this.h.cfg;
        const lastDeep = Math.max(st.lastDeepScrubMs, st.firstSeenMs);
        const lastLight = Math.max(st.lastScrubMs, st.firstSeenMs);
        if (deepMs > 0 && now - lastDeep >= deepMs) due.push({ pool: pool.id, ps, deep: true, repair: false, order: lastDeep });
        else if (lightMs > 0 && now - lastLight >= lightMs) due.push({ pool: pool.id, ps, deep: false, repair: false, order: lastLight });
      }
    }
    due.sort((a, b) => a.order - b.order);
    for (const d of due) {
      if (this.running.size >= this.h.cfg.concurrentMax) return;
      this.start(d.pool, d.ps, d.deep, d.repair);
    }
  }

  private start(pool: number, ps: number, deep: boolean, repair: boolean): void {
    const v = this.h.view(pool, ps);
    if (v === undefined) return;
    const r: Running = {
      id: ++this.seq,
      pool,
      ps,
      acting: v.acting,
      deep,
      repair,
      cursor: '',
      chunk: 0,
      phase: 'waiting',
      range: undefined,
      deadlineMs: this.h.now() + this.h.cfg.chunkTimeoutMs,
      version: undefined,
      maps: new Map(),
      waiting: new Set(),
      found: [],
      chunkFound: [],
      copies: new Map(),
    };
    this.running.set(key(pool, ps), r);
    this.tryChunk(r);
  }

  // ----- one chunk at the primary -----

  private cid(r: { pool: number; ps: number }): string {
    return `pg.${r.pool}.${r.ps}`;
  }

  private tryChunk(r: Running): void {
    const v = this.h.view(r.pool, r.ps);
    if (v === undefined || !v.active || v.acting.join() !== r.acting.join() || v.acting[0] !== this.h.id) return this.abort(r, 'the PG is not active here in the same interval');
    if (r.range === undefined) {
      const names = this.names(this.cid(r), r.cursor, undefined);
      const take: string[] = [];
      let bytes = 0;
      for (const oid of names) {
        if (take.length >= this.h.cfg.chunkObjectsMax) break;
        const size = this.h.store.stat(this.cid(r), oid)?.sizeBytes ?? 0;
        if (r.deep && take.length > 0 && bytes + size > this.h.cfg.chunkBytesMax) break;
        take.push(oid);
        bytes += size;
      }
      const upto = take.length < names.length ? take[take.length - 1] : undefined;
      r.range = { after: r.cursor, upto };
      r.deadlineMs = this.h.now() + this.h.cfg.chunkTimeoutMs;
    }
    const range = r.range;
    // S1: updates of the chunk's objects still in flight here must land first (new ones are held from now on).
    for (const oid of v.unapplied) if (oid > range.after && (range.upto === undefined || oid <= range.upto)) return;
    r.version = v.head;
    r.phase = 'maps';
    r.maps.clear();
    r.waiting.clear();
    r.maps.set(this.h.id, this.buildMap(this.cid(r), range.after, range.upto, r.deep));
    const map = this.h.map();
    for (const o of r.acting) {
      if (o === this.h.id) continue;
      r.waiting.add(o);
      this.h.sendOsd(o, { type: 'rados.osd.scrubMapRequest', epoch: map.epoch, from: this.h.id, pool: r.pool, ps: r.ps, acting: r.acting, scrub: r.id, chunk: r.chunk, after: range.after, ...(range.upto === undefined ? {} : { upto: range.upto }), deep: r.deep, version: v.head });
    }
    if (r.waiting.size === 0) this.compare(r);
  }

  private names(cid: string, after: string, upto: string | undefined): string[] {
    const s = this.h.store;
    if (!s.hasCollection(cid)) return [];
    return s.listObjects(cid).filter((o) => !o.startsWith(RESERVED_OID_PREFIX) && o > after && (upto === undefined || o <= upto));
  }

  private buildMap(cid: string, after: string, upto: string | undefined, deep: boolean): ScrubMap {
    const s = this.h.store;
    const objects = this.names(cid, after, upto).map((oid) => {
      const attrs = s.getAttrs(cid, oid);
      const va = attrs.get(VERSION_ATTR);
      const version = va === undefined ? '' : formatVersion(decode(va) as Eversion);
      const size = s.stat(cid, oid)?.sizeBytes ?? 0;
      if (deep) this.counters.bytesScrubbed += size;
      return scrubEntry(oid, size, version, attrs, deep ? s.read(cid, oid) : undefined);
    });
    return { osd: this.h.id, objects };
  }

  private onMapReply(m: ScrubMapReply): void {
    const r = this.running.get(key(m.pool, m.ps));
    if (r === undefined || r.id !== m.scrub || r.chunk !== m.chunk || r.phase !== 'maps' || !r.waiting.has(m.from)) return;
    if (m.map === undefined) return this.abort(r, `osd.${m.from} could not answer: ${m.error ?? 'no map'}`);
    r.waiting.delete(m.from);
    r.maps.set(m.from, { osd: m.from, objects: m.map.objects });
    if (r.waiting.size === 0) this.compare(r);
  }

  private compare(r: Running): void {
    const found = compareScrubMaps([...r.maps.values()], this.h.id, r.deep);
    r.chunkFound = found;
    this.counters.errorsFound += scrubErrorCount(found);
    if (found.length > 0) {
      this.h.warn('osd: scrub found inconsistent objects', { osd: this.h.id, pg: formatPgid(r.pool, r.ps), deep: r.deep, objects: found.map((f) => f.oid).slice(0, 10) });
    }
    if (found.length === 0 || !(r.repair || this.h.cfg.autoRepair)) {
      r.found.push(...found);
      return this.finishChunk(r);
    }
    this.repair(r);
  }

  // ----- repair (S3, S4) -----

  private repair(r: Running): void {
    r.copies = new Map();
    r.phase = 'pull';
    r.waiting.clear();
    const byAuth = new Map<number, string[]>();
    for (const f of r.chunkFound) {
      if (f.authoritative === this.h.id) {
        r.copies.set(f.oid, this.copyOf(this.cid(r), f.oid));
        continue;
      }
      const list = byAuth.get(f.authoritative) ?? [];
      list.push(f.oid);
      byAuth.set(f.authoritative, list);
    }
    const epoch = this.h.map().epoch;
    for (const [osd, oids] of byAuth) {
      r.waiting.add(osd);
      this.h.sendOsd(osd, { type: 'rados.osd.scrubPull', epoch, from: this.h.id, pool: r.pool, ps: r.ps, acting: r.acting, scrub: r.id, chunk: r.chunk, oids });
    }
    if (r.waiting.size === 0) this.push(r);
  }

  private copyOf(cid: string, oid: string): ScrubCopy {
    const s = this.h.store;
    if (!s.hasCollection(cid) || s.stat(cid, oid) === undefined) return { oid };
    return { oid, data: s.read(cid, oid), attrs: [...s.getAttrs(cid, oid)] };
  }

  private onPulled(m: ScrubPulled): void {
    const r = this.running.get(key(m.pool, m.ps));
    if (r === undefined || r.id !== m.scrub || r.chunk !== m.chunk || r.phase !== 'pull' || !r.waiting.has(m.from)) return;
    r.waiting.delete(m.from);
    for (const c of m.copies) r.copies.set(c.oid, c);
    if (r.waiting.size === 0) this.push(r);
  }

  private push(r: Running): void {
    r.phase = 'push';
    r.waiting.clear();
    const byOsd = new Map<number, ScrubCopy[]>();
    for (const f of r.chunkFound) {
      const copy = r.copies.get(f.oid);
      if (copy === undefined) return this.abort(r, `no authoritative copy of ${f.oid} arrived`);
      for (const b of f.bad) {
        const list = byOsd.get(b.osd) ?? [];
        list.push(copy);
        byOsd.set(b.osd, list);
      }
    }
    const mine = byOsd.get(this.h.id);
    if (mine !== undefined) {
      const err = this.install(this.cid(r), mine);
      if (err !== undefined) return this.abort(r, `could not repair this OSD's copies: ${err}`);
      byOsd.delete(this.h.id);
    }
    const epoch = this.h.map().epoch;
    for (const [osd, copies] of byOsd) {
      r.waiting.add(osd);
      this.h.sendOsd(osd, { type: 'rados.osd.scrubPush', epoch, from: this.h.id, pool: r.pool, ps: r.ps, acting: r.acting, scrub: r.id, chunk: r.chunk, copies });
    }
    if (r.waiting.size === 0) this.repaired(r);
  }

  private onPushed(m: ScrubPushed): void {
    const r = this.running.get(key(m.pool, m.ps));
    if (r === undefined || r.id !== m.scrub || r.chunk !== m.chunk || r.phase !== 'push' || !r.waiting.has(m.from)) return;
    if (!m.ok) return this.abort(r, `osd.${m.from} could not install the repair: ${m.error ?? 'refused'}`);
    r.waiting.delete(m.from);
    if (r.waiting.size === 0) this.repaired(r);
  }

  private repaired(r: Running): void {
    this.counters.objectsRepaired += r.chunkFound.length;
    this.h.warn('osd: scrub repaired inconsistent objects', { osd: this.h.id, pg: formatPgid(r.pool, r.ps), objects: r.chunkFound.length });
    r.chunkFound = [];
    this.finishChunk(r);
  }

  /** Replaces the copies of `copies` in the collection with them, in one store transaction (S4). */
  private install(cid: string, copies: readonly ScrubCopy[]): string | undefined {
    const s = this.h.store;
    if (!s.hasCollection(cid)) return `no collection ${cid}`;
    const ops: TransactionOp[] = [];
    for (const c of copies) {
      if (s.stat(cid, c.oid) !== undefined) ops.push({ op: 'remove', cid, oid: c.oid });
      if (c.data === undefined) continue;
      ops.push({ op: 'touch', cid, oid: c.oid });
      if (c.data.length > 0) ops.push({ op: 'write', cid, oid: c.oid, offsetBytes: 0, data: c.data });
      for (const [name, value] of c.attrs ?? []) ops.push({ op: 'setAttr', cid, oid: c.oid, name, value });
    }
    if (ops.length === 0) return undefined;
    const res = s.applyNow({ ops });
    return res.ok ? undefined : String(res.error);
  }

  // ----- end of a chunk, of a scrub -----

  private finishChunk(r: Running): void {
    const upto = r.range?.upto;
    r.range = undefined;
    r.maps.clear();
    r.waiting.clear();
    r.copies = new Map();
    this.h.released(r.pool, r.ps);
    if (upto === undefined) return this.complete(r);
    r.cursor = upto;
    r.chunk++;
    r.phase = 'waiting';
    r.deadlineMs = this.h.now() + this.h.cfg.chunkTimeoutMs;
    this.h.continueSoon();
  }

  private complete(r: Running): void {
    this.running.delete(key(r.pool, r.ps));
    const st = this.state(r.pool, r.ps);
    const now = this.h.now();
    st.lastScrubMs = now;
    if (r.deep) st.lastDeepScrubMs = now;
    st.requested = undefined;
    st.nextTryMs = 0;
    // A light scrub cannot see data errors: those a deep scrub found stay until a deep scrub (or repair) clears them.
    const kept = r.deep ? [] : st.inconsistent.filter((f) => f.bad.some((b) => b.errors.some((e) => DEEP_KINDS.has(e))) && !r.found.some((x) => x.oid === f.oid));
    st.inconsistent = [...r.found, ...kept].slice(0, this.h.cfg.inconsistentKeptMax);
    this.counters.scrubsCompleted++;
    if (r.deep) this.counters.deepScrubsCompleted++;
  }

  private abort(r: Running, why: string): void {
    this.running.delete(key(r.pool, r.ps));
    if (r.range !== undefined) {
      r.range = undefined;
      this.h.released(r.pool, r.ps);
    }
    this.counters.scrubsAborted++;
    this.state(r.pool, r.ps).nextTryMs = this.h.now() + this.h.cfg.retryAfterMs;
    this.h.warn('osd: scrub abandoned', { osd: this.h.id, pg: formatPgid(r.pool, r.ps), why });
  }

  // ----- the members' side -----

  private memberCheck(m: { pool: number; ps: number; acting: readonly number[] }): string | undefined {
    const v = this.h.view(m.pool, m.ps);
    if (v === undefined) return `osd.${this.h.id} holds no copy of the PG`;
    if (!v.active || v.acting.join() !== m.acting.join()) return `osd.${this.h.id} is not active in that interval of the PG`;
    return undefined;
  }

  private onMapRequest(m: ScrubMapRequest, untilMs: number): void {
    const reply = (body: Pick<ScrubMapReply, 'map' | 'error'>): void => {
      this.h.sendOsd(m.from, { type: 'rados.osd.scrubMapReply', epoch: this.h.map().epoch, from: this.h.id, pool: m.pool, ps: m.ps, acting: m.acting, scrub: m.scrub, chunk: m.chunk, ...body });
    };
    const bad = this.memberCheck(m);
    if (bad !== undefined) return reply({ error: bad });
    const v = this.h.view(m.pool, m.ps);
    if (v !== undefined && compareVersions(v.lastUpdate, m.version) < 0) {
      // S2: not yet at the primary's version: hold the request (bounded) until the updates land.
      if (this.pending.length >= this.h.cfg.pendingRequestsMax) return reply({ error: `osd.${this.h.id} holds ${this.pending.length} scrub requests already` });
      this.pending.push({ m, untilMs });
      return;
    }
    reply({ map: this.buildMap(this.cid(m), m.after, m.upto, m.deep) });
  }

  private retryPending(now: number): void {
    const waiting = this.pending;
    this.pending = [];
    for (const p of waiting) if (now <= p.untilMs) this.onMapRequest(p.m, p.untilMs);
  }

  private onPull(m: ScrubPull): void {
    if (this.memberCheck(m) !== undefined) return;
    const cid = this.cid(m);
    const msg: ScrubPulled = { type: 'rados.osd.scrubPulled', epoch: this.h.map().epoch, from: this.h.id, pool: m.pool, ps: m.ps, acting: m.acting, scrub: m.scrub, chunk: m.chunk, copies: m.oids.map((oid) => this.copyOf(cid, oid)) };
    this.h.sendOsd(m.from, msg);
  }

  private onPush(m: ScrubPush): void {
    const bad = this.memberCheck(m);
    const err = bad ?? this.install(this.cid(m), m.copies);
    const msg: ScrubPushed = { type: 'rados.osd.scrubPushed', epoch: this.h.map().epoch, from: this.h.id, pool: m.pool, ps: m.ps, acting: m.acting, scrub: m.scrub, chunk: m.chunk, ok: err === undefined, ...(err === undefined ? {} : { error: err }) };
    this.h.sendOsd(m.from, msg);
  }

  receive(m: OsdScrubMsg): void {
    switch (m.type) {
      case 'rados.osd.scrubMapRequest':
        this.onMapRequest(m, this.h.now() + this.h.cfg.chunkTimeoutMs);
        return;
      case 'rados.osd.scrubMapReply':
        this.onMapReply(m);
        return;
      case 'rados.osd.scrubPull':
        this.onPull(m);
        return;
      case 'rados.osd.scrubPulled':
        this.onPulled(m);
        return;
      case 'rados.osd.scrubPush':
        this.onPush(m);
        return;
      case 'rados.osd.scrubPushed':
        this.onPushed(m);
        return;
      default: {
        const never: never = m;
        this.h.warn('osd: dropped an unknown scrub message', { type: String((never as { type?: unknown }).type) });
      }
    }
  }

  /** S7: every table is bounded. */
  invariants(): void {
    if (this.running.size > this.h.cfg.concurrentMax) throw new Error(`scrubber: ${this.running.size} scrubs running, more than concurrentMax ${this.h.cfg.concurrentMax}`);
    if (this.pending.length > this.h.cfg.pendingRequestsMax) throw new Error('scrubber: pending scrub requests over their bound');
    for (const st of this.pgs.values()) if (st.inconsistent.length > this.h.cfg.inconsistentKeptMax) throw new Error('scrubber: inconsistent objects over their bound');
  }
}
