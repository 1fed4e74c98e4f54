/**
 * A small `MonitorService`: a versioned key/value map with an epoch. The monitor's tests, fault
 * suite and `map-commit` benchmark run the monitors with it, independent of the OSD map. A
 * `report` command stands in for an OSD failure report (it marks `down/<target>`).
 */
import type { MonitorService, ServiceBatch } from './service.js';

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

type KvError = { readonly code: string; readonly message: string };

/**
 * What a command does, checked against a view of the state (`has`: whether a key is present,
 * `count`: how many keys there are): one key to set or delete, or an error.
 */
function kvEffect(cmd: KvCmd, has: (key: string) => boolean, count: () => number): { set: [string, string] } | { del: string } | { error: KvError } {
  if (typeof cmd !== 'object' || cmd === null) return { error: { code: 'invalid_command', message: 'a kv command is an object' } };
  const keyProblem = (k: unknown): string | undefined => (typeof k !== 'string' || k.length === 0 || k.length > KV_KEY_BYTES_MAX ? `key must be a string of 1..${KV_KEY_BYTES_MAX} characters` : undefined);
  switch (cmd.op) {
    case 'set': {
      const p = keyProblem(cmd.key) ?? (typeof cmd.value !== 'string' || cmd.value.length > KV_VALUE_BYTES_MAX ? `value must be a string of at most ${KV_VALUE_BYTES_MAX} characters` : undefined);
      if (p !== undefined) return { error: { code: 'invalid_command', message: p } };
      if (!has(cmd.key) && count() >= KV_KEYS_MAX) return { error: { code: 'full', message: `the map holds ${KV_KEYS_MAX} keys` } };
      return { set: [cmd.key, cmd.value] };
    }
    case 'del': {
      const p = keyProblem(cmd.key);
      if (p !== undefined) return { error: { code: 'invalid_command', message: p } };
      if (!has(cmd.key)) return { error: { code: 'not_found', message: `no key ${cmd.key}` } };
      return { del: cmd.key };
    }
    case 'report': {
      const p = keyProblem(cmd.target) ?? keyProblem(cmd.reporter);
      if (p !== undefined) return { error: { code: 'invalid_command', message: p } };
      return { set: [`down/${cmd.target}`, cmd.reporter] };
    }
    default:
      return { error: { code: 'invalid_command', message: `unknown kv op ${String((cmd as { op: unknown }).op)}` } };
  }
}

/** The kv service's pending incremental: sets and deletes gathered in maps, so each command costs O(1). */
function kvBatch(state: KvState): ServiceBatch<KvCmd, KvInc> {
  const set = new Map<string, string>();
  const del = new Set<string>();
  let epoch = state.epoch;
  // Keys added minus keys removed by the batch; the state's own count is taken only when needed.
  let delta = 0;
  let base: number | undefined;
  const has = (k: string): boolean => set.has(k) || (!del.has(k) && Object.hasOwn(state.entries, k));
  const count = (): number => (base ??= Object.keys(state.entries).length) + delta;
  return {
    add(cmd) {
      const e = kvEffect(cmd, has, count);
      if ('error' in e) return { ok: false, error: e.error };
      if ('set' in e) {
        const [k, v] = e.set;
        if (!has(k)) delta++;
        set.set(k, v);
      } else {
        delta--;
        set.delete(e.del);
        del.add(e.del);
      }
      epoch++;
      return { ok: true, reply: { epoch } };
    },
    finish: () => (epoch === state.epoch ? undefined : { epoch, set: Object.fromEntries(set), del: [...del] }),
  };
}

export const kvService: MonitorService<KvState, KvCmd, KvInc> = {
  name: 'kv',
  initial: () => ({ epoch: 0, entries: {} }),
  prepare(state, cmd) {
    const e = kvEffect(
      cmd,
      (k) => Object.hasOwn(state.entries, k),
      () => Object.keys(state.entries).length,
    );
    if ('error' in e) return { ok: false, error: e.error };
    const inc: KvInc = 'set' in e ? { epoch: state.epoch + 1, set: { [e.set[0]]: e.set[1] }, del: [] } : { epoch: state.epoch + 1, set: {}, del: [e.del] };
    return { ok: true, inc, reply: { epoch: state.epoch + 1 } };
  },
  batch: kvBatch,
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
