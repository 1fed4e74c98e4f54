// Shared by the examples: where the cluster of `npm start` is (same flags as the troupe CLI).
import { parseArgs } from 'node:util';

export function clusterFlags(extra = {}) {
  const { values } = parseArgs({
    options: {
      'data-dir': { type: 'string', default: './troupe-data' },
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '7070' },
      ...extra,
    },
  });
  return { values, connectOptions: { dataDir: values['data-dir'], host: values.host, port: Number(values.port) } };
}
