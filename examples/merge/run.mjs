// A many-way merge on GFS record append: `--mappers` processes write partial results into one
// file concurrently (record append, patent ¶101), then they are merged into one result file.
//
//   npm start            (in another terminal)
//   node examples/merge/run.mjs --mappers 4 --input README.md
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { connect, RecordReader } from 'troupe';
import { clusterFlags } from '../cluster-flags.mjs';

const { values, connectOptions } = clusterFlags({ mappers: { type: 'string', default: '4' }, input: { type: 'string', default: 'README.md' } });
const mappers = Number(values.mappers);
const job = `/merge/job-${Date.now()}`;
const conn = await connect(connectOptions);
const { client } = conn;
await client.mkdirs(job);
await client.create(`${job}/partials`);

const mapper = fileURLToPath(new URL('./mapper.mjs', import.meta.url));
const flags = ['--data-dir', connectOptions.dataDir, '--host', connectOptions.host, '--port', String(connectOptions.port), '--input', values.input, '--parts', String(mappers), '--partials', `${job}/partials`];
await Promise.all(
  Array.from({ length: mappers }, (_, part) =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [mapper, '--part', String(part), ...flags], { stdio: ['ignore', 'inherit', 'inherit'] });
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`mapper ${part} exited with ${code}`))));
    }),
  ),
);

// Merge: each partial exactly once (duplicates from retried appends are dropped by the reader).
const total = {};
const partsSeen = new Set();
for await (const r of new RecordReader(client, `${job}/partials`).records()) {
  const { part, counts } = JSON.parse(new TextDecoder().decode(r.data));
  if (partsSeen.has(part)) throw new Error(`partial ${part} merged twice`);
  partsSeen.add(part);
  for (const [w, n] of Object.entries(counts)) total[w] = (total[w] ?? 0) + n;
}
const result = Object.entries(total).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
await client.create(`${job}/result`);
await client.write(`${job}/result`, 0, new TextEncoder().encode(result.map(([w, n]) => `${n}\t${w}`).join('\n') + '\n'));
await conn.close();
const words = result.reduce((a, [, n]) => a + n, 0);
console.log(`merged ${partsSeen.size} partials into ${job}/result: ${result.length} distinct words, ${words} in all; top: ${result.slice(0, 5).map(([w, n]) => `${w} ${n}`).join(', ')}`);
if (partsSeen.size !== mappers) process.exitCode = 1;
