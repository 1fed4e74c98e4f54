/**
 * Fault schedules for the monitor suite, drawn from a seed: timed events, each undone after its
 * duration (a crashed monitor restarts, a partition heals, a skewed clock returns, a lossy network
 * recovers). Clock skew stays below the monitors' `clockSkewMaxMs` between any two nodes.
 */
import type { Random } from '../../../../../src/runtime/random.js';
import { FaultUndo, drawFaultSchedule, playEvents, zeroCounts, type FaultEvent as ScheduledFault } from '../../../../support/fault-schedule.js';
import { monNode, type MonitorCell } from '../cell.js';

export const FAULT_CLASSES = ['mon-crash', 'leader-crash', 'majority-crash', 'total-crash', 'partition', 'minority-cut', 'leader-cut', 'delay', 'loss', 'clock-skew'] as const;
export type FaultClass = (typeof FAULT_CLASSES)[number];

export type FaultEvent = ScheduledFault<FaultClass>;

export interface Scenario {
  readonly name: string;
  readonly monitors: number;
  readonly faults: Partial<Record<FaultClass, number>>;
  readonly events: readonly [number, number];
  /** Faults happen in [2 s, windowMs]; then everything is undone. */
  readonly windowMs: number;
}

const durations: Record<FaultClass, readonly [number, number]> = {
  'mon-crash': [300, 6_000],
  'leader-crash': [300, 5_000],
  'majority-crash': [300, 3_000],
  'total-crash': [300, 2_000],
  partition: [500, 6_000],
  'minority-cut': [1_000, 6_000],
  'leader-cut': [1_000, 6_000],
  delay: [1_000, 5_000],
  loss: [1_000, 5_000],
  'clock-skew': [2_000, 8_000],
};

/** Each node's clock is skewed by at most this, so two clocks differ by less than the monitors' 500 ms. */
export const SKEW_MAX_MS = 240;

export function drawSchedule(s: Scenario, random: Random): FaultEvent[] {
  return drawFaultSchedule(s, durations, random, 2_000);
}

export interface FaultCounts {
  readonly injected: Record<FaultClass, number>;
  skipped: number;
}

/** Plays a schedule on a cell; `stop()` undoes every fault still in force. */
export function playSchedule(cell: MonitorCell, events: readonly FaultEvent[], random: Random) {
  const { sim } = cell;
  const counts: FaultCounts = { injected: zeroCounts(FAULT_CLASSES), skipped: 0 };
  const undo = new FaultUndo((ms, fn) => sim.after(ms, fn));
  const later = (ms: number, fn: () => void): void => undo.later(ms, fn);
  const crashed = new Set<string>();
  const monitors = cell.ranks.map(monNode);
  const all = (): string[] => [...monitors, ...cell.clientNodes];
  const base = { latencyMinMs: 0.2, latencyMaxMs: 2, lossRate: 0 };

  function crashFor(node: string, ms: number): void {
    crashed.add(node);
    cell.crash(node);
    later(ms, () => {
      crashed.delete(node);
      cell.restart(node);
    });
  }

  function cut(a: readonly string[], b: readonly string[], ms: number): void {
    sim.partition(a, b);
    later(ms, () => sim.heal(a, b));
  }

  async function leader(): Promise<string | undefined> {
    for (const r of cell.ranks) {
      if (crashed.has(monNode(r))) continue;
      const s = await cell.status(r);
      if (s?.role === 'leader') return monNode(r);
    }
    return undefined;
  }

  async function apply(e: FaultEvent): Promise<void> {
    const up = monitors.filter((m) => !crashed.has(m));
    switch (e.kind) {
      case 'mon-crash':
        if (up.length === 0) return void counts.skipped++;
        crashFor(random.pick(up), e.durationMs);
        break;
      case 'leader-crash': {
        const l = await leader();
        if (l === undefined) return void counts.skipped++;
        crashFor(l, e.durationMs);
        break;
      }
      case 'majority-crash': {
        const k = Math.floor(monitors.length / 2) + 1;
        for (const m of random.shuffle([...up]).slice(0, k)) crashFor(m, e.durationMs);
        break;
      }
      case 'total-crash':
        // A power cut of the whole monitor cluster: every committed version must survive it (P4).
        for (const m of up) crashFor(m, e.durationMs);
        break;
      case 'partition': {
        const nodes = random.shuffle(all());
        const k = 1 + random.int(nodes.length - 1);
        cut(nodes.slice(0, k), nodes.slice(k), e.durationMs);
        break;
      }
      case 'minority-cut': {
        const k = 1 + random.int(Math.floor((monitors.length - 1) / 2));
        const minority = random.shuffle([...monitors]).slice(0, k);
        const clients = cell.clientNodes.filter(() => random.chance(0.3));
        const side = [...minority, ...clients];
        cut(side, all().filter((x) => !side.includes(x)), e.durationMs);
        break;
      }
      case 'leader-cut': {
        const l = await leader();
        if (l === undefined) return void counts.skipped++;
        // The leader keeps some clients: they see it stop serving when its lease lapses.
        const side = [l, ...cell.clientNodes.filter(() => random.chance(0.3))];
        cut(side, all().filter((x) => !side.includes(x)), e.durationMs);
        break;
      }
      case 'delay': {
        const node = random.pick(all());
        const slow = { latencyMinMs: 1 + random.int(10), latencyMaxMs: 20 + random.int(150) };
        for (const other of all()) if (other !== node) sim.network.configure(node, other, slow);
        later(e.durationMs, () => {
          for (const other of all()) if (other !== node) sim.network.configure(node, other, base);
        });
        break;
      }
      case 'loss': {
        // A lost message breaks its link (thesis §3.3: fail-stop links), losing what was in flight on it.
        const lossRate = 0.01 + random.int(5) / 100;
        sim.network.configureAll({ lossRate });
        later(e.durationMs, () => sim.network.configureAll({ lossRate: 0 }));
        break;
      }
      case 'clock-skew': {
        const node = random.pick(monitors);
        sim.node(node).skewMs = (random.chance(0.5) ? -1 : 1) * (50 + random.int(SKEW_MAX_MS - 50));
        later(e.durationMs, () => {
          sim.node(node).skewMs = 0;
        });
        break;
      }
    }
    counts.injected[e.kind]++;
  }

  const play = (): Promise<void> => playEvents(events, undo, () => sim.now, cell.sleep, apply);

  function stop(): void {
    void undo.undoAll();
    sim.heal();
    sim.network.configureAll({ lossRate: 0 });
  }

  return { counts, play, stop };
}
