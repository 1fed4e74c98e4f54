/**
 * How many seeds `npm test` runs per scenario of the ensemble's fault suite (three scenarios: 12 runs).
 * `npm run test:sim -- --seeds N` runs N per scenario instead (`TROUPE_SEEDS`), and `--seed S`
 * replays one.
 */
export const ZAB_FAULT_SEEDS_PER_SCENARIO = 4;
