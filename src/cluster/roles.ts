/**
 * Actor roles loadable by module and export name (`BehaviorSpec`), so the launcher can place them
 * on worker threads or other hosts: each builds its host resources (a disk on a directory) from
 * plain-data arguments, in the thread it runs in.
 */
import type { ActorContext, Behavior } from '../runtime/behavior.js';
import type { ActorRef } from '../runtime/ref.js';
import { deferMacrotask, realTimers } from '../runtime/node/env.js';
import { osdMonitor } from '../actors/rados/mon/osd-monitor.js';
import { DiskMonitorStore } from '../actors/rados/monitor/store.js';
import { NodeDisk } from '../storage/node/node-disk.js';
import type { ObjectStoreConfig } from '../storage/config.js';
import { withIoTimeout } from '../storage/timed-disk.js';
import { gfsChunkserver } from '../actors/gfs/chunkserver/chunkserver.js';
import type { GfsConfig } from '../actors/gfs/config.js';
import type { ChunkserverMsg, MasterMsg } from '../actors/gfs/protocol.js';
import { radosOsd, type OsdConfig, type OsdMsg } from '../actors/rados/osd/osd.js';
import type { MonitorMsg } from '../actors/rados/monitor/protocol.js';
import type { OsdMapConfig } from '../actors/rados/config.js';

export interface ChunkserverRoleArgs {
  readonly id: string;
  readonly rack: string;
  readonly host: string;
  /** Absolute directory of this chunkserver's files. */
  readonly dir: string;
  readonly masters: readonly ActorRef<MasterMsg>[];
  readonly config?: Partial<GfsConfig>;
  readonly ioTimeoutMs?: number;
}

export function chunkserverRole(ctx: ActorContext<ChunkserverMsg>, args: ChunkserverRoleArgs): Behavior<ChunkserverMsg> {
  const disk = withIoTimeout(new NodeDisk(args.dir), realTimers, args.ioTimeoutMs ?? 30_000);
  return gfsChunkserver({ id: args.id, rack: args.rack, host: args.host, masters: args.masters, disk, dir: 'chunks', ...(args.config === undefined ? {} : { config: args.config }) })(ctx);
}

export interface OsdRoleArgs {
  readonly id: number;
  readonly monitors: readonly ActorRef<MonitorMsg>[];
  readonly config?: Partial<OsdConfig>;
  readonly osdmap?: Partial<OsdMapConfig>;
  /** Absolute directory of the OSD's object store; without it the OSD keeps the map side only. */
  readonly dir?: string;
  /** The OSD's object store settings (size bound, checkpoint interval). */
  readonly storeConfig?: Partial<ObjectStoreConfig>;
  readonly ioTimeoutMs?: number;
}

/** An OSD's object store checkpoints after this much log (bench `rados`: 64 MiB cost about a third of the 4 MiB write rate). */
export const OSD_CHECKPOINT_EVERY_LOG_BYTES = 256 * 1024 * 1024;

/** A RADOS OSD: boot, heartbeats, failure reports, map sharing, and with `dir` the object data path on a real disk. */
export function osdRole(ctx: ActorContext<OsdMsg>, args: OsdRoleArgs): Behavior<OsdMsg> {
  const storage =
    args.dir === undefined
      ? undefined
      : {
          disk: withIoTimeout(new NodeDisk(args.dir), realTimers, args.ioTimeoutMs ?? 30_000),
          dir: 'store',
          defer: deferMacrotask,
          // A checkpoint serializes the whole store; every 256 MiB of log (not the store's 64 MiB) keeps
          // that cost off the write path under bulk writes, at the price of a longer log replay on restart.
          config: { checkpointEveryLogBytes: OSD_CHECKPOINT_EVERY_LOG_BYTES, ...args.storeConfig },
        };
  return radosOsd({
    id: args.id,
    monitors: args.monitors,
    ...(args.config === undefined ? {} : { config: args.config }),
    ...(args.osdmap === undefined ? {} : { osdmap: args.osdmap }),
    ...(storage === undefined ? {} : { storage }),
  })(ctx);
}

export interface OsdMonitorRoleArgs {
  readonly rank: number;
  readonly monitors: readonly ActorRef<MonitorMsg>[];
  /** Absolute directory of this monitor's Paxos log and checkpoints. */
  readonly dir: string;
  readonly ioTimeoutMs?: number;
}

/** A RADOS monitor hosting the OSD map on a directory of its own, loadable on a worker thread. */
export function osdMonitorRole(ctx: ActorContext<MonitorMsg>, args: OsdMonitorRoleArgs): Behavior<MonitorMsg> {
  const disk = withIoTimeout(new NodeDisk(args.dir), realTimers, args.ioTimeoutMs ?? 30_000);
  return osdMonitor({ rank: args.rank, monitors: args.monitors, store: new DiskMonitorStore(disk, 'mon', deferMacrotask) })(ctx);
}
