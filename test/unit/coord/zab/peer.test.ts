/**
 * The Zab peer's state machine driven directly (STYLE.md: pure cores): messages in, effects out,
 * durable writes completed by hand. Names follow the protocol's phases (ZooKeeper review §3, Zab);
 * invariants Z1–Z13 are in src/actors/coord/zab/README.md.
 */
import { describe, expect, it } from 'vitest';
import { zabConfig } from '../../../../src/actors/coord/zab/config.js';
import { compareVotes, ZabPeer, type ZabEffect } from '../../../../src/actors/coord/zab/peer.js';
import type { LogEntry, PeerMsg, ZabTxn } from '../../../../src/actors/coord/zab/protocol.js';
import { makeZxid } from '../../../../src/actors/coord/zab/zxid.js';

const config = zabConfig({ tickMs: 100, committedLogMax: 4 });

function txn(n: number): ZabTxn {
  return { origin: 1, session: 's', cxid: n, body: { n } };
}

function entries(epoch: number, from: number, to: number): LogEntry[] {
  const out: LogEntry[] = [];
  for (let c = from; c <= to; c++) out.push({ zxid: makeZxid(epoch, c), txn: txn(epoch * 1000 + c) });
  return out;
}

/**
 * A little network of peers: messages queue in send order and are delivered one at a time; durable
 * writes complete when `flush` runs (so tests choose when disks answer). Delivered entries are
 * recorded per server.
 */
class Net {
  readonly peers = new Map<number, ZabPeer>();
  readonly queue: Array<{ to: number; msg: PeerMsg }> = [];
  readonly pendingDurable = new Map<number, number>();
  readonly delivered = new Map<number, LogEntry[]>();
  readonly effects = new Map<number, ZabEffect[]>();
  readonly down = new Set<number>();

  add(p: ZabPeer): void {
    this.peers.set(p.id, p);
    this.delivered.set(p.id, []);
    this.effects.set(p.id, []);
  }

  handle(id: number, effects: readonly ZabEffect[]): void {
    for (const e of effects) {
      this.effects.get(id)!.push(e);
      if (e.kind === 'send') this.queue.push({ to: e.to, msg: e.msg });
      else if (e.kind === 'durable') this.pendingDurable.set(id, e.seq);
      else if (e.kind === 'deliver') this.delivered.get(id)!.push(...e.entries);
      else if (e.kind === 'restore') this.delivered.set(id, [{ zxid: e.zxid, txn: { origin: 0, session: 'snapshot', cxid: 0, body: null } }]);
      else if (e.kind === 'sendSnapshot') this.queue.push({ to: e.to, msg: { ...e.msg, snapshot: { zxid: e.zxid, data: new Uint8Array([1]) } } });
    }
  }

  start(): void {
    for (const p of this.peers.values()) this.handle(p.id, p.start());
  }

  /** Delivers messages and completes durable writes until nothing is left. */
  settle(limit = 10_000): void {
    for (let i = 0; i < limit; i++) {
      const m = this.queue.shift();
      if (m !== undefined) {
        if (!this.down.has(m.to) && !this.down.has(m.msg.from)) this.handle(m.to, this.peers.get(m.to)!.receive(m.msg));
        continue;
      }
      if (this.pendingDurable.size === 0) return;
      for (const [id, seq] of [...this.pendingDurable]) {
        this.pendingDurable.delete(id);
        if (!this.down.has(id)) this.handle(id, this.peers.get(id)!.persisted(seq));
      }
    }
    throw new Error('network did not settle');
  }

  tick(n = 1): void {
    for (let i = 0; i < n; i++) {
      for (const p of this.peers.values()) if (!this.down.has(p.id)) this.handle(p.id, p.tick());
      this.settle();
    }
  }

  leader(): ZabPeer | undefined {
    return [...this.peers.values()].find((p) => !this.down.has(p.id) && p.role === 'leading' && p.serving);
  }

  sent(id: number, type: PeerMsg['type']): PeerMsg[] {
    return this.effects
      .get(id)!
      .filter((e): e is Extract<ZabEffect, { kind: 'send' }> => e.kind === 'send' && e.msg.type === type)
      .map((e) => e.msg);
  }
}

function peer(id: number, o: { members?: number[]; accepted?: number; current?: number; snapshotZxid?: number; log?: LogEntry[] } = {}): ZabPeer {
  return new ZabPeer({ id, members: o.members ?? [1, 2, 3], acceptedEpoch: o.accepted ?? 0, currentEpoch: o.current ?? 0, snapshotZxid: o.snapshotZxid ?? 0, entries: o.log ?? [], config });
}

describe('Zab election (Z3)', () => {
  it('votes order by current epoch, then last zxid, then id', () => {
    expect(compareVotes({ leader: 1, epoch: 2, zxid: 0 }, { leader: 3, epoch: 1, zxid: makeZxid(1, 9) })).toBeGreaterThan(0);
    expect(compareVotes({ leader: 1, epoch: 1, zxid: makeZxid(1, 9) }, { leader: 3, epoch: 1, zxid: makeZxid(1, 8) })).toBeGreaterThan(0);
    expect(compareVotes({ leader: 3, epoch: 1, zxid: 5 }, { leader: 1, epoch: 1, zxid: 5 })).toBeGreaterThan(0);
  });

  it('three fresh servers elect the highest id and establish epoch 1', () => {
    const net = new Net();
    for (const id of [1, 2, 3]) net.add(peer(id));
    net.start();
    net.settle();
    // Followers that decided before the leader did repeat their FOLLOWERINFO on the next tick.
    net.tick(2);
    const l = net.leader();
    expect(l?.id).toBe(3);
    expect(l?.servingEpoch).toBe(1);
    for (const id of [1, 2]) {
      expect(net.peers.get(id)!.role).toBe('following');
      expect(net.peers.get(id)!.acceptedEpoch).toBe(1);
      expect(net.peers.get(id)!.currentEpoch).toBe(1);
    }
  });

  it('the server with the longest log of the latest epoch wins, whatever its id', () => {
    const net = new Net();
    net.add(peer(1, { accepted: 1, current: 1, log: entries(1, 1, 5) }));
    net.add(peer(2, { accepted: 1, current: 1, log: entries(1, 1, 3) }));
    net.add(peer(3, { accepted: 1, current: 1, log: entries(1, 1, 4) }));
    net.start();
    net.settle();
    expect(net.leader()?.id).toBe(1);
    // Z7: the whole initial history is committed once a quorum acknowledged NEWLEADER.
    for (const id of [1, 2, 3]) expect(net.delivered.get(id)!.map((e) => e.zxid)).toEqual(entries(1, 1, 5).map((e) => e.zxid));
  });

  it('a single server leads itself', () => {
    const net = new Net();
    net.add(peer(1, { members: [1] }));
    net.start();
    net.settle();
    expect(net.leader()?.id).toBe(1);
    const r = net.peers.get(1)!.propose(txn(1));
    expect(r.zxid).toBe(makeZxid(1, 1));
    net.handle(1, r.effects);
    net.settle();
    expect(net.delivered.get(1)!.map((e) => e.zxid)).toEqual([makeZxid(1, 1)]);
  });
});

describe('Zab discovery (Z4, Z5)', () => {
  it('the new epoch is above every accepted epoch of the quorum, and is durable before followers answer', () => {
    const net = new Net();
    net.add(peer(1, { accepted: 7, current: 2 }));
    net.add(peer(2, { accepted: 3, current: 2 }));
    net.add(peer(3, { accepted: 2, current: 2 }));
    net.start();
    net.settle();
    net.tick(2);
    expect(net.leader()?.servingEpoch).toBe(8);
    // Each follower's ackEpoch came after a durable write of acceptedEpoch 8.
    for (const id of [1, 2].filter((x) => x !== net.leader()!.id)) {
      const effs = net.effects.get(id)!;
      const durable = effs.findIndex((e) => e.kind === 'durable' && e.op.kind === 'epochs' && e.op.acceptedEpoch === 8);
      const ack = effs.findIndex((e) => e.kind === 'send' && e.msg.type === 'coord.zab.ackEpoch');
      expect(durable).toBeGreaterThanOrEqual(0);
      expect(ack).toBeGreaterThan(durable);
    }
  });

  it('a leader steps aside when a follower of its discovery quorum is ahead of it', () => {
    const l = peer(1, { accepted: 1, current: 1, log: entries(1, 1, 2) });
    const n = new Net();
    n.add(l);
    n.start();
    // Pretend 1 won an election (e.g. on a stale vote): make it lead by a quorum of votes for it.
    n.handle(1, l.receive({ type: 'coord.zab.vote', from: 2, round: l.electionRound, state: 'looking', vote: { leader: 1, epoch: 1, zxid: makeZxid(1, 2) } }));
    n.handle(1, l.tick());
    n.handle(1, l.tick());
    expect(l.role).toBe('leading');
    n.handle(1, l.receive({ type: 'coord.zab.followerInfo', from: 2, acceptedEpoch: 1 }));
    n.handle(1, l.persisted(n.pendingDurable.get(1) as number));
    expect(n.sent(1, 'coord.zab.leaderInfo').length).toBe(1);
    n.handle(1, l.receive({ type: 'coord.zab.ackEpoch', from: 2, epoch: 2, currentEpoch: 1, lastZxid: makeZxid(1, 9) }));
    expect(l.role).toBe('looking');
  });

  it('a follower refuses a leader whose epoch is below one it accepted', () => {
    const f = peer(2, { accepted: 5, current: 4 });
    f.start();
    f.receive({ type: 'coord.zab.vote', from: 1, round: 1, state: 'leading', vote: { leader: 1, epoch: 5, zxid: 0 } });
    expect(f.role).toBe('following');
    f.receive({ type: 'coord.zab.leaderInfo', from: 1, epoch: 3 });
    expect(f.role).toBe('looking');
    expect(f.acceptedEpoch).toBe(5);
  });
});

describe('Zab synchronization (Z6)', () => {
  /** Leader 3 and server 1 hold `leaderLog` at epoch `epoch`; server 2 comes with its own log. */
  function established(followerLog: LogEntry[], o: { followerCurrent?: number; leaderLog?: LogEntry[]; epoch?: number } = {}) {
    const net = new Net();
    const leaderLog = o.leaderLog ?? entries(1, 1, 6);
    const epoch = o.epoch ?? 1;
    net.add(peer(3, { accepted: epoch, current: epoch, log: leaderLog }));
    net.add(peer(1, { accepted: epoch, current: epoch, log: leaderLog }));
    net.add(peer(2, { accepted: o.followerCurrent ?? 1, current: o.followerCurrent ?? 1, log: followerLog }));
    net.start();
    net.settle();
    net.tick(3);
    expect(net.leader()?.id).toBe(3);
    return { net };
  }

  function syncFor(net: Net, to: number): Extract<PeerMsg, { type: 'coord.zab.sync' }> {
    for (const x of net.effects.get(3)!) {
      if (x.kind === 'send' && x.to === to && x.msg.type === 'coord.zab.sync') return x.msg;
      if (x.kind === 'sendSnapshot' && x.to === to) return x.msg;
    }
    throw new Error(`no sync to ${to}`);
  }

  it('DIFF: a follower behind within the leader\'s log gets the missing entries', () => {
    const { net } = established(entries(1, 1, 3));
    const s = syncFor(net, 2);
    expect(s.mode).toBe('diff');
    expect(s.entries.map((e) => e.zxid)).toEqual(entries(1, 4, 6).map((e) => e.zxid));
    expect(net.peers.get(2)!.lastZxid).toBe(makeZxid(1, 6));
    expect(net.delivered.get(2)!.map((e) => e.zxid)).toEqual(entries(1, 1, 6).map((e) => e.zxid));
  });

  it('TRUNC: a follower with proposals no quorum kept is cut back to the last zxid it shares with the leader', () => {
    // Server 2 led epoch 1 and logged 1:5 and 1:6 that nobody else has; epoch 2 went on without it.
    const leaderLog = [...entries(1, 1, 4), ...entries(2, 1, 2)];
    const { net } = established(entries(1, 1, 6), { leaderLog, epoch: 2 });
    const s = syncFor(net, 2);
    expect(s.mode).toBe('trunc');
    expect(s.truncZxid).toBe(makeZxid(1, 4));
    expect(s.entries.map((e) => e.zxid)).toEqual(entries(2, 1, 2).map((e) => e.zxid));
    const f = net.peers.get(2)!;
    expect(f.entries().map((e) => e.zxid).slice(0, 6)).toEqual(leaderLog.map((e) => e.zxid));
    expect(net.effects.get(2)!.some((e) => e.kind === 'durable' && e.op.kind === 'truncate' && e.op.zxid === makeZxid(1, 4))).toBe(true);
    // Z1: what a quorum had is what everyone applies.
    expect(net.delivered.get(2)!.map((e) => e.zxid)).toEqual(leaderLog.map((e) => e.zxid));
  });

  it('SNAP: a follower behind the leader\'s in-memory log gets a snapshot and what follows it', () => {
    const net = new Net();
    // The leader applied 1:1..1:10 and trimmed its in-memory log to the last 4 (committedLogMax).
    net.add(peer(3, { accepted: 1, current: 1, snapshotZxid: makeZxid(1, 6), log: entries(1, 7, 10) }));
    net.add(peer(1, { accepted: 1, current: 1, log: entries(1, 1, 10) }));
    net.add(peer(2, { accepted: 1, current: 1, log: entries(1, 1, 2) }));
    net.start();
    net.settle();
    net.tick(3);
    expect(net.leader()?.id).toBe(3);
    const e = net.effects.get(3)!.find((x) => x.kind === 'sendSnapshot' && x.to === 2);
    expect(e).toBeDefined();
    const f = net.peers.get(2)!;
    expect(f.lastZxid).toBe(makeZxid(1, 10));
    expect(net.effects.get(2)!.some((x) => x.kind === 'restore')).toBe(true);
    expect(net.effects.get(2)!.some((x) => x.kind === 'durable' && x.op.kind === 'installSnapshot')).toBe(true);
  });

  it('a follower acknowledges NEWLEADER only after its log and its current epoch are durable', () => {
    const { net } = established(entries(1, 1, 3));
    const effs = net.effects.get(2)!;
    const epochWrite = effs.findIndex((e) => e.kind === 'durable' && e.op.kind === 'epochs' && e.op.currentEpoch === 2);
    const ack = effs.findIndex((e) => e.kind === 'send' && e.msg.type === 'coord.zab.ackNewLeader');
    expect(epochWrite).toBeGreaterThanOrEqual(0);
    expect(ack).toBeGreaterThan(epochWrite);
  });
});

describe('Zab broadcast (Z7, Z8)', () => {
  function three(): Net {
    const net = new Net();
    for (const id of [1, 2, 3]) net.add(peer(id));
    net.start();
    net.settle();
    net.tick(3);
    return net;
  }

  it('nothing is proposed before the leader is established', () => {
    const l = peer(1);
    l.start();
    const r = l.propose(txn(1));
    expect(r.zxid).toBeUndefined();
  });

  it('pipelined proposals commit in zxid order once a quorum has them durably, and not before', () => {
    const net = three();
    const l = net.leader()!;
    const zxids: number[] = [];
    for (let i = 1; i <= 5; i++) {
      const r = l.propose(txn(i));
      zxids.push(r.zxid!);
      net.handle(l.id, r.effects);
    }
    expect(zxids).toEqual(entries(1, 1, 5).map((e) => e.zxid));
    // Deliver the proposals but complete no durable write: nothing commits.
    while (net.queue.length > 0) {
      const m = net.queue.shift()!;
      net.handle(m.to, net.peers.get(m.to)!.receive(m.msg));
    }
    expect(l.committedZxid).toBe(0);
    net.settle();
    expect(l.committedZxid).toBe(makeZxid(1, 5));
    for (const id of [1, 2, 3]) expect(net.delivered.get(id)!.map((e) => e.zxid)).toEqual(zxids);
  });

  it('with one follower down, the leader and the other follower still form a quorum; with both down nothing commits', () => {
    const net = three();
    const l = net.leader()!;
    net.down.add(1);
    net.handle(l.id, l.propose(txn(1)).effects);
    net.settle();
    expect(l.committedZxid).toBe(makeZxid(1, 1));
    net.down.add(2);
    net.handle(l.id, l.propose(txn(2)).effects);
    net.settle();
    expect(l.committedZxid).toBe(makeZxid(1, 1));
    // And without a quorum to hear from, the leader steps down within syncLimit.
    net.tick(config.syncLimitTicks + 2);
    expect(l.role).toBe('looking');
  });

  it('a follower that sees a gap in proposals (lost messages) synchronizes again instead of logging around it', () => {
    const net = three();
    const l = net.leader()!;
    const f = [...net.peers.values()].find((p) => p.role === 'following')!;
    net.handle(f.id, f.receive({ type: 'coord.zab.proposal', from: l.id, epoch: 1, entry: { zxid: makeZxid(1, 3), txn: txn(3) } }));
    expect(f.lastZxid).toBe(0);
    expect(net.sent(f.id, 'coord.zab.followerInfo').length).toBeGreaterThan(1);
  });

  it('a sync is answered after the commits before it and before the commits after it', () => {
    const net = three();
    const l = net.leader()!;
    const f = [...net.peers.values()].find((p) => p.role === 'following')!;
    net.handle(l.id, l.propose(txn(1)).effects);
    const s = l.syncRequest(f.id, 77);
    expect(s.accepted).toBe(true);
    net.handle(l.id, s.effects);
    net.handle(l.id, l.propose(txn(2)).effects);
    net.settle();
    const toF = net.effects
      .get(l.id)!
      .flatMap((e) => (e.kind === 'send' && e.to === f.id ? [e.msg] : []))
      .filter((m) => m.type === 'coord.zab.commit' || m.type === 'coord.zab.synced');
    const synced = toF.findIndex((m) => m.type === 'coord.zab.synced');
    expect(toF.slice(0, synced).some((m) => m.type === 'coord.zab.commit' && m.zxid === makeZxid(1, 1))).toBe(true);
    expect(toF.slice(0, synced).some((m) => m.type === 'coord.zab.commit' && m.zxid >= makeZxid(1, 2))).toBe(false);
  });
});

describe('Zab recovery of a new leader (Z1, Z2)', () => {
  it('a transaction committed by the old leader survives its crash; one only it logged is truncated everywhere it went', () => {
    const net = new Net();
    for (const id of [1, 2, 3]) net.add(peer(id));
    net.start();
    net.settle();
    net.tick(3);
    const old = net.leader()!;
    expect(old.id).toBe(3);
    net.handle(3, old.propose(txn(1)).effects);
    net.settle();
    expect(old.committedZxid).toBe(makeZxid(1, 1));
    // The leader logs 1:2 but its proposal never leaves; then it crashes.
    const r = old.propose(txn(2));
    net.handle(3, r.effects.filter((e) => e.kind !== 'send'));
    net.settle();
    net.down.add(3);
    net.tick(config.syncLimitTicks + 2);
    const next = net.leader()!;
    expect(next.id).not.toBe(3);
    expect(next.servingEpoch).toBe(2);
    expect(net.delivered.get(next.id)!.map((e) => e.zxid)).toEqual([makeZxid(1, 1)]);
    // The old leader comes back with 1:2 in its log: TRUNC to 1:1.
    const back = peer(3, { accepted: 1, current: 1, log: entries(1, 1, 2).map((e, i) => ({ zxid: e.zxid, txn: txn(i + 1) })) });
    net.peers.set(3, back);
    net.delivered.set(3, []);
    net.down.delete(3);
    net.handle(3, back.start());
    net.settle();
    net.tick(2);
    expect(back.role).toBe('following');
    expect(back.lastZxid).toBe(makeZxid(1, 1));
    const nextTxn = next.propose(txn(3));
    net.handle(next.id, nextTxn.effects);
    net.settle();
    expect(back.committedZxid).toBe(makeZxid(2, 1));
    expect(net.delivered.get(3)!.map((e) => e.zxid)).toEqual([makeZxid(1, 1), makeZxid(2, 1)]);
  });
});
