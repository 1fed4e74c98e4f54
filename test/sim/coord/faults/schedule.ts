/**
 * Fault schedules for the ensemble, drawn from a seed (the shape of the GFS suite's). Each event has
 * the time it is undone: a crashed server restarts, a partition heals, a slow link and a skewed clock
 * return to normal.
 */
import type { Random } from '../../../../src/runtime/random.js';
import { FaultUndo, drawFaultSchedule, playEvents, zeroCounts, type FaultEvent as ScheduledFault } from '../../../support/fault-schedule.js';
import type { Ensemble } from '../zab/ensemble.js';

export const FAULT_CLASSES = ['leader-crash', 'follower-crash', 'torn-restart', 'power-cut', 'isolated-leader', 'partition', 'flapping', 'delay', 'clock-skew'] as const;
export type FaultClass = (typeof FAULT_CLASSES)[number];

export type FaultEvent = ScheduledFault<FaultClass>;

export interface Scenario {
  readonly name: string;
  /** Ensemble sizes to draw from. */
  readonly servers: readonly number[];
  readonly faults: Partial<Record<FaultClass, number>>;
  readonly events: readonly [number, number];
  /** Faults happen in [1 s, windowMs]; then everything is undone. */
  readonly windowMs: number;
}

const durations: Record<FaultClass, readonly [number, number]> = {
  'leader-crash': [200, 3_000],
  'follower-crash': [200, 4_000],
  'torn-restart': [200, 3_000],
  'power-cut': [100, 1_500],
  'isolated-leader': [500, 4_000],
  partition: [500, 4_000],
  flapping: [1_000, 4_000],
  delay: [1_000, 4_000],
  'clock-skew': [1_000, 5_000],
};

export function drawSchedule(s: Scenario, random: Random): FaultEvent[] {
  return drawFaultSchedule(s, durations, random, 1_000);
}

export interface FaultCounts {
  readonly injected: Record<FaultClass, number>;
  skipped: number;
  /** Restarts whose log had a torn tail that recovery cut. */
  tornTailsRecovered: number;
}

/**
 * Plays a schedule on an ensemble. Crashes of a server already down are skipped. `stop()` undoes
 * every fault still in force.
 */
export function playSchedule(e: Ensemble, events: readonly FaultEvent[], random: Random) {
  const { sim } = e;
  const counts: FaultCounts = { injected: zeroCounts(FAULT_CLASSES), skipped: 0, tornTailsRecovered: 0 };
  const undo = new FaultUndo((ms, fn) => sim.after(ms, fn));
  const later = (ms: number, fn: () => void | Promise<void>): void => undo.later(ms, fn);
  const down = new Set<number>();
  const all = (): string[] => [...e.ids.map(e.nodeOf), ...e.clientNodes];
  const base = { latencyMinMs: 0.2, latencyMaxMs: 2 };

  function crashFor(id: number, ms: number, tear: boolean): void {
    down.add(id);
    e.crash(id);
    later(ms, async () => {
      if (tear) await tearLogTail(id);
      down.delete(id);
      e.restart(id);
    });
  }

  /** A torn last record: a frame header promising more bytes than follow, as a write cut by the power cut leaves it. */
  async function tearLogTail(id: number): Promise<void> {
    const disk = e.disks.get(id)!;
    const logs = (await disk.list('zab')).filter((n) => n.startsWith('log.')).sort();
    const last = logs[logs.length - 1];
    if (last === undefined) return;
    const f = await disk.open(`zab/${last}`);
    try {
      const junk = new Uint8Array(16 + random.int(48));
      for (let i = 0; i < junk.length; i++) junk[i] = random.int(256);
      // Length field larger than the bytes that follow: the decoder must stop here.
      new DataView(junk.buffer).setUint32(0, junk.length + 100, true);
      await f.append(junk);
      await f.fsync();
      counts.tornTailsRecovered++;
    } finally {
      await f.close();
    }
  }

  function cut(a: readonly string[], b: readonly string[], ms: number): void {
    sim.partition(a, b);
    later(ms, () => sim.heal(a, b));
  }

  async function leader(): Promise<number | undefined> {
    const st = await Promise.all(e.ids.map((id) => e.status(id, 300)));
    return st.find((s) => s?.role === 'leading')?.id;
  }

  async function apply(ev: FaultEvent): Promise<void> {
    const up = e.ids.filter((id) => !down.has(id));
    switch (ev.kind) {
      case 'leader-crash': {
        const l = await leader();
        if (l === undefined || down.has(l)) {
          counts.skipped++;
          return;
        }
        crashFor(l, ev.durationMs, false);
        break;
      }
      case 'follower-crash':
      case 'torn-restart': {
        const l = await leader();
        const candidates = ev.kind === 'follower-crash' ? up.filter((id) => id !== l) : up;
        if (candidates.length === 0) {
          counts.skipped++;
          return;
        }
        crashFor(random.pick(candidates), ev.durationMs, ev.kind === 'torn-restart');
        break;
      }
      case 'power-cut': {
        if (up.length === 0) {
          counts.skipped++;
          return;
        }
        for (const id of up) crashFor(id, ev.durationMs + random.int(300), random.chance(0.5));
        break;
      }
      case 'isolated-leader': {
        const l = (await leader()) ?? random.pick(e.ids);
        const victim = e.nodeOf(l);
        cut([victim], all().filter((n) => n !== victim), ev.durationMs);
        break;
      }
      case 'partition': {
        // A minority of the servers (with some clients) cut from the rest.
        const servers = random.shuffle(e.ids.map(e.nodeOf));
        const k = 1 + random.int(Math.floor((e.ids.length - 1) / 2));
        const minority = [...servers.slice(0, k), ...e.clientNodes.filter(() => random.chance(0.3))];
        cut(minority, all().filter((n) => !minority.includes(n)), ev.durationMs);
        break;
      }
      case 'flapping': {
        // One server's links go down and up every few hundred ms.
        const node = e.nodeOf(random.pick(e.ids));
        const others = all().filter((n) => n !== node);
        const end = sim.now + ev.durationMs;
        let isCut = false;
        const flip = (): void => {
          if (undo.stopped || sim.now >= end) {
            if (isCut) sim.heal([node], others);
            return;
          }
          isCut = !isCut;
          if (isCut) sim.partition([node], others);
          else sim.heal([node], others);
          sim.after(100 + random.int(400), flip);
        };
        flip();
        break;
      }
      case 'delay': {
        // Slow links from one node: messages across links reorder (per-link order holds, as on TCP).
        const node = random.pick(all());
        const slow = { latencyMinMs: 1 + random.int(10), latencyMaxMs: 20 + random.int(150) };
        for (const other of all()) if (other !== node) sim.network.configure(node, other, slow);
        later(ev.durationMs, () => {
          for (const other of all()) if (other !== node) sim.network.configure(node, other, base);
        });
        break;
      }
      case 'clock-skew': {
        const node = e.nodeOf(random.pick(e.ids));
        if (!sim.node(node).alive) {
          counts.skipped++;
          return;
        }
        sim.node(node).skewMs = (random.chance(0.5) ? -1 : 1) * (50 + random.int(2_000));
        later(ev.durationMs, () => {
          if (sim.node(node).alive) sim.node(node).skewMs = 0;
        });
        break;
      }
    }
    counts.injected[ev.kind]++;
  }

  const play = (): Promise<void> => playEvents(events, undo, () => sim.now, (ms) => e.sleep(ms), apply);

  async function stop(): Promise<void> {
    await undo.undoAll();
    sim.heal();
    for (const id of e.ids) e.restart(id);
    for (const id of e.ids) sim.node(e.nodeOf(id)).skewMs = 0;
  }

  return { counts, play, stop };
}
