/**
 * A new cluster's first maps, built through the OSD-map service's own commands (like Ceph's
 * `osdmaptool --createsimple` followed by the OSDs' boots): a CRUSH hierarchy of racks, hosts and
 * OSDs, every OSD booted, and the requested pools. Used by the one-node cluster, the benches, the
 * map-propagation model and tests, so all of them start from maps the monitor could have made.
 */
import { buildCrushMap, printCrushMap } from '../crush/index.js';
import type { BucketSpec, Device, Rule } from '../crush/index.js';
import { DEFAULT_OSDMAP_CONFIG } from '../config.js';
import type { OsdMapConfig } from '../config.js';
import type { OsdMonCommand } from '../protocol.js';
import { applyIncrementalOrThrow, emptyOsdMap } from './osd-map.js';
import type { OsdMap, OsdMapIncremental, ReplicationMode } from './osd-map.js';
import { prepareOsdMapCommand } from './service.js';

export type FailureDomain = 'osd' | 'host' | 'rack';

export interface HierarchySpec {
  readonly osds: number;
  /** OSDs per host (the last host may hold fewer). */
  readonly osdsPerHost: number;
  /** Hosts per rack (the last rack may hold fewer). */
  readonly hostsPerRack: number;
}

/**
 * A straw2 hierarchy root → racks → hosts → OSDs in Ceph's text syntax, with rule 0
 * `replicated_rule` (chooseleaf firstn 0 over `domain`, current tunables).
 */
export function simpleCrushText(h: HierarchySpec, domain: FailureDomain = 'host'): string {
  if (!Number.isInteger(h.osds) || h.osds < 1) throw new RangeError(`osds ${h.osds} must be a positive integer`);
  if (!Number.isInteger(h.osdsPerHost) || h.osdsPerHost < 1 || !Number.isInteger(h.hostsPerRack) || h.hostsPerRack < 1) throw new RangeError('osdsPerHost and hostsPerRack must be positive integers');
  const devices: Device[] = Array.from({ length: h.osds }, (_, id) => ({ id, name: `osd.${id}` }));
  const buckets: BucketSpec[] = [];
  const hostIds: number[] = [];
  let nextId = -2;
  for (let first = 0, host = 0; first < h.osds; first += h.osdsPerHost, host++) {
    const items = devices.slice(first, first + h.osdsPerHost).map((d) => d.id);
    const id = nextId--;
    buckets.push({ id, name: `host${host}`, type: 1, alg: 'straw2', items });
    hostIds.push(id);
  }
  const rackIds: number[] = [];
  for (let first = 0, rack = 0; first < hostIds.length; first += h.hostsPerRack, rack++) {
    const id = nextId--;
    buckets.push({ id, name: `rack${rack}`, type: 2, alg: 'straw2', items: hostIds.slice(first, first + h.hostsPerRack) });
    rackIds.push(id);
  }
  buckets.push({ id: -1, name: 'default', type: 3, alg: 'straw2', items: rackIds });
  const typeId = { osd: 0, host: 1, rack: 2 }[domain];
  const rule: Rule = {
    id: 0,
    name: 'replicated_rule',
    type: 'replicated',
    minSize: 1,
    maxSize: 10,
    steps: [{ op: 'take', item: -1 }, { op: 'choose', leaf: typeId !== 0, mode: 'firstn', num: 0, type: typeId }, { op: 'emit' }],
  };
  const types = [
    { id: 0, name: 'osd' },
    { id: 1, name: 'host' },
    { id: 2, name: 'rack' },
    { id: 3, name: 'root' },
  ];
  return printCrushMap(buildCrushMap({ devices, types, buckets, rules: [rule] }));
}

export interface PoolSpec {
  readonly name: string;
  readonly pgNum: number;
  readonly size?: number;
  readonly replication?: ReplicationMode;
}

export interface BootstrapSpec extends HierarchySpec {
  readonly domain?: FailureDomain;
  readonly pools?: readonly PoolSpec[];
  /** Monitor time of the first commit; each later command is 1 ms later. */
  readonly nowMs?: number;
  /** An OSD's address; default `osd.N`. */
  readonly addr?: (osd: number) => string;
  /** Boot every OSD (default true). */
  readonly boot?: boolean;
}

/** Runs one command through prepare and apply, throwing on an error (bootstrap input is the caller's). */
export function commit(map: OsdMap, cmd: OsdMonCommand, nowMs: number, cfg: OsdMapConfig = DEFAULT_OSDMAP_CONFIG): { map: OsdMap; inc: OsdMapIncremental } {
  const r = prepareOsdMapCommand(map, cmd, nowMs, cfg);
  if (!r.ok) throw new Error(`${cmd.type}: ${r.error.code}: ${r.error.message}`);
  return { map: applyIncrementalOrThrow(map, r.inc), inc: r.inc };
}

/** A new cluster's map and the incrementals that built it (epoch 1 = the hierarchy, then one per boot and pool). */
export function bootstrapOsdMap(spec: BootstrapSpec, cfg: OsdMapConfig = DEFAULT_OSDMAP_CONFIG): { map: OsdMap; history: OsdMapIncremental[] } {
  let map = emptyOsdMap();
  const history: OsdMapIncremental[] = [];
  let now = spec.nowMs ?? 0;
  const run = (cmd: OsdMonCommand): void => {
    const r = commit(map, cmd, now++, cfg);
    map = r.map;
    history.push(r.inc);
  };
  run({ type: 'rados.mon.setCrush', crush: simpleCrushText(spec, spec.domain ?? 'host') });
  if (spec.boot ?? true) for (let osd = 0; osd < spec.osds; osd++) run({ type: 'rados.mon.osdBoot', osd, addr: spec.addr?.(osd) ?? `osd.${osd}`, epoch: map.epoch });
  for (const p of spec.pools ?? []) run({ type: 'rados.mon.poolCreate', name: p.name, pgNum: p.pgNum, ...(p.size !== undefined ? { size: p.size } : {}), ...(p.replication !== undefined ? { replication: p.replication } : {}) });
  return { map, history };
}
