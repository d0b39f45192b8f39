import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';

/** What carried the request to this edge. */
export type ClientProtocol = 'http/1.1' | 'http/1.0' | 'h2';

/**
 * A request that asks to switch protocols (`Connection: upgrade` and
 * `Upgrade`), from a listener that gives up the client's connection for it
 * (Node's `upgrade` event: exchange/node-upgrade.ts). Only the tunnel
 * endpoint (src/edge/tunnel) reads it; the inbound stages see the request
 * like any other.
 */
export interface UpgradeRequest {
  /** The Upgrade header's value as the client sent it ("websocket"). */
  readonly protocols: string;
  /** Bytes the client sent after the request head (they wait for a 101). */
  readonly head: Buffer;
  /** The client's connection: after a 101 head the tunnel's client side, bytes both ways. */
  readonly socket: Socket;
}

/**
 * One client request in flight, as the pipeline sees it whatever listener
 * took it (the fast HTTP/1.1 path, Node's parser, HTTP/2, or edge.request()
 * in process). Each listener has a thin adapter (as hono's Context wraps
 * Request/Response); stages never see a socket or a node:http object.
 *
 * The request side reads as HTTP/1.1: an HTTP/2 adapter turns `:authority`
 * into Host and a body without Content-Length into `transfer-encoding:
 * chunked`, so every stage applies one set of rules.
 */
export interface ClientExchange {
  readonly protocol: ClientProtocol;
  readonly method: string;
  /** The request target as sent (origin-form: path and query). */
  readonly target: string;
  /** name, value, name, value... as received. */
  readonly rawHeaders: readonly string[];
  /** The request body; null when the listener knows there is none. */
  readonly body: Readable | null;
  /** The client's address as the connection sees it (the peer may be a proxy). */
  readonly remoteAddress: string;
  /** The same object for every request of one client connection: per-connection caches hang on it. */
  readonly connection: object;
  /** Set only for an Upgrade request whose connection can become a tunnel; absent on every other exchange. */
  readonly upgrade?: UpgradeRequest;

  /** True once writeHead ran: the status and headers are fixed. */
  readonly headersSent: boolean;
  /** The status written by writeHead (200 before). */
  readonly statusCode: number;
  /** The whole response was handed to the client's connection. */
  readonly finished: boolean;
  /** headers: name, value, name, value... without connection-level framing (the adapter adds it). */
  writeHead(status: number, headers: readonly string[]): void;
  /** False: the client is full; wait for onDrain before writing more. */
  write(chunk: Buffer): boolean;
  end(chunk?: Buffer | string, encoding?: BufferEncoding): void;
  /** Called once, the next time a full client can take more. */
  onDrain(listener: () => void): void;
  /** Called once when the response was written in full or cut off (see `finished`). */
  onClose(listener: () => void): void;
  /** Cuts the response off: the client sees the connection (or stream) reset. */
  destroy(): void;
  /** The client's connection closes after this answer (drain, a refused head); a no-op where nothing persists. */
  closeAfterResponse(): void;
}
