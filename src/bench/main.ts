#!/usr/bin/env node
/**
 * `npm run bench -- [--json] [--repeat N] [suite...]`: runs tinybench suites side by side and writes the report
 * to bench/results/latest-<suite>.json (committed, so the README table can be regenerated). With --json the
 * report is printed as one JSON object on stdout (progress goes to stderr). With --repeat N each
 * suite runs N times in a row and the report holds the median of the runs with their spread
 * (`combineRuns`).
 */
// First: sizes libuv's thread pool before anything starts it.
import '../runtime/node/threadpool.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchEnv, combineRuns, formatLimitLine, formatTargetLine, runSuite, type BenchReport, type BenchResult, type LimitResult, type RatioResult } from './harness.js';
import { suites } from './suites/index.js';

async function main(argv: string[]): Promise<number> {
  let json = false;
  let repeat = 1;
  const names: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--json') json = true;
    else if (a === '--repeat' || a.startsWith('--repeat=')) {
      const value = a === '--repeat' ? argv[++i] : a.slice('--repeat='.length);
      repeat = Number(value);
      if (!Number.isInteger(repeat) || repeat < 1) {
        console.error(`--repeat takes a whole number of runs >= 1, got ${String(value)}`);
        return 2;
      }
    } else if (a.startsWith('--')) {
      console.error(`unknown option ${a}; usage: npm run bench -- [--json] [--repeat N] [suite...]`);
      return 2;
    } else names.push(a);
  }
  const unknown = names.filter((n) => !(n in suites));
  if (unknown.length > 0) {
    console.error(`unknown bench suite(s): ${unknown.join(', ')}; known: ${Object.keys(suites).join(', ')}`);
    return 2;
  }
  const selected = names.length > 0 ? names : Object.keys(suites);
  const log = (line: string): void => void (json ? process.stderr : process.stdout).write(`${line}\n`);
  const report: BenchReport & { limits: LimitResult[] } = { env: benchEnv(), ...(repeat > 1 ? { repeat } : {}), results: [], ratios: [], limits: [] };
  log(`node ${report.env.node}, ${report.env.cpu} x${report.env.cores}, commit ${report.env.commit}`);
  for (const name of selected) {
    const load = suites[name];
    if (load === undefined) continue;
    const runs: { results: BenchResult[]; ratios: RatioResult[]; limits: LimitResult[] }[] = [];
    for (let run = 1; run <= repeat; run++) {
      if (repeat > 1) log(`${name}: run ${run} of ${repeat}`);
      runs.push(await runSuite(await load(), log));
    }
    const out = repeat > 1 ? combineRuns(runs) : (runs[0] as { results: BenchResult[]; ratios: RatioResult[]; limits: LimitResult[] });
    if (repeat > 1) for (const q of out.ratios) log(formatTargetLine(q));
    if (repeat > 1) for (const l of out.limits) log(formatLimitLine(l));
    report.results.push(...out.results);
    report.ratios.push(...out.ratios);
    report.limits.push(...out.limits);
  }
  const dir = join(process.cwd(), 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const text = `${JSON.stringify(report, null, 2)}\n`;
  for (const name of selected) {
    const limits = report.limits.filter((l) => l.suite === name);
    const one: BenchReport = { env: report.env, ...(repeat > 1 ? { repeat } : {}), results: report.results.filter((r) => r.suite === name), ratios: report.ratios.filter((r) => r.suite === name), ...(limits.length === 0 ? {} : { limits }) };
    writeFileSync(join(dir, `latest-${name}.json`), `${JSON.stringify(one, null, 2)}\n`);
  }
  if (json) process.stdout.write(text);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
