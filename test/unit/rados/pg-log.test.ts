import { describe, expect, it } from 'vitest';
import {
  appendEntry,
  checkPgLog,
  emptyPgLog,
  entriesAfter,
  findReqid,
  markApplied,
  nextVersion,
  restoreLog,
  rollBackUnapplied,
  trimLog,
  type PgLog,
} from '../../../src/actors/rados/osd/pg-log.js';

function logUpdate(log: PgLog, epoch: number, oid: string, reqid: string, apply = true): PgLog {
  const version = nextVersion(log, epoch);
  let l = appendEntry(log, { oid, op: 'modify', version, prior: log.head, reqid });
  if (apply) l = markApplied(l, version);
  return l;
}

describe('PG log (thesis §6.3.4)', () => {
  it('versions are (epoch, v) with v growing by one; last_update follows what is applied', () => {
    let log = emptyPgLog();
    log = logUpdate(log, 3, 'a', 'c:1');
    log = logUpdate(log, 3, 'b', 'c:2');
    log = logUpdate(log, 5, 'a', 'c:3');
    expect(log.entries.map((e) => [e.version.epoch, e.version.v])).toEqual([[3, 1], [3, 2], [5, 3]]);
    expect(log.lastUpdate).toEqual({ epoch: 5, v: 3 });
    expect(log.lastComplete).toEqual(log.lastUpdate);
    checkPgLog(log);
  });

  it('a delayed write logs the entry first: the head runs ahead of last_update (write-ahead)', () => {
    let log = logUpdate(emptyPgLog(), 2, 'a', 'c:1');
    log = logUpdate(log, 2, 'a', 'c:2', false);
    expect(log.head).toEqual({ epoch: 2, v: 2 });
    expect(log.lastUpdate).toEqual({ epoch: 2, v: 1 });
    log = markApplied(log, log.head);
    expect(log.lastUpdate).toEqual(log.head);
  });

  it('a resent reqid is found in the log with its original version (every op idempotent, §6.3.5.3)', () => {
    let log = logUpdate(emptyPgLog(), 1, 'a', 'client.4:17');
    log = logUpdate(log, 1, 'b', 'client.4:18');
    expect(findReqid(log, 'client.4:17')?.version).toEqual({ epoch: 1, v: 1 });
    expect(findReqid(log, 'client.9:17')).toBeUndefined();
  });

  it('an entry must follow the head, and a version must not go backwards', () => {
    const log = logUpdate(emptyPgLog(), 4, 'a', 'c:1');
    expect(() => appendEntry(log, { oid: 'a', op: 'modify', version: { epoch: 4, v: 3 }, prior: { epoch: 4, v: 2 }, reqid: 'x' })).toThrow(/follows/);
    expect(() => nextVersion(log, 3)).toThrow(/older/);
    expect(() => markApplied(log, { epoch: 4, v: 1 })).toThrow(/not after/);
  });

  it('trimming keeps the log bounded but never drops an entry not yet durable everywhere', () => {
    let log = emptyPgLog();
    for (let i = 1; i <= 10; i++) log = logUpdate(log, 1, `o${i}`, `c:${i}`);
    const limited = trimLog(log, { epoch: 1, v: 4 }, 3);
    expect(limited.log.entries.map((e) => e.version.v)).toEqual([5, 6, 7, 8, 9, 10]);
    expect(limited.log.tail).toEqual({ epoch: 1, v: 4 });
    const full = trimLog(log, { epoch: 1, v: 10 }, 3);
    expect(full.log.entries.map((e) => e.version.v)).toEqual([8, 9, 10]);
    expect(findReqid(full.log, 'c:2')).toBeUndefined();
    expect(entriesAfter(full.log, { epoch: 1, v: 8 }).map((e) => e.reqid)).toEqual(['c:9', 'c:10']);
  });

  it('a new interval drops entries logged but never applied; a restart restores the log from its entries', () => {
    let log = logUpdate(emptyPgLog(), 1, 'a', 'c:1');
    log = logUpdate(log, 1, 'a', 'c:2', false);
    const r = rollBackUnapplied(log);
    expect(r.dropped.map((e) => e.reqid)).toEqual(['c:2']);
    expect(r.log.head).toEqual({ epoch: 1, v: 1 });
    checkPgLog(r.log);
    const again = restoreLog([...log.entries].reverse(), log.lastUpdate, { epoch: 0, v: 0 });
    expect(again.entries.map((e) => e.reqid)).toEqual(['c:1', 'c:2']);
    expect(again.head).toEqual({ epoch: 1, v: 2 });
    expect(again.lastUpdate).toEqual({ epoch: 1, v: 1 });
  });
});
