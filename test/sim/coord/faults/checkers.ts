/**
 * The fault suite's checkers, pure functions of a `RunRecord` (issue 17, item 8):
 * (a) writes are linearizable (src/check/linearizability.ts, one history per key — linearizability
 *     is compositional — against a model of a versioned register);
 * (b) each client's operations take effect in its issue order (FIFO): in the committed sequence a
 *     session's requests appear in cxid order, and the zxids a client was told never go backwards;
 * (c) no committed transaction is lost or reordered on any server, across crashes and recoveries:
 *     one transaction per zxid everywhere, each server life applies exactly the committed sequence
 *     from where its snapshot (or a SNAP) left it, every acknowledged write is in it, and (d) when
 *     quiet every server holds the same state, the one the committed sequence produces.
 */
import { checkLinearizable, type HistoryOp, type Model } from '../../../../src/testkit.js';
import type { ZabTxn } from '../../../../src/actors/coord/zab/protocol.js';
import type { Zxid } from '../../../../src/actors/coord/zab/zxid.js';
import { KvMachine, type KvBody, type KvRequest } from '../zab/kv-machine.js';
import type { RunRecord } from './run.js';
import { KEYS, type ClientOp } from './workload.js';

export interface Violation {
  readonly checker: 'a' | 'b' | 'c' | 'd';
  readonly message: string;
}

export interface CheckResult {
  readonly violations: Violation[];
  /** How much each checker looked at (a run that checked nothing proves nothing). */
  readonly checks: { a: number; b: number; c: number; d: number };
}

type WriteOutput = { readonly version: number } | { readonly error: string };

const registerModel: Model<number, KvRequest, WriteOutput> = {
  init: () => 0,
  step(version, input) {
    if (input.op === 'cas' && input.version !== version) return { output: { error: 'bad_version' }, state: version };
    return { output: { version: version + 1 }, state: version + 1 };
  },
  equal: (a, b) => JSON.stringify(a) === JSON.stringify(b),
  key: (s) => String(s),
  describe: (i, o) => `${i.op === 'cas' ? `cas(v${i.version})` : 'put'} ${i.key}=${'value' in i ? i.value : ''}${o === undefined ? '' : ` → ${JSON.stringify(o)}`}`,
};

/** (a) Per key, the writes (answered or not) must be linearizable. */
export function checkWrites(r: RunRecord): { violations: Violation[]; checked: number } {
  const violations: Violation[] = [];
  let checked = 0;
  // A write whose outcome the client never learned took effect iff it is in the committed sequence
  // once the ensemble is quiet (every server then holds the leader's log; what is in no log never
  // commits). Those that did not are left out; those that did stay unknown-outcome operations, free
  // to take effect anywhere after their invocation. Without a quiet end (checker d fails) none is dropped.
  const ordered = new Set(committedSequence(r).seq.map((x) => `${x.txn.session}#${x.txn.cxid}`));
  for (const key of KEYS) {
    const ops: HistoryOp<KvRequest, WriteOutput>[] = [];
    for (const op of r.ops) {
      if (op.kind !== 'write' || op.request === undefined || op.request.key !== key || op.status === 'refused') continue;
      if ((op.status === 'info' || op.status === 'pending') && r.quietAt !== undefined && !ordered.has(`${op.client}#${op.cxid}`)) continue;
      const id = ops.length;
      const base = { id, process: `${op.client}#${op.cxid}`, input: op.request, invokedAt: op.invokedAt };
      if (op.status === 'ok') ops.push({ ...base, completedAt: op.completedAt, status: 'ok', output: { version: (op.result as { version: number }).version } });
      else if (op.status === 'fail') ops.push({ ...base, completedAt: op.completedAt, status: 'fail', output: { error: op.error ?? '' } });
      else ops.push({ ...base, completedAt: op.completedAt, status: 'info', output: undefined });
    }
    const res = checkLinearizable(ops, registerModel);
    if (res.ok === true) checked += res.opsChecked;
    else if (res.ok === 'unknown') violations.push({ checker: 'a', message: `key ${key}: the linearizability search gave up: ${res.reason}` });
    else violations.push({ checker: 'a', message: `key ${key}: writes not linearizable:\n${res.reason}` });
  }
  return { violations, checked };
}

/** The committed sequence: every transaction any server applied, by zxid (conflicts reported as c). */
export function committedSequence(r: RunRecord): { seq: Array<{ zxid: Zxid; txn: ZabTxn }>; violations: Violation[] } {
  const byZxid = new Map<Zxid, { txn: ZabTxn; json: string; server: number }>();
  const violations: Violation[] = [];
  for (const [server, lives] of r.lives) {
    for (const life of lives) {
      for (const ev of life) {
        if (ev.kind !== 'apply') continue;
        const json = JSON.stringify(ev.txn);
        const prev = byZxid.get(ev.zxid);
        if (prev === undefined) byZxid.set(ev.zxid, { txn: ev.txn, json, server });
        else if (prev.json !== json) violations.push({ checker: 'c', message: `zxid ${ev.zxid}: server ${prev.server} applied ${prev.json}, server ${server} applied ${json}` });
      }
    }
  }
  const seq = [...byZxid].sort(([a], [b]) => a - b).map(([zxid, v]) => ({ zxid, txn: v.txn }));
  return { seq, violations };
}

/** (b) FIFO per client. */
export function checkFifo(r: RunRecord): { violations: Violation[]; checked: number } {
  const violations: Violation[] = [];
  let checked = 0;
  const { seq } = committedSequence(r);
  // In the committed sequence, each session's requests in cxid order.
  const lastCxid = new Map<string, { cxid: number; zxid: Zxid }>();
  for (const { zxid, txn } of seq) {
    const prev = lastCxid.get(txn.session);
    if (prev !== undefined && txn.cxid <= prev.cxid) violations.push({ checker: 'b', message: `session ${txn.session}: request ${txn.cxid} took effect at zxid ${zxid}, after request ${prev.cxid} at ${prev.zxid}` });
    lastCxid.set(txn.session, { cxid: txn.cxid, zxid });
    checked++;
  }
  // What each client was told, in issue order: zxids never go back; a write is after everything answered before it.
  const byClient = new Map<string, ClientOp[]>();
  for (const op of r.ops) {
    let l = byClient.get(op.client);
    if (l === undefined) byClient.set(op.client, (l = []));
    l.push(op);
  }
  for (const [client, ops] of byClient) {
    ops.sort((a, b) => a.cxid - b.cxid);
    let high = 0;
    let highCxid = 0;
    for (const op of ops) {
      if ((op.status !== 'ok' && op.status !== 'fail') || op.zxid === undefined) continue;
      const isWrite = op.kind === 'write';
      if (isWrite ? op.zxid <= high && high > 0 : op.zxid < high) violations.push({ checker: 'b', message: `client ${client}: request ${op.cxid} (${op.kind}) answered at zxid ${op.zxid}, but request ${highCxid} before it was at ${high}` });
      if (op.zxid > high) {
        high = op.zxid;
        highCxid = op.cxid;
      }
      checked++;
    }
  }
  return { violations, checked };
}

/** (c) No committed transaction lost or reordered on any server, through crashes and recoveries. */
export function checkHistory(r: RunRecord): { violations: Violation[]; checked: number } {
  const { seq, violations } = committedSequence(r);
  let checked = 0;
  const index = new Map<Zxid, number>(seq.map((x, i) => [x.zxid, i]));
  const nextAfter = (zxid: Zxid): Zxid | undefined => {
    let lo = 0;
    let hi = seq.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (seq[mid]!.zxid <= zxid) lo = mid + 1;
      else hi = mid;
    }
    return seq[lo]?.zxid;
  };
  const lastCommitted = seq[seq.length - 1]?.zxid ?? 0;
  for (const [server, lives] of r.lives) {
    lives.forEach((life, n) => {
      let cursor: Zxid = 0;
      for (const ev of life) {
        if (ev.kind === 'start') cursor = ev.snapshotZxid;
        else if (ev.kind === 'restore') {
          if (ev.zxid < cursor) violations.push({ checker: 'c', message: `server ${server} life ${n}: a SNAP took its state back from ${cursor} to ${ev.zxid}` });
          cursor = ev.zxid;
        } else {
          const expected = nextAfter(cursor);
          if (ev.zxid !== expected) violations.push({ checker: 'c', message: `server ${server} life ${n}: applied zxid ${ev.zxid} after ${cursor}, but the committed sequence has ${expected ?? 'nothing'} next (lost or reordered)` });
          cursor = ev.zxid;
          checked++;
        }
      }
      // Once quiet, every server's last life has reached the end of the committed sequence: what it
      // lacks then was lost, not late.
      if (n === lives.length - 1 && r.quietAt !== undefined && cursor < lastCommitted) {
        const lost = seq.filter((x) => x.zxid > cursor).length;
        violations.push({ checker: 'c', message: `server ${server} is quiet at zxid ${cursor}: ${lost} committed transaction(s) after it are lost (the last at ${lastCommitted})` });
      }
    });
  }
  // Every acknowledged write is in the committed sequence, as the client's request.
  for (const op of r.ops) {
    if (op.kind !== 'write' || (op.status !== 'ok' && op.status !== 'fail') || op.zxid === undefined) continue;
    const i = index.get(op.zxid);
    const t = i === undefined ? undefined : seq[i]!.txn;
    if (t === undefined || t.session !== op.client || t.cxid !== op.cxid) violations.push({ checker: 'c', message: `acknowledged write ${op.client}#${op.cxid} at zxid ${op.zxid} is not in the committed sequence (found ${t === undefined ? 'nothing' : `${t.session}#${t.cxid}`})` });
    checked++;
  }
  return { violations, checked };
}

/** (d) Quiet after the faults: every server at the end of the committed sequence, all with the state it produces. */
export function checkConverged(r: RunRecord): { violations: Violation[]; checked: number } {
  const violations: Violation[] = [];
  if (r.quietAt === undefined) return { violations: [{ checker: 'd', message: `the ensemble was not quiet within ${r.quietBoundMs} ms after the faults ended` }], checked: 0 };
  const { seq } = committedSequence(r);
  const last = seq[seq.length - 1]?.zxid ?? 0;
  if ((r.quietZxid ?? 0) < last) violations.push({ checker: 'd', message: `quiet at zxid ${r.quietZxid}, but zxid ${last} was committed` });
  const expected = new KvMachine();
  for (const { zxid, txn } of seq) if (txn.body !== undefined) expected.apply(txn.body as KvBody, zxid);
  const want = Buffer.from(expected.snapshot()).toString('hex');
  for (const [server, image] of r.images) if (image !== want) violations.push({ checker: 'd', message: `server ${server}'s state differs from the committed sequence's` });
  return { violations, checked: r.images.size };
}

export function checkAll(r: RunRecord): CheckResult {
  const a = checkWrites(r);
  const b = checkFifo(r);
  const c = checkHistory(r);
  const d = checkConverged(r);
  return { violations: [...a.violations, ...b.violations, ...c.violations, ...d.violations], checks: { a: a.checked, b: b.checked, c: c.checked, d: d.checked } };
}

export function formatViolations(vs: readonly Violation[]): string {
  return vs.map((v) => `  (${v.checker}) ${v.message}`).join('\n');
}
