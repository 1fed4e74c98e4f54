import { createReadStream, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/**
 * `troupe trace <request-id>`: one client operation's timeline across actors, rebuilt from the
 * JSON-lines log files (`runtime/node/file-log.ts`) — the clients' `clients.log`, each node's
 * `<node>.log` and its RPC log `rpc-<node>.log`, and their rotated `.1` copies — of one or more
 * directories (a data directory, whose logs are in `logs/`, or a directory of collected log files).
 * Entries are ordered by their time; entries with the same time keep the order of their files
 * (sorted by name) and lines. Times from different hosts are as good as their clocks' agreement.
 */
export interface TraceEntry {
  /** Epoch ms. */
  readonly time: number;
  readonly node: string;
  readonly actor: string | undefined;
  readonly level: string;
  readonly msg: string;
  /** `rpc` for entries of an RPC log. */
  readonly stream: string | undefined;
  /** The file it came from. */
  readonly file: string;
  /** Every other field of the line (the request id excepted). */
  readonly fields: Readonly<Record<string, unknown>>;
}

/** Entries of one trace at most (bounded memory when an id is everywhere). */
export const TRACE_ENTRIES_MAX = 100_000;

const PINO_LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
const OWN_KEYS = new Set(['level', 'time', 'msg', 'node', 'actor', 'stream', 'rid', 'pid', 'hostname']);

/** Parses one log line; undefined when it is not a JSON object with a numeric time. */
export function parseLogLine(line: string, file: string): (TraceEntry & { readonly rid: unknown }) | undefined {
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (o === null || typeof o !== 'object' || Array.isArray(o)) return undefined;
  const r = o as Record<string, unknown>;
  const time = r['time'];
  if (typeof time !== 'number' || !Number.isFinite(time)) return undefined;
  const level = typeof r['level'] === 'number' ? (PINO_LEVELS[r['level']] ?? String(r['level'])) : String(r['level'] ?? '-');
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r)) if (!OWN_KEYS.has(k)) fields[k] = v;
  return {
    rid: r['rid'],
    time,
    node: typeof r['node'] === 'string' ? r['node'] : '-',
    actor: typeof r['actor'] === 'string' ? r['actor'] : undefined,
    level,
    msg: typeof r['msg'] === 'string' ? r['msg'] : '',
    stream: typeof r['stream'] === 'string' ? r['stream'] : undefined,
    file,
    fields,
  };
}

/**
 * The entries of request `rid` in `sources` (each a file's lines, in file order), in time order.
 * Pure: the CLI reads the files, tests hand in lines.
 */
export function traceOf(rid: string, sources: ReadonlyArray<{ readonly file: string; readonly lines: Iterable<string> }>): TraceEntry[] {
  const out: Array<{ e: TraceEntry; seq: number }> = [];
  let seq = 0;
  for (const s of sources) {
    for (const line of s.lines) {
      if (!line.includes(rid)) continue;
      const e = parseLogLine(line, s.file);
      if (e === undefined || e.rid !== rid) continue;
      const { rid: _rid, ...entry } = e;
      out.push({ e: entry, seq: seq++ });
      if (out.length >= TRACE_ENTRIES_MAX) break;
    }
  }
  out.sort((a, b) => a.e.time - b.e.time || a.seq - b.seq);
  return out.map((x) => x.e);
}

/** The log files of a data directory (its `logs/`) or of a directory of log files, sorted by name. */
export function logFilesIn(dir: string): string[] {
  const logs = join(dir, 'logs');
  let where = dir;
  try {
    if (statSync(logs).isDirectory()) where = logs;
  } catch {
    // not a data directory: the directory itself holds the files
  }
  let names: string[];
  try {
    names = readdirSync(where);
  } catch {
    return [];
  }
  return names
    .filter((n) => /\.log(\.1)?$/.test(n))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((n) => join(where, n));
}

/** Reads the files' lines that mention `rid` (a cheap filter before parsing), in file order. */
export async function readMatchingLines(file: string, rid: string): Promise<string[]> {
  const lines: string[] = [];
  const rl = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  for await (const line of rl) {
    if (line.includes(rid)) lines.push(line);
    if (lines.length >= TRACE_ENTRIES_MAX) break;
  }
  rl.close();
  return lines;
}

/** One line of the text timeline: time, node, actor, level, message, key fields. */
/** ISO 8601 UTC, with microseconds when the time has a fraction of a millisecond (`Clock.nowFine`). */
function isoTime(ms: number): string {
  const whole = Math.floor(ms);
  const iso = new Date(whole).toISOString();
  if (ms === whole) return iso;
  const micros = Math.min(999, Math.round((ms - whole) * 1000));
  return `${iso.slice(0, -1)}${String(micros).padStart(3, '0')}Z`;
}

export function formatTraceEntry(e: TraceEntry): string {
  const fields = Object.entries(e.fields)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? (/[\s"]/.test(v) || v === '' ? JSON.stringify(v) : v) : JSON.stringify(v)}`)
    .join(' ');
  return `${isoTime(e.time)}  ${e.node.padEnd(12)} ${(e.actor ?? '-').padEnd(8)} ${e.level.padEnd(5)} ${e.msg}${fields === '' ? '' : `  ${fields}`}`;
}
