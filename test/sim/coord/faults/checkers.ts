/**
 * The fault suite's checkers, pure functions of a `RunRecord` (issue 17, item 8):
 * (a) writes are linearizable (src/check/linearizability.ts, one history per key — linearizability
 *     is compositional — against a model of a versioned register);
 * (b) each client's operations take effect in its issue order (FIFO): in the committed sequence a
 *     session's requests appear in cxid order, and the zxids a client was told never go backwards;
 * (c) no committed transaction is lost or reordered on any server, across crashes and recoveries:
 *     one transaction per zxid everywhere, each server life applies exactly the committed sequence
 *     from where its snapshot (or a SNAP) left it, every acknowledged write is in it, and when
 *     quiet every server holds the same state (register and znode tree), the one the committed
 *     sequence produces;
 * (d) an ephemeral node exists only while its session is live (S4), checked all through the run:
 *     no server's tree, after any transaction it applied, holds an ephemeral whose owner it has
 *     applied as closed or that is missing from its session table; no ephemeral is created for a
 *     session that is not live at that point of the committed sequence; and no client read is
 *     answered from a state (its reply zxid) in which the ephemeral's owner was already closed;
 * (e) one-time watches (W1, W3): every watch event a client accepts spends a registration the
 *     client made (a read with a watch), so none fires twice; and a client never accepts a reply
 *     whose zxid reflects the change that triggers one of its registered watches before that
 *     watch's event. One miss is ZooKeeper's documented behaviour and allowed: an exists watch on
 *     a node that was created and deleted again while its client was away is re-registered by
 *     setWatches without an event (W4 compares the node as it is then) — the watch counts as set
 *     afresh at the setWatches.
 */
import { checkLinearizable, type HistoryOp, type Model } from '../../../../src/testkit.js';
import type { ZabTxn } from '../../../../src/actors/coord/zab/protocol.js';
import type { Zxid } from '../../../../src/actors/coord/zab/zxid.js';
import { KvMachine, type KvBody, type KvRequest } from '../zab/kv-machine.js';
import { normalizedTree, type RunRecord } from './run.js';
import { COORD_CONFIG, hex, isCoordBody, type TreeProbe } from './coord.js';
import { coordConfig } from '../../../../src/actors/coord/config.js';
import { Code } from '../../../../src/actors/coord/errors.js';
import { EventType, Xid } from '../../../../src/actors/coord/protocol.js';
import { TreeStateMachine } from '../../../../src/actors/coord/state-machine.js';
import { nodeKind } from '../../../../src/actors/coord/tree/node-kind.js';
import type { CoordTxn } from '../../../../src/actors/coord/tree/txn.js';
import { KEYS, type ClientOp } from './workload.js';
import { formatViolations as formatSuiteViolations, type Violation as SuiteViolation } from '../../../support/violations.js';

export type Violation = SuiteViolation<'a' | 'b' | 'c' | 'd' | 'e'>;

export interface CheckResult {
  readonly violations: Violation[];
  /** How much each checker looked at (a run that checked nothing proves nothing). */
  readonly checks: { a: number; b: number; c: number; d: number; e: number };
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

/** JSON of transactions that carry session ids (bigint) and data (bytes). */
function plain(_key: string, v: unknown): unknown {
  if (typeof v === 'bigint') return `${v}n`;
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  return v;
}

/** The committed sequence: every transaction any server applied, by zxid (conflicts reported as c). */
export function committedSequence(r: RunRecord): { seq: Array<{ zxid: Zxid; txn: ZabTxn }>; violations: Violation[] } {
  const byZxid = new Map<Zxid, { txn: ZabTxn; json: string; server: number }>();
  const violations: Violation[] = [];
  for (const [server, lives] of r.lives) {
    for (const life of lives) {
      for (const ev of life) {
        if (ev.kind !== 'apply') continue;
        const json = JSON.stringify(ev.txn, plain);
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

/** (c) Quiet after the faults: every server at the end of the committed sequence, all with the state it produces. */
export function checkConverged(r: RunRecord): { violations: Violation[]; checked: number } {
  const violations: Violation[] = [];
  if (r.quietAt === undefined) return { violations: [{ checker: 'c', message: `the ensemble was not quiet within ${r.quietBoundMs} ms after the faults ended` }], checked: 0 };
  const { seq } = committedSequence(r);
  const last = seq[seq.length - 1]?.zxid ?? 0;
  if ((r.quietZxid ?? 0) < last) violations.push({ checker: 'c', message: `quiet at zxid ${r.quietZxid}, but zxid ${last} was committed` });
  const expected = new KvMachine();
  const tree = new TreeStateMachine(coordConfig(COORD_CONFIG));
  for (const { zxid, txn } of seq) {
    if (isCoordBody(txn.body)) tree.apply(txn.body.txn, zxid, txn.body.time);
    else if (txn.body !== undefined) expected.apply(txn.body as KvBody, zxid);
  }
  const want = Buffer.from(expected.snapshot()).toString('hex');
  for (const [server, image] of r.images) if (image !== want) violations.push({ checker: 'c', message: `server ${server}'s state differs from the committed sequence's` });
  const wantTree = normalizedTree(tree.tree);
  for (const [server, t] of r.trees) if (t !== wantTree) violations.push({ checker: 'c', message: `server ${server}'s znode tree differs from the committed sequence's` });
  return { violations, checked: r.images.size + r.trees.size };
}

/** Ephemeral creates in a transaction (a multi's included): path and owner. */
function ephemeralCreates(txn: CoordTxn): Array<{ path: string; owner: bigint }> {
  if (txn.type === 'create' && nodeKind(txn.ephemeralOwner) === 'ephemeral') return [{ path: txn.path, owner: txn.ephemeralOwner }];
  if (txn.type === 'multi') return txn.ops.flatMap(ephemeralCreates);
  return [];
}

/** (d) An ephemeral node exists only while its session is live (S4), all through the run. */
export function checkEphemerals(r: RunRecord): { violations: Violation[]; checked: number } {
  const violations: Violation[] = [];
  let checked = 0;
  // Every server's own tree after each transaction it applied.
  for (const [server, lives] of r.lives) {
    lives.forEach((life, n) => {
      const closed = new Set<string>();
      for (const ev of life) {
        if (ev.kind !== 'apply' || !isCoordBody(ev.txn.body)) continue;
        const t = ev.txn.body.txn;
        if (t.type === 'closeSession') closed.add(hex(t.sessionId));
        if (t.type === 'createSession') closed.delete(hex(t.sessionId));
        const probe = ev.probe as TreeProbe | undefined;
        if (probe === undefined) continue;
        const table = new Set(probe.sessions);
        for (const [path, owner] of probe.eph) {
          if (closed.has(owner)) violations.push({ checker: 'd', message: `server ${server} life ${n}: after zxid ${ev.zxid} its tree holds ephemeral ${path} of session 0x${owner}, which it applied as closed` });
          else if (!table.has(owner)) violations.push({ checker: 'd', message: `server ${server} life ${n}: after zxid ${ev.zxid} its tree holds ephemeral ${path} of session 0x${owner}, which is not in its session table` });
          checked++;
        }
      }
    });
  }
  // The committed sequence: an ephemeral is only ever created for a live session; when each session closed.
  const { seq } = committedSequence(r);
  const live = new Set<string>();
  const closedAt = new Map<string, Zxid>();
  for (const { zxid, txn } of seq) {
    if (!isCoordBody(txn.body)) continue;
    const t = txn.body.txn;
    if (t.type === 'createSession') live.add(hex(t.sessionId));
    else if (t.type === 'closeSession') {
      live.delete(hex(t.sessionId));
      if (!closedAt.has(hex(t.sessionId))) closedAt.set(hex(t.sessionId), zxid);
    }
    for (const c of ephemeralCreates(t)) {
      if (!live.has(hex(c.owner))) violations.push({ checker: 'd', message: `zxid ${zxid} creates ephemeral ${c.path} for session 0x${hex(c.owner)}, which is not live then` });
      checked++;
    }
  }
  // Client reads: none answered from a state in which the owner was already closed.
  const sessionOf = new Map<string, string>();
  for (const st of r.streams) if (st.sessionId !== undefined) sessionOf.set(`${st.client}.${st.n}`, st.sessionId);
  for (const st of r.streams) {
    for (const { entry } of st.entries) {
      if (entry.kind !== 'reply' || entry.reply.err !== 0 || entry.request === undefined || entry.reply.body === undefined) continue;
      const body = entry.reply.body;
      const seen: Array<{ path: string; owner: string }> = [];
      if ((body.op === 'getData' || body.op === 'exists') && body.stat !== null && nodeKind(body.stat.ephemeralOwner) === 'ephemeral' && 'path' in entry.request) seen.push({ path: entry.request.path, owner: hex(body.stat.ephemeralOwner) });
      if (body.op === 'getChildren' && entry.request.op === 'getChildren' && entry.request.path === '/eph') {
        for (const child of body.children) {
          const owner = sessionOf.get(child.slice(0, child.lastIndexOf('-')));
          if (owner !== undefined) seen.push({ path: `/eph/${child}`, owner });
        }
      }
      for (const x of seen) {
        const closed = closedAt.get(x.owner);
        if (closed !== undefined && closed <= entry.reply.zxid) violations.push({ checker: 'd', message: `client ${st.client} (session ${st.n}): ${entry.request.op} answered at zxid ${entry.reply.zxid} shows ephemeral ${x.path}, but its session 0x${x.owner} closed at zxid ${closed}` });
        checked++;
      }
    }
  }
  return { violations, checked };
}

type WatchKind = 'data' | 'exist' | 'child';

/** (e) One-time watches: at most one event per registration, and the event before any reply that reflects its change. */
export function checkWatches(r: RunRecord): { violations: Violation[]; checked: number } {
  const violations: Violation[] = [];
  let checked = 0;
  // The committed sequence's watch triggers, per (kind, path), in zxid order.
  const triggers = new Map<string, Zxid[]>();
  const add = (kind: WatchKind, path: string, zxid: Zxid): void => {
    const k = `${kind} ${path}`;
    let l = triggers.get(k);
    if (l === undefined) triggers.set(k, (l = []));
    if (l[l.length - 1] !== zxid) l.push(zxid);
  };
  /** Per path, when it came to exist and stopped existing. */
  const presence = new Map<string, Array<{ zxid: Zxid; exists: boolean }>>();
  const tree = new TreeStateMachine(coordConfig(COORD_CONFIG));
  for (const { zxid, txn } of committedSequence(r).seq) {
    if (!isCoordBody(txn.body)) continue;
    for (const ev of tree.apply(txn.body.txn, zxid, txn.body.time).events) {
      if (ev.type === EventType.NodeCreated || ev.type === EventType.NodeDeleted) {
        let l = presence.get(ev.path);
        if (l === undefined) presence.set(ev.path, (l = []));
        l.push({ zxid, exists: ev.type === EventType.NodeCreated });
      }
      if (ev.type === EventType.NodeChildrenChanged) add('child', ev.path, zxid);
      else {
        add('data', ev.path, zxid);
        add('exist', ev.path, zxid);
        if (ev.type === EventType.NodeDeleted) add('child', ev.path, zxid);
      }
    }
  }
  const firstAfter = (key: string, zxid: Zxid): Zxid | undefined => {
    const l = triggers.get(key) ?? [];
    let lo = 0;
    let hi = l.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((l[mid] as Zxid) <= zxid) lo = mid + 1;
      else hi = mid;
    }
    return l[lo];
  };
  const existsAt = (path: string, zxid: Zxid): boolean => {
    let last = false;
    for (const x of presence.get(path) ?? []) {
      if (x.zxid > zxid) break;
      last = x.exists;
    }
    return last;
  };
  const spends: Record<number, WatchKind[]> = {
    [EventType.NodeCreated]: ['data', 'exist'],
    [EventType.NodeDataChanged]: ['data', 'exist'],
    [EventType.NodeChildrenChanged]: ['child'],
    [EventType.NodeDeleted]: ['data', 'exist', 'child'],
  };
  for (const st of r.streams) {
    /** Outstanding registrations: key → the zxid of the state they were set on (the earliest, when set again before firing). */
    const registered = new Map<string, Zxid>();
    for (const { entry } of st.entries) {
      if (entry.kind === 'state') {
        if (entry.state === 'expired' || entry.state === 'closed') registered.clear();
        continue;
      }
      if (entry.kind === 'event') {
        const kinds = spends[entry.event.type] ?? [];
        let spent = 0;
        for (const kind of kinds) if (registered.delete(`${kind} ${entry.event.path}`)) spent++;
        if (spent === 0) violations.push({ checker: 'e', message: `client ${st.client} (session ${st.n}): event ${entry.event.type} on ${entry.event.path} with no watch registered for it (a one-time watch fired twice, or one never set)` });
        checked++;
        continue;
      }
      const reply = entry.reply;
      if (reply.xid === Xid.setWatches) {
        // The setWatches evaluated the server's tree at the reply's zxid: an exists watch on a node absent then is set again from there.
        for (const [key, at] of registered) if (key.startsWith('exist ') && !existsAt(key.slice(6), reply.zxid) && at < reply.zxid) registered.set(key, reply.zxid);
      }
      if (reply.zxid > 0) {
        for (const [key, at] of registered) {
          const z = firstAfter(key, at);
          if (z !== undefined && z <= reply.zxid) {
            violations.push({ checker: 'e', message: `client ${st.client} (session ${st.n}): a reply at zxid ${reply.zxid} reflects the change at zxid ${z} that triggers its ${key} watch (set at ${at}), before that watch's event` });
            registered.delete(key);
          }
          checked++;
        }
      }
      const q = entry.request;
      if (q === undefined) continue;
      let kind: WatchKind | undefined;
      const path = q.op === 'getData' || q.op === 'exists' || q.op === 'getChildren' ? q.path : '';
      if (q.op === 'getData' && q.watch && reply.err === 0) kind = 'data';
      else if (q.op === 'exists' && q.watch && reply.err === 0) kind = 'data';
      else if (q.op === 'exists' && q.watch && reply.err === Code.NONODE) kind = 'exist';
      else if (q.op === 'getChildren' && q.watch && reply.err === 0) kind = 'child';
      if (kind !== undefined && !registered.has(`${kind} ${path}`)) registered.set(`${kind} ${path}`, reply.zxid);
    }
  }
  return { violations, checked };
}

export function checkAll(r: RunRecord): CheckResult {
  const a = checkWrites(r);
  const b = checkFifo(r);
  const c = checkHistory(r);
  const q = checkConverged(r);
  const d = checkEphemerals(r);
  const e = checkWatches(r);
  return { violations: [...a.violations, ...b.violations, ...c.violations, ...q.violations, ...d.violations, ...e.violations], checks: { a: a.checked, b: b.checked, c: c.checked + q.checked, d: d.checked, e: e.checked } };
}

export const formatViolations = (vs: readonly Violation[]): string => formatSuiteViolations(vs);
