/**
 * Directory objects (thesis §4.2, §4.2.1; digest §4.1): each directory's entries, with the inodes
 * of its primary entries embedded, live in one RADOS object named by the directory's inode number
 * (root = inode 1), so one read loads a whole directory. Three kinds of directory entry:
 *
 * - primary: the name and the inode it embeds;
 * - remote: the name and only an inode number (a hard link; the inode lives under its primary
 *   entry, found through the anchor table, thesis §4.2.2);
 * - null: the name does not exist — a deletion not yet committed (B.1.1.2, B.2.1). Null entries
 *   live in the cache and the journal only; a commit leaves them out of the object.
 *
 * Every entry carries the fragment version it was last dirtied at (B.2.1). The object records the
 * fragment version it was committed at. Pure.
 */
import { decodeFrame, encodeFrame } from './frame.js';
import type { StripeLayout } from '../rados/client/striping.js';
import { stripeObjectName } from '../rados/client/striping.js';

export const ROOT_INO = 1;

export type InodeType = 'file' | 'dir' | 'symlink';

export interface Inode {
  readonly ino: number;
  readonly type: InodeType;
  /** Permission bits (07777). */
  readonly mode: number;
  readonly nlink: number;
  readonly sizeBytes: number;
  readonly mtimeMs: number;
  readonly atimeMs: number;
  readonly ctimeMs: number;
  /** Files: how their data is striped over objects named (ino, object number) (thesis §3.2.1). */
  readonly layout?: StripeLayout;
  /** Symbolic links: the path they point to. */
  readonly target?: string;
}

export type Dentry =
  | { readonly kind: 'primary'; readonly name: string; readonly version: number; readonly inode: Inode }
  | { readonly kind: 'remote'; readonly name: string; readonly version: number; readonly ino: number; readonly type: InodeType }
  | { readonly kind: 'null'; readonly name: string; readonly version: number };

/** What a directory object holds. */
export interface DirObject {
  readonly ino: number;
  /** The fragment version the object was committed at. */
  readonly version: number;
  /** Primary and remote entries, sorted by name. */
  readonly dentries: readonly Dentry[];
}

/** 'MDSD' */
export const DIR_MAGIC = 0x4453444d;

/** The object name of directory `ino`'s (single) fragment. */
export function dirObjectName(ino: number): string {
  return stripeObjectName(ino, 0);
}

export function encodeDirObject(d: DirObject): Uint8Array {
  if (d.dentries.some((e) => e.kind === 'null')) throw new Error('null dentries are never committed to a directory object');
  return encodeFrame(DIR_MAGIC, { ino: d.ino, version: d.version, dentries: d.dentries });
}

export type DirDecode = { readonly ok: true; readonly value: DirObject } | { readonly ok: false; readonly reason: string };

export function decodeDirObject(bytes: Uint8Array, expectIno: number, bytesMax = 1 << 30): DirDecode {
  const f = decodeFrame(bytes, 0, DIR_MAGIC, bytesMax);
  if (f.kind === 'short') return { ok: false, reason: 'truncated directory object' };
  if (f.kind === 'bad') return { ok: false, reason: f.reason };
  const v = f.value as Partial<DirObject>;
  if (v.ino !== expectIno) return { ok: false, reason: `object holds directory ${String(v.ino)}, not ${expectIno}` };
  if (typeof v.version !== 'number' || !Array.isArray(v.dentries)) return { ok: false, reason: 'malformed directory object' };
  for (const e of v.dentries) {
    const bad = checkDentry(e);
    if (bad !== undefined) return { ok: false, reason: bad };
  }
  return { ok: true, value: { ino: v.ino, version: v.version, dentries: v.dentries } };
}

function checkDentry(e: unknown): string | undefined {
  const d = e as Partial<Dentry> & { inode?: Partial<Inode>; ino?: unknown };
  if (typeof d !== 'object' || d === null || typeof d.name !== 'string' || typeof d.version !== 'number') return 'malformed dentry';
  if (d.kind === 'primary') return d.inode !== undefined && typeof d.inode.ino === 'number' && typeof d.inode.type === 'string' ? undefined : `dentry '${d.name}' has a malformed inode`;
  if (d.kind === 'remote') return typeof d.ino === 'number' ? undefined : `remote dentry '${d.name}' has no inode number`;
  return `dentry '${d.name}' of kind ${String(d.kind)} cannot be stored`;
}

/** The inode number a non-null dentry names. */
export function dentryIno(d: Dentry): number | undefined {
  return d.kind === 'primary' ? d.inode.ino : d.kind === 'remote' ? d.ino : undefined;
}

export function dentryType(d: Dentry): InodeType | undefined {
  return d.kind === 'primary' ? d.inode.type : d.kind === 'remote' ? d.type : undefined;
}

/**
 * Merges a fetched object into the cached entries of a directory (B.2.1): per name, the newer
 * version wins; cached entries not newer than the object's committed version are clean.
 */
export function mergeFetched(cached: ReadonlyMap<string, Dentry>, fetched: DirObject): Map<string, Dentry> {
  const out = new Map<string, Dentry>();
  for (const d of fetched.dentries) out.set(d.name, d);
  for (const [name, d] of cached) {
    const f = out.get(name);
    if (f === undefined || d.version > f.version) out.set(name, d);
  }
  return out;
}
