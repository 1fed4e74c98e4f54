/**
 * The monitor suite's checkers: pure functions of a `RunRecord`, each returning the violations it
 * found. Letters follow the issue: (a) never two different values committed for one version (and
 * every state a party held matches the committed history), (b) every party's version never
 * decreases, (c) reads are linearizable against commits, (d) with a majority up and connected, a
 * submitted command commits within a bound. README invariants P1, P4, P6 and P8.
 */
import { kvService, type KvInc, type KvState } from '../../../../../src/actors/rados/monitor/kv-service.js';
import { canonical, type RunRecord } from './run.js';
import { formatViolations as formatSuiteViolations, violationCollector, type Violation as SuiteViolation } from '../../../../support/violations.js';

export type CheckerName = 'a' | 'b' | 'c' | 'd' | 'e';

export const CHECKERS: Record<CheckerName, string> = {
  a: 'one value per committed version, and every state served or held equals the committed history (P1, P5)',
  b: 'no party sees its version go backwards: monitors (across restarts), clients, subscribers (P4)',
  c: 'a read never returns a version older than one committed before it began (P6)',
  d: 'with a majority up and connected, a submitted command commits within the bound (P8)',
  e: 'a command submitted with a request id commits in one version at most, however often it is retried (P10)',
};

export type Violation = SuiteViolation<CheckerName>;
const collector = (checker: CheckerName) => violationCollector(checker);

/** The committed value of each version, from the commit probes (first seen). */
function committedValues(r: RunRecord): Map<number, string> {
  const m = new Map<number, string>();
  for (const c of r.commits) if (c.value !== undefined && !m.has(c.version)) m.set(c.version, c.value);
  return m;
}

/** Canonical states at versions 0..n, as far as the committed values reach without a gap. */
function committedStates(r: RunRecord): string[] {
  const values = committedValues(r);
  const states: string[] = [];
  let s: KvState = kvService.initial();
  states.push(canonical(s));
  for (let v = 1; values.has(v); v++) {
    s = kvService.apply(s, JSON.parse(values.get(v) as string) as KvInc);
    states.push(canonical(s));
  }
  return states;
}

export function checkOneValue(r: RunRecord): Violation[] {
  const v = collector('a');
  const first = new Map<number, { monitor: number; value: string }>();
  for (const c of r.commits) {
    if (c.value === undefined) continue;
    const f = first.get(c.version);
    if (f === undefined) first.set(c.version, { monitor: c.monitor, value: c.value });
    else if (f.value !== c.value) v.add(`version ${c.version}: monitor ${f.monitor} committed ${f.value}, monitor ${c.monitor} committed ${c.value}`);
  }
  const states = committedStates(r);
  const check = (who: string, version: number, state: string): void => {
    const expected = states[version];
    if (expected !== undefined && expected !== state) v.add(`${who} holds version ${version} as ${state}, but the committed history gives ${expected}`);
  };
  for (const x of r.reads) check(`read by ${x.process} at ${x.end.toFixed(0)}`, x.version, x.state);
  for (const h of r.held) check(h.party, h.version, h.state);
  return v.out;
}

export function checkMonotonic(r: RunRecord): Violation[] {
  const v = collector('b');
  const seq = new Map<string, { at: number; version: number; what: string }[]>();
  const add = (party: string, at: number, version: number, what: string): void => {
    const list = seq.get(party) ?? [];
    list.push({ at, version, what });
    seq.set(party, list);
  };
  // A monitor's events in the order they happened: commits, and what it recovered at each (re)start.
  const events = [...r.commits.map((c) => ({ ...c, what: 'committed' })), ...r.recoveries.map((x) => ({ ...x, what: x.error === undefined ? 'recovered' : `could not recover (${x.error}), holding` }))].sort((a, b) => a.at - b.at || (a.what === 'committed' ? 1 : -1));
  for (const e of events) add(`monitor ${e.monitor}`, e.at, e.version, e.what);
  for (const o of r.observations) add(o.party, o.at, o.version, 'observed');
  for (const [party, list] of seq) {
    let high = list[0];
    for (const e of list) {
      if (high !== undefined && e.version < high.version) v.add(`${party} ${e.what} version ${e.version} at ${e.at.toFixed(0)} after ${high.what} ${high.version} at ${high.at.toFixed(0)}`);
      if (high === undefined || e.version > high.version) high = e;
    }
  }
  return v.out;
}

export function checkLinearizableReads(r: RunRecord): Violation[] {
  const v = collector('c');
  // When each version was first committed anywhere (durably, on some monitor).
  const firstAt = new Map<number, number>();
  for (const c of r.commits) firstAt.set(c.version, Math.min(firstAt.get(c.version) ?? Infinity, c.at));
  const byTime = [...firstAt].sort((a, b) => a[1] - b[1]);
  for (const read of r.reads) {
    let newest = 0;
    let newestAt = 0;
    for (const [version, at] of byTime) {
      if (at >= read.start) break;
      if (version > newest) {
        newest = version;
        newestAt = at;
      }
    }
    if (read.version < newest) v.add(`read by ${read.process} began at ${read.start.toFixed(1)} and returned version ${read.version}, but version ${newest} was committed at ${newestAt.toFixed(1)}`);
  }
  return v.out;
}

export function checkLiveness(r: RunRecord): Violation[] {
  const v = collector('d');
  const l = r.liveness;
  if (l.committedAt === undefined) v.add(`a command submitted at ${l.submittedAt.toFixed(0)}, with every monitor up and connected, was not committed within ${l.boundMs} ms`);
  else if (l.committedAt - l.submittedAt > l.boundMs) v.add(`a command submitted at ${l.submittedAt.toFixed(0)} was committed only ${(l.committedAt - l.submittedAt).toFixed(0)} ms later (bound ${l.boundMs} ms)`);
  return v.out;
}

export interface CheckResult {
  readonly violations: readonly Violation[];
  readonly checks: Record<CheckerName, number>;
}

/**
 * Writers submit each command with a request id and a value unique to it (`w<i>:<n>`), so a value
 * found in two committed versions is one command committed twice. (A batch that sets a key twice
 * keeps only the later value, so a duplicate overwritten within its batch goes unseen: the checker
 * can miss a violation but never invents one.)
 */
export function checkOnce(r: RunRecord): Violation[] {
  const v = collector('e');
  const seen = new Map<string, number>();
  for (const [version, json] of committedValues(r)) {
    const inc = JSON.parse(json) as KvInc;
    for (const value of Object.values(inc.set)) {
      if (!/^w\d+:\d+$/.test(value)) continue;
      const first = seen.get(value);
      if (first === undefined) seen.set(value, version);
      else if (first !== version) v.add(`command ${value} committed in versions ${first} and ${version}`);
    }
  }
  return v.out;
}

export function checkAll(r: RunRecord): CheckResult {
  return {
    violations: [...checkOneValue(r), ...checkMonotonic(r), ...checkLinearizableReads(r), ...checkLiveness(r), ...checkOnce(r)],
    checks: { a: r.commits.length + r.reads.length + r.held.length, b: r.commits.length + r.recoveries.length + r.observations.length, c: r.reads.length, d: 1, e: r.acknowledged },
  };
}

export const formatViolations = (vs: readonly Violation[]): string => formatSuiteViolations(vs);
