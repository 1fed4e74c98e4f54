#!/usr/bin/env node
// `npm run bench:table`: regenerates the README's performance table from bench/results/latest-*.json
// (written by `npm run bench`), between the <!-- bench:start --> and <!-- bench:end --> markers.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { replaceReadmeBlock } from './readme-block.mjs';
import { benchCommand, ratioCell } from './bench-cells.mjs';

const root = join(import.meta.dirname, '..');
const dir = join(root, 'bench', 'results');
const reports = readdirSync(dir)
  .filter((f) => /^latest-.*\.json$/.test(f))
  .sort()
  .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')));

const rate = (r) =>
  r.ms !== undefined
    ? `${r.ms.toFixed(0)} ms`
    : r.bytes !== undefined
    ? `${r.bytes.toFixed(0)} bytes`
    : r.bytesPerSec !== undefined
    ? r.bytesPerSec < 1e8
      ? `${(r.bytesPerSec / 1e6).toFixed(1)} MB/s`
      : `${(r.bytesPerSec / 1e9).toFixed(2)} GB/s`
    : r.opsPerSec >= 1e6
      ? `${(r.opsPerSec / 1e6).toFixed(2)} M/s`
      : r.opsPerSec >= 1e3
        ? `${(r.opsPerSec / 1e3).toFixed(1)} k/s`
        : `${r.opsPerSec.toFixed(1)} /s`;

const lines = [];
for (const rep of reports) {
  const suite = rep.results[0]?.suite ?? '?';
  const e = rep.env;
  lines.push(`**${suite}** — \`${benchCommand(suite, rep.repeat)}\`; Node ${e.node}, ${e.cpu} ×${e.cores}, commit ${e.commit}, ${e.date.slice(0, 10)}`, '');
  lines.push('| case | median |', '|---|---|');
  const mb = (x) => `${(x / 1e6).toFixed(1)} MB/s`;
  // Rate cases measured against a limit (the simulated GFS testbed) show it, and a published figure, beside.
  const beside = (r) =>
    r.limitBytesPerSec === undefined
      ? ''
      : ` (${(r.limitFraction * 100).toFixed(0)}% of ${mb(r.limitBytesPerSec)}${r.paperBytesPerSec === undefined ? '' : `; paper ${mb(r.paperBytesPerSec)} of ${mb(r.paperLimitBytesPerSec ?? r.limitBytesPerSec)}`}; virtual time)`;
  // Cases run under an emulated link say so beside their rate.
  const capped = (r) => (r.egressBytesPerSecMax === undefined ? '' : ` (each thread's egress capped at ${mb(r.egressBytesPerSecMax)}, emulating the paper's 100 Mbps NICs)`);
  for (const r of rep.results) lines.push(`| \`${r.name}\` | ${rate(r)}${beside(r)}${capped(r)} |`);
  if (rep.ratios.length > 0) {
    lines.push('', '| ratio | measured | target |', '|---|---|---|');
    for (const q of rep.ratios) lines.push(`| \`${q.name}\` / ${q.derivedFrom !== undefined ? `${q.baseline} 1 / (${q.derivedFrom.map((c) => `1/\`${c}\``).join(' + ')})` : q.baselineField === undefined ? `\`${q.baseline}\`` : 'its network limit'} | ${ratioCell(q)} | ${q.atLeast > 0 ? `≥ ${q.atLeast}× ${q.met ? '(met)' : '(**not met**)'}` : 'reported'} |`);
  }
  if ((rep.limits ?? []).length > 0) {
    lines.push('', '| limit | measured | target |', '|---|---|---|');
    for (const l of rep.limits) lines.push(`| \`${l.name}\` | ${l.value.toFixed(0)} ${l.field} | ≤ ${l.atMost} ${l.field} ${l.met ? '(met)' : '(**not met**)'} |`);
  }
  lines.push('');
}

if (!replaceReadmeBlock('bench', lines.join('\n'))) {
  console.error('README.md has no <!-- bench:start --> ... <!-- bench:end --> block');
  process.exit(1);
}
console.log(`README performance table regenerated from ${reports.length} suite(s)`);
