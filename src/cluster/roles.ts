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
  /** Bytes the OSD's object store may hold. */
  readonly storeMaxBytes?: number;
  readonly ioTimeoutMs?: number;
}

/** A RADOS OSD: boot, heartbeats, failure reports, map sharing, and with `dir` the object data path on a real disk. */
export function osdRole(ctx: ActorContext<OsdMsg>, args: OsdRoleArgs): Behavior<OsdMsg> {
  const storage =
    args.dir === undefined
      ? undefined
      : {
          disk: withIoTimeout(new NodeDisk(args.dir), realTimers, args.ioTimeoutMs ?? 30_000),
          dir: 'store',
          defer: deferMacrotask,
          ...(args.storeMaxBytes === undefined ? {} : { config: { storeMaxBytes: args.storeMaxBytes } }),
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
