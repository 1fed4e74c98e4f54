/**
 * `troupe ceph status` / `osd tree` as computed from the map: PG states derived from the acting
 * sets (no peering yet), health, and the CRUSH hierarchy with OSD state.
 */
import { describe, expect, it } from 'vitest';
import { bootstrapOsdMap, commit } from '../../../src/actors/rados/osdmap/bootstrap.js';
import { cephStatus, osdLocations, osdTree, pgStates } from '../../../src/actors/rados/mon/cluster-status.js';
import type { MonitorStatus } from '../../../src/actors/rados/monitor/protocol.js';

const mon = (rank: number, role: MonitorStatus['role']): MonitorStatus => ({ service: 'osdmap', rank, monitors: 3, role, electionEpoch: 4, leader: 0, quorum: [0, 1, 2], lastCommitted: 7, firstCommitted: 1, readable: true, pendingCommands: 0, subscribers: 0 });

describe('cluster status from the map', () => {
  const { map } = bootstrapOsdMap({ osds: 4, osdsPerHost: 1, hostsPerRack: 2, pools: [{ name: 'rbd', pgNum: 32, size: 3 }] });

  it('every PG active+clean and HEALTH_OK with all OSDs up and a full quorum', () => {
    expect(pgStates(map)).toEqual({ 'active+clean': 32 });
    const s = cephStatus(map, [0, 1, 2].map((r) => ({ rank: r, name: `mon${r}`, status: mon(r, r === 0 ? 'leader' : 'peon') })));
    expect(s).toMatchObject({ health: 'HEALTH_OK', checks: [], monitors: { quorum: [0, 1, 2], leader: 0, down: [] }, osds: { total: 4, up: 4, in: 4 }, pgs: { total: 32 } });
  });

  it('a down OSD makes its PGs undersized+degraded and the health a warning; a missing monitor is named', () => {
    const down = commit(map, { type: 'rados.mon.osdMarkDown', osds: [1], reason: 'admin' }, 100).map;
    const states = pgStates(down);
    expect(states['active+clean']).toBeLessThan(32);
    expect((states['active+clean'] ?? 0) + (states['active+undersized+degraded'] ?? 0)).toBe(32);
    const s = cephStatus(down, [
      { rank: 0, name: 'mon0', status: { ...mon(0, 'leader'), quorum: [0, 1] } },
      { rank: 1, name: 'mon1', status: { ...mon(1, 'peon'), quorum: [0, 1] } },
      { rank: 2, name: 'mon2', status: undefined },
    ]);
    expect(s.health).toBe('HEALTH_WARN');
    expect(s.monitors.down).toEqual([2]);
    expect(s.checks).toContain('1 osds down');
  });

  it('no monitor in a quorum is HEALTH_ERR', () => {
    expect(cephStatus(map, [{ rank: 0, name: 'mon0', status: { ...mon(0, 'electing'), quorum: [] } }]).health).toBe('HEALTH_ERR');
  });

  it('osd tree lists root, racks, hosts and OSDs depth first, with state and reweight', () => {
    const out = commit(map, { type: 'rados.mon.osdMarkOut', osds: [3], reason: 'admin' }, 100).map;
    const rows = osdTree(out);
    expect(rows.map((r) => `${'  '.repeat(r.depth)}${r.type} ${r.name}`)).toEqual(['root default', '  rack rack0', '    host host0', '      osd osd.0', '    host host1', '      osd osd.1', '  rack rack1', '    host host2', '      osd osd.2', '    host host3', '      osd osd.3']);
    expect(rows.find((r) => r.id === 3)).toMatchObject({ status: 'up', reweight: 0 });
    expect(osdLocations(out).get(2)).toEqual({ host: 'host2', rack: 'rack1' });
  });
});
