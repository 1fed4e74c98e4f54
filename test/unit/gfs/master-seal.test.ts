/**
 * The `seal` record (GFS README S1–S3): the master's state keeps a sealed chunk's final length and
 * version, through checkpoints (M5), and a repeated seal keeps the first length.
 */
import { describe, expect, it } from 'vitest';
import { MasterState, type MasterRecord } from '../../../src/actors/gfs/master/master-state.js';
import { LeaseTable } from '../../../src/actors/gfs/master/lease-table.js';

function stateWith(records: readonly MasterRecord[]): MasterState {
  const s = new MasterState();
  for (const r of records) s.apply(r);
  s.invariants();
  return s;
}

const h = 1n << 16n;
const base: MasterRecord[] = [
  { op: 'mkdir', path: '/q', at: 0 },
  { op: 'create', path: '/q/log', at: 0 },
  { op: 'addChunk', path: '/q/log', index: 0, handle: h, version: 1, at: 0 },
  { op: 'bumpVersion', handle: h, version: 2 },
];

describe('the seal record (S1–S3, M5)', () => {
  it('records the sealed length and the fence version; a checkpoint keeps both', () => {
    const s = stateWith([...base, { op: 'seal', handle: h, version: 3, lengthBytes: 4_096 }]);
    expect(s.chunks.get(h)).toMatchObject({ version: 3, sealedBytes: 4_096 });
    const back = MasterState.fromCheckpoint(structuredClone(s.toCheckpoint()));
    back.invariants();
    expect(back.chunks.get(h)).toMatchObject({ version: 3, sealedBytes: 4_096 });
  });

  it('a second seal record keeps the first length (the replicas were cut to it); a seal of an erased chunk changes nothing', () => {
    const s = stateWith([...base, { op: 'seal', handle: h, version: 3, lengthBytes: 4_096 }, { op: 'seal', handle: h, version: 4, lengthBytes: 100 }, { op: 'seal', handle: 9n << 16n, version: 2, lengthBytes: 1 }]);
    expect(s.chunks.get(h)).toMatchObject({ version: 4, sealedBytes: 4_096 });
    expect(s.chunks.has(9n << 16n)).toBe(false);
  });

  it('after a restart, only chunks created by the new incarnation can be leased at once (S4)', () => {
    const leases = new LeaseTable(10_000, 500, 1_000, true);
    leases.markFreshAbove(h);
    // The old chunk waits for any lease of the previous incarnation to end (M6) ...
    expect(leases.grantableAt(h, 1_000)).toBe(1_000 + 10_000 + 500);
    // ... a chunk with a newer handle cannot carry one.
    expect(leases.grantableAt(2n << 16n, 1_000)).toBe(1_000);
  });
});
