/**
 * The OSD map (thesis §6.2.2) and the OSD-map service the monitors host: the public names
 * (README.md in the parent folder, "The cluster map").
 */
export { bootstrapOsdMap, commit, simpleCrushText } from './bootstrap.js';
export type { BootstrapSpec, FailureDomain, HierarchySpec, PoolSpec } from './bootstrap.js';
export { FailureReportBatcher, FailureTracker } from './failure-tracker.js';
export type { FailureDecision, IgnoredReason } from './failure-tracker.js';
export { PeerEpochs, selfState } from './lazy-sharing.js';
export type { SelfState, SharePlan } from './lazy-sharing.js';
export { appendHistory, applyBundle, mapBundleFor, recentHistory } from './map-history.js';
export { describeObjectMapping, objectMapping, objectMappingUncached, objectPg, pgMapping, pgMappingUncached, poolMappings } from './mapping.js';
export type { PgId, PgMapping } from './mapping.js';
export {
  OSD_WEIGHT_FULL,
  REPLICATION_MODES,
  applyIncremental,
  applyIncrementalOrThrow,
  composeAll,
  composeIncrementals,
  crushMapOf,
  crushWeights,
  emptyOsdMap,
  findPool,
  validateOsdMap,
} from './osd-map.js';
export type { OsdInfo, OsdMap, OsdMapIncremental, OsdPatch, Pool, PoolChange, ReplicationMode, Result } from './osd-map.js';
export { downOutCommands, makeOsdMapService, osdMapService, pgNumFor, placementProblem, prepareOsdMapCommand } from './service.js';
export type { PrepareResult } from './service.js';
export type { MonitorService } from '../monitor/service.js';
