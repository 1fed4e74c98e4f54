import type { Log } from '../../../runtime/log.js';
import type { Clock } from '../../../runtime/env.js';
import type { ChunkserverMsg } from '../protocol.js';
import { ridField } from '../protocol.js';

/**
 * The chunkserver's diagnostic RPC log (patent ¶129–131, as the master keeps one): each request
 * from a client, the master or another chunkserver, with its request id, a summary of its
 * arguments (never file data), the outcome and the time taken, to the node's RPC log stream
 * (`Log.rpc`; in the real environment a file written asynchronously). Polls and timers
 * (`report`, `stats`, `tick`) are left out; a data push is summarised by one entry when its last
 * slice is stored (or one per failed slice), not one per slice.
 */
export function withRpcLog(log: Log, clock: Clock, m: ChunkserverMsg, handle: () => unknown): unknown {
  // Messages cross hosts: a malformed one is refused by the handler, and must not break logging.
  if (typeof m !== 'object' || m === null || typeof m.type !== 'string') return handle();
  if (m.type === 'gfs.chunkserver.report' || m.type === 'gfs.chunkserver.stats' || m.type === 'gfs.chunkserver.tick') return handle();
  const arrived = log.now();
  const started = clock.now();
  const result = handle();
  const done = (outcome: unknown): void => {
    const text = describeOutcome(outcome);
    if (m.type === 'gfs.chunkserver.pushData' && m.slice !== m.slices - 1 && text === 'ok') return;
    let args: Record<string, unknown>;
    try {
      args = describeArgs(m);
    } catch {
      args = { malformed: true };
    }
    log.rpc(m.type, { ...ridField(typeof m.rid === 'string' ? m.rid : undefined), ...args, outcome: text, durationMs: clock.now() - started }, arrived);
  };
  if (result instanceof Promise) {
    result.then(done, (err: unknown) => done({ ok: false, error: { code: 'exception', message: err instanceof Error ? err.message : String(err) } }));
    return result;
  }
  done(result);
  return result;
}

function hex(h: bigint): string {
  return h.toString(16).padStart(16, '0');
}

function describeArgs(m: ChunkserverMsg): Record<string, unknown> {
  switch (m.type) {
    case 'gfs.chunkserver.pushData':
      return { pushId: m.pushId, slices: m.slices, sliceBytes: m.data.byteLength, next: m.chain[0]?.server ?? '-', chainLeft: m.chain.length };
    case 'gfs.chunkserver.write':
      return { chunk: hex(m.handle), version: m.version, offset: m.offset, lengthBytes: m.lengthBytes, pushId: m.pushId, secondaries: m.secondaries.map((s) => s.server).join(',') };
    case 'gfs.chunkserver.append':
      return { chunk: hex(m.handle), version: m.version, lengthBytes: m.lengthBytes, pushId: m.pushId, secondaries: m.secondaries.map((s) => s.server).join(',') };
    case 'gfs.chunkserver.applyMutation':
      return { chunk: hex(m.handle), version: m.version, serial: m.serial, mutation: m.mutation.kind, ...(m.mutation.kind === 'pad' ? { toBytes: m.mutation.toBytes } : { offset: m.mutation.offset, lengthBytes: m.mutation.lengthBytes, pushId: m.mutation.pushId }) };
    case 'gfs.chunkserver.read':
      return { chunk: hex(m.handle), version: m.version, offset: m.offset, lengthBytes: m.lengthBytes };
    case 'gfs.chunkserver.createChunk':
    case 'gfs.chunkserver.setVersion':
      return { chunk: hex(m.handle), version: m.version };
    case 'gfs.chunkserver.grantLease':
      return { chunk: hex(m.handle), version: m.version, expiresAt: m.expiresAt, secondaries: m.secondaries.map((s) => s.server).join(',') };
    case 'gfs.chunkserver.revokeLease':
      return { chunk: hex(m.handle) };
    case 'gfs.chunkserver.sealChunk':
      return { chunk: hex(m.handle), version: m.version, ...(m.lengthBytes === undefined ? { step: 'fence' } : { step: 'cut', lengthBytes: m.lengthBytes }) };
    case 'gfs.chunkserver.clone':
      return { chunk: hex(m.handle), version: m.version, source: m.source.server };
    case 'gfs.chunkserver.copyLocal':
      return { from: hex(m.from), to: hex(m.to), version: m.version };
    case 'gfs.chunkserver.deleteChunks':
      return { chunks: m.handles.length };
    case 'gfs.chunkserver.report':
    case 'gfs.chunkserver.stats':
    case 'gfs.chunkserver.tick':
      return {};
    default: {
      // A type this build does not know (a newer peer): logged without arguments.
      const _unknown: never = m;
      return {};
    }
  }
}

function describeOutcome(r: unknown): string {
  if (r === null || typeof r !== 'object' || !('ok' in r)) return 'ok';
  const res = r as { ok: boolean; value?: unknown; error?: { code: string; message: string } };
  if (!res.ok) return `${res.error?.code ?? 'error'}: ${res.error?.message ?? ''}`;
  const v = res.value;
  if (v !== null && typeof v === 'object') {
    if ('offset' in v) return `ok (offset ${String((v as { offset: unknown }).offset)})`;
    if ('retryNextChunk' in v) return 'ok (padded: retry on the next chunk)';
    if ('data' in v && (v as { data: unknown }).data instanceof Uint8Array) return `ok (${(v as { data: Uint8Array }).data.byteLength} bytes)`;
  }
  return 'ok';
}
