/**
 * Checker (c), and the namespace half of (h): the run's namespace history — the clients' operations
 * and, after each master restart, the recovered master's listings (processes `recovery<n>`) — must
 * be linearizable against the sequential model of the namespace (namespace-model.ts). A recovery
 * listing that no linearization explains means the restarted master lost (or invented) an
 * acknowledged change: that is reported as (h).
 */
import { checkLinearizable } from '../../../../src/testkit.js';
import type { Violation } from './checkers.js';
import { namespaceModel } from './namespace-model.js';
import type { RunRecord } from './run.js';

/**
 * How long after a client sent a namespace request the master may still apply it, when the client
 * got no answer. The master's longest wait inside a request is a lease period plus its skew margin
 * (10.5 s here: a snapshot waiting out leases, M10) behind namespace locks held no longer; a crash
 * ends everything in flight. A request applied later than this shows up as a violation (a false
 * one would be investigated, never a false pass).
 */
const UNKNOWN_OUTCOME_WINDOW_MS = 30_000;

export function checkNamespace(r: RunRecord): { violations: Violation[]; opsChecked: number } {
  const ops = r.history.ns;
  const result = checkLinearizable(ops, namespaceModel(), { unknownOutcomeWindowMs: UNKNOWN_OUTCOME_WINDOW_MS });
  if (result.ok === true) return { violations: [], opsChecked: result.opsChecked };
  if (result.ok === 'unknown') return { violations: [{ checker: 'c', message: `the linearizability search gave up: ${result.reason}` }], opsChecked: 0 };
  const stuck = ops.filter((o) => result.stuckAt.includes(o.id));
  const checker = stuck.some((o) => o.process.startsWith('recovery')) ? 'h' : 'c';
  return { violations: [{ checker, message: `not linearizable:\n${result.reason}` }], opsChecked: result.opsChecked };
}
