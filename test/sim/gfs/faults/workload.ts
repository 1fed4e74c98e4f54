/**
 * The suite's workload: client processes, each doing one operation at a time, every invocation and
 * completion recorded in virtual time.
 *
 * - namespace processes: mkdir, create, delete, undelete, rename, snapshot, list and stat over a
 *   small tree under /ns (so operations collide), asking the primary master only (¶53–59);
 * - writer processes: each owns /data/w<k> and writes, reads back, snapshots (¶110–113), deletes
 *   and undeletes its snapshots — serial writes, whose regions must end up defined (Table 1);
 * - appender processes: record appends to one shared queue file /q/log through `RecordWriter`
 *   (¶101–108, ¶107).
 *
 * Written data identifies itself: every 8-byte word holds the id of the write that put it there
 * and a mix of its file offset, so any byte a reader gets can be traced to a write that covered
 * that offset — or shown to be corrupt.
 */
import type { Random } from '../../../../src/runtime/random.js';
import { History } from '../../../../src/testkit.js';
import { GfsClientError, RecordWriter, type GfsClient } from '../../../../src/actors/gfs/client/client.js';
import { encodeRecord } from '../../../../src/actors/gfs/client/record.js';
import type { FaultCell } from './cell.js';
import { callNamespaceOp, recordNamespaceOutcome, settleNamespaceCall, type NamespaceInput, type NamespaceOutput } from './namespace-model.js';

// ----- namespace history -----

/** The namespace operations of a run, checked for linearizability (namespace-model.ts). */
export type NsHistory = History<NamespaceInput, NamespaceOutput>;

const NS_DIRS = ['/ns/a', '/ns/b', '/ns/a/c'];
const NS_NAMES = ['/ns/f1', '/ns/f2', '/ns/a/f3', '/ns/b/f4', '/ns/a/c/f5', '/ns/b/s6'];

export function drawNsInput(r: Random): NamespaceInput {
  const any = (): string => r.pick([...NS_DIRS, ...NS_NAMES]);
  const x = r.int(100);
  if (x < 20) return { op: 'create', path: r.pick(NS_NAMES) };
  if (x < 30) return { op: 'mkdir', path: r.pick(NS_DIRS) };
  if (x < 45) return { op: 'delete', path: any(), ...(r.chance(0.3) ? { recursive: true } : {}) };
  if (x < 53) return { op: 'undelete', path: any() };
  if (x < 63) return { op: 'rename', from: any(), to: any() };
  if (x < 68) return { op: 'snapshot', source: any(), target: r.pick(NS_NAMES) };
  if (x < 84) return { op: 'list', path: r.pick(['/ns', ...NS_DIRS]) };
  return { op: 'stat', path: any() };
}

// ----- self-identifying data -----

function mix(writeId: number): number {
  let x = Math.imul(writeId ^ 0x9e3779b9, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** The bytes write `writeId` puts at file offset `offset` (8-aligned), `length` bytes (multiple of 8). */
export function pattern(writeId: number, offset: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  const v = new DataView(out.buffer);
  for (let i = 0; i < length; i += 8) {
    v.setUint32(i, writeId);
    v.setUint32(i + 4, ((offset + i) / 8) ^ mix(writeId));
  }
  return out;
}

/** A view for `wordWriter`. */
export function words(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The write id the word at `at` names, or 0 for a zero word; -1 when no write puts those bytes at `fileOffset`. */
export function wordWriter(view: DataView, at: number, fileOffset: number): number {
  const id = view.getUint32(at);
  const tag = view.getUint32(at + 4);
  if (id === 0) return tag === 0 ? 0 : -1;
  return tag === ((fileOffset / 8) ^ mix(id)) >>> 0 ? id : -1;
}

// ----- data history -----

export interface WriteRecord {
  readonly id: number;
  readonly path: string;
  readonly offset: number;
  readonly length: number;
  readonly invokedAt: number;
  completedAt: number | undefined;
  status: 'ok' | 'fail' | 'pending';
  error?: string;
}

export interface ReadRecord {
  readonly path: string;
  readonly offset: number;
  readonly invokedAt: number;
  readonly completedAt: number;
  readonly data: Uint8Array;
}

export interface SnapshotRecord {
  readonly source: string;
  readonly target: string;
  /** Writes of the source logged before the snapshot was invoked (the owner writes serially). */
  readonly writesBefore: number;
  readonly invokedAt: number;
  completedAt: number | undefined;
  status: 'ok' | 'fail' | 'pending';
}

/** A writer deleting (hiding, ¶72) or undeleting one of its snapshots. */
export interface HideRecord {
  readonly path: string;
  readonly op: 'delete' | 'undelete';
  readonly invokedAt: number;
  completedAt: number | undefined;
  status: 'ok' | 'fail' | 'pending';
}

export interface AppendRecord {
  readonly path: string;
  readonly writer: bigint;
  readonly seq: bigint;
  readonly data: Uint8Array;
  readonly invokedAt: number;
  completedAt: number | undefined;
  status: 'ok' | 'fail' | 'pending';
  offset?: number;
}

export interface WorkloadHistory {
  readonly ns: NsHistory;
  /** Namespace requests that never reached the master (not in `ns`). */
  undelivered: number;
  readonly writes: WriteRecord[];
  readonly reads: ReadRecord[];
  readonly snapshots: SnapshotRecord[];
  readonly hides: HideRecord[];
  readonly appends: AppendRecord[];
  /** Paths each writer owns (files written only by their owner). */
  readonly owned: string[];
}

export const QUEUE = '/q/log';
/** Writers write within the first three chunks of their files (64 KiB chunks, `faultConfig`). */
export const FILE_BYTES_MAX = 3 * 64 * 1024;

export function recordPayload(writer: bigint, seq: bigint, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = Number((writer ^ (seq * 0x9e3779b97f4a7c15n)) & 0xffffffffn) | 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

export function framed(a: { writer: bigint; seq: bigint; data: Uint8Array }): Uint8Array {
  return encodeRecord({ writer: a.writer, seq: a.seq }, a.data);
}

export interface WorkloadOptions {
  readonly nsProcesses: number;
  readonly writers: number;
  readonly appenders: number;
  /** Appenders' pause between appends, ms (default: the others' 20–420 ms). */
  readonly appendPauseMs?: readonly [number, number];
  /** Processes start no new operation after this virtual time. */
  readonly untilMs: number;
}

/** Starts the processes; resolves when every one has finished its last operation. */
export function startWorkload(cell: FaultCell, random: Random, o: WorkloadOptions): { history: WorkloadHistory; done: Promise<void> } {
  const { sim } = cell;
  const h: WorkloadHistory = { ns: new History<NamespaceInput, NamespaceOutput>(), undelivered: 0, writes: [], reads: [], snapshots: [], hides: [], appends: [], owned: [] };

  /**
   * One namespace operation, recorded once its outcome is known (with its invocation time): a
   * definite answer, or an unknown outcome. A request the runtime reports as never delivered
   * (`delivery: 'not_delivered'` — the link was cut or the node down when it was sent: the message
   * itself came back) had no effect, so it is left out of the history — as good as never invoked.
   */
  async function nsOp(client: GfsClient, process: string, input: NamespaceInput): Promise<'ok' | 'fail' | 'info'> {
    const at = sim.now;
    const outcome = await settleNamespaceCall(callNamespaceOp(client, input));
    if (outcome.status === 'info' && outcome.notDelivered) {
      h.undelivered++;
      return 'info';
    }
    recordNamespaceOutcome(h.ns, h.ns.invoke(process, input, at), outcome, sim.now);
    return outcome.status;
  }
  let writeIds = 0;
  const pause = (r: Random): Promise<void> => cell.sleep(20 + r.int(400));
  const running = (): boolean => sim.now < o.untilMs;

  async function must(client: GfsClient, what: () => Promise<unknown>): Promise<boolean> {
    for (let i = 0; i < 40 && running(); i++) {
      try {
        await what();
        return true;
      } catch (e) {
        if (e instanceof GfsClientError && e.code === 'already_exists') return true;
        await cell.sleep(250);
      }
    }
    return false;
  }

  async function nsProcess(k: number): Promise<void> {
    const name = `ns${k}`;
    const client = cell.client(name, true);
    const r = random.fork(name);
    while (running()) {
      await nsOp(client, name, drawNsInput(r));
      await pause(r);
    }
  }

  async function writerProcess(k: number): Promise<void> {
    const name = `w${k}`;
    const client = cell.client(name);
    const r = random.fork(name);
    const path = `/data/w${k}`;
    h.owned.push(path);
    if (!(await must(client, () => client.create(path)))) return;
    const mine: WriteRecord[] = [];
    const snaps: string[] = [];
    while (running()) {
      const x = r.int(100);
      if (x < 65 || mine.length === 0) {
        const offset = 8 * r.int(FILE_BYTES_MAX / 8 - 8);
        const length = 8 * (1 + r.int(Math.min(1024, (FILE_BYTES_MAX - offset) / 8)));
        const w: WriteRecord = { id: ++writeIds, path, offset, length, invokedAt: sim.now, completedAt: undefined, status: 'pending' };
        h.writes.push(w);
        mine.push(w);
        try {
          await client.write(path, offset, pattern(w.id, offset, length));
          w.status = 'ok';
        } catch (e) {
          w.status = 'fail';
          w.error = e instanceof Error ? e.message : String(e);
        }
        w.completedAt = sim.now;
      } else if (x < 88) {
        const offset = 8 * r.int(FILE_BYTES_MAX / 8);
        const length = 8 * (1 + r.int(2 * 1024));
        const invokedAt = sim.now;
        try {
          const data = await client.read(path, offset, length);
          h.reads.push({ path, offset, invokedAt, completedAt: sim.now, data });
        } catch {
          // A failed read returns nothing, so it cannot return a corrupt byte.
        }
      } else if (x < 95 || snaps.length === 0) {
        const target = `/data/w${k}.s${h.snapshots.filter((s) => s.source === path).length}`;
        const s: SnapshotRecord = { source: path, target, writesBefore: mine.length, invokedAt: sim.now, completedAt: undefined, status: 'pending' };
        h.snapshots.push(s);
        try {
          await client.snapshot(path, target);
          s.status = 'ok';
          snaps.push(target);
        } catch {
          s.status = 'fail';
        }
        s.completedAt = sim.now;
      } else {
        // Delete a snapshot (hidden: its chunks stay referenced, ¶72) or bring one back.
        const target = r.pick(snaps);
        const op = r.chance(0.6) ? 'delete' : 'undelete';
        const rec: HideRecord = { path: target, op, invokedAt: sim.now, completedAt: undefined, status: 'pending' };
        h.hides.push(rec);
        rec.status = await (op === 'delete' ? client.delete(target) : client.undelete(target)).then(
          () => 'ok' as const,
          () => 'fail' as const,
        );
        rec.completedAt = sim.now;
      }
      await pause(r);
    }
  }

  async function appenderProcess(k: number): Promise<void> {
    const name = `p${k}`;
    const client = cell.client(name);
    const r = random.fork(name);
    const writerId = (BigInt(k + 1) << 32n) | BigInt(r.int(0x7fffffff));
    const writer = new RecordWriter(client, QUEUE, writerId);
    let seq = 0n;
    while (running()) {
      // RecordWriter numbers its records 1, 2, … per append call.
      seq++;
      const data = recordPayload(writerId, seq, 16 + r.int(2 * 1024));
      const a: AppendRecord = { path: QUEUE, writer: writerId, seq, data, invokedAt: sim.now, completedAt: undefined, status: 'pending' };
      h.appends.push(a);
      try {
        a.offset = (await writer.append(data)).offset;
        a.status = 'ok';
      } catch {
        a.status = 'fail';
      }
      a.completedAt = sim.now;
      if (o.appendPauseMs === undefined) await pause(r);
      else await cell.sleep(o.appendPauseMs[0] + r.int(o.appendPauseMs[1] - o.appendPauseMs[0] + 1));
    }
  }

  const done = (async () => {
    const admin = cell.client('admin');
    // /ns is part of the namespace history (the model starts from an empty root).
    for (let i = 0; i < 40 && running(); i++) {
      if ((await nsOp(admin, 'admin', { op: 'mkdir', path: '/ns' })) !== 'info') break;
      await cell.sleep(250);
    }
    for (const p of ['/data', '/q']) await must(admin, () => admin.mkdir(p));
    await must(admin, () => admin.create(QUEUE));
    await Promise.all([
      ...Array.from({ length: o.nsProcesses }, (_, k) => nsProcess(k)),
      ...Array.from({ length: o.writers }, (_, k) => writerProcess(k)),
      ...Array.from({ length: o.appenders }, (_, k) => appenderProcess(k)),
    ]);
  })();
  return { history: h, done };
}
