import { it } from 'vitest';
import { checkAll, formatViolations } from './checkers.js';
import { runScenario } from './run.js';
import { SCENARIOS } from './scenarios.js';
it('probe', async () => {
  const n = Number(process.env['N'] ?? 4);
  for (const sc of ['crashes', 'partitions', 'mixed']) for (let seed = 1; seed <= n; seed++) {
  const t0 = performance.now();
  const r = await runScenario(SCENARIOS[sc]!, seed);
  const res = checkAll(r);
  const evs = r.streams.reduce((n, s) => n + s.entries.filter((e) => e.entry.kind === 'event').length, 0);
  const exp = r.streams.filter((s) => s.entries.some((e) => e.entry.kind === 'state' && e.entry.state === 'expired')).length;
  console.log(sc, seed, 'ms', Math.round(performance.now() - t0), 'streams', r.streams.length, 'expired', exp, 'events', evs, 'checks', JSON.stringify(res.checks), 'quiet', r.quietAt);
  console.log(formatViolations(res.violations.slice(0, 8)));
  }
}, 600_000);
