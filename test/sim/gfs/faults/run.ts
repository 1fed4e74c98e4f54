/**
 * One seeded run of a scenario: build the cell, play the fault schedule while the workload runs,
 * undo every fault, wait for the cell to heal (checker e), then collect what the checkers need —
 * every replica of every chunk of the data files, the records a `RecordReader` yields, the chunks
 * every file (live or hidden) references — into a `RunRecord`. The checkers (checkers.ts) are pure
 * functions of that record, so a planted violation is a small edit of it.
 */
import { seededRandom } from '../../../../src/runtime/random.js';
import { defaultGfsConfig, type GfsConfig } from '../../../../src/actors/gfs/config.js';
import { RecordReader } from '../../../../src/actors/gfs/client/client.js';
import type { ChunkHandle, ChunkLocation, ClusterStatus, FileInfo, FsckReport, ReadReply } from '../../../../src/actors/gfs/protocol.js';
import { faultCell, MASTER, type PrimaryAct, type ReplicaDeletion } from './cell.js';
import { drawSchedule, playSchedule, type FaultCounts, type FaultEvent, type Scenario } from './schedule.js';
import { GfsClientError } from '../../../../src/actors/gfs/client/client.js';
import type { HistoryOp } from '../../../../src/testkit.js';
import { recordNamespaceOutcome, toNamespaceOutput, type NamespaceInput, type NamespaceOutput } from './namespace-model.js';
import { QUEUE, startWorkload, type WorkloadHistory } from './workload.js';

/** What a run recorded, as plain data (the namespace history as its operations). */
export type RunHistory = Omit<WorkloadHistory, 'ns'> & { readonly ns: readonly HistoryOp<NamespaceInput, NamespaceOutput>[] };

export interface ReplicaImage {
  readonly server: string;
  readonly data?: Uint8Array;
  readonly error?: string;
}

export interface ChunkImage {
  readonly index: number;
  readonly handle: ChunkHandle;
  readonly version: number;
  readonly replicas: readonly ReplicaImage[];
}

export interface RecoveryProbe {
  readonly crashedAt: number;
  readonly restartedAt: number;
  readyAt: number | undefined;
  /** Chunks per data file as the recovered master knows them (`gone`: it answered not_found). */
  readonly chunks: Map<string, number | 'gone'>;
}

export interface RunRecord {
  readonly scenario: string;
  readonly seed: number;
  readonly servers: number;
  readonly racks: number;
  readonly chunkSizeBytes: number;
  readonly schedule: readonly FaultEvent[];
  readonly faults: FaultCounts;
  readonly history: RunHistory;
  readonly acts: readonly PrimaryAct[];
  readonly deletions: readonly ReplicaDeletion[];
  /** Mutations secondaries applied (`server` is the secondary). */
  readonly applied: readonly PrimaryAct[];
  readonly recoveries: readonly RecoveryProbe[];
  readonly faultsEndedAt: number;
  /** When fsck first reported no problem after the faults ended (undefined: never within the bound). */
  readonly convergedAt: number | undefined;
  readonly convergenceBoundMs: number;
  /** Set when the scenario holds record appends to a bound (checker i): the bound, ms. */
  readonly appendBoundMs?: number;
  /** Every replica of every chunk of the data files, after convergence: path → chunks. */
  readonly files: ReadonlyMap<string, readonly ChunkImage[]>;
  /** What a RecordReader yielded from the queue file, after convergence. */
  readonly reader: ReadonlyArray<{ readonly writer: bigint; readonly seq: bigint; readonly offset: number; readonly data: Uint8Array }>;
  readonly readerError?: string;
  /** Chunks referenced by any file, live or hidden (snapshots included), after convergence, with their current versions. */
  readonly referenced: ReadonlyMap<ChunkHandle, number>;
  readonly simulatedMs: number;
  readonly steps: number;
  /** The simulation's trace hash at the end: equal seeds give equal hashes. */
  readonly traceHash: string;
}

export interface RunOptions {
  readonly fsyncIsNoop?: boolean;
  /** Extra events (e.g. a master crash the mutation check needs). */
  readonly extraEvents?: readonly FaultEvent[];
  readonly replay?: string;
  /** Called with the cell after the run, for debugging a seed (traces, logs, disks). */
  readonly inspect?: (cell: ReturnType<typeof faultCell>) => void;
}

const CONVERGENCE_BOUND_MS = 120_000;

/**
 * Checker (i)'s bound on one record append while at most one chunkserver is down (GFS README S4),
 * from the configuration. A crashed server's links fail and its peers are told (DESIGN.md §3), so
 * at most one request — one in flight to the server when it died — waits out its `rpcTimeoutMs`.
 * Everything else takes round trips of milliseconds: the seal (fence, log, cut), the next chunk
 * (create, log, version bump, grant), the attempt there (push, append), and the client's first
 * backoffs (50 + 100 + 200 ms): together less than one more `rpcTimeoutMs`. So two, a fifth of the
 * lease period an append waited for before sealing (10 s in the suite's configuration).
 */
export function appendBoundMs(config: Partial<GfsConfig>): number {
  return 2 * (config.rpcTimeoutMs ?? defaultGfsConfig.rpcTimeoutMs);
}
/** Enough for a scrubber's rest and a full pass over a server's idle chunks (`faultConfig`: 1 s rest, 4 MiB/s, under 1 MiB per server). */
const SCRUB_PASS_MS = 3_000;

export async function runScenario(s: Scenario, seed: number, o: RunOptions = {}): Promise<RunRecord> {
  const shape = seededRandom(seed).fork(`shape:${s.name}`);
  const servers = shape.range(s.servers[0], s.servers[1]);
  const racks = shape.range(s.racks[0], s.racks[1]);
  const cell = faultCell({ seed, servers, racks, ...(o.fsyncIsNoop === true ? { fsyncIsNoop: true } : {}), ...(o.replay === undefined ? {} : { replay: o.replay }) });
  const { sim } = cell;
  const chunkSizeBytes = cell.config.chunkSizeBytes as number;
  await cell.start();

  const schedule = [...drawSchedule(s, sim.random.fork('schedule')), ...(o.extraEvents ?? [])].sort((a, b) => a.at - b.at);
  const recoveries: RecoveryProbe[] = [];
  const workload = startWorkload(cell, sim.random.fork('workload'), { nsProcesses: 2, writers: 2, appenders: s.appenders ?? 3, untilMs: s.windowMs + 3_000, ...(s.appendPauseMs === undefined ? {} : { appendPauseMs: s.appendPauseMs }) });
  const probes: Array<Promise<void>> = [];
  let crashedAt = 0;
  const player = playSchedule(cell, schedule, sim.random.fork('faults'), {
    ...(s.maxServersDown === undefined ? {} : { maxServersDown: s.maxServersDown }),
    onMasterCrash: () => {
      crashedAt = sim.now;
    },
    onMasterRestart: () => void probes.push(recoveryProbe(crashedAt)),
  });

  /** (h): once the restarted master serves again, read its namespace and its files' chunk counts. */
  async function recoveryProbe(at: number): Promise<void> {
    const probe: RecoveryProbe = { crashedAt: at, restartedAt: sim.now, readyAt: undefined, chunks: new Map() };
    recoveries.push(probe);
    const n = recoveries.length;
    for (let i = 0; i < 150 && probe.readyAt === undefined; i++) {
      const st = await cell.ask<ClusterStatus>({ type: 'gfs.master.status' }, MASTER, 1_000);
      if (st.ok) probe.readyAt = sim.now;
      else await cell.sleep(200);
    }
    if (probe.readyAt === undefined) return;
    // The namespace under /ns, as lists in the namespace history (process `recovery<n>`).
    const queue = ['/ns'];
    while (queue.length > 0) {
      const path = queue.shift() as string;
      const id = workload.history.ns.invoke(`recovery${n}`, { op: 'list', path }, sim.now);
      const r = await cell.ask<FileInfo[]>({ type: 'gfs.master.list', path }, MASTER, 1_000);
      recordNamespaceOutcome(workload.history.ns, id, toNamespaceOutput(r.ok ? { status: 'fulfilled', value: r.value } : { status: 'rejected', reason: GfsClientError.of(r.error) }), sim.now);
      if (r.ok) for (const f of r.value) if (f.kind === 'dir') queue.push(f.path);
    }
    for (const path of [...workload.history.owned, QUEUE]) {
      const st = await cell.ask<FileInfo>({ type: 'gfs.master.stat', path }, MASTER, 1_000);
      // Only definite answers count: no answer (the master busy, crashed again) says nothing.
      if (st.ok) probe.chunks.set(path, st.value.chunks ?? 0);
      else if (st.error.code === 'not_found') probe.chunks.set(path, 'gone');
    }
  }

  let faultsEndedAt = 0;
  let convergedAt: number | undefined;
  const driver = (async () => {
    await player.play();
    if (sim.now < s.windowMs + 1_000) await cell.sleep(s.windowMs + 1_000 - sim.now);
    player.stop();
    faultsEndedAt = sim.now;
    await workload.done;
    await Promise.all(probes);
    // (e): every chunk back at its goal, nothing stale or corrupt known, every server up — then
    // again after the scrubbers had time for a full pass over the idle chunks (¶128), which finds
    // flipped bits nobody read, and the master re-cloned what they found.
    const healthy = async (): Promise<boolean> => {
      const [f, st] = await Promise.all([cell.ask<FsckReport>({ type: 'gfs.master.fsck' }, MASTER, 2_000), cell.ask<ClusterStatus>({ type: 'gfs.master.status' }, MASTER, 2_000)]);
      return f.ok && f.value.problems.length === 0 && st.ok && st.value.servers.every((x) => x.alive);
    };
    for (const settle of [0, SCRUB_PASS_MS]) {
      await cell.sleep(settle);
      convergedAt = undefined;
      while (sim.now - faultsEndedAt <= CONVERGENCE_BOUND_MS) {
        if (await healthy()) {
          convergedAt = sim.now;
          break;
        }
        await cell.sleep(500);
      }
    }
  })();
  await sim.result(driver);

  const files = new Map<string, ChunkImage[]>();
  const live = await sim.result(collectPaths(cell, '/', false));
  const hidden = await sim.result(collectPaths(cell, '/', true));
  const referenced = new Map<ChunkHandle, number>();
  for (const path of hidden) for (const c of await sim.result(locations(cell, path))) referenced.set(c.handle, c.version);
  for (const path of live.filter((p) => p.startsWith('/data/') || p === QUEUE)) {
    const chunks: ChunkImage[] = [];
    for (const loc of await sim.result(locations(cell, path))) {
      referenced.set(loc.handle, loc.version);
      const replicas: ReplicaImage[] = [];
      for (const r of loc.replicas) {
        const reply = await sim.result(
          cell.observer.system.ask<ReadReply>(r.ref, { type: 'gfs.chunkserver.read', handle: loc.handle, version: loc.version, offset: 0, lengthBytes: chunkSizeBytes }, { timeoutMs: 5_000 }).catch((e: unknown) => ({ ok: false, error: { code: 'chunkserver_failed', message: `no answer: ${String(e)}` } }) as ReadReply),
        );
        replicas.push(reply.ok ? { server: r.server, data: reply.value.data } : { server: r.server, error: `${reply.error.code}: ${reply.error.message}` });
      }
      chunks.push({ index: loc.index, handle: loc.handle, version: loc.version, replicas });
    }
    files.set(path, chunks);
  }

  const reader: Array<{ writer: bigint; seq: bigint; offset: number; data: Uint8Array }> = [];
  let readerError: string | undefined;
  const consumer = new RecordReader(cell.client('consumer'), QUEUE);
  await sim
    .result(
      (async () => {
        for await (const r of consumer.records()) reader.push({ writer: r.writer, seq: r.seq, offset: r.offset, data: r.data });
      })(),
    )
    .catch((e: unknown) => {
      readerError = e instanceof Error ? e.message : String(e);
    });

  o.inspect?.(cell);
  return {
    scenario: s.name,
    seed,
    servers,
    racks,
    chunkSizeBytes,
    schedule,
    faults: player.counts,
    history: { ...workload.history, ns: workload.history.ns.ops() },
    acts: cell.acts,
    deletions: cell.deletions,
    applied: cell.applied,
    recoveries,
    faultsEndedAt,
    convergedAt,
    convergenceBoundMs: CONVERGENCE_BOUND_MS,
    ...(s.appendsKeepGoing === true ? { appendBoundMs: appendBoundMs(cell.config) } : {}),
    files,
    reader,
    ...(readerError === undefined ? {} : { readerError }),
    referenced,
    simulatedMs: sim.now,
    steps: sim.steps,
    traceHash: sim.traceHash(),
  };
}

/** Every file path under `root` (with `hidden`, deleted ones too). */
async function collectPaths(cell: ReturnType<typeof faultCell>, root: string, hidden: boolean): Promise<string[]> {
  const out: string[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const dir = queue.shift() as string;
    const r = await cell.ask<FileInfo[]>({ type: 'gfs.master.list', path: dir, ...(hidden ? { includeDeleted: true } : {}) });
    if (!r.ok) continue;
    for (const f of r.value) (f.kind === 'dir' ? queue : out).push(f.path);
  }
  return out;
}

async function locations(cell: ReturnType<typeof faultCell>, path: string): Promise<ChunkLocation[]> {
  const st = await cell.ask<FileInfo>({ type: 'gfs.master.stat', path });
  const chunks = st.ok ? (st.value.chunks ?? 0) : 0;
  if (chunks === 0) return [];
  const r = await cell.ask<ChunkLocation[]>({ type: 'gfs.master.getChunkLocations', path, index: 0, count: chunks });
  return r.ok ? r.value : [];
}
