import type { Clock } from './env.js';

/**
 * Structured logging hook. The runtime and actors log through `ctx.log`; the system's `logger`
 * option receives every entry as data (time from the runtime clock, so simulated runs log virtual
 * time). The default writes warnings and errors to stderr as one JSON line each; the real
 * environment's file logger (`runtime/node/file-log.ts`) writes JSON lines to a file per node.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface LogEntry {
  readonly level: LogLevel;
  /** Runtime clock, ms (with a sub-ms fraction where the clock has one: `Clock.nowFine`). */
  readonly time: number;
  readonly node: string;
  /** The actor id, when an actor logged it. */
  readonly actor?: string;
  readonly msg: string;
  readonly fields?: Readonly<Record<string, unknown>>;
  /**
   * `rpc`: an entry of the diagnostic RPC log (patent ¶129–131) — one request and its outcome,
   * kept apart from the node's log (its own file in the real environment) and written whatever
   * the log level.
   */
  readonly stream?: 'rpc';
}

export type Logger = (entry: LogEntry) => void;

export interface Log {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /**
   * One entry of the diagnostic RPC log (`stream: 'rpc'`): `msg` names the request, `fields` its
   * request id (`rid`), arguments (never file data) and outcome. `at` is when the request arrived
   * (default: now; take it from `now()`), so a timeline orders requests by arrival.
   */
  rpc(msg: string, fields: Record<string, unknown>, at?: number): void;
  /** The time this log stamps entries with (`Clock.nowFine` where there is one, else `Clock.now`). */
  now(): number;
}

export const levelRank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function stderrLogger(minLevel: LogLevel = 'warn'): Logger {
  const min = levelRank[minLevel];
  return (e) => {
    if (levelRank[e.level] < min || e.stream === 'rpc') return;
    process.stderr.write(`${JSON.stringify(e, jsonSafe)}\n`);
  };
}

/** JSON replacer for log fields: bigints and errors become readable strings. */
export function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  if (value instanceof Uint8Array) return `<${value.byteLength} bytes>`;
  return value;
}

export function makeLog(logger: Logger, clock: Clock, node: string, actor?: string): Log {
  const now = clock.nowFine === undefined ? () => clock.now() : () => (clock.nowFine as () => number)();
  const emit = (level: LogLevel, msg: string, fields?: Record<string, unknown>): void => {
    logger({ level, time: now(), node, ...(actor === undefined ? {} : { actor }), msg, ...(fields === undefined ? {} : { fields }) });
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    now,
    rpc: (m, f, at) => logger({ level: 'info', time: at ?? now(), node, ...(actor === undefined ? {} : { actor }), msg: m, fields: f, stream: 'rpc' }),
  };
}

export function isLogLevel(v: string): v is LogLevel {
  return v === 'debug' || v === 'info' || v === 'warn' || v === 'error';
}
