// SIGTERM on `meridian edge`: a slow request in flight completes, new
// connections are refused, idle keep-alive connections close at once, and the
// process exits 0; past --drain-timeout the request is cut and the exit is still clean.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { Server, ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import { request } from 'undici';
import { closeServer, startOrigin } from './edge-fixtures.js';
import { configWithFreePorts } from './helpers/ports.js';
import { type Daemon, getJson, startDaemon, waitFor } from './lifecycle-support.js';

/** An origin whose /slow answers only when release() is called. */
async function slowOrigin(port: number) {
  const held: ServerResponse[] = [];
  const server = await startOrigin(port, (req, res) => {
    if (req.url === '/slow') held.push(res);
    else res.end('fast');
  });
  return {
    server,
    held: () => held.length,
    release: () => {
      for (const res of held.splice(0)) res.end('slow body, complete');
    },
  };
}

async function startEdge(drainTimeout: string) {
  const cfg = await configWithFreePorts();
  const origins = [await slowOrigin(cfg.port(9101)), await slowOrigin(cfg.port(9102))];
  const edge = await startDaemon([
    ...['edge', '--config', cfg.file, '--region', 'us-east-1'],
    ...['--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0', '--drain-timeout', drainTimeout],
  ]);
  return { edge, origins, servers: origins.map((o) => o.server) as Server[] };
}

const hostPort = (edge: Daemon) => {
  const [host, port] = String(edge.ready.listen).split(':');
  return { host, port: Number(port) };
};

/** A raw keep-alive connection that has had one answer and now sits idle. */
async function idleKeepAlive(edge: Daemon): Promise<Socket> {
  const socket = connect(hostPort(edge));
  await once(socket, 'connect');
  socket.write('GET /fast HTTP/1.1\r\nhost: api.example.com\r\n\r\n');
  let text = '';
  await waitFor('the first answer', () => {
    const chunk = socket.read();
    if (chunk) text += chunk;
    return text.includes('fast') ? true : undefined;
  });
  return socket;
}

const refused = (edge: Daemon) =>
  new Promise<string>((resolve) => {
    const s = connect(hostPort(edge));
    s.once('connect', () => {
      s.destroy();
      resolve('connected');
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });

// GET takes the fast inbound path (src/edge/inbound-fast); a POST with a body goes to Node's HTTP server.
for (const method of ['GET', 'POST'] as const) {
  test(`SIGTERM: the ${method} in flight completes, new connections are refused, exit 0`, async () => {
    const { edge, origins, servers } = await startEdge('30s');
    try {
      const idle = await idleKeepAlive(edge);
      const idleClosed = once(idle, 'close');
      const slow = request(`http://${edge.ready.listen}/slow`, {
        method,
        headers: { host: 'api.example.com' },
        body: method === 'POST' ? 'a body' : undefined,
      });
      await waitFor('the origin holding the request', () =>
        origins.some((o) => o.held() > 0) ? true : undefined,
      );

      edge.child.kill('SIGTERM');
      const ready = await waitFor('not ready while draining', async () => {
        const r = await getJson(`http://${edge.ready.admin}/meridian/ready`);
        return r.status === 503 ? r : undefined;
      });
      assert.deepEqual(ready.body, { ready: false, draining: true });
      await idleClosed; // the idle keep-alive connection was closed at once
      assert.equal(await refused(edge), 'ECONNREFUSED');
      assert.equal(edge.child.exitCode, null, 'still draining');

      for (const o of origins) o.release();
      const res = await slow;
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers.connection, 'close');
      assert.equal(await res.body.text(), 'slow body, complete');
      assert.equal(await edge.exited, 0);
    } finally {
      if (edge.child.exitCode === null) edge.child.kill('SIGKILL');
      for (const s of servers) await closeServer(s);
    }
  });
}

test('SIGTERM past --drain-timeout: the request in flight is cut, exit still 0', async () => {
  const { edge, origins, servers } = await startEdge('200ms');
  try {
    const slow = request(`http://${edge.ready.listen}/slow`, { headers: { host: 'api.example.com' } });
    const outcome = slow.then(
      (r) => `status ${r.statusCode}`,
      (e: Error) => `cut: ${e.message}`,
    );
    await waitFor('the origin holding the request', () =>
      origins.some((o) => o.held() > 0) ? true : undefined,
    );
    edge.child.kill('SIGTERM');
    assert.equal(await edge.exited, 0);
    assert.match(await outcome, /^cut: /);
    const timedOut = edge.logs().find((l) => l.msg === 'drain timeout: closing requests in flight');
    assert.ok(timedOut, 'the drain timeout is logged');
  } finally {
    for (const o of origins) o.release();
    for (const s of servers) await closeServer(s);
  }
});

test('a second SIGTERM exits at once', async () => {
  const { edge, origins, servers } = await startEdge('60s');
  try {
    void request(`http://${edge.ready.listen}/slow`, { headers: { host: 'api.example.com' } }).catch(
      () => {},
    );
    await waitFor('the origin holding the request', () =>
      origins.some((o) => o.held() > 0) ? true : undefined,
    );
    edge.child.kill('SIGTERM');
    await waitFor('draining', async () =>
      (await getJson(`http://${edge.ready.admin}/meridian/ready`)).body.draining ? true : undefined,
    );
    edge.child.kill('SIGTERM');
    assert.equal(await edge.exited, 1);
  } finally {
    for (const o of origins) o.release();
    for (const s of servers) await closeServer(s);
  }
});
