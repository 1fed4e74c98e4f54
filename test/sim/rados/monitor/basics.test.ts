/**
 * The monitor cluster's behaviour users rely on, scenario by scenario in the simulator (thesis
 * §6.2.4). The fault suite (`faults/`) checks the same properties under random schedules.
 */
import { describe, expect, it } from 'vitest';
import { withSeed } from '../../../../src/testkit.js';
import type { KvState } from '../../../../src/actors/rados/monitor/kv-service.js';
import type { MonResult } from '../../../../src/actors/rados/monitor/errors.js';
import type { MonitorMsg } from '../../../../src/actors/rados/monitor/protocol.js';
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
    await withSeed(2, async () => {
      const c = monitorCell({ seed: 2, monitors: 3 });
      await c.settle();
      // Enough attempts to outlast the election after the crash and the new leader's wait (P6);
      // sets are idempotent, so a submission cut short by the election is sent again.
      const client = c.client('client', { attemptsMax: 60, idempotent: true });
      c.crash(monNode(2));
      for (let i = 0; i < 60; i++) expect((await c.sim.result(client.submit({ op: 'set', key: `k${i % 5}`, value: `${i}` }))).ok).toBe(true);
      await c.sim.run({ forMs: 500 });
      const committed = (await c.sim.result(c.status(0)))!.lastCommitted;
      expect(committed).toBeGreaterThanOrEqual(60);
      expect(Math.max(...c.commits.filter((e) => e.monitor === 1).map((e) => e.version))).toBe(committed);
      c.crash(monNode(1));
      c.restart(monNode(1));
      c.restart(monNode(2));
      await c.settle(60_000);
      expect(c.recoveries.filter((r) => r.monitor === 1).at(-1)?.version).toBe(committed);
      expect((await c.sim.result(c.status(2)))?.lastCommitted).toBe(committed);
      // Monitor 2 missed more than the kept history (20 versions): it got a snapshot.
      expect(c.commits.some((e) => e.monitor === 2 && e.value === undefined)).toBe(true);
    });
  });

  it('a monitor cut off on the minority side answers commands with no_quorum, and its reads stop once its lease lapses (§6.2.4, P6)', async () => {
    await withSeed(3, async () => {
      const c = monitorCell({ seed: 3, monitors: 3 });
      await c.settle();
      const client = c.client('client');
      expect((await c.sim.result(client.submit({ op: 'set', key: 'a', value: '1' }))).ok).toBe(true);
      c.sim.partition([monNode(2)], [monNode(0), monNode(1), 'client', 'observer']);
      await c.sim.run({ forMs: 8_000 });
      const cutOff = c.sim.addNode('minority-client', () => {});
      c.sim.partition([monNode(2), 'minority-client'], [monNode(0), monNode(1)]);
      const ask = (msg: MonitorMsg) => c.sim.result(cutOff.system.ask<MonResult<unknown>>(c.refs[2]!, msg, { timeoutMs: 1_000 }));
      expect(await ask({ type: 'rados.mon.submit', cmd: { op: 'set', key: 'b', value: '2' } })).toMatchObject({ ok: false, error: { code: 'no_quorum' } });
      expect(await ask({ type: 'rados.mon.read' })).toMatchObject({ ok: false, error: { code: 'no_quorum' } });
      // The majority side goes on.
      expect((await c.sim.result(client.submit({ op: 'set', key: 'c', value: '3' }))).ok).toBe(true);
    });
  });

  it('a client whose monitor does not answer retries the next one (§6.2.4)', async () => {
    await withSeed(4, async () => {
      const c = monitorCell({ seed: 4, monitors: 3 });
      await c.settle();
      const client = c.client('client', { preferred: 1, attemptsMax: 40, idempotent: true });
      c.crash(monNode(1));
      const r = await c.sim.result(client.submit({ op: 'set', key: 'a', value: '1' }));
      expect(r.ok).toBe(true);
      expect(client.lastMonitor).not.toBe(1);
    });
  });

  it('a command retried with its request id after a lost answer commits once, and a new leader still knows it (P10)', async () => {
    await withSeed(6, async () => {
      const c = monitorCell({ seed: 6, monitors: 3 });
      await c.settle();
      const lost = c.sim.addNode('lost', () => {});
      const cmd = { op: 'set', key: 'a', value: 'once' };
      const versionsHolding = (): number[] => [...new Set(c.commits.filter((e) => e.value?.includes('"once"')).map((e) => e.version))];
      // The submit reaches the leader; its answer does not reach the client (cut off right after).
      const first = lost.system.ask<MonResult<unknown>>(c.refs[0]!, { type: 'rados.mon.submit', cmd, requestId: 'lost:1' }, { timeoutMs: 1_000 }).then(
        (r) => r,
        (err: unknown) => err,
      );
      await c.sim.run({ forMs: 2.5 });
      c.sim.partition(['lost'], [monNode(0), monNode(1), monNode(2)]);
      expect(await c.sim.result(first)).toBeInstanceOf(Error);
      await c.sim.run({ forMs: 500 });
      expect(versionsHolding()).toHaveLength(1);
      const committedAt = versionsHolding()[0]!;
      c.sim.heal();

      // The retry, through a peon, is answered from the committed history.
      const retry = c.client('retry', { preferred: 1 });
      const again = await c.sim.result(retry.submit(cmd, { requestId: 'lost:1' }));
      expect(again).toMatchObject({ ok: true, value: { version: committedAt, reply: { epoch: committedAt } } });
      expect(versionsHolding()).toEqual([committedAt]);

      // The leader goes; the next one dedupes too (the ids are part of the committed state).
      c.crash(monNode(0));
      const late = c.client('late', { preferred: 1, attemptsMax: 40 });
      const third = await c.sim.result(late.submit(cmd, { requestId: 'lost:1' }));
      expect(third).toMatchObject({ ok: true, value: { version: committedAt } });
      expect(late.lastMonitor).not.toBe(0);
      // A new command still commits, after the version that holds the first.
      const next = await c.sim.result(late.submit({ op: 'set', key: 'b', value: 'new' }, { requestId: 'late:1' }));
      expect(next.ok && next.value.version).toBeGreaterThan(committedAt);
      expect(versionsHolding()).toEqual([committedAt]);

      // Without a request id the same retry commits the command again.
      const plain = await c.sim.result(late.submit(cmd));
      expect(plain.ok && plain.value.version).toBeGreaterThan(committedAt);
      expect(versionsHolding()).toHaveLength(2);
    });
  });

  it('a request id that is not a string of 1..256 characters is refused (invalid_request) and nothing commits', async () => {
    await withSeed(7, async () => {
      const c = monitorCell({ seed: 7, monitors: 3 });
      await c.settle();
      const ask = (msg: unknown) => c.sim.result(c.observer.system.ask<MonResult<unknown>>(c.refs[1]!, msg, { timeoutMs: 1_000 }));
      for (const requestId of ['', 'x'.repeat(257), 42]) {
        expect(await ask({ type: 'rados.mon.submit', cmd: { op: 'set', key: 'a', value: '1' }, requestId })).toMatchObject({ ok: false, error: { code: 'invalid_request' } });
      }
      expect((await c.sim.result(c.status(0)))?.lastCommitted).toBe(0);
    });
  });

  it('malformed requests get invalid_request and change nothing', async () => {
    await withSeed(5, async () => {
      const c = monitorCell({ seed: 5, monitors: 3 });
      await c.settle();
      const ask = (msg: unknown) => c.sim.result(c.observer.system.ask<MonResult<unknown>>(c.refs[0]!, msg, { timeoutMs: 1_000 }));
      expect(await ask({ type: 'rados.mon.read', since: -3 })).toMatchObject({ ok: false, error: { code: 'invalid_request' } });
      expect(await ask({ type: 'rados.mon.subscribe', subscriber: 'nobody', since: 0 })).toMatchObject({ ok: false, error: { code: 'invalid_request' } });
      expect(await ask({ type: 'rados.mon.nonsense' })).toMatchObject({ ok: false, error: { code: 'invalid_request' } });
      expect(await ask({ type: 'rados.mon.submit', cmd: { op: 'set', key: '', value: 'x' } })).toMatchObject({ ok: false, error: { code: 'rejected', serviceCode: 'invalid_command' } });
      expect((await c.sim.result(c.status(0)))?.lastCommitted).toBe(0);
    });
  });
});
