/**
 * Differential test (issue 17, item 8; README "Compatibility"): seeded random sequences of
 * creates (persistent, ephemeral, sequential), sets, deletes, multis, reads with watches and
 * session closes, run through node-zookeeper-client against a real ZooKeeper 3.8 server and
 * against Troupe's standalone server. Results, stats (zxids and times normalised) and watch
 * events must be identical, step for step.
 *
 * ZooKeeper comes from Debian's `zookeeper` package; the test installs it when missing and it
 * runs as root (as CI does), else it fails with the install command. It never skips.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCoordServer, type CoordServerHandle } from '../../src/actors/coord/node/tcp-server.js';
import { runDifferentialScenario } from '../support/zk-differential.js';
import { startZooKeeper, type ZooKeeperPeer } from '../support/zk-peer.js';

const SEEDS = [1, 2, 3, 4, 5, 6];
const STEPS = 150;

let zk: ZooKeeperPeer;
let troupe: CoordServerHandle;

beforeAll(async () => {
  zk = await startZooKeeper();
  troupe = await startCoordServer({ port: 0, log: () => {} });
}, 180_000);

afterAll(async () => {
  await troupe?.close();
  await zk?.stop();
});

function firstDifference(a: string[], b: string[]): string | undefined {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) return `step line ${i}:\n  zookeeper: ${a[i]}\n  troupe:    ${b[i]}\n  before:    ${a.slice(Math.max(0, i - 3), i).join('\n             ')}`;
  }
  return undefined;
}

describe('Troupe answers node-zookeeper-client exactly as ZooKeeper 3.8 does', () => {
  for (const seed of SEEDS) {
    it(`seed ${seed}: same results, stats and watch events`, async () => {
      const expected = await runDifferentialScenario(`127.0.0.1:${zk.port}`, seed, STEPS);
      const actual = await runDifferentialScenario(troupe.connectString, seed, STEPS);
      expect(firstDifference(expected, actual)).toBeUndefined();
      expect(actual.length).toBeGreaterThan(STEPS);
    }, 240_000);
  }
});
