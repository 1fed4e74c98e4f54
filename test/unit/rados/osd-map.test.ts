import { decode, encode } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import { objectHash, parseCrushMap, pgToOsds } from '../../../src/actors/rados/crush/index.js';
import type { Rule } from '../../../src/actors/rados/crush/index.js';
import { bootstrapOsdMap, commit, simpleCrushText } from '../../../src/actors/rados/osdmap/bootstrap.js';
import { describeObjectMapping, objectMapping, objectMappingUncached, objectPg, pgMapping, pgMappingUncached, poolMappings } from '../../../src/actors/rados/osdmap/mapping.js';
import { applyIncremental, composeAll, composeIncrementals, crushWeights, emptyOsdMap, findPool, validateOsdMap } from '../../../src/actors/rados/osdmap/osd-map.js';
import type { OsdMap, OsdMapIncremental } from '../../../src/actors/rados/osdmap/osd-map.js';
import { osdMapService, prepareOsdMapCommand } from '../../../src/actors/rados/osdmap/service.js';
import type { OsdMonCommand } from '../../../src/actors/rados/protocol.js';
import { seededRandom } from '../../../src/runtime/random.js';

/** 12 OSDs: 2 racks × 3 hosts × 2 OSDs, rule over hosts; pool `rbd` (id 1) of 48 PGs × 3. */
function cluster(pgNum = 48): { map: OsdMap; history: OsdMapIncremental[] } {
  return bootstrapOsdMap({ osds: 12, osdsPerHost: 2, hostsPerRack: 3, pools: [{ name: 'rbd', pgNum }] });
}

const plain = <T>(v: T): T => decode(encode(v)) as T;

/** A random admin/OSD command against `map` (some valid, some no-ops, some errors). */
function randomCommand(map: OsdMap, r: ReturnType<typeof seededRandom>, n: number): OsdMonCommand {
  const osd = r.int(map.osds.length);
  switch (r.int(9)) {
    case 0:
      return { type: 'rados.mon.osdMarkDown', osds: [osd, r.int(map.osds.length)], reason: 'failure' };
    case 1:
      return { type: 'rados.mon.osdBoot', osd, addr: `osd.${osd}/${r.int(3)}`, epoch: map.epoch };
    case 2:
      return { type: 'rados.mon.osdMarkOut', osds: [osd], reason: 'admin' };
    case 3:
      return { type: 'rados.mon.osdMarkIn', osds: [osd] };
    case 4:
      return { type: 'rados.mon.osdReweight', osd, weight: r.pick([0.25, 0.5, 1]) };
    case 5:
      return { type: 'rados.mon.poolCreate', name: `p${n}`, pgNum: r.range(1, 40), size: r.range(1, 3), replication: r.pick(['primary-copy', 'chain', 'splay'] as const) };
    case 6: {
      const p = map.pools.length > 0 ? r.pick(map.pools) : undefined;
      return { type: 'rados.mon.poolDelete', name: p?.name ?? 'nope' };
    }
    case 7: {
      const p = map.pools.length > 0 ? r.pick(map.pools) : undefined;
      return { type: 'rados.mon.poolSet', name: p?.name ?? 'nope', pgNum: (p?.pgNum ?? 1) + r.int(5) };
    }
    default:
      return { type: 'rados.mon.osdMarkDown', osds: [osd], reason: 'admin' };
  }
}

/** A random run of committed maps: maps[i] has epoch maps[0].epoch + i; incs[i] takes maps[i] to maps[i+1]. */
function randomRun(seed: number, steps: number): { maps: OsdMap[]; incs: OsdMapIncremental[] } {
  const r = seededRandom(seed);
  const maps = [cluster().map];
  const incs: OsdMapIncremental[] = [];
  for (let i = 0; incs.length < steps && i < steps * 10; i++) {
    const map = maps[maps.length - 1] as OsdMap;
    const p = prepareOsdMapCommand(map, randomCommand(map, r, i), 1000 + i);
    if (!p.ok) continue;
    const next = applyIncremental(map, p.inc);
    if (!next.ok) throw new Error(`prepared incremental did not apply: ${next.error.message}`);
    maps.push(next.value);
    incs.push(p.inc);
  }
  return { maps, incs };
}

describe('OSD map and incrementals (thesis §6.2.2; digest §3.3; README R1–R5)', () => {
  it('apply(compose(a, b)) equals applying a, then b, for every run of consecutive incrementals (R2)', () => {
    for (const seed of [1, 2, 3]) {
      const { maps, incs } = randomRun(seed, 40);
      expect(incs.length).toBe(40);
      for (let i = 0; i < incs.length; i++) {
        for (let j = i + 1; j <= Math.min(incs.length, i + 12); j++) {
          const composed = composeAll(incs.slice(i, j));
          expect(composed.from).toBe(maps[i]?.epoch);
          expect(composed.epoch).toBe(maps[j]?.epoch);
          const r = applyIncremental(maps[i] as OsdMap, composed);
          expect(r.ok ? r.value : r.error, `seed ${seed}, ${i}..${j}`).toEqual(maps[j]);
        }
      }
    }
  });

  it('composition is associative', () => {
    const { incs } = randomRun(7, 9);
    const [a, b, c] = [composeAll(incs.slice(0, 3)), composeAll(incs.slice(3, 6)), composeAll(incs.slice(6, 9))];
    expect(composeIncrementals(composeIncrementals(a, b), c)).toEqual(composeIncrementals(a, composeIncrementals(b, c)));
  });

  it('a pool created and deleted within a composed run leaves no trace', () => {
    const { map } = cluster();
    const a = commit(map, { type: 'rados.mon.poolCreate', name: 'tmp', pgNum: 8 }, 1);
    const b = commit(a.map, { type: 'rados.mon.poolDelete', name: 'tmp' }, 2);
    const r = applyIncremental(map, composeIncrementals(a.inc, b.inc));
    expect(r.ok && r.value).toEqual(b.map);
    expect(b.map.pools.map((p) => p.name)).toEqual(['rbd']);
  });

  it('every status change bumps the epoch by exactly one; a command that changes nothing proposes nothing (R1)', () => {
    const { maps, incs } = randomRun(4, 60);
    incs.forEach((inc, i) => {
      expect(inc.from).toBe(maps[i]?.epoch);
      expect(inc.epoch).toBe((maps[i]?.epoch ?? 0) + 1);
    });
    const { map } = cluster();
    const down = commit(map, { type: 'rados.mon.osdMarkDown', osds: [3], reason: 'admin' }, 5).map;
    expect(down.epoch).toBe(map.epoch + 1);
    expect(down.osds[3]).toMatchObject({ up: false, in: true, downSinceMs: 5 });
    const again = prepareOsdMapCommand(down, { type: 'rados.mon.osdMarkDown', osds: [3], reason: 'failure' }, 6);
    expect(again.ok ? again : again.error.code).toBe('no_change');
  });

  it('an incremental that does not follow the map is refused and the map is untouched (R2)', () => {
    const { map, history } = cluster();
    const old = history[3] as OsdMapIncremental;
    const r = applyIncremental(map, old);
    expect(r.ok ? r : r.error.code).toBe('epoch_mismatch');
    const skip = { ...old, from: map.epoch + 1, epoch: map.epoch + 2 };
    expect((applyIncremental(map, skip) as { error: { code: string } }).error.code).toBe('epoch_mismatch');
    expect(map.epoch).toBe(history.length);
  });

  it('maps and incrementals are plain msgpack data: they survive encode/decode unchanged', () => {
    const { maps, incs } = randomRun(5, 20);
    for (const m of maps) expect(plain(m)).toEqual(m);
    for (const inc of incs) expect(plain(inc)).toEqual(inc);
    const last = maps[maps.length - 1] as OsdMap;
    expect(validateOsdMap(plain(last))).toEqual({ ok: true, value: last });
  });

  it('osdMapService has the monitor service shape: version 0 is empty, prepare then apply', () => {
    expect(osdMapService.name).toBe('osdmap');
    const s0 = osdMapService.initial();
    expect(s0).toEqual(emptyOsdMap());
    const p = osdMapService.prepare(s0, { type: 'rados.mon.setCrush', crush: simpleCrushText({ osds: 4, osdsPerHost: 2, hostsPerRack: 2 }) }, 10);
    if (!p.ok) throw new Error(p.error.message);
    const s1 = osdMapService.apply(s0, p.inc);
    expect(s1.epoch).toBe(1);
    expect(s1.osds.map((o) => [o.up, o.in])).toEqual([[false, false], [false, false], [false, false], [false, false]]);
    expect(s0.epoch).toBe(0); // apply is pure
  });
});

describe('object -> PG -> up and acting sets (thesis §6.2.1, §6.2.2.1; digest §3.2–3.3; README R6–R8)', () => {
  const poolRule = (map: OsdMap): Rule => parseCrushMap(map.crush).rules[0] as Rule;

  it('with every OSD up and in, the up set is CRUSH’s result for the PG, primary first', () => {
    const { map } = cluster();
    const pool = findPool(map, 'rbd');
    if (!pool) throw new Error('no pool');
    const crush = parseCrushMap(map.crush);
    for (let ps = 0; ps < pool.pgNum; ps++) {
      const m = pgMapping(map, pool.id, ps);
      const expected = pgToOsds(crush, { id: pool.id, pgNum: pool.pgNum, pgpNum: pool.pgpNum, size: pool.size, rule: poolRule(map) }, { pool: pool.id, ps }, crushWeights(map, crush)).osds;
      expect(m?.up).toEqual(expected);
      expect(m?.acting).toEqual(expected);
      expect(m?.primary).toBe(expected[0]);
      expect(m?.up.length).toBe(3);
      expect(new Set(m?.up.map((o) => Math.floor(o / 2))).size).toBe(3); // three different hosts
    }
  });

  it('a down OSD is filtered out of the up set, keeping order, without remapping (down+in = degraded)', () => {
    const { map } = cluster();
    const down = commit(commit(map, { type: 'rados.mon.osdMarkDown', osds: [0, 5], reason: 'admin' }, 1).map, { type: 'rados.mon.osdMarkDown', osds: [7], reason: 'admin' }, 2).map;
    for (const before of poolMappings(map, 1)) {
      const after = pgMapping(down, 1, before.pg.ps);
      expect(after?.raw).toEqual(before.raw);
      expect(after?.up).toEqual(before.up.filter((o) => ![0, 5, 7].includes(o)));
      expect(after?.primary).toBe(after?.up[0] ?? -1);
    }
  });

  it('an out OSD gets CRUSH weight 0: no PG maps to it, and PGs without it keep their OSDs', () => {
    const { map } = cluster();
    const out = commit(map, { type: 'rados.mon.osdMarkOut', osds: [4], reason: 'admin' }, 1).map;
    let moved = 0;
    for (const before of poolMappings(map, 1)) {
      const after = pgMapping(out, 1, before.pg.ps);
      expect(after?.up).not.toContain(4);
      expect(after?.up.length).toBe(3);
      if (!before.up.includes(4)) expect(after?.up).toEqual(before.up);
      else moved++;
    }
    expect(moved).toBeGreaterThan(0);
  });

  it('a PG whose OSDs are all down has no primary', () => {
    const { map } = cluster();
    const m0 = pgMapping(map, 1, 0);
    const down = commit(map, { type: 'rados.mon.osdMarkDown', osds: [...(m0?.up ?? [])], reason: 'admin' }, 1).map;
    expect(pgMapping(down, 1, 0)).toMatchObject({ up: [], acting: [], primary: -1 });
  });

  it('cached mappings equal fresh ones, and the cache belongs to one epoch', () => {
    const { map } = cluster();
    for (let ps = 0; ps < 48; ps++) expect(pgMapping(map, 1, ps)).toEqual(pgMappingUncached(map, 1, ps));
    for (let i = 0; i < 200; i++) expect(objectMapping(map, 1, `o${i}`)).toEqual(objectMappingUncached(map, 1, `o${i}`));
    const before = pgMapping(map, 1, 0);
    const down = commit(map, { type: 'rados.mon.osdMarkDown', osds: [before?.primary ?? 0], reason: 'admin' }, 1).map;
    expect(pgMapping(down, 1, 0)?.primary).not.toBe(before?.primary);
    expect(pgMapping(map, 1, 0)).toBe(before);
  });

  it('object names map as the crush module maps them; unknown pools and PGs give undefined', () => {
    const { map } = cluster();
    expect(objectPg(map, 1, 'foo')).toEqual({ pool: 1, ps: objectHash('foo') % 64 < 48 ? objectHash('foo') % 64 : objectHash('foo') % 32 });
    expect(objectMapping(map, 1, 'foo')).toBe(pgMapping(map, 1, objectPg(map, 1, 'foo')?.ps ?? -1));
    expect(objectMapping(map, 9, 'foo')).toBeUndefined();
    expect(pgMapping(map, 1, 48)).toBeUndefined();
    expect(describeObjectMapping(map, 1, 'foo')).toMatch(/^osdmap e\d+ pool 'rbd' \(1\) object 'foo' -> pg 1\.[0-9a-f]+ \(1\.[0-9a-f]+\) -> up \(\[\d+,\d+,\d+\], p\d+\) acting \(\[\d+,\d+,\d+\], p\d+\)$/);
  });

  it('raising pg_num 12 → 13 moves only the objects of the split PG 4, into PG 12; placement follows pgp_num (R8, thesis §6.2.1)', () => {
    const { map } = cluster(12);
    const split = commit(map, { type: 'rados.mon.poolSet', name: 'rbd', pgNum: 13 }, 1).map;
    const names = Array.from({ length: 5000 }, (_, i) => `obj-${i}`);
    let moved = 0;
    for (const name of names) {
      const a = objectPg(map, 1, name)?.ps;
      const b = objectPg(split, 1, name)?.ps;
      if (a !== b) {
        moved++;
        expect([a, b]).toEqual([4, 12]);
      }
    }
    expect(moved).toBeGreaterThan(0);
    expect(moved).toBeLessThan(names.length / 8);
    // pgp_num still 12: the child PG stays on its parent's OSDs, and no other PG moves.
    expect(pgMapping(split, 1, 12)?.up).toEqual(pgMapping(map, 1, 4)?.up);
    for (let ps = 0; ps < 12; ps++) expect(pgMapping(split, 1, ps)?.up).toEqual(pgMapping(map, 1, ps)?.up);
    // pgp_num 13: only the new PG's placement changes.
    const placed = commit(split, { type: 'rados.mon.poolSet', name: 'rbd', pgpNum: 13 }, 2).map;
    for (let ps = 0; ps < 12; ps++) expect(pgMapping(placed, 1, ps)?.up).toEqual(pgMapping(map, 1, ps)?.up);
    expect(pgMapping(placed, 1, 12)?.up).toHaveLength(3);
  });
});

describe('bad input gets a typed error and changes nothing (README R4)', () => {
  const expectCode = (r: { ok: boolean; error?: { code: string } }, code: string): void => {
    expect(r.ok ? 'ok' : r.error?.code).toBe(code);
  };

  it('malformed maps are refused by validateOsdMap', () => {
    const { map } = cluster();
    const cases: unknown[] = [
      null,
      { ...map, epoch: -1 },
      { ...map, crush: 'device 0 osd.0\nbucket {' },
      { ...map, osds: [{ ...map.osds[0], id: 5 }] },
      { ...map, osds: map.osds.map((o) => ({ ...o, weight: 0x20000 })) },
      { ...map, osds: map.osds.map((o) => ({ ...o, downSinceMs: 3 })) },
      { ...map, pools: [...map.pools, ...map.pools] },
      { ...map, pools: map.pools.map((p) => ({ ...p, crushRule: 7 })) },
      { ...map, pools: map.pools.map((p) => ({ ...p, pgpNum: p.pgNum + 1 })) },
      { ...map, pools: map.pools.map((p) => ({ ...p, replication: 'raid5' })) },
    ];
    for (const c of cases) expectCode(validateOsdMap(c), 'malformed_map');
    expect(validateOsdMap(map).ok).toBe(true);
  });

  it('malformed incrementals are refused by applyIncremental', () => {
    const { map } = cluster();
    const next = { from: map.epoch, epoch: map.epoch + 1, modifiedMs: 1 };
    expectCode(applyIncremental(map, { ...next, epoch: map.epoch }), 'malformed_incremental');
    expectCode(applyIncremental(map, { ...next, osds: [{ id: 0, weight: -1 }] }), 'malformed_incremental');
    expectCode(applyIncremental(map, { ...next, osds: [{ id: 1 }, { id: 0 }] }), 'malformed_incremental');
    expectCode(applyIncremental(map, { ...next, osds: [{ id: 40, up: true }] }), 'unknown_osd');
    expectCode(applyIncremental(map, { ...next, crush: 'rule {' }), 'malformed_incremental');
    expectCode(applyIncremental(map, { ...next, pools: [{ id: 1, pool: { ...(map.pools[0] as OsdMap['pools'][number]), pgNum: 8, pgpNum: 8 } }] }), 'pg_num_decrease');
    expectCode(applyIncremental(map, { ...next, pools: [{ id: 1, pool: { ...(map.pools[0] as OsdMap['pools'][number]), crushRule: 3 } }] }), 'unknown_rule');
  });

  it('fields an incremental adds beyond the map’s own do not reach the map', () => {
    const { map } = cluster();
    const pool = map.pools[0] as OsdMap['pools'][number];
    const inc = { from: map.epoch, epoch: map.epoch + 1, modifiedMs: 1, osds: [{ id: 0, up: false, downSinceMs: 1, extra: 1 }], pools: [{ id: 1, pool: { ...pool, extra: 'x' } }] };
    const r = applyIncremental(map, inc as OsdMapIncremental);
    if (!r.ok) throw new Error(r.error.message);
    expect(Object.keys(r.value.osds[0] ?? {}).sort()).toEqual(['addr', 'downSinceMs', 'id', 'in', 'up', 'upFrom', 'weight']);
    expect(r.value.pools[0]).toEqual(pool);
  });

  it('commands naming unknown OSDs or pools, lowering pg_num, or asking for impossible placement get their codes', () => {
    const { map } = cluster();
    const cases: Array<[OsdMonCommand, string]> = [
      [{ type: 'rados.mon.osdMarkDown', osds: [12], reason: 'admin' }, 'unknown_osd'],
      [{ type: 'rados.mon.osdBoot', osd: 99, addr: 'x', epoch: 1 }, 'unknown_osd'],
      [{ type: 'rados.mon.osdReweight', osd: 99, weight: 0.5 }, 'unknown_osd'],
      [{ type: 'rados.mon.osdReweight', osd: 1, weight: 1.5 }, 'invalid_command'],
      [{ type: 'rados.mon.osdMarkOut', osds: [], reason: 'admin' }, 'invalid_command'],
      [{ type: 'rados.mon.osdBoot', osd: 1, addr: '', epoch: 1 }, 'invalid_command'],
      [{ type: 'rados.mon.poolDelete', name: 'nope' }, 'unknown_pool'],
      [{ type: 'rados.mon.poolSet', name: 'nope', pgNum: 64 }, 'unknown_pool'],
      [{ type: 'rados.mon.poolSet', name: 'rbd', pgNum: 32 }, 'pg_num_decrease'],
      [{ type: 'rados.mon.poolSet', name: 'rbd', pgpNum: 16 }, 'pg_num_decrease'],
      [{ type: 'rados.mon.poolSet', name: 'rbd', pgNum: 64, pgpNum: 80 }, 'invalid_command'],
      [{ type: 'rados.mon.poolCreate', name: 'rbd', pgNum: 8 }, 'pool_exists'],
      [{ type: 'rados.mon.poolCreate', name: 'big', pgNum: 8, size: 7 }, 'rule_cannot_place'],
      [{ type: 'rados.mon.poolCreate', name: 'r', pgNum: 8, crushRule: 'nope' }, 'unknown_rule'],
      [{ type: 'rados.mon.poolCreate', name: 'z', pgNum: 0 }, 'invalid_command'],
      [{ type: 'rados.mon.poolCreate', name: 'z', pgNum: 8, size: 3, minSize: 4 }, 'invalid_command'],
      [{ type: 'rados.mon.setCrush', crush: simpleCrushText({ osds: 12, osdsPerHost: 6, hostsPerRack: 1 }) }, 'rule_cannot_place'],
      [{ type: 'rados.mon.setCrush', crush: 'bucket {' }, 'malformed_map'],
      [{ type: 'rados.mon.nope' } as unknown as OsdMonCommand, 'invalid_command'],
    ];
    const snapshot = structuredClone(map);
    for (const [cmd, code] of cases) expect(prepareOsdMapCommand(map, cmd, 1), JSON.stringify(cmd)).toMatchObject({ ok: false, error: { code } });
    expect(map).toEqual(snapshot);
  });

  it('a pool whose rule spans racks cannot have more replicas than racks', () => {
    const { map } = bootstrapOsdMap({ osds: 8, osdsPerHost: 2, hostsPerRack: 2, domain: 'rack' });
    expect(prepareOsdMapCommand(map, { type: 'rados.mon.poolCreate', name: 'p', pgNum: 16, size: 3 }, 1)).toMatchObject({ ok: false, error: { code: 'rule_cannot_place' } });
    expect(prepareOsdMapCommand(map, { type: 'rados.mon.poolCreate', name: 'p', pgNum: 16, size: 2 }, 1).ok).toBe(true);
  });
});
