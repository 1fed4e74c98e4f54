import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../src/runtime/random.js';
import type { Disk } from '../../../src/storage/disk.js';
import { withFsync } from '../../support/fsync-disk.js';
import { isStorageError } from '../../../src/storage/errors.js';
import { OpLog } from '../../../src/storage/op-log.js';
import { SimDisk } from '../../../src/storage/sim/sim-disk.js';
import { withIoTimeout } from '../../../src/storage/timed-disk.js';
import { ManualTime, bytesOf } from './helpers.js';

/** A disk whose fsync never returns (a hung device). */
function hangingFsync(inner: Disk): Disk {
  return withFsync(() => inner, () => new Promise<void>(() => undefined));
}

describe('disk calls have a timeout (STYLE.md: every wait has a timeout)', () => {
  it('an fsync that never returns fails with io_error after ioTimeoutMs, and the op log refuses further appends', async () => {
    const time = new ManualTime();
    const disk = withIoTimeout(hangingFsync(new SimDisk({ random: seededRandom(1) })), time, 5000);
    const log = await OpLog.open(disk, { dir: 'l' });
    let outcome: unknown = 'pending';
    log.append(bytesOf('x')).then(
      () => (outcome = 'committed'),
      (e: unknown) => (outcome = e),
    );
    await time.advance(4999);
    expect(outcome).toBe('pending');
    await time.advance(1);
    expect(isStorageError(outcome, 'io_error')).toBe(true);
    expect(String((outcome as Error).message)).toMatch(/did not complete within 5000 ms/);
    await expect(log.append(bytesOf('y'))).rejects.toSatisfy((e) => isStorageError(e, 'closed'));
  });

  it('calls that complete in time are unaffected', async () => {
    const time = new ManualTime();
    const disk = withIoTimeout(new SimDisk({ random: seededRandom(2) }), time, 5000);
    const log = await OpLog.open(disk, { dir: 'l' });
    expect(await log.append(bytesOf('x'))).toBe(1);
    await log.close();
  });
});
