/**
 * The scrub core (`osd/scrub.ts`; README "Scrubbing", S3): each kind of mismatch between the
 * members' scrub maps, light against deep, and the choice of the authoritative copy — stored digest
 * first, then the newest version, then the majority, then the primary.
 */
import { describe, expect, it } from 'vitest';
import { crc32c } from '../../../src/storage/crc32c.js';
import { DATA_DIGEST_ATTR, compareScrubMaps, decodeDigest, encodeDigest, scrubEntry, scrubErrorCount, type ScrubMap, type ScrubObject } from '../../../src/actors/rados/osd/scrub.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/** One copy: `data` written whole at `version` (so its stored digest is the data's), optionally changed afterwards. */
function copy(oid: string, data: string, version = "3'7", o: { rot?: string; xattr?: string; noDigest?: boolean } = {}): ScrubObject {
  const attrs = new Map<string, Uint8Array>([['\u0000v', enc(version)]]);
  if (o.noDigest !== true) attrs.set(DATA_DIGEST_ATTR, encodeDigest(crc32c(enc(data))));
  if (o.xattr !== undefined) attrs.set('u.color', enc(o.xattr));
  const bytes = enc(o.rot ?? data);
  return scrubEntry(oid, bytes.length, version, attrs, bytes);
}

const light = (c: ScrubObject): ScrubObject => ({ oid: c.oid, sizeBytes: c.sizeBytes, version: c.version, attrsDigest: c.attrsDigest });
const map = (osd: number, ...objects: ScrubObject[]): ScrubMap => ({ osd, objects });

describe('scrub maps compared (S3)', () => {
  it('identical copies on every member are consistent, light and deep', () => {
    const maps = [0, 1, 2].map((o) => map(o, copy('a', 'alpha'), copy('b', 'beta')));
    expect(compareScrubMaps(maps, 0, true)).toEqual([]);
    expect(compareScrubMaps(maps.map((m) => ({ ...m, objects: m.objects.map(light) })), 0, false)).toEqual([]);
  });

  it('an object missing on one member is `missing` there, repaired from the primary', () => {
    const found = compareScrubMaps([map(0, copy('a', 'x')), map(1), map(2, copy('a', 'x'))], 0, false);
    expect(found).toEqual([{ oid: 'a', authoritative: 0, bad: [{ osd: 1, errors: ['missing'] }] }]);
    expect(scrubErrorCount(found)).toBe(1);
  });

  it('an object only a replica holds is pushed to the others (a present copy beats absence)', () => {
    expect(compareScrubMaps([map(0), map(1, copy('s', 'stray')), map(2)], 0, false)).toEqual([{ oid: 's', authoritative: 1, bad: [{ osd: 0, errors: ['missing'] }, { osd: 2, errors: ['missing'] }] }]);
  });

  it('a size mismatch, a version mismatch and an attribute mismatch are each named', () => {
    const base = copy('a', 'hello');
    const shorter = { ...copy('a', 'hello'), sizeBytes: 3 };
    expect(compareScrubMaps([map(0, light(base)), map(1, light(shorter)), map(2, light(base))], 0, false)[0]?.bad).toEqual([{ osd: 1, errors: ['size_mismatch'] }]);
    const older = copy('a', 'hello', "3'6");
    // The newest version is authoritative even on a minority member (an older one lost an acknowledged update).
    expect(compareScrubMaps([map(0, light(older)), map(1, light(older)), map(2, light(base))], 0, false)).toEqual([
      { oid: 'a', authoritative: 2, bad: [{ osd: 0, errors: ['version_mismatch', 'attr_mismatch'] }, { osd: 1, errors: ['version_mismatch', 'attr_mismatch'] }] },
    ]);
    const red = copy('a', 'hello', "3'7", { xattr: 'red' });
    const blue = copy('a', 'hello', "3'7", { xattr: 'blue' });
    expect(compareScrubMaps([map(0, light(red)), map(1, light(blue)), map(2, light(red))], 0, false)[0]).toEqual({ oid: 'a', authoritative: 0, bad: [{ osd: 1, errors: ['attr_mismatch'] }] });
  });

  it('flipped bytes are invisible to a light scrub and found by a deep one, with the stored digest failing on the rotten copy', () => {
    const good = copy('a', 'payload');
    const rotten = copy('a', 'payload', "3'7", { rot: 'paylaod' });
    const maps = [map(0, good), map(1, rotten), map(2, good)];
    expect(compareScrubMaps(maps.map((m) => ({ ...m, objects: m.objects.map(light) })), 0, false)).toEqual([]);
    expect(compareScrubMaps(maps, 0, true)).toEqual([{ oid: 'a', authoritative: 0, bad: [{ osd: 1, errors: ['data_digest_mismatch', 'stored_digest_mismatch'] }] }]);
  });

  it('the copy whose stored digest verifies is authoritative even against the primary and a tie', () => {
    const good = copy('a', 'payload');
    const rotten = copy('a', 'payload', "3'7", { rot: 'pbyload' });
    expect(compareScrubMaps([map(4, rotten), map(1, good)], 4, true)).toEqual([{ oid: 'a', authoritative: 1, bad: [{ osd: 4, errors: ['data_digest_mismatch', 'stored_digest_mismatch'] }] }]);
    // Two rotten copies against one sound one: the sound one still wins.
    expect(compareScrubMaps([map(0, rotten), map(1, rotten), map(2, good)], 0, true)[0]?.authoritative).toBe(2);
  });

  it('without stored digests (partial writes) the majority wins, then the primary', () => {
    const a = copy('a', 'one', "3'7", { noDigest: true });
    const b = copy('a', 'two', "3'7", { noDigest: true });
    expect(compareScrubMaps([map(0, b), map(1, a), map(2, a)], 0, true)[0]).toEqual({ oid: 'a', authoritative: 1, bad: [{ osd: 0, errors: ['data_digest_mismatch'] }] });
    expect(compareScrubMaps([map(3, b), map(1, a)], 3, true)[0]).toEqual({ oid: 'a', authoritative: 3, bad: [{ osd: 1, errors: ['data_digest_mismatch'] }] });
  });

  it('a copy that rotted on every member is still reported (stored digest failing everywhere)', () => {
    const rotten = copy('a', 'payload', "3'7", { rot: 'payl0ad' });
    const found = compareScrubMaps([map(0, rotten), map(1, rotten)], 0, true);
    expect(found).toEqual([{ oid: 'a', authoritative: 0, bad: [{ osd: 0, errors: ['stored_digest_mismatch'] }, { osd: 1, errors: ['stored_digest_mismatch'] }] }]);
  });

  it('refuses maps without the primary or with one member twice (API misuse)', () => {
    expect(() => compareScrubMaps([map(1)], 0, false)).toThrow(/primary/);
    expect(() => compareScrubMaps([map(0), map(0)], 0, false)).toThrow(/two maps from one member/);
    expect(() => scrubEntry('a', 5, "1'1", new Map(), enc('abc'))).toThrow(RangeError);
  });

  it('digests encode to 4 bytes and back; an empty value means unknown', () => {
    expect(decodeDigest(encodeDigest(0xdeadbeef))).toBe(0xdeadbeef);
    expect(decodeDigest(new Uint8Array(0))).toBeUndefined();
    expect(decodeDigest(undefined)).toBeUndefined();
  });
});
