import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { coordConfig, type CoordConfig } from '../config.js';
import { decodeConnectRequest, decodeRequest, encodeConnectResponse, encodeEvent, encodeReply, BodyError, JuteError } from '../wire/codec.js';
import { CoordServerCore, type ServerLog, type ServerOutput } from '../server/server-core.js';
import { fourLetterReply, fourLetterWord } from '../server/four-letter.js';

/**
 * The client port: ZooKeeper's wire protocol over TCP (README "Wire protocol"), in front of one
 * `CoordServerCore`. Node-specific (real sockets, clock, timers and randomness); the protocol
 * logic is in the pure modules it calls.
 *
 * Per connection: frames are read as a 4-byte length and a body. The first frame is the connect
 * request — or, if its length spells a four-letter word, that command. A negative length or one
 * over jute.maxbuffer (+1 KiB) closes the connection with a logged reason (C1); so does a frame
 * whose header cannot be read (C2). Replies are written in the order the core produces them (W3).
 * When a client stops reading its replies, the server stops reading its requests once
 * `outputQueueBytesMax` bytes wait in the socket (C7).
 */

export interface StartCoordServerOptions {
  readonly port?: number;
  readonly host?: string;
  readonly config?: Partial<CoordConfig>;
  /** Serve this core (one server of an ensemble, `startCoordEnsemble`) instead of a new standalone one. */
  readonly core?: CoordServerCore;
  /** The mode 4lw `srvr`/`stat` report (default `standalone`). */
  readonly mode?: () => 'standalone' | 'leader' | 'follower';
  /** Where connection-level events go (closed connections and why, expired sessions). Default: warnings to stderr. */
  readonly log?: ServerLog;
}

export interface CoordServerHandle {
  readonly host: string;
  readonly port: number;
  /** `host:port`, as ZooKeeper clients take it. */
  readonly connectString: string;
  readonly core: CoordServerCore;
  readonly config: CoordConfig;
  /** Stops listening, closes every connection and the tick timer. */
  close(): Promise<void>;
}

const defaultLog: ServerLog = (level, message, fields) => {
  if (level === 'warn') process.stderr.write(`coord: ${message} ${fields ? JSON.stringify(fields, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString(16) : v)) : ''}\n`);
};

/** Starts a standalone coordination server (an ensemble of one) on a TCP port. */
export async function startCoordServer(options: StartCoordServerOptions = {}): Promise<CoordServerHandle> {
  const log = options.log ?? defaultLog;
  const started = Date.now();
  const core = options.core ?? new CoordServerCore(coordConfig(options.config), started, (n) => new Uint8Array(randomBytes(n)), log);
  const config = core.config;
  const host = options.host ?? '127.0.0.1';
  const frameMax = config.maxBufferBytes + config.frameExtraBytes;
  const sockets = new Set<Socket>();
  let port = options.port ?? 2181;

  const server: Server = createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    const address = socket.remoteAddress ?? 'unknown';
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let connected = false;
    let closing = false;
    const closeSocket = (reason: string): void => {
      if (closing) return;
      closing = true;
      log('info', `connection from ${address}:${socket.remotePort} closed: ${reason}`);
      socket.end();
      setTimeout(() => socket.destroy(), 2000).unref();
    };
    const sink = {
      address,
      deliver(out: ServerOutput): void {
        if (closing) return;
        const frame = out.kind === 'reply' ? encodeReply(out.reply) : out.kind === 'event' ? encodeEvent(out.event) : encodeConnectResponse(out.response);
        socket.write(frame);
      },
      close(reason: string): void {
        closeSocket(reason);
      },
    };
    const connId = core.open(sink);
    if (connId === undefined) return;

    const handleFrame = (body: Uint8Array): void => {
      const now = Date.now();
      if (!connected) {
        connected = true;
        let req;
        try {
          req = decodeConnectRequest(body, frameMax);
        } catch (e) {
          log('warn', `malformed connect request from ${address}: ${(e as Error).message}`);
          return closeSocket('malformed connect request');
        }
        core.connect(connId, req, now);
        return;
      }
      let decoded;
      try {
        decoded = decodeRequest(body, frameMax);
      } catch (e) {
        if (e instanceof BodyError) {
          log('warn', `malformed request body (op ${e.opCode}) from ${address}: ${e.message}`);
          return core.malformed(connId, `op ${e.opCode}: ${e.message}`);
        }
        if (e instanceof JuteError) {
          log('warn', `malformed request header from ${address}: ${e.message}`);
          return closeSocket(`malformed request header: ${e.message}`);
        }
        throw e;
      }
      if (decoded.kind === 'unimplemented') core.unimplemented(connId, decoded.xid, decoded.opCode);
      else core.request(connId, decoded.xid, decoded.request, now);
    };

    socket.on('data', (chunk: Buffer) => {
      if (closing) return;
      pending.push(chunk);
      pendingBytes += chunk.length;
      let buf = pending.length === 1 ? (pending[0] as Buffer) : Buffer.concat(pending, pendingBytes);
      socket.cork();
      try {
        while (!closing && buf.length >= 4) {
          const len = buf.readInt32BE(0);
          if (!connected) {
            const word = fourLetterWord(len);
            if (word) {
              socket.write(fourLetterReply(word, core, config, { port, mode: options.mode?.() ?? 'standalone', uptimeMs: Date.now() - started }));
              buf = Buffer.alloc(0);
              closeSocket(`four-letter word ${word}`);
              break;
            }
          }
          if (len < 0 || len > frameMax) {
            log('warn', `frame length ${len} from ${address} is outside [0, ${frameMax}] (jute.maxbuffer)`);
            closeSocket(`frame length ${len} exceeds jute.maxbuffer`);
            break;
          }
          if (buf.length < 4 + len) break;
          const body = buf.subarray(4, 4 + len);
          buf = buf.subarray(4 + len);
          handleFrame(body);
        }
      } finally {
        process.nextTick(() => socket.uncork());
      }
      pending = buf.length > 0 ? [buf] : [];
      pendingBytes = buf.length;
      if (socket.writableLength > config.outputQueueBytesMax) socket.pause();
    });
    socket.on('drain', () => {
      if (!closing) socket.resume();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      sockets.delete(socket);
      core.closed(connId);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  if (addr && typeof addr === 'object') port = addr.port;
  const ticker = setInterval(() => core.tick(Date.now()), Math.max(10, Math.floor(config.tickTimeMs / 4)));
  ticker.unref();

  return {
    host,
    port,
    connectString: `${host}:${port}`,
    core,
    config,
    async close(): Promise<void> {
      clearInterval(ticker);
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
