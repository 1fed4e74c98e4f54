/**
 * Striping a large logical object (a file) over RADOS objects (thesis §3.2.1; digest §1.3):
 * successive stripe units of `su` bytes go round-robin to the first `sc` objects until each holds
 * `os` bytes, then to the next set of `sc` objects. Pure; the MDS client and `troupe rados` use it.
 *
 *   blockno = ⌊off/su⌋, stripeno = ⌊blockno/sc⌋, stripepos = blockno mod sc, spo = os/su
 *   ono = ⌊stripeno/spo⌋·sc + stripepos, objoff = (stripeno mod spo)·su + off mod su
 */
export interface StripeLayout {
  /** Stripe unit, bytes. */
  readonly su: number;
  /** Stripe count: objects a stripe spans. */
  readonly sc: number;
  /** Object size, bytes; a multiple of `su`. */
  readonly os: number;
}

/** The thesis's default: 8 MB objects, one per stripe (§3.2.1). */
export const DEFAULT_STRIPE_LAYOUT: StripeLayout = { su: 8 * 1024 * 1024, sc: 1, os: 8 * 1024 * 1024 };

export interface StripeExtent {
  /** Object number in the file. */
  readonly ono: number;
  readonly objectOffset: number;
  readonly length: number;
  /** Where these bytes sit in the logical range. */
  readonly logicalOffset: number;
}

export function validateLayout(l: StripeLayout): string | undefined {
  const pos = (x: number): boolean => Number.isSafeInteger(x) && x > 0;
  if (!pos(l.su) || !pos(l.sc) || !pos(l.os)) return 'su, sc and os must be positive integers';
  if (l.os % l.su !== 0) return `object size ${l.os} is not a multiple of the stripe unit ${l.su}`;
  return undefined;
}

/** The pieces of the logical range [offset, offset + length), in logical order. */
export function stripeExtents(l: StripeLayout, offset: number, length: number): StripeExtent[] {
  const bad = validateLayout(l);
  if (bad !== undefined) throw new RangeError(bad);
  if (!(Number.isSafeInteger(offset) && offset >= 0 && Number.isSafeInteger(length) && length >= 0)) throw new RangeError('offset and length must be non-negative integers');
  const spo = l.os / l.su;
  const out: StripeExtent[] = [];
  let off = offset;
  const end = offset + length;
  while (off < end) {
    const blockno = Math.floor(off / l.su);
    const stripeno = Math.floor(blockno / l.sc);
    const stripepos = blockno % l.sc;
    const ono = Math.floor(stripeno / spo) * l.sc + stripepos;
    const inUnit = off % l.su;
    const objectOffset = (stripeno % spo) * l.su + inUnit;
    const n = Math.min(l.su - inUnit, end - off);
    out.push({ ono, objectOffset, length: n, logicalOffset: off });
    off += n;
  }
  return out;
}

/** The RADOS object name of object `ono` of file `ino` (thesis §3.2.1: inode number and object number). */
export function stripeObjectName(ino: number | string, ono: number): string {
  const i = typeof ino === 'number' ? ino.toString(16) : ino;
  return `${i}.${ono.toString(16).padStart(8, '0')}`;
}
