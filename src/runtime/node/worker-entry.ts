/**
 * The entry script of a Troupe worker thread: one ActorSystem with node id `<host>/w<i>`, whose
 * transport is the data port to the parent (envelopes to the main thread and other hosts go
 * through the parent's router) plus direct channels to the sibling workers it talks to
 * (`WorkerTransport`), and a comlink control endpoint for spawn / stop / inspect / shutdown.
 */
import { workerData, type MessagePort } from 'node:worker_threads';
import { expose } from 'comlink';
import type { ActorFactory } from '../behavior.js';
import { ActorSystem } from '../system.js';
import { WorkerTransport } from './worker-transport.js';
import { EgressLimitedTransport } from '../transport/egress-limit.js';
import { realClock, realTimers } from './env.js';
import { loadFactory } from './behavior-loader.js';
import { portEndpoint } from './port-endpoint.js';
import type { WorkerBoot, WorkerControl } from './worker-protocol.js';
import { FileLog } from './file-log.js';

const boot = workerData as WorkerBoot & { readonly dataPort: MessagePort; readonly controlPort: MessagePort };

const port = new WorkerTransport(boot.dataPort, {
  node: boot.node,
  hostNode: boot.hostNode,
  workers: boot.workers,
  directChannels: boot.directChannels,
  transferMinBytes: boot.transferMinBytes,
});
const transport = boot.egressBytesPerSecMax === undefined ? port : new EgressLimitedTransport(port, { bytesPerSecMax: boot.egressBytesPerSecMax, clock: realClock, timers: realTimers });
const fileLog = boot.log === undefined ? undefined : new FileLog(boot.node, boot.log);
const system = new ActorSystem({
  node: boot.node,
  transport,
  ...(boot.askTimeoutMs !== undefined ? { askTimeoutMs: boot.askTimeoutMs } : {}),
  ...(fileLog !== undefined ? { logger: fileLog.logger } : {}),
});

const control: WorkerControl = {
  async spawn(spec, options) {
    const factory: ActorFactory<unknown> = await loadFactory(spec);
    return system.spawn(factory, options);
  },
  async stop(ref) {
    system.stop(ref);
  },
  async inspect() {
    return { node: system.node, actors: system.actors().length, heapUsedBytes: process.memoryUsage().heapUsed, pendingAsks: system.pendingAsks, directChannels: port.channels };
  },
  async shutdown() {
    // The parent terminates the thread after this reply; closing the control port here would lose it.
    await system.shutdown();
    await fileLog?.close();
  },
};

expose(control, portEndpoint(boot.controlPort));
