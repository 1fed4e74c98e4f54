/**
 * The chunkserver's diagnostic RPC log (chunkserver/rpc-log.ts, patent ¶129–131): one entry per
 * request with its request id and outcome, one per data push rather than per slice, and never a
 * failure of its own on a malformed message.
 */
import { describe, expect, it } from 'vitest';
import { withRpcLog } from '../../../src/actors/gfs/chunkserver/rpc-log.js';
import { makeLog, type LogEntry } from '../../../src/runtime/log.js';
import type { ChunkserverMsg } from '../../../src/actors/gfs/protocol.js';

function setup(): { entries: LogEntry[]; run: (m: unknown, reply: unknown) => unknown } {
  const entries: LogEntry[] = [];
  let now = 1_000;
  const clock = { now: () => now++ };
  const log = makeLog((e) => entries.push(e), clock, 'n/w0', 'cs0');
  return { entries, run: (m, reply) => withRpcLog(log, clock, m as ChunkserverMsg, () => reply) };
}

const addr = (server: string) => ({ server, ref: { node: 'n', id: server }, rack: 'r', host: 'h' });

describe('chunkserver RPC log', () => {
  it('logs a write with its request id, arguments and outcome, timed from its arrival', async () => {
    const { entries, run } = setup();
    await run({ type: 'gfs.chunkserver.write', rid: 'R1', handle: 16n, version: 2, offset: 0, pushId: 'p:1', lengthBytes: 10, secondaries: [addr('cs1'), addr('cs2')] }, Promise.resolve({ ok: true, value: { offset: 0 } }));
    expect(entries).toEqual([
      { level: 'info', time: 1_000, node: 'n/w0', actor: 'cs0', stream: 'rpc', msg: 'gfs.chunkserver.write', fields: { rid: 'R1', chunk: '0000000000000010', version: 2, offset: 0, lengthBytes: 10, pushId: 'p:1', secondaries: 'cs1,cs2', outcome: 'ok (offset 0)', durationMs: 1 } },
    ]);
  });

  it('summarises a data push by its last slice, and logs every failed slice', () => {
    const { entries, run } = setup();
    const push = (slice: number) => ({ type: 'gfs.chunkserver.pushData', rid: 'R2', pushId: 'p:2', slice, slices: 3, data: new Uint8Array(4), chain: [addr('cs1')] });
    run(push(0), { ok: true, value: null });
    run(push(1), { ok: false, error: { code: 'busy', message: 'push buffer full' } });
    run(push(2), { ok: true, value: null });
    expect(entries.map((e) => [e.fields?.['outcome'], e.fields?.['next']])).toEqual([
      ['busy: push buffer full', 'cs1'],
      ['ok', 'cs1'],
    ]);
  });

  it('leaves out polls and timers, and survives malformed messages', () => {
    const { entries, run } = setup();
    run({ type: 'gfs.chunkserver.tick', task: 'heartbeat' }, undefined);
    run({ type: 'gfs.chunkserver.stats' }, { ok: true, value: {} });
    expect(entries).toEqual([]);
    expect(run(null, 'refused')).toBe('refused');
    run({ type: 'gfs.chunkserver.write', rid: 42, secondaries: 'not a list' }, { ok: false, error: { code: 'invalid_request', message: 'bad handle' } });
    expect(entries).toHaveLength(1);
    expect(entries[0]?.fields).toEqual({ malformed: true, outcome: 'invalid_request: bad handle', durationMs: 1 });
  });
});
