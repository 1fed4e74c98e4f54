import type { RunRecord } from './run.js';
import type { Violation } from './checkers.js';
// TEMPORARY until the linearizability checker lands.
export function checkNamespace(_r: RunRecord): { violations: Violation[]; opsChecked: number } {
  return { violations: [], opsChecked: 0 };
}
