/**
 * One data-path fault run: a cluster (3 monitors, N OSDs, one pool in the scenario's replication
 * mode), clients doing writeFull/read on a few shared objects and appends of unique tokens to their
 * own object, with think time between ops, while the scenario crashes, restarts and partitions
 * OSDs. Then everything heals, the crashed OSDs come back, and a final reader reads every object.
 * Returns the checkers' violations.
 */
import { History } from '../../../../../src/check/history.js';
import type { RadosClient } from '../../../../../src/actors/rados/client/client.js';
import type { ReplicationMode } from '../../../../../src/actors/rados/osdmap/osd-map.js';
import type { OsdMonCommand } from '../../../../../src/actors/rados/protocol.js';
import { POOL, dataCell, osdNodeName } from '../cell.js';
import { checkAckCommitOrder, checkCommittedReadable, checkNoDuplicateApply, checkObjectsLinearizable, checkRecoveryReadOnce, type CommittedWrite, type RegInput, type RegOutput } from './checkers.js';

/**
 * crash-restart / crash-primary: an OSD crashes and restarts (down but in: its PGs stay put, degraded);
 * partition: an OSD is cut off and healed; mark-out: an up OSD is marked out (its PGs remap to OSDs
 * that never held them and recover from it) and later in again (they move back); kill-out: an OSD
 * crashes and is marked down and out at once (remapping while its data is gone), then restarts and
 * is marked in.
 */
export type Fault = 'crash-restart' | 'partition' | 'crash-primary' | 'mark-out' | 'kill-out';

export interface RunOptions {
  readonly seed: number;
  readonly replication: ReplicationMode;
  readonly fault: Fault;
  readonly osds?: number;
  readonly clients?: number;
  /** Pipelined replication with pieces of this many bytes (README D12; default off). */
  readonly sliceBytes?: number;
}

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);
const OBJECTS = ['k0', 'k1', 'k2', 'k3'];
const WORKLOAD_MS = 30_000;
const OP_TIMEOUT_MS = 40_000;

export async function runDataPathFaults(o: RunOptions): Promise<{ violations: string[]; stats: string }> {
  const nOsd = o.osds ?? 5;
  const c = dataCell({ seed: o.seed, osds: nOsd, replication: o.replication, size: 3, pgNum: 8, clients: (o.clients ?? 3) + 1, client: { opTimeoutMs: OP_TIMEOUT_MS, resendAfterMs: 2_000 }, ...(o.sliceBytes === undefined ? {} : { dataPath: { repSliceBytes: o.sliceBytes } }) });
  const clients = await c.start();
  const final = clients.pop() as RadosClient;
  const history = new History<RegInput, RegOutput>();
  const committed: CommittedWrite[] = [];
  const writes: { obj: string; value: string; invokedAt: number; completedAt: number | undefined }[] = [];
  const committedTokens = new Map<string, string[]>();
  const rnd = c.sim.random;
  let stopAt = c.sim.now + WORKLOAD_MS;
  let ops = 0;

  async function worker(i: number, client: RadosClient): Promise<void> {
    const io = client.pool(POOL);
    const proc = `client${i}`;
    let n = 0;
    const appendObj = `log${i}`;
    committedTokens.set(appendObj, []);
    while (c.sim.now < stopAt) {
      n++;
      ops++;
      const r = rnd.next();
      if (r < 0.2) {
        const token = `c${i}n${n}`;
        const h = io.append(appendObj, enc(`|${token}`));
        const res = await h.commit;
        if (res.ok) committedTokens.get(appendObj)!.push(token);
      } else if (r < 0.6) {
        const obj = OBJECTS[Math.floor(rnd.next() * OBJECTS.length)]!;
        const value = `${proc}-${n}`;
        const id = history.invoke(proc, { kind: 'write', obj, value }, c.sim.now);
        const w = { obj, value, invokedAt: c.sim.now, completedAt: undefined as number | undefined };
        writes.push(w);
        const h = io.writeFull(obj, enc(value));
        const ack = await h.ack;
        if (ack.ok) {
          history.ok(id, { value: null }, c.sim.now);
          w.completedAt = c.sim.now;
        } else history.info(id, c.sim.now, ack.error.code);
        const com = await h.commit;
        if (com.ok) committed.push({ obj, value, invokedAt: w.invokedAt, committedAt: c.sim.now });
      } else {
        const obj = OBJECTS[Math.floor(rnd.next() * OBJECTS.length)]!;
        const id = history.invoke(proc, { kind: 'read', obj }, c.sim.now);
        const res = await io.read(obj);
        if (res.ok) history.ok(id, { value: dec(res.value) }, c.sim.now);
        else if (res.error.code === 'not_found') history.ok(id, { value: null }, c.sim.now);
        else history.info(id, c.sim.now, res.error.code);
      }
      await c.sleep(20 + rnd.next() * 80);
    }
  }

  async function faults(): Promise<void> {
    const victim = 1 + Math.floor(rnd.next() * (nOsd - 1));
    await c.sleep(3_000 + rnd.next() * 3_000);
    const admin = async (cmd: OsdMonCommand): Promise<void> => {
      const r = await c.mon.submit(cmd);
      if (!r.ok && r.error.serviceCode !== 'no_change') throw new Error(`${cmd.type}: ${r.error.message}`);
    };
    if (o.fault === 'mark-out') {
      await admin({ type: 'rados.mon.osdMarkOut', osds: [victim], reason: 'admin' });
      await c.sleep(12_000 + rnd.next() * 3_000);
      await admin({ type: 'rados.mon.osdMarkIn', osds: [victim] });
    } else if (o.fault === 'kill-out') {
      c.crash(osdNodeName(victim));
      await admin({ type: 'rados.mon.osdMarkDown', osds: [victim], reason: 'admin' });
      await admin({ type: 'rados.mon.osdMarkOut', osds: [victim], reason: 'admin' });
      await c.sleep(12_000 + rnd.next() * 3_000);
      c.sim.restart(osdNodeName(victim));
      await c.sleep(2_000 + rnd.next() * 2_000);
      await admin({ type: 'rados.mon.osdMarkIn', osds: [victim] });
    } else if (o.fault === 'crash-restart' || o.fault === 'crash-primary') {
      // crash-primary: the OSD that is primary of most PGs (osd 0 leads CRUSH's order often); crash-restart: a random one.
      const target = o.fault === 'crash-primary' ? 0 : victim;
      c.crash(osdNodeName(target));
      await c.sleep(12_000 + rnd.next() * 3_000);
      c.sim.restart(osdNodeName(target));
    } else {
      const others = [...Array.from({ length: nOsd }, (_, i) => osdNodeName(i)).filter((n) => n !== osdNodeName(victim)), 'mon0', 'mon1', 'mon2'];
      c.sim.partition([osdNodeName(victim)], others);
      await c.sleep(12_000 + rnd.next() * 3_000);
      c.sim.heal();
    }
  }

  const work = Promise.all([...clients.map((cl, i) => worker(i, cl)), faults()]);
  await c.sim.result(work);
  stopAt = 0;
  // Everyone back up, then settle.
  await c.sim.result(c.until('every OSD up', (m) => m.osds.every((x) => x.up && x.in), 60_000));
  // Once faults stop, every PG recovers to active+clean within a bound (issue checker (c)).
  await c.sim.result(c.untilClean(90_000));
  const finals = new Map<string, string | null>();
  const fio = final.pool(POOL);
  for (const obj of OBJECTS) {
    const id = history.invoke('final', { kind: 'read', obj }, c.sim.now);
    const r = await c.sim.result(fio.read(obj));
    if (r.ok) {
      finals.set(obj, dec(r.value));
      history.ok(id, { value: dec(r.value) }, c.sim.now);
    } else if (r.error.code === 'not_found') {
      finals.set(obj, null);
      history.ok(id, { value: null }, c.sim.now);
    } else {
      history.info(id, c.sim.now, r.error.code);
      throw new Error(`final read of ${obj} failed: ${r.error.code} ${r.error.message}`);
    }
  }
  const appends = new Map<string, { content: string | null; committedTokens: readonly string[] }>();
  for (const [obj, tokens] of committedTokens) {
    const r = await c.sim.result(fio.read(obj));
    appends.set(obj, { content: r.ok ? dec(r.value) : null, committedTokens: tokens });
  }
  const violations = [
    ...checkCommittedReadable(committed, writes, finals),
    ...checkObjectsLinearizable(history.ops(), OP_TIMEOUT_MS + 1_000),
    ...checkNoDuplicateApply(c.events, appends),
    ...checkAckCommitOrder(c.events),
    ...checkRecoveryReadOnce(c.events),
  ];
  const noops = c.events.filter((e) => e.kind === 'applied' && e.op === 'noop').length;
  const epochs = new Set(c.events.filter((e) => e.kind === 'applied').map((e) => e.version.epoch)).size;
  const recoveryReads = c.events.filter((e) => e.kind === 'recoveryRead').length;
  const unknown = history.ops().filter((op) => op.status === 'info' || op.status === 'pending').length;
  return { violations, stats: `${ops} ops, ${committed.length} committed writes, ${unknown} with unknown outcome, ${noops} resends answered as no-ops, versions from ${epochs} epochs, ${recoveryReads} objects read for recovery, ${c.events.length} probe events` };
}
