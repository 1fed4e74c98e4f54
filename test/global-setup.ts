import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Worker threads and child processes run compiled JavaScript from dist/, so the tests build it
 * first: a clean clone works, and a stale dist cannot make a test pass or fail.
 */
export default function setup(): void {
  const root = fileURLToPath(new URL('..', import.meta.url));
  try {
    execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'pipe' });
  } catch (err) {
    // Type errors are reported by `npm run typecheck`; tsc still emits, which is all tests need.
    const out = String((err as { stdout?: Buffer }).stdout ?? '');
    process.stderr.write(`global-setup: tsc reported errors (typecheck will fail):\n${out.split("\n").slice(0, 3).join("\n")}\n`);
  }
  if (!existsSync(`${root}/dist/runtime/node/worker-entry.js`)) throw new Error('global-setup: build produced no dist/runtime/node/worker-entry.js');
}
