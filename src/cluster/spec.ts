import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { MasterLayout } from './start-roles.js';

/**
 * A cluster spec (multi-host deployment): which roles run on which host, the addresses the nodes
 * listen on, and their racks. Every host runs `troupe node --config FILE --name NAME` with the
 * same file. The secret is not in the spec: it comes from `secretFile` (a path, mode 0600) or the
 * `TROUPE_SECRET` environment variable, never from the command line.
 *
 * ```json
 * {
 *   "cluster": "prod-1",
 *   "secretFile": "/etc/troupe/secret",
 *   "chunkSizeBytes": 67108864,
 *   "nodes": {
 *     "m1": { "host": "10.0.0.1", "port": 7070, "roles": ["master", "shadow-master"] },
 *     "m2": { "host": "10.0.0.2", "port": 7070, "roles": ["master-replica"], "rack": "b" },
 *     "c1": { "host": "10.0.0.3", "port": 7070, "roles": ["chunkserver", "monitor", "osd"], "chunkservers": 2, "osds": 2, "rack": "a" }
 *   }
 * }
 * ```
 *
 * The roles `monitor` and `osd` make a Ceph-style cluster (`ceph-cluster.ts`): monitors take ranks
 * in the order their nodes appear; OSD ids are numbered across the `osd` nodes in the same order.
 * A spec may hold GFS roles, Ceph roles or both.
 */
export type NodeRole = 'master' | 'master-replica' | 'shadow-master' | 'chunkserver' | 'monitor' | 'osd' | 'coord';

export interface NodeSpec {
  readonly host: string;
  readonly port: number;
  /** Address to bind (default `host`; e.g. 0.0.0.0). */
  readonly listenHost?: string;
  readonly rack?: string;
  /** Default `<spec dir>/troupe-data/<node name>`. */
  readonly dataDir?: string;
  readonly workers?: number;
  readonly roles: readonly NodeRole[];
  /** Chunkserver actors on this node when it has the `chunkserver` role (default 1). */
  readonly chunkservers?: number;
  /** OSD actors on this node when it has the `osd` role (default 1). */
  readonly osds?: number;
  /** ZooKeeper client port of this node's coordination server when it has the `coord` role (default 2181). */
  readonly zkPort?: number;
}

export interface ClusterSpec {
  readonly cluster: string;
  readonly secretFile?: string;
  readonly chunkSizeBytes?: number;
  readonly nodes: Readonly<Record<string, NodeSpec>>;
  /** The spec file's directory (relative paths in the spec are relative to it). */
  readonly baseDir: string;
}

const ROLES: readonly NodeRole[] = ['master', 'master-replica', 'shadow-master', 'chunkserver', 'monitor', 'osd', 'coord'];
const GFS_ROLES: readonly NodeRole[] = ['master', 'master-replica', 'shadow-master', 'chunkserver'];

export class SpecError extends Error {
  override readonly name = 'SpecError';
}

export function loadSpec(file: string): ClusterSpec {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new SpecError(`cannot read cluster spec ${file}: ${(err as Error).message}`);
  }
  return parseSpec(raw, file);
}

export function parseSpec(raw: unknown, file: string): ClusterSpec {
  const bad = (what: string): never => {
    throw new SpecError(`cluster spec ${file}: ${what}`);
  };
  if (typeof raw !== 'object' || raw === null) bad('must be a JSON object');
  const o = raw as Record<string, unknown>;
  if (typeof o['cluster'] !== 'string' || o['cluster'] === '') bad('"cluster" (the cluster id) must be a non-empty string');
  if (o['secretFile'] !== undefined && typeof o['secretFile'] !== 'string') bad('"secretFile" must be a path');
  if (o['chunkSizeBytes'] !== undefined && !(Number.isSafeInteger(o['chunkSizeBytes']) && (o['chunkSizeBytes'] as number) >= 65_536)) bad('"chunkSizeBytes" must be an integer of at least 65536');
  if (typeof o['nodes'] !== 'object' || o['nodes'] === null || Object.keys(o['nodes']).length === 0) bad('"nodes" must name at least one node');
  const nodes: Record<string, NodeSpec> = {};
  for (const [name, n] of Object.entries(o['nodes'] as Record<string, unknown>)) {
    if (!/^[A-Za-z0-9_.-]+$/.test(name)) bad(`node name "${name}" may use letters, digits, '.', '_' and '-' only`);
    const s = n as Record<string, unknown>;
    if (typeof s !== 'object' || s === null) bad(`node "${name}" must be an object`);
    if (typeof s['host'] !== 'string' || s['host'] === '') bad(`node "${name}": "host" must be an address`);
    if (!(Number.isInteger(s['port']) && (s['port'] as number) > 0 && (s['port'] as number) < 65_536)) bad(`node "${name}": "port" must be 1–65535`);
    if (!Array.isArray(s['roles']) || s['roles'].length === 0 || !s['roles'].every((r) => ROLES.includes(r as NodeRole))) bad(`node "${name}": "roles" must list some of ${ROLES.join(', ')}`);
    if (s['chunkservers'] !== undefined && !(Number.isInteger(s['chunkservers']) && (s['chunkservers'] as number) > 0)) bad(`node "${name}": "chunkservers" must be a positive integer`);
    if (s['osds'] !== undefined && !(Number.isInteger(s['osds']) && (s['osds'] as number) > 0)) bad(`node "${name}": "osds" must be a positive integer`);
    if (s['zkPort'] !== undefined && !(Number.isInteger(s['zkPort']) && (s['zkPort'] as number) > 0 && (s['zkPort'] as number) < 65_536)) bad(`node "${name}": "zkPort" must be 1–65535`);
    nodes[name] = s as unknown as NodeSpec;
  }
  const has = (role: NodeRole): boolean => Object.values(nodes).some((n) => n.roles.includes(role));
  if (GFS_ROLES.some(has)) {
    const masters = Object.entries(nodes).filter(([, n]) => n.roles.includes('master'));
    if (masters.length !== 1) bad(`exactly one node must have the "master" role (found ${masters.length})`);
    if (!has('chunkserver')) bad('no node has the "chunkserver" role');
  }
  if (has('osd') && !has('monitor')) bad('OSDs need at least one node with the "monitor" role');
  if (has('monitor') && !has('osd')) bad('monitors need at least one node with the "osd" role');
  return { ...(o as unknown as ClusterSpec), nodes, baseDir: dirname(resolve(file)) };
}

export function layoutOf(spec: ClusterSpec): MasterLayout {
  const with_ = (role: NodeRole): string[] => Object.entries(spec.nodes).filter(([, n]) => n.roles.includes(role)).map(([name]) => name);
  return { primary: with_('master')[0] as string, replicas: with_('master-replica'), shadows: with_('shadow-master') };
}

/** The Ceph-style roles of a spec: monitor refs by rank, and each OSD's id, node and rack. */
export function cephLayoutOf(spec: ClusterSpec): { monitors: Array<{ node: string; id: string }>; osds: Array<{ id: number; node: string; rack: string }> } {
  const entries = Object.entries(spec.nodes);
  const monitors = entries.filter(([, n]) => n.roles.includes('monitor')).map(([node], rank) => ({ node, id: `mon${rank}` }));
  const osds: Array<{ id: number; node: string; rack: string }> = [];
  for (const [node, n] of entries) {
    if (!n.roles.includes('osd')) continue;
    for (let i = 0; i < (n.osds ?? 1); i++) osds.push({ id: osds.length, node, rack: n.rack ?? node });
  }
  return { monitors, osds };
}

/**
 * The coordination ensemble of a spec: one server per node with the `coord` role, ids 1.. in the
 * spec's node order, each Zab actor named `zk<id>` on its node; `connectString` lists the client ports.
 */
export function coordLayoutOf(spec: ClusterSpec): { servers: Array<{ id: number; node: string; host: string; zkPort: number }>; connectString: string } {
  const servers = Object.entries(spec.nodes)
    .filter(([, n]) => n.roles.includes('coord'))
    .map(([node, n], i) => ({ id: i + 1, node, host: n.host, zkPort: n.zkPort ?? 2181 }));
  return { servers, connectString: servers.map((s) => `${s.host}:${s.zkPort}`).join(',') };
}

export function dataDirOf(spec: ClusterSpec, name: string): string {
  const d = spec.nodes[name]?.dataDir ?? join('troupe-data', name);
  return isAbsolute(d) ? d : join(spec.baseDir, d);
}

export function secretFileOf(spec: ClusterSpec): string | undefined {
  const f = spec.secretFile;
  return f === undefined ? undefined : isAbsolute(f) ? f : join(spec.baseDir, f);
}
