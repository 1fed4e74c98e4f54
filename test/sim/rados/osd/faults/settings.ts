/**
 * How many seeds `npm test` runs per data-path fault scenario. `npm run test:sim -- --seeds N
 * test/sim/rados/osd` runs N per scenario instead (`TROUPE_SEEDS`), and `--seed S` replays one.
 */
export const DATA_PATH_FAULT_SEEDS_PER_SCENARIO = 2;
