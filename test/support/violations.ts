/**
 * What every fault suite's checkers report: violations named by checker letter, a few per checker
 * at most (the first ones say what went wrong; thousands would only bury them), printed one per line.
 */
export interface Violation<C extends string = string> {
  readonly checker: C;
  readonly message: string;
}

/** Violations kept per checker at most. */
export const VIOLATIONS_PER_CHECKER_MAX = 5;

/** Collects one checker's violations, keeping the first `VIOLATIONS_PER_CHECKER_MAX`. */
export function violationCollector<C extends string>(checker: C) {
  const out: Violation<C>[] = [];
  return {
    out,
    add(message: string): void {
      if (out.length < VIOLATIONS_PER_CHECKER_MAX) out.push({ checker, message });
    },
  };
}

/** One line per violation: `(c) what the checker checks: message` (without the description when none is given). */
export function formatViolations<C extends string>(vs: readonly Violation<C>[], descriptions?: Readonly<Record<C, string>>): string {
  return vs.map((v) => `  (${v.checker}) ${descriptions === undefined ? '' : `${descriptions[v.checker]}: `}${v.message}`).join('\n');
}
