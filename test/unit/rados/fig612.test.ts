import { describe, expect, it } from 'vitest';
import { fig612 } from '../../../src/bench/rados-fig612.js';

describe('lazy map propagation model, thesis Fig. 6.12 at small scale (§6.2.5, §6.4.1.3; digest §6.2 B9)', () => {
  const small = { osds: 64, pgsPerOsd: 10, updates: 4, seed: 7 } as const;

  it('every OSD receives every update, and no OSD receives more copies of one update than it has peers (the thesis’s hard bound)', () => {
    const r = fig612(small);
    expect(r.allReached).toBe(true);
    expect(r.duplicatesMaxOneOsd).toBeLessThanOrEqual(r.peersMax);
    expect(r.duplicatesPerOsd).toBeLessThan(r.peersMean);
    expect(r.pings).toBeGreaterThan(0);
    expect(r.shareReplies).toBeGreaterThan(0); // pings showing an older epoch were answered
  });

  it('updates spread in a few hops, not one per OSD', () => {
    const r = fig612(small);
    expect(r.hopsMax).toBeLessThan(small.osds / 4);
    expect(r.hopsMean).toBeGreaterThan(1);
  });

  it('replays exactly from its seed', () => {
    expect(fig612(small)).toEqual(fig612(small));
    expect(fig612({ ...small, seed: 8 })).not.toEqual(fig612(small));
  });
});
