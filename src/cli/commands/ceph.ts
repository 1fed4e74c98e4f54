import { randomUUID } from 'node:crypto';
import { InvalidArgumentError, type Command } from 'commander';
import type { ActorRef } from '../../runtime/ref.js';
import { CLUSTER_NODE } from '../../cluster/local-cluster.js';
import { adminMonitorClient, monRefs } from '../../cluster/ceph-cluster.js';
import { cephLayoutOf, loadSpec } from '../../cluster/spec.js';
import type { ClusterConnection } from '../../cluster/connect.js';
import { MonitorClient } from '../../actors/rados/monitor/client.js';
import type { MonError, MonResult } from '../../actors/rados/monitor/errors.js';
import type { MonitorMsg } from '../../actors/rados/monitor/protocol.js';
import { cephStatus, healthDetail, osdTree, pgRows, type MonSummary, type PgRow } from '../../actors/rados/mon/cluster-status.js';
import { DEFAULT_PG_STATS_CONFIG } from '../../actors/rados/config.js';
import { refOfAddr, type OsdMsg } from '../../actors/rados/osd/osd.js';
import { formatPgid, parsePgid } from '../../actors/rados/osd/pg-stats.js';
import type { PgCommand, PgCommandReply, PgStatsGet, PgStatsView } from '../../actors/rados/protocol.js';
import { describeObjectMapping, objectMapping, pgMapping } from '../../actors/rados/osdmap/mapping.js';
import { OSD_WEIGHT_FULL, findPool, type OsdMap, type ReplicationMode } from '../../actors/rados/osdmap/osd-map.js';
import type { OsdMonCommand } from '../../actors/rados/protocol.js';
import { ExitCode, type Register } from '../program.js';
import { addClientFlags, withCluster, type ClientFlags } from './client-options.js';

/**
 * `troupe ceph …`: the Ceph-style cluster's admin commands, in the manner of the `ceph` tool.
 * Commands go to any monitor (the client tries the next when one does not answer or is outside
 * the quorum); `--mon RANK` sends to that monitor only. Exit codes: 1 when the monitors refuse the
 * command (unknown pool or OSD, pg_num decrease, a rule that cannot place the replicas, …), 3 when
 * no monitor in a quorum answers, 2 for bad arguments.
 */
type CephFlags = ClientFlags & { mon?: number };

/** A monitor's refusal or unavailability, with the exit code it maps to. */
class CephCommandError extends Error {
  constructor(
    readonly error: MonError,
    readonly exitCode: number,
  ) {
    super(`${error.serviceCode ?? error.code}: ${error.message}`);
  }
}

function parseRank(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`a monitor rank is a non-negative integer, got '${v}'`);
  return n;
}

function parseOsdId(v: string): number {
  const s = v.startsWith('osd.') ? v.slice(4) : v;
  const n = Number(s);
  if (!/^\d+$/.test(s) || !Number.isSafeInteger(n)) throw new InvalidArgumentError(`an OSD id is a non-negative integer (or osd.N), got '${v}'`);
  return n;
}

function parseWeight(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError(`a reweight is a number in [0, 1], got '${v}'`);
  return n;
}

function parseReplication(v: string): ReplicationMode {
  const mode = v === 'primary' ? 'primary-copy' : v;
  if (mode !== 'primary-copy' && mode !== 'chain' && mode !== 'splay') throw new InvalidArgumentError(`replication is primary, chain or splay, got '${v}'`);
  return mode;
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError(`expected a positive integer, got '${v}'`);
  return n;
}

/** The monitors: the one-node cluster's, or those a multi-host spec (`--config`) names. */
function monitorsOf(flags: CephFlags): ActorRef<MonitorMsg>[] {
  if (flags.config === undefined) return monRefs(CLUSTER_NODE);
  const mons = cephLayoutOf(loadSpec(flags.config)).monitors;
  if (mons.length === 0) throw new CephCommandError({ code: 'invalid_request', message: `the cluster spec ${flags.config} has no node with the "monitor" role` }, ExitCode.usage);
  return mons;
}

function clientFor(conn: ClusterConnection, flags: CephFlags): MonitorClient {
  const all = monitorsOf(flags);
  if (flags.mon !== undefined && all[flags.mon] === undefined) throw new CephCommandError({ code: 'invalid_request', message: `no monitor of rank ${flags.mon} (ranks 0..${all.length - 1})` }, ExitCode.usage);
  const monitors = flags.mon === undefined ? all : [all[flags.mon] as ActorRef<MonitorMsg>];
  const ask = <R>(to: ActorRef<MonitorMsg>, msg: MonitorMsg, o: { timeoutMs?: number }): Promise<R> => conn.node.system.ask<R>(to, msg, o);
  // One monitor, one attempt: its own answer (e.g. no_quorum on the minority side) is the result.
  return flags.mon === undefined ? adminMonitorClient(ask, monitors) : new MonitorClient({ ask, monitors, timeoutMs: 3_000, attemptsMax: 1 });
}

/** A request id for one command of this invocation: the client's retries of it commit it once (monitor README P10). */
function once(): { requestId: string } {
  return { requestId: `troupe-cli:${randomUUID()}` };
}

function unwrap<T>(r: MonResult<T>): T {
  if (r.ok) return r.value;
  const code = r.error.code;
  const exit = code === 'rejected' || code === 'invalid_request' || code === 'outcome_unknown' ? ExitCode.failure : ExitCode.unavailable;
  throw new CephCommandError(r.error, exit);
}

async function readMap(client: MonitorClient): Promise<OsdMap> {
  const v = unwrap(await client.read<OsdMap>());
  if (v.state === undefined) throw new CephCommandError({ code: 'unavailable', message: 'the monitor sent no map' }, ExitCode.unavailable);
  return v.state;
}

async function monSummaries(client: MonitorClient, flags: CephFlags): Promise<MonSummary[]> {
  const all = monitorsOf(flags);
  return Promise.all(all.map(async (_, rank) => {
    const r = await client.status(rank);
    return { rank, name: `mon${rank}`, status: r.ok ? r.value : undefined };
  }));
}

/** Runs a `ceph` command: connection, monitor client, and the exit codes of its errors. */
async function run(flags: CephFlags, fn: (client: MonitorClient, allMons: MonitorClient, conn: ClusterConnection) => Promise<void>): Promise<void> {
  await withCluster(flags, async (conn) => {
    try {
      const ask = <R>(to: ActorRef<MonitorMsg>, msg: MonitorMsg, o: { timeoutMs?: number }): Promise<R> => conn.node.system.ask<R>(to, msg, o);
      await fn(clientFor(conn, flags), adminMonitorClient(ask, monitorsOf(flags), 2_000), conn);
    } catch (err) {
      if (!(err instanceof CephCommandError)) throw err;
      process.stderr.write(`troupe: ${err.message}\n`);
      if (flags.json === true) process.stdout.write(`${JSON.stringify({ ok: false, code: err.error.serviceCode ?? err.error.code, message: err.error.message })}\n`);
      process.exitCode = err.exitCode;
    }
  });
}

/** Parses a positional argument; a bad one is a usage error (exit 2) with the parser's message. */
function arg<T>(parse: (v: string) => T, v: string): T | undefined {
  try {
    return parse(v);
  } catch (err) {
    process.stderr.write(`troupe: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = ExitCode.usage;
    return undefined;
  }
}

function out(flags: CephFlags, value: unknown, text: () => string): void {
  process.stdout.write(flags.json === true ? `${JSON.stringify(value)}\n` : text());
}

/** The PG statistics the OSDs reported, from the first monitor that answers (each gets every report). */
async function readPgStats(conn: ClusterConnection, flags: CephFlags): Promise<PgStatsView> {
  const all = monitorsOf(flags);
  const mons = flags.mon === undefined ? all : all.filter((_, r) => r === flags.mon);
  let last = 'no monitor answered';
  for (const m of mons) {
    try {
      const msg: PgStatsGet = { type: 'rados.mon.pgStatsGet' };
      return await conn.node.system.ask<PgStatsView>(m as unknown as ActorRef<PgStatsGet>, msg, { timeoutMs: 2_000 });
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
  }
  throw new CephCommandError({ code: 'unavailable', message: `no monitor answered for PG statistics (${last})` }, ExitCode.unavailable);
}

function parsePgidArg(v: string): string {
  const id = parsePgid(v);
  if (id === undefined) throw new InvalidArgumentError(`a PG id is POOL.SEED with the seed in hex (e.g. 1.1f), got '${v}'`);
  return formatPgid(id.pool, id.ps);
}

/** Sends a PG command to the PG's primary OSD (as Ceph's monitors forward `pg scrub` to it). */
async function askPrimary(conn: ClusterConnection, map: OsdMap, pgid: string, command: PgCommand['command']): Promise<Extract<PgCommandReply, { ok: true }>> {
  const id = parsePgid(pgid) as { pool: number; ps: number };
  const pool = map.pools.find((p) => p.id === id.pool);
  if (pool === undefined || id.ps >= pool.pgNum) throw new CephCommandError({ code: 'rejected', serviceCode: 'unknown_pg', message: `pg ${pgid} does not exist at epoch ${map.epoch}` }, ExitCode.failure);
  const primary = pgMapping(map, pool.id, id.ps)?.primary ?? -1;
  const ref = primary < 0 ? undefined : refOfAddr<OsdMsg>(map.osds[primary]?.addr ?? '');
  if (ref === undefined) throw new CephCommandError({ code: 'unavailable', serviceCode: 'pg_inactive', message: `pg ${pgid} has no primary up at epoch ${map.epoch}` }, ExitCode.unavailable);
  let r: PgCommandReply;
  try {
    r = await conn.node.system.ask<PgCommandReply>(ref, { type: 'rados.osd.pgCommand', pgid, command }, { timeoutMs: 5_000 });
  } catch (err) {
    throw new CephCommandError({ code: 'unavailable', message: `osd.${primary} did not answer: ${err instanceof Error ? err.message : String(err)}` }, ExitCode.unavailable);
  }
  if (!r.ok) throw new CephCommandError({ code: 'rejected', serviceCode: r.code, message: r.message }, r.code === 'unknown_pg' || r.code === 'not_primary' ? ExitCode.failure : ExitCode.unavailable);
  return r;
}

const stamp = (ms: number): string => (ms > 0 ? new Date(ms).toISOString() : '-');

function bytesText(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}

/** One `pg dump` row as JSON: the shown state, where it came from, and the primary's report. */
function dumpRow(r: PgRow): Record<string, unknown> {
  return { pgid: r.pgid, state: r.state, source: r.stat === undefined ? 'map' : 'reported', up: r.up, acting: r.acting, primary: r.primary, ...(r.stat === undefined ? {} : { stat: r.stat }) };
}

async function submit(client: MonitorClient, cmd: OsdMonCommand): Promise<{ epoch: number; changed: boolean }> {
  const r = await client.submit(cmd, once());
  // no_change: the map already says so; report the current epoch, as `ceph osd out` does for an OSD already out.
  if (!r.ok && r.error.serviceCode === 'no_change') return { epoch: (await readMap(client)).epoch, changed: false };
  return { epoch: unwrap(r).version, changed: true };
}

/**
 * Ceph's word order for one command: `ceph pg PGID query` becomes `ceph pg query PGID`, which the
 * command parser can route (a subcommand cannot follow an operand). Everything else is unchanged.
 */
export function cephArgv(argv: readonly string[]): string[] {
  const out = [...argv];
  const at = out.findIndex((a, i) => a === 'ceph' && out[i + 1] === 'pg');
  const id = out[at + 2];
  if (at >= 0 && id !== undefined && parsePgid(id) !== undefined && out[at + 3] === 'query') {
    out[at + 2] = 'query';
    out[at + 3] = id;
  }
  return out;
}

export const registerCeph: Register = (program: Command) => {
  const ceph = program.command('ceph').description('Ceph-style cluster admin (status, health detail, pg stat/dump/query/scrub/deep-scrub/repair, osd tree/dump/out/in/down/reweight/map, osd pool create/ls/rm/set, mon stat)');
  const cmd = (parent: Command, spec: string, description: string): Command => addClientFlags(parent.command(spec).description(description)).option('--mon <rank>', 'send to this monitor only (no retry at another)', parseRank);

  cmd(ceph, 'status', 'cluster health, monitor quorum and leader, map epoch, OSDs up/in, pools, PG states').action(async (o: CephFlags) => {
    await run(o, async (client, all, conn) => {
      const map = await readMap(client);
      const reported = await readPgStats(conn, o).catch(() => undefined);
      const s = cephStatus(map, await monSummaries(all, o), reported?.stats ?? []);
      out(o, s, () => {
        const pgs = Object.entries(s.pgs.byState).sort().map(([k, v]) => `${v} ${k}`).join(', ');
        return [
          `  health: ${s.health}`,
          ...s.checks.map((c) => `          ${c}`),
          `  mon:    ${s.monitors.count} daemons, quorum ${s.monitors.quorum.map((r) => `mon${r}`).join(',') || '(none)'}${s.monitors.leader === undefined ? '' : `, leader mon${s.monitors.leader}`}${s.monitors.electionEpoch === undefined ? '' : `, election epoch ${s.monitors.electionEpoch}`}`,
          `  osdmap: e${s.epoch}: ${s.osds.total} osds: ${s.osds.up} up, ${s.osds.in} in`,
          `  pools:  ${s.pools} pools, ${s.pgs.total} pgs`,
          `  pgs:    ${pgs || '(none)'}${s.pgs.reported < s.pgs.total ? `   (${s.pgs.total - s.pgs.reported} of ${s.pgs.total} derived from the map: no report from their primary yet)` : ''}`,
          '',
        ].join('\n');
      });
    });
  });

  const mon = ceph.command('mon').description('monitor commands');
  cmd(mon, 'stat', 'monitor quorum, leader and election epoch').action(async (o: CephFlags) => {
    await run(o, async (_client, all) => {
      const mons = await monSummaries(all, o);
      const s = cephStatus({ epoch: 0, modifiedMs: 0, crush: '', osds: [], pools: [], poolIdMax: -1 } as unknown as OsdMap, mons);
      const lastCommitted = Math.max(0, ...mons.map((m) => m.status?.lastCommitted ?? 0));
      const value = { monitors: mons.map((m) => ({ rank: m.rank, name: m.name, role: m.status?.role ?? 'unreachable', lastCommitted: m.status?.lastCommitted })), quorum: s.monitors.quorum, leader: s.monitors.leader, electionEpoch: s.monitors.electionEpoch, lastCommitted };
      out(o, value, () => `e${lastCommitted}: ${mons.length} mons (${mons.map((m) => `${m.name}=${m.status?.role ?? 'unreachable'}`).join(', ')}), election epoch ${s.monitors.electionEpoch ?? '?'}, leader ${s.monitors.leader === undefined ? '(none)' : `${s.monitors.leader} mon${s.monitors.leader}`}, quorum ${s.monitors.quorum.join(',') || '(none)'}\n`);
    });
  });

  const pg = ceph.command('pg').description('placement groups: stat, dump, PGID query, scrub, deep-scrub, repair');
  cmd(pg, 'stat', 'PG counts by state, objects and bytes, recovery left (as `ceph pg stat`)').action(async (o: CephFlags) => {
    await run(o, async (client, _all, conn) => {
      const map = await readMap(client);
      const view = await readPgStats(conn, o);
      const rows = pgRows(map, view.stats);
      const byState: Record<string, number> = {};
      for (const r of rows) byState[r.state] = (byState[r.state] ?? 0) + 1;
      const objects = rows.reduce((n, r) => n + (r.stat?.objects ?? 0), 0);
      const bytes = rows.reduce((n, r) => n + (r.stat?.bytes ?? 0), 0);
      const degraded = rows.reduce((n, r) => n + (r.stat?.degradedObjects ?? 0), 0);
      const misplaced = rows.reduce((n, r) => n + (r.stat?.misplacedObjects ?? 0), 0);
      const reported = rows.filter((r) => r.stat !== undefined).length;
      const value = { epoch: map.epoch, pgs: rows.length, byState, reported, objects, bytes, degradedObjects: degraded, misplacedObjects: misplaced };
      out(o, value, () => {
        const states = Object.entries(byState).sort().map(([k, v]) => `${v} ${k}`).join(', ');
        const rec = degraded + misplaced > 0 ? `; ${degraded} object copies degraded, ${misplaced} misplaced` : '';
        return `${rows.length} pgs: ${states || '(none)'}; ${objects} objects, ${bytesText(bytes)} data${rec}${reported < rows.length ? ` (${rows.length - reported} pgs not yet reported: state from the map)` : ''}\n`;
      });
    });
  });
  cmd(pg, 'dump', 'every PG: state, objects, versions, up and acting sets, scrub stamps (as `ceph pg dump`)').action(async (o: CephFlags) => {
    await run(o, async (client, _all, conn) => {
      const map = await readMap(client);
      const view = await readPgStats(conn, o);
      const rows = pgRows(map, view.stats);
      out(o, { epoch: map.epoch, nowMs: view.nowMs, pgStats: rows.map(dumpRow) }, () => {
        const head = ['PG', 'OBJECTS', 'DEGRADED', 'MISPLACED', 'BYTES', 'LOG', 'STATE', 'STATE_SINCE', 'VERSION', 'REPORTED', 'UP', 'UP_PRIMARY', 'ACTING', 'ACTING_PRIMARY', 'INCONSISTENT', 'SCRUB_STAMP', 'DEEP_SCRUB_STAMP'];
        const lines = rows.map((r) => {
          const st = r.stat;
          return [r.pgid, st?.objects ?? '-', st?.degradedObjects ?? '-', st?.misplacedObjects ?? '-', st?.bytes ?? '-', st?.logEntries ?? '-', r.state, stamp(st?.stateSinceMs ?? 0), st?.lastUpdate ?? '-', st === undefined ? '(map)' : `e${st.epoch}:osd.${st.reporter ?? st.primary}`, `[${r.up.join(',')}]`, r.up[0] ?? -1, `[${r.acting.join(',')}]`, r.primary, st?.inconsistentObjects ?? '-', stamp(st?.lastScrubMs ?? 0), stamp(st?.lastDeepScrubMs ?? 0)].join('  ');
        });
        return [`epoch ${map.epoch}`, head.join('  '), ...lines, ''].join('\n');
      });
    });
  });
  for (const verb of ['scrub', 'deep-scrub', 'repair'] as const) {
    const what = verb === 'scrub' ? 'compare object lists, sizes, versions and attributes across the acting set' : verb === 'deep-scrub' ? 'also read every object on every replica and compare CRC32C digests' : 'deep-scrub and repair inconsistent objects from the authoritative copy';
    cmd(pg, `${verb} <pgid>`, `${what} (runs in the background at the primary)`).action(async (pgidArg: string, o: CephFlags) => {
      const pgid = arg(parsePgidArg, pgidArg);
      if (pgid === undefined) return;
      await run(o, async (client, _all, conn) => {
        const r = await askPrimary(conn, await readMap(client), pgid, verb);
        out(o, { ok: true, pgid, osd: r.osd, command: verb, epoch: r.epoch }, () => `${r.message}\n`);
      });
    });
  }
  // `pg PGID query` as Ceph spells it: main.ts rewrites it to this (`cephArgv`).
  cmd(pg, 'query <pgid>', 'the PG as its primary sees it: state, versions, scrub state and inconsistent objects (JSON, as `ceph pg PGID query`)').action(async (pgidArg: string, o: CephFlags) => {
    const pgid = arg(parsePgidArg, pgidArg);
    if (pgid === undefined) return;
    await run(o, async (client, _all, conn) => {
      const r = await askPrimary(conn, await readMap(client), pgid, 'query');
      // Ceph prints `pg query` as JSON whatever the format flag says; so does this (indented unless --json).
      process.stdout.write(`${JSON.stringify({ pgid, osd: r.osd, epoch: r.epoch, ...r.query }, null, o.json === true ? undefined : 2)}\n`);
    });
  });

  const health = ceph.command('health').description('cluster health');
  cmd(health, 'detail', 'each health problem with the PGs and OSDs behind it: inactive, degraded, undersized, stuck and inconsistent PGs').action(async (o: CephFlags) => {
    await run(o, async (client, all, conn) => {
      const map = await readMap(client);
      const view = await readPgStats(conn, o).catch(() => undefined);
      const d = healthDetail(map, await monSummaries(all, o), view?.stats ?? [], view?.nowMs ?? Date.now(), DEFAULT_PG_STATS_CONFIG.stuckThresholdMs);
      out(o, d, () => [`${d.health}${d.checks.length === 0 ? '' : ` ${d.checks.map((c) => c.summary).join('; ')}`}`, ...d.checks.flatMap((c) => [`[${c.severity === 'HEALTH_ERR' ? 'ERR' : 'WRN'}] ${c.code}: ${c.summary}`, ...c.detail.map((l) => `    ${l}`)]), ''].join('\n'));
    });
  });

  const osd = ceph.command('osd').description('OSD and pool commands');
  cmd(osd, 'tree', 'the CRUSH hierarchy with each OSD up/down and its reweight').action(async (o: CephFlags) => {
    await run(o, async (client) => {
      const rows = osdTree(await readMap(client));
      out(o, rows, () => ['ID   WEIGHT   TYPE NAME             STATUS  REWEIGHT', ...rows.map((r) => `${String(r.id).padEnd(4)} ${r.weight.toFixed(5).padStart(8)} ${`${'  '.repeat(r.depth)}${r.type} ${r.name}`.padEnd(22)}${r.status === undefined ? '' : ` ${r.status.padEnd(7)} ${(r.reweight ?? 0).toFixed(5)}`}`), ''].join('\n'));
    });
  });
  cmd(osd, 'dump', 'the OSD map: epoch, pools, OSDs').action(async (o: CephFlags) => {
    await run(o, async (client) => {
      const m = await readMap(client);
      out(o, { epoch: m.epoch, modifiedMs: m.modifiedMs, pools: m.pools, osds: m.osds }, () =>
        [
          `epoch ${m.epoch}`,
          `modified ${new Date(m.modifiedMs).toISOString()}`,
          ...m.pools.map((p) => `pool ${p.id} '${p.name}' replicated size ${p.size} min_size ${p.minSize} crush_rule ${p.crushRule} pg_num ${p.pgNum} pgp_num ${p.pgpNum} replication ${p.replication}`),
          `max_osd ${m.osds.length}`,
          ...m.osds.map((x) => `osd.${x.id} ${x.up ? 'up  ' : 'down'} ${x.in ? 'in ' : 'out'} weight ${(x.weight / OSD_WEIGHT_FULL).toFixed(5)} up_from ${x.upFrom} ${x.addr || '-'}`),
          '',
        ].join('\n'),
      );
    });
  });
  for (const [verb, type] of [
    ['out', 'rados.mon.osdMarkOut'],
    ['in', 'rados.mon.osdMarkIn'],
    ['down', 'rados.mon.osdMarkDown'],
  ] as const) {
    cmd(osd, `${verb} <id>`, `mark an OSD ${verb}`).action(async (id: string, o: CephFlags) => {
      const osdId = arg(parseOsdId, id);
      if (osdId === undefined) return;
      await run(o, async (client) => {
        const c: OsdMonCommand = type === 'rados.mon.osdMarkIn' ? { type, osds: [osdId] } : { type, osds: [osdId], reason: 'admin' };
        const r = await submit(client, c);
        out(o, { ok: true, osd: osdId, ...r }, () => `${r.changed ? 'marked' : 'already'} ${verb} osd.${osdId}; osdmap e${r.epoch}\n`);
      });
    });
  }
  cmd(osd, 'reweight <id> <weight>', 'set an OSD\'s reweight in [0, 1]').action(async (id: string, w: string, o: CephFlags) => {
    const osdId = arg(parseOsdId, id);
    const weight = arg(parseWeight, w);
    if (osdId === undefined || weight === undefined) return;
    await run(o, async (client) => {
      const r = await submit(client, { type: 'rados.mon.osdReweight', osd: osdId, weight });
      out(o, { ok: true, osd: osdId, weight, ...r }, () => `reweighted osd.${osdId} to ${weight}; osdmap e${r.epoch}\n`);
    });
  });
  cmd(osd, 'map <pool> <object>', 'where an object lives: PG, up and acting sets (as `ceph osd map`)').action(async (poolName: string, object: string, o: CephFlags) => {
    await run(o, async (client) => {
      const m = await readMap(client);
      const pool = findPool(m, poolName);
      if (pool === undefined) throw new CephCommandError({ code: 'rejected', serviceCode: 'unknown_pool', message: `pool '${poolName}' does not exist` }, ExitCode.failure);
      const mapping = objectMapping(m, pool.id, object);
      out(o, { epoch: m.epoch, pool: pool.name, poolId: pool.id, object, ...mapping }, () => `${describeObjectMapping(m, pool.id, object) ?? ''}\n`);
    });
  });

  const pool = osd.command('pool').description('pool commands');
  cmd(pool, 'create <name> <pg_num>', 'create a replicated pool')
    .option('--size <n>', 'replicas per PG', positiveInt)
    .option('--min-size <n>', 'replicas a PG needs to serve I/O', positiveInt)
    .option('--replication <mode>', 'primary, chain or splay', parseReplication)
    .action(async (name: string, pgNum: string, o: CephFlags & { size?: number; minSize?: number; replication?: ReplicationMode }) => {
      const n = arg(positiveInt, pgNum);
      if (n === undefined) return;
      await run(o, async (client) => {
        const r = unwrap(await client.submit({ type: 'rados.mon.poolCreate', name, pgNum: n, ...(o.size === undefined ? {} : { size: o.size }), ...(o.minSize === undefined ? {} : { minSize: o.minSize }), ...(o.replication === undefined ? {} : { replication: o.replication }) }, once()));
        out(o, { ok: true, pool: name, epoch: r.version }, () => `pool '${name}' created; osdmap e${r.version}\n`);
      });
    });
  cmd(pool, 'ls', 'list the pools').action(async (o: CephFlags) => {
    await run(o, async (client) => {
      const m = await readMap(client);
      out(o, m.pools, () => m.pools.map((p) => `${p.name}\n`).join(''));
    });
  });
  cmd(pool, 'rm <name>', 'delete a pool').action(async (name: string, o: CephFlags) => {
    await run(o, async (client) => {
      const r = unwrap(await client.submit({ type: 'rados.mon.poolDelete', name }, once()));
      out(o, { ok: true, pool: name, epoch: r.version }, () => `pool '${name}' removed; osdmap e${r.version}\n`);
    });
  });
  cmd(pool, 'set <name> <key> <value>', 'set pg_num or pgp_num (they only grow; OSDs do not split PG data yet, so raising pg_num on a pool holding objects is refused)')
    .option('--yes-i-really-mean-it', 'raise pg_num although the pool holds objects: those that hash to new PGs become unreadable')
    .action(async (name: string, key: string, value: string, o: CephFlags & { yesIReallyMeanIt?: boolean }) => {
    const k = arg((v) => {
      if (v !== 'pg_num' && v !== 'pgp_num') throw new InvalidArgumentError(`only pg_num and pgp_num can be set, got '${v}'`);
      return v;
    }, key);
    const n = arg(positiveInt, value);
    if (k === undefined || n === undefined) return;
    await run(o, async (client, _all, conn) => {
      if (key === 'pg_num' && o.yesIReallyMeanIt !== true) {
        // The map would split the pool's PGs, but no OSD moves a split PG's objects into the new PGs yet (README, "PG splitting").
        const pool = (await readMap(client)).pools.find((p) => p.name === name);
        const objects = pool === undefined ? 0 : (await readPgStats(conn, o)).stats.filter((st) => st.pgid.startsWith(`${pool.id}.`)).reduce((a, st) => a + st.objects, 0);
        if (pool !== undefined && n > pool.pgNum && objects > 0) {
          throw new CephCommandError({ code: 'rejected', serviceCode: 'pg_split_unsupported', message: `pool '${name}' holds ${objects} objects, and the OSDs do not move a split PG's objects into its new PGs yet: raising pg_num would make those that hash to new PGs unreadable (--yes-i-really-mean-it to do it anyway)` }, ExitCode.failure);
        }
      }
      const r = unwrap(await client.submit({ type: 'rados.mon.poolSet', name, ...(key === 'pg_num' ? { pgNum: n } : { pgpNum: n }) }, once()));
      out(o, { ok: true, pool: name, [key]: n, epoch: r.version }, () => `set pool '${name}' ${key} to ${n}; osdmap e${r.version}\n`);
    });
  });
};
