/**
 * Scrubbing (post-thesis: the thesis names it as missing, §6.5, digest §3.14 and checklist row 26;
 * what Ceph does): the primary of a PG compares *scrub maps* — each acting member's description of
 * the PG's objects in one range of names — and finds the copies that disagree.
 *
 *  - a light scrub compares what is cheap to read: which objects exist, their sizes, their versions
 *    and a digest of their attributes (user xattrs and the OSD's own);
 *  - a deep scrub also reads every object's bytes on every member and compares their CRC32C (the
 *    storage layer's checksum), and checks each copy against the data digest stored with the object
 *    when it was written whole (`DATA_DIGEST_ATTR`, as Ceph's object_info data_digest).
 *
 * For each inconsistent object one copy is chosen as authoritative (README "Scrubbing", S3): copies
 * whose stored digest fails are set aside unless none passes; among the rest the newest version
 * wins (an older version lost an update every member acknowledged), then the copy more members
 * agree with, then the primary's. A copy that exists always beats absence (a member missing the
 * object gets it, as Ceph recovers it). Repair makes every other member's copy equal to it.
 *
 * Pure: no store, no clock. `scrubEntry` describes one copy; `compareScrubMaps` compares.
 */
import { encode } from '@msgpack/msgpack';
import { crc32c } from '../../../storage/crc32c.js';

/** One object as one member holds it. */
export interface ScrubObject {
  readonly oid: string;
  readonly sizeBytes: number;
  /** The object's version attribute as text (`epoch'v`; '' when it has none). */
  readonly version: string;
  /** CRC32C of the object's attributes (name-sorted, msgpack-encoded), every attribute included. */
  readonly attrsDigest: number;
  /** Deep scrub only: CRC32C of the object's bytes as read now. */
  readonly dataDigest?: number;
  /** Deep scrub only: the digest stored when the object was last written whole, when there is one. */
  readonly storedDigest?: number;
}

/** A member's description of the PG's objects in one range of names, sorted by name. */
export interface ScrubMap {
  readonly osd: number;
  readonly objects: readonly ScrubObject[];
}

export type ScrubErrorKind =
  /** The object is absent from this member. */
  | 'missing'
  | 'size_mismatch'
  | 'version_mismatch'
  | 'attr_mismatch'
  /** Deep: this copy's bytes differ from the authoritative copy's. */
  | 'data_digest_mismatch'
  /** Deep: this copy's bytes do not match the digest stored with it (the copy rotted on its own). */
  | 'stored_digest_mismatch';

/** One object whose copies disagree: which members hold a bad copy (and why), and the copy to repair from. */
export interface ObjectInconsistency {
  readonly oid: string;
  /** The member whose copy is authoritative. */
  readonly authoritative: number;
  /** Members whose copy must be repaired, ascending, with what is wrong with each. */
  readonly bad: readonly { readonly osd: number; readonly errors: readonly ScrubErrorKind[] }[];
}

/** The OSD-private attribute holding a whole-object write's CRC32C (4 bytes little-endian; empty = unknown). */
export const DATA_DIGEST_ATTR = '\u0000dd';

/** Encodes a digest for `DATA_DIGEST_ATTR`. */
export function encodeDigest(crc: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, crc >>> 0, true);
  return out;
}

/** The digest a `DATA_DIGEST_ATTR` value holds, or undefined for an unknown (empty) or malformed one. */
export function decodeDigest(v: Uint8Array | undefined): number | undefined {
  if (v === undefined || v.length !== 4) return undefined;
  return new DataView(v.buffer, v.byteOffset, 4).getUint32(0, true);
}

/**
 * Describes one copy: `attrs` is every attribute of the object (the version attribute included);
 * `data` is given for a deep scrub only.
 */
export function scrubEntry(oid: string, sizeBytes: number, version: string, attrs: ReadonlyMap<string, Uint8Array>, data?: Uint8Array): ScrubObject {
  const sorted = [...attrs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const attrsDigest = crc32c(encode(sorted));
  if (data === undefined) return { oid, sizeBytes, version, attrsDigest };
  if (data.length !== sizeBytes) throw new RangeError(`scrubEntry: ${oid} has ${data.length} bytes but its size says ${sizeBytes}`);
  const stored = decodeDigest(attrs.get(DATA_DIGEST_ATTR));
  return { oid, sizeBytes, version, attrsDigest, dataDigest: crc32c(data), ...(stored === undefined ? {} : { storedDigest: stored }) };
}

/** Versions as `epoch'v` compare epoch first, then v (the PG log's order); '' (none) is oldest. */
function compareVersionText(a: string, b: string): number {
  const parse = (s: string): [number, number] => {
    const m = /^(\d+)'(\d+)$/.exec(s);
    return m === null ? [-1, -1] : [Number(m[1]), Number(m[2])];
  };
  const [ae, av] = parse(a);
  const [be, bv] = parse(b);
  return ae !== be ? ae - be : av - bv;
}

const storedFails = (o: ScrubObject): boolean => o.storedDigest !== undefined && o.dataDigest !== undefined && o.storedDigest !== o.dataDigest;

function fingerprint(o: ScrubObject | undefined, deep: boolean): string {
  if (o === undefined) return 'absent';
  return `${o.sizeBytes}|${o.version}|${o.attrsDigest}|${deep ? String(o.dataDigest) : ''}`;
}

/** What is wrong with `copy` against the authoritative `auth` (both as found; undefined = absent). */
function differences(copy: ScrubObject | undefined, auth: ScrubObject, deep: boolean): ScrubErrorKind[] {
  if (copy === undefined) return ['missing'];
  const out: ScrubErrorKind[] = [];
  if (copy.sizeBytes !== auth.sizeBytes) out.push('size_mismatch');
  if (copy.version !== auth.version) out.push('version_mismatch');
  if (copy.attrsDigest !== auth.attrsDigest) out.push('attr_mismatch');
  if (deep && copy.dataDigest !== auth.dataDigest) out.push('data_digest_mismatch');
  if (deep && storedFails(copy)) out.push('stored_digest_mismatch');
  return out;
}

/**
 * Compares the members' maps of one range (one map per acting member, the primary's among them).
 * Returns the inconsistent objects in name order; an object every member holds identically (and,
 * deep, whose stored digest verifies everywhere) is not listed.
 */
export function compareScrubMaps(maps: readonly ScrubMap[], primary: number, deep: boolean): ObjectInconsistency[] {
  if (!maps.some((m) => m.osd === primary)) throw new RangeError(`compareScrubMaps: no map from the primary osd.${primary}`);
  if (new Set(maps.map((m) => m.osd)).size !== maps.length) throw new RangeError('compareScrubMaps: two maps from one member');
  const byOsd = new Map<number, Map<string, ScrubObject>>();
  const names = new Set<string>();
  for (const m of maps) {
    const objs = new Map<string, ScrubObject>();
    for (const o of m.objects) {
      objs.set(o.oid, o);
      names.add(o.oid);
    }
    byOsd.set(m.osd, objs);
  }
  const osds = maps.map((m) => m.osd).sort((a, b) => a - b);
  const out: ObjectInconsistency[] = [];
  for (const oid of [...names].sort()) {
    const copies = osds.map((osd) => ({ osd, o: byOsd.get(osd)?.get(oid) }));
    const fps = new Set(copies.map((c) => fingerprint(c.o, deep)));
    const anyRot = deep && copies.some((c) => c.o !== undefined && storedFails(c.o));
    if (fps.size === 1 && !anyRot) continue;
    // Choosing the authoritative copy (S3): copies failing their stored digest only if all present ones do.
    const present = copies.filter((c) => c.o !== undefined);
    const sound = present.filter((c) => !storedFails(c.o as ScrubObject));
    const pool = sound.length > 0 ? sound : present;
    const groups = new Map<string, { osds: number[]; o: ScrubObject }>();
    for (const c of pool) {
      const fp = fingerprint(c.o, deep);
      const g = groups.get(fp);
      if (g === undefined) groups.set(fp, { osds: [c.osd], o: c.o as ScrubObject });
      else g.osds.push(c.osd);
    }
    const ranked = [...groups.values()].sort((a, b) => compareVersionText(b.o.version, a.o.version) || b.osds.length - a.osds.length || Number(b.osds.includes(primary)) - Number(a.osds.includes(primary)) || (a.osds[0] as number) - (b.osds[0] as number));
    const best = ranked[0] as { osds: number[]; o: ScrubObject };
    const authOsd = best.osds.includes(primary) ? primary : (best.osds[0] as number);
    const auth = best.o;
    const bad: { osd: number; errors: ScrubErrorKind[] }[] = [];
    for (const c of copies) {
      const errors = differences(c.o, auth, deep);
      if (errors.length > 0) bad.push({ osd: c.osd, errors });
    }
    if (bad.length === 0) continue;
    out.push({ oid, authoritative: authOsd, bad });
  }
  return out;
}

/** The number of errors in a comparison, counted as Ceph counts scrub errors: one per bad copy. */
export function scrubErrorCount(found: readonly ObjectInconsistency[]): number {
  return found.reduce((n, f) => n + f.bad.length, 0);
}
