#!/usr/bin/env node
// `npm run test:sim -- [--seed S | --seeds N] [--report] [vitest args...]`: runs the seeded
// simulation tests (test/sim) with one seed replayed (`--seed`, or SEED=S in the environment) or N
// seeds per seeded test. `--report` runs the GFS fault-injection suite (test/sim/gfs/faults, unless
// files are named) and writes its report (scripts/sim-report.mjs).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import { performance } from 'node:perf_hooks';
import { writeReport } from './sim-report.mjs';

const args = process.argv.slice(2);
const env = { ...process.env };
const rest = [];
let report = false;
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  const value = () => {
    const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : args[++i];
    if (v === undefined || !/^\d+$/.test(v)) {
      console.error(`test:sim: ${a.split('=')[0]} takes a non-negative integer`);
      process.exit(2);
    }
    return v;
  };
  if (a === '--seed' || a.startsWith('--seed=')) env.TROUPE_SEED = value();
  else if (a === '--seeds' || a.startsWith('--seeds=')) env.TROUPE_SEEDS = value();
  else if (a === '--report') report = true;
  else rest.push(a);
}
if (env.SEED !== undefined && env.TROUPE_SEED === undefined) env.TROUPE_SEED = env.SEED;
const files = rest.filter((a) => !a.startsWith('-'));
const flags = rest.filter((a) => a.startsWith('-'));
const targets = files.length > 0 ? files : [report ? 'test/sim/gfs/faults' : 'test/sim'];
// The simulation tests run in process on the sources: no need to build dist/ (test/global-setup.ts).
if (targets.every((f) => relative(process.cwd(), resolve(f)).split(sep).slice(0, 2).join('/') === 'test/sim')) env.TROUPE_TEST_NO_BUILD = '1';
const runsDir = report ? mkdtempSync(join(tmpdir(), 'troupe-sim-report-')) : undefined;
if (runsDir !== undefined) env.TROUPE_SIM_REPORT = runsDir;
const t0 = performance.now();
const r = spawnSync('npx', ['vitest', 'run', ...targets, ...flags], { stdio: 'inherit', env });
let status = r.status ?? 1;
if (runsDir !== undefined) {
  if (!writeReport(runsDir, performance.now() - t0) && status === 0) status = 1;
  rmSync(runsDir, { recursive: true, force: true });
}
process.exit(status);
