/**
 * Transaction ids (ZooKeeper review §3, "Zab"): a zxid is one JS number, epoch * 2^32 + counter.
 * The epoch is the leader's term; the counter numbers its proposals from 1. Epochs stay below 2^20,
 * so every zxid is a safe integer and zxids compare as numbers in (epoch, counter) order.
 */
export type Zxid = number;

const counterSpan = 0x1_0000_0000;
export const EPOCH_MAX = 2 ** 20 - 1;

export function makeZxid(epoch: number, counter: number): Zxid {
  if (!(Number.isInteger(epoch) && epoch >= 0 && epoch <= EPOCH_MAX)) throw new RangeError(`epoch ${epoch} out of range`);
  if (!(Number.isInteger(counter) && counter >= 0 && counter < counterSpan)) throw new RangeError(`counter ${counter} out of range`);
  return epoch * counterSpan + counter;
}

export function epochOf(zxid: Zxid): number {
  return Math.floor(zxid / counterSpan);
}

export function counterOf(zxid: Zxid): number {
  return zxid % counterSpan;
}

/** `e:c` in hex, as ZooKeeper's logs print zxids (0x<epoch><counter>). */
export function formatZxid(zxid: Zxid): string {
  return `0x${epochOf(zxid).toString(16)}${counterOf(zxid).toString(16).padStart(8, '0')}`;
}
