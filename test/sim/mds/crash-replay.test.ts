/**
 * Every acknowledged metadata change survives an MDS crash (thesis §4.2.3, §4.4.2 stage 1; issue
 * checker (b) in miniature): a client runs a random workload against a sequential model while the
 * MDS is crashed and restarted; it replays its journal from RADOS, and the client's retries (same
 * request id) are answered from the journaled result rather than applied again. Every result must
 * be the model's, and the final tree must equal the model's tree.
 */
import { describe, expect, it } from 'vitest';
import { simSeeds, withSeed } from '../../../src/testkit.js';
import { fsCell, MDS_NODE } from './cell.js';
import { describeFs, FsModel, runOp } from './fs-model.js';

describe('MDS crash and journal replay', () => {
  for (const seed of simSeeds([41, 42, 43])) {
    it(`a random workload with MDS crashes matches the sequential model (seed ${seed})`, async () => {
      await withSeed(seed, async () => {
        const c = fsCell({ seed });
        const [a, b] = await c.start();
        const rnd = c.sim.random.fork('workload');
        const pick = (n: number): number => rnd.int(n);
        const model = new FsModel();
        let crashes = 0;
        // Crash the MDS a few milliseconds into some operations (mid-request), and boot it again.
        const crashAt = new Set([10, 45, 80, 120].map((x) => x + rnd.int(20)));
        const crashSoon = (): void => {
          c.sim.after(rnd.int(15), () => {
            crashes++;
            c.sim.crash(MDS_NODE);
            c.sim.after(200 + rnd.int(800), () => c.sim.restart(MDS_NODE));
          });
        };
        for (let i = 0; i < 150; i++) {
          const op = model.randomOp(pick);
          const want = model.apply(op);
          if (crashAt.has(i)) crashSoon();
          const got = await c.sim.result(runOp(a!, op, (n) => new Uint8Array(n).fill(i % 251)));
          expect(got, `op ${i} ${JSON.stringify(op)}`).toBe(want);
        }
        expect(crashes).toBe(4);
        const s = await c.waitActive();
        // The MDS went through its journal after each crash, and trimmed it (committing directories) along the way.
        expect(s.journal.generation).toBeGreaterThanOrEqual(5);
        expect(s.replayedEvents).toBeGreaterThan(0);
        expect(s.journal.trimPos).toBeGreaterThan(0);
        const seen = await describeFs(b!, (p) => c.sim.result(p));
        expect(seen).toEqual(model.describe());
        // And once more from the directory objects alone: commit everything, restart, compare.
        await c.flushJournal();
        await c.restartMds();
        expect(await describeFs(b!, (p) => c.sim.result(p))).toEqual(model.describe());
      });
    });
  }
});
