import { describe, expect, it } from 'vitest';
import {
  crushHash32,
  crushHash32_2,
  crushHash32_3,
  crushHash32_4,
  crushHash32_5,
  strHashRjenkins,
} from '../../../src/actors/rados/crush/hash.js';

describe('rjenkins1 hashes (thesis §5.3.3, digest §2.6; README I1)', () => {
  it('crush_hash32 with one to four inputs matches the digest vectors, uint32-exact', () => {
    expect(crushHash32(0)).toBe(398764043);
    expect(crushHash32(1)).toBe(3574081617);
    expect(crushHash32(12345)).toBe(3450610134);
    expect(crushHash32_2(1, 2)).toBe(3079532188);
    expect(crushHash32_3(1, 2, 3)).toBe(1935332395);
    expect(crushHash32_3(12345, 7, 0)).toBe(3475695455);
    expect(crushHash32_4(1, 2, 3, 4)).toBe(1768759062);
  });

  it('negative inputs (bucket ids) hash as their uint32 two\'s complement, as C casts them', () => {
    expect(crushHash32_3(5, -1, 0)).toBe(crushHash32_3(5, 0xffffffff, 0));
    expect(crushHash32_4(-3, 1, 2, -7)).toBe(crushHash32_4(0xfffffffd, 1, 2, 0xfffffff9));
  });

  it('every hash returns a uint32', () => {
    for (let i = 0; i < 1000; i++) {
      for (const h of [crushHash32(i), crushHash32_2(i, -i), crushHash32_3(i, 7, i), crushHash32_4(i, 1, 2, 3), crushHash32_5(i, 1, 2, 3, 4)]) {
        expect(Number.isInteger(h) && h >= 0 && h <= 0xffffffff).toBe(true);
      }
    }
  });

  it('crush_hash32_5 is pinned by a vector (regression; Ceph defines it, the mapper never calls it)', () => {
    expect(crushHash32_5(1, 2, 3, 4, 5)).toBe(1262657953);
  });

  it('the object-name hash (ceph_str_hash_rjenkins) is pinned by vectors and covers every tail length', () => {
    const seen = new Set<number>();
    for (let n = 0; n <= 30; n++) seen.add(strHashRjenkins('x'.repeat(n)));
    expect(seen.size).toBe(31);
    // Pinned; the same function reproduces osdmaptool's object -> PG mapping in
    // test/integration/crush-crushtool.test.ts, which is the check against Ceph itself.
    expect(strHashRjenkins('foo')).toBe(2143417350);
    expect(strHashRjenkins('hello world, this is long')).toBe(800233606);
    expect(strHashRjenkins('')).toBe(3175731469);
    expect(strHashRjenkins('foo')).toBe(strHashRjenkins(new TextEncoder().encode('foo')));
  });
});
