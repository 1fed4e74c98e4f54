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

export function checkNamespace(r: RunRecord): { violations: Violation[]; opsChecked: number } {
  const ops = r.history.ns;
  const result = checkLinearizable(ops, namespaceModel());
  if (result.ok === true) return { violations: [], opsChecked: result.opsChecked };
  if (result.ok === 'unknown') return { violations: [{ checker: 'c', message: `the linearizability search gave up: ${result.reason}` }], opsChecked: 0 };
  const stuck = ops.filter((o) => result.stuckAt.includes(o.id));
  const checker = stuck.some((o) => o.process.startsWith('recovery')) ? 'h' : 'c';
  return { violations: [{ checker, message: `not linearizable:\n${result.reason}` }], opsChecked: result.opsChecked };
}
