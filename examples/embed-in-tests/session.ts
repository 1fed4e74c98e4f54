/**
 * A session table in the style of ZooKeeper's sessions (003 review: "sessions with timeouts"):
 * clients open a session and must heartbeat; a session that misses its timeout expires and its
 * owner is told. Written against Troupe's public API only, so it runs unchanged on real time
 * (an ActorSystem) and on virtual time (the testkit).
 */
import type { ActorFactory, ActorRef } from 'troupe';

export type SessionMsg =
  | { readonly type: 'open'; readonly client: string; readonly timeoutMs: number; readonly notify: ActorRef<SessionEvent> }
  | { readonly type: 'heartbeat'; readonly client: string }
  | { readonly type: 'list' }
  | { readonly type: 'expire'; readonly client: string };

export type SessionEvent = { readonly type: 'expired'; readonly client: string; readonly at: number };

export const sessionTable: ActorFactory<SessionMsg> = (ctx) => {
  const sessions = new Map<string, { timeoutMs: number; notify: ActorRef<SessionEvent> }>();
  return {
    receive(m) {
      switch (m.type) {
        case 'open':
          sessions.set(m.client, { timeoutMs: m.timeoutMs, notify: m.notify });
          ctx.timers.once(m.client, m.timeoutMs, { type: 'expire', client: m.client });
          return 'opened';
        case 'heartbeat': {
          const s = sessions.get(m.client);
          if (s === undefined) return 'unknown_session';
          ctx.timers.once(m.client, s.timeoutMs, { type: 'expire', client: m.client }); // re-arms
          return 'ok';
        }
        case 'list':
          return [...sessions.keys()].sort();
        case 'expire': {
          const s = sessions.get(m.client);
          sessions.delete(m.client);
          if (s !== undefined) ctx.tell(s.notify, { type: 'expired', client: m.client, at: ctx.clock.now() });
          return undefined;
        }
      }
    },
    invariants() {
      for (const [client, s] of sessions) if (!(s.timeoutMs > 0)) throw new Error(`session ${client} has no timeout`);
    },
  };
};
