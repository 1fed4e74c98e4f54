/**
 * What an OSD says about each PG it holds: the states Ceph names (thesis §6.3.5; Ceph's
 * `pg_state_t`), and the per-PG statistics the primary reports to the monitors, from which
 * `troupe ceph pg stat|dump`, `health detail`, the dashboard and /metrics are computed.
 * Pure data and functions, shared by the OSD's data path, peering, recovery and scrubbing.
 */

/** PG state flags, in the order Ceph prints them (`pg_state_string`). */
export const PG_STATE_FLAGS = [
  'creating',
  'active',
  'clean',
  'down',
  'stale',
  'remapped',
  'scrubbing',
  'deep',
  'inconsistent',
  'peering',
  'repair',
  'recovering',
  'backfilling',
  'incomplete',
  'undersized',
  'degraded',
  'peered',
] as const;

export type PgStateFlag = (typeof PG_STATE_FLAGS)[number];

const FLAG_ORDER: ReadonlyMap<string, number> = new Map(PG_STATE_FLAGS.map((f, i) => [f, i]));

/** The flags joined with '+' in Ceph's order, duplicates removed: `active+clean`, `active+undersized+degraded`. */
export function formatPgState(flags: Iterable<PgStateFlag>): string {
  const set = [...new Set(flags)];
  set.sort((a, b) => (FLAG_ORDER.get(a) ?? 0) - (FLAG_ORDER.get(b) ?? 0));
  return set.length === 0 ? 'unknown' : set.join('+');
}

/** Parses `active+clean` back into flags; unknown words are refused (`undefined`). */
export function parsePgState(text: string): PgStateFlag[] | undefined {
  const out: PgStateFlag[] = [];
  for (const w of text.split('+')) {
    if (!FLAG_ORDER.has(w)) return undefined;
    out.push(w as PgStateFlag);
  }
  return out;
}

/** One PG as its primary (or, for a PG with no primary, any holder) reports it. */
export interface PgStat {
  /** `pool.ps` in hex, as Ceph prints PG ids (`1.1f`). */
  readonly pgid: string;
  readonly state: string;
  /** The map epoch this report was made at. */
  readonly epoch: number;
  readonly up: readonly number[];
  readonly acting: readonly number[];
  readonly primary: number;
  /** `epoch'v` of the last logged update. */
  readonly lastUpdate: string;
  readonly lastComplete: string;
  readonly lastEpochStarted: number;
  readonly objects: number;
  readonly bytes: number;
  readonly logEntries: number;
  /** Object copies missing across the acting set (degraded), and objects still to recover or backfill. */
  readonly degradedObjects: number;
  readonly missingObjects: number;
  readonly misplacedObjects: number;
  /** Monitor-free wall or virtual time (ms) of the last state change, the last (deep) scrub; 0 = never. */
  readonly stateSinceMs: number;
  readonly lastScrubMs: number;
  readonly lastDeepScrubMs: number;
  /** Objects the last scrub found inconsistent (0 when consistent). */
  readonly inconsistentObjects: number;
}

/** Ceph's PG id text: pool id in decimal, a dot, the placement seed in hex. */
export function formatPgid(pool: number, ps: number): string {
  return `${pool}.${ps.toString(16)}`;
}

/** `1.1f` → { pool: 1, ps: 31 }; undefined for anything else. */
export function parsePgid(text: string): { pool: number; ps: number } | undefined {
  const m = /^(\d{1,9})\.([0-9a-f]{1,8})$/.exec(text);
  if (m === null) return undefined;
  return { pool: Number(m[1]), ps: parseInt(m[2] as string, 16) };
}

/** Counts PGs by state text, as `ceph pg stat` and `ceph status` show them. */
export function countByState(stats: Iterable<Pick<PgStat, 'state'>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of stats) out[s.state] = (out[s.state] ?? 0) + 1;
  return out;
}
