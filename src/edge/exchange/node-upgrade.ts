import { type IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { UpgradeRequest } from './client-exchange.js';
import { NodeHttpExchange } from './node-http.js';

const ignore = () => {};

/**
 * Node's `upgrade` event (a request with `Connection: upgrade` and
 * `Upgrade`, on the TLS listener or a plain connection the fast path handed
 * off) as an exchange. Node has given up the socket, so the response is a
 * ServerResponse made here on it: it always closes the connection, unless it
 * is the 101 that opens a tunnel, after which the socket is the tunnel's
 * (`upgrade.socket`, with the bytes read past the head in `upgrade.head`).
 */
export class NodeUpgradeExchange extends NodeHttpExchange {
  readonly upgrade: UpgradeRequest;

  constructor(req: IncomingMessage, socket: Socket, head: Buffer) {
    // Node removed its own handler: a reset must not become an uncaught error.
    socket.on('error', ignore);
    const res = new ServerResponse(req);
    res.shouldKeepAlive = false;
    res.assignSocket(socket);
    res.once('finish', () => {
      res.detachSocket(socket);
      process.nextTick(() => res.emit('close'));
      if (res.statusCode !== 101) socket.destroySoon();
    });
    super(req, res);
    this.upgrade = { protocols: req.headers.upgrade ?? '', head, socket };
  }
}
