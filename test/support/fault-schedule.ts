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
