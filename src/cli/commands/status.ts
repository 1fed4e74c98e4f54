import type { Command } from 'commander';
import type { Register } from '../program.js';
import { addClientFlags, withCluster, type ClientFlags } from './client-options.js';

/** `troupe status`: the cluster at a glance, like `ceph -s`. */
export const registerStatus: Register = (program: Command) => {
  addClientFlags(program.command('status').description('cluster health: servers up/down, capacity, files, chunks, replication')).action(async (o: ClientFlags) => {
    await withCluster(o, async (conn) => {
      const s = await conn.status();
      if (o.json === true) {
        process.stdout.write(`${JSON.stringify(s)}\n`);
        return;
      }
      const up = s.servers.filter((x) => x.alive).length;
      const used = s.servers.reduce((a, x) => a + x.usedBytes, 0);
      const cap = s.servers.reduce((a, x) => a + x.capacityBytes, 0);
      const health = up === 0 ? 'HEALTH_ERR' : s.missing > 0 || s.underReplicated > 0 || up < s.servers.length ? 'HEALTH_WARN' : 'HEALTH_OK';
      const gib = (b: number): string => `${(b / 1024 ** 3).toFixed(1)} GiB`;
      process.stdout.write(
        [
          `  health:   ${health}`,
          `  master:   ${s.master} (${s.role}), log at ${s.lsn}`,
          `  servers:  ${up} up, ${s.servers.length - up} down${s.servers.some((x) => x.decommission !== 'none') ? `, ${s.servers.filter((x) => x.decommission !== 'none').length} decommissioning/ed` : ''}`,
          `  capacity: ${gib(used)} used of ${gib(cap)}`,
          `  files:    ${s.files} in ${s.directories} directories, ${s.chunks} chunks`,
          `  chunks:   ${s.underReplicated} under-replicated, ${s.missing} missing, ${s.clonesInFlight} clones in flight, ${s.leases} leases`,
          ...s.servers.map((x) => `    ${x.server.padEnd(6)} ${x.rack.padEnd(6)} ${x.alive ? 'up  ' : 'DOWN'} ${String(x.chunks).padStart(6)} chunks ${gib(x.usedBytes).padStart(10)}`),
          '',
        ].join('\n'),
      );
    });
  });
};
