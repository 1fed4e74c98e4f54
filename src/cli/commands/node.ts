import type { Command } from 'commander';
import { clientSecret } from '../../cluster/data-dir.js';
import { startSpecNode } from '../../cluster/spec-node.js';
import { loadSpec, secretFileOf, SpecError } from '../../cluster/spec.js';
import type { LogLevel } from '../../runtime/log.js';
import { logLevelFromEnv } from '../../runtime/node/file-log.js';
import type { Register } from '../program.js';
import { ExitCode } from '../program.js';
import { LOG_LEVEL_HELP, parseLogLevel } from './client-options.js';

/** `troupe node --config FILE --name NAME`: run one host of a multi-host cluster. */
export const registerNode: Register = (program: Command) => {
  program
    .command('node')
    .description('run this host\'s part of a multi-host cluster described by a spec file')
    .requiredOption('--config <file>', 'the cluster spec (JSON; the same file on every host)')
    .requiredOption('--name <name>', 'which node of the spec this host is')
    .option('--secret-file <file>', 'cluster secret file (default: the spec\'s "secretFile"; or set TROUPE_SECRET)')
    .option('--log-level <level>', LOG_LEVEL_HELP, parseLogLevel)
    .action(async (o: { config: string; name: string; secretFile?: string; logLevel?: LogLevel }) => {
      let spec;
      try {
        spec = loadSpec(o.config);
      } catch (err) {
        if (!(err instanceof SpecError)) throw err;
        process.stderr.write(`troupe: ${err.message}\n`);
        process.exitCode = ExitCode.usage;
        return;
      }
      const file = o.secretFile ?? secretFileOf(spec);
      const secret = process.env['TROUPE_SECRET'] ?? (file === undefined ? undefined : await clientSecret(file));
      if (secret === undefined || secret === '') {
        process.stderr.write(`troupe: no cluster secret: set TROUPE_SECRET, --secret-file, or "secretFile" in ${o.config}\n`);
        process.exitCode = ExitCode.usage;
        return;
      }
      const stopped = new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
      let node;
      try {
        node = await startSpecNode(spec, o.name, { secret, log: { level: o.logLevel ?? logLevelFromEnv() } });
      } catch (err) {
        if (!(err instanceof SpecError)) throw err;
        process.stderr.write(`troupe: ${err.message}\n`);
        process.exitCode = ExitCode.usage;
        return;
      }
      const me = spec.nodes[o.name] as { host: string; port: number };
      process.stdout.write(
        `troupe: node ${o.name} of cluster ${spec.cluster} listening on ${me.host}:${me.port}; roles: ${node.roles.join(', ')}` +
          `${node.chunkservers.length > 0 ? ` (${node.chunkservers.join(', ')})` : ''}; data in ${node.dataDir}; logs in ${node.dataDir}/logs\n` +
          `${node.coord === undefined ? '' : `coord server ${node.coord.server.id} on port ${node.coord.server.tcp.port}; zookeeper connect string: ${node.coord.connectString}\n`}Ctrl-C to stop\n`,
      );
      await stopped;
      await node.close();
      process.stdout.write(`troupe: node ${o.name} stopped cleanly\n`);
    });
};
