/**
 * Fault schedules drawn from a seed. Each scenario names the fault classes it mixes; the schedule is
 * a list of timed events, each with the time it is undone (a crashed node restarts, a partition
 * heals, a skewed clock returns, a full disk frees up). Bit flips are instantaneous: the damage
 * stays until the chunkserver's checksums find it (¶122–128).
 */
import type { Random } from '../../../../src/runtime/random.js';
import { FaultUndo, drawFaultSchedule, playEvents, zeroCounts, type FaultEvent as ScheduledFault } from '../../../support/fault-schedule.js';
import type { SimDisk } from '../../../../src/testkit.js';
import type { ChunkLocation, FileInfo } from '../../../../src/actors/gfs/protocol.js';
import { MASTER, MASTER_NODES, type FaultCell } from './cell.js';
import { QUEUE } from './workload.js';

export const FAULT_CLASSES = ['chunkserver-crash', 'master-crash', 'cluster-restart', 'partition', 'isolated-primary', 'master-cut', 'delay', 'bit-flip', 'clock-skew', 'disk-full', 'primary-kill'] as const;
export type FaultClass = (typeof FAULT_CLASSES)[number];

export type FaultEvent = ScheduledFault<FaultClass>;

export interface Scenario {
  readonly name: string;
  readonly servers: readonly [number, number];
  readonly racks: readonly [number, number];
  /** Fault classes and their relative weights. */
  readonly faults: Partial<Record<FaultClass, number>>;
  readonly events: readonly [number, number];
  /** Faults happen in [2 s, windowMs]; then everything is undone. */
  readonly windowMs: number;
  /** Chunkservers down at once at most (default 2). */
  readonly maxServersDown?: number;
  /**
   * Record appends must all succeed, each within a bound derived from the configuration (checker
   * i; GFS README S4): for schedules with at most one chunkserver down at a time and no other fault.
   */
  readonly appendsKeepGoing?: boolean;
  /** Appender processes and their pause between appends (default 3, 20–420 ms). */
  readonly appenders?: number;
  readonly appendPauseMs?: readonly [number, number];
}

/** Duration ranges per class, ms. Clock skew stays within the lease margins (`faultConfig`). */
const durations: Record<FaultClass, readonly [number, number]> = {
  'chunkserver-crash': [300, 8_000],
  'master-crash': [200, 4_000],
  'cluster-restart': [300, 4_000],
  partition: [500, 6_000],
  'isolated-primary': [1_000, 12_000],
  'master-cut': [1_000, 6_000],
  delay: [1_000, 6_000],
  'bit-flip': [0, 0],
  'clock-skew': [2_000, 10_000],
  'disk-full': [1_000, 8_000],
  'primary-kill': [1_000, 8_000],
};

export function drawSchedule(s: Scenario, random: Random): FaultEvent[] {
  return drawFaultSchedule(s, durations, random, 2_000);
}

export interface FaultCounts {
  readonly injected: Record<FaultClass, number>;
  /** Events skipped because they would have exceeded a limit (e.g. more than two chunkservers down). */
  skipped: number;
}

/**
 * Plays a schedule on a cell. Keeps at most `maxServersDown` chunkservers crashed at once (with
 * three replicas, more would make acknowledged data unavailable — not lost — until restarts).
 * `stop()` undoes every fault still in force, at once. The hooks run when the primary master
 * crashes and after it restarts.
 */
export function playSchedule(
  cell: FaultCell,
  events: readonly FaultEvent[],
  random: Random,
  hooks: { readonly onMasterCrash?: () => void; readonly onMasterRestart?: () => void; readonly maxServersDown?: number } = {},
) {
  const { sim } = cell;
  const counts: FaultCounts = { injected: zeroCounts(FAULT_CLASSES), skipped: 0 };
  const undo = new FaultUndo((ms, fn) => sim.after(ms, fn));
  const later = (ms: number, fn: () => void): void => undo.later(ms, fn);
  const crashed = new Set<string>();
  const all = (): string[] => [...MASTER_NODES, ...cell.servers, ...cell.clientNodes];
  const base = { latencyMinMs: 0.2, latencyMaxMs: 2 };

  function crashFor(node: string, ms: number): void {
    crashed.add(node);
    cell.crash(node);
    if (node === 'master') hooks.onMasterCrash?.();
    later(ms, () => {
      crashed.delete(node);
      cell.restart(node);
      if (node === 'master') hooks.onMasterRestart?.();
    });
  }

  function cut(a: readonly string[], b: readonly string[], ms: number): void {
    sim.partition(a, b);
    later(ms, () => sim.heal(a, b));
  }

  async function apply(e: FaultEvent): Promise<void> {
    switch (e.kind) {
      case 'chunkserver-crash': {
        const up = cell.servers.filter((s) => !crashed.has(s));
        if (cell.servers.length - up.length >= (hooks.maxServersDown ?? 2) || up.length === 0) {
          counts.skipped++;
          return;
        }
        crashFor(random.pick(up), e.durationMs);
        break;
      }
      case 'primary-kill': {
        // The chunkserver holding the lease of the hot append file's last chunk: killed while
        // producers append (GFS README S4), restarted later with its disk.
        if (cell.servers.filter((x) => crashed.has(x)).length >= (hooks.maxServersDown ?? 2)) {
          counts.skipped++;
          return;
        }
        const victim = await queuePrimary();
        if (victim === undefined || crashed.has(victim)) {
          counts.skipped++;
          return;
        }
        crashFor(victim, e.durationMs);
        break;
      }
      case 'master-crash':
        if (crashed.has('master')) {
          counts.skipped++;
          return;
        }
        crashFor('master', e.durationMs);
        break;
      case 'cluster-restart': {
        // A power cut of the whole cell — the master and every chunkserver (Ctrl-C, then start
        // again): all come back together, while the workload keeps trying.
        if (crashed.has('master')) {
          counts.skipped++;
          return;
        }
        const down = ['master', ...cell.servers.filter((s) => !crashed.has(s))];
        for (const node of down) crashed.add(node);
        for (const node of down) cell.crash(node);
        hooks.onMasterCrash?.();
        later(e.durationMs, () => {
          for (const node of down) {
            crashed.delete(node);
            cell.restart(node);
          }
          hooks.onMasterRestart?.();
        });
        break;
      }
      case 'partition': {
        const nodes = random.shuffle(all());
        const k = 1 + random.int(nodes.length - 1);
        cut(nodes.slice(0, k), nodes.slice(k), e.durationMs);
        break;
      }
      case 'isolated-primary': {
        // The server that most recently acted as a primary: cut it from everyone (¶93: its lease runs out, the master grants a new one elsewhere).
        const last = cell.acts[cell.acts.length - 1];
        const victim = last?.server ?? random.pick(cell.servers);
        cut([victim], all().filter((n) => n !== victim), e.durationMs);
        break;
      }
      case 'master-cut': {
        const half = random.shuffle([...cell.servers]).slice(0, Math.floor(cell.servers.length / 2));
        cut(['master'], half, e.durationMs);
        break;
      }
      case 'delay': {
        // Slow links from one node to all: messages across links reorder (per-link order holds, as on TCP).
        const node = random.pick([...cell.servers, 'master', ...cell.clientNodes]);
        const slow = { latencyMinMs: 1 + random.int(10), latencyMaxMs: 20 + random.int(120) };
        for (const other of all()) if (other !== node) sim.network.configure(node, other, slow);
        later(e.durationMs, () => {
          for (const other of all()) if (other !== node) sim.network.configure(node, other, base);
        });
        break;
      }
      case 'bit-flip': {
        const server = random.pick(cell.servers);
        const disk = cell.disks.get(server) as SimDisk;
        const files = (await disk.list('chunks').catch(() => [] as string[])).filter((f) => f.endsWith('.chunk'));
        if (files.length === 0) {
          counts.skipped++;
          return;
        }
        const path = `chunks/${random.pick(files)}`;
        const size = (await disk.stat(path).catch(() => undefined))?.sizeBytes ?? 0;
        if (size === 0) {
          counts.skipped++;
          return;
        }
        disk.flipBit(path, random.int(size * 8));
        break;
      }
      case 'clock-skew': {
        const node = random.pick([...cell.servers, 'master']);
        const skew = (random.chance(0.5) ? -1 : 1) * (50 + random.int(250));
        sim.node(node).skewMs = skew;
        later(e.durationMs, () => {
          sim.node(node).skewMs = 0;
        });
        break;
      }
      case 'disk-full': {
        const server = random.pick(cell.servers);
        const disk = cell.disks.get(server) as SimDisk;
        disk.setCapacityBytes(disk.usedSpaceBytes);
        later(e.durationMs, () => (cell.disks.get(server) as SimDisk).setCapacityBytes(Number.MAX_SAFE_INTEGER));
        break;
      }
    }
    counts.injected[e.kind]++;
  }

  /** The server that last ordered a mutation of the queue file's last chunk as its primary (the lease holder). */
  async function queuePrimary(): Promise<string | undefined> {
    const st = await cell.ask<FileInfo>({ type: 'gfs.master.stat', path: QUEUE }, MASTER, 500);
    const n = st.ok ? (st.value.chunks ?? 0) : 0;
    if (n === 0) return undefined;
    const loc = await cell.ask<ChunkLocation[]>({ type: 'gfs.master.getChunkLocations', path: QUEUE, index: n - 1, count: 1 }, MASTER, 500);
    const handle = loc.ok ? loc.value[0]?.handle : undefined;
    for (let i = cell.acts.length - 1; i >= 0; i--) if (cell.acts[i]?.handle === handle) return cell.acts[i]?.server;
    return undefined;
  }

  /** Runs the schedule; resolves after the last event is applied (undo timers keep running). */
  const play = (): Promise<void> => playEvents(events, undo, () => sim.now, cell.sleep, apply);

  /** Undoes every fault still in force. */
  function stop(): void {
    void undo.undoAll();
    sim.heal();
  }

  return { counts, play, stop };
}
