/**
 * The per-node egress cap (`EgressLimitedTransport`): envelopes leave in send order, each once its
 * bytes have crossed a wire of the given speed; closing reports what never left. Time is a
 * manual clock, so the departure times are exact.
 */
import { describe, expect, it } from 'vitest';
import { EgressLimitedTransport, envelopeBytes } from '../../../src/runtime/transport/egress-limit.js';
import type { Transport, TransportSink } from '../../../src/runtime/transport/transport.js';
import type { Envelope } from '../../../src/runtime/envelope.js';
import type { RuntimeErrorCode } from '../../../src/runtime/errors.js';
import { Ref } from '../../../src/runtime/ref.js';
import { ManualTime } from '../storage/helpers.js';

function setup(bytesPerSecMax: number) {
  const time = new ManualTime();
  const left: { at: number; msg: unknown }[] = [];
  const undeliverable: { msg: unknown; code: RuntimeErrorCode }[] = [];
  let closed = false;
  const inner: Transport = {
    bind: () => {},
    send: (env) => void left.push({ at: time.now(), msg: env.msg }),
    close: async () => {
      closed = true;
    },
  };
  const sink: TransportSink = { deliver: () => {}, undeliverable: (env, code) => void undeliverable.push({ msg: env.msg, code }), linkDown: () => {} };
  const t = new EgressLimitedTransport(inner, { bytesPerSecMax, clock: time, timers: time, envelopeOverheadBytes: 0 });
  t.bind('a', sink);
  const env = (msg: unknown): Envelope => ({ kind: 'tell', to: new Ref('b', 'x'), from: new Ref('a', 'y'), msg, corr: 0 });
  return { time, t, left, undeliverable, env, isClosed: () => closed };
}

describe('EgressLimitedTransport', () => {
  it('counts binary payloads (fields, array elements) plus a fixed overhead per envelope', () => {
    expect(envelopeBytes({ type: 'x', data: new Uint8Array(1000) }, 64)).toBe(1064);
    expect(envelopeBytes({ parts: [new Uint8Array(10), new Uint8Array(20)] }, 0)).toBe(30);
    expect(envelopeBytes(new Uint8Array(7), 0)).toBe(7);
    expect(envelopeBytes('text', 0)).toBe(0);
  });

  it('releases each envelope once its bytes crossed the wire, in send order (store and forward)', async () => {
    const { time, t, left, env } = setup(1_000_000); // 1 MB/s: 1 byte per µs
    t.send(env({ n: 1, data: new Uint8Array(10_000) })); // leaves at 10 ms
    t.send(env({ n: 2, data: new Uint8Array(5_000) })); // behind it: 15 ms
    t.send(env({ n: 3 })); // no payload: right behind the second
    expect(left).toEqual([]);
    expect(t.queued).toBe(3);
    await time.advance(9);
    expect(left).toEqual([]);
    await time.advance(1);
    expect(left.map((l) => [l.at, (l.msg as { n: number }).n])).toEqual([[10, 1]]);
    await time.advance(10);
    expect(left.map((l) => [l.at, (l.msg as { n: number }).n])).toEqual([
      [10, 1],
      [15, 2],
      [15, 3],
    ]);
    expect(t.queued).toBe(0);
    expect(t.sentBytes).toBe(15_000);
  });

  it('an envelope due within a timer tick leaves at once: small messages on an idle wire are not held for a tick', async () => {
    const { time, t, left, env } = setup(1_000_000);
    t.send(env({ ack: 1 })); // 0 bytes counted here
    t.send(env({ data: new Uint8Array(500) })); // due at 0.5 ms
    expect(left.map((l) => l.at)).toEqual([0, 0]);
    t.send(env({ data: new Uint8Array(2_000) })); // the wire is busy until 0.5 ms: due at 2.5 ms
    expect(left).toHaveLength(2);
    await time.advance(3);
    expect(left.map((l) => l.at)).toEqual([0, 0, 3]);
  });

  it('an idle wire does not bank credit: after a pause the next envelope waits its own transfer time', async () => {
    const { time, t, left, env } = setup(1_000_000);
    t.send(env({ data: new Uint8Array(1_000) }));
    await time.advance(100);
    t.send(env({ data: new Uint8Array(2_000) }));
    await time.advance(100);
    expect(left.map((l) => l.at)).toEqual([1, 102]);
  });

  it('pipelining pays: many small pieces reach the far side sooner than one message of the same bytes', async () => {
    const whole = setup(1_000_000);
    whole.t.send(whole.env({ data: new Uint8Array(64_000) }));
    const sliced = setup(1_000_000);
    for (let i = 0; i < 16; i++) sliced.t.send(sliced.env({ data: new Uint8Array(4_000) }));
    await whole.time.advance(100);
    await sliced.time.advance(100);
    // Both finish at 64 ms, but the first slice is on its way after 4 ms (the next hop can start).
    expect(whole.left.map((l) => l.at)).toEqual([64]);
    expect(sliced.left[0]?.at).toBe(4);
    expect(sliced.left.at(-1)?.at).toBe(64);
  });

  it('closing reports the envelopes that never left as undeliverable and closes the inner transport', async () => {
    const { time, t, left, undeliverable, env, isClosed } = setup(1_000);
    t.send(env({ n: 1, data: new Uint8Array(100) }));
    t.send(env({ n: 2, data: new Uint8Array(100) }));
    await time.advance(100);
    expect(left).toHaveLength(1);
    await t.close();
    expect(undeliverable).toEqual([{ msg: { n: 2, data: new Uint8Array(100) }, code: 'node_unreachable' }]);
    expect(isClosed()).toBe(true);
    await time.advance(1_000);
    expect(left).toHaveLength(1);
  });

  it('refuses a cap that is not a positive finite rate', () => {
    const inner: Transport = { bind: () => {}, send: () => {}, close: async () => {} };
    const time = new ManualTime();
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => new EgressLimitedTransport(inner, { bytesPerSecMax: bad, clock: time, timers: time })).toThrow(RangeError);
  });
});
