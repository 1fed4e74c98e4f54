/**
 * Peering and recovery in the simulator (thesis §6.3.5; README "Peering and recovery", P1–P12):
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
  await c.sim.result(c.mon.submit({ type: 'rados.mon.osdMarkDown', osds: [osd], reason: 'test' }));
  await c.until(`osd.${osd} down`, (m) => m.osds[osd]?.up === false, 30_000);
}

function actingOf(map: OsdMap, oid: string): readonly number[] {
  const pool = map.pools.find((p) => p.name === POOL)!;
  return objectMapping(map, pool.id, oid)!.acting;
}

describe('RADOS peering and recovery in the simulator (thesis §6.3.5)', () => {
  it('an OSD marked out: its PGs move to OSDs that never held them, recovered there from the old holders, reads correct (P2, P8, P10)', async () => {
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
        expect((await c.sim.result(c.mon.submit({ type: 'rados.mon.osdMarkOut', osds: [out] }))).ok).toBe(true);
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

  it('every OSD of a prior interval down: the PG stays down and never serves the older data; it recovers when one returns (P3)', async () => {
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
});
