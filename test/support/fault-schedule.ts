/**
 * The part every seeded fault suite shares (GFS, RADOS monitors, the coordination ensemble): a
 * schedule of fault events drawn from a scenario's weighted fault classes. Playing the events is
 * each suite's own (what a fault does differs per system).
 */
import type { Random } from '../../src/runtime/random.js';

export interface FaultEvent<K extends string> {
  readonly kind: K;
  /** Virtual time at which the fault starts. */
  readonly at: number;
  /** How long until it is undone (0 for a fault that is never undone, like a bit flip). */
  readonly durationMs: number;
}

export interface ScheduleShape<K extends string> {
  /** Relative weights of the fault classes; classes without weight never occur. */
  readonly faults: Partial<Record<K, number>>;
  /** How many events, drawn uniformly from this range. */
  readonly events: readonly [number, number];
  /** Events start between `startMs` and this. */
  readonly windowMs: number;
}

/**
 * Draws `shape.events` events: each class with probability proportional to its weight, a start in
 * [startMs, windowMs) and a duration from `durations` for its class; sorted by start. The draws
 * come from `random` in a fixed order, so a seed gives the same schedule every run.
 */
export function drawFaultSchedule<K extends string>(shape: ScheduleShape<K>, durations: Readonly<Record<K, readonly [number, number]>>, random: Random, startMs: number): FaultEvent<K>[] {
  const classes = Object.entries(shape.faults).filter(([, w]) => ((w as number | undefined) ?? 0) > 0) as Array<[K, number]>;
  const total = classes.reduce((a, [, w]) => a + w, 0);
  const n = random.range(shape.events[0], shape.events[1]);
  const out: FaultEvent<K>[] = [];
  for (let i = 0; i < n; i++) {
    let x = random.int(total);
    let kind = (classes[0] as [K, number])[0];
    for (const [c, w] of classes) {
      if (x < w) {
        kind = c;
        break;
      }
      x -= w;
    }
    const [lo, hi] = durations[kind];
    out.push({ kind, at: random.range(startMs, shape.windowMs), durationMs: random.range(lo, hi) });
  }
  return out.sort((a, b) => a.at - b.at);
}

/**
 * The undo side of playing a schedule, the same in every suite: each fault registers what undoes
 * it after its duration (`later`); `undoAll` runs, once, every undo still pending (at the end of a
 * run everything is undone at once). Undos may be async (a restart that replays a log); their
 * promises are kept so the caller can wait for them.
 */
export class FaultUndo {
  private readonly pending = new Map<number, () => void | Promise<void>>();
  private next = 0;
  /** Promises of the undos that ran (by their timer or by `undoAll`). */
  readonly running: Promise<void>[] = [];
  stopped = false;

  constructor(private readonly after: (ms: number, fn: () => void) => void) {}

  /** Runs `fn` after `ms` of virtual time, unless `undoAll` ran it first. */
  later(ms: number, fn: () => void | Promise<void>): void {
    const id = this.next++;
    this.pending.set(id, fn);
    this.after(ms, () => this.run(id));
  }

  /** Marks the schedule stopped and runs every pending undo now; resolves when all that ran are done. */
  async undoAll(): Promise<void> {
    this.stopped = true;
    for (const id of [...this.pending.keys()]) this.run(id);
    await Promise.all(this.running);
  }

  private run(id: number): void {
    const f = this.pending.get(id);
    if (f === undefined) return;
    this.pending.delete(id);
    this.running.push(Promise.resolve(f()));
  }
}

/** Applies each event at its time (sleeping in virtual time between them) until the events end or `undo` is stopped. */
export async function playEvents<E extends { readonly at: number }>(events: readonly E[], undo: FaultUndo, now: () => number, sleep: (ms: number) => Promise<void>, apply: (e: E) => void | Promise<void>): Promise<void> {
  for (const e of events) {
    if (undo.stopped) return;
    if (e.at > now()) await sleep(e.at - now());
    if (undo.stopped) return;
    await apply(e);
  }
}

/** A zero count for every fault class. */
export function zeroCounts<K extends string>(classes: readonly K[]): Record<K, number> {
  return Object.fromEntries(classes.map((c) => [c, 0])) as Record<K, number>;
}
