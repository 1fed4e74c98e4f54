/**
 * How many seeds `npm test` runs per fault scenario (four scenarios: 200 seeds in all; the
 * whole-cell `restarts` scenario runs half as many).
 * `npm run test:sim -- --seeds N` runs N per scenario instead (`TROUPE_SEEDS`), and
 * `--seed S` replays one.
 */
export const FAULT_SEEDS_PER_SCENARIO = 50;
/**
 * Seeds of the primary-kills scenario (heavy appending while the queue's primary is killed,
 * checker i). Fewer than the others: it exercises one mechanism, sealing (GFS README S4).
 */
export const PRIMARY_KILL_SEEDS = 10;
