import { fourLetterWord } from '../actors/coord/node/wire-client.js';

/**
 * The coordination service in the dashboard: each server's `mntr` and `srvr` answers (the
 * four-letter words on its client port, so Troupe's servers and ZooKeeper's look alike), turned
 * into one row per server — its role, zxid, how far a follower is behind the leader, sessions,
 * watches, outstanding requests — and into the `troupe_zk_*` gauges of /metrics.
 */

/** Where one server's status comes from: its client port, or (in-process) any function giving the same texts. */
export interface CoordStatusSource {
  /** Shown in the page and used as the `server` label, e.g. `zk1` or `127.0.0.1:2181`. */
  readonly name: string;
  /** `mntr`'s answer (tab-separated `key value` lines). */
  mntr(timeoutMs: number): Promise<string>;
  /** `srvr`'s answer; gives Mode and Zxid where mntr lacks them (ZooKeeper's own mntr has no zxid). */
  srvr?(timeoutMs: number): Promise<string>;
}

/** A source that asks a server's client port. */
export function tcpCoordSource(host: string, port: number, name = `${host}:${port}`): CoordStatusSource {
  return {
    name,
    mntr: (t) => fourLetterWord({ host, port }, 'mntr', t),
    srvr: (t) => fourLetterWord({ host, port }, 'srvr', t),
  };
}

/** Sources for each server of a connect string (`host:port,host:port`). */
export function coordSourcesOf(connectString: string): CoordStatusSource[] {
  return connectString
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => {
      const i = s.lastIndexOf(':');
      return tcpCoordSource(i < 0 ? s : s.slice(0, i), i < 0 ? 2181 : Number(s.slice(i + 1)));
    });
}

export type CoordRole = 'leader' | 'follower' | 'observer' | 'standalone' | 'unreachable' | 'unknown';

export interface CoordServerRow {
  readonly name: string;
  readonly role: CoordRole;
  readonly zxid: number | null;
  /** Transactions behind the leader's last zxid (followers and observers; null otherwise). */
  readonly lag: number | null;
  readonly sessions: number | null;
  readonly watches: number | null;
  readonly outstanding: number | null;
  readonly connections: number | null;
  readonly znodes: number | null;
  readonly avgLatencyMs: number | null;
  readonly error: string | null;
  /** Every numeric `zk_*` value mntr reported (the /metrics gauges), by key without the prefix. */
  readonly mntr: Readonly<Record<string, number>>;
}

export interface CoordSnapshot {
  readonly servers: readonly CoordServerRow[];
  /** The leader's name; with no leader and exactly one standalone server, that server; else null. */
  readonly leader: string | null;
  readonly up: number;
  readonly total: number;
}

/** Parses mntr's `key<TAB>value` lines. */
export function parseMntr(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^(zk_[A-Za-z0-9_]+)\s+(.*)$/.exec(line.trim());
    if (m !== null) out.set(m[1] as string, (m[2] as string).trim());
  }
  return out;
}

/** srvr's Mode and Zxid lines. */
export function parseSrvr(text: string): { mode?: string; zxid?: number } {
  const mode = /^Mode: (\S+)/m.exec(text)?.[1];
  const z = /^Zxid: (0x[0-9a-fA-F]+)/m.exec(text)?.[1];
  return { ...(mode === undefined ? {} : { mode }), ...(z === undefined ? {} : { zxid: Number(z) }) };
}

/** A mntr value as a number (hex zxids included); undefined when it is not one. */
function num(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  // Number() reads mntr's hex zxids (0x…) as well as decimals.
  const n = Number(v);
  return Number.isFinite(n) && v !== '' ? n : undefined;
}

const ROLES: ReadonlySet<string> = new Set(['leader', 'follower', 'observer', 'standalone']);

/** One server's answers (or why it gave none) as a row; lag is filled in by `coordSnapshot`. */
export function coordRow(name: string, answer: { mntr: string; srvr?: string } | { error: string }): CoordServerRow {
  if ('error' in answer) {
    return { name, role: 'unreachable', zxid: null, lag: null, sessions: null, watches: null, outstanding: null, connections: null, znodes: null, avgLatencyMs: null, error: answer.error, mntr: {} };
  }
  const m = parseMntr(answer.mntr);
  const s = answer.srvr === undefined ? {} : parseSrvr(answer.srvr);
  const values: Record<string, number> = {};
  for (const [k, v] of m) {
    const n = num(v);
    if (n !== undefined) values[k.slice(3)] = n;
  }
  const state = m.get('zk_server_state') ?? s.mode ?? 'unknown';
  const zxid = num(m.get('zk_last_zxid')) ?? s.zxid ?? null;
  if (zxid !== null) values.last_zxid = zxid;
  const pick = (k: string): number | null => values[k] ?? null;
  return {
    name,
    role: ROLES.has(state) ? (state as CoordRole) : 'unknown',
    zxid,
    lag: null,
    sessions: pick('global_sessions'),
    watches: pick('watch_count'),
    outstanding: pick('outstanding_requests'),
    connections: pick('num_alive_connections'),
    znodes: pick('znode_count'),
    avgLatencyMs: pick('avg_latency'),
    error: m.size === 0 ? 'no mntr answer (is mntr in 4lw.commands.whitelist?)' : null,
    mntr: values,
  };
}

/** The ensemble from its rows: the leader, and each follower's lag behind the leader's zxid. */
export function coordSnapshot(rows: readonly CoordServerRow[]): CoordSnapshot {
  const standalone = rows.filter((r) => r.role === 'standalone');
  const leader = rows.find((r) => r.role === 'leader') ?? (standalone.length === 1 ? standalone[0] : undefined);
  const leaderZxid = leader?.role === 'leader' ? leader.zxid : null;
  const servers = rows.map((r) => ((r.role === 'follower' || r.role === 'observer') && leaderZxid !== null && r.zxid !== null ? { ...r, lag: Math.max(0, leaderZxid - r.zxid) } : r));
  return { servers, leader: leader?.name ?? null, up: rows.filter((r) => r.role !== 'unreachable').length, total: rows.length };
}

/** Asks every server at once, each within `timeoutMs`. */
export async function pollCoord(sources: readonly CoordStatusSource[], timeoutMs: number): Promise<CoordSnapshot> {
  const rows = await Promise.all(
    sources.map(async (src) => {
      try {
        const [mntr, srvr] = await Promise.all([src.mntr(timeoutMs), src.srvr?.(timeoutMs)]);
        if (mntr === '' && (srvr ?? '') === '') return coordRow(src.name, { error: 'closed without an answer' });
        return coordRow(src.name, srvr === undefined ? { mntr } : { mntr, srvr });
      } catch (e) {
        return coordRow(src.name, { error: e instanceof Error ? e.message : String(e) });
      }
    }),
  );
  return coordSnapshot(rows);
}

/**
 * The mntr keys /metrics exports (as `troupe_zk_<key>{server}`), with their help texts: Troupe's
 * mntr keys and ZooKeeper's leader-only ones. A fixed list, so a server cannot grow the series set.
 */
export const MNTR_GAUGES: Readonly<Record<string, string>> = {
  avg_latency: 'Average request latency in ms, as mntr reports it',
  max_latency: 'Largest request latency in ms, as mntr reports it',
  min_latency: 'Smallest request latency in ms, as mntr reports it',
  packets_received: 'Packets the server received (mntr zk_packets_received)',
  packets_sent: 'Packets the server sent (mntr zk_packets_sent)',
  num_alive_connections: 'Client connections open',
  outstanding_requests: 'Requests received and not yet answered',
  znode_count: 'Znodes in the tree',
  watch_count: 'Watches set',
  ephemerals_count: 'Ephemeral nodes',
  approximate_data_size: 'Approximate bytes of data and paths in the tree',
  global_sessions: 'Sessions open',
  uptime: 'Milliseconds since the server started',
  last_zxid: 'Last zxid the server applied (epoch * 2^32 + counter)',
  followers: 'Followers connected to the leader (leader only)',
  synced_followers: 'Followers in sync with the leader (leader only)',
  pending_syncs: 'Followers waiting to sync (leader only)',
};
