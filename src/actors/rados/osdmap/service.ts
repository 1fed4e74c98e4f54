/**
 * The OSD monitor's decisions as a pure service the Paxos monitor hosts (thesis §6.2.4; digest
 * §3.4): the leader turns a command into the incremental to propose (`prepare`), every monitor
 * applies committed incrementals (`apply`). No I/O, no clock (`now` is passed in), no randomness.
 * README invariants R1–R5, R10–R12.
 */
import { defaultDeviceWeights, findRule, mapRule, pgToPlacementSeed } from '../crush/index.js';
import type { CrushMap, PoolPlacement } from '../crush/index.js';
import { DEFAULT_OSDMAP_CONFIG } from '../config.js';
import type { OsdMapConfig } from '../config.js';
import { radosError } from '../errors.js';
import type { RadosError } from '../errors.js';
import type { OsdMonCommand } from '../protocol.js';
import type { MonitorService } from '../monitor/service.js';
import { OSD_WEIGHT_FULL, REPLICATION_MODES, applyIncrementalOrThrow, crushMapOf, crushOf, emptyOsdMap, findPool, poolProblem } from './osd-map.js';
import type { OsdInfo, OsdMap, OsdMapIncremental, OsdPatch, Pool, PoolChange } from './osd-map.js';

export type PrepareResult<Inc> = ReturnType<MonitorService<unknown, unknown, Inc>['prepare']>;

type Prepared = { readonly ok: true; readonly inc: OsdMapIncremental; readonly reply?: unknown } | { readonly ok: false; readonly error: RadosError };

const err = (code: RadosError['code'], message: string): Prepared => ({ ok: false, error: radosError(code, message) });

/** The one-epoch incremental on top of `map` (R1: every change bumps the epoch by one). */
function nextInc(map: OsdMap, now: number, body: Omit<OsdMapIncremental, 'from' | 'epoch' | 'modifiedMs'>): OsdMapIncremental {
  return { from: map.epoch, epoch: map.epoch + 1, modifiedMs: now, ...body };
}

function osdIds(map: OsdMap, ids: unknown): RadosError | number[] {
  if (!Array.isArray(ids) || ids.length === 0) return radosError('invalid_command', 'osds must be a non-empty array of OSD ids');
  const out = new Set<number>();
  for (const id of ids) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) return radosError('invalid_command', `${String(id)} is not an OSD id`);
    if (id >= map.osds.length) return radosError('unknown_osd', `osd.${id} does not exist (the map has ${map.osds.length} OSDs)`);
    out.add(id);
  }
  return [...out].sort((a, b) => a - b);
}

/** Patches for the OSDs among `ids` that `want` selects, or `no_change` when none. */
function patchOsds(map: OsdMap, cmd: { osds: readonly number[] }, now: number, want: (o: OsdInfo) => boolean, patch: (o: OsdInfo) => OsdPatch, what: string, reply?: unknown): Prepared {
  const ids = osdIds(map, cmd.osds);
  if (!Array.isArray(ids)) return { ok: false, error: ids };
  const osds = ids.map((id) => map.osds[id] as OsdInfo).filter(want).map(patch);
  if (osds.length === 0) return err('no_change', `osd ${ids.join(', ')} already ${what}`);
  return { ok: true, inc: nextInc(map, now, { osds }), reply: reply ?? { epoch: map.epoch + 1, osds: osds.map((p) => p.id) } };
}

/**
 * Whether `rule` can place `size` distinct OSDs for every PG of the pool, with every OSD of the
 * hierarchy in at full weight (the rule's capability, not the current failures). Checks at most
 * `pgsChecked` PGs.
 */
export function placementProblem(crush: CrushMap, pool: Pool, pgsChecked = 1024): RadosError | null {
  const rule = crush.rules[pool.crushRule];
  if (!rule) return radosError('unknown_rule', `CRUSH rule ${pool.crushRule} does not exist`);
  if (pool.size < rule.minSize || pool.size > rule.maxSize) return radosError('rule_cannot_place', `rule ${rule.name} serves sizes ${rule.minSize}..${rule.maxSize}, not ${pool.size}`);
  const weights = defaultDeviceWeights(crush);
  const placement: PoolPlacement = { id: pool.id, pgNum: pool.pgNum, pgpNum: pool.pgpNum, size: pool.size, rule };
  const n = Math.min(pool.pgpNum, pgsChecked);
  for (let ps = 0; ps < n; ps++) {
    const x = pgToPlacementSeed(placement, { pool: pool.id, ps });
    const got = new Set(mapRule(crush, rule, x, pool.size, weights).filter((o) => o >= 0 && o < weights.length));
    if (got.size < pool.size) return radosError('rule_cannot_place', `rule ${rule.name} places only ${got.size} of ${pool.size} replicas for PG ${pool.id}.${ps.toString(16)} (too few failure domains or OSDs for size ${pool.size})`);
  }
  return null;
}

function isPositiveInt(v: unknown, max: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= max;
}

function preparePoolCreate(map: OsdMap, cmd: Extract<OsdMonCommand, { type: 'rados.mon.poolCreate' }>, now: number, cfg: OsdMapConfig): Prepared {
  if (typeof cmd.name !== 'string' || cmd.name === '' || cmd.name.length > 256) return err('invalid_command', 'pool name must be a non-empty string of at most 256 characters');
  if (findPool(map, cmd.name)) return err('pool_exists', `pool '${cmd.name}' already exists`);
  if (!isPositiveInt(cmd.pgNum, cfg.pgNumMax)) return err('invalid_command', `pg_num must be an integer in [1, ${cfg.pgNumMax}]`);
  const pgpNum = cmd.pgpNum ?? cmd.pgNum;
  if (!isPositiveInt(pgpNum, cmd.pgNum)) return err('invalid_command', `pgp_num must be an integer in [1, pg_num=${cmd.pgNum}]`);
  const size = cmd.size ?? cfg.poolSizeDefault;
  if (!isPositiveInt(size, 10)) return err('invalid_command', 'size must be an integer in [1, 10]');
  const minSize = cmd.minSize ?? Math.max(cfg.poolMinSizeMin, size - Math.floor(size / 2));
  if (!isPositiveInt(minSize, size)) return err('invalid_command', `min_size must be an integer in [1, size=${size}]`);
  const replication = cmd.replication ?? 'primary-copy';
  if (!REPLICATION_MODES.includes(replication)) return err('invalid_command', `replication must be one of ${REPLICATION_MODES.join(', ')}`);
  const crush = crushMapOf(map);
  if (!crush) return err('rule_cannot_place', 'the map has no CRUSH hierarchy yet (set one first)');
  const rule = findRule(crush, cmd.crushRule ?? 0);
  if (!rule) return err('unknown_rule', `CRUSH rule ${String(cmd.crushRule ?? 0)} does not exist`);
  const id = map.poolIdMax + 1;
  const pool: Pool = { id, name: cmd.name, size, minSize, pgNum: cmd.pgNum, pgpNum, crushRule: rule.id, replication };
  const problem = poolProblem(pool, crush, cfg.pgNumMax) ?? placementProblem(crush, pool);
  if (problem) return { ok: false, error: problem };
  return { ok: true, inc: nextInc(map, now, { pools: [{ id, pool }], poolIdMax: id }), reply: { epoch: map.epoch + 1, poolId: id } };
}

function preparePoolSet(map: OsdMap, cmd: Extract<OsdMonCommand, { type: 'rados.mon.poolSet' }>, now: number, cfg: OsdMapConfig): Prepared {
  const old = findPool(map, cmd.name);
  if (!old) return err('unknown_pool', `pool '${String(cmd.name)}' does not exist`);
  const pgNum = cmd.pgNum ?? old.pgNum;
  const pgpNum = cmd.pgpNum ?? old.pgpNum;
  if (!isPositiveInt(pgNum, cfg.pgNumMax) || !isPositiveInt(pgpNum, cfg.pgNumMax)) return err('invalid_command', `pg_num and pgp_num must be integers in [1, ${cfg.pgNumMax}]`);
  if (pgNum < old.pgNum || pgpNum < old.pgpNum) return err('pg_num_decrease', `pool '${old.name}': pg_num ${old.pgNum} and pgp_num ${old.pgpNum} may only grow (PGs split, never merge; thesis §6.2.1)`);
  if (pgpNum > pgNum) return err('invalid_command', `pgp_num ${pgpNum} may not exceed pg_num ${pgNum}`);
  if (pgNum === old.pgNum && pgpNum === old.pgpNum) return err('no_change', `pool '${old.name}' already has pg_num ${pgNum}, pgp_num ${pgpNum}`);
  const pool: Pool = { ...old, pgNum, pgpNum };
  const crush = crushMapOf(map) as CrushMap; // a pool exists, so the map has a hierarchy (R4)
  const problem = placementProblem(crush, pool);
  if (problem) return { ok: false, error: problem };
  return { ok: true, inc: nextInc(map, now, { pools: [{ id: old.id, pool }] }), reply: { epoch: map.epoch + 1 } };
}

function prepareSetCrush(map: OsdMap, cmd: Extract<OsdMonCommand, { type: 'rados.mon.setCrush' }>, now: number): Prepared {
  if (typeof cmd.crush !== 'string' || cmd.crush === '') return err('invalid_command', 'crush must be a CRUSH map in Ceph text syntax');
  // The same map again (e.g. several monitor hosts bootstrapping one cluster): nothing to change.
  if (cmd.crush === map.crush) return err('no_change', 'the map already has this CRUSH map');
  let crush: CrushMap;
  try {
    crush = crushOf(cmd.crush);
  } catch (e) {
    return err('malformed_map', `crush map does not parse: ${(e as Error).message}`);
  }
  for (const p of map.pools) {
    const problem = poolProblem(p, crush) ?? placementProblem(crush, p);
    if (problem) return { ok: false, error: radosError(problem.code, `pool '${p.name}': ${problem.message}`) };
  }
  // Devices without an OSD become OSDs: down and out until their first boot (Ceph: a new OSD is
  // out until it boots; `autoMarkNewInOnBoot` then marks it in).
  const osds: OsdPatch[] = [];
  for (let id = map.osds.length; id < crush.maxDevices; id++) osds.push({ id, up: false, in: false, addr: '', weight: OSD_WEIGHT_FULL, upFrom: 0, downSinceMs: now });
  return { ok: true, inc: nextInc(map, now, { crush: cmd.crush, ...(osds.length > 0 ? { osds } : {}) }), reply: { epoch: map.epoch + 1, osdsCreated: osds.length } };
}

/**
 * The leader's decision for one command (thesis §6.2.4): the incremental to propose, or a typed
 * error. `no_change` means the map already says what the command asks (e.g. a failure already
 * known): propose nothing and answer the sender with the incrementals it lacks.
 */
export function prepareOsdMapCommand(map: OsdMap, cmd: OsdMonCommand, now: number, cfg: OsdMapConfig = DEFAULT_OSDMAP_CONFIG): Prepared {
  if (typeof cmd !== 'object' || cmd === null) return err('invalid_command', 'a command must be an object');
  switch (cmd.type) {
    case 'rados.mon.osdBoot': {
      if (typeof cmd.osd !== 'number' || !Number.isInteger(cmd.osd) || cmd.osd < 0) return err('invalid_command', 'osd must be an OSD id');
      const o = map.osds[cmd.osd];
      if (!o) return err('unknown_osd', `osd.${cmd.osd} does not exist (the map has ${map.osds.length} OSDs)`);
      if (typeof cmd.addr !== 'string' || cmd.addr === '') return err('invalid_command', 'a booting OSD must give its address');
      if (o.up && o.addr === cmd.addr) return err('no_change', `osd.${cmd.osd} is already up at ${cmd.addr}`);
      // Up at a new address (restarted before anyone marked it down) counts as a new incarnation: upFrom moves.
      const markIn = cfg.autoMarkNewInOnBoot && o.upFrom === 0 && !o.in;
      const patch: OsdPatch = { id: o.id, up: true, addr: cmd.addr, upFrom: map.epoch + 1, downSinceMs: null, ...(markIn ? { in: true } : {}) };
      return { ok: true, inc: nextInc(map, now, { osds: [patch] }), reply: { epoch: map.epoch + 1 } };
    }
    case 'rados.mon.osdMarkDown':
      return patchOsds(map, cmd, now, (o) => o.up, (o) => ({ id: o.id, up: false, downSinceMs: now }), 'down');
    case 'rados.mon.osdMarkOut':
      return patchOsds(map, cmd, now, (o) => o.in, (o) => ({ id: o.id, in: false }), 'out');
    case 'rados.mon.osdMarkIn':
      return patchOsds(map, cmd, now, (o) => !o.in, (o) => ({ id: o.id, in: true }), 'in');
    case 'rados.mon.osdReweight': {
      const ids = osdIds(map, [cmd.osd]);
      if (!Array.isArray(ids)) return { ok: false, error: ids };
      if (typeof cmd.weight !== 'number' || !(cmd.weight >= 0 && cmd.weight <= 1)) return err('invalid_command', `weight ${String(cmd.weight)} must be in [0, 1]`);
      const weight = Math.trunc(cmd.weight * OSD_WEIGHT_FULL); // Ceph: (int)(CEPH_OSD_IN * w)
      return patchOsds(map, { osds: ids }, now, (o) => o.weight !== weight, (o) => ({ id: o.id, weight }), `at weight ${cmd.weight}`);
    }
    case 'rados.mon.setCrush':
      return prepareSetCrush(map, cmd, now);
    case 'rados.mon.poolCreate':
      return preparePoolCreate(map, cmd, now, cfg);
    case 'rados.mon.poolDelete': {
      const p = findPool(map, cmd.name);
      if (!p) return err('unknown_pool', `pool '${String(cmd.name)}' does not exist`);
      const change: PoolChange = { id: p.id, pool: null };
      return { ok: true, inc: nextInc(map, now, { pools: [change] }), reply: { epoch: map.epoch + 1 } };
    }
    case 'rados.mon.poolSet':
      return preparePoolSet(map, cmd, now, cfg);
    default: {
      const never: never = cmd;
      return err('invalid_command', `unknown command ${JSON.stringify((never as { type?: unknown }).type)}`);
    }
  }
}

/**
 * The down → out timer (digest §3.3; Ceph's `mon_osd_down_out_interval`): the leader's tick calls
 * this and proposes what it returns. An OSD down for `downOutIntervalMs` or longer and still in is
 * marked out, so CRUSH remaps its PGs and re-replication starts.
 */
export function downOutCommands(map: OsdMap, now: number, cfg: Pick<OsdMapConfig, 'downOutIntervalMs'> = DEFAULT_OSDMAP_CONFIG): OsdMonCommand[] {
  const due = map.osds.filter((o) => !o.up && o.in && o.downSinceMs !== null && now - o.downSinceMs >= cfg.downOutIntervalMs).map((o) => o.id);
  return due.length === 0 ? [] : [{ type: 'rados.mon.osdMarkOut', osds: due, reason: 'down_out' }];
}

/** The OSD-map service the monitor hosts: State = OsdMap, Cmd = OsdMonCommand, Inc = OsdMapIncremental. */
export function makeOsdMapService(cfg: OsdMapConfig = DEFAULT_OSDMAP_CONFIG): MonitorService<OsdMap, OsdMonCommand, OsdMapIncremental> {
  return {
    name: 'osdmap',
    initial: emptyOsdMap,
    prepare: (state, cmd, now) => prepareOsdMapCommand(state, cmd, now, cfg),
    // Committed incrementals were prepared against this very state; one that does not apply is a broken invariant.
    apply: applyIncrementalOrThrow,
  };
}

export const osdMapService = makeOsdMapService();

/** Ceph's PG count rule of thumb is µ ≈ 100 PGs per OSD (digest §3.2); pg_num for a pool that reaches it. */
export function pgNumFor(osds: number, size: number, pgsPerOsd = 100): number {
  return Math.max(1, Math.round((osds * pgsPerOsd) / size));
}
