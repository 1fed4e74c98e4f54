/**
 * `bootstrapMap` (cluster/ceph-cluster.ts): how a new cluster gets its first CRUSH map and default
 * pool. Run against one in-memory monitor (the OSD map service's own prepare and apply behind a
 * `MonitorClient`), it must be idempotent — several monitor hosts of a spec run it at once — and
 * finish a bootstrap that was cut short after the CRUSH map (its host stopped before the pool).
 */
import { describe, expect, it } from 'vitest';
import { MonitorClient } from '../../../src/actors/rados/monitor/client.js';
import { fail, ok } from '../../../src/actors/rados/monitor/errors.js';
import type { MonitorMsg } from '../../../src/actors/rados/monitor/protocol.js';
import type { OsdMap } from '../../../src/actors/rados/osdmap/osd-map.js';
import { osdMapService } from '../../../src/actors/rados/osdmap/service.js';
import type { OsdMonCommand } from '../../../src/actors/rados/protocol.js';
import { bootstrapMap, crushTextFor } from '../../../src/cluster/ceph-cluster.js';

class OneMonitor {
  map: OsdMap = osdMapService.initial();
  commits = 0;
  readonly client = new MonitorClient({ ask: async <R>(_to: unknown, msg: MonitorMsg): Promise<R> => this.handle(msg) as R, monitors: [{ node: 'n', id: 'mon0' }], timeoutMs: 1_000, attemptsMax: 1 });

  submit(cmd: OsdMonCommand): void {
    const p = osdMapService.prepare(this.map, cmd, 0);
    if (!p.ok) throw new Error(p.error.message);
    this.map = osdMapService.apply(this.map, p.inc);
  }

  private handle(msg: MonitorMsg): unknown {
    if (msg.type === 'rados.mon.read') return ok({ version: this.map.epoch, state: this.map });
    if (msg.type !== 'rados.mon.submit') throw new Error(`unexpected ${msg.type}`);
    const p = osdMapService.prepare(this.map, msg.cmd as OsdMonCommand, 0);
    if (!p.ok) return fail('rejected', p.error.message, { serviceCode: p.error.code });
    this.map = osdMapService.apply(this.map, p.inc);
    this.commits++;
    return ok({ version: this.map.epoch });
  }
}

const crush = crushTextFor([0, 1, 2, 3].map((id) => ({ id, host: `h${id >> 1}`, rack: `r${id >> 1}` })));

describe('bootstrapMap', () => {
  it('sets the CRUSH map and the default pool once; running it again changes nothing', async () => {
    const mon = new OneMonitor();
    const first = await bootstrapMap(mon.client, crush, 2);
    expect(first.created).toBe(true);
    expect(first.map.pools.map((p) => [p.name, p.size])).toEqual([['rbd', 2]]);
    expect(mon.commits).toBe(2);
    const again = await Promise.all([bootstrapMap(mon.client, crush, 2), bootstrapMap(mon.client, crush, 2)]);
    expect(again.map((r) => r.created)).toEqual([false, false]);
    expect(mon.commits).toBe(2);
    expect(mon.map.epoch).toBe(first.map.epoch);
  });

  it('three hosts bootstrapping one new cluster at once commit the CRUSH map and the pool once', async () => {
    const mon = new OneMonitor();
    const runs = await Promise.all([0, 1, 2].map(() => bootstrapMap(mon.client, crush, 2)));
    for (const r of runs) expect(r.map.pools.map((p) => p.name)).toEqual(['rbd']);
    expect(mon.commits).toBe(2);
  });

  it('creates the pool when an earlier run stopped after the CRUSH map', async () => {
    const mon = new OneMonitor();
    mon.submit({ type: 'rados.mon.setCrush', crush });
    const r = await bootstrapMap(mon.client, crush, 2);
    expect(r.map.pools.map((p) => p.name)).toEqual(['rbd']);
  });

  it('does not bring back a default pool an admin deleted', async () => {
    const mon = new OneMonitor();
    await bootstrapMap(mon.client, crush, 2);
    mon.submit({ type: 'rados.mon.poolDelete', name: 'rbd' });
    const r = await bootstrapMap(mon.client, crush, 2);
    expect(r.map.pools).toEqual([]);
  });
});
