import { describe, expect, it } from 'vitest';
import { bootstrapOsdMap } from '../../../src/actors/rados/osdmap/bootstrap.js';
import type { OsdStatus } from '../../../src/actors/rados/osd/osd.js';
import { poolUsage } from '../../../src/web/ceph-watch.js';

type PgRow = OsdStatus['held'][number];

function status(osd: number, pgs: PgRow[]): OsdStatus {
  return { osd, addr: `osd${osd}`, epoch: 3, self: 'up', peers: [], failed: [], boots: 1, pgs: [], held: pgs, usedBytes: 0, stats: undefined };
}

describe('the dashboard\'s pool usage and PG activity (issue 16, item 6)', () => {
  const { map } = bootstrapOsdMap({ osds: 4, osdsPerHost: 1, hostsPerRack: 2, pools: [{ name: 'rbd', pgNum: 4, size: 3 }, { name: 'logs', pgNum: 2, size: 2 }] });
  const rbd = map.pools.find((p) => p.name === 'rbd')!.id;
  const logs = map.pools.find((p) => p.name === 'logs')!.id;

  it('counts each PG once, at the first OSD of its acting set, and only when that OSD holds it active', () => {
    const pg = (pool: number, ps: number, acting: number[], active: boolean, objects: number, bytes: number): PgRow => ({ pg: `${pool}.${ps}`, active, acting, lastUpdate: "3'1", objects, bytes });
    const statuses = [
      // osd.0 leads rbd 0 and 1 (one still activating) and holds a replica of rbd 2.
      status(0, [pg(rbd, 0, [0, 1, 2], true, 2, 100), pg(rbd, 1, [0, 2, 3], false, 5, 500), pg(rbd, 2, [1, 0, 3], true, 3, 300)]),
      // osd.1 leads rbd 2 (its copy is the one counted) and holds a replica of rbd 0.
      status(1, [pg(rbd, 2, [1, 0, 3], true, 3, 300), pg(rbd, 0, [0, 1, 2], true, 2, 100)]),
      // osd.2 did not answer; osd.3 leads logs 0.
      undefined,
      status(3, [pg(logs, 0, [3, 1], true, 1, 7)]),
    ];
    const u = poolUsage(map, statuses);
    expect(u.pools.find((p) => p.name === 'rbd')).toMatchObject({ objects: 5, bytes: 400, size: 3, pgNum: 4 });
    expect(u.pools.find((p) => p.name === 'logs')).toMatchObject({ objects: 1, bytes: 7, size: 2, pgNum: 2 });
    // 6 PGs: rbd 0, rbd 2, logs 0 active; rbd 1 activating; rbd 3 and logs 1 not reported by anyone.
    expect(u.pgActivity).toEqual({ active: 3, inactive: 1, unreported: 2 });
  });
});
