/**
 * Namespace operations as pure plans (thesis §3.2, §3.2.3; digest §1.2, §1.4): each takes the
 * cache and a request and returns either the directories it must load first, a typed error, or
 * the reply with the metablob to journal. Nothing here changes the cache: the MDS journals the
 * blob and then applies it (cache.ts), the same way replay does.
 *
 * Hard links follow thesis §4.2.2: the inode stays embedded under its primary entry; other names
 * are remote entries holding only the inode number, found through the anchor table. Unlinking the
 * primary name of a file with other links moves the inode under one of its remote names.
 */
import type { MdsCache } from './cache.js';
import { ROOT_INO, dentryType, type Dentry, type Inode } from './dir-object.js';
import type { MdsError, MdsErrorCode } from './errors.js';
import type { Anchor, DentryLoc, MetaBlob, Purge, Truncation, UpdateOp } from './journal.js';
import { checkName, splitPath } from './paths.js';
import type { MdsConfig } from './config.js';
import type { MdsOp, ReaddirReply } from './protocol.js';

export type Plan =
  | { readonly kind: 'need'; readonly dirs: readonly number[] }
  | { readonly kind: 'error'; readonly error: MdsError }
  | {
      readonly kind: 'done';
      readonly reply: unknown;
      /** What to journal; absent for reads and changes that change nothing. */
      readonly update?: { readonly op: UpdateOp; readonly blob: MetaBlob };
      /** For open: the inode the client now has open. */
      readonly opened?: number;
      /** Directories the plan read (for the cache's least-recently-used order). */
      readonly dirsRead: readonly number[];
    };

type NsConfig = Pick<MdsConfig, 'nameBytesMax' | 'pathBytesMax' | 'symlinkHopsMax' | 'fileSizeBytesMax' | 'dirEntriesMax' | 'linksMax' | 'anchorsMax' | 'readdirEntriesMax' | 'defaultLayout'>;

/** A directory entry before it gets its fragment version. */
type DentryInput =
  | { readonly kind: 'primary'; readonly name: string; readonly inode: Inode }
  | { readonly kind: 'remote'; readonly name: string; readonly ino: number; readonly type: Inode['type'] }
  | { readonly kind: 'null'; readonly name: string };

class Need {
  constructor(readonly dirs: number[]) {}
}

class Refuse {
  constructor(readonly error: MdsError) {}
}

function refuse(code: MdsErrorCode, message: string): never {
  throw new Refuse({ code, message });
}

interface Resolved {
  readonly parent: number;
  readonly name: string;
  /** The non-null entry, if the name exists. */
  readonly dentry: Dentry | undefined;
  /** Directories from the root to `parent`, both included. */
  readonly chain: readonly number[];
}

/** An overlay over the cache: the entries, anchors and counters an update changes, in order. */
class Txn {
  private readonly changed = new Map<number, Map<string, Dentry>>();
  private readonly proj = new Map<number, number>();
  private readonly anchorsOv = new Map<number, Anchor | null>();
  inoNext: number;
  root: Inode;
  readonly newDirs: number[] = [];
  readonly removedDirs: number[] = [];
  readonly purges: Purge[] = [];
  truncate: Truncation | undefined;

  constructor(
    readonly cache: MdsCache,
    readonly cfg: NsConfig,
    readonly nowMs: number,
  ) {
    this.inoNext = cache.inoNext;
    this.root = cache.root;
  }

  readonly dirsRead = new Set<number>();

  private dir(ino: number, needComplete: boolean) {
    const d = this.cache.dirs.get(ino);
    this.dirsRead.add(ino);
    if (this.newDirs.includes(ino)) return d;
    if (d === undefined || (needComplete && !d.complete)) throw new Need([ino]);
    return d;
  }

  /** The entry `name` of directory `dir` (undefined when absent or null). */
  get(dir: number, name: string): Dentry | undefined {
    const ov = this.changed.get(dir)?.get(name);
    if (ov !== undefined) return ov.kind === 'null' ? undefined : ov;
    const d = this.dir(dir, false);
    const e = d?.dentries.get(name);
    if (e === undefined && d !== undefined && !d.complete) throw new Need([dir]);
    return e === undefined || e.kind === 'null' ? undefined : e;
  }

  /** The non-null entries of a directory (it must be complete), sorted by name. */
  list(dir: number): Dentry[] {
    const d = this.dir(dir, true);
    const names = new Set([...(d?.dentries.keys() ?? []), ...(this.changed.get(dir)?.keys() ?? [])]);
    const out: Dentry[] = [];
    for (const n of [...names].sort()) {
      const e = this.get(dir, n);
      if (e !== undefined) out.push(e);
    }
    return out;
  }

  set(dir: number, e: DentryInput): void {
    const base = this.proj.get(dir) ?? this.cache.dirs.get(dir)?.version ?? 0;
    const version = base + 1;
    this.proj.set(dir, version);
    let m = this.changed.get(dir);
    if (m === undefined) this.changed.set(dir, (m = new Map()));
    m.delete(e.name);
    m.set(e.name, { ...e, version } as Dentry);
  }

  anchor(ino: number): Anchor | undefined {
    const ov = this.anchorsOv.get(ino);
    if (ov !== undefined) return ov ?? undefined;
    return this.cache.anchors.get(ino);
  }

  setAnchor(ino: number, a: Anchor | null): void {
    if (a !== null && this.anchor(ino) === undefined && this.cache.anchors.size >= this.cfg.anchorsMax) refuse('ENOSPC', `${this.cfg.anchorsMax} hard-linked files already`);
    this.anchorsOv.set(ino, a);
  }

  allocIno(): number {
    return this.inoNext++;
  }

  /** Where inode `ino`'s primary entry is, starting from an entry that names it. */
  primaryLoc(at: DentryLoc, e: Dentry): DentryLoc {
    if (e.kind === 'primary') return at;
    if (e.kind !== 'remote') throw new Error('null dentry has no inode');
    const a = this.anchor(e.ino);
    if (a === undefined) refuse('EIO', `remote entry '${e.name}' names inode ${e.ino}, which has no anchor`);
    return a.primary;
  }

  /** The inode an entry names (following a remote entry to its primary). */
  inode(at: DentryLoc, e: Dentry): Inode {
    if (e.kind === 'primary') return e.inode;
    const loc = this.primaryLoc(at, e);
    const p = this.get(loc.dir, loc.name);
    if (p?.kind !== 'primary') refuse('EIO', `anchor of inode ${dentryIno(e)} points at '${loc.name}' in ${loc.dir}, which is not its primary entry`);
    return p.inode;
  }

  /** Rewrites the inode at its primary entry. */
  putInode(loc: DentryLoc, inode: Inode): void {
    if (loc.dir === 0) {
      this.root = inode;
      return;
    }
    this.set(loc.dir, { kind: 'primary', name: loc.name, inode });
  }

  entriesOf(dir: number): number {
    return this.list(dir).length;
  }

  blob(): MetaBlob {
    const dirs = [...this.changed].map(([ino, m]) => ({ ino, dentries: [...m.values()] }));
    const anchors = [...this.anchorsOv];
    return {
      dirs,
      ...(this.newDirs.length > 0 ? { newDirs: this.newDirs } : {}),
      ...(this.removedDirs.length > 0 ? { removedDirs: this.removedDirs } : {}),
      ...(this.inoNext !== this.cache.inoNext ? { inoNext: this.inoNext } : {}),
      ...(this.root !== this.cache.root ? { root: this.root } : {}),
      ...(anchors.length > 0 ? { anchors } : {}),
      ...(this.truncate !== undefined ? { truncate: this.truncate } : {}),
      ...(this.purges.length > 0 ? { purges: this.purges } : {}),
    };
  }
}

function dentryIno(e: Dentry): number | undefined {
  return e.kind === 'primary' ? e.inode.ino : e.kind === 'remote' ? e.ino : undefined;
}

/** The location used for the root's inode (it has no parent entry). */
const ROOT_LOC: DentryLoc = { dir: 0, name: '' };

function parts(t: Txn, path: string): string[] {
  const r = splitPath(path, t.cfg);
  if (!r.ok) throw new Refuse(r.error);
  return r.value;
}

/**
 * Walks `path` from the root: every component but the last must be a directory (symbolic links
 * among them are followed); the last is followed too when `followLast`.
 */
function resolve(t: Txn, path: string, followLast: boolean): Resolved {
  let queue = parts(t, path);
  if (queue.length === 0) refuse('EINVAL', 'the root has no parent entry');
  let cur = ROOT_INO;
  let chain: number[] = [ROOT_INO];
  let hops = 0;
  for (;;) {
    const name = queue[0] as string;
    queue = queue.slice(1);
    const last = queue.length === 0;
    const e = t.get(cur, name);
    if (e === undefined) {
      if (last) return { parent: cur, name, dentry: undefined, chain };
      refuse('ENOENT', `no such file or directory: '${name}' in ${path}`);
    }
    const type = dentryType(e);
    if (type === 'symlink' && (!last || followLast)) {
      if (++hops > t.cfg.symlinkHopsMax) refuse('ELOOP', `more than ${t.cfg.symlinkHopsMax} symbolic links in ${path}`);
      const target = t.inode({ dir: cur, name }, e).target ?? '';
      const tparts = target.split('/').filter((p) => p !== '');
      if (target.startsWith('/')) {
        cur = ROOT_INO;
        chain = [ROOT_INO];
      }
      queue = [...tparts, ...queue];
      if (queue.length === 0) refuse('EINVAL', `symbolic link '${name}' points at the root`);
      continue;
    }
    if (last) return { parent: cur, name, dentry: e, chain };
    if (type !== 'dir') refuse('ENOTDIR', `'${name}' in ${path} is not a directory`);
    cur = dentryIno(e) as number;
    chain = [...chain, cur];
  }
}

/** The inode at `path` (the root included), following symbolic links when asked. */
function inodeAt(t: Txn, path: string, follow: boolean): { inode: Inode; loc: DentryLoc; r?: Resolved } {
  if (parts(t, path).length === 0) return { inode: t.root, loc: ROOT_LOC };
  const r = resolve(t, path, follow);
  if (r.dentry === undefined) refuse('ENOENT', `no such file or directory: ${path}`);
  const at = { dir: r.parent, name: r.name };
  return { inode: t.inode(at, r.dentry), loc: t.primaryLoc(at, r.dentry), r };
}

function checkMode(mode: number | undefined): number | undefined {
  if (mode === undefined) return undefined;
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) refuse('EINVAL', `mode ${mode} is not in 0..07777`);
  return mode;
}

function checkTime(ms: number | undefined, what: string): void {
  if (ms !== undefined && !(Number.isFinite(ms) && ms >= 0)) refuse('EINVAL', `${what} ${ms} is not a non-negative time`);
}

function newInode(t: Txn, type: Inode['type'], mode: number, extra: Partial<Inode> = {}): Inode {
  const ino = t.allocIno();
  return { ino, type, mode, nlink: type === 'dir' ? 2 : 1, sizeBytes: 0, mtimeMs: t.nowMs, atimeMs: t.nowMs, ctimeMs: t.nowMs, ...extra };
}

/** Room for one more entry in `dir`. */
function checkRoom(t: Txn, dir: number): void {
  if (t.entriesOf(dir) >= t.cfg.dirEntriesMax) refuse('ENOSPC', `directory ${dir} holds ${t.cfg.dirEntriesMax} entries already`);
}

/**
 * Removes the name (dir, name) → e: a remote entry lowers its inode's link count; a primary
 * entry with other links moves the inode under one of them; the last link purges the file's data
 * (or, for a directory, its object).
 */
function unlinkEntry(t: Txn, dir: number, name: string, e: Dentry): void {
  const at = { dir, name };
  if (e.kind === 'remote') {
    const a = t.anchor(e.ino);
    const ploc = t.primaryLoc(at, e);
    const inode = t.inode(at, e);
    t.set(dir, { kind: 'null', name });
    t.putInode(ploc, { ...inode, nlink: inode.nlink - 1, ctimeMs: t.nowMs });
    const remotes = (a?.remotes ?? []).filter((x) => !(x.dir === dir && x.name === name));
    t.setAnchor(e.ino, remotes.length === 0 ? null : { primary: ploc, remotes });
    return;
  }
  if (e.kind !== 'primary') return;
  const inode = e.inode;
  t.set(dir, { kind: 'null', name });
  if (inode.type === 'dir') {
    t.removedDirs.push(inode.ino);
    t.purges.push({ ino: inode.ino, kind: 'dir' });
    return;
  }
  const a = t.anchor(inode.ino);
  const heir = a?.remotes[0];
  if (a === undefined || heir === undefined) {
    if (inode.type === 'file') t.purges.push({ ino: inode.ino, kind: 'file', ...(inode.layout === undefined ? {} : { layout: inode.layout }), sizeBytes: inode.sizeBytes });
    return;
  }
  // Another name keeps the inode: it moves there, embedded in that entry (thesis §4.2.2).
  t.set(heir.dir, { kind: 'primary', name: heir.name, inode: { ...inode, nlink: inode.nlink - 1, ctimeMs: t.nowMs } });
  const rest = a.remotes.slice(1);
  t.setAnchor(inode.ino, rest.length === 0 ? null : { primary: heir, remotes: rest });
}

type OpOf<K extends MdsOp['op']> = Extract<MdsOp, { op: K }>;

function done(t: Txn, reply: unknown, op?: UpdateOp, opened?: number): Plan {
  return { kind: 'done', reply, ...(op !== undefined ? { update: { op, blob: t.blob() } } : {}), ...(opened === undefined ? {} : { opened }), dirsRead: [...t.dirsRead] };
}

function planOpen(t: Txn, o: OpOf<'open'>): Plan {
  const mode = checkMode(o.mode) ?? 0o644;
  if (parts(t, o.path).length === 0) {
    if (o.write === true) refuse('EISDIR', '/ is a directory');
    return done(t, t.root, undefined, ROOT_INO);
  }
  const r = resolve(t, o.path, true);
  if (r.dentry === undefined) {
    if (o.create !== true) refuse('ENOENT', `no such file or directory: ${o.path}`);
    checkRoom(t, r.parent);
    const inode = newInode(t, 'file', mode, { layout: t.cfg.defaultLayout });
    t.set(r.parent, { kind: 'primary', name: r.name, inode });
    return done(t, inode, 'open', inode.ino);
  }
  if (o.create === true && o.exclusive === true) refuse('EEXIST', `${o.path} exists`);
  const at = { dir: r.parent, name: r.name };
  const inode = t.inode(at, r.dentry);
  if (inode.type === 'dir' && (o.write === true || o.truncate === true)) refuse('EISDIR', `${o.path} is a directory`);
  if (o.truncate === true && o.write === true && inode.type === 'file' && inode.sizeBytes > 0) {
    const next = { ...inode, sizeBytes: 0, mtimeMs: t.nowMs, ctimeMs: t.nowMs };
    t.putInode(t.primaryLoc(at, r.dentry), next);
    t.truncate = { ino: inode.ino, layout: inode.layout ?? t.cfg.defaultLayout, fromBytes: inode.sizeBytes, toBytes: 0 };
    return done(t, next, 'open', inode.ino);
  }
  return done(t, inode, undefined, inode.ino);
}

function planCreate(t: Txn, path: string, type: 'file' | 'dir' | 'symlink', mode: number, exclusive: boolean, target?: string): Plan {
  const r = resolve(t, path, false);
  if (r.dentry !== undefined) {
    if (exclusive || type !== 'file') refuse('EEXIST', `${path} exists`);
    const inode = t.inode({ dir: r.parent, name: r.name }, r.dentry);
    if (inode.type === 'dir') refuse('EISDIR', `${path} is a directory`);
    return done(t, inode);
  }
  checkRoom(t, r.parent);
  const inode = newInode(t, type, mode, type === 'file' ? { layout: t.cfg.defaultLayout } : type === 'symlink' ? { target: target ?? '', sizeBytes: new TextEncoder().encode(target).length } : {});
  t.set(r.parent, { kind: 'primary', name: r.name, inode });
  if (type === 'dir') t.newDirs.push(inode.ino);
  return done(t, inode, type === 'file' ? 'create' : type === 'dir' ? 'mkdir' : 'symlink');
}

function planReaddir(t: Txn, o: OpOf<'readdir'>): Plan {
  const { inode } = inodeAt(t, o.path, true);
  if (inode.type !== 'dir') refuse('ENOTDIR', `${o.path} is not a directory`);
  const max = Math.max(1, Math.min(o.max ?? t.cfg.readdirEntriesMax, t.cfg.readdirEntriesMax));
  const all = t.list(inode.ino).filter((e) => o.after === undefined || e.name > o.after);
  const page = all.slice(0, max);
  const reply: ReaddirReply = { entries: page.map((e) => ({ name: e.name, inode: t.inode({ dir: inode.ino, name: e.name }, e) })), more: all.length > max };
  return done(t, reply);
}

function planUnlink(t: Txn, o: OpOf<'unlink'> | OpOf<'rmdir'>): Plan {
  if (parts(t, o.path).length === 0) refuse(o.op === 'rmdir' ? 'EBUSY' : 'EISDIR', 'the root cannot be removed');
  const r = resolve(t, o.path, false);
  if (r.dentry === undefined) refuse('ENOENT', `no such file or directory: ${o.path}`);
  const type = dentryType(r.dentry);
  if (o.op === 'unlink' && type === 'dir') refuse('EISDIR', `${o.path} is a directory: use rmdir`);
  if (o.op === 'rmdir') {
    if (type !== 'dir') refuse('ENOTDIR', `${o.path} is not a directory`);
    const ino = dentryIno(r.dentry) as number;
    if (t.list(ino).length > 0) refuse('ENOTEMPTY', `${o.path} is not empty`);
  }
  unlinkEntry(t, r.parent, r.name, r.dentry);
  return done(t, {}, o.op);
}

function planRename(t: Txn, o: OpOf<'rename'>): Plan {
  if (parts(t, o.from).length === 0 || parts(t, o.to).length === 0) refuse('EBUSY', 'the root cannot be renamed');
  const src = resolve(t, o.from, false);
  if (src.dentry === undefined) refuse('ENOENT', `no such file or directory: ${o.from}`);
  const dst = resolve(t, o.to, false);
  const srcType = dentryType(src.dentry);
  const srcIno = dentryIno(src.dentry) as number;
  if (srcType === 'dir' && dst.chain.includes(srcIno)) refuse('EINVAL', `cannot move ${o.from} into its own subtree (${o.to})`);
  if (dst.dentry !== undefined) {
    if (dentryIno(dst.dentry) === srcIno) return done(t, {});
    const dstType = dentryType(dst.dentry);
    if (srcType === 'dir' && dstType !== 'dir') refuse('ENOTDIR', `${o.to} is not a directory`);
    if (srcType !== 'dir' && dstType === 'dir') refuse('EISDIR', `${o.to} is a directory`);
    if (dstType === 'dir' && t.list(dentryIno(dst.dentry) as number).length > 0) refuse('ENOTEMPTY', `${o.to} is not empty`);
    unlinkEntry(t, dst.parent, dst.name, dst.dentry);
  } else if (dst.parent !== src.parent) checkRoom(t, dst.parent);
  // The unlink above may have changed the source entry (a link count); read it again.
  const e = t.get(src.parent, src.name) as Dentry;
  t.set(src.parent, { kind: 'null', name: src.name });
  const moved: DentryInput = e.kind === 'primary' ? { kind: 'primary', name: dst.name, inode: { ...e.inode, ctimeMs: t.nowMs } } : e.kind === 'remote' ? { kind: 'remote', name: dst.name, ino: e.ino, type: e.type } : refuse('EIO', `${o.from} vanished during rename`);
  t.set(dst.parent, moved);
  const a = t.anchor(srcIno);
  if (a !== undefined) {
    const from = { dir: src.parent, name: src.name };
    const to = { dir: dst.parent, name: dst.name };
    const same = (x: DentryLoc): boolean => x.dir === from.dir && x.name === from.name;
    t.setAnchor(srcIno, e.kind === 'primary' ? { primary: to, remotes: a.remotes } : { primary: a.primary, remotes: a.remotes.map((x) => (same(x) ? to : x)) });
  }
  return done(t, {}, 'rename');
}

function planLink(t: Txn, o: OpOf<'link'>): Plan {
  const { inode, loc, r } = inodeAt(t, o.existing, false);
  if (inode.type === 'dir' || r === undefined) refuse('EPERM', `${o.existing} is a directory: hard links to directories are not allowed`);
  if (inode.nlink >= t.cfg.linksMax) refuse('EMLINK', `${o.existing} has ${inode.nlink} links already`);
  const dst = resolve(t, o.path, false);
  if (dst.dentry !== undefined) refuse('EEXIST', `${o.path} exists`);
  checkRoom(t, dst.parent);
  t.set(dst.parent, { kind: 'remote', name: dst.name, ino: inode.ino, type: inode.type });
  const next = { ...inode, nlink: inode.nlink + 1, ctimeMs: t.nowMs };
  t.putInode(loc, next);
  const a = t.anchor(inode.ino);
  t.setAnchor(inode.ino, { primary: loc, remotes: [...(a?.remotes ?? []), { dir: dst.parent, name: dst.name }] });
  return done(t, next, 'link');
}

function planSetattr(t: Txn, o: OpOf<'setattr'>): Plan {
  const mode = checkMode(o.mode);
  checkTime(o.mtimeMs, 'mtime');
  checkTime(o.atimeMs, 'atime');
  const { inode, loc } = inodeAt(t, o.path, true);
  let next: Inode = { ...inode, ctimeMs: t.nowMs };
  if (mode !== undefined) next = { ...next, mode };
  if (o.mtimeMs !== undefined) next = { ...next, mtimeMs: o.mtimeMs };
  if (o.atimeMs !== undefined) next = { ...next, atimeMs: o.atimeMs };
  if (o.sizeBytes !== undefined) {
    if (inode.type === 'dir') refuse('EISDIR', `${o.path} is a directory`);
    if (inode.type !== 'file') refuse('EINVAL', `${o.path} is not a regular file`);
    if (!(Number.isSafeInteger(o.sizeBytes) && o.sizeBytes >= 0)) refuse('EINVAL', `size ${o.sizeBytes} is not a non-negative integer`);
    if (o.sizeBytes > t.cfg.fileSizeBytesMax) refuse('EFBIG', `size ${o.sizeBytes} is past the ${t.cfg.fileSizeBytesMax}-byte maximum`);
    next = { ...next, sizeBytes: o.sizeBytes, ...(o.mtimeMs === undefined ? { mtimeMs: t.nowMs } : {}) };
    if (o.sizeBytes < inode.sizeBytes) t.truncate = { ino: inode.ino, layout: inode.layout ?? t.cfg.defaultLayout, fromBytes: inode.sizeBytes, toBytes: o.sizeBytes };
  }
  t.putInode(loc, next);
  return done(t, next, 'setattr');
}

function planClose(t: Txn, o: OpOf<'close'>, loc: DentryLoc | undefined): Plan {
  checkTime(o.mtimeMs, 'mtime');
  if (o.sizeBytes !== undefined && !(Number.isSafeInteger(o.sizeBytes) && o.sizeBytes >= 0)) refuse('EINVAL', `size ${o.sizeBytes} is not a non-negative integer`);
  if (o.sizeBytes !== undefined && o.sizeBytes > t.cfg.fileSizeBytesMax) refuse('EFBIG', `size ${o.sizeBytes} is past the ${t.cfg.fileSizeBytesMax}-byte maximum`);
  if (loc === undefined) refuse('EBADF', `inode ${o.ino} is not open by this client`);
  const e = loc.dir === 0 ? undefined : t.get(loc.dir, loc.name);
  const inode = loc.dir === 0 ? t.root : e?.kind === 'primary' ? e.inode : undefined;
  if (inode === undefined || inode.ino !== o.ino) refuse('EBADF', `inode ${o.ino} is not where it was opened`);
  // The new size is the largest offset written (thesis §3.2.1); truncation goes through setattr.
  const size = Math.max(inode.sizeBytes, o.sizeBytes ?? 0);
  const mtime = o.mtimeMs ?? inode.mtimeMs;
  if (size === inode.sizeBytes && mtime === inode.mtimeMs) return done(t, inode);
  const next = { ...inode, sizeBytes: size, mtimeMs: mtime, ctimeMs: t.nowMs };
  t.putInode(loc, next);
  return done(t, next, 'close');
}

function checkSymlinkTarget(t: Txn, target: string): void {
  if (typeof target !== 'string' || target === '') refuse('EINVAL', 'empty symbolic link target');
  if (target.includes('\0')) refuse('EINVAL', 'symbolic link target contains NUL');
  if (new TextEncoder().encode(target).length > t.cfg.pathBytesMax) refuse('ENAMETOOLONG', `symbolic link target longer than ${t.cfg.pathBytesMax} bytes`);
  for (const p of target.split('/').filter((x) => x !== '')) {
    const bad = checkName(p, t.cfg);
    if (bad !== undefined) refuse(bad.error.code, `symbolic link target: ${bad.error.message}`);
  }
}

/**
 * Plans one request. `openLoc` is, for close, where the client's open inode is (the MDS pins the
 * directories of open files so it stays cached).
 */
export function planOp(cache: MdsCache, cfg: NsConfig, op: MdsOp, nowMs: number, openLoc?: DentryLoc): Plan {
  const t = new Txn(cache, cfg, nowMs);
  try {
    switch (op.op) {
      case 'lookup':
      case 'stat':
        return done(t, inodeAt(t, op.path, op.op === 'stat').inode);
      case 'readdir':
        return planReaddir(t, op);
      case 'open':
        return planOpen(t, op);
      case 'close':
        return planClose(t, op, openLoc);
      case 'create':
        return planCreate(t, op.path, 'file', checkMode(op.mode) ?? 0o644, op.exclusive ?? false);
      case 'mkdir':
        return planCreate(t, op.path, 'dir', checkMode(op.mode) ?? 0o755, true);
      case 'symlink':
        checkSymlinkTarget(t, op.target);
        return planCreate(t, op.path, 'symlink', 0o777, true, op.target);
      case 'unlink':
      case 'rmdir':
        return planUnlink(t, op);
      case 'rename':
        return planRename(t, op);
      case 'link':
        return planLink(t, op);
      case 'setattr':
        return planSetattr(t, op);
      default: {
        const never: never = op;
        return { kind: 'error', error: { code: 'EINVAL', message: `unknown operation ${JSON.stringify((never as { op?: unknown }).op)}` } };
      }
    }
  } catch (e) {
    if (e instanceof Need) return { kind: 'need', dirs: e.dirs };
    if (e instanceof Refuse) return { kind: 'error', error: e.error };
    throw e;
  }
}

/** Whether an operation can change metadata (and so carries a request id worth remembering). */
export function isMutation(op: MdsOp): boolean {
  return !(op.op === 'lookup' || op.op === 'stat' || op.op === 'readdir');
}

