import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { test } from 'node:test';
import type { ClientExchange } from './client-exchange.js';
import { NodeUpgradeExchange } from './node-upgrade.js';

/** A raw client: sends `text`, returns everything read until the server closes (or `until` matches). */
async function exchange(handler: (x: ClientExchange) => void, text: string, until?: RegExp): Promise<string> {
  const server = createServer(() => assert.fail('an upgrade is not a request event'));
  server.on('upgrade', (req, socket, head) => handler(new NodeUpgradeExchange(req, socket as Socket, head)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  try {
    return await new Promise<string>((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => s.write(text));
      let got = '';
      s.on('data', (d) => {
        got += d.toString('latin1');
        if (until?.test(got)) {
          s.destroy();
          resolve(got);
        }
      });
      s.on('end', () => resolve(got));
      s.on('error', reject);
    });
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
}

const HEAD = 'GET /chat HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n';

test('an upgrade answered without 101 is a normal response that closes the connection', async () => {
  let seen: ClientExchange | null = null;
  const got = await exchange((x) => {
    seen = x;
    x.onClose(() => {});
    x.writeHead(200, ['content-length', '2']);
    x.end('no');
  }, `${HEAD}early`);
  assert.match(got, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(got, /\r\nconnection: close\r\n/i);
  assert.ok(got.endsWith('\r\n\r\nno'), got);
  const x = seen as unknown as ClientExchange;
  assert.equal(x.method, 'GET');
  assert.equal(x.target, '/chat');
  assert.equal(x.upgrade?.protocols, 'websocket');
  assert.equal(x.upgrade?.head.toString(), 'early');
  assert.equal(x.connection, x.upgrade?.socket);
});

test('after a 101 the socket stays open for the tunnel, and onClose still fires', async () => {
  let closed = false;
  const got = await exchange(
    (x) => {
      x.onClose(() => {
        closed = true;
      });
      x.writeHead(101, ['connection', 'Upgrade', 'upgrade', 'websocket']);
      x.end();
      const socket = x.upgrade!.socket;
      // The tunnel's socket is no longer the HTTP server's: end it when the client leaves.
      socket.on('end', () => socket.destroy());
      setImmediate(() => socket.write('tunnelled'));
    },
    HEAD,
    /tunnelled$/,
  );
  assert.match(got, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
  assert.ok(got.endsWith('\r\n\r\ntunnelled'), got);
  assert.equal(closed, true);
});
