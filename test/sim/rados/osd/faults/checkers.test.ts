/** Each data-path checker catches a planted violation (and passes the same history without it). */
import { describe, expect, it } from 'vitest';
import type { HistoryOp } from '../../../../../src/check/history.js';
import type { ProbeEvent } from '../cell.js';
import { checkAckCommitOrder, checkCommittedReadable, checkNoDuplicateApply, checkObjectsLinearizable, checkRecoveryReadOnce, type RegInput, type RegOutput } from './checkers.js';

const v = (x: number) => ({ epoch: 5, v: x });

describe('data-path checkers catch planted violations', () => {
  it('(a) a committed write missing at the end', () => {
    const writes = [
      { obj: 'k', value: 'a', invokedAt: 0, completedAt: 10 },
      { obj: 'k', value: 'b', invokedAt: 20, completedAt: 30 },
    ];
    const committed = [{ obj: 'k', value: 'a', invokedAt: 0, committedAt: 12 }, { obj: 'k', value: 'b', invokedAt: 20, committedAt: 32 }];
    expect(checkCommittedReadable(committed, writes, new Map([['k', 'b']]))).toEqual([]);
    expect(checkCommittedReadable(committed, writes, new Map([['k', 'a']])).join()).toMatch(/b committed after it and are lost/);
    expect(checkCommittedReadable(committed, writes, new Map([['k', null]])).join()).toMatch(/is gone/);
    expect(checkCommittedReadable(committed, writes, new Map([['k', 'zz']])).join()).toMatch(/no client wrote/);
  });

  it('(b) a read of an overwritten value after the overwrite was acknowledged', () => {
    const op = (id: number, process: string, input: RegInput, invokedAt: number, completedAt: number, output: RegOutput): HistoryOp<RegInput, RegOutput> => ({ id, process, input, invokedAt, completedAt, status: 'ok', output });
    const good = [op(0, 'p', { kind: 'write', obj: 'k', value: 'a' }, 0, 1, { value: null }), op(1, 'p', { kind: 'write', obj: 'k', value: 'b' }, 2, 3, { value: null }), op(2, 'q', { kind: 'read', obj: 'k' }, 4, 5, { value: 'b' })];
    expect(checkObjectsLinearizable(good, 1_000)).toEqual([]);
    const stale = [...good.slice(0, 2), op(2, 'q', { kind: 'read', obj: 'k' }, 4, 5, { value: 'a' })];
    expect(checkObjectsLinearizable(stale, 1_000).join()).toMatch(/object k is not linearizable/);
  });

  it('(c) one reqid applied as two updates, and a token appended twice', () => {
    const ev = (version: number, op = 'modify'): ProbeEvent => ({ at: version, kind: 'applied', osd: 1, pg: '1.0', version: v(version), reqid: 'client.0:7', op });
    expect(checkNoDuplicateApply([ev(1), ev(2, 'noop')], new Map())).toEqual([]);
    expect(checkNoDuplicateApply([ev(1), ev(2)], new Map()).join()).toMatch(/applied client.0:7 twice/);
    expect(checkNoDuplicateApply([], new Map([['log0', { content: '|t1|t2|t1', committedTokens: ['t1'] }]])).join()).toMatch(/holds t1 2 times/);
    expect(checkNoDuplicateApply([], new Map([['log0', { content: '|t1', committedTokens: ['t1', 't2'] }]])).join()).toMatch(/lost the committed token t2/);
  });

  it('(d) an ack before a replica applied, a commit before a replica was durable', () => {
    const e = (at: number, kind: ProbeEvent['kind'], osd: number, acting?: number[]): ProbeEvent => ({ at, kind, osd, pg: '1.0', version: v(1), reqid: 'r', ...(acting === undefined ? {} : { acting }) });
    const ok = [e(1, 'applied', 1), e(2, 'applied', 0), e(3, 'acked', 0, [0, 1]), e(4, 'committed', 0), e(5, 'committed', 1), e(6, 'commitSent', 0, [0, 1])];
    expect(checkAckCommitOrder(ok)).toEqual([]);
    const early = [e(1, 'applied', 0), e(2, 'acked', 0, [0, 1]), e(3, 'applied', 1)];
    expect(checkAckCommitOrder(early).join()).toMatch(/sent ack .* before osd.1 applied/);
    const commitEarly = [e(1, 'applied', 0), e(1, 'applied', 1), e(2, 'acked', 0, [0, 1]), e(3, 'committed', 0), e(4, 'commitSent', 0, [0, 1]), e(5, 'committed', 1)];
    expect(checkAckCommitOrder(commitEarly).join()).toMatch(/sent commit .* before osd.1 committed/);
  });

  it('(e) an object read twice from disk by one recovery (thesis §6.3.5.2)', () => {
    const read = (at: number, osd: number, oid: string, recovery: string): ProbeEvent => ({ at, kind: 'recoveryRead', osd, pg: '1.0', version: v(0), reqid: '', oid, recovery });
    // One read per object per recovery; a later peering (another recovery) may read it again.
    const ok = [read(1, 0, 'a', '0@7#1'), read(2, 0, 'b', '0@7#1'), read(3, 2, 'a', '2@9#4')];
    expect(checkRecoveryReadOnce(ok)).toEqual([]);
    const twice = [...ok, read(4, 1, 'a', '0@7#1')];
    expect(checkRecoveryReadOnce(twice).join()).toMatch(/object a read twice by recovery 0@7#1/);
  });
});
