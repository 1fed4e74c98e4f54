import type { Envelope } from '../../src/runtime/envelope.js';
import type { RuntimeErrorCode } from '../../src/runtime/errors.js';
import { Ref } from '../../src/runtime/ref.js';
import { TcpTransport, type TcpTransportOptions, type TransportLogEntry } from '../../src/runtime/node/tcp-transport.js';

/** A TCP transport bound to a recording sink, standing in for an ActorSystem in transport tests. */
export interface TcpTestNode {
  readonly name: string;
  readonly transport: TcpTransport;
  readonly port: number;
  readonly delivered: Envelope[];
  readonly undeliverable: { env: Envelope; code: RuntimeErrorCode }[];
  readonly linkDowns: string[];
  readonly linkUps: string[];
  readonly log: TransportLogEntry[];
  /** Listeners called on every log entry (tests wait on them). */
  readonly onLog: Set<(e: TransportLogEntry) => void>;
  /** Listeners called on every delivery. */
  readonly onDeliver: Set<(e: Envelope) => void>;
}

export async function tcpNode(name: string, opts: Partial<TcpTransportOptions> = {}): Promise<TcpTestNode> {
  const delivered: Envelope[] = [];
  const undeliverable: { env: Envelope; code: RuntimeErrorCode }[] = [];
  const linkDowns: string[] = [];
  const linkUps: string[] = [];
  const log: TransportLogEntry[] = [];
  const onLog = new Set<(e: TransportLogEntry) => void>();
  const onDeliver = new Set<(e: Envelope) => void>();
  const transport = new TcpTransport({
    cluster: 'test-cluster',
    secret: 'test-secret',
    linkDownAfterMs: 400,
    ...opts,
    logger: (e) => {
      log.push(e);
      for (const f of onLog) f(e);
    },
  });
  transport.bind(name, {
    deliver: (env) => {
      delivered.push(env);
      for (const f of onDeliver) f(env);
    },
    undeliverable: (env, code) => undeliverable.push({ env, code }),
    linkDown: (node) => linkDowns.push(node),
    linkUp: (node) => linkUps.push(node),
  });
  const addr = await transport.listen();
  return { name, transport, port: addr.port, delivered, undeliverable, linkDowns, linkUps, log, onLog, onDeliver };
}

export function tell(from: string, to: string, msg: unknown): Envelope {
  return { kind: 'tell', to: new Ref(to, 'sink'), from: new Ref(from, 'src'), msg, corr: 0 };
}

/** Polls `cond` until it holds; fails after `timeoutMs` with `what`. */
export async function until(cond: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
