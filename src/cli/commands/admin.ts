import type { Command } from 'commander';
import type { GfsResult } from '../../actors/gfs/errors.js';
import type { FsckReport, MasterMsg } from '../../actors/gfs/protocol.js';
import { ADMIN_ACTOR, type AdminMsg } from '../../cluster/admin.js';
import { CLUSTER_NODE, MASTER_REF } from '../../cluster/local-cluster.js';
import { layoutOf, loadSpec } from '../../cluster/spec.js';
import { GfsClientError } from '../../actors/gfs/client/client.js';
import type { Register } from '../program.js';
import { ExitCode } from '../program.js';
import { addClientFlags, withCluster, type ClientFlags } from './client-options.js';

/** `troupe fsck` and `troupe admin decommission|kill|restart <server>`. */
export const registerAdmin: Register = (program: Command) => {
  addClientFlags(program.command('fsck [path]').description('report missing, under-replicated, stale and corrupt chunks with their files')).action(async (path: string | undefined, o: ClientFlags) => {
    await withCluster(o, async ({ client }) => {
      const r = await client.fsck(path ?? '/');
      if (o.json === true) process.stdout.write(`${JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}\n`);
      else process.stdout.write(formatFsck(r));
      if (r.missing > 0 || r.underReplicated > 0) process.exitCode = ExitCode.failure;
    });
  });

  const admin = program.command('admin').description('operate the servers of a running cluster');
  const send = (o: ClientFlags, describe: string, msg: MasterMsg | AdminMsg, to: 'master' | 'admin'): Promise<void> =>
    withCluster(o, async (conn) => {
      // The admin actor runs on the server's node: `troupe` for the one-node cluster, else the part of `<node>-cs<i>`.
      const server = 'server' in msg ? msg.server : '';
      const adminNode = o.config === undefined ? CLUSTER_NODE : server.replace(/-cs\d+$/, '');
      const ref = to === 'master' ? (o.config === undefined ? MASTER_REF : { node: layoutOf(loadSpec(o.config)).primary, id: 'master' }) : { node: adminNode, id: ADMIN_ACTOR };
      const r = await conn.ask<GfsResult<unknown>>(ref as never, msg, { timeoutMs: 30_000 });
      if (!r.ok) throw GfsClientError.of(r.error);
      if (o.json === true) process.stdout.write(`${JSON.stringify({ ok: true, ...(r.value as object) })}\n`);
      else process.stdout.write(`${describe}\n`);
    });
  addClientFlags(admin.command('decommission <server>').description('move every replica off a chunkserver, then mark it decommissioned')).action((server: string, o: ClientFlags) =>
    send(o, `${server}: decommissioning (see \`troupe status\`)`, { type: 'gfs.master.decommission', server }, 'master'),
  );
  addClientFlags(admin.command('kill <server>').description('stop a chunkserver as if its machine failed')).action((server: string, o: ClientFlags) =>
    send(o, `${server}: killed`, { type: 'troupe.admin.kill', server }, 'admin'),
  );
  addClientFlags(admin.command('restart <server>').description('start a killed chunkserver again on its data')).action((server: string, o: ClientFlags) =>
    send(o, `${server}: running`, { type: 'troupe.admin.restart', server }, 'admin'),
  );
};

function formatFsck(r: FsckReport): string {
  const lines = [
    `  ${r.files} files, ${r.chunks} chunks: ${r.missing} missing, ${r.underReplicated} under-replicated, ${r.staleReplicas} stale replicas, ${r.corruptReplicas} corrupt replicas`,
    ...r.problems.map(
      (p) =>
        `  ${p.state.padEnd(16)} ${p.path} chunk ${p.index} (${p.handle.toString(16)}): ${p.live.length}/${p.goal} live [${p.live.join(', ')}]${p.stale.length > 0 ? `, stale on ${p.stale.join(', ')}` : ''}${p.corrupt.length > 0 ? `, corrupt on ${p.corrupt.join(', ')}` : ''}`,
    ),
    `  status: ${r.missing > 0 ? 'CORRUPT (data missing)' : r.underReplicated > 0 ? 'DEGRADED (re-replication under way)' : 'HEALTHY'}`,
    '',
  ];
  return lines.join('\n');
}
