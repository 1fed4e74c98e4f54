import { seededRandom } from '../../../src/runtime/random.js';
import type { Disk } from '../../../src/storage/disk.js';
import { openLogWithCheckpoints, takeCheckpoint } from '../../../src/storage/checkpoint.js';
import type { DiskKind } from './helpers.js';

/**
 * A seeded workload for the operation log and checkpoints: a state machine whose state is the list
 * of record ids applied, in order. Records are appended in concurrent bursts (group commit);
 * checkpoints are taken now and then; small segments force rotation and pruning.
 */
export const logDir = 'meta';
export const logConfig = { segmentMaxBytes: 700, groupCommitMaxRecords: 4 };
export const checkpointConfig = { checkpointsKept: 2 };

export interface LogRun {
  /** Ids issued (0..issued-1), in LSN order. */
  issued: number;
  /** Ids whose append resolved before the crash. */
  readonly acked: Set<number>;
}

function encodeId(id: number, pad: number): Uint8Array {
  const out = new Uint8Array(4 + pad);
  new DataView(out.buffer).setUint32(0, id, true);
  out.fill(0xab, 4);
  return out;
}

function decodeId(payload: Uint8Array): number {
  return new DataView(payload.buffer, payload.byteOffset, payload.byteLength).getUint32(0, true);
}

/** Recovers the state machine: the ids in the order they were applied. */
export async function recoverIds(disk: Disk): Promise<number[]> {
  let state: number[] = [];
  const { log } = await openLogWithCheckpoints(disk, {
    dir: logDir,
    logConfig,
    checkpointConfig,
    onCheckpoint: (data) => {
      state = JSON.parse(new TextDecoder().decode(data)) as number[];
    },
    onRecord: (r) => state.push(decodeId(r.payload)),
  });
  await log.close();
  return state;
}

/** Runs `steps` steps of the workload; stops quietly at the first failure (a crash). */
export async function runLogWorkload(disk: Disk, seed: number, steps: number): Promise<LogRun> {
  const r = seededRandom(seed);
  const run: LogRun = { issued: 0, acked: new Set() };
  const state: number[] = [];
  try {
    const { log, checkpoints } = await openLogWithCheckpoints(disk, { dir: logDir, logConfig, checkpointConfig, onCheckpoint: () => undefined, onRecord: () => undefined });
    for (let step = 0; step < steps; step++) {
      const waits: Promise<unknown>[] = [];
      const burst = r.range(1, 6);
      for (let i = 0; i < burst; i++) {
        const id = run.issued++;
        state.push(id);
        waits.push(log.append(encodeId(id, r.int(80))).then(() => run.acked.add(id)));
      }
      if (r.chance(0.15)) {
        waits.push(
          takeCheckpoint(log, checkpoints, () => {
            const view = state.slice();
            return { serialize: () => new TextEncoder().encode(JSON.stringify(view)) };
          }),
        );
      }
      await Promise.all(waits);
    }
    await log.close();
  } catch {
    // The crash: everything after it is lost to this run.
  }
  return run;
}

/** Why a recovered id list is not a prefix of the issued ids holding every acknowledged one, or undefined when it is. */
export function prefixViolation(recovered: readonly number[], run: LogRun): string | undefined {
  for (let i = 0; i < recovered.length; i++) if (recovered[i] !== i) return `recovered[${i}] = ${recovered[i]}, not a prefix of the issued records`;
  if (recovered.length > run.issued) return `recovered ${recovered.length} records but only ${run.issued} were issued`;
  for (const id of run.acked) if (id >= recovered.length) return `acknowledged record ${id} was lost (recovered ${recovered.length})`;
  return undefined;
}

/**
 * Crashes the workload at every crash point and checks each recovery. Returns the violations found
 * (empty when durability holds) and the number of crash points.
 */
export async function crashAtEveryPoint(kind: DiskKind, seed: number, steps: number, options?: { fsyncIsNoop?: boolean; unsyncedOnCrash?: 'prefix-torn' | 'drop'; stopAtFirst?: boolean }): Promise<{ points: number; violations: string[] }> {
  const dry = await kind.makeCrashing(seed, undefined);
  await runLogWorkload(dry.disk, seed, steps);
  const points = dry.disk.points;
  await dry.dispose();
  const violations: string[] = [];
  for (let p = 1; p <= points; p++) {
    const c = await kind.makeCrashing(seed * 1000 + p, p, options);
    try {
      const run = await runLogWorkload(c.disk, seed, steps);
      const after = await c.crashed();
      const recovered = await recoverIds(after);
      let v = prefixViolation(recovered, run);
      if (v === undefined) {
        // Recovery leaves a log that takes new records and recovers again (torn tail cut cleanly).
        const again = await recoverIdsAfterOneMore(after, recovered.length);
        if (again !== recovered.length + 1) v = `after recovery, one more record then recovery gave ${again} records, expected ${recovered.length + 1}`;
      }
      if (process.env['STORAGE_VERBOSE'] !== undefined) console.log(`point ${p}: issued ${run.issued} acked ${run.acked.size} recovered ${recovered.length}`);
      if (v !== undefined) {
        violations.push(`seed ${seed}, crash point ${p}/${points}: ${v}`);
        if (options?.stopAtFirst === true) break;
      }
    } finally {
      await c.dispose();
    }
  }
  return { points, violations };
}

async function recoverIdsAfterOneMore(disk: Disk, next: number): Promise<number> {
  const { log } = await openLogWithCheckpoints(disk, { dir: logDir, logConfig, checkpointConfig, onCheckpoint: () => undefined, onRecord: () => undefined });
  await log.append(encodeId(next, 3));
  await log.close();
  return (await recoverIds(disk)).length;
}
