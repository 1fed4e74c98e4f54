/**
 * The placement group log (thesis §6.3.4, Fig. 6.5; digest §3.9): one entry per update of the PG,
 * {object, op, version, reqid}, in version order. Pure data and functions: the OSD persists each
 * entry in the same object-store transaction as the update's data (write-ahead, §7.1) and keeps
 * this in memory.
 *
 * - A version is (epoch, v): the epoch in which the PG's first OSD assigned it and a counter that
 *   only grows within the PG (§6.3.4: "only one OSD holds this role per epoch, so versions are unique").
 * - `lastUpdate`: the newest entry whose data this OSD has applied. An OSD that delays its write
 *   (the read-serving OSD under primary-copy and splay, §6.3.1) logs the entry first, so the log's
 *   `head` may run ahead of `lastUpdate` (write-ahead).
 * - `lastComplete`: every update up to it is applied here (no holes). The log itself keeps it equal to
 *   `lastUpdate`; objects a peering found missing are kept apart in the OSD's missing list, from
 *   which the data path reports last_complete (data-path.ts, README "Peering and recovery").
 * - reqid = `client:tid` makes a resent request recognizable, so every op is idempotent (§6.3.5.3).
 * - The log is bounded: entries at or before `trimTo` (durable on every replica, the client told)
 *   are dropped once the log holds more than `entriesMax`.
 */

export interface Eversion {
  readonly epoch: number;
  readonly v: number;
}

export const ZERO_VERSION: Eversion = { epoch: 0, v: 0 };

/** `noop`: a resent request already in the log, replicated again so its answer waits for every replica (§6.3.5.3). */
export type PgLogOp = 'modify' | 'delete' | 'noop';

export interface PgLogEntry {
  readonly oid: string;
  readonly op: PgLogOp;
  readonly version: Eversion;
  /** The version before this one in the PG (the log's head when it was assigned). */
  readonly prior: Eversion;
  readonly reqid: string;
}

export interface PgLog {
  /** Oldest first ("top" in the thesis's orientation, §6.3.5.1). */
  readonly entries: readonly PgLogEntry[];
  /** Newest entry logged (equal to `lastUpdate` unless a delayed write is pending). */
  readonly head: Eversion;
  readonly lastUpdate: Eversion;
  readonly lastComplete: Eversion;
  /** Newest version trimmed away (entries after it are kept). */
  readonly tail: Eversion;
}

export function emptyPgLog(): PgLog {
  return { entries: [], head: ZERO_VERSION, lastUpdate: ZERO_VERSION, lastComplete: ZERO_VERSION, tail: ZERO_VERSION };
}

/**
 * Epoch first, then v (Ceph's eversion order). Along one history both grow, so the order is the
 * history's; between two histories that diverged, the one from the later interval is newer — the
 * earlier interval's extra entries were never acknowledged (an ack needs every member's apply).
 */
export function compareVersions(a: Eversion, b: Eversion): number {
  return a.epoch !== b.epoch ? a.epoch - b.epoch : a.v - b.v;
}

export function versionEq(a: Eversion, b: Eversion): boolean {
  return a.epoch === b.epoch && a.v === b.v;
}

export function versionKey(x: Eversion): string {
  return `${String(x.epoch).padStart(10, '0')}.${String(x.v).padStart(12, '0')}`;
}

export function formatVersion(x: Eversion): string {
  return `${x.epoch}'${x.v}`;
}

/** The version the PG's first OSD assigns next in `epoch` (v grows by one; the epoch is the current one). */
export function nextVersion(log: PgLog, epoch: number): Eversion {
  if (epoch < log.head.epoch) throw new Error(`nextVersion: epoch ${epoch} is older than the log head ${formatVersion(log.head)}`);
  return { epoch, v: log.head.v + 1 };
}

/** Appends a logged entry (write-ahead); its `prior` must be the head. */
export function appendEntry(log: PgLog, e: PgLogEntry): PgLog {
  if (!versionEq(e.prior, log.head)) throw new Error(`appendEntry: entry ${formatVersion(e.version)} follows ${formatVersion(e.prior)}, the log head is ${formatVersion(log.head)}`);
  if (compareVersions(e.version, log.head) <= 0) throw new Error(`appendEntry: version ${formatVersion(e.version)} is not after the head ${formatVersion(log.head)}`);
  return { ...log, entries: [...log.entries, e], head: e.version };
}

/** Records that the data of `version` (a logged entry, the next after `lastUpdate`) is applied. */
export function markApplied(log: PgLog, version: Eversion): PgLog {
  if (compareVersions(version, log.head) > 0) throw new Error(`markApplied: ${formatVersion(version)} is not logged (head ${formatVersion(log.head)})`);
  if (compareVersions(version, log.lastUpdate) <= 0) throw new Error(`markApplied: ${formatVersion(version)} is not after last_update ${formatVersion(log.lastUpdate)}`);
  return { ...log, lastUpdate: version, lastComplete: version };
}

/** The logged entry for `reqid`, if the log still holds it (duplicate detection, §6.3.4). */
export function findReqid(log: PgLog, reqid: string): PgLogEntry | undefined {
  for (let i = log.entries.length - 1; i >= 0; i--) {
    const e = log.entries[i]!;
    if (e.reqid === reqid) return e;
  }
  return undefined;
}

/** Entries after `since`, oldest first. */
export function entriesAfter(log: PgLog, since: Eversion): PgLogEntry[] {
  return log.entries.filter((e) => compareVersions(e.version, since) > 0);
}

/**
 * Drops logged-but-unapplied entries after `lastUpdate` (an update no replica acknowledged that a
 * new interval abandons). Returns the shorter log and the dropped entries.
 */
export function rollBackUnapplied(log: PgLog): { log: PgLog; dropped: PgLogEntry[] } {
  const dropped = log.entries.filter((e) => compareVersions(e.version, log.lastUpdate) > 0);
  if (dropped.length === 0) return { log, dropped };
  return { log: { ...log, entries: log.entries.filter((e) => compareVersions(e.version, log.lastUpdate) <= 0), head: log.lastUpdate }, dropped };
}

/**
 * Trims the oldest entries while the log holds more than `entriesMax`, never past `trimTo` (only
 * updates durable everywhere may go) nor past `lastComplete`. Returns the trimmed log and what was dropped.
 */
export function trimLog(log: PgLog, trimTo: Eversion, entriesMax: number): { log: PgLog; trimmed: PgLogEntry[] } {
  if (!(Number.isSafeInteger(entriesMax) && entriesMax > 0)) throw new RangeError(`trimLog: entriesMax must be a positive integer, got ${entriesMax}`);
  let n = 0;
  const excess = log.entries.length - entriesMax;
  while (n < excess) {
    const e = log.entries[n]!;
    if (compareVersions(e.version, trimTo) > 0 || compareVersions(e.version, log.lastComplete) > 0) break;
    n++;
  }
  if (n === 0) return { log, trimmed: [] };
  const trimmed = log.entries.slice(0, n);
  return { log: { ...log, entries: log.entries.slice(n), tail: trimmed[trimmed.length - 1]!.version }, trimmed };
}

/** Rebuilds a log from persisted entries and last_update (after a restart). */
export function restoreLog(entries: readonly PgLogEntry[], lastUpdate: Eversion, tail: Eversion): PgLog {
  const sorted = [...entries].sort((a, b) => compareVersions(a.version, b.version));
  const head = sorted.length === 0 ? (compareVersions(lastUpdate, tail) > 0 ? lastUpdate : tail) : sorted[sorted.length - 1]!.version;
  return { entries: sorted, head: compareVersions(head, lastUpdate) >= 0 ? head : lastUpdate, lastUpdate, lastComplete: lastUpdate, tail };
}

/** Throws when the log breaks its invariants (O1 in README.md): versions strictly increase, each entry's prior is the one before, last_update ≤ head. */
export function checkPgLog(log: PgLog): void {
  let prev: PgLogEntry | undefined;
  for (const e of log.entries) {
    if (prev !== undefined) {
      if (compareVersions(e.version, prev.version) <= 0) throw new Error(`pg log: ${formatVersion(e.version)} after ${formatVersion(prev.version)}`);
      if (!versionEq(e.prior, prev.version)) throw new Error(`pg log: ${formatVersion(e.version)} has prior ${formatVersion(e.prior)}, follows ${formatVersion(prev.version)}`);
    }
    prev = e;
  }
  if (compareVersions(log.lastUpdate, log.head) > 0) throw new Error(`pg log: last_update ${formatVersion(log.lastUpdate)} after head ${formatVersion(log.head)}`);
  if (compareVersions(log.lastComplete, log.lastUpdate) > 0) throw new Error('pg log: last_complete after last_update');
}
