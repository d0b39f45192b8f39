// Bodies stream through the edge both ways with flat memory, and a client
// that goes away aborts the upstream request.
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { request } from 'undici';
import { closeServer, startEdge, startOrigin, type TestEdge, waitFor } from './edge-fixtures.js';
import { configWithFreePorts } from './helpers/ports.js';

const HOST = 'api.example.com';
const GiB = 1024 ** 3;
const CHUNK = Buffer.alloc(256 * 1024, 7);
let edge: TestEdge;
const servers: Server[] = [];
let originSawClose = false;

before(async () => {
  const cfg = await configWithFreePorts('examples/two-regions.yaml');
  const handler = (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => {
    if (req.url === '/upload') {
      let n = 0;
      req.on('data', (c: Buffer) => {
        n += c.length;
      });
      req.on('end', () => res.end(JSON.stringify({ received: n })));
    } else if (req.url?.startsWith('/download/')) {
      let left = Number(req.url.split('/')[2]);
      res.writeHead(200, { 'content-length': String(left) });
      const pump = () => {
        while (left > 0) {
          const c = left >= CHUNK.length ? CHUNK : CHUNK.subarray(0, left);
          left -= c.length;
          if (!res.write(c)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    } else if (req.url === '/forever') {
      res.writeHead(200);
      const timer = setInterval(() => res.write('tick\n'), 20);
      res.on('close', () => {
        clearInterval(timer);
        originSawClose = true;
      });
    } else res.end('ok');
  };
  for (const p of [9101, 9102, 9201, 9202]) servers.push(await startOrigin(cfg.port(p), handler));
  edge = await startEdge(cfg.file, 'us-east-1');
});
after(async () => {
  await edge.close();
  for (const s of servers) await closeServer(s);
});

/** A generated body of `size` bytes: nothing is held in memory. */
function generated(size: number): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= size) return void this.push(null);
      const c = size - sent >= CHUNK.length ? CHUNK : CHUNK.subarray(0, size - sent);
      sent += c.length;
      this.push(c);
    },
  });
}

function watchRss() {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 50);
  return {
    stop() {
      clearInterval(timer);
      return peak;
    },
  };
}

test('a 1 GiB upload streams through with flat memory (client, edge and origin share this process)', async (t) => {
  globalThis.gc?.();
  const base = process.memoryUsage().rss;
  const rss = watchRss();
  const res = await request(`${edge.url}/upload`, {
    method: 'PUT',
    headers: { host: HOST },
    body: generated(GiB),
  });
  const body = (await res.body.json()) as { received: number };
  const peak = rss.stop();
  assert.equal(res.statusCode, 200);
  assert.equal(body.received, GiB);
  const grewMb = (peak - base) / 1024 / 1024;
  t.diagnostic(`RSS grew ${grewMb.toFixed(0)} MB while 1024 MB passed`);
  assert.ok(grewMb < 200, `RSS grew ${grewMb.toFixed(0)} MB while 1024 MB passed`);
});

test('a 64 MiB download streams through with flat memory', async () => {
  const base = process.memoryUsage().rss;
  const rss = watchRss();
  const res = await request(`${edge.url}/download/${64 * 1024 * 1024}`, { headers: { host: HOST } });
  let n = 0;
  for await (const c of res.body) n += (c as Buffer).length;
  const peak = rss.stop();
  assert.equal(n, 64 * 1024 * 1024);
  assert.ok((peak - base) / 1024 / 1024 < 150, `RSS grew ${((peak - base) / 1024 / 1024).toFixed(0)} MB`);
});

test('a client that goes away aborts the upstream request', async () => {
  const ac = new AbortController();
  const res = await request(`${edge.url}/forever`, { headers: { host: HOST }, signal: ac.signal });
  for await (const _ of res.body) break;
  ac.abort();
  assert.ok((await waitFor(() => originSawClose, 5000)) >= 0, 'the origin saw its request closed');
});
