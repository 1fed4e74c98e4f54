/**
 * Client object operations and how the PG's first OSD turns a (compound) mutation into one
 * object-store transaction (thesis §6.1: reads, writes, attributes; a compound operation is applied
 * all or nothing). Pure: the OSD gives a view of the object as of every earlier update of the PG and
 * gets back the transaction's operations with absolute offsets, so every replica applies exactly
 * the same bytes whatever its own state.
 */
import type { TransactionOp } from '../../../storage/object-store.js';
import type { DataPathConfig } from '../config.js';
import { objectError, type ObjectError } from '../errors.js';
import { crc32c } from '../../../storage/crc32c.js';
import { DATA_DIGEST_ATTR, encodeDigest } from './scrub.js';

export type ObjectOp =
  /** Creates the object; `exclusive` fails with `exists` when it is there. */
  | { readonly op: 'create'; readonly exclusive: boolean }
  | { readonly op: 'write'; readonly offset: number; readonly data: Uint8Array }
  | { readonly op: 'writeFull'; readonly data: Uint8Array }
  | { readonly op: 'append'; readonly data: Uint8Array }
  | { readonly op: 'truncate'; readonly size: number }
  | { readonly op: 'remove' }
  | { readonly op: 'setxattr'; readonly name: string; readonly value: Uint8Array }
  | { readonly op: 'rmxattr'; readonly name: string }
  /** Guard: the xattr must exist with exactly this value, else the whole compound op is `canceled`. */
  | { readonly op: 'cmpxattr'; readonly name: string; readonly value: Uint8Array }
  | { readonly op: 'read'; readonly offset: number; readonly length: number }
  | { readonly op: 'stat' }
  | { readonly op: 'getxattr'; readonly name: string }
  | { readonly op: 'getxattrs' };

export type ObjectOpResult =
  | { readonly op: 'read'; readonly data: Uint8Array }
  | { readonly op: 'stat'; readonly sizeBytes: number; readonly version: string }
  | { readonly op: 'getxattr'; readonly value: Uint8Array }
  | { readonly op: 'getxattrs'; readonly attrs: readonly (readonly [string, Uint8Array])[] }
  /** Where an append landed. */
  | { readonly op: 'append'; readonly offset: number }
  | { readonly op: 'none' };

const MUTATIONS = new Set(['create', 'write', 'writeFull', 'append', 'truncate', 'remove', 'setxattr', 'rmxattr']);
const READS = new Set(['read', 'stat', 'getxattr', 'getxattrs']);

export function isMutation(ops: readonly ObjectOp[]): boolean {
  return ops.some((o) => MUTATIONS.has(o.op));
}

/** Store attribute names: user xattrs are prefixed so they never collide with the OSD's own. */
export const USER_XATTR_PREFIX = 'u.';
/** The object's version attribute (thesis §6.3.4: "each object has a version attribute"). */
export const VERSION_ATTR = '\u0000v';
/** Object names the OSD keeps for itself start with NUL, which client names may not contain. */
export const RESERVED_OID_PREFIX = '\u0000';

/** The state of an object that resolution reads. */
export interface ObjectView {
  readonly exists: boolean;
  readonly sizeBytes: number;
  xattr(name: string): Uint8Array | undefined;
}

const encoder = new TextEncoder();
const utf8Bytes = (s: string): number => encoder.encode(s).length;

/** Checks an object name and every op's arguments against the limits (bad input gets `invalid_argument`). */
export function validateOps(oid: string, ops: readonly ObjectOp[], cfg: DataPathConfig): ObjectError | undefined {
  const bad = (why: string): ObjectError => objectError('invalid_argument', why);
  if (typeof oid !== 'string' || oid.length === 0) return bad('an object name must be a non-empty string');
  if (utf8Bytes(oid) > cfg.objectNameBytesMax) return bad(`object name of ${utf8Bytes(oid)} bytes exceeds the limit of ${cfg.objectNameBytesMax}`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000]/.test(oid)) return bad('an object name may not contain NUL');
  if (!Array.isArray(ops) || ops.length === 0) return bad('an operation needs at least one op');
  if (ops.length > cfg.compoundOpsMax) return bad(`${ops.length} ops exceed the limit of ${cfg.compoundOpsMax} in one compound operation`);
  const mut = isMutation(ops);
  const isInt = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
  for (const o of ops) {
    if (mut && READS.has(o.op)) return bad(`a compound operation mixes ${o.op} with mutations; send reads separately`);
    switch (o.op) {
      case 'write':
      case 'writeFull':
      case 'append': {
        if (!(o.data instanceof Uint8Array)) return bad(`${o.op}: data must be bytes`);
        if (o.data.length > cfg.opDataBytesMax) return bad(`${o.op} of ${o.data.length} bytes exceeds the limit of ${cfg.opDataBytesMax} per op; split it`);
        if (o.op === 'write' && !isInt(o.offset)) return bad(`write: bad offset ${String(o.offset)}`);
        if (o.op === 'write' && o.offset + o.data.length > cfg.objectSizeBytesMax) return bad(`write past the maximum object size of ${cfg.objectSizeBytesMax} bytes`);
        break;
      }
      case 'truncate':
        if (!isInt(o.size)) return bad(`truncate: bad size ${String(o.size)}`);
        if (o.size > cfg.objectSizeBytesMax) return bad(`truncate past the maximum object size of ${cfg.objectSizeBytesMax} bytes`);
        break;
      case 'read':
        if (!isInt(o.offset) || !isInt(o.length)) return bad('read: offset and length must be non-negative integers');
        break;
      case 'setxattr':
      case 'cmpxattr':
      case 'rmxattr':
      case 'getxattr': {
        if (typeof o.name !== 'string' || o.name.length === 0) return bad(`${o.op}: an xattr name must be a non-empty string`);
        if (utf8Bytes(o.name) > cfg.xattrNameBytesMax) return bad(`xattr name of ${utf8Bytes(o.name)} bytes exceeds the limit of ${cfg.xattrNameBytesMax}`);
        if ((o.op === 'setxattr' || o.op === 'cmpxattr') && !(o.value instanceof Uint8Array)) return bad(`${o.op}: value must be bytes`);
        if ((o.op === 'setxattr' || o.op === 'cmpxattr') && o.value.length > cfg.xattrValueBytesMax) return bad(`xattr value of ${o.value.length} bytes exceeds the limit of ${cfg.xattrValueBytesMax}`);
        break;
      }
      case 'create':
      case 'remove':
      case 'stat':
      case 'getxattrs':
        break;
      default:
        return bad(`unknown op ${JSON.stringify((o as { op?: unknown }).op)}`);
    }
  }
  return undefined;
}

export type Resolution =
  | { readonly ok: true; readonly txn: TransactionOp[]; readonly results: ObjectOpResult[]; readonly deletes: boolean }
  | { readonly ok: false; readonly error: ObjectError };

const bytesEqual = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Turns a validated mutation into store operations on collection `cid` against `view`, or the error
 * that leaves the object as it was (guards first: a failed `cmpxattr` cancels everything).
 * `versionAttr` is the update's version, stored on the object unless the op removes it.
 */
export function resolveMutation(view: ObjectView, cid: string, oid: string, ops: readonly ObjectOp[], versionAttr: Uint8Array, cfg: DataPathConfig): Resolution {
  let exists = view.exists;
  let size = view.sizeBytes;
  const attrs = new Map<string, Uint8Array | null>();
  const xattr = (n: string): Uint8Array | undefined => {
    const v = attrs.get(n);
    return v === null ? undefined : (v ?? (exists ? view.xattr(n) : undefined));
  };
  const txn: TransactionOp[] = [];
  const results: ObjectOpResult[] = [];
  // The object's data digest after the ops (deep scrub checks copies against it, scrub.ts): known
  // when the data was written whole (then extended by appends), unknown after a partial write or
  // truncate, unchanged when no op touched the data.
  let digest: number | 'unknown' | 'unchanged' = 'unchanged';
  const ensure = (): void => {
    if (!exists) {
      txn.push({ op: 'touch', cid, oid });
      exists = true;
      size = 0;
      digest = crc32c(new Uint8Array(0));
    }
  };
  const fail = (code: 'not_found' | 'exists' | 'canceled' | 'invalid_argument', message: string): Resolution => ({ ok: false, error: objectError(code, message) });
  for (const o of ops) {
    switch (o.op) {
      case 'cmpxattr': {
        const have = xattr(o.name);
        if (have === undefined || !bytesEqual(have, o.value)) return fail('canceled', `xattr ${o.name} of ${oid} does not hold the expected value; nothing was applied`);
        results.push({ op: 'none' });
        break;
      }
      case 'create':
        if (exists && o.exclusive) return fail('exists', `object ${oid} exists`);
        ensure();
        results.push({ op: 'none' });
        break;
      case 'write':
        ensure();
        txn.push({ op: 'write', cid, oid, offsetBytes: o.offset, data: o.data });
        size = Math.max(size, o.offset + o.data.length);
        digest = 'unknown';
        results.push({ op: 'none' });
        break;
      case 'writeFull':
        ensure();
        if (size > 0) txn.push({ op: 'truncate', cid, oid, sizeBytes: 0 });
        if (o.data.length > 0) txn.push({ op: 'write', cid, oid, offsetBytes: 0, data: o.data });
        size = o.data.length;
        digest = crc32c(o.data);
        results.push({ op: 'none' });
        break;
      case 'append': {
        ensure();
        if (size + o.data.length > cfg.objectSizeBytesMax) return fail('invalid_argument', `append past the maximum object size of ${cfg.objectSizeBytesMax} bytes`);
        const at = size;
        if (o.data.length > 0) txn.push({ op: 'write', cid, oid, offsetBytes: at, data: o.data });
        size += o.data.length;
        digest = typeof digest === 'number' ? crc32c(o.data, digest) : 'unknown';
        results.push({ op: 'append', offset: at });
        break;
      }
      case 'truncate':
        if (!exists) return fail('not_found', `no object ${oid}`);
        txn.push({ op: 'truncate', cid, oid, sizeBytes: o.size });
        size = o.size;
        digest = 'unknown';
        results.push({ op: 'none' });
        break;
      case 'remove':
        if (!exists) return fail('not_found', `no object ${oid}`);
        txn.push({ op: 'remove', cid, oid });
        exists = false;
        size = 0;
        digest = 'unchanged';
        attrs.clear();
        results.push({ op: 'none' });
        break;
      case 'setxattr':
        ensure();
        txn.push({ op: 'setAttr', cid, oid, name: USER_XATTR_PREFIX + o.name, value: o.value });
        attrs.set(o.name, o.value);
        results.push({ op: 'none' });
        break;
      case 'rmxattr':
        if (!exists) return fail('not_found', `no object ${oid}`);
        if (xattr(o.name) === undefined) return fail('not_found', `object ${oid} has no xattr ${o.name}`);
        txn.push({ op: 'removeAttr', cid, oid, name: USER_XATTR_PREFIX + o.name });
        attrs.set(o.name, null);
        results.push({ op: 'none' });
        break;
      case 'read':
      case 'stat':
      case 'getxattr':
      case 'getxattrs':
        return fail('invalid_argument', `${o.op} in a mutation`);
      default: {
        const never: never = o;
        return fail('invalid_argument', `unknown op ${JSON.stringify(never)}`);
      }
    }
  }
  if (exists && digest !== 'unchanged') txn.push({ op: 'setAttr', cid, oid, name: DATA_DIGEST_ATTR, value: digest === 'unknown' ? new Uint8Array(0) : encodeDigest(digest) });
  if (exists) txn.push({ op: 'setAttr', cid, oid, name: VERSION_ATTR, value: versionAttr });
  return { ok: true, txn, results, deletes: !exists && view.exists };
}
