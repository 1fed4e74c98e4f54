import { InvalidArgumentError, type Command } from 'commander';
import { startLocalCluster } from '../../cluster/local-cluster.js';
import type { LogLevel } from '../../runtime/log.js';
import { logLevelFromEnv } from '../../runtime/node/file-log.js';
import type { Register } from '../program.js';
import { LOG_LEVEL_HELP, parseBytes, parseLogLevel, parsePort, parsePositiveInt } from './client-options.js';

/**
 * `troupe up` (what `npm start` runs): a one-node GFS cluster on this machine with defaults a user
 * need not change, until Ctrl-C; running it again on the same data directory recovers every file.
 */
/** The client flags a user must repeat when the cluster does not use the defaults. */
function flagsFor(dataDirFlag: string, port: number, dataDir: string): string {
  return `${dataDirFlag === './troupe-data' ? '' : ` --data-dir ${dataDir}`}${port === 7070 ? '' : ` --port ${port}`}`;
}

type System = 'gfs' | 'ceph' | 'coord';

function parseSystems(v: string): System[] {
  const parts = v.split(',').map((x) => x.trim());
  const out: System[] = [];
  for (const p of parts) {
    if (p !== 'gfs' && p !== 'ceph' && p !== 'coord') throw new InvalidArgumentError(`systems are gfs, ceph and coord (e.g. gfs,coord), got '${p}'`);
    if (!out.includes(p)) out.push(p);
  }
  return out;
}

export const registerUp: Register = (program: Command) => {
  program
    .command('up')
    .description('start a one-node cluster on this machine: GFS (master, master replica, shadow master, chunkservers on worker threads) and/or a Ceph-style cluster (3 monitors, OSDs on worker threads)')
    .option('--system <list>', 'which systems to run, comma-separated: gfs, ceph, coord (a 3-server ZooKeeper-compatible ensemble)', parseSystems, ['gfs'] as System[])
    .option('--zk-port <port>', 'client port of the first coord server; the others take the next ones', parsePort, 2181)
    .option('--osds <n>', 'OSDs of a new Ceph-style cluster (one host each, spread over --racks)', parsePositiveInt, 4)
    .option('--data-dir <dir>', 'where the cluster keeps its files', './troupe-data')
    .option('--chunkservers <n>', 'chunkservers', parsePositiveInt, 4)
    .option('--racks <n>', 'rack labels to spread the chunkservers over', parsePositiveInt, 2)
    .option('--workers <n>', 'worker threads for the chunkservers', parsePositiveInt, 2)
    .option('--host <host>', 'address to listen on for clients', '127.0.0.1')
    .option('--port <port>', 'port to listen on for clients', parsePort, 7070)
    .option('--web-port <port>', "port of the dashboard and /metrics on --host (0 picks one, 'off' for none)", (v: string) => (v === 'off' ? false : parsePort(v)), 7080 as number | false)
    .option('--chunk-size <size>', 'chunk size for a new cluster (e.g. 64MiB); an existing cluster keeps its own', parseBytes, 64 * 1024 * 1024)
    .option('--for <ms>', 'stop after this many milliseconds (default: until Ctrl-C)', parsePositiveInt)
    .option('--log-level <level>', LOG_LEVEL_HELP, parseLogLevel)
    .action(async (o: { system: System[]; zkPort: number; osds: number; dataDir: string; chunkservers: number; racks: number; workers: number; host: string; port: number; webPort: number | false; chunkSize: number; for?: number; logLevel?: LogLevel }) => {
      const level = o.logLevel ?? logLevelFromEnv();
      // Listen for Ctrl-C first, so the first one is always a clean shutdown.
      const stopped = new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
        if (o.for !== undefined) setTimeout(resolve, o.for);
      });
      const cluster = await startLocalCluster({
        dataDir: o.dataDir,
        chunkservers: o.chunkservers,
        racks: o.racks,
        workers: o.workers,
        host: o.host,
        port: o.port,
        chunkSizeBytes: o.chunkSize,
        webPort: o.webPort,
        // Log files in <data-dir>/logs; warnings and errors on stderr too.
        log: { level },
        gfs: o.system.includes('gfs'),
        ...(o.system.includes('ceph') ? { ceph: { osds: o.osds, racks: o.racks } } : {}),
        ...(o.system.includes('coord') ? { coord: { basePort: o.zkPort } } : {}),
      }).catch((err: unknown) => {
        const msg = err instanceof Error ? err.message : String(err);
        if (/EADDRINUSE/.test(msg) && o.webPort !== false && msg.includes(`:${o.webPort}`)) throw new Error(`dashboard port ${o.webPort} is in use — is another cluster running? (choose another with --web-port, or --web-port off)`);
        if (/EADDRINUSE/.test(msg) && o.system.includes('coord') && /:21\d\d\b/.test(msg)) throw new Error(`a coord client port is in use (${msg}) — is ZooKeeper or another cluster running? (choose others with --zk-port)`);
        if (/EADDRINUSE/.test(msg)) throw new Error(`port ${o.port} is in use — is another cluster running? (choose another with --port)`);
        throw err;
      });
      const { data, address } = cluster;
      const gfs = o.system.includes('gfs');
      const ceph = cluster.ceph;
      const coord = cluster.coord;
      const flags = flagsFor(o.dataDir, address.port, data.dir);
      const lines = [
        `troupe: cluster ${data.identity.clusterId} ${data.created ? 'created' : 'recovered'} in ${data.dir}`,
        ...(gfs ? [`  master, master replica, shadow master   node ${cluster.node.node}, main thread (operation logs in ${data.dir}/master, ${data.dir}/master-replica)`] : []),
        ...cluster.chunkservers.map((c) => `  chunkserver ${c.id.padEnd(5)} ${c.rack.padEnd(6)}        worker thread ${c.worker}, data in ${data.dir}/${c.id}`),
        ...(ceph === undefined
          ? []
          : [
              `  ceph monitors mon0 mon1 mon2            node ${cluster.node.node}, main thread (Paxos logs in ${data.dir}/ceph/mon0..2); osdmap epoch ${ceph.map.epoch}${ceph.created ? ', new map' : ', recovered'}`,
              ...ceph.osds.map((x) => `  osd.${String(x.id).padEnd(3)}      ${x.rack.padEnd(6)}        worker thread ${x.worker} (object store in ${data.dir}/ceph/osd${x.id})`),
            ]),
        ...(coord === undefined ? [] : [`  coord servers ${coord.servers.map((s) => `zk${s.id}`).join(' ')}               node ${cluster.node.node}, main thread (Zab logs and snapshots in ${data.dir}/coord/zk1..${coord.servers.length})`, `  zookeeper connect string: ${coord.connectString}`]),
        `  logs: ${data.dir}/logs (level ${level}; \`./troupe trace <request-id>\` follows one request through them)`,
        `  clients: ${address.host}:${address.port} (secret in ${data.dir}/secret, mode 0600; chunk size ${data.identity.chunkSizeBytes} bytes)`,
        ...(cluster.dashboardUrl === undefined ? [] : [`  dashboard: ${cluster.dashboardUrl}/   metrics: ${cluster.dashboardUrl}/metrics`]),
        '',
        'try (in another terminal; `npx troupe …` where Troupe is an installed dependency):',
        ...(gfs ? [`  ./troupe status${flags}`, `  ./troupe fs mkdir /demo${flags}`, `  ./troupe fs put README.md /demo/readme${flags}`, `  ./troupe fs cat /demo/readme${flags}`] : []),
        ...(coord === undefined ? [] : [`  /usr/share/zookeeper/bin/zkCli.sh -server ${coord.connectString} create /demo hello`]),
        ...(ceph === undefined ? [] : [`  ./troupe ceph status${flags}`, `  ./troupe ceph osd tree${flags}`, `  ./troupe ceph osd map ${'rbd'} myobject${flags}`]),
        '',
        'Ctrl-C to stop',
        '',
      ];
      process.stdout.write(lines.join('\n'));
      await stopped;
      await cluster.close();
      process.stdout.write('troupe: stopped cleanly; `npm start` again recovers every file\n');
    });
};
