/**
 * One seeded run of a monitor scenario: build the cell, run writers, readers and a subscriber while
 * the fault schedule plays, undo every fault, then submit one more command (a stand-in for a failure
 * report) and note when it commits (checker d). Everything the checkers need is plain data in the
 * `RunRecord`, so a planted violation is a small edit of it.
 */
import type { Random } from '../../../../../src/runtime/random.js';
import type { ActorRef } from '../../../../../src/index.js';
import { kvService, type KvInc, type KvState } from '../../../../../src/actors/rados/monitor/kv-service.js';
import type { MonitorMsg, MonitorPush } from '../../../../../src/actors/rados/monitor/protocol.js';
import { monitorCell, type CommitEvent, type RecoveryEvent } from '../cell.js';
import { drawSchedule, playSchedule, type FaultCounts, type FaultEvent, type Scenario } from './schedule.js';

/** A party's observation of a version: a client's reply, a subscriber's applied push. */
export interface Observation {
  readonly party: string;
  readonly at: number;
  readonly version: number;
}

export interface ReadOp {
  readonly process: string;
  readonly start: number;
  readonly end: number;
  readonly version: number;
  /** The state returned, canonical JSON. */
  readonly state: string;
}

/** A state a party held at a version (a subscriber after applying pushes), canonical JSON. */
export interface HeldState {
  readonly party: string;
  readonly version: number;
  readonly state: string;
}

export interface RunRecord {
  readonly scenario: string;
  readonly seed: number;
  readonly monitors: number;
  readonly schedule: readonly FaultEvent[];
  readonly faults: FaultCounts;
  readonly commits: readonly CommitEvent[];
  readonly recoveries: readonly RecoveryEvent[];
  readonly observations: readonly Observation[];
  readonly reads: readonly ReadOp[];
  readonly held: readonly HeldState[];
  readonly submitted: number;
  readonly acknowledged: number;
  readonly faultsEndedAt: number;
  /** The post-fault command: when it was submitted, and when a monitor first committed it (undefined: not within the run). */
  readonly liveness: { readonly submittedAt: number; readonly committedAt: number | undefined; readonly boundMs: number };
  readonly simulatedMs: number;
  readonly traceHash: string;
}

export interface RunOptions {
  readonly fsyncIsNoop?: boolean;
  readonly extraEvents?: readonly FaultEvent[];
  readonly replay?: string;
}

/** With a majority up and connected, a command commits within this (checker d): an election or two, plus the new leader's wait for old leases (P6). */
export const LIVENESS_BOUND_MS = 30_000;

/** Canonical JSON of a kv state (sorted keys), so states built along different paths compare equal. */
export function canonical(s: KvState): string {
  const keys = Object.keys(s.entries).sort();
  return JSON.stringify({ epoch: s.epoch, entries: keys.map((k) => [k, s.entries[k]]) });
}

export async function runScenario(s: Scenario, seed: number, o: RunOptions = {}): Promise<RunRecord> {
  const cell = monitorCell({ seed, monitors: s.monitors, ...(o.fsyncIsNoop === true ? { fsyncIsNoop: true } : {}), ...(o.replay === undefined ? {} : { replay: o.replay }) });
  const { sim } = cell;
  await cell.settle();
  const random = sim.random.fork('workload');
  const schedule = [...drawSchedule(s, sim.random.fork('schedule')), ...(o.extraEvents ?? [])].sort((a, b) => a.at - b.at);
  const player = playSchedule(cell, schedule, sim.random.fork('faults'));
  const observations: Observation[] = [];
  const reads: ReadOp[] = [];
  const held: HeldState[] = [];
  const untilMs = s.windowMs + 2_000;
  let submitted = 0;
  let acknowledged = 0;

  async function writer(name: string, r: Random): Promise<void> {
    const client = cell.client(name, { preferred: r.int(s.monitors) });
    for (let n = 0; sim.now < untilMs; n++) {
      submitted++;
      // The request id makes the client's retries (after a timeout, a lost answer or
      // outcome_unknown) safe: checker (e).
      const res = await client.submit({ op: 'set', key: `k${r.int(8)}`, value: `${name}:${n}` }, { requestId: `${name}:${n}` });
      if (res.ok) {
        acknowledged++;
        observations.push({ party: name, at: sim.now, version: res.value.version });
      }
      await cell.sleep(20 + r.int(180));
    }
  }

  async function reader(name: string, r: Random): Promise<void> {
    const client = cell.client(name, { preferred: r.int(s.monitors) });
    while (sim.now < untilMs) {
      const start = sim.now;
      const res = await client.read<KvState>();
      if (res.ok && res.value.state !== undefined) {
        reads.push({ process: name, start, end: sim.now, version: res.value.version, state: canonical(res.value.state) });
        observations.push({ party: name, at: sim.now, version: res.value.version });
      }
      await cell.sleep(30 + r.int(250));
    }
  }

  // A subscriber applies pushed versions that extend what it has, and renews its subscription at another monitor now and then.
  const subName = 'subscriber';
  const subNode = sim.addNode(subName, () => {});
  cell.clientNodes.push(subName);
  let subVersion = 0;
  let subState: KvState = kvService.initial();
  const subRef = subNode.system.spawn<MonitorPush<KvState, KvInc>>(() => ({
    receive: (m) => {
      if (m.type !== 'rados.mon.update') return;
      let changed = false;
      if (m.share.snapshot !== undefined && m.share.snapshot.version > subVersion) {
        subState = m.share.snapshot.state;
        subVersion = m.share.snapshot.version;
        changed = true;
      }
      for (const [v, inc] of m.share.incs) {
        if (v !== subVersion + 1) continue;
        subState = kvService.apply(subState, inc);
        subVersion = v;
        changed = true;
      }
      if (changed) {
        observations.push({ party: subName, at: sim.now, version: subVersion });
        held.push({ party: subName, version: subVersion, state: canonical(subState) });
      }
    },
  }));
  async function subscriber(r: Random): Promise<void> {
    let rank = r.int(s.monitors);
    while (sim.now < untilMs + 3_000) {
      const to = cell.refs[rank] as ActorRef<MonitorMsg>;
      await subNode.system.ask(to, { type: 'rados.mon.subscribe', subscriber: subRef, since: subVersion }, { timeoutMs: 1_000 }).catch(() => undefined);
      await cell.sleep(3_000);
      subNode.system.tell(to, { type: 'rados.mon.unsubscribe', subscriber: subRef });
      rank = r.int(s.monitors);
    }
  }

  let faultsEndedAt = 0;
  let liveness: RunRecord['liveness'] = { submittedAt: 0, committedAt: undefined, boundMs: LIVENESS_BOUND_MS };
  const driver = (async () => {
    const work = Promise.all([writer('w0', random.fork('w0')), writer('w1', random.fork('w1')), writer('w2', random.fork('w2')), reader('r0', random.fork('r0')), reader('r1', random.fork('r1')), subscriber(random.fork('sub'))]);
    await player.play();
    if (sim.now < s.windowMs + 1_000) await cell.sleep(s.windowMs + 1_000 - sim.now);
    player.stop();
    faultsEndedAt = sim.now;
    await work;
    // (d): every monitor up and connected; a failure report must commit within the bound.
    const reporter = cell.client('reporter', { attemptsMax: 1_000 });
    const submittedAt = sim.now;
    const target = `osd.${seed}`;
    const pending = reporter.submit({ op: 'report', target, reporter: 'reporter' });
    const deadline = submittedAt + LIVENESS_BOUND_MS;
    const committed = (): CommitEvent | undefined => cell.commits.find((c) => c.at >= submittedAt && c.value !== undefined && c.value.includes(`"down/${target}"`));
    while (sim.now < deadline && committed() === undefined) await cell.sleep(100);
    liveness = { submittedAt, committedAt: committed()?.at, boundMs: LIVENESS_BOUND_MS };
    await pending;
    // Let every monitor catch up before the run ends.
    await cell.sleep(3_000);
  })();
  await sim.result(driver);

  return {
    scenario: s.name,
    seed,
    monitors: s.monitors,
    schedule,
    faults: player.counts,
    commits: cell.commits,
    recoveries: cell.recoveries,
    observations,
    reads,
    held,
    submitted,
    acknowledged,
    faultsEndedAt,
    liveness,
    simulatedMs: sim.now,
    traceHash: sim.traceHash(),
  };
}
