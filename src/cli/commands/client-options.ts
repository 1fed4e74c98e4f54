import { InvalidArgumentError, type Command } from 'commander';
import { connect, ConnectError, connectToSpec, type ClusterConnection } from '../../cluster/connect.js';
import { SpecError } from '../../cluster/spec.js';
import { GfsClientError } from '../../actors/gfs/client/client.js';
import { ExitCode } from '../program.js';
import { waitNotice } from '../progress.js';
import { isLogLevel, type LogLevel } from '../../runtime/log.js';
import { LOG_LEVEL_ENV } from '../../runtime/node/file-log.js';

/** Options every command that talks to a running cluster shares. */
export interface ClientFlags {
  readonly dataDir: string;
  readonly host: string;
  readonly port: number;
  readonly secretFile?: string;
  readonly config?: string;
  readonly json?: boolean;
  readonly requestId?: string;
  readonly verbose?: boolean;
  /** `--timeout`: seconds a write or append may keep retrying. */
  readonly timeout?: number;
}

/** `--log-level`: debug, info, warn or error. */
export function parseLogLevel(v: string): LogLevel {
  if (!isLogLevel(v)) throw new InvalidArgumentError(`expected debug, info, warn or error, got '${v}'`);
  return v;
}

export const LOG_LEVEL_HELP = `log level of the log files: debug, info, warn or error (default: $${LOG_LEVEL_ENV}, else info)`;

export function parsePort(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) throw new InvalidArgumentError(`a port is 0–65535, got '${v}'`);
  return n;
}

export function parsePositiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError(`expected a positive integer, got '${v}'`);
  return n;
}

/** Sizes like 65536, 64KiB, 64MiB, 1GiB. */
export function parseBytes(v: string): number {
  const m = /^(\d+)\s*(B|KiB|MiB|GiB)?$/i.exec(v.trim());
  if (m === null) throw new InvalidArgumentError(`expected a size like 65536, 64KiB or 64MiB, got '${v}'`);
  const unit = (m[2] ?? 'B').toLowerCase();
  const mult = unit === 'kib' ? 1024 : unit === 'mib' ? 1024 ** 2 : unit === 'gib' ? 1024 ** 3 : 1;
  return Number(m[1]) * mult;
}

export function addClientFlags(cmd: Command): Command {
  return cmd
    .option('--data-dir <dir>', 'the cluster data directory (holds cluster.json and the secret)', './troupe-data')
    .option('--host <host>', 'master host', '127.0.0.1')
    .option('--port <port>', 'master port', parsePort, 7070)
    .option('--secret-file <file>', 'cluster secret file (default <data-dir>/secret; or set TROUPE_SECRET)')
    .option('--config <file>', 'a multi-host cluster spec (instead of --data-dir/--host/--port)')
    .option('--json', 'print results as JSON')
    .option('--request-id <id>', 'the request id this command\'s operations carry and log (default: a new one; `troupe trace <id>` follows it)', parseRequestId)
    .option('-v, --verbose', 'print the request id on stderr (failures always name it)')
    .option('--timeout <seconds>', 'how long a write or record append may keep retrying — a write to a chunk whose primary failed waits for its lease to end (default: a lease period + 12 s, 72 s)', parsePositiveSeconds);
}

export function parsePositiveSeconds(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`expected a positive number of seconds, got '${v}'`);
  return n;
}

export function parseRequestId(v: string): string {
  if (!/^[\w.:-]{1,64}$/.test(v)) throw new InvalidArgumentError(`a request id is 1–64 letters, digits or _ . : -, got '${v}'`);
  return v;
}

/** Runs `fn` with a connection; maps failures to a message and an exit code (README: exit codes). */
export async function withCluster(flags: ClientFlags, fn: (c: ClusterConnection) => Promise<void>): Promise<void> {
  let conn: ClusterConnection | undefined;
  try {
    const secret = flags.secretFile === undefined ? {} : { secretFile: flags.secretFile };
    // Progress while a write or append waits to retry (a terminal only, never with --json).
    const retry = { ...(flags.timeout === undefined ? {} : { operationTimeoutMs: Math.round(flags.timeout * 1000) }), onWait: waitNotice(flags.json !== true) };
    conn = flags.config !== undefined ? await connectToSpec(flags.config, { ...secret, ...retry }) : await connect({ dataDir: flags.dataDir, host: flags.host, port: flags.port, ...secret, ...retry });
    const c = conn;
    // One request id for the whole command (a put is a create and writes): README, Logs and tracing.
    const rid = flags.requestId ?? c.client.newRequestId();
    if (flags.verbose === true) process.stderr.write(`troupe: request ${rid}\n`);
    await c.client.request(() => fn(c), rid);
  } catch (err) {
    if (err instanceof ConnectError) {
      process.stderr.write(`troupe: ${err.message}\n`);
      process.exitCode = ExitCode.unavailable;
    } else if (err instanceof SpecError) {
      process.stderr.write(`troupe: ${err.message}\n`);
      process.exitCode = ExitCode.usage;
    } else if (err instanceof GfsClientError) {
      const rid = err.requestId;
      // The operation failed because no master could be reached (or our secret was refused): say
      // that, with exit code 3, rather than the last runtime error of its retries.
      const unreachable = err.runtimeCode === undefined ? undefined : conn?.unreachable();
      const text = unreachable?.message ?? err.message;
      process.stderr.write(`troupe: ${text}${rid === undefined ? '' : ` (request ${rid}; \`troupe trace ${rid}\` shows it in the logs)`}\n`);
      const next = deliveryHint(err);
      if (next !== undefined) process.stderr.write(`troupe: ${next}\n`);
      if (flags.json === true) process.stdout.write(`${JSON.stringify({ ok: false, code: unreachable === undefined ? err.code : 'unavailable', message: text, ...(err.runtimeCode === undefined ? {} : { runtimeCode: err.runtimeCode, delivery: err.delivery }), ...(rid === undefined ? {} : { requestId: rid }) })}\n`);
      process.exitCode = unreachable === undefined ? ExitCode.failure : ExitCode.unavailable;
    } else if (err instanceof Error && /no cluster in|secret/.test(err.message)) {
      process.stderr.write(`troupe: ${err.message}\n`);
      process.exitCode = ExitCode.unavailable;
    } else {
      throw err;
    }
  } finally {
    await conn?.close();
  }
}

/** What a user can do after a runtime failure: retry freely, or check first (the change may have been made). */
export function deliveryHint(err: GfsClientError): string | undefined {
  if (err.runtimeCode === undefined) return undefined;
  if (err.delivery === 'not_delivered') return `the request never reached the cluster (${err.runtimeCode}); nothing changed, so it is safe to run the command again`;
  return `no answer (${err.runtimeCode}): the change may or may not have been made; check (e.g. \`troupe fs stat\`) before running it again`;
}
