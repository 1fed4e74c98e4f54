import { ROOT, isWithin, parent } from './paths.js';

/**
 * The master's persistent metadata (patent ¶41–47): the namespace as a lookup table from full
 * path to metadata (¶42 — no per-directory lists), the file → chunk-handle mapping (¶43), chunk
 * versions (¶44, ¶76) and reference counts (¶113). Chunk *locations* are not here: they are never
 * persisted and are rebuilt from chunkserver reports (¶45).
 *
 * Every change is a `MasterRecord`; `apply` is deterministic, so the state after a checkpoint plus
 * the log records after it is the state before a crash (¶47–49, invariant M5).
 */
export interface FileNode {
  readonly kind: 'file';
  /** Chunk handles by chunk index. */
  chunks: bigint[];
  ctime: number;
  mtime: number;
  /** Set on the top node of a deleted (hidden) file or subtree (¶72). */
  deletedAt?: number;
  origPath?: string;
}

export interface DirNode {
  readonly kind: 'dir';
  ctime: number;
  /** Replication goal for files below (¶66, ¶81, ¶117); inherited from the nearest ancestor that sets one. */
  replication?: number;
  /** Deleted files below are reclaimed at once instead of after the retention delay (¶81). */
  reclaimImmediately?: boolean;
  deletedAt?: number;
  origPath?: string;
}

export type NamespaceNode = FileNode | DirNode;

export interface ChunkMeta {
  /** Current version; bumped at every lease grant (¶76–77). */
  version: number;
  /** Files (including snapshots and hidden files) referencing the chunk (¶113). */
  refs: number;
  /**
   * The replication settings in force for the files referencing the chunk (0: the configured
   * default; ¶66, ¶81): one number when they all agree — the common case, and no allocation —
   * else one entry per reference. Derived from the namespace, maintained by `apply` so the
   * chunk's goal is known without a scan of the files (M12); not persisted.
   */
  goals: number | number[];
  /** References from files that are not deleted (hidden): 0 means only deleted files hold the chunk (¶68). */
  liveRefs: number;
  /**
   * The server the lease at the current version was granted to (M6: the only one that can hold a
   * lease the master does not know of after a restart); null when none was granted at it. Absent
   * on chunks at version 1 (never leased: every grant bumps the version) and on versions logged
   * before holders were (unknown).
   */
  leaseHolder?: string | null;
  /** Set once the chunk is sealed (README S1): its final length. A sealed chunk never gets a lease again (S3). */
  sealedBytes?: number;
}

/** What one file contributes to each of its chunks: its replication setting and whether it is deleted. */
interface RefKind {
  readonly goal: number;
  readonly hidden: boolean;
}

export type MasterRecord =
  | { readonly op: 'mkdir'; readonly path: string; readonly at: number }
  | { readonly op: 'create'; readonly path: string; readonly at: number }
  | { readonly op: 'addChunk'; readonly path: string; readonly index: number; readonly handle: bigint; readonly version: number; readonly at: number }
  /** Delete (¶72): the file or subtree is renamed to a hidden name carrying the deletion time. */
  | { readonly op: 'hide'; readonly path: string; readonly hidden: string; readonly at: number }
  | { readonly op: 'unhide'; readonly hidden: string; readonly path: string }
  /** Erase metadata (¶73): the subtree's files lose their chunk references; chunks with none left are erased (¶74). */
  | { readonly op: 'remove'; readonly path: string }
  | { readonly op: 'rename'; readonly from: string; readonly to: string; readonly at: number }
  /** Snapshot (¶112): duplicate the metadata; the copies share chunks (refs + 1). */
  | { readonly op: 'snapshot'; readonly source: string; readonly target: string; readonly at: number }
  /**
   * A new chunk version (¶76–77). `primary`: the server the lease at this version goes to; null when
   * no lease is granted at it (a version adopted from reports). Absent in logs written before this
   * field existed.
   */
  | { readonly op: 'bumpVersion'; readonly handle: bigint; readonly version: number; readonly primary?: string | null }
  /** Sealing (README S1–S4): the chunk's replicas were fenced at `version`; its length is final at `lengthBytes`. */
  | { readonly op: 'seal'; readonly handle: bigint; readonly version: number; readonly lengthBytes: number }
  /** Copy-on-write (¶113): the file's chunk `index` switches from shared `from` to its new copy `to`. */
  | { readonly op: 'cow'; readonly path: string; readonly index: number; readonly from: bigint; readonly to: bigint; readonly version: number }
  | { readonly op: 'setPolicy'; readonly path: string; readonly replication?: number; readonly reclaimImmediately?: boolean };

export class MasterState {
  readonly nodes = new Map<string, NamespaceNode>();
  readonly chunks = new Map<bigint, ChunkMeta>();
  /** Files and directories (the root included), kept with every change so status does not count them (M12). */
  fileCount = 0;
  dirCount = 1;
  /** The logical clock (¶44, ¶47): chunk handles are drawn from it. */
  logicalTime = 0;
  /** Records applied (the log sequence the state reflects). */
  applied = 0;
  /** What the last passing invariant scan saw (`invariants`). */
  private lastScan: { readonly applied: number; readonly files: number; readonly dirs: number; readonly nodes: number; readonly chunks: number } | undefined;

  constructor() {
    this.nodes.set(ROOT, { kind: 'dir', ctime: 0 });
  }

  get(path: string): NamespaceNode | undefined {
    return this.nodes.get(path);
  }

  /** Direct children of a directory (a scan of the lookup table: there are no per-directory lists, ¶42). */
  children(dir: string): string[] {
    const prefix = dir === ROOT ? '/' : `${dir}/`;
    const out: string[] = [];
    for (const p of this.nodes.keys()) {
      if (p !== ROOT && p.startsWith(prefix) && p.indexOf('/', prefix.length) < 0) out.push(p);
    }
    return out.sort();
  }

  /** Every path at or below `path`. */
  subtree(path: string): string[] {
    const out: string[] = [];
    for (const p of this.nodes.keys()) if (isWithin(p, path)) out.push(p);
    return out;
  }

  /** The replication goal and reclamation policy that apply at `path` (nearest ancestor setting, ¶81). */
  policy(path: string, replicationDefault: number): { replication: number; reclaimImmediately: boolean } {
    let replication: number | undefined;
    let reclaim: boolean | undefined;
    for (let p = path; ; p = parent(p)) {
      const n = this.nodes.get(p);
      if (n !== undefined && n.kind === 'dir') {
        replication ??= n.replication;
        reclaim ??= n.reclaimImmediately;
      }
      if (p === ROOT || (replication !== undefined && reclaim !== undefined)) break;
    }
    return { replication: replication ?? replicationDefault, reclaimImmediately: reclaim ?? false };
  }

  /** The replication setting in force at `path`: the nearest ancestor directory's, 0 when none sets one (the configured default). */
  replicationSetting(path: string): number {
    for (let p = path; ; p = parent(p)) {
      const n = this.nodes.get(p);
      if (n !== undefined && n.kind === 'dir' && n.replication !== undefined) return n.replication;
      if (p === ROOT) return 0;
    }
  }

  /** The replication goal of a chunk: the highest setting among the files referencing it (¶66). */
  static goalOf(c: ChunkMeta, replicationDefault: number): number {
    const eff = (g: number): number => (g === 0 ? replicationDefault : g);
    if (typeof c.goals === 'number') return eff(c.goals);
    let max = 0;
    for (const g of c.goals) max = Math.max(max, eff(g));
    return max;
  }

  /** A fresh 64-bit chunk handle encoding the logical time (¶43–44): time in the high 48 bits. */
  nextHandle(): bigint {
    this.logicalTime++;
    return BigInt(this.logicalTime) << 16n;
  }

  /**
   * Applies one record. `touched`, when given, collects the chunks whose metadata the record
   * changed — created, erased, re-versioned, or with a new goal or deleted-only status — so the
   * master re-checks only those chunks' replication (M12).
   */
  apply(r: MasterRecord, touched?: Set<bigint>): void {
    this.applied++;
    switch (r.op) {
      case 'mkdir':
        this.expectParentDir(r.path);
        this.expectAbsent(r.path);
        this.nodes.set(r.path, { kind: 'dir', ctime: r.at });
        this.dirCount++;
        return;
      case 'create':
        this.expectParentDir(r.path);
        this.expectAbsent(r.path);
        this.nodes.set(r.path, { kind: 'file', chunks: [], ctime: r.at, mtime: r.at });
        this.fileCount++;
        return;
      case 'addChunk': {
        const f = this.expectFile(r.path);
        if (r.index !== f.chunks.length) throw new Error(`record addChunk ${r.path}[${r.index}] but the file has ${f.chunks.length} chunks`);
        if (this.chunks.has(r.handle)) throw new Error(`record addChunk reuses handle ${r.handle}`);
        f.chunks.push(r.handle);
        f.mtime = r.at;
        const k = this.refKind(r.path, f);
        this.chunks.set(r.handle, { version: r.version, refs: 1, goals: k.goal, liveRefs: k.hidden ? 0 : 1 });
        this.observeHandle(r.handle);
        touched?.add(r.handle);
        return;
      }
      case 'hide': {
        const before = this.refKinds(r.path);
        this.move(r.path, r.hidden);
        const n = this.nodes.get(r.hidden) as NamespaceNode;
        n.deletedAt = r.at;
        n.origPath = r.path;
        this.rekind(before, r.path, r.hidden, touched);
        return;
      }
      case 'unhide': {
        const before = this.refKinds(r.hidden);
        this.move(r.hidden, r.path);
        const n = this.nodes.get(r.path) as NamespaceNode;
        delete n.deletedAt;
        delete n.origPath;
        this.rekind(before, r.hidden, r.path, touched);
        return;
      }
      case 'remove': {
        // Every file's contribution is taken while the subtree is whole: a child's setting depends on its ancestors.
        const kinds = this.refKinds(r.path);
        for (const p of this.subtree(r.path)) {
          const n = this.nodes.get(p) as NamespaceNode;
          if (n.kind === 'file') {
            const k = kinds.get(p) as RefKind;
            for (const h of n.chunks) {
              this.unref(h, k);
              touched?.add(h);
            }
            this.fileCount--;
          } else this.dirCount--;
          this.nodes.delete(p);
        }
        return;
      }
      case 'rename': {
        const before = this.refKinds(r.from);
        this.move(r.from, r.to);
        // Deleted entries move with their directory (¶72): they undelete to where it is now.
        for (const p of this.subtree(r.to)) {
          const n = this.nodes.get(p) as NamespaceNode;
          if (n.origPath !== undefined && isWithin(n.origPath, r.from) && n.origPath !== r.from) n.origPath = r.to + n.origPath.slice(r.from.length);
        }
        this.rekind(before, r.from, r.to, touched);
        return;
      }
      case 'snapshot': {
        this.expectParentDir(r.target);
        this.expectAbsent(r.target);
        const src = this.nodes.get(r.source);
        if (src === undefined) throw new Error(`record snapshot of missing ${r.source}`);
        const copies: string[] = [];
        for (const p of this.subtree(r.source)) {
          const n = this.nodes.get(p) as NamespaceNode;
          const q = r.target + p.slice(r.source.length);
          // A deleted entry's copy stays deleted, undeletable in the copy (¶72, ¶112).
          const deleted = n.deletedAt === undefined || n.origPath === undefined || p === r.source ? {} : { deletedAt: n.deletedAt, origPath: isWithin(n.origPath, r.source) ? r.target + n.origPath.slice(r.source.length) : n.origPath };
          if (n.kind === 'file') {
            this.nodes.set(q, { kind: 'file', chunks: [...n.chunks], ctime: r.at, mtime: n.mtime, ...deleted });
            this.fileCount++;
            copies.push(q);
          } else {
            this.nodes.set(q, { kind: 'dir', ctime: r.at, ...(n.replication === undefined ? {} : { replication: n.replication }), ...(n.reclaimImmediately === undefined ? {} : { reclaimImmediately: n.reclaimImmediately }), ...deleted });
            this.dirCount++;
          }
        }
        // The copies' settings are those of the copied tree: known once all of it is in place.
        for (const q of copies) {
          const f = this.nodes.get(q) as FileNode;
          const k = this.refKind(q, f);
          for (const h of f.chunks) {
            addRef(this.chunks.get(h) as ChunkMeta, k);
            touched?.add(h);
          }
        }
        return;
      }
      case 'bumpVersion': {
        // Versions only grow. A bump logged after a newer one (a version adopted from a report
        // while a lease grant was bumping), or after the chunk was erased, changes nothing.
        const c = this.chunks.get(r.handle);
        if (c !== undefined && r.version > c.version) {
          c.version = r.version;
          if (r.primary === undefined) delete c.leaseHolder;
          else c.leaseHolder = r.primary;
          touched?.add(r.handle);
        }
        return;
      }
      case 'seal': {
        // A seal of an erased chunk changes nothing; a second seal record (a retry after a lost
        // answer) keeps the first length: the replicas were cut to it (S2).
        const c = this.chunks.get(r.handle);
        if (c === undefined) return;
        if (r.version > c.version) {
          c.version = r.version;
          // Fencing bumped the version without a lease, and a sealed chunk is never leased (S3).
          c.leaseHolder = null;
        }
        c.sealedBytes ??= r.lengthBytes;
        touched?.add(r.handle);
        return;
      }
      case 'cow': {
        const f = this.expectFile(r.path);
        if (f.chunks[r.index] !== r.from) throw new Error(`record cow ${r.path}[${r.index}] expected ${r.from}`);
        if (this.chunks.has(r.to)) throw new Error(`record cow reuses handle ${r.to}`);
        const k = this.refKind(r.path, f);
        f.chunks[r.index] = r.to;
        this.unref(r.from, k);
        this.chunks.set(r.to, { version: r.version, refs: 1, goals: k.goal, liveRefs: k.hidden ? 0 : 1 });
        this.observeHandle(r.to);
        touched?.add(r.from);
        touched?.add(r.to);
        return;
      }
      case 'setPolicy': {
        const n = this.nodes.get(r.path);
        if (n === undefined || n.kind !== 'dir') throw new Error(`record setPolicy on non-directory ${r.path}`);
        const before = r.replication === undefined ? undefined : this.refKinds(r.path);
        if (r.replication !== undefined) n.replication = r.replication;
        if (r.reclaimImmediately !== undefined) n.reclaimImmediately = r.reclaimImmediately;
        if (before !== undefined) this.rekind(before, r.path, r.path, touched);
        return;
      }
      default: {
        const never: never = r;
        throw new Error(`unknown master record ${JSON.stringify(never)}`);
      }
    }
  }

  /**
   * Checks the state's own invariants (the simulator calls this after every message): M3 (every
   * node has a parent directory), M4 (reference counts) and M12 (the maintained counters and
   * per-chunk replication settings equal what a full scan of the namespace finds).
   *
   * The state changes only by applying records (M5: it is a function of them), so after a passing
   * scan the next one is due only once another record was applied; a counter or a table size that
   * moved without one (which no record does) also brings the scan on. Most messages (heartbeats,
   * lookups, status) apply none. `checkCounters` always scans.
   */
  invariants(): void {
    const seen = this.lastScan;
    if (seen !== undefined && seen.applied === this.applied && seen.files === this.fileCount && seen.dirs === this.dirCount && seen.nodes === this.nodes.size && seen.chunks === this.chunks.size) return;
    this.scan();
    this.lastScan = { applied: this.applied, files: this.fileCount, dirs: this.dirCount, nodes: this.nodes.size, chunks: this.chunks.size };
  }

  /** M12 (with M3 and M4): the maintained counters and per-chunk goals equal a full scan of the namespace, now. */
  checkCounters(): void {
    this.scan();
  }

  /** One pass over the namespace and one over the chunks, O(files × depth), allocating only per chunk. */
  private scan(): void {
    let files = 0;
    let dirs = 0;
    /** Per chunk, what the files listing it contribute: references, live ones, and their settings (`mixed` once they differ). */
    const scan = new Map<bigint, { refs: number; live: number; goal: number; mixed?: number[] }>();
    /** The replication setting in force below each directory, found during this scan (nearest ancestor that sets one). */
    const settings = new Map<string, number>();
    const settingBelow = (dir: string): number => {
      const known = settings.get(dir);
      if (known !== undefined) return known;
      const n = this.nodes.get(dir);
      const own = n !== undefined && n.kind === 'dir' ? n.replication : undefined;
      const v = own ?? (dir === ROOT ? 0 : settingBelow(parent(dir)));
      settings.set(dir, v);
      return v;
    };
    for (const [p, n] of this.nodes) {
      if (p !== ROOT) {
        const d = this.nodes.get(parent(p));
        if (d === undefined || d.kind !== 'dir') throw new Error(`M3: ${p} has no parent directory`);
      }
      if (n.kind === 'dir') {
        dirs++;
        continue;
      }
      files++;
      // What the file contributes (as `refKind` computes it, found again here from the tree).
      const goal = settingBelow(parent(p));
      const hidden = n.deletedAt !== undefined || p.includes('/.deleted.');
      for (const h of n.chunks) {
        const c = scan.get(h);
        if (c === undefined) {
          scan.set(h, { refs: 1, live: hidden ? 0 : 1, goal });
          continue;
        }
        if (c.mixed === undefined && goal !== c.goal) c.mixed = Array.from({ length: c.refs }, () => c.goal);
        c.refs++;
        if (!hidden) c.live++;
        c.mixed?.push(goal);
      }
    }
    for (const [h, c] of this.chunks) {
      const found = scan.get(h);
      const refs = found?.refs ?? 0;
      if (refs !== c.refs) throw new Error(`M4: chunk ${h} has refs ${c.refs} but ${refs} files reference it`);
    }
    for (const h of scan.keys()) if (!this.chunks.has(h)) throw new Error(`M4: a file references unknown chunk ${h}`);
    if (files !== this.fileCount) throw new Error(`M12: file counter ${this.fileCount}, but the namespace holds ${files} files`);
    if (dirs !== this.dirCount) throw new Error(`M12: directory counter ${this.dirCount}, but the namespace holds ${dirs} directories`);
    for (const [h, c] of this.chunks) {
      const found = scan.get(h);
      // The common case: every file agrees on one setting and the chunk records that one number.
      const same = found === undefined ? c.refs === 0 && (typeof c.goals === 'number' || c.goals.length === 0) : found.mixed === undefined && typeof c.goals === 'number' && c.goals === found.goal;
      if (!same) {
        const want = (found === undefined ? [] : (found.mixed ?? Array.from({ length: found.refs }, () => found.goal))).sort((a, b) => a - b);
        const have = (typeof c.goals === 'number' ? Array.from({ length: c.refs }, () => c.goals as number) : [...c.goals]).sort((a, b) => a - b);
        if (want.join() !== have.join()) throw new Error(`M12: chunk ${h} records replication settings [${have.join()}], but its files have [${want.join()}]`);
      }
      const live = found?.live ?? 0;
      if (live !== c.liveRefs) throw new Error(`M12: chunk ${h} counts ${c.liveRefs} live references, but ${live} live files list it`);
    }
  }

  /** A plain-data image for checkpoints (¶49). */
  toCheckpoint(): MasterCheckpoint {
    return {
      logicalTime: this.logicalTime,
      applied: this.applied,
      nodes: [...this.nodes.entries()].map(([p, n]) => [p, n.kind === 'file' ? { ...n, chunks: [...n.chunks] } : { ...n }]),
      chunks: [...this.chunks.entries()].map(([h, c]) => chunkEntry(h, c)),
    };
  }

  static fromCheckpoint(cp: MasterCheckpoint): MasterState {
    const s = new MasterState();
    s.logicalTime = cp.logicalTime;
    s.applied = cp.applied;
    s.nodes.clear();
    for (const [p, n] of cp.nodes) s.nodes.set(p, n.kind === 'file' ? { ...n, chunks: [...n.chunks] } : { ...n });
    for (const [h, version, refs, extra] of cp.chunks) s.chunks.set(h, { version, refs, goals: [], liveRefs: 0, ...(extra?.holder === undefined ? {} : { leaseHolder: extra.holder }), ...(extra?.sealedBytes === undefined ? {} : { sealedBytes: extra.sealedBytes }) });
    // Counters and goals are derived, not persisted: one scan rebuilds them.
    s.fileCount = 0;
    s.dirCount = 0;
    for (const [p, n] of s.nodes) {
      if (n.kind === 'dir') {
        s.dirCount++;
        continue;
      }
      s.fileCount++;
      const k = s.refKind(p, n);
      for (const h of n.chunks) {
        const c = s.chunks.get(h);
        if (c === undefined) throw new Error(`checkpoint: ${p} references unknown chunk ${h}`);
        (c.goals as number[]).push(k.goal);
        if (!k.hidden) c.liveRefs++;
      }
    }
    for (const c of s.chunks.values()) c.goals = compact(c.goals as number[]);
    return s;
  }

  /** What a file at `path` contributes to its chunks. A file is deleted if it or a directory above it was (¶72). */
  private refKind(path: string, n: FileNode): RefKind {
    return { goal: this.replicationSetting(path), hidden: n.deletedAt !== undefined || path.includes('/.deleted.') };
  }

  /** The contribution of every file at or below `path`, by path. */
  private refKinds(path: string): Map<string, RefKind> {
    const out = new Map<string, RefKind>();
    for (const p of this.subtree(path)) {
      const n = this.nodes.get(p) as NamespaceNode;
      if (n.kind === 'file') out.set(p, this.refKind(p, n));
    }
    return out;
  }

  /** After the subtree at `from` moved to `to` (or changed in place), moves each chunk's references from the old kinds to the new. */
  private rekind(before: ReadonlyMap<string, RefKind>, from: string, to: string, touched: Set<bigint> | undefined): void {
    for (const [p, old] of before) {
      const q = to + p.slice(from.length);
      const f = this.nodes.get(q) as FileNode;
      const now = this.refKind(q, f);
      if (now.goal === old.goal && now.hidden === old.hidden) continue;
      for (const h of f.chunks) {
        const c = this.chunks.get(h) as ChunkMeta;
        removeRef(c, old);
        addRef(c, now);
        touched?.add(h);
      }
    }
  }

  private unref(h: bigint, k: RefKind): void {
    const c = this.chunks.get(h);
    if (c === undefined) throw new Error(`unref of unknown chunk ${h}`);
    removeRef(c, k);
    if (c.refs === 0) this.chunks.delete(h); // an orphan: erased from the master's records (¶74)
  }

  private observeHandle(h: bigint): void {
    const t = Number(h >> 16n);
    if (t > this.logicalTime) this.logicalTime = t;
  }

  private move(from: string, to: string): void {
    if (!this.nodes.has(from)) throw new Error(`record moves missing ${from}`);
    this.expectParentDir(to);
    this.expectAbsent(to);
    const moved = this.subtree(from);
    for (const p of moved) {
      const n = this.nodes.get(p) as NamespaceNode;
      this.nodes.delete(p);
      this.nodes.set(to + p.slice(from.length), n);
    }
  }

  private expectParentDir(path: string): void {
    const d = this.nodes.get(parent(path));
    if (d === undefined || d.kind !== 'dir') throw new Error(`record names ${path} whose parent is not a directory`);
  }

  private expectAbsent(path: string): void {
    if (this.nodes.has(path)) throw new Error(`record creates ${path}, which exists`);
  }

  private expectFile(path: string): FileNode {
    const f = this.nodes.get(path);
    if (f === undefined || f.kind !== 'file') throw new Error(`record names file ${path}, which is not a file`);
    return f;
  }
}

/** Adds one reference of kind `k` to `c` (refs, goals, liveRefs). */
function addRef(c: ChunkMeta, k: RefKind): void {
  if (typeof c.goals === 'number') {
    if (c.goals !== k.goal) c.goals = [...Array.from({ length: c.refs }, () => c.goals as number), k.goal];
  } else {
    c.goals.push(k.goal);
  }
  c.refs++;
  if (!k.hidden) c.liveRefs++;
}

/** Removes one reference of kind `k` from `c`. */
function removeRef(c: ChunkMeta, k: RefKind): void {
  if (typeof c.goals !== 'number') {
    const i = c.goals.indexOf(k.goal);
    if (i < 0) throw new Error(`M12: chunk has no reference with replication setting ${k.goal}`);
    c.goals.splice(i, 1);
    c.goals = compact(c.goals);
  } else if (c.goals !== k.goal) {
    throw new Error(`M12: chunk's references have setting ${c.goals}, not ${k.goal}`);
  }
  c.refs--;
  if (!k.hidden) c.liveRefs--;
}

/** One number when every reference has the same setting (or there are none). */
function compact(goals: number[]): number | number[] {
  const first = goals[0] ?? 0;
  return goals.every((g) => g === first) ? first : goals;
}

export interface MasterCheckpoint {
  readonly logicalTime: number;
  readonly applied: number;
  readonly nodes: Array<[string, NamespaceNode]>;
  /**
   * Handle, version, references, and what only some chunks have: the lease holder at that version
   * when known (`ChunkMeta.leaseHolder`) and the sealed length of a sealed chunk (S1).
   */
  readonly chunks: Array<[bigint, number, number] | [bigint, number, number, CheckpointChunkExtra]>;
}

/** The optional fields of a checkpointed chunk (absent when the chunk has neither). */
export interface CheckpointChunkExtra {
  readonly holder?: string | null;
  readonly sealedBytes?: number;
}

function chunkEntry(h: bigint, c: ChunkMeta): [bigint, number, number] | [bigint, number, number, CheckpointChunkExtra] {
  if (c.leaseHolder === undefined && c.sealedBytes === undefined) return [h, c.version, c.refs];
  return [h, c.version, c.refs, { ...(c.leaseHolder === undefined ? {} : { holder: c.leaseHolder }), ...(c.sealedBytes === undefined ? {} : { sealedBytes: c.sealedBytes }) }];
}
