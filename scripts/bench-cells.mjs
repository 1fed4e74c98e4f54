// Cells of the README's performance table that show a ratio's spread (used by bench-table.mjs).

const x = (v) => `${v.toFixed(2)}×`;
const range = (a, b) => `${a.toFixed(2)}–${b.toFixed(2)}`;

/**
 * A target's measured ratio with its spread: `0.93× (0.88–0.97, 15 pairs)` when its case and
 * baseline ran interleaved (the median of per-pair ratios, their min–max, how many pairs);
 * `0.93× (runs 0.88–0.97 over 3; pairs 0.41–2.10)` for a `--repeat N` report (the median of the
 * runs' ratios, their min–max, and the min–max of all pairs); the bare ratio otherwise.
 */
export function ratioCell(q) {
  const pairs = q.pairs !== undefined && q.min !== undefined && q.max !== undefined;
  if (q.runs !== undefined && q.runMin !== undefined && q.runMax !== undefined) {
    return `${x(q.ratio)} (runs ${range(q.runMin, q.runMax)} over ${q.runs}${pairs ? `; pairs ${range(q.min, q.max)}` : ''})`;
  }
  if (pairs) return `${x(q.ratio)} (${range(q.min, q.max)}, ${q.pairs} pairs)`;
  return x(q.ratio);
}

/** The command that produced a report: `npm run bench -- [--repeat N] <suite>`. */
export function benchCommand(suite, repeat) {
  return `npm run bench -- ${repeat !== undefined && repeat > 1 ? `--repeat ${repeat} ` : ''}${suite}`;
}
