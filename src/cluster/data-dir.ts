import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { nanoid } from 'nanoid';

/**
 * A cluster's data directory: `cluster.json` (the cluster id and the settings fixed at creation)
 * and `secret` (the cluster secret, mode 0600, never printed or passed on a command line). The
 * first start creates both; later starts reuse them, so every file is recovered without a format
 * step.
 */
export interface ClusterIdentity {
  readonly clusterId: string;
  readonly createdAt: string;
  readonly chunkSizeBytes: number;
}

export interface DataDir {
  readonly dir: string;
  readonly identity: ClusterIdentity;
  readonly secret: string;
  /** True when this call created the cluster. */
  readonly created: boolean;
}

export const SECRET_FILE = 'secret';
export const IDENTITY_FILE = 'cluster.json';

export async function openDataDir(dir: string, defaults: { chunkSizeBytes: number }): Promise<DataDir> {
  await mkdir(dir, { recursive: true });
  const idPath = join(dir, IDENTITY_FILE);
  const secretPath = join(dir, SECRET_FILE);
  let identity: ClusterIdentity;
  let created = false;
  try {
    identity = JSON.parse(await readFile(idPath, 'utf8')) as ClusterIdentity;
    if (typeof identity.clusterId !== 'string' || !(identity.chunkSizeBytes > 0)) throw new Error('missing fields');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`${idPath} is unreadable (${(err as Error).message}); move it away to create a new cluster`);
    identity = { clusterId: `troupe-${nanoid(10)}`, createdAt: new Date().toISOString(), chunkSizeBytes: defaults.chunkSizeBytes };
    await writeFile(secretPath, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' }).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'EEXIST') throw e;
    });
    await writeFile(idPath, `${JSON.stringify(identity, null, 2)}\n`);
    created = true;
  }
  return { dir, identity, secret: await readSecretFile(secretPath), created };
}

/** Reads a secret file, refusing one that others can read (like ssh does with keys). */
export async function readSecretFile(path: string): Promise<string> {
  let mode: number;
  try {
    mode = (await stat(path)).mode;
  } catch {
    throw new Error(`no cluster secret at ${path}`);
  }
  if ((mode & 0o077) !== 0) {
    await chmod(path, 0o600).catch(() => undefined);
    if (((await stat(path)).mode & 0o077) !== 0) throw new Error(`${path} is readable by other users; run: chmod 600 ${path}`);
  }
  const secret = (await readFile(path, 'utf8')).trim();
  if (secret.length < 16) throw new Error(`the cluster secret in ${path} is too short (at least 16 characters)`);
  return secret;
}

/** The secret a CLI client uses: `TROUPE_SECRET` in the environment, or a secret file. Never from argv. */
export async function clientSecret(secretFile: string): Promise<string> {
  const env = process.env['TROUPE_SECRET'];
  if (env !== undefined && env !== '') return env;
  return readSecretFile(secretFile);
}

export async function readIdentity(dir: string): Promise<ClusterIdentity> {
  try {
    return JSON.parse(await readFile(join(dir, IDENTITY_FILE), 'utf8')) as ClusterIdentity;
  } catch {
    throw new Error(`no cluster in ${dir} (missing ${IDENTITY_FILE}) — is \`npm start\` running with --data-dir ${dir}?`);
  }
}
