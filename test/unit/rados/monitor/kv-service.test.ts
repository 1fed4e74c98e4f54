/**
 * The kv service's batch (the leader's pending incremental) against its one-command path: for the
 * same commands it must accept and reject the same ones, answer the same epochs and produce an
 * incremental equal to composing the single ones (service.ts `batch`).
 */
import { describe, expect, it } from 'vitest';
import { kvService, type KvCmd, type KvInc, type KvState } from '../../../../src/actors/rados/monitor/kv-service.js';
import { seededRandom } from '../../../../src/runtime/random.js';

function randomCmds(seed: number, n: number): KvCmd[] {
  const rnd = seededRandom(seed);
  const key = (): string => `k${rnd.int(8)}`;
  return Array.from({ length: n }, (): KvCmd => {
    const r = rnd.int(10);
    if (r < 5) return { op: 'set', key: key(), value: `v${rnd.int(100)}` };
    if (r < 8) return { op: 'del', key: key() };
    if (r < 9) return { op: 'report', target: `osd.${rnd.int(4)}`, reporter: `osd.${rnd.int(4)}` };
    return { op: 'set', key: '', value: 'bad' };
  });
}

describe('kv service batch', () => {
  it('agrees with prepare, apply and compose command by command', () => {
    for (let seed = 1; seed <= 200; seed++) {
      let state: KvState = { epoch: 7, entries: { k1: 'a', k2: 'b', k5: 'c' } };
      for (let round = 0; round < 5; round++) {
        const cmds = randomCmds(seed * 31 + round, 1 + (seed % 20));
        const batch = kvService.batch!(state, 0);
        let scratch = state;
        let composed: KvInc | undefined;
        for (const cmd of cmds) {
          const one = kvService.prepare(scratch, cmd, 0);
          const viaBatch = batch.add(cmd);
          expect(viaBatch.ok, `seed ${seed}: ${JSON.stringify(cmd)}`).toBe(one.ok);
          if (one.ok && viaBatch.ok) {
            expect(viaBatch.reply).toEqual(one.reply);
            scratch = kvService.apply(scratch, one.inc);
            composed = composed === undefined ? one.inc : kvService.compose!(composed, one.inc);
          } else if (!one.ok && !viaBatch.ok) {
            expect(viaBatch.error).toEqual(one.error);
          }
        }
        const inc = batch.finish();
        expect(inc === undefined, `seed ${seed}`).toBe(composed === undefined);
        if (inc !== undefined && composed !== undefined) {
          expect(kvService.apply(state, inc), `seed ${seed}`).toEqual(scratch);
          expect(kvService.apply(state, inc)).toEqual(kvService.apply(state, composed));
          state = kvService.apply(state, inc);
        }
      }
    }
  });

  it('rejects a set past the key limit counting the keys the batch itself added', () => {
    const entries: Record<string, string> = {};
    for (let i = 0; i < 100_000 - 1; i++) entries[`e${i}`] = 'x';
    const batch = kvService.batch!({ epoch: 0, entries }, 0);
    expect(batch.add({ op: 'set', key: 'new1', value: 'x' }).ok).toBe(true);
    const full = batch.add({ op: 'set', key: 'new2', value: 'x' });
    expect(full.ok ? undefined : full.error.code).toBe('full');
    expect(batch.add({ op: 'del', key: 'e0' }).ok).toBe(true);
    expect(batch.add({ op: 'set', key: 'new2', value: 'x' }).ok).toBe(true);
    expect(batch.finish()).toEqual({ epoch: 3, set: { new1: 'x', new2: 'x' }, del: ['e0'] });
  });
});
