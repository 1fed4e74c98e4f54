/**
 * Request ids in the GFS client: every message of an operation carries the operation's id, a
 * command made of several operations can be one request, and a failure names its id.
 */
import { describe, expect, it } from 'vitest';
import { GfsClient, GfsClientError, type RequestScope } from '../../../src/actors/gfs/client/client.js';
import { asyncContext } from '../../../src/runtime/node/async-context.js';
import { makeLog, type LogEntry } from '../../../src/runtime/log.js';
import type { ActorRef } from '../../../src/runtime/ref.js';

function client(reply: (m: { type: string }) => unknown): { c: GfsClient; sent: Array<Record<string, unknown>>; logged: LogEntry[] } {
  const sent: Array<Record<string, unknown>> = [];
  const logged: LogEntry[] = [];
  let ids = 0;
  const c = new GfsClient({
    ask: async <R>(_to: ActorRef<never>, m: unknown): Promise<R> => {
      sent.push(m as Record<string, unknown>);
      await Promise.resolve();
      return reply(m as { type: string }) as R;
    },
    clock: { now: () => 0 },
    timers: { after: () => () => {} },
    masters: [{ node: 'n', id: 'master' }],
    clientId: 'c1',
    requestIds: () => `id${++ids}`,
    requestContext: asyncContext<RequestScope>(),
    log: makeLog((e) => logged.push(e), { now: () => 0 }, 'cli', 'client'),
  });
  return { c, sent, logged };
}

const okReply = (m: { type: string }): unknown => (m.type === 'gfs.master.stat' ? { ok: true, value: { path: '/f', kind: 'file', ctime: 0, chunks: 0 } } : { ok: true, value: null });

describe('client request ids', () => {
  it('stamps every message of an operation, including those of operations it calls, with one id', async () => {
    const { c, sent, logged } = client(okReply);
    await c.mkdirs('/a/b');
    expect(sent.map((m) => [m['type'], m['rid']])).toEqual([
      ['gfs.master.mkdir', 'id1'],
      ['gfs.master.mkdir', 'id1'],
    ]);
    // Logged once, as the operation the caller made.
    expect(logged.map((e) => [e.msg, e.fields?.['rid']])).toEqual([
      ['client mkdirs', 'id1'],
      ['client mkdirs done', 'id1'],
    ]);
    await c.stat('/f');
    expect(sent[2]?.['rid']).toBe('id2');
  });

  it('runs several operations as one request under an id the caller chooses', async () => {
    const { c, sent, logged } = client(okReply);
    await c.request(async () => {
      await c.create('/f');
      await c.stat('/f');
    }, 'mine');
    expect(sent.map((m) => m['rid'])).toEqual(['mine', 'mine']);
    expect(logged.map((e) => e.fields?.['rid'])).toEqual(['mine', 'mine', 'mine', 'mine']);
  });

  it('names the request id in the error of a failed operation, and logs the failure', async () => {
    const { c, logged } = client(() => ({ ok: false, error: { code: 'not_found', message: '/x does not exist' } }));
    const err = await c.stat('/x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GfsClientError);
    expect((err as GfsClientError).requestId).toBe('id1');
    expect(logged.at(-1)).toMatchObject({ level: 'warn', msg: 'client stat failed' });
    const inRequest = await c.request(() => c.stat('/x'), 'cli-7').catch((e: unknown) => e);
    expect((inRequest as GfsClientError).requestId).toBe('cli-7');
  });
});
