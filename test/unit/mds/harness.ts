/**
 * Drives the MDS's pure cores the way the server does, with an in-memory map for the directory
 * objects: plan, load the directories the plan needs, journal (record) the event, apply it.
 */
import { MdsCache, rootInode } from '../../../src/actors/mds/cache.js';
import { DEFAULT_MDS_CONFIG, type MdsConfig } from '../../../src/actors/mds/config.js';
import type { DirObject } from '../../../src/actors/mds/dir-object.js';
import type { JournalEvent } from '../../../src/actors/mds/journal.js';
import { planOp, type Plan } from '../../../src/actors/mds/namespace.js';
import type { MdsOp } from '../../../src/actors/mds/protocol.js';

export class CoreHarness {
  readonly cfg: MdsConfig;
  cache: MdsCache;
  /** Directory objects "in RADOS". */
  readonly store = new Map<number, DirObject>();
  /** The journal: every event in order, with the position its segment began at. */
  readonly journal: JournalEvent[] = [];
  loads = 0;
  private clock = 1_000;

  constructor(cfg: Partial<MdsConfig> = {}) {
    this.cfg = { ...DEFAULT_MDS_CONFIG, ...cfg };
    this.cache = new MdsCache(this.cfg, rootInode(0));
    this.newSegment();
  }

  newSegment(): void {
    const ev: JournalEvent = { e: 'subtreeMap', subtrees: [{ root: 1, bounds: [] }], tables: this.cache.snapshot() };
    this.cache.beginSegment(this.journal.length);
    this.journal.push(ev);
    this.cache.apply(ev);
  }

  load(ino: number): void {
    this.loads++;
    this.cache.applyFetched(this.store.get(ino) ?? { ino, version: 0, dentries: [] });
  }

  run(op: MdsOp, req?: { client: string; tid: number }): Exclude<Plan, { kind: 'need' }> {
    for (let round = 0; round < 64; round++) {
      const p = planOp(this.cache, this.cfg, op, this.clock++);
      if (p.kind === 'need') {
        for (const ino of p.dirs) this.load(ino);
        continue;
      }
      if (p.kind === 'done') this.cache.used(p.dirsRead);
      if (p.kind === 'done' && p.update !== undefined) {
        const ev: JournalEvent = { e: 'update', op: p.update.op, ...(req === undefined ? {} : { req }), reply: p.reply, blob: p.update.blob };
        this.journal.push(ev);
        this.cache.apply(ev);
      }
      this.cache.invariants();
      return p;
    }
    throw new Error('no progress');
  }

  /** 'ok' or the error code. */
  code(op: MdsOp): string {
    const p = this.run(op);
    return p.kind === 'done' ? 'ok' : p.error.code;
  }

  /** Commits what the oldest segment dirtied, as a trim does, and drops it. Returns the directories written. */
  trimOldest(): number[] {
    const written: number[] = [];
    for (const ino of this.cache.dirsToCommitForTrim()) {
      if (this.cache.dirs.get(ino)?.complete !== true) this.load(ino);
      const img = this.cache.commitImage(ino);
      this.store.set(ino, img);
      this.cache.committed(ino, img.version);
      written.push(ino);
    }
    this.cache.dropOldestSegment();
    return written;
  }

  /** A fresh cache rebuilt from the journal from its `fromEvent`-th event (which must be a subtree map). */
  replay(fromEvent = 0): MdsCache {
    const c = new MdsCache(this.cfg, rootInode(0));
    this.journal.slice(fromEvent).forEach((ev, i) => {
      if (c.currentSegment === undefined) {
        if (ev.e !== 'subtreeMap') return;
        c.loadSnapshot(ev.tables);
      }
      if (ev.e === 'subtreeMap') c.beginSegment(fromEvent + i);
      c.apply(ev);
    });
    return c;
  }
}
