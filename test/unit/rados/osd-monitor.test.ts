import { describe, expect, it } from 'vitest';
import { osdMapConfig } from '../../../src/actors/rados/config.js';
import { bootstrapOsdMap, commit } from '../../../src/actors/rados/osdmap/bootstrap.js';
import { FailureReportBatcher, FailureTracker } from '../../../src/actors/rados/osdmap/failure-tracker.js';
import { PeerEpochs, selfState } from '../../../src/actors/rados/osdmap/lazy-sharing.js';
import { appendHistory, applyBundle, mapBundleFor, recentHistory } from '../../../src/actors/rados/osdmap/map-history.js';
import { applyIncremental } from '../../../src/actors/rados/osdmap/osd-map.js';
import type { OsdMap, OsdMapIncremental } from '../../../src/actors/rados/osdmap/osd-map.js';
import { downOutCommands, prepareOsdMapCommand } from '../../../src/actors/rados/osdmap/service.js';
import type { FailedPeer, OsdFailureReport, OsdMonCommand } from '../../../src/actors/rados/protocol.js';

const cfg = osdMapConfig({ failureReportersMin: 2, failureReportWindowMs: 20_000, failureReportsTrackedMax: 8 });

function cluster(osds = 8): { map: OsdMap; history: OsdMapIncremental[] } {
  return bootstrapOsdMap({ osds, osdsPerHost: 2, hostsPerRack: 2, pools: [{ name: 'rbd', pgNum: 16, size: 2 }] });
}

const report = (map: OsdMap, reporter: number, failed: number[], alive: number[] = []): OsdFailureReport => ({
  type: 'rados.mon.osdFailure',
  epoch: map.epoch,
  reporter,
  failed: failed.map((osd): FailedPeer => ({ osd, failedForMs: 5_000 })),
  alive,
});

/** Commits a command through the service (as the monitor would), returning the new map. */
const run = (map: OsdMap, cmd: OsdMonCommand, now: number): OsdMap => commit(map, cmd, now, cfg).map;

describe('failure reports need distinct reporters within a window (thesis §6.2.4; digest §3.4; README R12)', () => {
  it('one reporter is not enough; a second distinct one marks the OSD down', () => {
    const { map } = cluster();
    const t = new FailureTracker(cfg);
    expect(t.report(map, report(map, 1, [5]), 100).command).toBeNull();
    expect(t.report(map, report(map, 1, [5]), 200).command).toBeNull(); // the same reporter again
    expect(t.reportersOf(5)).toEqual([1]);
    const d = t.report(map, report(map, 2, [5]), 300);
    expect(d.command).toEqual({ type: 'rados.mon.osdMarkDown', osds: [5], reason: 'failure' });
    expect(t.size).toBe(0);
    const down = run(map, d.command as OsdMonCommand, 300);
    expect(down.osds[5]).toMatchObject({ up: false, downSinceMs: 300 });
    expect(down.epoch).toBe(map.epoch + 1);
  });

  it('reports older than the window are forgotten', () => {
    const { map } = cluster();
    const t = new FailureTracker(cfg);
    t.report(map, report(map, 1, [5]), 0);
    expect(t.report(map, report(map, 2, [5]), 20_001).command).toBeNull();
    expect(t.reportersOf(5)).toEqual([2]);
  });

  it('a known failure, a down reporter, a self report, a stale report and an unknown OSD do not count', () => {
    const { map } = cluster();
    const down = run(map, { type: 'rados.mon.osdMarkDown', osds: [3], reason: 'admin' }, 1);
    const t = new FailureTracker(cfg);
    expect(t.report(down, report(down, 1, [3]), 2).ignored).toEqual([{ osd: 3, reason: 'already_down' }]);
    expect(t.report(down, report(down, 3, [4]), 2).ignored).toEqual([{ osd: 4, reason: 'reporter_down' }]);
    expect(t.report(down, report(down, 1, [1]), 2).ignored).toEqual([{ osd: 1, reason: 'self_report' }]);
    expect(t.report(down, report(down, 1, [99]), 2).ignored).toEqual([{ osd: 99, reason: 'unknown_osd' }]);
    // osd.3 reboots; a report sent at an epoch before it came back is about its old incarnation.
    const back = run(down, { type: 'rados.mon.osdBoot', osd: 3, addr: 'osd.3/b', epoch: down.epoch }, 3);
    expect(t.report(back, { ...report(back, 1, [3]), epoch: down.epoch }, 4).ignored).toEqual([{ osd: 3, reason: 'stale' }]);
    expect(t.size).toBe(0);
  });

  it('a reporter that hears from the OSD again withdraws its report', () => {
    const { map } = cluster();
    const t = new FailureTracker(cfg);
    t.report(map, report(map, 1, [5]), 0);
    t.report(map, report(map, 1, [], [5]), 10);
    expect(t.report(map, report(map, 2, [5]), 20).command).toBeNull();
    expect(t.reportersOf(5)).toEqual([2]);
  });

  it('the table is bounded: reports beyond failureReportsTrackedMax are refused until others go', () => {
    const { map } = bootstrapOsdMap({ osds: 12, osdsPerHost: 2, hostsPerRack: 2 });
    const t = new FailureTracker(cfg);
    for (let r = 0; r < 8; r++) t.report(map, report(map, 11 - (r % 2), [r]), 0);
    expect(t.size).toBe(8);
    expect(t.report(map, report(map, 11, [8]), 1).ignored).toEqual([{ osd: 8, reason: 'tracker_full' }]);
    t.prune(map, 30_000);
    expect(t.size).toBe(0);
  });

  it('in a cluster with fewer other up OSDs than failureReportersMin, all of them suffice', () => {
    const { map } = bootstrapOsdMap({ osds: 2, osdsPerHost: 1, hostsPerRack: 2 });
    const t = new FailureTracker(cfg);
    expect(t.report(map, report(map, 0, [1]), 0).command).toMatchObject({ osds: [1] });
  });
});

describe('OSDs batch and throttle failure reports (thesis §6.2.4; README R13)', () => {
  const bcfg = osdMapConfig({ failureReportIntervalMs: 1_000, failureReportTargetsMax: 2, failureReportQueueMax: 3 });

  it('at most one message per interval, at most failureReportTargetsMax targets each, repeated until a map acknowledges them', () => {
    const { map } = cluster();
    const b = new FailureReportBatcher(bcfg);
    expect(b.take(0, map.epoch, 0)).toBeNull();
    for (const osd of [3, 4, 5, 6]) b.peerFailed(osd, 0); // the queue keeps 3
    const first = b.take(0, map.epoch, 5_000);
    expect(first?.failed).toEqual([{ osd: 3, failedForMs: 5_000 }, { osd: 4, failedForMs: 5_000 }]);
    expect(b.take(0, map.epoch, 5_500)).toBeNull(); // throttled
    const down = run(map, { type: 'rados.mon.osdMarkDown', osds: [3], reason: 'failure' }, 5_600);
    b.onMap(down);
    b.peerAlive(4);
    const second = b.take(0, down.epoch, 6_000);
    expect(second).toMatchObject({ epoch: down.epoch, failed: [{ osd: 5, failedForMs: 6_000 }], alive: [4] });
  });
});

describe('down → out after an interval (digest §3.3; Ceph mon_osd_down_out_interval)', () => {
  it('marks an OSD out once it has been down downOutIntervalMs, and only then', () => {
    const { map } = cluster();
    const down = run(map, { type: 'rados.mon.osdMarkDown', osds: [2, 6], reason: 'failure' }, 1_000);
    const c = osdMapConfig({ downOutIntervalMs: 600_000 });
    expect(downOutCommands(down, 600_999, c)).toEqual([]);
    const cmds = downOutCommands(down, 601_000, c);
    expect(cmds).toEqual([{ type: 'rados.mon.osdMarkOut', osds: [2, 6], reason: 'down_out' }]);
    const out = run(down, cmds[0] as OsdMonCommand, 601_000);
    expect(out.osds[2]).toMatchObject({ up: false, in: false });
    expect(downOutCommands(out, 10_000_000, c)).toEqual([]);
    expect(downOutCommands(map, 10_000_000, c)).toEqual([]); // up OSDs never
  });

  it('an OSD that comes back before the interval is not marked out', () => {
    const { map } = cluster();
    const down = run(map, { type: 'rados.mon.osdMarkDown', osds: [2], reason: 'failure' }, 0);
    const up = run(down, { type: 'rados.mon.osdBoot', osd: 2, addr: 'osd.2', epoch: down.epoch }, 10);
    expect(downOutCommands(up, 700_000)).toEqual([]);
  });
});

describe('boot (thesis §6.2.5; digest §3.5)', () => {
  it('a booting OSD is marked up at its address in a new epoch and gets exactly the incrementals it lacks', () => {
    const { map, history } = cluster();
    const down = run(map, { type: 'rados.mon.osdMarkDown', osds: [4], reason: 'failure' }, 1);
    const hist = [...history, { from: map.epoch, epoch: down.epoch, modifiedMs: 1, osds: [{ id: 4, up: false, downSinceMs: 1 }] }];
    expect(applyIncremental(map, hist[hist.length - 1] as OsdMapIncremental)).toEqual({ ok: true, value: down });
    const p = prepareOsdMapCommand(down, { type: 'rados.mon.osdBoot', osd: 4, addr: 'osd.4/2', epoch: 5 }, 2, cfg);
    if (!p.ok) throw new Error(p.error.message);
    const up = applyIncremental(down, p.inc);
    if (!up.ok) throw new Error(up.error.message);
    expect(up.value.osds[4]).toMatchObject({ up: true, addr: 'osd.4/2', upFrom: down.epoch + 1, downSinceMs: null });
    const full = [...hist, p.inc];
    const bundle = mapBundleFor(full, up.value, 5);
    expect(bundle.kind).toBe('incrementals');
    if (bundle.kind !== 'incrementals') return;
    expect(bundle.incrementals.map((i) => i.from)).toEqual(full.slice(5).map((i) => i.from));
    const osdMap5 = bootstrapOsdMap({ osds: 8, osdsPerHost: 2, hostsPerRack: 2, pools: [{ name: 'rbd', pgNum: 16, size: 2 }] });
    let m5 = osdMap5.history.slice(0, 5).reduce<OsdMap>((m, inc) => (applyIncremental(m, inc) as { value: OsdMap }).value, { epoch: 0, modifiedMs: 0, crush: '', osds: [], pools: [], poolIdMax: 0 });
    expect(m5.epoch).toBe(5);
    m5 = (applyBundle(m5, bundle) as { value: OsdMap }).value;
    expect(m5).toEqual(up.value);
  });

  it('a bundle is the full map when the gap is older than the history or larger than the message limit, and nothing when current', () => {
    const { map, history } = cluster();
    expect(mapBundleFor(history, map, map.epoch)).toEqual({ kind: 'none' });
    expect(mapBundleFor(history, map, 0)).toEqual({ kind: 'full', map });
    const trimmed = history.slice(6);
    expect(mapBundleFor(trimmed, map, 3)).toEqual({ kind: 'full', map });
    expect(mapBundleFor(trimmed, map, 6).kind).toBe('incrementals');
    expect(mapBundleFor(history, map, 2, 3)).toEqual({ kind: 'full', map });
  });

  it('a party never goes back: an older full map or already-applied incrementals change nothing; a gap is refused', () => {
    const { map, history } = cluster();
    const older = history.slice(0, 4).reduce<OsdMap>((m, inc) => (applyIncremental(m, inc) as { value: OsdMap }).value, { epoch: 0, modifiedMs: 0, crush: '', osds: [], pools: [], poolIdMax: 0 });
    expect(applyBundle(map, { kind: 'full', map: older })).toEqual({ ok: true, value: map });
    expect(applyBundle(map, { kind: 'incrementals', incrementals: history })).toEqual({ ok: true, value: map });
    expect(applyBundle(older, { kind: 'incrementals', incrementals: history.slice(6) })).toMatchObject({ ok: false, error: { code: 'epoch_mismatch' } });
    expect(applyBundle(older, { kind: 'full', map: { ...map, osds: 'x' } as unknown as OsdMap })).toMatchObject({ ok: false, error: { code: 'malformed_map' } });
  });

  it('a new OSD is marked in at its first boot; a known OSD rebooting keeps its in/out state', () => {
    const { map } = bootstrapOsdMap({ osds: 4, osdsPerHost: 2, hostsPerRack: 2, boot: false });
    expect(map.osds.every((o) => !o.up && !o.in)).toBe(true);
    const up = run(map, { type: 'rados.mon.osdBoot', osd: 1, addr: 'a', epoch: 0 }, 1);
    expect(up.osds[1]).toMatchObject({ up: true, in: true, addr: 'a', upFrom: up.epoch });
    const out = run(up, { type: 'rados.mon.osdMarkOut', osds: [1], reason: 'admin' }, 2);
    const down = run(out, { type: 'rados.mon.osdMarkDown', osds: [1], reason: 'admin' }, 3);
    const again = run(down, { type: 'rados.mon.osdBoot', osd: 1, addr: 'a', epoch: down.epoch }, 4);
    expect(again.osds[1]).toMatchObject({ up: true, in: false, upFrom: again.epoch });
  });

  it('an OSD that finds itself marked down while alive asks to be marked up again, and is', () => {
    const { map } = cluster();
    expect(selfState(map, 3, 'osd.3')).toBe('up');
    const down = run(map, { type: 'rados.mon.osdMarkDown', osds: [3], reason: 'failure' }, 1);
    expect(selfState(down, 3, 'osd.3')).toBe('marked_down');
    expect(selfState(down, 42, 'osd.42')).toBe('unknown');
    const back = run(down, { type: 'rados.mon.osdBoot', osd: 3, addr: 'osd.3', epoch: down.epoch }, 2);
    expect(selfState(back, 3, 'osd.3')).toBe('up');
    expect(prepareOsdMapCommand(back, { type: 'rados.mon.osdBoot', osd: 3, addr: 'osd.3', epoch: back.epoch }, 3)).toMatchObject({ ok: false, error: { code: 'no_change' } });
    // Restarted at a new address before being marked down: a new incarnation, and the old address is no longer it.
    const moved = run(back, { type: 'rados.mon.osdBoot', osd: 3, addr: 'osd.3/new', epoch: back.epoch }, 4);
    expect(moved.osds[3]).toMatchObject({ up: true, addr: 'osd.3/new', upFrom: moved.epoch });
    expect(selfState(moved, 3, 'osd.3')).toBe('marked_down');
  });

  it('a booting OSD shares at least the last 30 s of incrementals (thesis §6.2.5)', () => {
    const incs: OsdMapIncremental[] = [];
    for (let e = 1; e <= 10; e++) incs.push({ from: e - 1, epoch: e, modifiedMs: e * 10_000 });
    expect(recentHistory(incs, 100_000).map((i) => i.epoch)).toEqual([6, 7, 8, 9, 10]);
    expect(recentHistory(incs, 1_000_000).map((i) => i.epoch)).toEqual([10]);
    expect(recentHistory(incs, 100_000, { bootShareHistoryMs: 30_000, incrementalsPerMessageMax: 2 }).map((i) => i.epoch)).toEqual([9, 10]);
  });

  it('the history log is bounded and consecutive', () => {
    let h: OsdMapIncremental[] = [];
    for (let e = 1; e <= 5; e++) h = appendHistory(h, { from: e - 1, epoch: e, modifiedMs: e }, 3);
    expect(h.map((i) => i.epoch)).toEqual([3, 4, 5]);
    expect(() => appendHistory(h, { from: 9, epoch: 10, modifiedMs: 0 }, 3)).toThrow(RangeError);
  });
});

describe('lazy map sharing decisions (thesis §6.2.5; digest §3.5; README R9–R11)', () => {
  it('a message showing an older epoch is answered with the incrementals after it; then the peer is believed current', () => {
    const p = new PeerEpochs<number>(16);
    expect(p.onReceive(7, 5, 9)).toEqual({ kind: 'since', since: 5 });
    expect(p.onSend(7, 9)).toEqual({ kind: 'none' });
    expect(p.onReceive(7, 9, 9)).toEqual({ kind: 'none' });
    expect(p.onReceive(7, 12, 9)).toEqual({ kind: 'none' }); // the peer is ahead: we learn from it instead
    expect(p.epochOf(7)).toBe(12);
  });

  it('contacting a peer believed behind shares pre-emptively; an unknown peer gets the recent history', () => {
    const p = new PeerEpochs<number>(16);
    expect(p.onSend(3, 4)).toEqual({ kind: 'recent' });
    expect(p.onSend(3, 4)).toEqual({ kind: 'none' });
    expect(p.onSend(3, 6)).toEqual({ kind: 'since', since: 4 });
    expect(p.epochOf(3)).toBe(6);
  });

  it('tracks at most maxTracked peers, forgetting the least recently raised', () => {
    const p = new PeerEpochs<number>(2);
    p.onReceive(1, 1, 1);
    p.onReceive(2, 1, 1);
    p.onReceive(1, 2, 2);
    p.onReceive(3, 1, 1);
    expect([p.epochOf(1), p.epochOf(2), p.epochOf(3)]).toEqual([2, undefined, 1]);
    expect(p.size).toBe(2);
  });
});
