/**
 * Bench cases `map-commit` and `map-commit:oplog` (issue 15, item 8), for the `rados-mon` suite.
 *
 * - `map-commit`: updates committed per second through the monitors' Paxos — three monitors, each
 *   on a worker thread of its own process node, each logging to its own directory on the real disk
 *   (a temp dir), hosting the kv test service. `CLIENTS` clients in the main thread submit `set`
 *   commands to the leader, one at a time each; an iteration is `COMMITS` acknowledged commands (an
 *   acknowledgement means the command's version is durable on every quorum member and committed).
 * - `map-commit:oplog`: the floor it builds on — the storage layer's group-committed op log on the
 *   same disk, `CLIENTS` appenders of records the size of one command's incremental, `COMMITS`
 *   appends per iteration.
 *
 * Like for like in concurrency: both sides have `CLIENTS` submitters with one operation outstanding
 * each, and both count an operation done once it is durable. What differs is what the comparison
 * is about: a `map-commit` command also crosses threads (client → leader → peons and back; the
 * monitors talk over direct worker-to-worker channels, the clients through the main thread) and
 * needs a majority of three logs, where an append is local to the log's thread.
 * - `map-commit:via-main`: `map-commit` with the pool's direct channels off, every monitor-to-
 *   monitor message routed through the main thread; reported beside `map-commit` to show what the
 *   channels bring (no target).
 *
 * Target: map-commit >= 0.3x map-commit:oplog. The leader batches the commands that queue during a
 * round into one version (one Paxos round for many commands: about half the clients, those answered
 * while the previous round ran; the kv service's `batch` gathers them at O(1) each); a round costs
 * one fsync per monitor, one of them on the critical path (the leader logs its accept in parallel
 * with the begin, the commit rides on the next begin and shares the peons' accept batch, and the
 * faster peon completes the majority: monitor README, "What a round costs") — but three monitors'
 * fsyncs share the one disk.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchCase, RatioTarget } from './harness.js';
import type { ActorContext, Behavior } from '../runtime/behavior.js';
import type { ActorRef } from '../runtime/ref.js';
import { deferMacrotask } from '../runtime/node/env.js';
import { TroupeNode } from '../runtime/node/troupe-node.js';
import { MessageEncoder } from '../runtime/transport/codec.js';
import { NodeDisk } from '../storage/node/node-disk.js';
import { OpLog } from '../storage/op-log.js';
import { radosMonitor } from '../actors/rados/monitor/monitor.js';
import { DiskMonitorStore } from '../actors/rados/monitor/store.js';
import { kvService, type KvInc } from '../actors/rados/monitor/kv-service.js';
import type { MonitorConfig } from '../actors/rados/monitor/config.js';
import type { MonResult } from '../actors/rados/monitor/errors.js';
import type { MonitorMsg, MonitorStatus, SubmitReply } from '../actors/rados/monitor/protocol.js';

const MONITORS = 3;
const CLIENTS = 64;
const COMMITS = 4_000;
const KEYS = 64;
const NODE = 'bench-mon';

export interface KvMonitorRoleArgs {
  readonly rank: number;
  readonly monitors: readonly ActorRef<MonitorMsg>[];
  /** Absolute directory of this monitor's log and checkpoints. */
  readonly dir: string;
  readonly config?: Partial<MonitorConfig>;
}

/** A monitor hosting the kv service on a real disk, loadable on a worker thread by module and export name. */
export function kvMonitorRole(ctx: ActorContext<MonitorMsg>, args: KvMonitorRoleArgs): Behavior<MonitorMsg> {
  const store = new DiskMonitorStore(new NodeDisk(args.dir), 'mon', deferMacrotask);
  return radosMonitor({ service: kvService, rank: args.rank, monitors: args.monitors, store, ...(args.config === undefined ? {} : { config: args.config }) })(ctx);
}

async function concurrently(n: number, total: number, op: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < total) await op(next++);
    }),
  );
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The two cases and their target; the `rados-mon` suite lists them. */
export function radosMonCommitCases(): { cases: BenchCase[]; targets: RatioTarget[] } {
  let log: OpLog | undefined;
  const encoder = new MessageEncoder({ attachmentMinBytes: Infinity });
  const record = encoder.encode({ t: 'commit', version: 123_456, inc: { epoch: 123_456, set: { k42: 'c12:123456' }, del: [] } satisfies KvInc }).header.slice();

  const shape = `${MONITORS} monitors (one per worker thread, each its own log dir on one real disk), ${CLIENTS} clients submitting one command at a time, ${COMMITS} commands per iteration`;
  const commitCase = (name: string, directChannels: boolean, shapeNote: string): BenchCase => {
    let root = '';
    let node: TroupeNode | undefined;
    let leader: ActorRef<MonitorMsg> | undefined;
    let round = 0;
    return {
      name,
      unit: 'ops',
      perIteration: COMMITS,
      shape: shape + shapeNote,
      setup: async () => {
        root = mkdtempSync(join(tmpdir(), 'troupe-bench-rados-mon-'));
        const n = await TroupeNode.start({ node: NODE, workers: { workers: MONITORS, directChannels }, system: { logger: () => {} } });
        node = n;
        const refs: ActorRef<MonitorMsg>[] = Array.from({ length: MONITORS }, (_, r) => ({ node: `${NODE}/w${r}`, id: `mon${r}` }));
        const module = new URL('./rados-mon-commit.js', import.meta.url).href;
        for (let rank = 0; rank < MONITORS; rank++) {
          const args: KvMonitorRoleArgs = { rank, monitors: refs, dir: join(root, `mon${rank}`) };
          const ref = await n.spawn<MonitorMsg>({ module, export: 'kvMonitorRole', args }, { placement: { worker: rank }, name: `mon${rank}` });
          if (ref.node !== refs[rank]!.node || ref.id !== refs[rank]!.id) throw new Error(`monitor ${rank} spawned as ${ref.id}@${ref.node}, expected ${refs[rank]!.id}@${refs[rank]!.node}`);
        }
        for (let i = 0; ; i++) {
          const st = await n.system.ask<MonResult<MonitorStatus>>(refs[0]!, { type: 'rados.mon.status' });
          if (st.ok && st.value.role === 'leader' && st.value.quorum.length === MONITORS && st.value.readable) break;
          if (i > 400) throw new Error(`the monitors formed no quorum: ${JSON.stringify(st)}`);
          await sleep(50);
        }
        leader = refs[0];
      },
      run: async () => {
        const sys = node!.system;
        const to = leader!;
        const r = round++;
        await concurrently(CLIENTS, COMMITS, async (i) => {
          const res = await sys.ask<MonResult<SubmitReply>>(to, { type: 'rados.mon.submit', cmd: { op: 'set', key: `k${i % KEYS}`, value: `c${i % CLIENTS}:${r}:${i}` } }, { timeoutMs: 60_000 });
          if (!res.ok) throw new Error(`submit failed: ${res.error.code}: ${res.error.message}`);
        });
      },
      teardown: async () => {
        await node?.close();
        node = undefined;
        rmSync(root, { recursive: true, force: true });
      },
    };
  };
  const mapCommit = commitCase('map-commit', true, '; monitors talk over direct worker-to-worker channels');
  const viaMain = commitCase('map-commit:via-main', false, '; every monitor-to-monitor message routed through the main thread (direct channels off)');

  let oplogRoot = '';
  const oplog: BenchCase = {
    name: 'map-commit:oplog',
    unit: 'ops',
    perIteration: COMMITS,
    shape: `the storage layer's op log (group commit) on the same disk: ${CLIENTS} appenders of ${record.length}-byte records (one command's commit record), ${COMMITS} appends per iteration`,
    setup: async () => {
      oplogRoot = mkdtempSync(join(tmpdir(), 'troupe-bench-rados-mon-oplog-'));
      log = await OpLog.open(new NodeDisk(oplogRoot), { dir: 'oplog', defer: deferMacrotask });
    },
    run: async () => {
      const l = log!;
      await concurrently(CLIENTS, COMMITS, () => l.append(record));
    },
    teardown: async () => {
      await log?.close();
      rmSync(oplogRoot, { recursive: true, force: true });
    },
  };

  return {
    cases: [mapCommit, oplog, viaMain],
    targets: [
      { name: 'map-commit', baseline: 'map-commit:oplog', atLeast: 0.3 },
      // What the direct channels bring: the same cluster with monitor traffic through the main thread.
      { name: 'map-commit', baseline: 'map-commit:via-main', atLeast: 0 },
    ],
  };
}
