/**
 * The ensemble's durable state on a simulated disk (Z9–Z11): group commit, torn-tail recovery,
 * TRUNC, snapshots with log rolling and purging, epochs.
 */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../../src/runtime/random.js';
import { SimDisk } from '../../../../src/testkit.js';
import { zabConfig } from '../../../../src/actors/coord/zab/config.js';
import type { DurableOp } from '../../../../src/actors/coord/zab/peer.js';
import type { LogEntry } from '../../../../src/actors/coord/zab/protocol.js';
import { ZabStore } from '../../../../src/actors/coord/zab/store.js';
import { TxnLog } from '../../../../src/actors/coord/zab/txn-log.js';
import { makeZxid } from '../../../../src/actors/coord/zab/zxid.js';

const config = zabConfig({ snapshotsRetained: 2 });

function entry(epoch: number, counter: number): LogEntry {
  return { zxid: makeZxid(epoch, counter), txn: { origin: 1, session: 's', cxid: counter, body: { k: `v${counter}` } } };
}

function disk(seed = 1): SimDisk {
  return new SimDisk({ random: seededRandom(seed) });
}

async function open(d: SimDisk) {
  const done: number[] = [];
  const failed: unknown[] = [];
  const { store, recovered } = await ZabStore.open(d, 'zab', config, (s) => void done.push(s), (e) => void failed.push(e));
  return { store, recovered, done, failed };
}

/** Runs ops through the store and waits until the last is reported done. */
async function runAll(store: ZabStore, done: number[], ops: DurableOp[], first = 1): Promise<void> {
  ops.forEach((op, i) => store.run(first + i, op));
  const last = first + ops.length - 1;
  for (let i = 0; i < 1_000 && !done.includes(last) && !(done.length > 0 && (done[done.length - 1] as number) >= last); i++) await new Promise((r) => setImmediate(r));
}

describe('transaction log', () => {
  it('group commit: appends queued together go out as one write and one fsync', async () => {
    const d = disk();
    const { store, done } = await open(d);
    const ops: DurableOp[] = Array.from({ length: 20 }, (_, i) => ({ kind: 'append', entries: [entry(1, i + 1)] }));
    await runAll(store, done, ops);
    expect(done[done.length - 1]).toBe(20);
    expect(store.counters.recordsWritten).toBe(20);
    expect(store.counters.fsyncBatches).toBe(1);
  });

  it('recovery returns every durable entry after a restart', async () => {
    const d = disk();
    const { store, done } = await open(d);
    await runAll(store, done, [
      { kind: 'append', entries: [entry(1, 1), entry(1, 2)] },
      { kind: 'epochs', acceptedEpoch: 2, currentEpoch: 1 },
      { kind: 'append', entries: [entry(1, 3)] },
    ]);
    const again = await open(d.crash());
    expect(again.recovered.entries.map((e) => e.zxid)).toEqual([1, 2, 3].map((c) => makeZxid(1, c)));
    expect(again.recovered.entries[2]!.txn).toEqual(entry(1, 3).txn);
    expect(again.recovered.acceptedEpoch).toBe(2);
    expect(again.recovered.currentEpoch).toBe(1);
  });

  it('a torn last record is cut at recovery, and the log goes on after the intact ones (Z10)', async () => {
    const d = disk();
    const { store, done } = await open(d);
    await runAll(store, done, [{ kind: 'append', entries: [entry(1, 1), entry(1, 2)] }]);
    const crashed = d.crash();
    const [name] = (await crashed.list('zab')).filter((n) => n.startsWith('log.'));
    const f = await crashed.open(`zab/${name}`);
    // Half a frame: a header promising 500 bytes, 30 of them written.
    const torn = new Uint8Array(46);
    new DataView(torn.buffer).setUint32(0, 500, true);
    await f.append(torn);
    await f.fsync();
    await f.close();
    const again = await open(crashed);
    expect(again.recovered.tornBytes).toBe(46);
    expect(again.recovered.entries.map((e) => e.zxid)).toEqual([makeZxid(1, 1), makeZxid(1, 2)]);
    await runAll(again.store, again.done, [{ kind: 'append', entries: [entry(1, 3)] }]);
    const third = await open(crashed.crash());
    expect(third.recovered.tornBytes).toBe(0);
    expect(third.recovered.entries.map((e) => e.zxid)).toEqual([1, 2, 3].map((c) => makeZxid(1, c)));
  });

  it('a damaged record in a segment that is not the last is refused (acknowledged history), not cut', async () => {
    const d = disk();
    const log1 = await TxnLog.open(d, 'zab', 1 << 20);
    await log1.log.write([{ zxid: makeZxid(1, 1), payload: new Uint8Array([1, 2, 3]) }]);
    log1.log.roll();
    await log1.log.write([{ zxid: makeZxid(1, 2), payload: new Uint8Array([4, 5, 6]) }]);
    await log1.log.close();
    const names = (await d.list('zab')).sort();
    d.flipBit(`zab/${names[0]}`, 8 * 17);
    await expect(TxnLog.open(d, 'zab', 1 << 20)).rejects.toThrow(/Z10/);
  });

  it('TRUNC removes every record after the given zxid, across segments, durably', async () => {
    const d = disk();
    const { store, done } = await open(d);
    store.snapshot(0, new Uint8Array([0]), () => {});
    await runAll(store, done, [{ kind: 'append', entries: [entry(1, 1), entry(1, 2)] }]);
    store.snapshot(makeZxid(1, 1), new Uint8Array([1]), () => {});
    await runAll(store, done, [{ kind: 'append', entries: [entry(1, 3), entry(2, 1)] }, { kind: 'truncate', zxid: makeZxid(1, 2) }, { kind: 'append', entries: [entry(3, 1)] }], 2);
    const again = await open(d.crash());
    expect(again.recovered.entries.map((e) => e.zxid)).toEqual([makeZxid(1, 2), makeZxid(3, 1)]);
  });

  it('snapshots roll the log; old segments and snapshots beyond the retained ones are purged', async () => {
    const d = disk();
    const { store, done } = await open(d);
    let seq = 1;
    for (let round = 0; round < 4; round++) {
      await runAll(store, done, [{ kind: 'append', entries: [entry(1, round * 2 + 1), entry(1, round * 2 + 2)] }], seq++);
      let written = false;
      expect(store.snapshot(makeZxid(1, round * 2 + 2), new Uint8Array([round]), () => (written = true))).toBe(true);
      for (let i = 0; i < 1_000 && !written; i++) await new Promise((r) => setImmediate(r));
    }
    const names = await d.list('zab');
    expect(names.filter((n) => n.startsWith('snapshot.')).length).toBe(2);
    expect(store.counters.segmentsPurged).toBeGreaterThan(0);
    const again = await open(d.crash());
    expect(again.recovered.snapshot?.zxid).toBe(makeZxid(1, 8));
    expect(again.recovered.entries).toEqual([]);
  });

  it('installing a leader\'s snapshot (SNAP) replaces the log', async () => {
    const d = disk();
    const { store, done } = await open(d);
    await runAll(store, done, [
      { kind: 'append', entries: [entry(1, 1)] },
      { kind: 'installSnapshot', zxid: makeZxid(2, 5), data: new Uint8Array([9]) },
      { kind: 'append', entries: [entry(2, 6)] },
    ]);
    const again = await open(d.crash());
    expect(again.recovered.snapshot).toEqual({ zxid: makeZxid(2, 5), data: new Uint8Array([9]) });
    expect(again.recovered.entries.map((e) => e.zxid)).toEqual([makeZxid(2, 6)]);
  });
});
