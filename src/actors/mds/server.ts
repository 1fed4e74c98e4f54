/**
 * The metadata server actor (thesis ch. 4; single active MDS, rank 0 by default). A thin shell
 * around the pure cores: namespace.ts plans each request, journal.ts frames events, cache.ts holds
 * the metadata and its dirty state. This file does the RADOS I/O through the object client
 * (client/client.ts): directory fetches and commits, journal writes, header updates, purges.
 *
 * Turns are serial (DESIGN.md §3): one request at a time, to completion, including its journal
 * write, so a request's plan, journal entry and cache update are never interleaved with another's.
 * A request is acknowledged only after its journal entry is committed on every replica (README
 * invariant J1). A journal write that fails leaves the stream in doubt: the MDS then starts over
 * from its journal (replay), as after a crash.
 */
import type { ActorContext, ActorFactory } from '../../runtime/behavior.js';
import type { ActorRef } from '../../runtime/ref.js';
import type { ActorSystem } from '../../runtime/system.js';
import type { MonitorMsg } from '../rados/monitor/protocol.js';
import { RadosClient, type IoCtx, type RadosClientConfig } from '../rados/client/client.js';
import { stripeExtents, stripeObjectName } from '../rados/client/striping.js';
import { MdsCache, rootInode } from './cache.js';
import { DEFAULT_MDS_CONFIG, validateMdsConfig, type MdsConfig } from './config.js';
import { decodeDirObject, dirObjectName, encodeDirObject, ROOT_INO } from './dir-object.js';
import { fail, ok, type MdsResult } from './errors.js';
import {
  decodeHeader,
  encodeEntry,
  encodeHeader,
  entryWrites,
  journalHeaderName,
  journalObjectName,
  JournalScanner,
  objectOf,
  type DentryLoc,
  type JournalEvent,
  type JournalHeader,
  type Purge,
  type Truncation,
} from './journal.js';
import { isMutation, planOp, type Plan } from './namespace.js';
import type { MdsMsg, MdsOp, MdsStatus } from './protocol.js';

export interface MdsOptions {
  readonly rank?: number;
  /** The node's actor system (the MDS's object client runs on it). */
  readonly system: ActorSystem;
  readonly monitors: readonly ActorRef<MonitorMsg>[];
  /** The pool holding file data (purged on last unlink, trimmed on truncate). */
  readonly dataPool: string;
  readonly config?: Partial<MdsConfig>;
  readonly rados?: Partial<RadosClientConfig>;
}

const BOOT_RETRY_MS = 1_000;
const PURGE_PARALLEL_MAX = 16;

type Io<T> = Promise<MdsResult<T>>;

/** The MDS actor. Spawn it with `mailboxCapacity: config.requestQueueMax` (see `mdsSpawnOptions`). */
export function mdsServer(o: MdsOptions): ActorFactory<MdsMsg> {
  const cfg: MdsConfig = { ...DEFAULT_MDS_CONFIG, ...o.config };
  const bad = validateMdsConfig(cfg);
  if (bad !== undefined) throw new RangeError(`MDS config: ${bad}`);
  const rank = o.rank ?? 0;
  return (ctx: ActorContext<MdsMsg>) => {
    let state: MdsStatus['state'] = 'booting';
    let rados: RadosClient | undefined;
    let meta: IoCtx | undefined;
    let data: IoCtx | undefined;
    let cache = new MdsCache(cfg, rootInode(0));
    let generation = 0;
    let trimPos = 0;
    let writePos = 0;
    /** Journal objects below this one are deleted. */
    let removedBelowObj = 0;
    /** Open files per client (not journaled: thesis §4.4.2 — clients reopen after a restart). */
    const sessions = new Map<string, Set<number>>();
    let replayedEvents = 0;
    let commits = 0;
    let updates = 0;

    const log = (msg: string, fields: Record<string, unknown> = {}): void => ctx.log.info(msg, { rank, ...fields });

    function ioError<T>(what: string, e: { code: string; message: string }): MdsResult<T> {
      return fail('EIO', `${what}: ${e.code}: ${e.message}`);
    }

    function restart(reason: string): void {
      if (state === 'booting') return;
      ctx.log.warn('mds restarting from its journal', { rank, reason });
      state = 'booting';
      ctx.tell(ctx.self, { type: 'mds.boot' });
    }

    // ----- object I/O -----

    async function readObject(io: IoCtx, oid: string, offset = 0): Io<Uint8Array | undefined> {
      const r = await io.read(oid, offset, 0);
      if (r.ok) return ok(r.value);
      if (r.error.code === 'not_found') return ok(undefined);
      return ioError(`read ${oid}`, r.error);
    }

    async function commitOp(h: { commit: Promise<{ ok: boolean; error?: { code: string; message: string } }> }, what: string, missingOk = false): Io<true> {
      const r = await h.commit;
      if (r.ok || (missingOk && r.error?.code === 'not_found')) return ok(true);
      return ioError(what, r.error ?? { code: '?', message: '' });
    }

    async function fetchDir(ino: number): Io<true> {
      const r = await readObject(meta as IoCtx, dirObjectName(ino));
      if (!r.ok) return r;
      if (r.value === undefined || r.value.length === 0) {
        cache.applyFetched({ ino, version: 0, dentries: [] });
        return ok(true);
      }
      const d = decodeDirObject(r.value, ino);
      if (!d.ok) return fail('EIO', `directory object ${dirObjectName(ino)} is damaged: ${d.reason}`);
      cache.applyFetched(d.value);
      return ok(true);
    }

    // ----- journal -----

    async function writeHeader(): Io<true> {
      const h: JournalHeader = { trimPos, generation, objectBytes: cfg.journalObjectBytes };
      return commitOp((meta as IoCtx).writeFull(journalHeaderName(rank), encodeHeader(h)), 'journal header write');
    }

    /** Appends one event at the write position and waits until every replica has it on disk. */
    async function append(ev: JournalEvent): Io<number> {
      const bytes = encodeEntry(writePos, generation, ev);
      const limit = ev.e === 'subtreeMap' ? cfg.subtreeMapBytesMax : cfg.entryBytesMax;
      if (bytes.length > limit) return fail(ev.e === 'subtreeMap' ? 'ENOSPC' : 'EINVAL', `journal entry of ${bytes.length} bytes is over the ${limit}-byte limit`);
      const at = writePos;
      const writes = entryWrites(rank, cfg.journalObjectBytes, at, bytes);
      const rs = await Promise.all(writes.map((w) => commitOp((meta as IoCtx).write(w.oid, w.data, w.objectOffset), `journal write at ${at}`)));
      const failed = rs.find((r) => !r.ok);
      if (failed !== undefined && !failed.ok) return failed;
      writePos = at + bytes.length;
      return ok(at);
    }

    /** Starts a segment: its first event is the subtree map with the tables as they are now (digest §4.8). */
    async function beginSegment(): Io<true> {
      const ev: JournalEvent = { e: 'subtreeMap', subtrees: [{ root: ROOT_INO, bounds: [] }], tables: cache.snapshot() };
      const r = await append(ev);
      if (!r.ok) return r;
      cache.beginSegment(r.value);
      cache.apply(ev);
      return ok(true);
    }

    /** Journals an update (starting a new segment first when the current one is full), then applies it. */
    async function journal(ev: JournalEvent): Io<true> {
      const seg = cache.currentSegment;
      if (seg === undefined || writePos - seg.startPos >= cfg.segmentBytes) {
        const s = await beginSegment();
        if (!s.ok) return s;
      }
      const r = await append(ev);
      if (!r.ok) return r;
      cache.apply(ev);
      if (ev.e === 'update') updates++;
      return ok(true);
    }

    /** Commits the directories the oldest segment dirtied, then moves the trim position past it (thesis §4.2.3). */
    async function trimOldest(): Io<true> {
      for (const ino of cache.dirsToCommitForTrim()) {
        const d = cache.dirs.get(ino);
        if (d !== undefined && !d.complete) {
          const f = await fetchDir(ino);
          if (!f.ok) return f;
        }
        const image = cache.commitImage(ino);
        const w = await commitOp((meta as IoCtx).writeFull(dirObjectName(ino), encodeDirObject(image)), `commit of directory ${ino}`);
        if (!w.ok) return w;
        cache.committed(ino, image.version);
        commits++;
      }
      cache.dropOldestSegment();
      const next = cache.segments[0];
      if (next === undefined) throw new Error('trimmed the current segment');
      trimPos = next.startPos;
      const h = await writeHeader();
      if (!h.ok) return h;
      const below = objectOf(trimPos, cfg.journalObjectBytes);
      for (let objno = removedBelowObj; objno < below; objno++) {
        const rm = await commitOp((meta as IoCtx).remove(journalObjectName(rank, objno)), `remove journal object ${objno}`, true);
        if (!rm.ok) return rm;
      }
      removedBelowObj = Math.max(removedBelowObj, below);
      return ok(true);
    }

    async function trim(keep: number): Io<true> {
      while (cache.segments.length > keep) {
        const r = await trimOldest();
        if (!r.ok) return r;
      }
      return ok(true);
    }

    // ----- data purges -----

    async function inBatches(oids: readonly string[], op: (oid: string) => Io<true>): Io<true> {
      for (let i = 0; i < oids.length; i += PURGE_PARALLEL_MAX) {
        const rs = await Promise.all(oids.slice(i, i + PURGE_PARALLEL_MAX).map(op));
        const failed = rs.find((r) => !r.ok);
        if (failed !== undefined) return failed;
      }
      return ok(true);
    }

    async function purge(p: Purge): Io<true> {
      if (p.kind === 'dir') return commitOp((meta as IoCtx).remove(dirObjectName(p.ino)), `remove directory object of ${p.ino}`, true);
      if (p.layout === undefined || (p.sizeBytes ?? 0) === 0) return ok(true);
      const onos = [...new Set(stripeExtents(p.layout, 0, p.sizeBytes ?? 0).map((x) => x.ono))];
      return inBatches(
        onos.map((n) => stripeObjectName(p.ino, n)),
        (oid) => commitOp((data as IoCtx).remove(oid), `purge ${oid}`, true),
      );
    }

    /** Removes bytes [toBytes, fromBytes) from each object of the file (an object left empty is removed). */
    async function truncateData(t: Truncation): Io<true> {
      if (t.fromBytes <= t.toBytes) return ok(true);
      const cut = new Map<number, number>();
      for (const x of stripeExtents(t.layout, t.toBytes, t.fromBytes - t.toBytes)) cut.set(x.ono, Math.min(cut.get(x.ono) ?? Infinity, x.objectOffset));
      return inBatches(
        [...cut.keys()].map((n) => stripeObjectName(t.ino, n)),
        (oid) => {
          const ono = Number.parseInt(oid.slice(oid.lastIndexOf('.') + 1), 16);
          const at = cut.get(ono) ?? 0;
          return commitOp(at === 0 ? (data as IoCtx).remove(oid) : (data as IoCtx).truncate(oid, at), `truncate ${oid} to ${at}`, true);
        },
      );
    }

    async function finishTruncate(t: Truncation): Io<true> {
      const r = await truncateData(t);
      if (!r.ok) return r;
      return journal({ e: 'truncateFinish', ino: t.ino });
    }

    // ----- boot and replay -----

    async function boot(): Promise<void> {
      state = 'booting';
      if (rados === undefined) {
        const c = await RadosClient.connect({ system: o.system, monitors: o.monitors, name: `mds.${rank}.${ctx.random.int(2 ** 31).toString(36)}`, config: { opTimeoutMs: cfg.objectOpTimeoutMs, ...o.rados } });
        if (!c.ok) {
          log('mds cannot reach the monitors yet', { error: c.error.message });
          ctx.timers.once('boot', BOOT_RETRY_MS, { type: 'mds.boot' });
          return;
        }
        rados = c.value;
        meta = rados.pool(cfg.metadataPool);
        data = rados.pool(o.dataPool);
      }
      state = 'replaying';
      const r = await replay();
      if (!r.ok) {
        ctx.log.warn('mds replay failed; retrying', { rank, error: r.error.message });
        state = 'booting';
        ctx.timers.once('boot', BOOT_RETRY_MS, { type: 'mds.boot' });
        return;
      }
      state = 'active';
      log('mds active', { generation, trimPos, writePos, replayedEvents });
    }

    /**
     * Rebuilds the cache from the journal (thesis §4.4.2 stage 1; digest §4.9): events from the
     * first subtree map at the trim position up to the torn tail, then redoes purges and unfinished
     * truncations, bumps the generation, and opens a fresh segment.
     */
    async function replay(): Io<true> {
      const io = meta as IoCtx;
      cache = new MdsCache(cfg, rootInode(ctx.clock.now()));
      sessions.clear();
      replayedEvents = 0;
      const hr = await readObject(io, journalHeaderName(rank));
      if (!hr.ok) return hr;
      const purges: Purge[] = [];
      if (hr.value === undefined) {
        generation = 1;
        trimPos = 0;
        writePos = 0;
        removedBelowObj = 0;
      } else {
        const h = decodeHeader(hr.value);
        if (!h.ok) return fail('EIO', `journal header is damaged: ${h.reason}`);
        if (h.value.objectBytes !== cfg.journalObjectBytes) return fail('EINVAL', `the journal was written with ${h.value.objectBytes}-byte objects; config says ${cfg.journalObjectBytes}`);
        trimPos = h.value.trimPos;
        removedBelowObj = objectOf(trimPos, cfg.journalObjectBytes);
        const scanner = new JournalScanner(trimPos, h.value.generation, cfg.subtreeMapBytesMax);
        let objno = objectOf(trimPos, cfg.journalObjectBytes);
        let offset = trimPos - objno * cfg.journalObjectBytes;
        for (;;) {
          const got = await readObject(io, journalObjectName(rank, objno), offset);
          if (!got.ok) return got;
          if (got.value === undefined) break;
          for (const entry of scanner.push(got.value)) {
            const ev = entry.ev;
            if (cache.currentSegment === undefined) {
              // Events before the first subtree map are ignored (digest §4.8).
              if (ev.e !== 'subtreeMap') continue;
              cache.loadSnapshot(ev.tables);
            }
            if (ev.e === 'subtreeMap') cache.beginSegment(entry.pos);
            cache.apply(ev);
            if (ev.e === 'update') purges.push(...(ev.blob.purges ?? []));
            replayedEvents++;
          }
          if (scanner.stopReason !== undefined || offset + got.value.length < cfg.journalObjectBytes) break;
          objno++;
          offset = 0;
        }
        scanner.finish();
        writePos = scanner.end;
        if (cache.currentSegment === undefined && trimPos > 0) return fail('EIO', `no subtree map at the journal's trim position ${trimPos}`);
        generation = h.value.generation + 1;
        log('mds journal replayed', { events: replayedEvents, trimPos, writePos, stop: scanner.stopReason });
      }
      // The new generation is on disk before anything is written past the old tail (J3).
      const w = await writeHeader();
      if (!w.ok) return w;
      for (const p of purges) {
        const r = await purge(p);
        if (!r.ok) return r;
      }
      const s = await beginSegment();
      if (!s.ok) return s;
      for (const t of [...cache.truncating.values()]) {
        const r = await finishTruncate(t);
        if (!r.ok) return r;
      }
      return trim(cfg.segmentsMax);
    }

    // ----- requests -----

    function pinnedDirs(): Set<number> {
      const out = new Set<number>();
      for (const inos of sessions.values()) for (const ino of inos) {
        const loc = cache.inoLoc.get(ino);
        if (loc !== undefined) out.add(loc.dir);
      }
      return out;
    }

    function openLoc(client: string, ino: number): DentryLoc | undefined {
      if (sessions.get(client)?.has(ino) !== true) return undefined;
      return ino === ROOT_INO ? { dir: 0, name: '' } : cache.inoLoc.get(ino);
    }

    async function handle(client: string, tid: number, req: MdsOp): Promise<MdsResult<unknown>> {
      if (state !== 'active') return fail('EAGAIN', `mds.${rank} is ${state}`);
      const mutation = isMutation(req);
      if (mutation) {
        const seen = cache.completedReply({ client, tid });
        if (seen.found) return ok(seen.reply);
      }
      if (req.op === 'open') {
        const mine = sessions.get(client);
        if (mine === undefined && sessions.size >= cfg.sessionsMax) return fail('ENOSPC', `${cfg.sessionsMax} client sessions already`);
        if (mine !== undefined && mine.size >= cfg.openFilesPerClientMax) return fail('ENOSPC', `${cfg.openFilesPerClientMax} files open by ${client} already`);
      }
      let plan: Exclude<Plan, { kind: 'need' }> | undefined;
      for (let round = 0; round < cfg.fetchRoundsMax; round++) {
        const p = planOp(cache, cfg, req, ctx.clock.now(), req.op === 'close' ? openLoc(client, req.ino) : undefined);
        if (p.kind !== 'need') {
          plan = p;
          break;
        }
        for (const ino of p.dirs) {
          const f = await fetchDir(ino);
          if (!f.ok) return f;
        }
      }
      if (plan === undefined) return fail('EIO', `path resolution needed more than ${cfg.fetchRoundsMax} directory loads`);
      if (plan.kind === 'error') return { ok: false, error: plan.error };
      cache.used(plan.dirsRead);
      if (plan.update !== undefined) {
        const ev: JournalEvent = { e: 'update', op: plan.update.op, ...(mutation ? { req: { client, tid } } : {}), reply: plan.reply, blob: plan.update.blob };
        const j = await journal(ev);
        if (!j.ok) {
          // An entry refused for its size was never written; any other failure leaves the journal in doubt.
          if (j.error.code !== 'EINVAL') restart(`journal write failed: ${j.error.message}`);
          return j;
        }
        for (const p of plan.update.blob.purges ?? []) {
          const r = await purge(p);
          if (!r.ok) ctx.log.warn('mds purge failed; replay will redo it', { rank, ino: p.ino, error: r.error.message });
        }
        if (plan.update.blob.truncate !== undefined) {
          const t = await finishTruncate(plan.update.blob.truncate);
          if (!t.ok) {
            restart(`truncate failed: ${t.error.message}`);
            return t;
          }
        }
        const tr = await trim(cfg.segmentsMax);
        if (!tr.ok) {
          restart(`trim failed: ${tr.error.message}`);
          // The update itself is journaled: acknowledge it.
        }
      }
      if (plan.opened !== undefined) {
        let mine = sessions.get(client);
        if (mine === undefined) sessions.set(client, (mine = new Set()));
        mine.add(plan.opened);
      }
      if (req.op === 'close') {
        const mine = sessions.get(client);
        mine?.delete(req.ino);
        if (mine?.size === 0) sessions.delete(client);
      }
      cache.expire(cfg.cacheDirsMax, pinnedDirs());
      return ok(plan.reply);
    }

    function status(): MdsStatus {
      let dirty = 0;
      for (const d of cache.dirs.values()) if (d.dirty.size > 0) dirty++;
      return {
        rank,
        state,
        journal: { trimPos, writePos, generation, segments: cache.segments.length },
        cachedDirs: cache.dirs.size,
        dirtyDirs: dirty,
        replayedEvents,
        commits,
        updates,
      };
    }

    return {
      preStart: () => {
        ctx.tell(ctx.self, { type: 'mds.boot' });
      },
      postStop: () => {
        rados?.close();
      },
      receive: async (m: MdsMsg) => {
        switch (m.type) {
          case 'mds.boot':
            return boot();
          case 'mds.request':
            if (typeof m.client !== 'string' || !Number.isSafeInteger(m.tid) || typeof m.req !== 'object' || m.req === null) {
              ctx.log.warn('malformed mds request dropped', { rank });
              return fail('EINVAL', 'malformed request');
            }
            return handle(m.client, m.tid, m.req);
          case 'mds.status':
            return status();
          case 'mds.flushJournal': {
            if (state !== 'active') return fail('EAGAIN', `mds.${rank} is ${state}`);
            const s = await beginSegment();
            if (!s.ok) return s;
            const r = await trim(1);
            if (!r.ok) restart(`trim failed: ${r.error.message}`);
            return r;
          }
          default: {
            const never: never = m;
            ctx.log.warn('unknown mds message dropped', { type: (never as { type?: unknown }).type });
            return undefined;
          }
        }
      },
      invariants: () => cache.invariants(),
    };
  };
}

/** Spawn options for the MDS: its request queue is bounded by `requestQueueMax`. */
export function mdsSpawnOptions(config: Partial<MdsConfig> = {}): { name: string; mailboxCapacity: number } {
  return { name: 'mds', mailboxCapacity: config.requestQueueMax ?? DEFAULT_MDS_CONFIG.requestQueueMax };
}

