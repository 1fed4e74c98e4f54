#!/usr/bin/env node
// `npm run test:sim -- [--seed S | --seeds N] [vitest args...]`: runs the seeded simulation tests
// (test/sim) with one seed replayed (`--seed`, or SEED=S in the environment) or N seeds.
import { spawnSync } from 'node:child_process';

const args = process.argv.slice(2);
const env = { ...process.env };
const rest = [];
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
  else rest.push(a);
}
if (env.SEED !== undefined && env.TROUPE_SEED === undefined) env.TROUPE_SEED = env.SEED;
const files = rest.filter((a) => !a.startsWith('-'));
const flags = rest.filter((a) => a.startsWith('-'));
const r = spawnSync('npx', ['vitest', 'run', ...(files.length > 0 ? files : ['test/sim']), ...flags], { stdio: 'inherit', env });
process.exit(r.status ?? 1);
