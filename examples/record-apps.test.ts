/**
 * The record-append examples (README), each run with one command against a `troupe up` cluster
 * (issue: GFS chunkservers and client, item 4).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runNode, startClusterProcess, type ClusterProcess } from '../test/support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'troupe-examples-'));
let cluster: ClusterProcess;
const flags = (): string[] => ['--data-dir', join(dir, 'data'), '--port', String(cluster.port)];

beforeAll(async () => {
  cluster = await startClusterProcess(join(dir, 'data'), ['--chunk-size', '1MiB']);
});
afterAll(async () => {
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('examples on record-append queues (¶101–108)', () => {
  it('record-queue: 3 producer processes append while a consumer tails the file; every record arrives exactly once', async () => {
    const r = await runNode([join(import.meta.dirname, 'record-queue', 'run.mjs'), '--producers', '3', '--count', '150', ...flags()], 150_000);
    expect(r.err).toBe('');
    expect(r.out).toContain('consumed 450 records from 3 producers, each exactly once (p0: 150, p1: 150, p2: 150)');
    expect(r.code).toBe(0);
  });

  it('merge: 4 mapper processes append partial word counts to one file; the merge equals a count of the whole input', async () => {
    const input = join(import.meta.dirname, '..', 'README.md');
    const r = await runNode([join(import.meta.dirname, 'merge', 'run.mjs'), '--mappers', '4', '--input', input, ...flags()], 150_000);
    expect(r.err).toBe('');
    const words = readFileSync(input, 'utf8').toLowerCase().match(/[a-z]+/g) ?? [];
    expect(r.out).toContain(`merged 4 partials`);
    expect(r.out).toContain(`${new Set(words).size} distinct words, ${words.length} in all`);
    expect(r.code).toBe(0);
  });
});
