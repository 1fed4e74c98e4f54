/**
 * Troupe's public API: the actor runtime. Explicit named exports only (no `export *`), so the
 * public surface is exactly this list. The deterministic simulator and test helpers are in
 * `troupe/testkit`.
 */
export { ActorSystem } from './runtime/system.js';
export type { DeadLetter, SystemDefaults, SystemEvents, SystemOptions } from './runtime/system.js';
export type { ActorContext, ActorFactory, ActorTimers, AskOptions, Behavior, ReplyHandle, Signal, SpawnOptions } from './runtime/behavior.js';
export type { ActorInspection, CellState } from './runtime/cell.js';
export { EscalatedError } from './runtime/cell.js';
export { isRef, makeRef, refKey, sameRef } from './runtime/ref.js';
export type { ActorRef } from './runtime/ref.js';
export { isTroupeError, TroupeError } from './runtime/errors.js';
export type { Delivery, RuntimeErrorCode } from './runtime/errors.js';
export { backoffDelay, decide, defaultBackoff, defaultSupervision } from './runtime/supervision.js';
export type { Backoff, Supervision, SupervisionDecision } from './runtime/supervision.js';
export { stderrLogger } from './runtime/log.js';
export type { Log, LogEntry, Logger, LogLevel } from './runtime/log.js';
export { seededRandom } from './runtime/random.js';
export type { Random } from './runtime/random.js';
export type { Cancel, Clock, Env, Timers } from './runtime/env.js';
export { realEnv } from './runtime/node/env.js';
export type { Envelope, EnvelopeKind, SystemMessage, TerminationReason } from './runtime/envelope.js';
export type { Transport, TransportSink } from './runtime/transport/transport.js';
export type { Dispatcher, Runnable } from './runtime/dispatcher.js';
export type { EnqueueResult, MailboxStats, OverflowPolicy } from './mailbox/mailbox.js';

// Placement and transports: worker threads and hosts (src/runtime/transport/README.md).
export { PLACEMENT_ACTOR, TroupeNode } from './runtime/node/troupe-node.js';
export type { LocalPlacement, Placement, PlacementRequest, SpawnAt, TroupeNodeOptions } from './runtime/node/troupe-node.js';
export { WorkerPool } from './runtime/node/worker-pool.js';
export type { WorkerPlacement, WorkerPoolOptions } from './runtime/node/worker-pool.js';
export type { BehaviorSpec } from './runtime/node/worker-protocol.js';
export { FileLog } from './runtime/node/file-log.js';
export { asyncContext } from './runtime/node/async-context.js';
export type { AsyncContext } from './runtime/node/async-context.js';
export type { FileLogOptions } from './runtime/node/file-log.js';
export { TcpTransport } from './runtime/node/tcp-transport.js';
export type { PeerAddress, TcpTransportOptions, TransportLogEntry } from './runtime/node/tcp-transport.js';
export { hostOfNode, RoutingTransport } from './runtime/transport/router.js';
export { transferOwnership } from './runtime/transport/ownership.js';
export { CodecError, MessageDecoder, MessageEncoder } from './runtime/transport/codec.js';
export type { CodecLimits, EncodedMessage } from './runtime/transport/codec.js';

// Storage (src/storage/README.md).
export type { Disk, DiskFile } from './storage/disk.js';
export { writeFileAtomically } from './storage/disk.js';
export { NodeDisk } from './storage/node/node-disk.js';
export { withIoTimeout } from './storage/timed-disk.js';
export { isStorageError, StorageError } from './storage/errors.js';
export type { StorageErrorCode } from './storage/errors.js';
export { crc32c } from './storage/crc32c.js';
export { ChunkStore } from './storage/chunk-store.js';
export type { ChunkCorruption, ChunkInfo, ChunkStoreOptions } from './storage/chunk-store.js';
export { Scrubber } from './storage/scrubber.js';
export { OpLog } from './storage/op-log.js';
export type { OpLogOpenOptions, OpLogRecord } from './storage/op-log.js';
export { CheckpointStore, openLogWithCheckpoints, takeCheckpoint } from './storage/checkpoint.js';
export type { RecoveredLog } from './storage/checkpoint.js';
export { ObjectStore } from './storage/object-store.js';
export type { CollectionId, ObjectId, Transaction, TransactionHandle, TransactionOp } from './storage/object-store.js';

// CRUSH (src/actors/rados/crush/README.md).
export { CRUSH_ITEM_NONE, CrushMapParseError, mapRule, objectToOsds, objectToPg, parseCrushMap, pgToOsds, printCrushMap, stableMod, strHashRjenkins } from './actors/rados/crush/index.js';
export type { CrushMap, PgId, PgPlacement, PoolPlacement } from './actors/rados/crush/index.js';

// RADOS monitors (src/actors/rados/monitor/README.md).
export { radosMonitor } from './actors/rados/monitor/monitor.js';
export type { MonitorOptions } from './actors/rados/monitor/monitor.js';
export type { MonitorService } from './actors/rados/monitor/service.js';
export { DiskMonitorStore } from './actors/rados/monitor/store.js';
export type { MonitorStore } from './actors/rados/monitor/store.js';
export { MonitorClient } from './actors/rados/monitor/client.js';
export type { MonitorClientOptions } from './actors/rados/monitor/client.js';
export { defaultMonitorConfig } from './actors/rados/monitor/config.js';
export type { MonitorConfig } from './actors/rados/monitor/config.js';
export type { MonError, MonErrorCode, MonResult } from './actors/rados/monitor/errors.js';
export type { ClientMsg as MonitorClientMsg, MonitorMsg, MonitorPush, MonitorRole, MonitorStatus, ReadReply as MonitorReadReply, Share as MonitorShare, SubmitReply as MonitorSubmitReply } from './actors/rados/monitor/protocol.js';

// GFS (src/actors/gfs/README.md).
export { gfsMaster } from './actors/gfs/master/master.js';
export type { MasterOptions } from './actors/gfs/master/master.js';
export { MemoryJournal } from './actors/gfs/master/journal.js';
export type { Journal } from './actors/gfs/master/journal.js';
export { DiskJournal } from './actors/gfs/master/disk-journal.js';
export { defaultGfsConfig } from './actors/gfs/config.js';
export type { GfsConfig } from './actors/gfs/config.js';
export type { GfsError, GfsErrorCode, GfsResult } from './actors/gfs/errors.js';
export type { ChunkHandle, ChunkLease, ChunkLocation, ChunkReport, ChunkserverMsg, ClusterStatus, FileInfo, HeartbeatReply, MasterMsg, MasterRole, ReplicaAddr, RpcLogEntry } from './actors/gfs/protocol.js';
export { GfsClient, GfsClientError, RecordReader, RecordWriter } from './actors/gfs/client/client.js';
export type { GfsClientOptions, RequestContext, RequestScope } from './actors/gfs/client/client.js';
export { gfsChunkserver } from './actors/gfs/chunkserver/chunkserver.js';
export type { ChunkserverOptions } from './actors/gfs/chunkserver/chunkserver.js';
export type { AppendReply, FsckProblem, FsckReport, Mutation, ReadReply } from './actors/gfs/protocol.js';

// Ceph metadata server on RADOS (src/actors/mds/README.md).
export { mdsServer, mdsSpawnOptions } from './actors/mds/server.js';
export type { MdsOptions } from './actors/mds/server.js';
export { CephFsClient, DEFAULT_CEPHFS_CLIENT_CONFIG } from './actors/mds/client.js';
export type { CephFsClientConfig, CephFsClientOptions } from './actors/mds/client.js';
export { DEFAULT_MDS_CONFIG } from './actors/mds/config.js';
export type { MdsConfig } from './actors/mds/config.js';
export type { MdsError, MdsErrorCode, MdsResult } from './actors/mds/errors.js';
export type { Dentry as MdsDentry, Inode as MdsInode, InodeType as MdsInodeType } from './actors/mds/dir-object.js';
export type { MdsMsg, MdsOp, MdsReply, MdsStatus, ReaddirReply as MdsReaddirReply } from './actors/mds/protocol.js';

// Coordination service, ZooKeeper-compatible (src/actors/coord/README.md).
export { startCoordServer } from './actors/coord/node/tcp-server.js';
export { startCoordEnsemble, startCoordEnsembleServer } from './actors/coord/node/ensemble.js';
export type { CoordEnsembleHandle, CoordEnsembleServer, StartCoordEnsembleOptions } from './actors/coord/node/ensemble.js';
export type { CoordServerHandle, StartCoordServerOptions } from './actors/coord/node/tcp-server.js';
export { coordServerActor } from './actors/coord/server/server-actor.js';
export type { CoordServerActorOptions } from './actors/coord/server/server-actor.js';
export { CoordClient } from './actors/coord/client/client.js';
export type { CoordClientOptions, CreateMode, Watcher } from './actors/coord/client/client.js';
export { coordConfig, coordConfigDefaults } from './actors/coord/config.js';
export type { CoordConfig } from './actors/coord/config.js';
export { Code as CoordCode, CoordClientError, codeName as coordCodeName } from './actors/coord/errors.js';
export type { CoordStateMachine } from './actors/coord/state-machine.js';
export type { Acl as CoordAcl, Stat as CoordStat, WatchEvent as CoordWatchEvent } from './actors/coord/protocol.js';

// The cluster launcher and client connections (src/cluster).
export { startLocalCluster } from './cluster/local-cluster.js';
export type { LocalCluster, LocalClusterOptions } from './cluster/local-cluster.js';
export { connect, ConnectError } from './cluster/connect.js';
export type { ClusterConnection, ConnectOptions } from './cluster/connect.js';
