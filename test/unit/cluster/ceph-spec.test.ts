/**
 * The multi-host spec's Ceph-style roles: `monitor` and `osd` parse and validate, monitors take
 * ranks and OSDs ids in spec order, and the first CRUSH map built from the spec (hosts = nodes,
 * racks = their rack) places a size-3 pool on distinct hosts.
 */
import { describe, expect, it } from 'vitest';
import { cephLayoutOf, parseSpec, SpecError } from '../../../src/cluster/spec.js';
import { crushTextFor } from '../../../src/cluster/ceph-cluster.js';
import { crushOf } from '../../../src/actors/rados/osdmap/osd-map.js';
import { placementProblem } from '../../../src/actors/rados/osdmap/service.js';

const node = (roles: string[], extra: Record<string, unknown> = {}): Record<string, unknown> => ({ host: '10.0.0.1', port: 7070, roles, ...extra });

describe('cluster spec: monitor and osd roles', () => {
  it('a Ceph-only spec needs no GFS master; ranks and OSD ids follow the spec order', () => {
    const spec = parseSpec({ cluster: 'c', nodes: { a: node(['monitor', 'osd'], { rack: 'r1', osds: 2 }), b: node(['monitor', 'osd'], { rack: 'r1' }), c: node(['monitor', 'osd'], { rack: 'r2', osds: 2 }) } }, 'spec.json');
    const layout = cephLayoutOf(spec);
    expect(layout.monitors).toEqual([
      { node: 'a', id: 'mon0' },
      { node: 'b', id: 'mon1' },
      { node: 'c', id: 'mon2' },
    ]);
    expect(layout.osds).toEqual([
      { id: 0, node: 'a', rack: 'r1' },
      { id: 1, node: 'a', rack: 'r1' },
      { id: 2, node: 'b', rack: 'r1' },
      { id: 3, node: 'c', rack: 'r2' },
      { id: 4, node: 'c', rack: 'r2' },
    ]);
    const crush = crushOf(crushTextFor(layout.osds.map((o) => ({ id: o.id, host: o.node, rack: o.rack }))));
    expect(placementProblem(crush, { id: 1, name: 'rbd', size: 3, minSize: 2, pgNum: 64, pgpNum: 64, crushRule: 0, replication: 'primary-copy' })).toBeNull();
    // Three hosts: a size-4 pool cannot be placed on distinct hosts.
    expect(placementProblem(crush, { id: 1, name: 'wide', size: 4, minSize: 2, pgNum: 64, pgpNum: 64, crushRule: 0, replication: 'primary-copy' })?.code).toBe('rule_cannot_place');
  });

  it('refuses OSDs without monitors, monitors without OSDs, a bad osds count, and GFS roles without a master', () => {
    const bad = (nodes: Record<string, unknown>): void => void expect(() => parseSpec({ cluster: 'c', nodes }, 'spec.json')).toThrow(SpecError);
    bad({ a: node(['osd']) });
    bad({ a: node(['monitor']) });
    bad({ a: node(['monitor', 'osd'], { osds: 0 }) });
    bad({ a: node(['monitor', 'osd', 'chunkserver']) });
    expect(() => parseSpec({ cluster: 'c', nodes: { a: node(['master', 'chunkserver', 'monitor', 'osd']) } }, 'spec.json')).not.toThrow();
  });
});
