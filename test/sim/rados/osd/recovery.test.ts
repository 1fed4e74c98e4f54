/**
 * Peering and recovery in the simulator (thesis §6.3.5; README "Peering and recovery", PR1–PR12):
 * remapping onto OSDs that never held a PG, a PG whose prior set is unreachable, an OSD revived
 * after missing writes, backfill of an OSD beyond the log, ops waiting for a missing object at the
 * primary, and the per-OSD recovery throttle.
 */
import { describe, expect, it } from 'vitest';
import { withSeed } from '../../../../src/testkit.js';
import { objectMapping } from '../../../../src/actors/rados/osdmap/mapping.js';
import type { OsdMap } from '../../../../src/actors/rados/osdmap/osd-map.js';
import { POOL, dataCell, osdNodeName } from './cell.js';
import { checkRecoveryReadOnce } from './faults/checkers.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);
const replay = (seed: number): string => `npm run test:sim -- --seed ${seed} test/sim/rados/osd/recovery.test.ts`;

/** Crashes an OSD and has the monitors mark it down (as its peers' reports would; an out OSD has no peers to report it). */
async function kill(c: ReturnType<typeof dataCell>, osd: number): Promise<void> {
  c.crash(osdNodeName(osd));
  await c.sim.result(c.mon.submit({ type: 'rados.mon.osdMarkDown', osds: [osd], reason: 'admin' }));
  await c.until(`osd.${osd} down`, (m) => m.osds[osd]?.up === false, 30_000);
}

function actingOf(map: OsdMap, oid: string): readonly number[] {
  const pool = map.pools.find((p) => p.name === POOL)!;
  return objectMapping(map, pool.id, oid)!.acting;
}

describe('RADOS peering and recovery in the simulator (thesis §6.3.5)', () => {
  it('an OSD marked out: its PGs move to OSDs that never held them, recovered there from the old holders, reads correct (PR2, PR8, PR10)', async () => {
    const seed = 31;
    await withSeed(
      seed,
      async () => {
        const c = dataCell({ seed, osds: 6, size: 3, pgNum: 8 });
        const [client] = await c.start();
        const io = client!.pool(POOL);
        for (let i = 0; i < 24; i++) expect((await c.sim.result(io.writeFull(`o${i}`, enc(`value ${i}`)).commit)).ok).toBe(true);
        await c.untilClean(30_000);
        const before = await c.map();
        // The OSD in the most acting sets leaves the data distribution (it stays up: a stray the new members recover from).
        const count = [0, 1, 2, 3, 4, 5].map((o) => Array.from({ length: 24 }, (_, i) => actingOf(before, `o${i}`)).filter((a) => a.includes(o)).length);
        const out = count.indexOf(Math.max(...count));
        expect((await c.sim.result(c.mon.submit({ type: 'rados.mon.osdMarkOut', osds: [out], reason: 'admin' }))).ok).toBe(true);
        const after = await c.until('remapped', (m) => m.osds[out]?.in === false, 10_000);
        const moved = Array.from({ length: 24 }, (_, i) => `o${i}`).filter((o) => actingOf(before, o).includes(out));
        const newcomers = new Set(moved.flatMap((o) => actingOf(after, o).filter((x) => !actingOf(before, o).includes(x))));
        expect(newcomers.size).toBeGreaterThan(0);
        await c.untilClean(60_000);
        // The old holder goes away for good: every object must now be on the new acting sets.
        await kill(c, out);
        for (let i = 0; i < 24; i++) {
          const r = await c.sim.result(io.read(`o${i}`));
          expect(r.ok ? dec(r.value) : r.error.code, `o${i}`).toBe(`value ${i}`);
        }
        const held = await Promise.all([...newcomers].map((o) => c.osdStatus(o)));
        expect(held.every((s) => (s?.held ?? []).some((p) => p.objects > 0))).toBe(true);
        expect(c.events.some((e) => e.kind === 'recoveryRead')).toBe(true);
        expect(checkRecoveryReadOnce(c.events)).toEqual([]);
      },
      replay(seed),
    );
  });

  it('every OSD of a prior interval down: the PG stays down and never serves the older data; it recovers when one returns (PR3)', async () => {
    const seed = 32;
    await withSeed(
      seed,
      async () => {
        const c = dataCell({ seed, osds: 4, size: 2, pgNum: 4, client: { opTimeoutMs: 8_000, resendAfterMs: 1_000 } });
        const [client] = await c.start();
        const io = client!.pool(POOL);
        expect((await c.sim.result(io.writeFull('k', enc('old')).commit)).ok).toBe(true);
        const [a, b] = actingOf(await c.map(), 'k') as [number, number];
        // b goes down; a alone takes a newer write (min_size 1).
        await kill(c, b);
        expect((await c.sim.result(io.writeFull('k', enc('new')).commit)).ok).toBe(true);
        // Now a goes down too and b comes back: b alone holds only 'old'.
        await kill(c, a);
        c.sim.restart(osdNodeName(b));
        await c.until('b up', (m) => m.osds[b]?.up === true, 60_000);
        await c.sim.run({ forMs: 3_000 });
        const r = await c.sim.result(io.read('k'));
        expect(r.ok ? `served ${dec(r.value)}` : r.error.code).toBe('timeout');
        const kPg = (await c.osdStatus(b))?.pgs.find((s) => s.lastUpdate !== "0'0");
        expect(kPg?.state.split('+')).toContain('down');
        c.sim.restart(osdNodeName(a));
        await c.until('a up', (m) => m.osds[a]?.up === true, 60_000);
        await c.untilClean(60_000);
        const again = await c.sim.result(io.read('k'));
        expect(again.ok ? dec(again.value) : again.error.code).toBe('new');
      },
      replay(seed),
    );
  });

  it('an OSD killed and revived after missing writes, overwrites and deletes is brought back by recovery (PR6, PR8)', async () => {
    const seed = 33;
    await withSeed(
      seed,
      async () => {
        const c = dataCell({ seed, osds: 4, size: 3, pgNum: 4, dataPath: { recoveryOpsMax: 2 } });
        const [client] = await c.start();
        const io = client!.pool(POOL);
        for (let i = 0; i < 12; i++) expect((await c.sim.result(io.writeFull(`o${i}`, enc(`v1 ${i}`)).commit)).ok).toBe(true);
        const victim = 1;
        await kill(c, victim);
        for (let i = 0; i < 12; i += 2) expect((await c.sim.result(io.writeFull(`o${i}`, enc(`v2 ${i}`)).commit)).ok).toBe(true);
        expect((await c.sim.result(io.remove('o1').commit)).ok).toBe(true);
        expect((await c.sim.result(io.writeFull('fresh', enc('new while down')).commit)).ok).toBe(true);
        c.sim.restart(osdNodeName(victim));
        await c.until('revived', (m) => m.osds[victim]?.up === true, 60_000);
        await c.untilClean(60_000);
        // Every member of every PG holds the same history and objects.
        const held = await Promise.all([0, 1, 2, 3].map((o) => c.osdStatus(o)));
        const byPg = new Map<string, Set<string>>();
        for (const st of held) for (const p of st?.held ?? []) if (p.acting.includes(st!.osd)) byPg.set(p.pg, (byPg.get(p.pg) ?? new Set()).add(`${p.lastUpdate}/${p.objects}`));
        for (const [pg, seen] of byPg) expect([...seen], `pg ${pg}`).toHaveLength(1);
        // With the others gone, the revived OSD alone serves what was written while it was down (the objects of its PGs).
        const m = await c.map();
        const mine = [...Array.from({ length: 12 }, (_, i) => `o${i}`), 'fresh'].filter((o) => actingOf(m, o).includes(victim));
        expect(mine.length).toBeGreaterThan(3);
        for (const o of [0, 2, 3]) await kill(c, o);
        for (const o of mine) {
          const i = Number(o.slice(1));
          const r = await c.sim.result(io.read(o));
          const want = o === 'fresh' ? 'new while down' : i === 1 ? 'not_found' : i % 2 === 0 ? `v2 ${i}` : `v1 ${i}`;
          expect(r.ok ? dec(r.value) : r.error.code, o).toBe(want);
        }
        expect(checkRecoveryReadOnce(c.events)).toEqual([]);
      },
      replay(seed),
    );
  });

  it('an OSD behind by more than the log is backfilled by an ordered scan with a watermark (PR11)', async () => {
    const seed = 34;
    await withSeed(
      seed,
      async () => {
        const c = dataCell({ seed, osds: 3, size: 3, pgNum: 1, dataPath: { pgLogEntriesMax: 4, backfillBatchObjectsMax: 2, recoveryOpsMax: 1 } });
        const [client] = await c.start();
        const io = client!.pool(POOL);
        for (let i = 0; i < 6; i++) expect((await c.sim.result(io.writeFull(`a${i}`, enc(`first ${i}`)).commit)).ok).toBe(true);
        expect((await c.sim.result(io.writeFull('unchanged', enc('same')).commit)).ok).toBe(true);
        const victim = 2;
        await kill(c, victim);
        // Far more updates than the log keeps: the victim's last_update falls behind the log's tail.
        for (let i = 0; i < 6; i++) expect((await c.sim.result(io.writeFull(`a${i}`, enc(`second ${i}`)).commit)).ok).toBe(true);
        for (let i = 0; i < 8; i++) expect((await c.sim.result(io.writeFull(`b${i}`, enc(`b ${i}`)).commit)).ok).toBe(true);
        expect((await c.sim.result(io.remove('a0').commit)).ok).toBe(true);
        c.sim.restart(osdNodeName(victim));
        await c.until('revived', (m) => m.osds[victim]?.up === true, 60_000);
        await c.untilClean(60_000);
        // Only a scan reads an object no update touched since the victim left: it was backfilled, not recovered from the log.
        expect(c.events.some((e) => e.kind === 'recoveryRead' && e.oid === 'unchanged')).toBe(true);
        // Reads and writes went on during the backfill; now only the victim is left.
        for (const o of [0, 1]) await kill(c, o);
        const r0 = await c.sim.result(io.read('a0'));
        expect(r0.ok ? 'found' : r0.error.code).toBe('not_found');
        for (let i = 1; i < 6; i++) {
          const r = await c.sim.result(io.read(`a${i}`));
          expect(r.ok && dec(r.value), `a${i}`).toBe(`second ${i}`);
        }
        for (let i = 0; i < 8; i++) {
          const r = await c.sim.result(io.read(`b${i}`));
          expect(r.ok && dec(r.value), `b${i}`).toBe(`b ${i}`);
        }
        const u = await c.sim.result(io.read('unchanged'));
        expect(u.ok && dec(u.value)).toBe('same');
        expect(checkRecoveryReadOnce(c.events)).toEqual([]);
      },
      replay(seed),
    );
  });

  it('an op on an object missing at the primary waits for its recovery, and the recovery throttle holds (PR8, PR9)', async () => {
    const seed = 35;
    await withSeed(
      seed,
      async () => {
        const c = dataCell({ seed, osds: 3, size: 3, pgNum: 1, dataPath: { recoveryOpsMax: 2 } });
        const [client] = await c.start();
        const io = client!.pool(POOL);
        const primary = (await c.map()).pools.length > 0 ? actingOf(await c.map(), 'x')[0]! : 0;
        for (let i = 0; i < 10; i++) expect((await c.sim.result(io.writeFull(`o${i}`, enc('a')).commit)).ok).toBe(true);
        await kill(c, primary);
        for (let i = 0; i < 30; i++) expect((await c.sim.result(io.append(`o${i}`, enc('b')).commit)).ok).toBe(true);
        c.sim.restart(osdNodeName(primary));
        await c.until('revived', (m) => m.osds[primary]?.up === true && actingOf(m, 'x')[0] === primary, 60_000);
        // The first op after peering: an append to an object the primary lacks must see the update it missed.
        const append = io.append('o29', enc('c'));
        expect((await c.sim.result(append.commit)).ok).toBe(true);
        const r = await c.sim.result(io.read('o29'));
        expect(r.ok && dec(r.value)).toBe('bc');
        await c.untilClean(60_000);
        for (let i = 0; i < 10; i++) {
          const x = await c.sim.result(io.read(`o${i}`));
          expect(x.ok && dec(x.value), `o${i}`).toBe('ab');
        }
        const active = c.events.filter((e) => e.kind === 'recoveryActive' && e.osd === primary).map((e) => e.n ?? 0);
        expect(Math.max(...active)).toBe(2);
        expect(c.events.filter((e) => e.kind === 'recoveryRead' && e.oid === 'o29').length).toBe(1);
        expect(checkRecoveryReadOnce(c.events)).toEqual([]);
      },
      replay(seed),
    );
  });

  for (const mode of ['primary-copy', 'chain'] as const) {
    it(`${mode}: a read of an acknowledged but uncommitted update waits for its commit (thesis §6.3.5.4; PR12)`, async () => {
      const seed = 36;
      await withSeed(
        seed,
        async () => {
          const c = dataCell({ seed, osds: 3, size: 3, pgNum: 1, replication: mode });
          const [client] = await c.start();
          const io = client!.pool(POOL);
          const order: string[] = [];
          const h = io.writeFull('x', enc('v1'));
          void h.commit.then(() => order.push('commit'));
          expect((await c.sim.result(h.ack)).ok).toBe(true);
          // Acked: applied on every replica, not yet durable everywhere. The reader is the acker, so both replies come from one OSD, in order.
          expect(order).toEqual([]);
          const r = await c.sim.result(io.read('x'));
          order.push(`read ${r.ok ? dec(r.value) : r.error.code}`);
          expect(order).toEqual(['commit', 'read v1']);
          expect((await c.sim.result(h.commit)).ok).toBe(true);
        },
        replay(seed),
      );
    });
  }

  it('below min_size a PG takes no writes: it stays peered, not active (min_size honoured)', async () => {
    const seed = 37;
    await withSeed(
      seed,
      async () => {
        const c = dataCell({ seed, osds: 3, size: 3, minSize: 2, pgNum: 1, client: { opTimeoutMs: 6_000, resendAfterMs: 1_000 } });
        const [client] = await c.start();
        const io = client!.pool(POOL);
        expect((await c.sim.result(io.writeFull('x', enc('before')).commit)).ok).toBe(true);
        const [, b, t] = actingOf(await c.map(), 'x') as [number, number, number];
        await kill(c, b);
        expect((await c.sim.result(io.writeFull('x', enc('two left')).commit)).ok).toBe(true);
        await kill(c, t);
        const w = await c.sim.result(io.writeFull('x', enc('one left')).commit);
        expect(w.ok ? 'written' : w.error.code).toBe('timeout');
        expect((await c.pgStats()).map((s) => s.state)).toEqual(['undersized+degraded+peered']);
        c.sim.restart(osdNodeName(b));
        await c.until('b back', (m) => m.osds[b]?.up === true, 60_000);
        const again = await c.sim.result(io.writeFull('x', enc('two again')).commit);
        expect(again.ok).toBe(true);
        const r = await c.sim.result(io.read('x'));
        expect(r.ok && dec(r.value)).toBe('two again');
      },
      replay(seed),
    );
  });
});
