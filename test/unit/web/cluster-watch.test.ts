import { describe, expect, it } from 'vitest';
import type { ClusterStatus, ServerStatus } from '../../../src/actors/gfs/protocol.js';
import { ClusterWatch, EVENT_TEXT_CHARS_MAX, EVENTS_MAX, HISTORY_SAMPLES_MAX, Ring } from '../../../src/web/cluster-watch.js';

const server = (id: string, alive = true, extra: Partial<ServerStatus> = {}): ServerStatus => ({
  server: id,
  rack: `rack${Number(id.slice(2)) % 2}`,
  host: 'h',
  alive,
  decommission: 'none',
  chunks: 0,
  usedBytes: 0,
  capacityBytes: 100,
  leases: 0,
  recentCreations: 0,
  ...extra,
});

const status = (servers: ServerStatus[], extra: Partial<ClusterStatus> = {}): ClusterStatus => ({
  role: 'primary',
  master: 'master@troupe',
  lsn: 0,
  files: 0,
  directories: 1,
  chunks: 0,
  underReplicated: 0,
  missing: 0,
  leases: 0,
  clonesInFlight: 0,
  servers,
  ...extra,
});

const texts = (w: ClusterWatch): string[] => w.events.toArray().map((e) => e.text);

describe('dashboard events derived from master status changes', () => {
  it('takes the events only the master saw (corrupt replicas, revoked leases) once each, and starts over when the master restarts', () => {
    const w = new ClusterWatch();
    const ev = (seq: number, text: string, level: 'info' | 'warn' = 'info') => ({ seq, time: seq, level, text });
    w.observe(1, status([server('cs0')], { incarnation: 'a', events: [ev(1, 'corrupt replica of chunk 10000 on cs0', 'warn')] }));
    w.observe(2, status([server('cs0')], { incarnation: 'a', events: [ev(1, 'corrupt replica of chunk 10000 on cs0', 'warn'), ev(2, '3 lease(s) revoked for the snapshot of /a')] }));
    w.observe(3, status([server('cs0')], { incarnation: 'a', events: [ev(2, '3 lease(s) revoked for the snapshot of /a')] }));
    w.observe(4, status([server('cs0')], { incarnation: 'b', events: [ev(1, 'cs0 still holds 1 lease(s) granted before the master restarted: adopted, its writes go on')] }));
    expect(texts(w).filter((t) => !t.startsWith('chunkserver'))).toEqual([
      'corrupt replica of chunk 10000 on cs0',
      '3 lease(s) revoked for the snapshot of /a',
      'master master@troupe restarted',
      'cs0 still holds 1 lease(s) granted before the master restarted: adopted, its writes go on',
    ]);
    expect(w.events.toArray().find((e) => e.text.startsWith('corrupt'))?.level).toBe('warn');
  });

  it('reports a chunkserver that joins, goes down and comes back, once each', () => {
    const w = new ClusterWatch();
    w.observe(1, status([server('cs0')]));
    w.observe(2, status([server('cs0'), server('cs1')]));
    w.observe(3, status([server('cs0'), server('cs1', false)]));
    w.observe(4, status([server('cs0'), server('cs1', false)]));
    w.observe(5, status([server('cs0'), server('cs1')]));
    expect(texts(w)).toEqual([
      'chunkserver cs0 (rack0) known to the master',
      'chunkserver cs1 (rack1) joined',
      'chunkserver cs1 (rack1) is down: no heartbeat within the timeout',
      'chunkserver cs1 (rack1) is back up',
    ]);
    expect(w.events.toArray()[2]?.level).toBe('warn');
  });

  it('follows a re-replication episode: start, progress in 10% steps, completion', () => {
    const w = new ClusterWatch();
    const s = [server('cs0')];
    w.observe(0, status(s));
    expect(w.progress()).toBeUndefined();
    w.observe(1, status(s, { underReplicated: 10, clonesInFlight: 2 }));
    expect(w.progress()).toBe(0);
    w.observe(2, status(s, { underReplicated: 9 }));
    w.observe(3, status(s, { underReplicated: 9 }));
    w.observe(4, status(s, { underReplicated: 5 }));
    expect(w.progress()).toBeCloseTo(0.5);
    w.observe(5, status(s, { underReplicated: 0 }));
    expect(w.progress()).toBeUndefined();
    expect(texts(w).slice(1)).toEqual([
      '10 chunk(s) under-replicated; re-replication started',
      're-replication: 9 of 10 chunk(s) left',
      're-replication: 5 of 10 chunk(s) left',
      're-replication complete (10 chunk(s) restored)',
    ]);
    expect(w.history.toArray().map((h) => h.underReplicated)).toEqual([0, 10, 9, 9, 5, 0]);
  });

  it('reports chunks without a live replica, and their recovery', () => {
    const w = new ClusterWatch();
    w.observe(0, status([server('cs0')]));
    w.observe(1, status([server('cs0', false)], { missing: 3, underReplicated: 3 }));
    w.observe(2, status([server('cs0')]));
    expect(texts(w)).toContain('3 chunk(s) have no live replica');
    expect(texts(w)).toContain('every chunk has a live replica again');
  });

  it('reports a master outage once, and its end', () => {
    const w = new ClusterWatch();
    w.observe(0, status([]));
    w.observeError(1, 'ask timed out');
    w.observeError(2, 'ask timed out');
    expect(w.lastError).toBe('ask timed out');
    w.observe(3, status([]));
    expect(w.lastError).toBeUndefined();
    expect(texts(w)).toEqual(['master unreachable: ask timed out', 'master master@troupe reachable again']);
  });

  it('keeps its event list and history bounded', () => {
    const w = new ClusterWatch();
    for (let i = 0; i < 2 * Math.max(EVENTS_MAX, HISTORY_SAMPLES_MAX); i++) w.observe(i, status([server('cs0', i % 2 === 0)]));
    expect(w.events.length).toBe(EVENTS_MAX);
    expect(w.history.length).toBe(HISTORY_SAMPLES_MAX);
    const r = new Ring<number>(3);
    for (let i = 0; i < 5; i++) r.push(i);
    expect(r.toArray()).toEqual([2, 3, 4]);
    expect(r.toArray(2)).toEqual([3, 4]);
    expect(() => new Ring(0)).toThrow(RangeError);
    w.note(0, 'error', 'x'.repeat(10 * EVENT_TEXT_CHARS_MAX));
    expect(w.events.toArray().at(-1)?.text.length).toBe(EVENT_TEXT_CHARS_MAX);
  });
});
