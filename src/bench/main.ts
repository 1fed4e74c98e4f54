#!/usr/bin/env node
/**
 * `npm run bench -- [--json] [suite...]`: runs tinybench suites side by side and writes the report
 * to bench/results/latest-<suite>.json (committed, so the README table can be regenerated). With --json the
 * report is printed as one JSON object on stdout (progress goes to stderr).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchEnv, runSuite, type BenchReport } from './harness.js';
import { suites } from './suites/index.js';

async function main(argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  const names = argv.filter((a) => !a.startsWith('--'));
  const unknown = names.filter((n) => !(n in suites));
  if (unknown.length > 0) {
    console.error(`unknown bench suite(s): ${unknown.join(', ')}; known: ${Object.keys(suites).join(', ')}`);
    return 2;
  }
  const selected = names.length > 0 ? names : Object.keys(suites);
  const log = (line: string): void => void (json ? process.stderr : process.stdout).write(`${line}\n`);
  const report: BenchReport = { env: benchEnv(), results: [], ratios: [] };
  log(`node ${report.env.node}, ${report.env.cpu} x${report.env.cores}, commit ${report.env.commit}`);
  for (const name of selected) {
    const load = suites[name];
    if (load === undefined) continue;
    const out = await runSuite(await load(), log);
    report.results.push(...out.results);
    report.ratios.push(...out.ratios);
  }
  const dir = join(process.cwd(), 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const text = `${JSON.stringify(report, null, 2)}\n`;
  for (const name of selected) {
    const one: BenchReport = { env: report.env, results: report.results.filter((r) => r.suite === name), ratios: report.ratios.filter((r) => r.suite === name) };
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
