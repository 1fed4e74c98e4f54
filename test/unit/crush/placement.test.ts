import { describe, expect, it } from 'vitest';
import {
  CRUSH_ITEM_NONE,
  crushHash32_2,
  defaultDeviceWeights,
  formatPgId,
  objectToOsds,
  objectToPg,
  pgMask,
  pgToPlacementSeed,
  stableMod,
} from '../../../src/actors/rados/crush/index.js';
import type { Rule } from '../../../src/actors/rados/crush/index.js';
import { randomCrushCase } from '../../support/crush-random-map.js';

describe('object -> PG -> OSDs (thesis §6.2.1 Algorithm 3, §6.2.2.1; digest §3.2; README I12–I13)', () => {
  it('pg_num masks are the smallest 2^k - 1 covering n - 1', () => {
    expect([1, 2, 3, 4, 5, 8, 12, 48, 64, 65].map(pgMask)).toEqual([0, 1, 3, 3, 7, 7, 15, 63, 63, 127]);
  });

  it('stable_mod with n = 12, m = 15 folds 12..15 onto PGs 4..7 (digest §3.2 example)', () => {
    expect([12, 13, 14, 15].map((x) => stableMod(x, 12, 15))).toEqual([4, 5, 6, 7]);
    for (let x = 0; x < 12; x++) expect(stableMod(x, 12, 15)).toBe(x);
  });

  it('raising pg_num from n to n + 1 splits exactly one PG and moves about 1/(n+1) of the objects (B12, thesis §6.2.1)', () => {
    const n = 12;
    let moved = 0;
    const from = new Set<number>();
    const objects = 20_000;
    for (let i = 0; i < objects; i++) {
      const h = crushHash32_2(i, 99);
      const a = stableMod(h, n, pgMask(n));
      const b = stableMod(h, n + 1, pgMask(n + 1));
      if (a !== b) {
        moved++;
        from.add(a);
        expect(b).toBe(n); // every moved object lands in the new PG
      }
    }
    expect([...from]).toEqual([n - 8]); // PG 4 splits into 4 and 12
    expect(Math.abs(moved / objects - 1 / 16)).toBeLessThan(0.01); // PG 4 held 2/16 of the hash space
  });

  it('every object lands in a PG of the pool, printed as pool.hex', () => {
    const { map } = randomCrushCase(2);
    const pool = { id: 3, pgNum: 100, size: 3, rule: map.rules[0] as Rule };
    for (let i = 0; i < 1000; i++) {
      const pg = objectToPg(pool, `obj-${i}`);
      expect(pg.pool).toBe(3);
      expect(pg.ps).toBeGreaterThanOrEqual(0);
      expect(pg.ps).toBeLessThan(100);
    }
    expect(formatPgId({ pool: 1, ps: 42 })).toBe('1.2a');
  });

  it('hashpspool seeds placement with the pool id, so the same PG number of two pools maps differently', () => {
    const { map } = randomCrushCase(2);
    const rule = map.rules[0] as Rule;
    let differ = 0;
    for (let ps = 0; ps < 64; ps++) {
      const a = pgToPlacementSeed({ id: 1, pgNum: 64, size: 3, rule }, { pool: 1, ps });
      const b = pgToPlacementSeed({ id: 2, pgNum: 64, size: 3, rule }, { pool: 2, ps });
      if (a !== b) differ++;
      expect(pgToPlacementSeed({ id: 1, pgNum: 64, size: 3, rule, hashPsPool: false }, { pool: 1, ps })).toBe(ps + 1);
    }
    expect(differ).toBe(64);
  });

  it('the primary is the first OSD; replicated pools have no holes, erasure pools keep positions', () => {
    const { map } = randomCrushCase(2);
    const w = defaultDeviceWeights(map);
    for (let i = 0; i < 300; i++) {
      const rep = objectToOsds(map, { id: 1, pgNum: 32, size: 3, rule: map.rules[0] as Rule }, `o${i}`, w);
      expect(rep.primary).toBe(rep.osds[0]);
      expect(rep.osds).not.toContain(CRUSH_ITEM_NONE);
      const ec = objectToOsds(map, { id: 2, pgNum: 32, size: 6, rule: map.rules[1] as Rule }, `o${i}`, w);
      expect(ec.osds.length).toBe(6);
      expect(ec.primary).toBe(ec.osds.find((o) => o !== CRUSH_ITEM_NONE) ?? -1);
    }
  });
});
