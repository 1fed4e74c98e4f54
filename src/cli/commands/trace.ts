import { resolve } from 'node:path';
import type { Command } from 'commander';
import { formatTraceEntry, logFilesIn, readMatchingLines, traceOf } from '../../cluster/trace.js';
import type { Register } from '../program.js';
import { ExitCode } from '../program.js';

/**
 * `troupe trace <request-id>`: one operation's timeline across actors, from the log files (README:
 * Logs and tracing). Reads files only; the cluster need not be running.
 */
export const registerTrace: Register = (program: Command) => {
  program
    .command('trace <request-id>')
    .description('show one request\'s timeline across the client, the master and the chunkservers, from the log files')
    .option('--data-dir <dir>', 'a data directory (its logs/) or a directory of log files (default ./troupe-data); repeat for logs collected from several hosts', (v: string, prev: string[] | undefined) => [...(prev ?? []), v])
    .option('--json', 'print the entries as JSON')
    .action(async (rid: string, o: { dataDir?: string[]; json?: boolean }) => {
      const dirs = (o.dataDir ?? ['./troupe-data']).map((d) => resolve(d));
      const files = dirs.flatMap(logFilesIn);
      if (files.length === 0) {
        process.stderr.write(`troupe: no log files in ${dirs.join(', ')} (a cluster logs to <data-dir>/logs; name its data directory with --data-dir)\n`);
        process.exitCode = ExitCode.failure;
        return;
      }
      const sources = await Promise.all(files.map(async (file) => ({ file, lines: await readMatchingLines(file, rid) })));
      const entries = traceOf(rid, sources);
      if (entries.length === 0) {
        process.stderr.write(`troupe: no log entry has request id ${rid} (searched ${files.length} log files in ${dirs.join(', ')}; entries below the log level are not written)\n`);
        process.exitCode = ExitCode.failure;
        return;
      }
      if (o.json === true) {
        process.stdout.write(`${JSON.stringify({ requestId: rid, entries })}\n`);
        return;
      }
      const nodes = new Set(entries.map((e) => (e.actor === undefined ? e.node : `${e.actor}@${e.node}`)));
      process.stdout.write(`request ${rid}: ${entries.length} entries from ${[...nodes].join(', ')}\n${entries.map((e) => `${formatTraceEntry(e)}\n`).join('')}`);
    });
};
