// A multi-producer, single-consumer queue on GFS record append (patent ¶101–108):
// `--producers` producer processes append to one file while this process tails it with a
// RecordReader, which yields every acknowledged record exactly once.
//
//   npm start            (in another terminal)
//   node examples/record-queue/run.mjs --producers 3 --count 200
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { connect, GfsClientError, RecordReader } from 'troupe';
import { clusterFlags } from '../cluster-flags.mjs';

const { values, connectOptions } = clusterFlags({ producers: { type: 'string', default: '3' }, count: { type: 'string', default: '200' } });
const producers = Number(values.producers);
const count = Number(values.count);
const file = `/queue/events-${Date.now()}`;

const conn = await connect(connectOptions);
const { client } = conn;
await client.mkdirs('/queue');
await client.create(file).catch((e) => { if (!(e instanceof GfsClientError && e.code === 'already_exists')) throw e; });

const producerScript = fileURLToPath(new URL('./producer.mjs', import.meta.url));
const flags = ['--data-dir', connectOptions.dataDir, '--host', connectOptions.host, '--port', String(connectOptions.port), '--file', file, '--count', String(count)];
const children = Array.from({ length: producers }, (_, i) =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [producerScript, '--name', `p${i}`, ...flags], { stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`producer p${i} exited with ${code}`))));
  }),
);

// Consume while the producers run; stop once every record has arrived (or 120 s pass).
const stop = new AbortController();
const guard = setTimeout(() => stop.abort(), 120_000);
const perProducer = new Map();
let total = 0;
for await (const record of new RecordReader(client, file).follow({ signal: stop.signal, pollMs: 100 })) {
  const { producer, seq } = JSON.parse(new TextDecoder().decode(record.data));
  const seen = perProducer.get(producer) ?? new Set();
  if (seen.has(seq)) throw new Error(`duplicate record ${producer}#${seq}`);
  seen.add(seq);
  perProducer.set(producer, seen);
  if (++total === producers * count) break;
}
clearTimeout(guard);
await Promise.all(children);
await conn.close();
const summary = [...perProducer].sort().map(([p, s]) => `${p}: ${s.size}`).join(', ');
console.log(`consumed ${total} records from ${perProducer.size} producers, each exactly once (${summary})`);
if (total !== producers * count) process.exitCode = 1;
