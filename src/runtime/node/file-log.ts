import { appendFileSync, mkdirSync, rename, statSync } from 'node:fs';
import { join } from 'node:path';
import { pino, type Logger as Pino } from 'pino';
import { isLogLevel, jsonSafe, levelRank, stderrLogger, type LogEntry, type Logger, type LogLevel } from '../log.js';

/**
 * The real environment's logger: every entry as one JSON line (pino) in a file per node,
 * `<dir>/<node>.log`, and the diagnostic RPC log (entries with `stream: 'rpc'`, patent ¶129–131)
 * in `<dir>/rpc-<node>.log`; warnings and errors are also written to stderr. A worker thread's
 * node id `<host>/w<i>` becomes the file name `<host>-w<i>.log`.
 *
 * Writes never block the caller: each file has an in-memory buffer that a background write
 * (sonic-boom, `sync: false`) drains. The buffer is bounded (`bufferBytesMax`): when the disk
 * cannot keep up and the buffer is full, new entries are dropped, counted, and reported — a
 * warning entry "log entries dropped" with the count is written once the buffer has room again
 * (and, at the latest, when the log is closed); the stderr copy of warnings and errors is printed
 * regardless. Logging never slows down or stops the actors.
 *
 * Each file is size-capped: past `fileBytesMax` it is renamed to `<file>.1` (replacing the previous
 * one) and a new file is started, so a node's logs take at most twice the cap per file on disk.
 *
 * `close()` flushes what is buffered and closes the files; the node's clean shutdown calls it. An
 * entry still buffered when the process crashes is lost.
 */
export interface FileLogOptions {
  /** The log directory (created if missing), e.g. `<data-dir>/logs`. */
  readonly dir: string;
  /** Entries below this level are not written to the node's log. Default `info`. RPC entries are always written. */
  readonly level?: LogLevel;
  /** Warnings and errors (at or above this level) also go to stderr; `false` for none. Default `warn`. */
  readonly stderrLevel?: LogLevel | false;
  /** Bytes each file may hold in memory while the disk catches up. Default 8 MiB. */
  readonly bufferBytesMax?: number;
  /** A file is rotated to `<file>.1` past this size. Default 64 MiB. */
  readonly fileBytesMax?: number;
  /** The node log's file name instead of `<node>.log` (e.g. one shared `clients.log`). */
  readonly fileName?: string;
  /** Keep no separate RPC log: `rpc` entries go nowhere. Default false. */
  readonly noRpcFile?: boolean;
}

export const LOG_BUFFER_BYTES_MAX_DEFAULT = 8 * 1024 * 1024;
export const LOG_FILE_BYTES_MAX_DEFAULT = 64 * 1024 * 1024;
/** How long `close()` waits for the disk before giving up on what is still buffered. */
const CLOSE_WAIT_MS_MAX = 5_000;

/** The environment variable that sets the default log level of `troupe` commands. */
export const LOG_LEVEL_ENV = 'TROUPE_LOG_LEVEL';

/** The log level from `TROUPE_LOG_LEVEL`, else `fallback`; throws on an unknown level. */
export function logLevelFromEnv(fallback: LogLevel = 'info'): LogLevel {
  const v = process.env[LOG_LEVEL_ENV];
  if (v === undefined || v === '') return fallback;
  if (!isLogLevel(v)) throw new Error(`${LOG_LEVEL_ENV}=${v} is not a log level (debug, info, warn, error)`);
  return v;
}

export function logFileName(node: string): string {
  return `${node.replaceAll('/', '-')}.log`;
}

/** Field names the line itself uses; a field of the same name is written as `field.<name>`. */
const RESERVED = new Set(['level', 'time', 'msg', 'node', 'actor', 'stream', 'pid', 'hostname']);

/** One JSON-lines file written through pino onto a bounded, size-capped, non-blocking destination. */
export class JsonLinesFile {
  readonly path: string;
  /** Entries dropped because the buffer was full, in all. */
  droppedTotal = 0;
  private dropped = 0;
  private reporting = 0;
  private broken = false;
  private closed = false;
  /** The file's size as far as this writer knows (counted in characters: close enough for a cap). */
  private bytes = 0;
  private rotating = false;
  private at = 0;
  private readonly boom: ReturnType<typeof pino.destination>;
  private readonly pino: Pino;
  private readonly fileBytesMax: number;

  constructor(dir: string, name: string, opts: { level: LogLevel; bufferBytesMax: number; fileBytesMax: number }) {
    this.path = join(dir, name);
    this.fileBytesMax = opts.fileBytesMax;
    try {
      this.bytes = statSync(this.path).size;
    } catch {
      this.bytes = 0;
    }
    this.boom = pino.destination({ dest: this.path, sync: false, append: true, mkdir: true, maxLength: opts.bufferBytesMax });
    this.boom.on('drop', () => {
      // The report of earlier drops was itself dropped: those entries are still unreported.
      this.dropped += this.reporting > 0 ? this.reporting : 1;
      this.droppedTotal += this.reporting > 0 ? 0 : 1;
    });
    this.boom.on('error', (err: Error) => {
      if (this.broken) return;
      this.broken = true;
      process.stderr.write(`troupe: cannot write the log ${this.path} (${err.message}); its entries are lost from now on\n`);
    });
    const counting = {
      write: (line: string): void => {
        this.bytes += line.length;
        this.boom.write(line);
        if (this.bytes > this.fileBytesMax) this.rotate();
      },
    };
    this.pino = pino(
      {
        level: opts.level,
        base: null,
        // The entry's own time (the runtime clock), not the moment pino formats it.
        timestamp: () => `,"time":${this.at}`,
        formatters: { level: (label) => ({ level: label }) },
      },
      counting,
    );
  }

  write(e: LogEntry): void {
    if (this.closed || this.broken) return;
    if (this.dropped > 0) this.reportDrops();
    this.at = e.time;
    const obj: Record<string, unknown> = { node: e.node };
    if (e.actor !== undefined) obj['actor'] = e.actor;
    if (e.stream !== undefined) obj['stream'] = e.stream;
    if (e.fields !== undefined) for (const [k, v] of Object.entries(e.fields)) obj[RESERVED.has(k) ? `field.${k}` : k] = safe(v);
    this.pino[e.level](obj, e.msg);
  }

  private reportDrops(): void {
    const n = this.dropped;
    this.dropped = 0;
    this.reporting = n;
    this.at = Date.now();
    this.pino.warn({ droppedEntries: n }, 'log entries dropped: the log buffer was full (the disk did not keep up)');
    this.reporting = 0;
  }

  private rotate(): void {
    if (this.rotating) return;
    this.rotating = true;
    rename(this.path, `${this.path}.1`, (err) => {
      this.rotating = false;
      if (err !== null || this.closed) return;
      this.bytes = 0;
      this.boom.reopen();
    });
  }

  /** Flushes the buffer and closes the file (bounded wait); reports drops not yet reported. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (!this.broken) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, CLOSE_WAIT_MS_MAX);
        t.unref();
        this.boom.once('close', () => {
          clearTimeout(t);
          resolve();
        });
        this.boom.once('error', () => {
          clearTimeout(t);
          resolve();
        });
        this.boom.end();
      });
    }
    if (this.dropped > 0 && !this.broken) {
      const line = JSON.stringify({ level: 'warn', time: Date.now(), droppedEntries: this.dropped, msg: 'log entries dropped: the log buffer was full (the disk did not keep up)' });
      try {
        appendFileSync(this.path, `${line}\n`);
      } catch {
        // The disk is gone: nothing more to do.
      }
      this.dropped = 0;
    }
  }
}

function safe(v: unknown): unknown {
  if (typeof v === 'bigint' || v instanceof Error || v instanceof Uint8Array) return jsonSafe('', v);
  return v;
}

/** A node's file logger: its log file, its RPC log file, and the stderr copy of warnings. */
export class FileLog {
  readonly logger: Logger;
  readonly main: JsonLinesFile;
  readonly rpc: JsonLinesFile | undefined;

  constructor(node: string, opts: FileLogOptions) {
    try {
      mkdirSync(opts.dir, { recursive: true });
    } catch {
      // Reported when the first write fails to open the file; logging never stops the node.
    }
    const level = opts.level ?? 'info';
    const sizes = { bufferBytesMax: opts.bufferBytesMax ?? LOG_BUFFER_BYTES_MAX_DEFAULT, fileBytesMax: opts.fileBytesMax ?? LOG_FILE_BYTES_MAX_DEFAULT };
    this.main = new JsonLinesFile(opts.dir, opts.fileName ?? logFileName(node), { level, ...sizes });
    this.rpc = opts.noRpcFile === true ? undefined : new JsonLinesFile(opts.dir, `rpc-${logFileName(node)}`, { level: 'debug', ...sizes });
    const stderrLevel = opts.stderrLevel ?? 'warn';
    const toStderr = stderrLevel === false ? undefined : stderrLogger(stderrLevel);
    const min = levelRank[level];
    this.logger = (e) => {
      if (e.stream === 'rpc') {
        this.rpc?.write(e);
        return;
      }
      if (levelRank[e.level] >= min) this.main.write(e);
      toStderr?.(e);
    };
  }

  async close(): Promise<void> {
    await Promise.all([this.main.close(), this.rpc?.close()]);
  }
}
