/**
 * Each checker catches a planted violation: one real run passes every checker, then each test plants
 * one violation in a copy of its record and the checker must report it. The mutation check runs the
 * ensemble on disks whose fsync does nothing: a power cut of every server must then show committed
 * transactions lost (checker c).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { LifeEvent } from '../zab/ensemble.js';
import { checkAll, checkConverged, checkEphemerals, checkFifo, checkHistory, checkWatches, committedSequence, type Violation } from './checkers.js';
import { checkWrites } from './checkers.js';
import { hex, isCoordBody, type SessionStream, type TreeProbe } from './coord.js';
import type { TraceEntry } from '../../../../src/actors/coord/client/client.js';
import { runScenario, type RunRecord } from './run.js';
import { SCENARIOS } from './scenarios.js';
import type { ClientOp } from './workload.js';

// A mixed-faults seed with leader changes, crashes and pipelined clients.
const SEED = 2;
let base: RunRecord;

beforeAll(async () => {
  base = await runScenario(SCENARIOS['mixed']!, SEED);
}, 120_000);

/** A deep copy (maps of arrays of events included). */
function copy(): RunRecord {
  return structuredClone(base);
}

function names(vs: readonly Violation[]): string {
  return vs.map((v) => `(${v.checker}) ${v.message}`).join('\n');
}

function okWrites(r: RunRecord): ClientOp[] {
  return r.ops.filter((o) => o.kind === 'write' && o.status === 'ok');
}

function applies(r: RunRecord, server: number): Array<Extract<LifeEvent, { kind: 'apply' }>> {
  const lives = r.lives.get(server)!;
  return lives[lives.length - 1]!.filter((e): e is Extract<LifeEvent, { kind: 'apply' }> => e.kind === 'apply');
}

describe('the coord checkers catch planted violations', () => {
  it('the unplanted run passes every checker, and exercised what the plants need', () => {
    const { violations, checks } = checkAll(base);
    expect(names(violations)).toBe('');
    expect(okWrites(base).length).toBeGreaterThan(10);
    expect(checks.a).toBeGreaterThan(0);
    expect(checks.b).toBeGreaterThan(0);
    expect(checks.c).toBeGreaterThan(0);
    expect(checks.d).toBeGreaterThan(0);
    expect(checks.e).toBeGreaterThan(0);
    expect(base.quietAt).toBeDefined();
    // The coordination clients made ephemerals, ended sessions (closed, or expired by the leader) and received watch events.
    const seq = committedSequence(base).seq.filter((x) => isCoordBody(x.txn.body));
    expect(seq.filter((x) => isCoordBody(x.txn.body) && x.txn.body.txn.type === 'closeSession').length).toBeGreaterThan(1);
    expect(seq.filter((x) => isCoordBody(x.txn.body) && x.txn.body.txn.type === 'create' && x.txn.body.txn.ephemeralOwner !== 0n).length).toBeGreaterThan(5);
    expect(base.streams.flatMap((st) => st.entries).filter((x) => x.entry.kind === 'event').length).toBeGreaterThan(5);
  });

  it('(a) two acknowledged writes of one key report the same version (a lost update)', () => {
    const r = copy();
    const ws = okWrites(r).filter((o) => o.request?.key === 'a');
    const [w1, w2] = [ws[0]!, ws.find((o) => o.invokedAt > ws[0]!.completedAt!)!];
    w2.result = { version: (w1.result as { version: number }).version };
    expect(names(checkWrites(r).violations)).toMatch(/key a: writes not linearizable/);
  });

  it('(a) a conditional write that failed although its version was current', () => {
    const r = copy();
    const ws = okWrites(r);
    const w = ws.find((o) => o.request?.op === 'cas')!;
    w.status = 'fail';
    w.error = 'bad_version';
    expect(names(checkWrites(r).violations)).toMatch(/not linearizable/);
  });

  it('(b) a session\'s later request took effect before its earlier one', () => {
    const r = copy();
    const server = r.lives.keys().next().value as number;
    const evs = applies(r, server);
    // Swap the cxids of two consecutive transactions of one session on every server.
    const i = evs.findIndex((e, k) => k > 0 && evs.slice(0, k).some((p) => p.txn.session === e.txn.session));
    const session = evs[i]!.txn.session;
    const j = evs.slice(0, i).map((e) => e.txn.session).lastIndexOf(session);
    const [a, b] = [evs[j]!.txn.cxid, evs[i]!.txn.cxid];
    for (const lives of r.lives.values())
      for (const life of lives)
        for (const e of life)
          if (e.kind === 'apply' && e.txn.session === session) {
            if (e.txn.cxid === a) (e.txn as { cxid: number }).cxid = b;
            else if (e.txn.cxid === b) (e.txn as { cxid: number }).cxid = a;
          }
    expect(names(checkFifo(r).violations)).toMatch(new RegExp(`session ${session}: request ${a} took effect`));
  });

  it('(b) a client told a zxid older than one it was told for an earlier request', () => {
    const r = copy();
    const client = okWrites(r)[5]!.client;
    const mine = r.ops.filter((o) => o.client === client && o.status === 'ok' && o.kind === 'write');
    mine[mine.length - 1]!.zxid = mine[0]!.zxid as number;
    expect(names(checkFifo(r).violations)).toMatch(new RegExp(`client ${client}: request`));
  });

  it('(c) a server skipped a committed transaction (lost after recovery)', () => {
    const r = copy();
    const lives = r.lives.get(1)!;
    const life = lives[lives.length - 1] as LifeEvent[];
    const k = life.findIndex((e, n) => e.kind === 'apply' && n > 5);
    life.splice(k, 1);
    expect(names(checkHistory(r).violations)).toMatch(/server 1 life \d+: applied zxid \d+ after \d+, but the committed sequence has \d+ next/);
  });

  it('(c) a server that never got back the transactions committed while it was down', () => {
    const r = copy();
    const lives = r.lives.get(2)!;
    const life = lives[lives.length - 1] as LifeEvent[];
    life.splice(life.length - 3, 3);
    expect(names(checkHistory(r).violations)).toMatch(/server 2 is quiet at zxid \d+: 3 committed transaction\(s\) after it are lost/);
  });

  it('(c) two servers applied different transactions at one zxid', () => {
    const r = copy();
    const evs = applies(r, 2);
    const e = evs[evs.length - 1]!;
    (e as { txn: unknown }).txn = { ...e.txn, cxid: e.txn.cxid + 1000 };
    expect(names(checkHistory(r).violations)).toMatch(/zxid \d+: server \d+ applied/);
  });

  it('(c) an acknowledged write missing from the committed sequence', () => {
    const r = copy();
    const w = okWrites(r)[0]!;
    (w as { zxid: number }).zxid = (w.zxid as number) + 0.5;
    expect(names(checkHistory(r).violations)).toMatch(/acknowledged write .* is not in the committed sequence/);
  });

  it('(c) servers that differ when quiet, or never got quiet', () => {
    const r = copy();
    (r.images as Map<number, string>).set(1, `${r.images.get(1)}00`);
    expect(names(checkConverged(r).violations)).toMatch(/server 1's state differs/);
    const tree = copy();
    (tree.trees as Map<number, string>).set(2, tree.trees.get(2)!.replace('"/w/a"', '"/w/z"'));
    expect(names(checkConverged(tree).violations)).toMatch(/server 2's znode tree differs/);
    const never = copy();
    (never as { quietAt: number | undefined }).quietAt = undefined;
    expect(names(checkConverged(never).violations)).toMatch(/not quiet/);
  });
});

/** Apply events of coordination transactions, with the server's tree probe. */
function probed(r: RunRecord): Array<{ server: number; life: LifeEvent[]; i: number; ev: Extract<LifeEvent, { kind: 'apply' }> }> {
  const out: Array<{ server: number; life: LifeEvent[]; i: number; ev: Extract<LifeEvent, { kind: 'apply' }> }> = [];
  for (const [server, lives] of r.lives) for (const life of lives) life.forEach((ev, i) => void (ev.kind === 'apply' && ev.probe !== undefined && out.push({ server, life: life as LifeEvent[], i, ev })));
  return out;
}

function entries(st: SessionStream): Array<{ at: number; entry: TraceEntry }> {
  return st.entries as Array<{ at: number; entry: TraceEntry }>;
}

describe('the ephemeral and watch checkers catch planted violations', () => {
  it('(d) a server whose tree keeps an ephemeral of a session it applied as closed', () => {
    const r = copy();
    const all = probed(r);
    const close = all.find((x) => isCoordBody(x.ev.txn.body) && x.ev.txn.body.txn.type === 'closeSession' && all.some((y) => y.life === x.life && y.i > x.i))!;
    const sid = isCoordBody(close.ev.txn.body) && close.ev.txn.body.txn.type === 'closeSession' ? hex(close.ev.txn.body.txn.sessionId) : '';
    const later = all.find((y) => y.life === close.life && y.i > close.i)!;
    const p = later.ev.probe as TreeProbe;
    (later.ev as { probe: TreeProbe }).probe = { eph: [...p.eph, ['/eph/left-behind', sid]], sessions: [...p.sessions, sid] };
    expect(names(checkEphemerals(r).violations)).toMatch(new RegExp(`server ${later.server} life \\d+: after zxid \\d+ its tree holds ephemeral /eph/left-behind of session 0x${sid}, which it applied as closed`));
  });

  it('(d) a server whose tree holds an ephemeral of a session missing from its session table', () => {
    const r = copy();
    const x = probed(r)[10]!;
    const p = x.ev.probe as TreeProbe;
    (x.ev as { probe: TreeProbe }).probe = { eph: [...p.eph, ['/eph/orphan', 'dead']], sessions: p.sessions };
    expect(names(checkEphemerals(r).violations)).toMatch(/ephemeral \/eph\/orphan of session 0xdead, which is not in its session table/);
  });

  it('(d) an ephemeral created for a session that is not live', () => {
    const r = copy();
    // Every server applied the create with an owner no session ever had.
    let path = '';
    for (const lives of r.lives.values())
      for (const life of lives)
        for (const ev of life) {
          if (ev.kind !== 'apply' || !isCoordBody(ev.txn.body)) continue;
          const t = ev.txn.body.txn;
          if (t.type === 'create' && t.ephemeralOwner !== 0n && (path === '' || t.path === path)) {
            path = t.path;
            (t as { ephemeralOwner: bigint }).ephemeralOwner = 0x7777n;
          }
        }
    expect(names(checkEphemerals(r).violations)).toMatch(new RegExp(`creates ephemeral ${path} for session 0x7777, which is not live then`));
  });

  it('(d) a read answered from a state in which the ephemeral\'s session had already closed', () => {
    const r = copy();
    const seq = committedSequence(r).seq;
    const close = seq.find((x) => isCoordBody(x.txn.body) && x.txn.body.txn.type === 'closeSession')!;
    const sid = isCoordBody(close.txn.body) && close.txn.body.txn.type === 'closeSession' ? close.txn.body.txn.sessionId : 0n;
    const read = r.streams.flatMap(entries).find((x) => x.entry.kind === 'reply' && x.entry.reply.err === 0 && x.entry.reply.body?.op === 'getData')!.entry as Extract<TraceEntry, { kind: 'reply' }>;
    const body = read.reply.body as { op: 'getData'; stat: { ephemeralOwner: bigint } };
    body.stat.ephemeralOwner = sid;
    (read.reply as { zxid: number }).zxid = Math.max(read.reply.zxid, close.zxid);
    expect(names(checkEphemerals(r).violations)).toMatch(new RegExp(`getData answered at zxid \\d+ shows ephemeral .* but its session 0x${hex(sid)} closed at zxid ${close.zxid}`));
  });

  it('(e) a one-time watch that fires twice', () => {
    const r = copy();
    const st = r.streams.find((x) => x.entries.some((e) => e.entry.kind === 'event'))!;
    const i = st.entries.findIndex((e) => e.entry.kind === 'event');
    st.entries.splice(i + 1, 0, structuredClone(st.entries[i]!));
    const ev = st.entries[i]!.entry as Extract<TraceEntry, { kind: 'event' }>;
    expect(names(checkWatches(r).violations)).toMatch(new RegExp(`client ${st.client} \\(session ${st.n}\\): event ${ev.event.type} on ${ev.event.path} with no watch registered`));
  });

  it('(e) a reply that reflects a watched change reaches the client before the watch\'s event', () => {
    const r = copy();
    const st = r.streams.find((x) => x.entries.some((e, k) => e.entry.kind === 'event' && x.entries.slice(k).some((f) => f.entry.kind === 'reply' && f.entry.reply.zxid > 0)))!;
    const i = st.entries.findIndex((e, k) => e.entry.kind === 'event' && st.entries.slice(k).some((f) => f.entry.kind === 'reply' && f.entry.reply.zxid > 0));
    const j = st.entries.findIndex((f, k) => k > i && f.entry.kind === 'reply' && f.entry.reply.zxid > 0);
    const reply = st.entries[j]!.entry as Extract<TraceEntry, { kind: 'reply' }>;
    // The reply is moved ahead of the event and tells of the latest committed state.
    (reply.reply as { zxid: number }).zxid = committedSequence(r).seq.at(-1)!.zxid;
    const [ev] = st.entries.splice(i, 1);
    st.entries.splice(j, 0, ev!);
    expect(names(checkWatches(r).violations)).toMatch(new RegExp(`client ${st.client} \\(session ${st.n}\\): a reply at zxid \\d+ reflects the change at zxid \\d+ that triggers its .* watch \\(set at \\d+\\), before that watch's event`));
  });
});

/**
 * With the log's fsync a no-op, a power cut of every server loses the log's contents (the disks
 * here keep nothing unsynced across a crash, so the loss does not depend on chance): transactions
 * the ensemble committed, applied and answered after the last snapshot vanish everywhere, and the
 * next leader's epoch goes on without them. Checker (c) must see it. The same runs with a working
 * fsync lose nothing.
 */
describe.each([1, 2])('mutation check: log fsync that does nothing (seed %i)', (seed) => {
  const cut = { kind: 'power-cut' as const, at: 5_000, durationMs: 500 };
  it('with working fsync, a power cut of every server loses nothing committed', async () => {
    const r = await runScenario(SCENARIOS['crashes']!, seed, { extraEvents: [cut], unsyncedOnCrash: 'drop' });
    expect(r.faults.injected['power-cut']).toBeGreaterThan(0);
    expect(names([...checkHistory(r).violations, ...checkConverged(r).violations])).toBe('');
  }, 120_000);

  it('with the log\'s fsync a no-op, checker (c) reports committed transactions lost or reordered', async () => {
    const r = await runScenario(SCENARIOS['crashes']!, seed, { extraEvents: [cut], unsyncedOnCrash: 'drop', logFsyncIsNoop: true });
    expect(names(checkHistory(r).violations)).toMatch(/lost or reordered|are lost|not in the committed sequence/);
  }, 120_000);
});
