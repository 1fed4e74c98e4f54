/**
 * GFS on real worker threads and real disks (issue: chunkservers and client, item 5): 16
 * concurrent appenders to one file; a reader sees every acknowledged record exactly once.
 * The 200 MiB write/read with sha256 equality runs through the CLI in test/e2e/cli-up.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'troupe-appenders-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('record append on a real cluster', () => {
  it('16 concurrent appenders to one file: every acknowledged record exactly once, intact', async () => {
    // From the build, so the chunkserver roles load in the worker threads next to it.
    const { startLocalCluster, connect, RecordReader, RecordWriter } = (await import(join(import.meta.dirname, '..', '..', 'dist', 'index.js'))) as typeof import('../../src/index.js');
    const cluster = await startLocalCluster({ dataDir: join(dir, 'data'), port: 0, chunkSizeBytes: 1 << 20, logger: () => {} });
    try {
      const conn = await connect({ dataDir: join(dir, 'data'), host: '127.0.0.1', port: cluster.address.port });
      try {
        const { client } = conn;
        await client.create('/log');
        const acked = new Set<string>();
        await Promise.all(
          Array.from({ length: 16 }, async (_, p) => {
            const w = new RecordWriter(client, '/log', BigInt(p + 1));
            for (let i = 0; i < 40; i++) {
              await w.append(new TextEncoder().encode(`${p}:${i}:${'x'.repeat(100 + ((p * 131 + i * 17) % 4000))}`));
              acked.add(`${p}:${i}`);
            }
          }),
        );
        const seen = new Map<string, number>();
        for await (const r of new RecordReader(client, '/log').records()) {
          const [p, i, pad] = new TextDecoder().decode(r.data).split(':');
          expect(pad).toMatch(/^x+$/);
          const k = `${p}:${i}`;
          seen.set(k, (seen.get(k) ?? 0) + 1);
        }
        expect(acked.size).toBe(640);
        for (const k of acked) expect(seen.get(k), k).toBe(1);
        expect(seen.size).toBe(640);
      } finally {
        await conn.close();
      }
    } finally {
      await cluster.close();
    }
  });
});
