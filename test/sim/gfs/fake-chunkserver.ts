/**
 * A stand-in chunkserver for testing the master alone: it keeps chunk metadata (no data), obeys
 * the master's commands, heartbeats with reports and lease-extension requests, and records every
 * lease it is granted so tests can check that two primaries never overlap (invariant M6).
 */
import type { ActorFactory, ActorRef } from '../../../src/index.js';
import type { ChunkHandle, ChunkReport, ChunkserverMsg, ChunkserverReply, HeartbeatReply, MasterMsg } from '../../../src/actors/gfs/protocol.js';
import { fail, ok, type GfsResult } from '../../../src/actors/gfs/errors.js';

/** What survives a crash of the chunkserver's node: its disk. */
export interface FakeDisk {
  readonly chunks: Map<ChunkHandle, { version: number; lengthBytes: number }>;
  /** Make the next version bump here but lose the answer (the master sees a failure). */
  loseNextSetVersionAnswer?: boolean;
}

export interface LeaseRecord {
  readonly handle: ChunkHandle;
  readonly primary: string;
  readonly version: number;
  readonly from: number;
  until: number;
}

export interface CloneStats {
  running: number;
  maxRunningPerServer: Map<string, number>;
  started: number;
  /** When each clone started, by chunk. */
  readonly startedAt?: Array<{ handle: ChunkHandle; at: number }>;
}

type Tick = { readonly type: 'fake.heartbeat' };

export function fakeChunkserver(opts: {
  id: string;
  rack: string;
  host: string;
  masters: readonly ActorRef<MasterMsg>[];
  disk: FakeDisk;
  leases: LeaseRecord[];
  clones?: CloneStats;
  heartbeatMs: number;
  now: () => number;
  cloneMs?: number;
}): ActorFactory<ChunkserverMsg | Tick> {
  return (ctx) => {
    const needReport = new Set(opts.masters.map((m) => m.id + m.node));
    const myLeases = new Map<ChunkHandle, LeaseRecord>();
    let running = 0;
    const report = (): ChunkReport[] => [...opts.disk.chunks].map(([handle, c]) => ({ handle, version: c.version, lengthBytes: c.lengthBytes }));
    const heartbeat = async (): Promise<void> => {
      for (const m of opts.masters) {
        const key = m.id + m.node;
        const r = await ctx
          .ask<GfsResult<HeartbeatReply>>(m, {
            type: 'gfs.master.heartbeat',
            server: opts.id,
            ref: ctx.self as ActorRef<ChunkserverMsg>,
            rack: opts.rack,
            host: opts.host,
            usedBytes: opts.disk.chunks.size * 1_000_000,
            capacityBytes: 1_000_000_000,
            // ¶73: every heartbeat names the chunks this server stores; the reply says which are garbage.
            chunks: report(),
            leaseExtensions: [...myLeases.keys()],
          }, { timeoutMs: opts.heartbeatMs })
          .catch(() => undefined);
        if (r === undefined || !r.ok) continue;
        if (r.value.needReport) needReport.add(key);
        else needReport.delete(key);
        for (const h of r.value.garbage) opts.disk.chunks.delete(h);
        for (const e of r.value.extended) {
          const l = myLeases.get(e.handle);
          if (l !== undefined) l.until = Math.max(l.until, e.expiresAt);
        }
      }
    };
    ctx.timers.repeat('hb', opts.heartbeatMs, { type: 'fake.heartbeat' }, 0);
    return {
      async receive(m): Promise<ChunkserverReply | undefined> {
        const now = opts.now();
        for (const [h, l] of myLeases) if (l.until <= now) myLeases.delete(h);
        switch (m.type) {
          case 'fake.heartbeat':
            await heartbeat();
            return undefined;
          case 'gfs.chunkserver.createChunk':
            opts.disk.chunks.set(m.handle, { version: m.version, lengthBytes: 0 });
            return ok({ version: m.version });
          case 'gfs.chunkserver.setVersion': {
            const c = opts.disk.chunks.get(m.handle);
            if (c === undefined) return fail('chunk_not_found', `${opts.id} has no chunk ${m.handle}`);
            c.version = m.version;
            if (opts.disk.loseNextSetVersionAnswer === true) {
              opts.disk.loseNextSetVersionAnswer = false;
              return fail('chunkserver_failed', `${opts.id}: the answer was lost`);
            }
            return ok({ version: m.version });
          }
          case 'gfs.chunkserver.grantLease': {
            const rec: LeaseRecord = { handle: m.handle, primary: opts.id, version: m.version, from: now, until: m.expiresAt };
            opts.leases.push(rec);
            myLeases.set(m.handle, rec);
            return ok({});
          }
          case 'gfs.chunkserver.revokeLease': {
            const l = myLeases.get(m.handle);
            if (l !== undefined) l.until = Math.min(l.until, now);
            myLeases.delete(m.handle);
            return ok({});
          }
          case 'gfs.chunkserver.clone': {
            const stats = opts.clones;
            running++;
            if (stats !== undefined) {
              stats.running++;
              stats.started++;
              stats.startedAt?.push({ handle: m.handle, at: now });
              stats.maxRunningPerServer.set(opts.id, Math.max(stats.maxRunningPerServer.get(opts.id) ?? 0, running));
            }
            try {
              const src = await ctx.ask<ChunkserverReply>(m.source.ref, { type: 'gfs.chunkserver.report' }, { timeoutMs: 2_000 }).catch(() => undefined);
              const found = src?.ok === true ? src.value.chunks?.find((c) => c.handle === m.handle) : undefined;
              if (found === undefined || found.version !== m.version) return fail('chunkserver_failed', `source lacks ${m.handle} v${m.version}`);
              await new Promise<void>((r) => void ctx.env.timers.after(opts.cloneMs ?? 50, r));
              opts.disk.chunks.set(m.handle, { version: m.version, lengthBytes: found.lengthBytes });
              return ok({ version: m.version, lengthBytes: found.lengthBytes });
            } finally {
              running--;
              if (stats !== undefined) stats.running--;
            }
          }
          case 'gfs.chunkserver.copyLocal': {
            const c = opts.disk.chunks.get(m.from);
            if (c === undefined) return fail('chunk_not_found', `${opts.id} has no chunk ${m.from}`);
            opts.disk.chunks.set(m.to, { version: m.version, lengthBytes: c.lengthBytes });
            return ok({ version: m.version });
          }
          case 'gfs.chunkserver.deleteChunks':
            for (const h of m.handles) opts.disk.chunks.delete(h);
            return ok({});
          case 'gfs.chunkserver.report':
            return ok({ chunks: report() });
        }
      },
    };
  };
}

/** M6: for every chunk, no two different primaries' lease intervals overlap. */
export function overlappingLeases(leases: readonly LeaseRecord[]): string[] {
  const problems: string[] = [];
  const byChunk = new Map<ChunkHandle, LeaseRecord[]>();
  for (const l of leases) byChunk.set(l.handle, [...(byChunk.get(l.handle) ?? []), l]);
  for (const [h, ls] of byChunk) {
    const sorted = [...ls].sort((a, b) => a.from - b.from);
    for (let i = 0; i < sorted.length; i++) {
      for (let j = i + 1; j < sorted.length; j++) {
        const a = sorted[i] as LeaseRecord;
        const b = sorted[j] as LeaseRecord;
        if (a.primary !== b.primary && b.from < a.until) problems.push(`chunk ${h}: ${a.primary} [${a.from}, ${a.until}) overlaps ${b.primary} [${b.from}, ${b.until})`);
      }
    }
  }
  return problems;
}
