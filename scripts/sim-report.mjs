// The fault-injection report: aggregates the per-run lines the GFS fault suite writes (one JSON line
// per seed, under TROUPE_SIM_REPORT) into test/sim/results/latest.json and latest.md, and
// regenerates the README's reliability figures between <!-- reliability:start --> and
// <!-- reliability:end -->. Used by `npm run test:sim -- --report`.
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { replaceReadmeBlock } from './readme-block.mjs';

const root = join(import.meta.dirname, '..');

export function writeReport(runsDir, wallMs) {
  const runs = existsSync(runsDir)
    ? readdirSync(runsDir)
        .filter((f) => f.endsWith('.jsonl'))
        .sort()
        .flatMap((f) =>
          readFileSync(join(runsDir, f), 'utf8')
            .split('\n')
            .filter((l) => l.trim() !== '')
            .map((l) => JSON.parse(l)),
        )
    : [];
  if (runs.length === 0) {
    console.error('test:sim --report: no fault-suite run was recorded (did the run include test/sim/gfs/faults?)');
    return false;
  }
  const sum = (f) => runs.reduce((n, r) => n + f(r), 0);
  const add = (into, obj) => {
    for (const [k, v] of Object.entries(obj)) into[k] = (into[k] ?? 0) + v;
    return into;
  };
  const scenarios = {};
  for (const r of runs) {
    const s = (scenarios[r.scenario] ??= { seeds: 0, failed: [], simulatedMs: 0, wallMs: 0 });
    s.seeds++;
    s.simulatedMs += r.simulatedMs;
    s.wallMs += r.wallMs;
    if (r.violations.length > 0) s.failed.push(r.seed);
  }
  const convergence = runs.map((r) => r.convergenceMs).filter((x) => x !== null).sort((a, b) => a - b);
  const violationsByChecker = {};
  for (const r of runs) for (const v of r.violations) violationsByChecker[v.slice(1, 2)] = (violationsByChecker[v.slice(1, 2)] ?? 0) + 1;
  const git = (args) => {
    try {
      return execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim();
    } catch {
      return 'unknown';
    }
  };
  const report = {
    env: { node: process.version, cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, commit: git(['rev-parse', '--short', 'HEAD']), date: new Date().toISOString() },
    seeds: runs.length,
    scenarios,
    simulatedMs: sum((r) => r.simulatedMs),
    wallMs: wallMs ?? sum((r) => r.wallMs),
    faults: runs.reduce((acc, r) => add(acc, r.faults), {}),
    operations: runs.reduce((acc, r) => add(acc, r.operations), {}),
    acknowledged: runs.reduce((acc, r) => add(acc, r.acknowledged), {}),
    checks: runs.reduce((acc, r) => add(acc, r.checks), {}),
    violations: sum((r) => r.violations.length),
    violationsByChecker,
    convergenceMs: { median: convergence[Math.floor(convergence.length / 2)] ?? null, max: convergence[convergence.length - 1] ?? null, notConverged: runs.length - convergence.length },
    failures: runs.filter((r) => r.violations.length > 0).map((r) => ({ scenario: r.scenario, seed: r.seed, violations: r.violations.slice(0, 5), replay: `npm run test:sim -- --seed ${r.seed} test/sim/gfs/faults/${r.scenario}.test.ts` })),
  };
  const out = join(root, 'test', 'sim', 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
  const md = render(report);
  writeFileSync(join(out, 'latest.md'), `# GFS fault-injection report\n\n${md}\n`);
  const updated = replaceReadmeBlock('reliability', md);
  console.log(`\n${md}\nreport: test/sim/results/latest.json, latest.md${updated ? '; README reliability figures updated' : ''}`);
  return report.violations === 0;
}

const LETTERS = {
  a: 'acknowledged record appends intact on every replica, read once',
  b: 'serial successful writes defined (snapshots included)',
  c: 'namespace operations linearizable',
  d: 'at most one primary per chunk at a time',
  e: 'back to the replication goal after the faults',
  f: 'no corrupt byte returned to a client',
  g: 'GC keeps every referenced chunk',
  h: 'master recovery keeps every acknowledged change',
};

function render(r) {
  const n = (x) => x.toLocaleString('en-US');
  const s = (ms) => `${(ms / 1000).toFixed(1)} s`;
  const lines = [];
  lines.push(`${n(r.seeds)} seeds over ${Object.keys(r.scenarios).length} scenarios: ${s(r.simulatedMs)} of simulated time in ${s(r.wallMs)} of wall time, ${(r.simulatedMs / r.wallMs).toFixed(1)} simulated seconds per wall second (Node ${r.env.node}, ${r.env.cpu} ×${r.env.cores}, commit ${r.env.commit}, ${r.env.date.slice(0, 10)}).`, '');
  lines.push(`**Violations: ${n(r.violations)}.** Acknowledged record appends: ${n(r.acknowledged.appends ?? 0)}; acknowledged writes: ${n(r.acknowledged.writes ?? 0)}; lost or corrupted: ${n((r.violationsByChecker.a ?? 0) + (r.violationsByChecker.b ?? 0) + (r.violationsByChecker.h ?? 0))}.`, '');
  lines.push('| scenario | seeds | failed seeds |', '|---|---|---|');
  for (const [name, sc] of Object.entries(r.scenarios)) lines.push(`| ${name} | ${sc.seeds} | ${sc.failed.length === 0 ? '0' : sc.failed.join(', ')} |`);
  lines.push('', '| fault injected | count |', '|---|---|');
  for (const [k, v] of Object.entries(r.faults)) lines.push(`| ${k} | ${n(v)} |`);
  lines.push('', '| operations | count |', '|---|---|');
  for (const [k, v] of Object.entries(r.operations)) lines.push(`| ${k} | ${n(v)} |`);
  lines.push('', '| checker | checks | violations |', '|---|---|---|');
  for (const [k, label] of Object.entries(LETTERS)) lines.push(`| (${k}) ${label} | ${n(r.checks[k] ?? 0)} | ${n(r.violationsByChecker[k] ?? 0)} |`);
  lines.push('', `Back to the replication goal after the faults ended: median ${r.convergenceMs.median === null ? '–' : s(r.convergenceMs.median)}, worst ${r.convergenceMs.max === null ? '–' : s(r.convergenceMs.max)} (simulated), ${r.convergenceMs.notConverged} runs not within the bound.`);
  for (const f of r.failures) lines.push('', `- ${f.scenario} seed ${f.seed}: \`${f.replay}\``);
  return lines.join('\n');
}
