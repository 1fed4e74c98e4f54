/**
 * The monitor cluster's behaviour users rely on, scenario by scenario in the simulator (thesis
 * §6.2.4). The fault suite (`faults/`) checks the same properties under random schedules.
 */
import { describe, expect, it } from 'vitest';
import { withSeed } from '../../../../src/testkit.js';
import type { KvState } from '../../../../src/actors/rados/monitor/kv-service.js';
import { monitorCell, monNode } from './cell.js';

describe('monitor cluster basics', () => {
  it('three monitors elect the lowest rank, commit submitted commands in order and serve them from any monitor (§6.2.4)', async () => {
    await withSeed(1, async () => {
      const c = monitorCell({ seed: 1, monitors: 3 });
      const st = await c.settle();
      expect(st.leader).toBe(0);
      expect(st.quorum).toEqual([0, 1, 2]);
      const client = c.client('client', { preferred: 2 });
      const r1 = await c.sim.result(client.submit({ op: 'set', key: 'a', value: '1' }));
      expect(r1).toMatchObject({ ok: true, value: { version: 1 } });
      const r2 = await c.sim.result(client.submit({ op: 'set', key: 'b', value: '2' }));
      expect(r2).toMatchObject({ ok: true, value: { version: 2 } });
      // Reads at a peon after its lease came with the commit.
      await c.sim.run({ forMs: 50 });
      const read = await c.sim.result(client.read<KvState>());
      expect(read).toMatchObject({ ok: true, value: { version: 2, state: { entries: { a: '1', b: '2' } } } });
      const bad = await c.sim.result(client.submit({ op: 'del', key: 'nope' }));
      expect(bad).toMatchObject({ ok: false, error: { code: 'rejected', serviceCode: 'not_found' } });
    });
  });

  it('a restarted monitor keeps every committed version, and a monitor that missed many versions catches up by snapshot (P4, P5)', async () => {
    const c = monitorCell({ seed: 2, monitors: 3 });
    await c.settle();
    // Enough attempts to outlast the election after the crash and the new leader's wait (P6).
    const client = c.client('client', { attemptsMax: 60 });
    c.crash(monNode(2));
    for (let i = 0; i < 60; i++) {
      const r = await c.sim.result(client.submit({ op: 'set', key: `k${i % 5}`, value: `${i}` }));
      expect(r.ok).toBe(true);
    }
    c.crash(monNode(1));
    c.restart(monNode(1));
    c.restart(monNode(2));
    await c.settle(60_000);
    const rec1 = c.recoveries.filter((r) => r.monitor === 1).at(-1);
    expect(rec1?.version).toBe(60);
    const st2 = await c.sim.result(c.status(2));
    expect(st2?.lastCommitted).toBe(60);
    expect(c.commits.some((e) => e.monitor === 2 && e.value === undefined)).toBe(true);
  });
});
