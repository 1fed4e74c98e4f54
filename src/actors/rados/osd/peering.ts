/**
 * Peering, recovery planning and PG state as pure functions (thesis §6.3.5.1–6.3.5.2; digest
 * §3.10–3.11; README.md "Peering and recovery", invariants PR1–PR12). No I/O, no clock: the OSD's
 * data path feeds in what it learned from maps and from the other OSDs' infos, and acts on the
 * answers.
 *
 * - Past intervals: every epoch's acting set of a PG, as runs of epochs with one acting set. Every
 *   intermediate map counts (§6.3.5.1: "considering all map epochs … ensures that intermediate data
 *   distributions are taken into consideration"). An interval *may have gone active* (served
 *   writes) when its acting set had at least min_size members.
 * - Prior set: every OSD of an interval that may have gone active since the PG last started
 *   (`les`, last_epoch_started). If some such interval has no OSD up now, or the epochs since `les`
 *   are not all known, the PG is down: it waits rather than serve a history that may be stale.
 * - Authoritative log: among the infos, the newest `les` first (an older interval's extra entries
 *   were never acknowledged), then the newest last_update.
 * - Missing: per holder, the objects whose newest update it lacks, from its log against the
 *   authoritative one; a holder whose log does not reach the authoritative log's tail (or diverged
 *   before it) needs backfill instead.
 */
import { compareVersions, versionEq, ZERO_VERSION, type Eversion, type PgLogEntry } from './pg-log.js';
import type { PgStateFlag } from './pg-stats.js';

/** A run of consecutive epochs in which a PG had one acting set. */
export interface PastInterval {
  readonly first: number;
  readonly last: number;
  readonly acting: readonly number[];
  /** The acting set had at least the pool's min_size members, so the PG may have served writes. */
  readonly maybeRw: boolean;
  /** The interval starts where the PG was created (no epochs before it matter). */
  readonly born: boolean;
}

/**
 * `intervals` (oldest first) extended with `epoch`'s acting set. An epoch at or before the last
 * one known changes nothing; an epoch after a gap (maps never seen) starts a new run, so the gap
 * stays visible to `priorSet`. Bounded: the oldest intervals beyond `max` are dropped.
 */
export function advanceIntervals(intervals: readonly PastInterval[], epoch: number, acting: readonly number[], minSize: number, born: boolean, max: number): PastInterval[] {
  if (!(Number.isSafeInteger(max) && max > 0)) throw new RangeError(`advanceIntervals: max must be a positive integer, got ${max}`);
  const last = intervals[intervals.length - 1];
  if (last !== undefined && epoch <= last.last) return [...intervals];
  const maybeRw = acting.length > 0 && acting.length >= minSize;
  let out: PastInterval[];
  if (last !== undefined && last.last === epoch - 1 && sameActing(last.acting, acting)) {
    out = [...intervals.slice(0, -1), { ...last, last: epoch }];
  } else {
    out = [...intervals, { first: epoch, last: epoch, acting: [...acting], maybeRw, born }];
  }
  return out.length > max ? out.slice(out.length - max) : out;
}

/** Drops intervals that ended before `epoch` (the PG started after them: they no longer matter). */
export function pruneIntervals(intervals: readonly PastInterval[], epoch: number): PastInterval[] {
  return intervals.filter((iv) => iv.last >= epoch);
}

function sameActing(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** The union of several OSDs' interval records (oldest first; duplicates folded; overlapping runs of one epoch range agree, since a map is a function of its epoch). */
export function mergeIntervals(lists: readonly (readonly PastInterval[])[]): PastInterval[] {
  const byKey = new Map<string, PastInterval>();
  for (const list of lists) {
    for (const iv of list) {
      const k = `${iv.first}:${iv.last}:${iv.acting.join(',')}`;
      const had = byKey.get(k);
      byKey.set(k, had === undefined ? iv : { ...had, born: had.born || iv.born });
    }
  }
  return [...byKey.values()].sort((a, b) => a.first - b.first || a.last - b.last);
}

export interface PriorSet {
  /** OSDs to query: every up OSD of an interval since `les` that may have served, and the current acting set. */
  readonly probe: readonly number[];
  /** OSDs of such intervals that are down now. */
  readonly down: readonly number[];
  /** Some interval that may have served since `les` has no OSD up now (the PG is down). */
  readonly blocked: boolean;
  /** Epochs since `les` that no record covers (the PG cannot tell who served: down until someone who knows answers). */
  readonly gap: boolean;
  /** Human-readable reason when blocked or gap. */
  readonly why: string;
}

/**
 * The prior set of a PG (thesis §6.3.5.1): every OSD that may have served the PG since `les`.
 * `intervals` is the merged record; `currentFirst` is the first epoch of the current interval.
 * Coverage: every epoch in [max(les, born), currentFirst − 1] must lie in some interval.
 */
export function priorSet(intervals: readonly PastInterval[], les: number, currentFirst: number, currentActing: readonly number[], isUp: (osd: number) => boolean): PriorSet {
  const probe = new Set<number>(currentActing);
  const down = new Set<number>();
  let blocked = false;
  const reasons: string[] = [];
  // Coverage from `les` (or from the PG's birth when it never started; unknown birth = a gap).
  const bornAt = intervals.find((iv) => iv.born)?.first;
  let from: number | undefined = les > 0 ? les : bornAt;
  if (from !== undefined && bornAt !== undefined && bornAt > from) from = bornAt;
  let covered = (from ?? 0) - 1;
  if (from !== undefined) {
    for (const iv of intervals) {
      if (iv.last <= covered) continue;
      if (iv.first > covered + 1) break;
      covered = iv.last;
    }
  }
  const gap = from === undefined || covered < currentFirst - 1;
  if (gap) reasons.push(from === undefined ? 'the PG never started and its creation epoch is unknown' : `epochs ${covered + 1}–${currentFirst - 1} since les ${les} are unknown`);
  for (const iv of intervals) {
    if (iv.last < (from ?? 0) || iv.first >= currentFirst || !iv.maybeRw) continue;
    const up = iv.acting.filter(isUp);
    for (const o of up) probe.add(o);
    for (const o of iv.acting) if (!isUp(o)) down.add(o);
    if (up.length === 0) {
      blocked = true;
      reasons.push(`interval ${iv.first}–${iv.last} [${iv.acting.join(',')}] may have served and none of it is up`);
    }
  }
  return { probe: [...probe].sort((a, b) => a - b), down: [...down].sort((a, b) => a - b), blocked, gap, why: reasons.join('; ') };
}

/** What an OSD tells the primary about its copy of a PG (the Notify of §6.3.5.1). */
export interface HolderInfo {
  readonly osd: number;
  readonly les: number;
  readonly lastUpdate: Eversion;
  readonly lastComplete: Eversion;
  /** Newest trimmed version (the log's "top" boundary). */
  readonly tail: Eversion;
  /** Log entries up to last_update, oldest first (entries only logged are not part of the history). */
  readonly entries: readonly PgLogEntry[];
  /** Objects this holder knows it lacks (its persisted missing list). */
  readonly missing: readonly string[];
  /** While a backfill into this holder is unfinished: the object names at or below this are current; undefined = complete. */
  readonly backfill: string | undefined;
  /** The holder has no copy of the PG at all. */
  readonly empty: boolean;
}

/**
 * The holder whose log is authoritative (thesis §6.3.5.1 step 4): the newest last_epoch_started
 * first, then the newest last_update, then a complete copy over one still backfilling, then
 * `prefer` (the primary: no log to fetch), then the longest log. Undefined when no holder has a copy.
 */
export function chooseAuthoritative(infos: readonly HolderInfo[], prefer: number): HolderInfo | undefined {
  let best: HolderInfo | undefined;
  for (const i of infos) {
    if (i.empty) continue;
    if (best === undefined || better(i, best, prefer)) best = i;
  }
  return best;
}

function better(a: HolderInfo, b: HolderInfo, prefer: number): boolean {
  if (a.les !== b.les) return a.les > b.les;
  const c = compareVersions(a.lastUpdate, b.lastUpdate);
  if (c !== 0) return c > 0;
  if ((a.backfill === undefined) !== (b.backfill === undefined)) return a.backfill === undefined;
  if ((a.osd === prefer) !== (b.osd === prefer)) return a.osd === prefer;
  const t = compareVersions(a.tail, b.tail);
  if (t !== 0) return t < 0;
  return a.osd < b.osd;
}

/** Where a holder stands against the authoritative log. */
export type HolderPlan =
  /** On the authoritative history: these objects lack their newest update (need: the version, or 'delete'). */
  | { readonly kind: 'log'; readonly missing: ReadonlyMap<string, MissingNeed>; readonly divergent: readonly PgLogEntry[]; readonly watermark?: string }
  /** Too far behind, or diverged before the authoritative log's tail: a full ordered scan (backfill). */
  | { readonly kind: 'backfill'; readonly why: string };

/** What a missing object must become: the authoritative log's version (or a delete), or whatever the authoritative copy is (`version` ZERO: an object only a divergent entry touched). */
export interface MissingNeed {
  readonly version: Eversion;
  readonly deleted: boolean;
}

function entryIn(log: readonly PgLogEntry[], e: PgLogEntry): boolean {
  return log.some((a) => versionEq(a.version, e.version) && a.reqid === e.reqid);
}

/**
 * A holder's missing objects against the authoritative log (thesis §6.3.5.1 step 6): the objects
 * of authoritative entries after the newest entry both logs share, the objects of the holder's own
 * entries after that point (divergent: never acknowledged, rolled back by a push of the
 * authoritative copy), and the holder's own missing list. A holder whose history does not meet the
 * authoritative log at or after its tail needs backfill.
 */
export function planHolder(h: HolderInfo, auth: HolderInfo): HolderPlan {
  if (h.osd === auth.osd) {
    const missing = new Map(h.missing.map((o) => [o, { version: ZERO_VERSION, deleted: false }] as const));
    return h.backfill === undefined ? { kind: 'log', missing, divergent: [] } : { kind: 'log', missing, divergent: [], watermark: h.backfill };
  }
  if (h.empty) return versionEq(auth.tail, ZERO_VERSION) && auth.backfill === undefined ? fromCommon(h, auth, ZERO_VERSION, []) : { kind: 'backfill', why: 'it has no copy and the authoritative log does not reach back to the PG\'s creation' };
  if (h.backfill !== undefined) return { kind: 'backfill', why: `its backfill stopped at ${JSON.stringify(h.backfill)}` };
  // The newest applied entry of the holder that the authoritative log also has (or the tail both share).
  const own = h.entries.filter((e) => compareVersions(e.version, h.lastUpdate) <= 0);
  let common: Eversion | undefined;
  const divergent: PgLogEntry[] = [];
  for (let i = own.length - 1; i >= 0; i--) {
    const e = own[i]!;
    if (entryIn(auth.entries, e) || versionEq(e.version, auth.tail)) {
      common = e.version;
      break;
    }
    divergent.unshift(e);
  }
  if (common === undefined) {
    // No shared entry: the holder's whole log is divergent or trimmed; its tail (or last_update when it has no entries) must be a point of the authoritative history.
    const base = own.length === 0 ? h.lastUpdate : h.tail;
    const onAuth = versionEq(base, auth.tail) || auth.entries.some((a) => versionEq(a.version, base)) || (own.length === 0 && compareVersions(base, auth.tail) === 0);
    if (!onAuth || compareVersions(base, auth.tail) < 0) return { kind: 'backfill', why: `its history (${fmt(base)}) does not meet the authoritative log (tail ${fmt(auth.tail)})` };
    common = base;
  }
  if (compareVersions(common, auth.tail) < 0) return { kind: 'backfill', why: `it shares history only before the authoritative log's tail ${fmt(auth.tail)}` };
  return fromCommon(h, auth, common, divergent);
}

function fromCommon(h: HolderInfo, auth: HolderInfo, common: Eversion, divergent: readonly PgLogEntry[]): HolderPlan {
  const missing = new Map<string, MissingNeed>();
  for (const o of h.missing) missing.set(o, { version: ZERO_VERSION, deleted: false });
  for (const e of divergent) if (e.op !== 'noop') missing.set(e.oid, { version: ZERO_VERSION, deleted: false });
  for (const e of auth.entries) {
    if (compareVersions(e.version, common) <= 0 || e.op === 'noop') continue;
    missing.set(e.oid, { version: e.version, deleted: e.op === 'delete' });
  }
  // An object the authoritative holder itself lacks stays missing here until it is found (the primary recovers it first).
  return { kind: 'log', missing, divergent };
}

function fmt(v: Eversion): string {
  return `${v.epoch}'${v.v}`;
}

/**
 * An object's locations (thesis §6.3.5.1): the holders whose plan is on the log and does not list
 * it missing, and whose copy is not behind a backfill watermark.
 */
export function locations(oid: string, plans: ReadonlyMap<number, HolderPlan>): number[] {
  const out: number[] = [];
  for (const [osd, p] of plans) if (p.kind === 'log' && !p.missing.has(oid) && (p.watermark === undefined || oid <= p.watermark)) out.push(osd);
  return out.sort((a, b) => a - b);
}

/**
 * The primary's own missing list from a backlog (thesis §6.3.5.1 step 5): the authoritative
 * holder's objects with their versions, against this OSD's. An object this OSD has that the
 * backlog lacks is deleted here (a backlog does not record deletions, so the holder's object list
 * is what decides).
 */
export function missingFromBacklog(local: ReadonlyMap<string, Eversion>, backlog: readonly (readonly [string, Eversion])[]): Map<string, MissingNeed> {
  const out = new Map<string, MissingNeed>();
  const theirs = new Set<string>();
  for (const [oid, v] of backlog) {
    theirs.add(oid);
    const mine = local.get(oid);
    if (mine === undefined || !versionEq(mine, v)) out.set(oid, { version: v, deleted: false });
  }
  for (const oid of local.keys()) if (!theirs.has(oid)) out.set(oid, { version: ZERO_VERSION, deleted: true });
  return out;
}

/**
 * Backfill (post-thesis, as Ceph does it): the primary scans the PG's objects in name order and
 * copies them to a target past its watermark. `nextBackfillBatch` gives the next names after
 * `watermark` (at most `max`), and the new watermark once they are copied: the last name, or
 * `BACKFILL_DONE` when the scan reached the end.
 */
export const BACKFILL_DONE = '\uffff';

export function nextBackfillBatch(sortedOids: readonly string[], watermark: string, max: number): { oids: string[]; watermark: string } {
  if (!(Number.isSafeInteger(max) && max > 0)) throw new RangeError(`nextBackfillBatch: max must be a positive integer, got ${max}`);
  const start = firstAfter(sortedOids, watermark);
  const oids = sortedOids.slice(start, start + max);
  const end = start + oids.length >= sortedOids.length ? BACKFILL_DONE : oids[oids.length - 1]!;
  return { oids, watermark: end };
}

/** Whether a backfill target's copy of `oid` is current: at or below its watermark, or copied ahead of the scan. */
export function backfilled(oid: string, watermark: string, ahead: ReadonlySet<string>): boolean {
  return oid <= watermark || ahead.has(oid);
}

function firstAfter(sorted: readonly string[], x: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** What the primary knows of a PG, for its state flags (Ceph's names, pg-stats.ts). */
export interface PgStateInput {
  readonly phase: 'peering' | 'down' | 'incomplete' | 'active' | 'inactive';
  readonly everStarted: boolean;
  readonly actingSize: number;
  readonly poolSize: number;
  readonly minSize: number;
  readonly missingCopies: number;
  readonly recovering: boolean;
  readonly backfilling: boolean;
}

/** The state flags of a PG as its primary sees it (formatPgState joins them). */
export function pgStateFlags(s: PgStateInput): PgStateFlag[] {
  const f: PgStateFlag[] = [];
  // Below min_size the primary does not peer: the PG takes no I/O (Ceph shows it peered but not active).
  if (s.actingSize < s.minSize && s.phase === 'inactive') return s.actingSize === 0 ? ['stale'] : ['peered', 'undersized', 'degraded'];
  if (!s.everStarted && s.phase !== 'active') f.push('creating');
  if (s.phase === 'peering' || s.phase === 'inactive') f.push('peering');
  if (s.phase === 'down') f.push('down');
  if (s.phase === 'incomplete') f.push('incomplete');
  if (s.phase === 'active') f.push(s.actingSize >= s.minSize ? 'active' : 'peered');
  if (s.actingSize < s.poolSize) f.push('undersized');
  if (s.phase === 'active' && (s.missingCopies > 0 || s.actingSize < s.poolSize)) f.push('degraded');
  if (s.phase === 'active' && s.recovering) f.push('recovering');
  if (s.phase === 'active' && s.backfilling) f.push('backfilling');
  if (s.phase === 'active' && s.missingCopies === 0 && !s.recovering && !s.backfilling && s.actingSize >= s.poolSize) f.push('clean');
  return f;
}
