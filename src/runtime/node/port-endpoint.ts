import type { Endpoint } from 'comlink';
import type { MessagePort } from 'node:worker_threads';

type Listener = Parameters<Endpoint['addEventListener']>[1];
type Handler = (event: { data: unknown }) => void;

/**
 * Adapts a Node `MessagePort` (EventEmitter style) to comlink's DOM-style `Endpoint`, so the
 * control plane into workers can use comlink over a dedicated port.
 */
export function portEndpoint(port: MessagePort): Endpoint {
  const wrapped = new Map<Listener, (data: unknown) => void>();
  return {
    postMessage: (message: unknown, transfer?: readonly unknown[]) => port.postMessage(message, transfer as never),
    addEventListener: (_type: string, listener: Listener) => {
      const l = (data: unknown): void => {
        const event = { data };
        if (typeof listener === 'function') (listener as unknown as Handler)(event);
        else (listener as unknown as { handleEvent: Handler }).handleEvent(event);
      };
      wrapped.set(listener, l);
      port.on('message', l);
    },
    removeEventListener: (_type: string, listener: Listener) => {
      const l = wrapped.get(listener);
      if (l === undefined) return;
      wrapped.delete(listener);
      port.off('message', l);
    },
  } as Endpoint;
}
