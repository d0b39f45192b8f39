import assert from 'node:assert/strict';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import type { OutgoingRequest, UpstreamError } from './exchange.js';
import { H1Pool } from './pool.js';

/** A raw TCP origin: `reply` sees each request head (and body bytes) and writes what it likes. */
async function rawOrigin(reply: (socket: Socket, request: string) => void) {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server: Server = createServer((s) => {
    accepted++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    let text = '';
    s.on('data', (d) => {
      text += d.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return;
      const m = /content-length: (\d+)/i.exec(text.slice(0, end));
      const chunked = /transfer-encoding: chunked/i.test(text.slice(0, end));
      const body = text.slice(end + 4);
      if (m && body.length < Number(m[1])) return;
      if (chunked && !body.endsWith('0\r\n\r\n')) return;
      const request = text;
      text = '';
      reply(s, request);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    accepted: () => accepted,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

const options = {
  connections: 2,
  connectTimeout: 500,
  headersTimeout: 300,
  idleTimeout: 300,
  keepAliveTimeout: 5000,
};

function get(path = '/', extra: Partial<OutgoingRequest> = {}): OutgoingRequest {
  return { method: 'GET', path, headers: ['host', 'x'], body: null, chunked: false, ...extra };
}

function send(pool: H1Pool, req: OutgoingRequest) {
  return new Promise<{ status: number; headers: string[]; body: string; error?: UpstreamError }>(
    (resolve) => {
      let status = 0;
      let headers: string[] = [];
      let body = '';
      pool.request(req, {
        onHeaders(s, h) {
          status = s;
          headers = h;
          return true;
        },
        onData(c) {
          body += c.toString('latin1');
          return true;
        },
        onComplete: () => resolve({ status, headers, body }),
        onError: (error) => resolve({ status, headers, body, error }),
      });
    },
  );
}

test('upstream pool: keep-alive reuse, chunked and close-delimited bodies', async () => {
  const origin = await rawOrigin((s, req) => {
    if (req.startsWith('GET /chunked'))
      s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n');
    else if (req.startsWith('GET /close')) s.end('HTTP/1.1 200 OK\r\n\r\nuntil the end');
    else s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
  });
  const pool = new H1Pool(`http://127.0.0.1:${origin.port}`, options);
  try {
    for (let i = 0; i < 3; i++) assert.equal((await send(pool, get())).body, 'ok');
    assert.equal(origin.accepted(), 1);
    assert.equal((await send(pool, get('/chunked'))).body, 'abc');
    assert.equal((await send(pool, get('/close'))).body, 'until the end');
    assert.equal((await send(pool, get())).body, 'ok');
    assert.equal(origin.accepted(), 2);
  } finally {
    pool.close();
    await origin.close();
  }
});

test('upstream pool: a streamed body without length goes chunked; a buffer in the same write', async () => {
  const seen: string[] = [];
  const origin = await rawOrigin((s, req) => {
    seen.push(req);
    s.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
  });
  const pool = new H1Pool(`http://127.0.0.1:${origin.port}`, options);
  try {
    await send(
      pool,
      get('/', { method: 'POST', body: Readable.from([Buffer.from('ab'), Buffer.from('c')]), chunked: true }),
    );
    assert.match(seen[0], /transfer-encoding: chunked\r\n\r\n2\r\nab\r\n1\r\nc\r\n0\r\n\r\n$/);
    await send(
      pool,
      get('/', { method: 'PUT', headers: ['host', 'x', 'content-length', '3'], body: Buffer.from('xyz') }),
    );
    assert.match(seen[1], /content-length: 3\r\n\r\nxyz$/);
  } finally {
    pool.close();
    await origin.close();
  }
});

test('upstream pool: failures are classified (connect, timeout, protocol, reset)', async () => {
  const origin = await rawOrigin((s, req) => {
    if (req.startsWith('GET /garbage'))
      s.write('HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n');
    else if (req.startsWith('GET /reset')) s.destroy();
    else if (req.startsWith('GET /stall')) s.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc');
    // GET /silent: never answers
  });
  const pool = new H1Pool(`http://127.0.0.1:${origin.port}`, options);
  const closed = new H1Pool('http://127.0.0.1:1', options);
  try {
    assert.equal((await send(pool, get('/garbage'))).error?.kind, 'protocol');
    assert.equal((await send(pool, get('/reset'))).error?.kind, 'reset');
    assert.equal((await send(pool, get('/silent'))).error?.kind, 'timeout');
    const stalled = await send(pool, get('/stall'));
    assert.deepEqual([stalled.status, stalled.body, stalled.error?.kind], [200, 'abc', 'timeout']);
    assert.equal((await send(closed, get())).error?.kind, 'connect');
  } finally {
    pool.close();
    closed.close();
    await origin.close();
  }
});

test('upstream pool: a kept-alive connection the origin closed is replaced for a GET', async () => {
  let n = 0;
  const origin = await rawOrigin((s) => {
    n++;
    // The first answer leaves the connection looking reusable, then the origin drops it.
    if (n === 1)
      s.write('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na', () => setTimeout(() => s.destroy(), 20));
    else s.write('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb');
  });
  const pool = new H1Pool(`http://127.0.0.1:${origin.port}`, options);
  try {
    assert.equal((await send(pool, get())).body, 'a');
    await new Promise((r) => setTimeout(r, 60));
    assert.equal((await send(pool, get())).body, 'b');
  } finally {
    pool.close();
    await origin.close();
  }
});

test('upstream pool: abort closes the connection; queued requests wait for a free one', async () => {
  const origin = await rawOrigin((s, req) => {
    if (!req.startsWith('GET /hang')) s.write('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nq');
  });
  const pool = new H1Pool(`http://127.0.0.1:${origin.port}`, {
    ...options,
    connections: 1,
    headersTimeout: 5000,
  });
  try {
    const hang = pool.request(get('/hang'), {
      onHeaders: () => true,
      onData: () => true,
      onComplete: () => assert.fail('no response expected'),
      onError: () => assert.fail('no error after abort'),
    });
    const queued = send(pool, get('/q'));
    await new Promise((r) => setTimeout(r, 50));
    hang.abort();
    assert.equal((await queued).body, 'q');
    assert.equal(origin.accepted(), 2);
  } finally {
    pool.close();
    await origin.close();
  }
});

test('upstream pool: onData false stops reading until resume; HEAD gets no body', async () => {
  const big = 'x'.repeat(4 * 1024 * 1024);
  const origin = await rawOrigin((s, req) => {
    if (req.startsWith('HEAD')) s.write('HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n');
    else s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${big.length}\r\n\r\n${big}`);
  });
  const pool = new H1Pool(`http://127.0.0.1:${origin.port}`, { ...options, idleTimeout: 5000 });
  try {
    const head = await send(pool, get('/', { method: 'HEAD' }));
    assert.deepEqual([head.status, head.body, head.error], [200, '', undefined]);
    let received = 0;
    let chunksWhilePaused = 0;
    let paused = false;
    await new Promise<void>((resolve, reject) => {
      const x = pool.request(get('/big'), {
        onHeaders: () => true,
        onData(c) {
          if (paused) chunksWhilePaused++;
          received += c.length;
          if (received > 256 * 1024 && !paused && received < big.length) {
            paused = true;
            setTimeout(() => {
              paused = false;
              x.resume();
            }, 100);
            return false;
          }
          return true;
        },
        onComplete: () => resolve(),
        onError: reject,
      });
    });
    assert.equal(received, big.length);
    assert.equal(chunksWhilePaused, 0);
  } finally {
    pool.close();
    await origin.close();
  }
});
