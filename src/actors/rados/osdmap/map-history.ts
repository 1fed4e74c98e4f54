/**
 * Map history: the incrementals a party keeps, and the bundles it sends to a party that is behind
 * (thesis §6.2.2, §6.2.5; digest §3.3, §3.5). Pure functions over plain arrays. README R9–R11.
 */
import { DEFAULT_OSDMAP_CONFIG } from '../config.js';
import type { OsdMapConfig } from '../config.js';
import { radosError } from '../errors.js';
import type { MapBundle } from '../protocol.js';
import { applyIncremental, validateOsdMap } from './osd-map.js';
import type { OsdMap, OsdMapIncremental, Result } from './osd-map.js';

/**
 * `history` with `inc` appended, keeping the newest `max` (a bounded log). Throws if `inc` does
 * not follow the last one (API misuse: the caller applies it first).
 */
export function appendHistory(history: readonly OsdMapIncremental[], inc: OsdMapIncremental, max: number): OsdMapIncremental[] {
  const last = history[history.length - 1];
  if (last !== undefined && last.epoch !== inc.from) throw new RangeError(`incremental ${inc.from}→${inc.epoch} does not follow ${last.from}→${last.epoch}`);
  const out = history.length >= max ? history.slice(history.length - max + 1) : history.slice();
  out.push(inc);
  return out;
}

/**
 * What a party at `haveEpoch` needs to reach `latest` (R10): nothing if it is current; the
 * incrementals after `haveEpoch` in order when `history` (consecutive, ending at `latest.epoch`)
 * reaches back far enough and they number at most `maxIncrementals`; otherwise the full map. A
 * party with no map (epoch 0) gets the full map. This is the monitor's boot reply and an OSD's
 * answer to a peer whose message shows an older epoch.
 */
export function mapBundleFor(history: readonly OsdMapIncremental[], latest: OsdMap, haveEpoch: number, maxIncrementals = DEFAULT_OSDMAP_CONFIG.incrementalsPerMessageMax): MapBundle {
  if (haveEpoch >= latest.epoch) return { kind: 'none' };
  if (haveEpoch <= 0) return { kind: 'full', map: latest };
  const first = history[0];
  const last = history[history.length - 1];
  if (first === undefined || last === undefined || last.epoch !== latest.epoch || first.from > haveEpoch) return { kind: 'full', map: latest };
  const start = history.findIndex((inc) => inc.from === haveEpoch);
  if (start < 0 || history.length - start > maxIncrementals) return { kind: 'full', map: latest };
  return { kind: 'incrementals', incrementals: history.slice(start) };
}

/**
 * The incrementals a booting OSD shares with peers whose epochs it does not know (thesis §6.2.5:
 * "a safe recent history (e.g. at least 30 seconds)"): every incremental committed within
 * `bootShareHistoryMs` of `nowMs`, plus the one before them, so the span covers the window; at
 * most `incrementalsPerMessageMax`.
 */
export function recentHistory(history: readonly OsdMapIncremental[], nowMs: number, cfg: Pick<OsdMapConfig, 'bootShareHistoryMs' | 'incrementalsPerMessageMax'> = DEFAULT_OSDMAP_CONFIG): OsdMapIncremental[] {
  let start = history.length;
  while (start > 0 && (history[start - 1] as OsdMapIncremental).modifiedMs >= nowMs - cfg.bootShareHistoryMs) start--;
  start = Math.max(0, start - 1, history.length - cfg.incrementalsPerMessageMax);
  return history.slice(start);
}

/**
 * Brings a local map forward with a received bundle (R9: a party's epoch never decreases).
 * Incrementals the map already has are skipped; a gap is `epoch_mismatch` (ask for the full map);
 * an older full map is ignored; a malformed one is refused. Returns the map unchanged when the
 * bundle holds nothing new.
 */
export function applyBundle(map: OsdMap, bundle: MapBundle): Result<OsdMap> {
  switch (bundle.kind) {
    case 'none':
      return { ok: true, value: map };
    case 'full': {
      const v = validateOsdMap(bundle.map);
      if (!v.ok) return v;
      return { ok: true, value: v.value.epoch > map.epoch ? v.value : map };
    }
    case 'incrementals': {
      if (!Array.isArray(bundle.incrementals)) return { ok: false, error: radosError('malformed_incremental', 'incrementals must be an array') };
      let m = map;
      for (const inc of bundle.incrementals) {
        if (typeof inc === 'object' && inc !== null && typeof inc.epoch === 'number' && inc.epoch <= m.epoch) continue;
        const r = applyIncremental(m, inc);
        if (!r.ok) return r;
        m = r.value;
      }
      return { ok: true, value: m };
    }
    default: {
      const never: never = bundle;
      return { ok: false, error: radosError('malformed_incremental', `unknown bundle kind ${JSON.stringify((never as { kind?: unknown }).kind)}`) };
    }
  }
}
