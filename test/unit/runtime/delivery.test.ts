/**
 * A failed ask says whether its request can have reached the receiver (`TroupeError.delivery`),
 * so callers decide on a retry from data, not from the message text.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Envelope } from '../../../src/runtime/envelope.js';
import { TroupeError } from '../../../src/runtime/errors.js';
import { ActorSystem } from '../../../src/runtime/system.js';
import type { Transport, TransportSink } from '../../../src/runtime/transport/transport.js';

const quiet = (): void => {};
const systems: ActorSystem[] = [];
function system(): ActorSystem {
  const s = new ActorSystem({ node: 'n1', logger: quiet });
  systems.push(s);
  return s;
}
afterEach(async () => {
  for (const s of systems.splice(0)) await s.shutdown();
});

async function failure(p: Promise<unknown>): Promise<TroupeError> {
  const e: unknown = await p.then(() => undefined, (err: unknown) => err);
  if (!(e instanceof TroupeError)) throw new Error(`expected a TroupeError, got ${String(e)}`);
  return e;
}

describe('TroupeError.delivery: never delivered (safe to retry) or unknown (no answer)', () => {
  it('no such actor, and no route to a node, were never delivered', async () => {
    const s = system();
    expect(await failure(s.ask({ node: 'n1', id: 'nobody' }, 'hi'))).toMatchObject({ code: 'actor_not_found', delivery: 'not_delivered' });
    expect(await failure(s.ask({ node: 'elsewhere', id: 'x' }, 'hi'))).toMatchObject({ code: 'node_unreachable', delivery: 'not_delivered' });
  });

  it('a receiver that does not answer in time leaves the outcome unknown', async () => {
    const s = system();
    const silent = s.spawn(() => ({ receive: () => new Promise<never>(() => {}) }), { name: 'silent', reentrant: true });
    expect(await failure(s.ask(silent, 'hi', { timeoutMs: 10 }))).toMatchObject({ code: 'ask_timeout', delivery: 'unknown' });
  });

  it('a system already shut down sends nothing', async () => {
    const s = system();
    await s.shutdown();
    expect(await failure(s.ask({ node: 'n1', id: 'x' }, 'hi'))).toMatchObject({ code: 'system_stopped', delivery: 'not_delivered' });
  });

  it('an envelope the transport hands back says whether it was sent before its link failed', async () => {
    let sink: TransportSink | undefined;
    const sent: Envelope[] = [];
    const transport: Transport = {
      bind: (_node, s) => {
        sink = s;
      },
      send: (env) => void sent.push(env),
      close: async () => {},
    };
    const s = new ActorSystem({ node: 'n1', logger: quiet, transport });
    systems.push(s);
    const neverSent = s.ask({ node: 'n2', id: 'a' }, 'one');
    const sentUnacked = s.ask({ node: 'n2', id: 'a' }, 'two');
    expect(sent).toHaveLength(2);
    sink?.undeliverable(sent[0] as Envelope, 'link_down');
    sink?.undeliverable(sent[1] as Envelope, 'link_down', true);
    expect(await failure(neverSent)).toMatchObject({ code: 'link_down', delivery: 'not_delivered' });
    expect(await failure(sentUnacked)).toMatchObject({ code: 'link_down', delivery: 'unknown' });
  });
});
