/**
 * The suite's checkers: pure functions of a `RunRecord`, each returning the violations it found
 * (empty when the property holds). Letters follow the issue: (a) record appends, (b) defined
 * regions, (c) linearizable namespace, (d) one primary, (e) back to the replication goal, (f) no
 * corrupt byte to a client, (g) GC keeps referenced chunks, (h) recovery keeps acknowledged changes,
 * (i) record appends keep going while one chunkserver is down (GFS README S4).
 */
import type { ChunkHandle } from '../../../../src/actors/gfs/protocol.js';
import type { ChunkImage, RunRecord } from './run.js';
import { FILE_BYTES_MAX, framed, QUEUE, wordWriter, words, type WriteRecord } from './workload.js';
import { checkNamespace } from './namespace-check.js';
import { formatViolations as formatSuiteViolations, violationCollector, type Violation as SuiteViolation } from '../../../support/violations.js';

export type CheckerName = 'a' | 'b' | 'c' | 'd' | 'e' | 'f' | 'g' | 'h' | 'i';

export const CHECKERS: Record<CheckerName, string> = {
  a: 'acknowledged record appends intact at one offset on every replica, read once by RecordReader',
  b: 'serial successful writes leave their regions defined',
  c: 'namespace operations linearizable',
  d: 'never two primaries for one chunk at once',
  e: 'every chunk back at its replication goal within the bound',
  f: 'no corrupt byte returned to a client',
  g: 'GC never removes a chunk a live or hidden file or a snapshot references',
  h: 'master recovery reproduces every acknowledged metadata change',
  i: 'with at most one chunkserver down at a time, no record append fails and none waits longer than the bound (sealing, S4)',
};

export type Violation = SuiteViolation<CheckerName>;
const collector = (checker: CheckerName) => violationCollector(checker);

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function hex(h: ChunkHandle): string {
  return h.toString(16).padStart(16, '0');
}

// ----- (a) -----

export function checkAppends(r: RunRecord): Violation[] {
  const v = collector('a');
  const chunks = r.files.get(QUEUE) ?? [];
  const acked = r.history.appends.filter((a) => a.status === 'ok');
  for (const a of acked) {
    const offset = a.offset as number;
    const index = Math.floor(offset / r.chunkSizeBytes);
    const within = offset - index * r.chunkSizeBytes;
    const expect = framed(a);
    const chunk = chunks.find((c) => c.index === index);
    if (chunk === undefined || chunk.replicas.length === 0) {
      v.add(`record ${a.writer}:${a.seq} acknowledged at ${offset}: chunk ${index} of ${QUEUE} has no replica`);
      continue;
    }
    for (const rep of chunk.replicas) {
      if (rep.data === undefined) v.add(`record ${a.writer}:${a.seq} at ${offset}: replica on ${rep.server} unreadable (${rep.error})`);
      else if (!equal(rep.data.subarray(within, within + expect.length), expect)) v.add(`record ${a.writer}:${a.seq} acknowledged at ${offset} (chunk ${index} +${within}) is not intact on ${rep.server}`);
    }
  }
  if (r.readerError !== undefined) v.add(`RecordReader failed: ${r.readerError}`);
  const seen = new Map<string, number>();
  const invoked = new Map(r.history.appends.map((a) => [`${a.writer}:${a.seq}`, a]));
  for (const rec of r.reader) {
    const id = `${rec.writer}:${rec.seq}`;
    seen.set(id, (seen.get(id) ?? 0) + 1);
    const a = invoked.get(id);
    if (a === undefined) v.add(`RecordReader yielded ${id} at ${rec.offset}, which no producer appended`);
    else if (!equal(a.data, rec.data)) v.add(`RecordReader yielded ${id} at ${rec.offset} with other data than appended`);
  }
  for (const a of acked) {
    const n = seen.get(`${a.writer}:${a.seq}`) ?? 0;
    if (n !== 1) v.add(`RecordReader yielded acknowledged record ${a.writer}:${a.seq} ${n} times`);
  }
  return v.out;
}

// ----- (b) -----

/** Per 8-byte word of a file: 0 never written, > 0 the write whose data must be there, -1 unknown (a failed write touched it). */
export function expectedImage(writes: readonly WriteRecord[]): Int32Array {
  const img = new Int32Array(FILE_BYTES_MAX / 8);
  for (const w of writes) img.fill(w.status === 'ok' ? w.id : -1, w.offset / 8, (w.offset + w.length) / 8);
  return img;
}

function checkImage(v: ReturnType<typeof collector>, path: string, img: Int32Array, chunks: readonly ChunkImage[] | undefined, chunkSizeBytes: number): void {
  const wordsPerChunk = chunkSizeBytes / 8;
  for (let index = 0; index * wordsPerChunk < img.length; index++) {
    const first = index * wordsPerChunk;
    const expected = img.subarray(first, first + wordsPerChunk);
    const needed = expected.some((x) => x > 0);
    const chunk = chunks?.find((c) => c.index === index);
    if (chunk === undefined || chunk.replicas.length === 0) {
      if (needed) v.add(`${path}: chunk ${index} holds acknowledged writes but has no replica`);
      continue;
    }
    for (const rep of chunk.replicas) {
      if (rep.data === undefined) {
        v.add(`${path} chunk ${index}: replica on ${rep.server} unreadable (${rep.error})`);
        continue;
      }
      const view = words(rep.data);
      for (let w = 0; w < expected.length; w++) {
        const e = expected[w] as number;
        const at = w * 8;
        const got = at + 8 <= rep.data.length ? wordWriter(view, at, (first + w) * 8) : 0;
        if (e === -1 ? got === -1 : got !== e) {
          v.add(`${path} @${(first + w) * 8} on ${rep.server} (chunk ${hex(chunk.handle)} v${chunk.version}): expected ${e === 0 ? 'never written (zero)' : e === -1 ? 'bytes of some write' : `write ${e}`}, found ${got === -1 ? 'bytes no write produced' : got === 0 ? 'zero' : `write ${got}`}`);
          break;
        }
      }
    }
  }
}

export function checkDefined(r: RunRecord): Violation[] {
  const v = collector('b');
  for (const path of r.history.owned) {
    const writes = r.history.writes.filter((w) => w.path === path);
    checkImage(v, path, expectedImage(writes), r.files.get(path), r.chunkSizeBytes);
    // A snapshot holds the file as it was (¶110–113): copy-on-write must not let later writes through.
    for (const s of r.history.snapshots.filter((x) => x.source === path && x.status === 'ok')) {
      if (!r.files.has(s.target)) continue; // deleted since (hidden): checker g covers its chunks
      checkImage(v, s.target, expectedImage(writes.slice(0, s.writesBefore)), r.files.get(s.target), r.chunkSizeBytes);
    }
  }
  return v.out;
}

// ----- (d) -----

export function checkOnePrimary(r: RunRecord): Violation[] {
  const v = collector('d');
  const windows = new Map<ChunkHandle, Map<string, { server: string; version: number; from: number; to: number }>>();
  for (const a of r.acts) {
    let byLease = windows.get(a.handle);
    if (byLease === undefined) windows.set(a.handle, (byLease = new Map()));
    const k = `${a.server}/${a.version}`;
    const w = byLease.get(k);
    if (w === undefined) byLease.set(k, { server: a.server, version: a.version, from: a.at, to: a.at });
    else w.to = a.at;
  }
  for (const [handle, byLease] of windows) {
    const ws = [...byLease.values()];
    for (let i = 0; i < ws.length; i++) {
      for (let j = i + 1; j < ws.length; j++) {
        const x = ws[i]!;
        const y = ws[j]!;
        if (x.server === y.server) continue;
        if (x.version === y.version) v.add(`chunk ${hex(handle)} v${x.version}: both ${x.server} and ${y.server} ordered mutations as primary`);
        else if (x.from <= y.to && y.from <= x.to) v.add(`chunk ${hex(handle)}: ${x.server} (v${x.version}, ${x.from.toFixed(1)}–${x.to.toFixed(1)} ms) and ${y.server} (v${y.version}, ${y.from.toFixed(1)}–${y.to.toFixed(1)} ms) were primaries at the same time`);
      }
    }
  }
  return v.out;
}

// ----- (e) -----

export function checkConverged(r: RunRecord): Violation[] {
  const v = collector('e');
  if (r.convergedAt === undefined) v.add(`fsck still reported problems ${r.convergenceBoundMs / 1000} s after the faults ended`);
  for (const [path, chunks] of r.files) {
    for (const c of chunks) {
      for (const rep of c.replicas) if (rep.error !== undefined) v.add(`${path} chunk ${c.index}: replica on ${rep.server} unreadable after convergence: ${rep.error}`);
    }
  }
  return v.out;
}

// ----- (f) -----

export function checkNoCorruptRead(r: RunRecord): Violation[] {
  const v = collector('f');
  const writes = new Map(r.history.writes.map((w) => [w.id, w]));
  for (const read of r.history.reads) {
    const view = words(read.data);
    for (let at = 0; at + 8 <= read.data.length; at += 8) {
      const fileOffset = read.offset + at;
      const id = wordWriter(view, at, fileOffset);
      if (id === 0) continue;
      const w = writes.get(id);
      if (id === -1 || w === undefined || w.path !== read.path || fileOffset < w.offset || fileOffset >= w.offset + w.length || w.invokedAt > read.completedAt) {
        v.add(`a read of ${read.path} at ${read.offset} (t=${read.invokedAt.toFixed(1)}) returned at ${fileOffset} bytes no write put there`);
        break;
      }
    }
  }
  return v.out;
}

// ----- (g) -----

export function checkGcKeepsReferenced(r: RunRecord): Violation[] {
  const v = collector('g');
  for (const d of r.deletions) {
    // Stale replicas are garbage too (¶77–78): only a current replica of a referenced chunk must stay.
    // A replica at the current version that lacks a mutation ordered at that version is stale as
    // well (M8: it made the version bump, but the master never heard so and left it out of the lease).
    const current = r.referenced.get(d.handle);
    if (d.why === 'garbage' && current !== undefined && d.version >= current && !missedMutation(r, d)) v.add(`${d.server} deleted its replica of chunk ${hex(d.handle)} (v${d.version}, current) as garbage at t=${d.at.toFixed(1)}, but a file references it`);
  }
  return v.out;
}

/** Whether a primary ordered a mutation of the deleted replica's chunk at its version, before the deletion, that this replica neither ordered nor applied. */
function missedMutation(r: RunRecord, d: RunRecord['deletions'][number]): boolean {
  const mine = new Set([...r.acts, ...r.applied].filter((a) => a.server === d.server && a.handle === d.handle && a.version === d.version).map((a) => a.serial));
  return r.acts.some((a) => a.handle === d.handle && a.version === d.version && a.at < d.at && a.server !== d.server && !mine.has(a.serial));
}

// ----- (h) -----

export function checkRecovery(r: RunRecord): Violation[] {
  const v = collector('h');
  for (const p of r.recoveries) {
    if (p.readyAt === undefined) {
      v.add(`the master restarted at t=${p.restartedAt.toFixed(1)} never served again`);
      continue;
    }
    // Data files: every chunk an acknowledged write or append landed in before the crash.
    const need = new Map<string, number>();
    for (const w of r.history.writes) {
      if (w.status === 'ok' && (w.completedAt as number) < p.crashedAt) need.set(w.path, Math.max(need.get(w.path) ?? 0, Math.floor((w.offset + w.length - 1) / r.chunkSizeBytes) + 1));
    }
    for (const a of r.history.appends) {
      if (a.status === 'ok' && (a.completedAt as number) < p.crashedAt) need.set(a.path, Math.max(need.get(a.path) ?? 0, Math.floor((a.offset as number) / r.chunkSizeBytes) + 1));
    }
    for (const [path, n] of need) {
      const got = p.chunks.get(path);
      if (got === undefined) continue; // the recovered master did not answer for it
      if (got === 'gone') v.add(`after the restart at t=${p.restartedAt.toFixed(1)}, ${path} (acknowledged writes before the crash) is gone`);
      else if (got < n) v.add(`after the restart at t=${p.restartedAt.toFixed(1)}, ${path} has ${got} chunks; acknowledged writes before the crash reached chunk ${n - 1}`);
    }
  }
  return v.out;
}

// ----- (i) -----

/**
 * Only for scenarios that set a bound (`appendBoundMs`: at most one chunkserver down at a time, no
 * other fault): every record append that completed succeeded, within the bound. An append still
 * running when the run ended is checked against the time the run ended.
 */
export function checkAppendsKeepGoing(r: RunRecord): Violation[] {
  const v = collector('i');
  const bound = r.appendBoundMs;
  if (bound === undefined) return v.out;
  for (const a of r.history.appends) {
    const took = (a.completedAt ?? r.simulatedMs) - a.invokedAt;
    if (a.status === 'fail') v.add(`record ${a.writer}:${a.seq} (invoked at t=${a.invokedAt.toFixed(1)}) failed after ${took.toFixed(0)} ms`);
    else if (took > bound) v.add(`record ${a.writer}:${a.seq} (invoked at t=${a.invokedAt.toFixed(1)}) took ${took.toFixed(0)} ms, over the bound of ${bound} ms`);
  }
  return v.out;
}

export interface CheckResult {
  readonly violations: readonly Violation[];
  /** Checks run per checker (assertions made), for the report. */
  readonly checks: Record<CheckerName, number>;
}

export function checkAll(r: RunRecord): CheckResult {
  const ns = checkNamespace(r);
  const violations = [...checkAppends(r), ...checkDefined(r), ...ns.violations, ...checkOnePrimary(r), ...checkConverged(r), ...checkNoCorruptRead(r), ...checkGcKeepsReferenced(r), ...checkRecovery(r), ...checkAppendsKeepGoing(r)];
  const replicas = [...r.files.values()].flat().reduce((n, c) => n + c.replicas.length, 0);
  return {
    violations,
    checks: {
      a: r.history.appends.filter((a) => a.status === 'ok').length + r.reader.length,
      b: r.history.writes.length + r.history.snapshots.length,
      c: ns.opsChecked,
      d: r.acts.length,
      e: 1 + replicas,
      f: r.history.reads.length,
      g: r.deletions.length,
      h: r.recoveries.length,
      i: r.appendBoundMs === undefined ? 0 : r.history.appends.length,
    },
  };
}

export function formatViolations(vs: readonly Violation[]): string {
  return formatSuiteViolations(vs, CHECKERS);
}
