/**
 * CRUSH: Ceph's placement function, bit-compatible with Ceph (thesis ch. 5; README.md here).
 * Pure: no I/O, no clock, no randomness beyond the hash of its inputs.
 */
export { BUCKET_ALGS, BUCKET_ALG_ID, bucketChoose, makeBucket } from './buckets.js';
export type { Bucket, BucketAlg, BucketInput } from './buckets.js';
export {
  CrushMapError,
  DEFAULT_CHOOSE_ARGS,
  DEFAULT_TUNABLES,
  LEGACY_TUNABLES,
  SET_STEP_NAMES,
  TUNABLE_NAMES,
  bucketById,
  buildCrushMap,
  chooseArgsFor,
  defaultDeviceWeights,
  findRule,
  itemName,
} from './crush-map.js';
export type {
  BucketSpec,
  ChooseArg,
  ChooseArgMap,
  CrushMap,
  CrushMapSpec,
  Device,
  Rule,
  RuleStep,
  RuleType,
  SetStepName,
  Tunables,
  TypeName,
} from './crush-map.js';
export { CRUSH_HASH_RJENKINS1, crushHash32, crushHash32_2, crushHash32_3, crushHash32_4, crushHash32_5, strHashRjenkins } from './hash.js';
export { crushLnExact } from './ln.js';
export { CrushMapParseError, parseCrushMap, printCrushMap, weightFromText, weightToText } from './map-text.js';
export { CRUSH_ITEM_NONE, isOut, mapRule } from './mapper.js';
export type { DeviceWeights } from './mapper.js';
export { formatPgId, objectHash, objectToOsds, objectToPg, pgMask, pgToOsds, pgToPlacementSeed, stableMod } from './placement.js';
export type { PgId, PgPlacement, PoolPlacement } from './placement.js';
export { CrushTestError, crushTest, reweightFromFloat, testerWeights } from './tester.js';
export type { CrushTestOptions } from './tester.js';
