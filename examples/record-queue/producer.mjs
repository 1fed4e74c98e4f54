// One producer process: appends `--count` records to the queue file with a RecordWriter
// (each record framed with a unique id and a checksum, patent ¶107).
import { randomBytes } from 'node:crypto';
import { connect, RecordWriter } from 'troupe';
import { clusterFlags } from '../cluster-flags.mjs';

const { values, connectOptions } = clusterFlags({ name: { type: 'string' }, count: { type: 'string', default: '100' }, file: { type: 'string', default: '/queue/events' } });
const conn = await connect(connectOptions);
try {
  const writer = new RecordWriter(conn.client, values.file, randomBytes(8).readBigUInt64BE());
  for (let i = 0; i < Number(values.count); i++) {
    await writer.append(new TextEncoder().encode(JSON.stringify({ producer: values.name, seq: i, at: new Date().toISOString() })));
  }
} finally {
  await conn.close();
}
