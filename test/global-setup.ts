import { execFileSync } from 'node:child_process';

/**
 * Tests that run the `troupe` command or start worker threads use the compiled `dist/`; build it
 * once per test run so they never exercise stale output. `npm run test:sim` sets
 * `TROUPE_TEST_NO_BUILD=1` when it runs only the seeded simulation tests (test/sim), which run in
 * process on the sources and never touch `dist/`.
 */
export default function setup(): void {
  if (process.env['TROUPE_TEST_NO_BUILD'] === '1') return;
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
}
