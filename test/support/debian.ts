/**
 * Debian packages a test needs (a peer server, a foreign client): installed with apt-get when
 * missing and we run as root (as CI does); otherwise the test fails and names the install command.
 * Tests never skip.
 */
import { spawnSync } from 'node:child_process';

/** Whether `present()` holds, after installing `packages` when it did not and we may (root). */
export function ensureDebianPackages(present: () => boolean, packages: readonly string[]): boolean {
  if (present()) return true;
  if (process.getuid?.() !== 0) return false;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env });
  spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], { stdio: 'ignore', env });
  return present();
}

/** The message a test fails with when the packages are missing and could not be installed. */
export function installHint(what: string, packages: readonly string[]): string {
  return `${what} is not installed: run \`apt-get install -y ${packages.join(' ')}\` (as root; .ci/run does this in CI)`;
}
