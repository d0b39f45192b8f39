// Thin loops around handleQuery: UDP datagrams, and TCP streams of
// length-prefixed messages (RFC 1035 4.2.2, several per connection, RFC 7766).
import { createSocket } from 'node:dgram';
import { type AddressInfo, createServer, isIP, isIPv6, type Server, type Socket } from 'node:net';
import type { Logger } from '../log.js';
import { newTraffic, type Traffic } from './drain.js';
import type { DnsEngine } from './handler.js';
import { loadAddon, openBatched } from './udp-batch.js';

export interface HostPort {
  host: string;
  port: number;
}

/** "127.0.0.1:53", "[::1]:53", "localhost:53" -> host and port. */
export function parseHostPort(text: string): HostPort | null {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:[\]]+)):(\d{1,5})$/.exec(text);
  if (!m) return null;
  const port = Number(m[3]);
  if (port > 65535) return null;
  return { host: m[1] ?? m[2], port };
}

export const formatHostPort = (host: string, port: number) =>
  isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;

export type UdpLoop = 'batched' | 'dgram';

export interface UdpServer {
  /** The bound port (the one the kernel chose for port 0). */
  port: number;
  /** batched: the native addon owns the socket (udp-batch.ts); dgram: Node's dgram loop. */
  loop: UdpLoop;
  /** Why this loop serves (the addon file, or why it is not used). */
  why: string;
  /** loop === 'batched', as the ready line has always said. */
  batched: boolean;
  close(): Promise<void>;
}

export interface UdpOptions {
  /** Try the batched native loop first (default true). */
  batch?: boolean;
  /** Worker processes binding this address (SO_REUSEPORT when > 1); only the batched loop needs it. */
  workers?: number;
  /** Counts what this loop receives and answers (the drain watches it). */
  traffic?: Traffic;
}

export async function serveUdp(
  engine: DnsEngine,
  at: HostPort,
  log: Logger,
  options: UdpOptions = {},
): Promise<UdpServer> {
  const traffic = options.traffic ?? newTraffic();
  if (options.batch !== false) {
    const workers = options.workers ?? 1;
    const native = await openBatched(engine, at.host, at.port, workers, log, traffic);
    if ('port' in native) {
      const why = `${loadAddon().why}, recvmmsg/sendmmsg${workers > 1 ? `, SO_REUSEPORT x${workers}` : ''}`;
      return {
        port: native.port,
        loop: 'batched',
        why,
        batched: true,
        close: async () => native.close(),
      };
    }
    return serveDgram(engine, at, log, traffic, native.why);
  }
  return serveDgram(engine, at, log, traffic, 'batched loop not asked for');
}

function serveDgram(
  engine: DnsEngine,
  at: HostPort,
  log: Logger,
  traffic: Traffic,
  why: string,
): Promise<UdpServer> {
  const family = isIPv6(at.host) ? 6 : 4;
  const socket = createSocket({
    type: family === 6 ? 'udp6' : 'udp4',
    ipv6Only: family === 6,
    // Replies go to the literal address a query came from: skip dns.lookup and its extra tick per send.
    lookup: isIP(at.host) ? (address, _options, callback) => callback(null, address, family) : undefined,
  });
  socket.on('message', (msg, rinfo) => {
    traffic.received++;
    let out: Buffer | null;
    try {
      out = engine.handleQuery(msg, { address: rinfo.address, port: rinfo.port, transport: 'udp' });
    } catch (e) {
      log.error({ err: (e as Error).message, peer: rinfo.address }, 'query failed');
      return;
    }
    if (out === null) return;
    socket.send(out, rinfo.port, rinfo.address);
    traffic.answered++;
  });
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(at.port, at.host, () => {
      socket.off('error', reject);
      // A send can fail (the client went away); that must not end the server.
      socket.on('error', (e) => log.warn({ err: e.message }, 'udp socket error'));
      resolve({
        port: (socket.address() as AddressInfo).port,
        loop: 'dgram',
        why,
        batched: false,
        close: () => new Promise<void>((done) => socket.close(() => done())),
      });
    });
  });
}

const MAX_UNREAD = 1 << 20;

export interface TcpOptions {
  idleTimeoutMs: number;
  maxConnections: number;
}

export interface TcpServer {
  server: Server;
  /** Stops taking new connections; those already open are served on. */
  stopAccepting(): void;
  /**
   * Ends every connection once the query it has begun is complete and answered; at
   * `deadline` (Date.now() milliseconds) the ones still waiting for bytes are dropped.
   */
  finish(deadline: number): Promise<void>;
  close(): Promise<void>;
}

interface Connection {
  /** Bytes of a query not yet complete. */
  partial(): boolean;
}

export function serveTcp(
  engine: DnsEngine,
  at: HostPort,
  options: TcpOptions,
  log: Logger,
  traffic: Traffic = newTraffic(),
): Promise<TcpServer> {
  const open = new Map<Socket, Connection>();
  let finishing = false;
  const server = createServer((socket) => {
    socket.on('close', () => open.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.setNoDelay(true);
    // An idle connection is closed so clients cannot hold slots forever (RFC 7766 6.2.3).
    socket.setTimeout(options.idleTimeoutMs, () => socket.destroy());
    const peer = {
      address: socket.remoteAddress ?? '',
      port: socket.remotePort ?? 0,
      transport: 'tcp' as const,
    };
    let pending: Buffer = Buffer.alloc(0);
    open.set(socket, { partial: () => pending.length > 0 });
    socket.on('data', (chunk: Buffer) => {
      if (socket.writableEnded) return;
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      while (pending.length >= 2) {
        const size = pending.readUInt16BE(0);
        if (pending.length < 2 + size) break;
        const msg = pending.subarray(2, 2 + size);
        pending = pending.subarray(2 + size);
        traffic.received++;
        let out: Buffer | null = null;
        try {
          out = engine.handleQuery(msg, peer);
        } catch (e) {
          log.error({ err: (e as Error).message, peer: peer.address }, 'query failed');
        }
        if (out === null) continue;
        const framed = Buffer.allocUnsafe(2 + out.length);
        framed.writeUInt16BE(out.length, 0);
        out.copy(framed, 2);
        socket.write(framed);
        traffic.answered++;
        // A client that sends but never reads would make us buffer answers without end.
        if (socket.writableLength > MAX_UNREAD) {
          socket.destroy();
          return;
        }
      }
      if (finishing && pending.length === 0) socket.end();
    });
  });
  server.maxConnections = options.maxConnections;
  const allClosed = () =>
    Promise.all([...open.keys()].map((s) => new Promise<void>((done) => s.once('close', () => done()))));
  const finish = async (deadline: number) => {
    finishing = true;
    // end, not destroy: answers already written are flushed.
    for (const [socket, connection] of open) if (!connection.partial()) socket.end();
    const dropUnfinished = () => {
      for (const socket of open.keys()) socket.destroy();
    };
    const late = setTimeout(dropUnfinished, Math.max(0, deadline - Date.now()));
    await allClosed();
    clearTimeout(late);
  };
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: at.port, host: at.host, ipv6Only: isIPv6(at.host) }, () => {
      server.off('error', reject);
      server.on('error', (e) => log.warn({ err: e.message }, 'tcp server error'));
      resolve({
        server,
        stopAccepting: () => {
          if (server.listening) server.close();
        },
        finish,
        close: () =>
          new Promise<void>((done) => {
            // Answers already written are flushed (end, not destroy); nothing more is read.
            for (const s of open.keys()) {
              s.pause();
              s.end();
              setTimeout(() => s.destroy(), 1000).unref();
            }
            if (!server.listening) return done();
            server.close(() => done());
          }),
      });
    });
  });
}
