import { type IncomingMessage, type Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { EdgeRuntime } from '../runtime.js';

const ignore = () => {};

/**
 * Takes Node's `upgrade` event (a request with `Connection: upgrade` and
 * `Upgrade`, on the TLS listener or a plain connection the fast path handed
 * off) into the pipeline like any request. Node gives up the socket at that
 * point, so the response object is made here on it: it always closes the
 * connection, unless it is the 101 that opens a tunnel.
 */
export function acceptUpgrades(server: Server, rt: EdgeRuntime): void {
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
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
    rt.handle(req, res, { protocols: req.headers.upgrade ?? '', head });
  });
}
