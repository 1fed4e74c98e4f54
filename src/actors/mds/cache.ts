/**
 * The MDS's metadata cache and the dirty-set logic of the journal (thesis §4.2.1, §4.2.3; digest
 * §4.1, §4.8). Pure: no I/O, no clock.
 *
 * An update is journaled first; `apply` then puts its entries in the cache, marks them dirty and
 * puts their directory on the dirty list of the current segment (an entry dirtied again moves to
 * the later segment). Before a segment is trimmed, every directory with an entry whose last
 * dirtying was in it is committed: one write of the whole directory commits all of its updates,
 * including later ones (`commitImage`, `committed`). Replay runs the same `apply` over the events
 * of the live journal, so the cache after a restart holds exactly the dirty state it held before.
 *
 * Fragment versions (B.2.1): per directory `committed ≤ committing ≤ version`; each entry dirtied
 * gets the directory's next version, carried in the event so replay reproduces it. Updates are
 * applied in the turn that journaled them, so the projected version is never ahead of `version`
 * between turns.
 */
import { dentryIno, ROOT_INO, type Dentry, type DirObject, type Inode } from './dir-object.js';
import type { Anchor, DentryLoc, JournalEvent, MetaBlob, RequestId, TablesSnapshot, Truncation } from './journal.js';

export interface CachedDir {
  readonly ino: number;
  dentries: Map<string, Dentry>;
  /** Every entry of the directory is cached (it was fetched, or created empty). */
  complete: boolean;
  version: number;
  committing: number;
  committed: number;
  /** Dirty names → the sequence number of the segment that last dirtied them. */
  readonly dirty: Map<string, number>;
  lastUsed: number;
}

export interface Segment {
  readonly seq: number;
  /** Stream position of its subtree map. */
  readonly startPos: number;
  /** Directories with an entry last dirtied in this segment (possibly since committed: checked at trim). */
  readonly dirtyDirs: Set<number>;
  /** Events in it, and how many of them were updates. */
  events: number;
}

export interface CacheLimits {
  readonly completedRequestsPerClientMax: number;
  readonly sessionsMax: number;
}

/** The first inode number handed out (below it: root 1 and the journals at 0x200 + rank). */
export const FIRST_USER_INO = 0x1000;

export function rootInode(nowMs: number): Inode {
  return { ino: ROOT_INO, type: 'dir', mode: 0o755, nlink: 2, sizeBytes: 0, mtimeMs: nowMs, atimeMs: nowMs, ctimeMs: nowMs };
}

export class MdsCache {
  readonly dirs = new Map<number, CachedDir>();
  /** Where the primary entry of each inode in a cached directory is. */
  readonly inoLoc = new Map<number, DentryLoc>();
  root: Inode;
  inoNext = FIRST_USER_INO;
  readonly anchors = new Map<number, Anchor>();
  /** Per client, completed request ids with their replies, oldest first; clients least recently active first. */
  readonly completed = new Map<string, Map<number, unknown>>();
  readonly truncating = new Map<number, Truncation>();
  readonly segments: Segment[] = [];
  private useClock = 0;
  private nextSeq = 1;

  constructor(
    private readonly limits: CacheLimits,
    root: Inode,
  ) {
    this.root = root;
  }

  // ----- tables -----

  snapshot(): TablesSnapshot {
    return {
      inoNext: this.inoNext,
      root: this.root,
      anchors: [...this.anchors],
      completed: [...this.completed].map(([c, m]) => [c, [...m]] as const),
      truncating: [...this.truncating.values()],
    };
  }

  loadSnapshot(t: TablesSnapshot): void {
    this.inoNext = t.inoNext;
    this.root = t.root;
    this.anchors.clear();
    for (const [ino, a] of t.anchors) this.anchors.set(ino, a);
    this.completed.clear();
    for (const [c, list] of t.completed) this.completed.set(c, new Map(list));
    this.truncating.clear();
    for (const tr of t.truncating) this.truncating.set(tr.ino, tr);
  }

  /** The reply a completed request got, if it is remembered. */
  completedReply(req: RequestId): { found: boolean; reply?: unknown } {
    const m = this.completed.get(req.client);
    if (m === undefined || !m.has(req.tid)) return { found: false };
    return { found: true, reply: m.get(req.tid) };
  }

  private recordCompleted(req: RequestId, reply: unknown): void {
    let m = this.completed.get(req.client);
    if (m === undefined) {
      m = new Map();
      while (this.completed.size >= this.limits.sessionsMax) this.completed.delete(this.completed.keys().next().value as string);
    } else this.completed.delete(req.client);
    this.completed.set(req.client, m);
    m.set(req.tid, reply);
    while (m.size > this.limits.completedRequestsPerClientMax) m.delete(m.keys().next().value as number);
  }

  // ----- segments -----

  get currentSegment(): Segment | undefined {
    return this.segments[this.segments.length - 1];
  }

  beginSegment(startPos: number): Segment {
    const s: Segment = { seq: this.nextSeq++, startPos, dirtyDirs: new Set(), events: 0 };
    this.segments.push(s);
    return s;
  }

  /** Directories that must be committed before the oldest segment can be trimmed. */
  dirsToCommitForTrim(): number[] {
    const s = this.segments[0];
    if (s === undefined) return [];
    return [...s.dirtyDirs].filter((ino) => {
      const d = this.dirs.get(ino);
      return d !== undefined && [...d.dirty.values()].some((seq) => seq <= s.seq);
    });
  }

  /** Forgets the oldest segment once nothing in it is dirty. */
  dropOldestSegment(): Segment {
    const s = this.segments.shift();
    if (s === undefined) throw new Error('no segment to trim');
    for (const ino of s.dirtyDirs) {
      const d = this.dirs.get(ino);
      if (d !== undefined) for (const seq of d.dirty.values()) if (seq <= s.seq) throw new Error(`trimming segment ${s.seq} with directory ${ino} still dirty in it`);
    }
    return s;
  }

  // ----- directories -----

  touch(d: CachedDir): void {
    d.lastUsed = ++this.useClock;
  }

  /** Marks directories as just used (a request read them). */
  used(inos: Iterable<number>): void {
    for (const ino of inos) {
      const d = this.dirs.get(ino);
      if (d !== undefined) this.touch(d);
    }
  }

  private newDir(ino: number, complete: boolean): CachedDir {
    const d: CachedDir = { ino, dentries: new Map(), complete, version: 0, committing: 0, committed: 0, dirty: new Map(), lastUsed: ++this.useClock };
    this.dirs.set(ino, d);
    return d;
  }

  /** A fetched directory object (or an empty one for a directory never committed) joins the cache (B.2.1). */
  applyFetched(obj: DirObject): CachedDir {
    const d = this.dirs.get(obj.ino) ?? this.newDir(obj.ino, false);
    const fetched = new Map(obj.dentries.map((e) => [e.name, e] as const));
    for (const [name, e] of fetched) {
      const mine = d.dentries.get(name);
      if (mine === undefined || mine.version <= e.version) {
        this.setEntry(d, e);
        d.dirty.delete(name);
      }
    }
    // Cached entries not newer than the committed version are clean; clean null entries go.
    for (const [name, e] of [...d.dentries]) {
      if (e.version <= obj.version) {
        d.dirty.delete(name);
        if (e.kind === 'null' || !fetched.has(name)) this.dropEntry(d, name);
      }
    }
    d.complete = true;
    d.version = Math.max(d.version, obj.version);
    d.committed = Math.max(d.committed, obj.version);
    d.committing = Math.max(d.committing, d.committed);
    this.touch(d);
    return d;
  }

  private setEntry(d: CachedDir, e: Dentry): void {
    const old = d.dentries.get(e.name);
    if (old?.kind === 'primary') {
      const loc = this.inoLoc.get(old.inode.ino);
      if (loc !== undefined && loc.dir === d.ino && loc.name === e.name) this.inoLoc.delete(old.inode.ino);
    }
    d.dentries.set(e.name, e);
    if (e.kind === 'primary') this.inoLoc.set(e.inode.ino, { dir: d.ino, name: e.name });
    if (e.version > d.version) d.version = e.version;
  }

  private dropEntry(d: CachedDir, name: string): void {
    const old = d.dentries.get(name);
    if (old?.kind === 'primary') {
      const loc = this.inoLoc.get(old.inode.ino);
      if (loc !== undefined && loc.dir === d.ino && loc.name === name) this.inoLoc.delete(old.inode.ino);
    }
    d.dentries.delete(name);
  }

  /** The image to write for a commit of directory `ino`; it must be complete (a fetch comes first otherwise). */
  commitImage(ino: number): DirObject {
    const d = this.dirs.get(ino);
    if (d === undefined) throw new Error(`commit of uncached directory ${ino}`);
    if (!d.complete) throw new Error(`commit of incomplete directory ${ino}: fetch it first`);
    d.committing = d.version;
    const dentries = [...d.dentries.values()].filter((e) => e.kind !== 'null').sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { ino, version: d.version, dentries };
  }

  /** The commit of `ino` at `version` is durable: its entries up to that version are clean. */
  committed(ino: number, version: number): void {
    const d = this.dirs.get(ino);
    if (d === undefined) return;
    d.committed = Math.max(d.committed, version);
    for (const [name] of [...d.dirty]) {
      const e = d.dentries.get(name);
      if (e === undefined || e.version <= version) {
        d.dirty.delete(name);
        if (e?.kind === 'null') this.dropEntry(d, name);
      }
    }
  }

  // ----- events -----

  /** Applies a journaled event to the cache, dirtying what it changed in the current segment. */
  apply(ev: JournalEvent): void {
    const seg = this.currentSegment;
    if (seg === undefined) throw new Error('apply before the first segment');
    seg.events++;
    switch (ev.e) {
      case 'subtreeMap':
        return;
      case 'truncateFinish':
        this.truncating.delete(ev.ino);
        return;
      case 'update':
        this.applyBlob(ev.blob, seg);
        if (ev.req !== undefined) this.recordCompleted(ev.req, ev.reply);
        return;
      default: {
        const never: never = ev;
        void never;
      }
    }
  }

  private applyBlob(b: MetaBlob, seg: Segment): void {
    for (const ino of b.newDirs ?? []) if (!this.dirs.has(ino)) this.newDir(ino, true);
    for (const x of b.dirs) {
      const d = this.dirs.get(x.ino) ?? this.newDir(x.ino, false);
      for (const e of x.dentries) {
        this.setEntry(d, e);
        d.dirty.set(e.name, seg.seq);
      }
      seg.dirtyDirs.add(x.ino);
      this.touch(d);
    }
    for (const ino of b.removedDirs ?? []) this.removeDir(ino);
    if (b.inoNext !== undefined) this.inoNext = Math.max(this.inoNext, b.inoNext);
    if (b.root !== undefined) this.root = b.root;
    for (const [ino, a] of b.anchors ?? []) {
      if (a === null) this.anchors.delete(ino);
      else this.anchors.set(ino, a);
    }
    if (b.truncate !== undefined) this.truncating.set(b.truncate.ino, b.truncate);
  }

  private removeDir(ino: number): void {
    const d = this.dirs.get(ino);
    if (d === undefined) return;
    for (const name of [...d.dentries.keys()]) this.dropEntry(d, name);
    this.dirs.delete(ino);
    for (const s of this.segments) s.dirtyDirs.delete(ino);
  }

  // ----- expiry -----

  /** Expires clean, unpinned directories, least recently used first, down to `max` (thesis §4.2.1). */
  expire(max: number, pinned: ReadonlySet<number>): number[] {
    if (this.dirs.size <= max) return [];
    const victims = [...this.dirs.values()].filter((d) => d.ino !== ROOT_INO && d.dirty.size === 0 && !pinned.has(d.ino)).sort((a, b) => a.lastUsed - b.lastUsed);
    const out: number[] = [];
    for (const d of victims) {
      if (this.dirs.size <= max) break;
      for (const name of [...d.dentries.keys()]) this.dropEntry(d, name);
      this.dirs.delete(d.ino);
      out.push(d.ino);
    }
    return out;
  }

  /** Throws when the cache breaks its invariants (README C1–C4). */
  invariants(): void {
    for (const d of this.dirs.values()) {
      if (!(d.committed <= d.committing && d.committing <= d.version)) throw new Error(`dir ${d.ino}: versions committed ${d.committed} ≤ committing ${d.committing} ≤ version ${d.version} broken`);
      for (const [name, seq] of d.dirty) {
        const e = d.dentries.get(name);
        if (e === undefined) throw new Error(`dir ${d.ino}: dirty name '${name}' not cached`);
        if (e.version <= d.committed) throw new Error(`dir ${d.ino}: '${name}' dirty at version ${e.version} though committed at ${d.committed}`);
        const s = this.segments.find((x) => x.seq === seq);
        if (s === undefined || !s.dirtyDirs.has(d.ino)) throw new Error(`dir ${d.ino}: '${name}' dirty in segment ${seq}, which does not list it`);
      }
      for (const e of d.dentries.values()) {
        const ino = dentryIno(e);
        if (e.kind === 'primary' && ino !== undefined) {
          const loc = this.inoLoc.get(ino);
          if (loc === undefined || loc.dir !== d.ino || loc.name !== e.name) throw new Error(`inode ${ino} in dir ${d.ino} '${e.name}' is not in the location map`);
        }
      }
    }
  }
}
