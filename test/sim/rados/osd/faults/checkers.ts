/**
 * The data-path fault suite's checkers (issue items (a)–(d)):
 *  (a) `checkCommittedReadable`: every committed write is still there at the end — each object's
 *      final value comes from a write that no committed write strictly followed;
 *  (b) `checkObjectsLinearizable`: per object, the acknowledged writes and the reads are
 *      linearizable as a register (Wing–Gong–Lowe, src/check);
 *  (c) `checkNoDuplicateApply`: no OSD applied one reqid as two different updates (a resend is a
 *      no-op), and no appended token appears twice in an append object;
 *  (d) `checkAckCommitOrder`: an ack was sent only after every member of the acting set applied
 *      the update, and a commit only after every member made it durable (simulated-disk probes);
 *  (e) `checkRecoveryReadOnce`: during one primary's recovery of a PG, each missing object was read
 *      from a store at most once (thesis §6.3.5.2: pushed to every replica that needs it while in
 *      memory; README PR10).
 * Each returns a list of violations (empty = pass); checkers.test.ts plants one of each.
 */
import { checkLinearizable, type Model } from '../../../../../src/check/linearizability.js';
import type { HistoryOp } from '../../../../../src/check/history.js';
import type { ProbeEvent } from '../cell.js';

export type RegInput = { readonly kind: 'write'; readonly obj: string; readonly value: string } | { readonly kind: 'read'; readonly obj: string };
export type RegOutput = { readonly value: string | null };

const registerModel: Model<string | null, RegInput, RegOutput> = {
  init: () => null,
  step: (s, i) => (i.kind === 'write' ? { output: { value: null }, state: i.value } : { output: { value: s }, state: s }),
  equal: (e, a) => e.value === a.value,
  key: (s) => (s === null ? '\u0000' : s),
  describe: (i, o) => (i.kind === 'write' ? `write ${i.obj}=${i.value}` : `read ${i.obj} → ${o === undefined ? '?' : String(o.value)}`),
};

/** (b) Per-object linearizability of the register operations. */
export function checkObjectsLinearizable(ops: readonly HistoryOp<RegInput, RegOutput>[], unknownOutcomeWindowMs: number): string[] {
  const byObj = new Map<string, HistoryOp<RegInput, RegOutput>[]>();
  for (const op of ops) byObj.set(op.input.obj, [...(byObj.get(op.input.obj) ?? []), op]);
  const out: string[] = [];
  for (const [obj, list] of byObj) {
    const r = checkLinearizable(list, registerModel, { unknownOutcomeWindowMs });
    if (r.ok === false) out.push(`object ${obj} is not linearizable: ${r.reason}`);
    if (r.ok === 'unknown') out.push(`object ${obj}: the check gave up (${r.reason})`);
  }
  return out;
}

/** A write the client saw committed: invoked and committed at these times. */
export interface CommittedWrite {
  readonly obj: string;
  readonly value: string;
  readonly invokedAt: number;
  readonly committedAt: number;
}

/** (a) Each object's final value must not be older than a committed write: no committed write may start after the final value's write finished. */
export function checkCommittedReadable(committed: readonly CommittedWrite[], writes: readonly { obj: string; value: string; invokedAt: number; completedAt: number | undefined }[], finals: ReadonlyMap<string, string | null>): string[] {
  const out: string[] = [];
  const byValue = new Map(writes.map((w) => [`${w.obj}\u0000${w.value}`, w]));
  for (const [obj, final] of finals) {
    const mine = committed.filter((c) => c.obj === obj);
    if (final === null) {
      if (mine.length > 0) out.push(`object ${obj} is gone, but ${mine.length} writes to it committed (last ${mine[mine.length - 1]!.value})`);
      continue;
    }
    const w = byValue.get(`${obj}\u0000${final}`);
    if (w === undefined) {
      out.push(`object ${obj} holds ${final}, which no client wrote`);
      continue;
    }
    const lost = mine.filter((c) => w.completedAt !== undefined && c.invokedAt > w.completedAt);
    if (lost.length > 0) out.push(`object ${obj} holds ${final} (finished at ${w.completedAt}), but ${lost.map((l) => l.value).join(', ')} committed after it and are lost`);
  }
  return out;
}

/** (c) One reqid, one update per OSD (resends are no-ops); each appended token at most once, every committed token present. */
export function checkNoDuplicateApply(events: readonly ProbeEvent[], appends: ReadonlyMap<string, { content: string | null; committedTokens: readonly string[] }>): string[] {
  const out: string[] = [];
  const seen = new Map<string, string>();
  for (const e of events) {
    if (e.kind !== 'applied' || e.op === 'noop') continue;
    const k = `${e.osd}\u0000${e.pg}\u0000${e.reqid}`;
    const v = `${e.version.epoch}'${e.version.v}`;
    const prev = seen.get(k);
    if (prev !== undefined && prev !== v) out.push(`osd.${e.osd} applied ${e.reqid} twice in pg ${e.pg}: as ${prev} and as ${v}`);
    seen.set(k, v);
  }
  for (const [obj, a] of appends) {
    const tokens = (a.content ?? '').split('|').filter((t) => t.length > 0);
    const counts = new Map<string, number>();
    for (const t of tokens) counts.set(t, (counts.get(t) ?? 0) + 1);
    for (const [t, n] of counts) if (n > 1) out.push(`append object ${obj} holds ${t} ${n} times`);
    for (const t of a.committedTokens) if (!counts.has(t)) out.push(`append object ${obj} lost the committed token ${t}`);
  }
  return out;
}

/** (d) Ack only after every acting member applied; commit only after every acting member made it durable. */
export function checkAckCommitOrder(events: readonly ProbeEvent[]): string[] {
  const out: string[] = [];
  const applied = new Map<string, number>();
  const committed = new Map<string, number>();
  const key = (osd: number, pg: string, v: { epoch: number; v: number }): string => `${osd}/${pg}/${v.epoch}'${v.v}`;
  for (const e of events) {
    const k = key(e.osd, e.pg, e.version);
    if (e.kind === 'applied' && !applied.has(k)) applied.set(k, e.at);
    if (e.kind === 'committed' && !committed.has(k)) committed.set(k, e.at);
    if (e.kind === 'acked' || e.kind === 'commitSent') {
      const table = e.kind === 'acked' ? applied : committed;
      for (const m of e.acting ?? []) {
        const t = table.get(key(m, e.pg, e.version));
        if (t === undefined || t > e.at) out.push(`osd.${e.osd} sent ${e.kind === 'acked' ? 'ack' : 'commit'} of ${e.pg} ${e.version.epoch}'${e.version.v} at ${e.at} before osd.${m} ${e.kind === 'acked' ? 'applied' : 'committed'} it`);
      }
    }
  }
  return out;
}

/** (e) Each object read from disk at most once per recovery (one primary's peering of one PG). */
export function checkRecoveryReadOnce(events: readonly ProbeEvent[]): string[] {
  const out: string[] = [];
  const reads = new Map<string, ProbeEvent>();
  for (const e of events) {
    if (e.kind !== 'recoveryRead') continue;
    const k = `${e.pg}\u0000${e.recovery ?? ''}\u0000${e.oid ?? ''}`;
    const first = reads.get(k);
    if (first !== undefined) out.push(`pg ${e.pg}: object ${e.oid ?? '?'} read twice by recovery ${e.recovery ?? '?'} (osd.${first.osd} at ${first.at}, osd.${e.osd} at ${e.at})`);
    else reads.set(k, e);
  }
  return out;
}
