import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Server as NetServer, Socket } from 'node:net';
import type { EdgeConfig } from '../config/index.js';
import { MeridianError } from '../errors.js';
import type { ClientExchange } from './exchange/client-exchange.js';
import { NodeHttpExchange } from './exchange/node-http.js';
import { NodeUpgradeExchange } from './exchange/node-upgrade.js';
import { sweepInterval } from './sweep.js';

/** How long an idle keep-alive client connection stays open. */
export const KEEP_ALIVE_TIMEOUT = 5000;

export interface HostPort {
  host: string;
  port: number;
}

export function parseHostPort(text: string, flag: string): HostPort {
  const m = /^\[?([^\s[\]]+?)\]?:(\d{1,5})$/.exec(text);
  const port = m ? Number(m[2]) : -1;
  if (!m || port > 65535)
    throw new MeridianError('BAD_ARGUMENT', `${flag}: expected ADDRESS:PORT, got "${text}"`);
  return { host: m[1], port };
}

export const formatHostPort = (a: HostPort) =>
  a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;

/** Why the parser refused a request, answered as raw HTTP (there is no ServerResponse yet). */
function rawError(socket: Socket, status: number, text: string, region: string): void {
  if (!socket.writable) return void socket.destroy();
  const body = JSON.stringify({
    error: { code: status === 431 ? 'BAD_REQUEST' : 'BAD_REQUEST', message: text },
  });
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\ncontent-type: application/json\r\nx-meridian-region: ${region}\r\n` +
      `connection: close\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

export interface DataServerOptions {
  edge: EdgeConfig;
  region: string;
  /** Every request, as an exchange for the pipeline. */
  handle(x: ClientExchange): void;
  /** A head the parser refused with `status` (counted, never reaches the pipeline). */
  rejected(status: number): void;
  /**
   * A request asking to switch protocols (Node's `upgrade` event, on either
   * listener), as an exchange that can give up its connection (x.upgrade):
   * the edge passes its pipeline, which runs the inbound stages and then the
   * tunnel endpoint. Without it Node closes such connections.
   */
  upgrade?(x: ClientExchange): void;
}

/**
 * The data-plane listener: a thin loop around the pipeline. Node's
 * parser (llhttp, strict) refuses malformed heads, conflicting
 * Content-Length/Transfer-Encoding and oversized headers before we see them;
 * those get 400/431 here and never reach an origin.
 */
export function createDataServer(o: DataServerOptions): Server {
  const e = o.edge;
  const options = {
    maxHeaderSize: e.maxHeaderSize,
    requireHostHeader: false, // checked in the request-head stage, which answers with our headers
    // Node measures headersTimeout from the request's start (absolute) and checks both at this interval.
    headersTimeout: e.timeouts.clientHeaders,
    requestTimeout: e.timeouts.clientRequest,
    connectionsCheckingInterval: sweepInterval(e.timeouts.clientHeaders, e.timeouts.clientRequest),
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT,
    joinDuplicateHeaders: false,
  };
  const max = e.maxRequestsPerConnection;
  const served = new WeakMap<Socket, number>();
  const handle =
    max === 0
      ? (req: IncomingMessage, res: ServerResponse) => o.handle(new NodeHttpExchange(req, res))
      : (req: IncomingMessage, res: ServerResponse) => {
          // Node (maxRequestsPerSocket) marks the last allowed answer "Connection: close" but keeps
          // the socket open while pipelined requests follow, answering them 503: close it ourselves.
          const n = (served.get(req.socket) ?? 0) + 1;
          served.set(req.socket, n);
          if (n >= max) res.once('finish', () => req.socket.destroySoon());
          o.handle(new NodeHttpExchange(req, res));
        };
  const server = e.tls
    ? createHttpsServer(
        {
          ...options,
          cert: readFileSync(e.tls.cert),
          key: readFileSync(e.tls.key),
          handshakeTimeout: e.timeouts.tlsHandshake,
          // h2 connections are taken off this server by the HTTP/2 listener (inbound-h2/listener.ts routeTls).
          ALPNProtocols: e.http2.enabled ? ['h2', 'http/1.1'] : ['http/1.1'],
        },
        handle,
      )
    : createServer(options, handle);
  server.timeout = e.timeouts.idle;
  server.maxRequestsPerSocket = e.maxRequestsPerConnection;
  // The listening server enforces edge.maxConnections (the fast path's net server on plain HTTP).
  server.maxConnections = e.maxConnections;
  const upgrade = o.upgrade;
  if (upgrade !== undefined) {
    server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) =>
      upgrade(new NodeUpgradeExchange(req, socket, head)),
    );
  }
  server.on('clientError', (err: Error & { code?: string }, socket: Socket) => {
    // Only the parser's errors (HPE_*) get an answer. A reset, a request timeout (headers or body too
    // slow) or a TLS error such as the handshake timeout closes the socket: there is no HTTP to speak
    // on a TLS socket that never finished its handshake, and writing would keep it open.
    if (!err.code?.startsWith('HPE_')) return void socket.destroy();
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
    o.rejected(status);
    rawError(socket, status, status === 431 ? 'Request Header Fields Too Large' : 'Bad Request', o.region);
  });
  return server;
}

/** Listens; later server errors (an accept failing with EMFILE) go to `onError`, never unhandled. */
export function listen(server: NetServer, at: HostPort, onError?: (e: Error) => void): Promise<HostPort> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: at.host, port: at.port }, () => {
      server.off('error', reject);
      server.on('error', (e) => onError?.(e));
      const a = server.address() as AddressInfo;
      resolve({ host: a.address, port: a.port });
    });
  });
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
