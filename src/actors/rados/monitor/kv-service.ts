/**
 * A small `MonitorService`: a versioned key/value map with an epoch. The monitor's tests, fault
 * suite and `map-commit` benchmark run the monitors with it, independent of the OSD map. A
 * `report` command stands in for an OSD failure report (it marks `down/<target>`).
 */
import type { MonitorService } from './service.js';

export interface KvState {
  /** Bumped by every incremental (several when a batch was composed). */
  readonly epoch: number;
  readonly entries: Readonly<Record<string, string>>;
}

export type KvCmd =
  | { readonly op: 'set'; readonly key: string; readonly value: string }
  | { readonly op: 'del'; readonly key: string }
  | { readonly op: 'report'; readonly target: string; readonly reporter: string };

/** Deletes first, then sets; `epoch` is the epoch after it. */
export interface KvInc {
  readonly epoch: number;
  readonly set: Readonly<Record<string, string>>;
  readonly del: readonly string[];
}

export const KV_KEY_BYTES_MAX = 256;
export const KV_VALUE_BYTES_MAX = 4_096;
export const KV_KEYS_MAX = 100_000;

export const kvService: MonitorService<KvState, KvCmd, KvInc> = {
  name: 'kv',
  initial: () => ({ epoch: 0, entries: {} }),
  prepare(state, cmd) {
    if (typeof cmd !== 'object' || cmd === null) return { ok: false, error: { code: 'invalid_command', message: 'a kv command is an object' } };
    const keyProblem = (k: unknown): string | undefined => (typeof k !== 'string' || k.length === 0 || k.length > KV_KEY_BYTES_MAX ? `key must be a string of 1..${KV_KEY_BYTES_MAX} characters` : undefined);
    switch (cmd.op) {
      case 'set': {
        const p = keyProblem(cmd.key) ?? (typeof cmd.value !== 'string' || cmd.value.length > KV_VALUE_BYTES_MAX ? `value must be a string of at most ${KV_VALUE_BYTES_MAX} characters` : undefined);
        if (p !== undefined) return { ok: false, error: { code: 'invalid_command', message: p } };
        if (!(cmd.key in state.entries) && Object.keys(state.entries).length >= KV_KEYS_MAX) return { ok: false, error: { code: 'full', message: `the map holds ${KV_KEYS_MAX} keys` } };
        return { ok: true, inc: { epoch: state.epoch + 1, set: { [cmd.key]: cmd.value }, del: [] }, reply: { epoch: state.epoch + 1 } };
      }
      case 'del': {
        const p = keyProblem(cmd.key);
        if (p !== undefined) return { ok: false, error: { code: 'invalid_command', message: p } };
        if (!(cmd.key in state.entries)) return { ok: false, error: { code: 'not_found', message: `no key ${cmd.key}` } };
        return { ok: true, inc: { epoch: state.epoch + 1, set: {}, del: [cmd.key] }, reply: { epoch: state.epoch + 1 } };
      }
      case 'report': {
        const p = keyProblem(cmd.target) ?? keyProblem(cmd.reporter);
        if (p !== undefined) return { ok: false, error: { code: 'invalid_command', message: p } };
        return { ok: true, inc: { epoch: state.epoch + 1, set: { [`down/${cmd.target}`]: cmd.reporter }, del: [] }, reply: { epoch: state.epoch + 1 } };
      }
      default:
        return { ok: false, error: { code: 'invalid_command', message: `unknown kv op ${String((cmd as { op: unknown }).op)}` } };
    }
  },
  apply(state, inc) {
    const entries: Record<string, string> = { ...state.entries };
    for (const k of inc.del) delete entries[k];
    for (const [k, v] of Object.entries(inc.set)) entries[k] = v;
    return { epoch: inc.epoch, entries };
  },
  compose(a, b) {
    const set: Record<string, string> = {};
    const dropped = new Set(b.del);
    for (const [k, v] of Object.entries(a.set)) if (!dropped.has(k)) set[k] = v;
    Object.assign(set, b.set);
    return { epoch: b.epoch, set, del: [...new Set([...a.del, ...b.del])] };
  },
};
