/**
 * Scrubbing in the simulator (README "Scrubbing", S1–S7; post-thesis, thesis §6.5 names it as
 * missing): a bit flipped in one replica's stored object is found by a deep scrub, the PG is
 * reported `inconsistent` to the monitors, and `pg repair` makes every replica equal again; a light
 * scrub finds a missing object and a size mismatch; the authoritative copy is the one whose stored
 * digest verifies, even when it is not the primary's; periodic scrubs run on their own.
 */
import { describe, expect, it } from 'vitest';
import type { ActorRef } from '../../../../src/index.js';
import { withSeed } from '../../../../src/testkit.js';
import { objectMapping } from '../../../../src/actors/rados/osdmap/mapping.js';
import type { OsdMap } from '../../../../src/actors/rados/osdmap/osd-map.js';
import type { OsdMsg } from '../../../../src/actors/rados/osd/osd.js';
import { formatPgid } from '../../../../src/actors/rados/osd/pg-stats.js';
import type { PgCommand, PgCommandReply, PgQueryResult, PgStatsGet, PgStatsView } from '../../../../src/actors/rados/protocol.js';
import type { ObjectStore } from '../../../../src/storage/object-store.js';
import { POOL, dataCell } from './cell.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
type Cell = ReturnType<typeof dataCell>;

function where(map: OsdMap, oid: string): { pgid: string; cid: string; acting: readonly number[] } {
  const pool = map.pools.find((p) => p.name === POOL);
  const m = pool === undefined ? undefined : objectMapping(map, pool.id, oid);
  if (pool === undefined || m === undefined) throw new Error(`no mapping for ${oid}`);
  return { pgid: formatPgid(pool.id, m.pg.ps), cid: `pg.${pool.id}.${m.pg.ps}`, acting: m.acting };
}

async function pgCommand(c: Cell, osd: number, pgid: string, command: PgCommand['command']): Promise<PgCommandReply> {
  const msg: PgCommand = { type: 'rados.osd.pgCommand', pgid, command };
  return c.sim.result(c.admin.system.ask<PgCommandReply>(c.osdRefs[osd] as ActorRef<OsdMsg>, msg, { timeoutMs: 1_000 }));
}

/** Runs the simulation until the PG's scrubber at `osd` is idle again after a scrub newer than `afterMs`. */
async function scrubbed(c: Cell, osd: number, pgid: string, afterMs: number, deep: boolean): Promise<PgQueryResult> {
  for (let i = 0; i < 200; i++) {
    await c.sim.run({ forMs: 250 });
    const r = await pgCommand(c, osd, pgid, 'query');
    if (!r.ok || r.query === undefined) continue;
    const stamp = deep ? r.query.stat.lastDeepScrubMs : r.query.stat.lastScrubMs;
    if (r.query.scrub.state === 'idle' && stamp > afterMs) return r.query;
  }
  throw new Error(`pg ${pgid}: no ${deep ? 'deep ' : ''}scrub finished at osd.${osd}`);
}

async function monitorView(c: Cell): Promise<PgStatsView> {
  const msg: PgStatsGet = { type: 'rados.mon.pgStatsGet' };
  return c.sim.result(c.admin.system.ask<PgStatsView>(c.monRefs[0] as unknown as ActorRef<PgStatsGet>, msg, { timeoutMs: 1_000 }));
}

/** Every acting member holds every object of the collection with the same bytes and attributes. */
function replicasEqual(stores: ReadonlyMap<number, ObjectStore>, cid: string, acting: readonly number[]): void {
  const describe = (s: ObjectStore): string =>
    JSON.stringify(s.listObjects(cid).map((oid) => [oid, [...s.read(cid, oid)], [...s.getAttrs(cid, oid)].map(([k, v]) => [k, [...v]])]));
  const first = describe(stores.get(acting[0] as number) as ObjectStore);
  for (const o of acting.slice(1)) expect(describe(stores.get(o) as ObjectStore), `osd.${o} against osd.${acting[0]}`).toBe(first);
}

const noSchedule = { scrubIntervalMs: 0, deepScrubIntervalMs: 0 };

describe('RADOS scrubbing in the simulator', () => {
  it('a bit flipped in one replica: deep scrub finds it, the PG is reported inconsistent, repair makes all replicas equal', async () => {
    await withSeed(61, async () => {
      const c = dataCell({ seed: 61, osds: 4, size: 3, pgNum: 4, scrub: noSchedule, pgStats: { reportIntervalMs: 1_000 } });
      const [client] = await c.start();
      const io = client!.pool(POOL);
      for (let i = 0; i < 12; i++) expect((await c.sim.result(io.writeFull(`o${i}`, enc(`value ${i} `.repeat(20))).commit)).ok).toBe(true);
      const map = await c.map();
      const { pgid, cid, acting } = where(map, 'o3');
      const primary = acting[0] as number;
      const victim = acting[1] as number;
      c.stores.get(victim)!.corruptObjectBit(cid, 'o3', 77);

      // A light scrub compares sizes, versions and attributes only: the flipped bit is invisible to it.
      const t0 = c.sim.now;
      expect((await pgCommand(c, primary, pgid, 'scrub')).ok).toBe(true);
      const light = await scrubbed(c, primary, pgid, t0, false);
      expect(light.scrub.inconsistent).toEqual([]);

      const t1 = c.sim.now;
      const asked = await pgCommand(c, primary, pgid, 'deep-scrub');
      expect(asked).toMatchObject({ ok: true, osd: primary });
      const deep = await scrubbed(c, primary, pgid, t1, true);
      expect(deep.scrub.inconsistent).toEqual([{ oid: 'o3', authoritative: primary, bad: [{ osd: victim, errors: ['data_digest_mismatch', 'stored_digest_mismatch'] }] }]);
      expect(deep.stat.state).toMatch(/\binconsistent\b/);
      expect(deep.stat.inconsistentObjects).toBe(1);

      // The primary reports it; the monitors show it.
      let view = await monitorView(c);
      for (let i = 0; i < 20 && !(view.stats.find((s) => s.pgid === pgid)?.state ?? '').includes('inconsistent'); i++) {
        await c.sim.run({ forMs: 500 });
        view = await monitorView(c);
      }
      expect(view.stats.find((s) => s.pgid === pgid)).toMatchObject({ reporter: primary, inconsistentObjects: 1 });

      // Repair from the authoritative copy; a new deep scrub finds nothing; every replica is equal.
      const t2 = c.sim.now;
      expect((await pgCommand(c, primary, pgid, 'repair')).ok).toBe(true);
      const repaired = await scrubbed(c, primary, pgid, t2, true);
      expect(repaired.scrub.inconsistent).toEqual([]);
      expect(repaired.stat.state).not.toMatch(/inconsistent/);
      replicasEqual(c.stores, cid, acting);
      const t3 = c.sim.now;
      expect((await pgCommand(c, primary, pgid, 'deep-scrub')).ok).toBe(true);
      expect((await scrubbed(c, primary, pgid, t3, true)).scrub.inconsistent).toEqual([]);
      // Found by the deep scrub, found again by the repair's own deep scrub and repaired there.
      const st = await c.osdStatus(primary);
      expect(st?.scrub).toMatchObject({ errorsFound: 2, objectsRepaired: 1 });
      // The object reads back as written.
      const back = await c.sim.result(io.read('o3'));
      expect(back.ok && new TextDecoder().decode(back.value)).toBe('value 3 '.repeat(20));
    });
  });

  it('light scrub finds an object missing on one replica and a size mismatch on another; auto-repair fixes both', async () => {
    await withSeed(62, async () => {
      const c = dataCell({ seed: 62, osds: 4, size: 3, pgNum: 2, scrub: { ...noSchedule, autoRepair: false } });
      const [client] = await c.start();
      const io = client!.pool(POOL);
      for (let i = 0; i < 16; i++) expect((await c.sim.result(io.writeFull(`k${i}`, enc(`payload-${i}`)).commit)).ok).toBe(true);
      const map = await c.map();
      // Two objects of one PG: remove one from the second member, truncate another on the third.
      const a = where(map, 'k1');
      const other = Array.from({ length: 16 }, (_, i) => `k${i}`).find((k) => k !== 'k1' && where(map, k).pgid === a.pgid) as string;
      expect(other).toBeDefined();
      const [p, r1, r2] = a.acting as [number, number, number];
      expect(c.stores.get(r1)!.applyNow({ ops: [{ op: 'remove', cid: a.cid, oid: 'k1' }] }).ok).toBe(true);
      expect(c.stores.get(r2)!.applyNow({ ops: [{ op: 'truncate', cid: a.cid, oid: other, sizeBytes: 3 }] }).ok).toBe(true);
      const t0 = c.sim.now;
      expect((await pgCommand(c, p, a.pgid, 'scrub')).ok).toBe(true);
      const found = await scrubbed(c, p, a.pgid, t0, false);
      const byOid = new Map(found.scrub.inconsistent.map((f) => [f.oid, f]));
      expect(byOid.get('k1')).toEqual({ oid: 'k1', authoritative: p, bad: [{ osd: r1, errors: ['missing'] }] });
      expect(byOid.get(other)?.bad).toEqual([{ osd: r2, errors: ['size_mismatch'] }]);
      expect(found.scrub.errors).toBe(2);
      // Repair (a deep scrub with repair) brings both back.
      const t1 = c.sim.now;
      expect((await pgCommand(c, p, a.pgid, 'repair')).ok).toBe(true);
      expect((await scrubbed(c, p, a.pgid, t1, true)).scrub.inconsistent).toEqual([]);
      replicasEqual(c.stores, a.cid, a.acting);
    });
  });

  it('the authoritative copy is the one whose stored digest verifies, even against the primary (2 replicas)', async () => {
    await withSeed(63, async () => {
      const c = dataCell({ seed: 63, osds: 4, size: 2, pgNum: 2, scrub: { ...noSchedule, autoRepair: true } });
      const [client] = await c.start();
      const io = client!.pool(POOL);
      for (let i = 0; i < 6; i++) expect((await c.sim.result(io.writeFull(`x${i}`, enc(`x-data-${i}`.repeat(9))).commit)).ok).toBe(true);
      const map = await c.map();
      const { pgid, cid, acting } = where(map, 'x2');
      const [p, r] = acting as [number, number];
      c.stores.get(p)!.corruptObjectBit(cid, 'x2', 5);
      const t0 = c.sim.now;
      expect((await pgCommand(c, p, pgid, 'deep-scrub')).ok).toBe(true);
      // autoRepair: the scrub repairs what it finds (the primary's copy, from the replica's).
      const q = await scrubbed(c, p, pgid, t0, true);
      expect(q.scrub.inconsistent).toEqual([]);
      replicasEqual(c.stores, cid, acting);
      expect((await c.osdStatus(p))?.scrub).toMatchObject({ errorsFound: 1, objectsRepaired: 1 });
      expect(r).not.toBe(p);
      const back = await c.sim.result(io.read('x2'));
      expect(back.ok && new TextDecoder().decode(back.value)).toBe('x-data-2'.repeat(9));
    });
  });

  it('periodic deep scrubs run on every PG; writes keep being served while they do (S1)', async () => {
    await withSeed(64, async () => {
      const c = dataCell({ seed: 64, osds: 4, size: 3, pgNum: 4, scrub: { scrubIntervalMs: 0, deepScrubIntervalMs: 20_000, chunkObjectsMax: 2 } });
      const [client] = await c.start();
      const io = client!.pool(POOL);
      for (let i = 0; i < 10; i++) expect((await c.sim.result(io.writeFull(`p${i}`, enc(`p${i}`)).commit)).ok).toBe(true);
      // Writes while scrubs run; every one commits.
      for (let round = 0; round < 30; round++) {
        expect((await c.sim.result(io.writeFull(`p${round % 10}`, enc(`round ${round}`)).commit)).ok).toBe(true);
        await c.sim.run({ forMs: 1_000 });
      }
      const map = await c.map();
      const view = await monitorView(c);
      expect(view.stats).toHaveLength(4);
      for (const s of view.stats) {
        expect(s.lastDeepScrubMs, s.pgid).toBeGreaterThan(0);
        expect(s.state, s.pgid).toBe('active+clean');
      }
      let completed = 0;
      for (let id = 0; id < 4; id++) completed += (await c.osdStatus(id))?.scrub?.deepScrubsCompleted ?? 0;
      expect(completed).toBeGreaterThanOrEqual(4);
      expect(map.epoch).toBeGreaterThan(0);
    });
  });
});
