// One mapper process of the many-way merge: counts words in its share of the input and appends
// its partial counts as one record to the shared partials file (record append needs no locking).
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { connect, RecordWriter } from 'troupe';
import { clusterFlags } from '../cluster-flags.mjs';

const { values, connectOptions } = clusterFlags({ input: { type: 'string' }, part: { type: 'string' }, parts: { type: 'string' }, partials: { type: 'string' } });
const lines = readFileSync(values.input, 'utf8').split('\n');
const part = Number(values.part);
const parts = Number(values.parts);
const counts = {};
for (let i = part; i < lines.length; i += parts) {
  for (const w of lines[i].toLowerCase().match(/[a-z]+/g) ?? []) counts[w] = (counts[w] ?? 0) + 1;
}
const conn = await connect(connectOptions);
try {
  await new RecordWriter(conn.client, values.partials, randomBytes(8).readBigUInt64BE()).append(new TextEncoder().encode(JSON.stringify({ part, counts })));
} finally {
  await conn.close();
}
