import { expect, it } from 'vitest';
import { createTestKit } from 'troupe/testkit';
import { sessionTable, type SessionEvent } from './session.js';

it('a session that heartbeats stays open; one that stops expires after its timeout (virtual time)', async () => {
  const kit = createTestKit({ seed: 1 });
  const table = kit.spawn(sessionTable, { name: 'sessions' });
  const events = kit.probe<SessionEvent>('events');

  await kit.ask(table, { type: 'open', client: 'alice', timeoutMs: 30_000, notify: events.ref });
  await kit.ask(table, { type: 'open', client: 'bob', timeoutMs: 30_000, notify: events.ref });

  // Alice heartbeats every 10 s for two minutes; Bob never does. Two minutes pass instantly.
  for (let t = 0; t < 12; t++) {
    await kit.advance(10_000);
    expect(await kit.ask(table, { type: 'heartbeat', client: 'alice' })).toBe('ok');
  }
  expect(await events.expectMessage()).toEqual({ type: 'expired', client: 'bob', at: 30_000 });
  expect(await kit.ask(table, { type: 'list' })).toEqual(['alice']);

  // Alice goes quiet: she expires 30 s after her last heartbeat.
  expect(await events.expectMessage((e) => e.client === 'alice', 60_000)).toEqual({ type: 'expired', client: 'alice', at: 150_000 });
  expect(kit.inspect(table)?.timers).toEqual([]);
});

it('messages waiting in a mailbox can be inspected', async () => {
  const kit = createTestKit();
  const table = kit.spawn(sessionTable);
  kit.system.tell(table, { type: 'heartbeat', client: 'nobody' });
  expect(kit.mailbox(table)).toEqual([{ type: 'heartbeat', client: 'nobody' }]);
  await kit.settle();
  expect(kit.mailbox(table)).toEqual([]);
});
