import { execFileSync } from 'node:child_process';

/**
 * Tests that run the `troupe` command or start worker threads use the compiled `dist/`; build it
 * once per test run so they never exercise stale output.
 */
export default function setup(): void {
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
}
