/**
 * How many seeds `npm test` runs per monitor fault scenario (five scenarios). `npm run test:sim --
 * --seeds N test/sim/rados/monitor` runs N per scenario instead (`TROUPE_SEEDS`), and `--seed S`
 * replays one.
 */
export const MONITOR_FAULT_SEEDS_PER_SCENARIO = 6;
