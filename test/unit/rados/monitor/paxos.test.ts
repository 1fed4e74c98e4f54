/**
 * The monitor's pure core (paxos.ts) driven directly: no actors, no disks, no timers. A tiny
 * in-memory network delivers the effects; a record counts as durable as soon as it is emitted
 * (the actor shell makes that true by holding later effects back, P3).
 */
import { describe, expect, it } from 'vitest';
import { MonitorCore, type Effect, type MonRecord } from '../../../../src/actors/rados/monitor/paxos.js';
import { defaultMonitorConfig, commitWaitAfterVictoryMs } from '../../../../src/actors/rados/monitor/config.js';
import { kvService, type KvCmd, type KvInc, type KvState } from '../../../../src/actors/rados/monitor/kv-service.js';
import type { ReplyHandle } from '../../../../src/runtime/behavior.js';
import type { PeerMsg } from '../../../../src/actors/rados/monitor/protocol.js';

type Core = MonitorCore<KvState, KvCmd, KvInc>;
const cfg = defaultMonitorConfig;
/** All three stand at once at startup and split the votes; the lowest rank's timeout runs out first and it wins the next epoch. */
const STARTUP_MS = 5_000;

class Net {
  readonly cores: Core[];
  readonly down = new Set<number>();
  readonly records: MonRecord<KvState, KvInc>[][];
  readonly replies: { handle: ReplyHandle; value: unknown }[] = [];
  readonly inflight: { from: number; to: number; msg: PeerMsg<KvState, KvInc> }[] = [];
  now = 0;

  constructor(n: number) {
    this.cores = Array.from({ length: n }, (_, r) => new MonitorCore(kvService, cfg, r, n));
    this.records = this.cores.map(() => []);
  }

  apply(rank: number, effects: readonly Effect<KvState, KvInc>[]): void {
    for (const e of effects) {
      if (e.k === 'persist') {
        this.records[rank]!.push(e.rec);
        if (e.onDurable !== undefined) this.apply(rank, this.cores[rank]!.durable(e.onDurable, this.now));
      } else if (e.k === 'send') this.inflight.push({ from: rank, to: e.to, msg: e.msg });
      else if (e.k === 'reply') this.replies.push({ handle: e.handle, value: e.value });
    }
  }

  /** Delivers messages until none is left (messages to or from a down monitor are lost). */
  settle(filter: (m: { from: number; to: number; msg: PeerMsg<KvState, KvInc> }) => boolean = () => true): void {
    for (let i = 0; i < 100_000 && this.inflight.length > 0; i++) {
      const m = this.inflight.shift()!;
      if (this.down.has(m.to) || this.down.has(m.from) || !filter(m)) continue;
      this.apply(m.to, this.cores[m.to]!.receive(m.msg, this.now));
    }
  }

  tick(ms: number): void {
    const end = this.now + ms;
    while (this.now < end) {
      this.now += cfg.tickIntervalMs;
      this.cores.forEach((c, r) => !this.down.has(r) && this.apply(r, c.tick(this.now)));
      this.settle();
    }
  }

  start(): void {
    this.cores.forEach((c, r) => this.apply(r, c.start(this.now)));
    this.settle();
  }

  submit(rank: number, cmd: KvCmd, corr: number): void {
    this.apply(rank, this.cores[rank]!.submit(cmd, { to: { node: 'client', id: 'c' }, corr }, this.now));
  }
}

describe('monitor core: elections (thesis §6.2.4)', () => {
  it('at startup the lowest rank wins with every monitor in its quorum, in an even epoch (after a split vote, the lowest rank calls the next election first)', () => {
    const net = new Net(3);
    net.start();
    net.tick(STARTUP_MS);
    expect(net.cores.map((c) => c.role)).toEqual(['leader', 'peon', 'peon']);
    expect(net.cores[0]!.quorum).toEqual([0, 1, 2]);
    expect(net.cores[0]!.electionEpoch % 2).toBe(0);
    expect(net.cores.every((c) => c.electionEpoch === net.cores[0]!.electionEpoch)).toBe(true);
    // Every vote was logged before it was sent (one vote per epoch across restarts, P7).
    expect(net.records[1]!.some((r) => r.t === 'vote')).toBe(true);
  });

  it('with the leader gone, the peons elect the next rank once their lease lapses', () => {
    const net = new Net(3);
    net.start();
    net.tick(STARTUP_MS);
    net.down.add(0);
    net.tick(15_000);
    expect(net.cores[1]!.role).toBe('leader');
    expect(net.cores[1]!.quorum).toEqual([1, 2]);
    expect(net.cores[2]!.leader).toBe(1);
  });

  it('a monitor outside any quorum answers commands with no_quorum', () => {
    const net = new Net(3);
    net.apply(2, net.cores[2]!.start(0));
    net.inflight.length = 0;
    net.submit(2, { op: 'set', key: 'a', value: '1' }, 7);
    expect(net.replies.at(-1)?.value).toMatchObject({ ok: false, error: { code: 'no_quorum' } });
  });
});

describe('monitor core: Paxos (P1–P3)', () => {
  it('commands queued during a round go out together as one version (batching with compose)', () => {
    const net = new Net(3);
    net.start();
    net.tick(STARTUP_MS);
    for (let i = 0; i < 5; i++) net.submit(0, { op: 'set', key: `k${i}`, value: `${i}` }, i + 1);
    // The first command went out alone; the other four queued behind it.
    net.settle();
    expect(net.cores[0]!.lastCommitted).toBe(2);
    expect(net.cores.map((c) => c.state.entries)).toEqual(Array(3).fill({ k0: '0', k1: '1', k2: '2', k3: '3', k4: '4' }));
    expect(net.replies.filter((r) => (r.value as { ok: boolean }).ok)).toHaveLength(5);
  });

  it('a peon logs its accept before it sends it, and revokes its lease first (P3, P6)', () => {
    const net = new Net(3);
    net.start();
    net.tick(STARTUP_MS);
    expect(net.cores[1]!.readable(net.now)).toBe(true);
    const begin = { type: 'rados.mon.begin', from: 0, epoch: net.cores[1]!.electionEpoch, pn: net.cores[1]!.promisedPn, version: 1, inc: { epoch: 1, set: { a: '1' }, del: [] } } as const;
    const out = net.cores[1]!.receive(begin, net.now);
    expect(out.map((e) => (e.k === 'send' ? e.msg.type : e.k))).toEqual(['rados.mon.revoked', 'persist', 'rados.mon.accept']);
    expect(net.cores[1]!.readable(net.now)).toBe(false);
    expect(net.cores[1]!.read(net.now)).toMatchObject({ ok: false, error: { code: 'lease_expired' } });
  });

  it('a new leader recovers a value a majority accepted and commits it before any new command (P1)', () => {
    const net = new Net(3);
    net.start();
    net.tick(STARTUP_MS);
    // Monitor 0 proposes; only monitor 1 receives the begin, then monitor 0 dies.
    net.submit(0, { op: 'set', key: 'x', value: 'from-0' }, 1);
    net.settle((m) => m.to === 1 && m.msg.type === 'rados.mon.begin');
    net.inflight.length = 0;
    net.down.add(0);
    expect(net.cores[1]!.lastCommitted).toBe(0);
    net.tick(20_000);
    expect(net.cores[1]!.role).toBe('leader');
    net.submit(1, { op: 'set', key: 'x', value: 'from-1' }, 2);
    net.tick(commitWaitAfterVictoryMs(cfg) + 1_000);
    // Version 1 is the recovered value; the new command is version 2.
    const commits = net.records[2]!.filter((r): r is Extract<MonRecord<KvState, KvInc>, { t: 'commit' }> => r.t === 'commit');
    expect(commits.map((c) => [c.version, (c.inc as KvInc).set['x']])).toEqual([
      [1, 'from-0'],
      [2, 'from-1'],
    ]);
  });

  it('a new leader with part of the monitors waits out old leases before its first commit (P6)', () => {
    const net = new Net(3);
    net.start();
    net.tick(STARTUP_MS);
    net.down.add(0);
    const leader = net.cores[1]!;
    while (leader.role !== 'leader' && net.now < 60_000) net.tick(cfg.tickIntervalMs);
    expect(leader.role).toBe('leader');
    const wonAt = net.now;
    net.submit(1, { op: 'set', key: 'a', value: '1' }, 1);
    net.settle();
    expect(leader.lastCommitted).toBe(0);
    while (leader.lastCommitted === 0 && net.now < 60_000) net.tick(cfg.tickIntervalMs);
    expect(leader.lastCommitted).toBe(1);
    expect(net.now - wonAt).toBeGreaterThanOrEqual(commitWaitAfterVictoryMs(cfg));
  });

  it('a collect refused for a higher promise is retried above it', () => {
    const net = new Net(3);
    net.start();
    net.tick(STARTUP_MS);
    const epoch = net.cores[1]!.electionEpoch;
    // Monitor 2 has promised a number above anything monitor 1 would pick.
    net.apply(2, net.cores[2]!.receive({ type: 'rados.mon.collect', from: 0, epoch, pn: 10_000, lastCommitted: 0 }, net.now));
    net.inflight.length = 0;
    net.down.add(0);
    net.tick(20_000);
    expect(net.cores[1]!.role).toBe('leader');
    expect(net.cores[1]!.promisedPn).toBeGreaterThan(10_000);
    net.submit(1, { op: 'set', key: 'a', value: '1' }, 1);
    net.tick(commitWaitAfterVictoryMs(cfg) + 1_000);
    expect(net.cores[2]!.lastCommitted).toBe(1);
  });
});

describe('monitor core: durability (P4, P5)', () => {
  it('a core rebuilt from its checkpoint, or from its records, has the same versions and state', () => {
    const net = new Net(1);
    net.start();
    for (let i = 0; i < 30; i++) net.submit(0, { op: 'set', key: `k${i % 4}`, value: `${i}` }, i + 1);
    net.settle();
    net.tick(200);
    const core = net.cores[0]!;
    const fromCheckpoint = new MonitorCore(kvService, cfg, 0, 1, core.checkpoint());
    expect([fromCheckpoint.lastCommitted, fromCheckpoint.state]).toEqual([core.lastCommitted, core.state]);
    const fromLog = new MonitorCore(kvService, cfg, 0, 1);
    for (const r of net.records[0]!) fromLog.replay(r);
    expect([fromLog.lastCommitted, fromLog.state, fromLog.promisedPn]).toEqual([core.lastCommitted, core.state, core.promisedPn]);
  });

  it('the history is trimmed into a snapshot; a peer behind it gets the snapshot', () => {
    const small = { ...cfg, historyVersionsMax: 5, historyTrimSlackVersions: 0 };
    const core = new MonitorCore(kvService, small, 0, 1);
    const out: Effect[] = [...core.start(0)];
    for (let i = 0; i < 12; i++) {
      out.push(...core.submit({ op: 'set', key: 'k', value: `${i}` }, undefined, 0));
      for (const e of out.splice(0)) if (e.k === 'persist' && e.onDurable !== undefined) out.push(...core.durable(e.onDurable, 0));
    }
    expect(core.lastCommitted).toBe(12);
    expect(core.firstCommitted).toBe(8);
    expect(core.shareSince(2, 100)).toEqual({ snapshot: { version: 12, state: core.state }, incs: [] });
    expect(core.shareSince(9, 100).incs.map(([v]) => v)).toEqual([10, 11, 12]);
  });
});
