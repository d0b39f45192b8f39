// The pipeline behind the HTTP/2 adapter: a bare h2c server whose streams go
// through H2Exchange into serve() (the edge's own listener, inbound-h2, is
// tested in edge-h2-listener and edge-h2-attacks). A GET and a POST without
// Content-Length reach an HTTP/1.1 origin and come back with the edge's headers.
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { connect, createServer, type Http2Server, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { H2Exchange } from '../src/edge/exchange/h2.js';
import { closeServer, echo, type InProcessEdge, inProcessEdge, startOrigin } from './edge-fixtures.js';
import { configWithFreePorts } from './helpers/ports.js';

const origins: Server[] = [];
let edge: InProcessEdge;
let h2: Http2Server;
let port = 0;

before(async () => {
  const cfg = await configWithFreePorts('examples/two-regions.yaml');
  for (const p of [9101, 9102, 9201, 9202]) origins.push(await startOrigin(cfg.port(p), echo));
  edge = await inProcessEdge(cfg.file, 'us-east-1');
  h2 = createServer();
  h2.on('stream', (stream: ServerHttp2Stream, _h: unknown, _f: number, raw: string[]) =>
    edge.edge.pipeline.serve(new H2Exchange(stream, raw)),
  );
  await new Promise<void>((r) => h2.listen(0, '127.0.0.1', r));
  port = (h2.address() as AddressInfo).port;
});
after(async () => {
  await new Promise((r) => h2.close(r));
  await edge.close();
  for (const o of origins) await closeServer(o);
});

function h2request(headers: Record<string, string>, body?: string) {
  const client = connect(`http://127.0.0.1:${port}`);
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>(
    (resolve, reject) => {
      const req = client.request(headers, { endStream: body === undefined });
      let text = '';
      let head: Record<string, unknown> = {};
      req.on('response', (h) => {
        head = h;
      });
      req.setEncoding('utf8');
      req.on('data', (c: string) => {
        text += c;
      });
      req.on('end', () => {
        client.close();
        resolve({ status: Number(head[':status']), headers: head, body: text });
      });
      req.on('error', reject);
      if (body !== undefined) {
        req.write(body.slice(0, 3));
        req.end(body.slice(3));
      }
    },
  );
}

test('h2: a GET through the pipeline to an HTTP/1.1 origin, Host from :authority', async () => {
  const res = await h2request({ ':method': 'GET', ':path': '/h2?x=1', ':authority': 'api.example.com' });
  assert.equal(res.status, 200);
  assert.equal(res.headers['x-meridian-region'], 'us-east-1');
  const echoed = JSON.parse(res.body);
  assert.equal(echoed.url, '/h2?x=1');
  assert.equal(echoed.headers.host, 'api.example.com');
  assert.equal(echoed.headers['x-forwarded-host'], 'api.example.com');
});

test('h2: a body without Content-Length arrives whole; a Host naming another authority is refused', async () => {
  const res = await h2request(
    { ':method': 'POST', ':path': '/up', ':authority': 'api.example.com', 'idempotency-key': 'k' },
    'hello world',
  );
  assert.equal(res.status, 200);
  assert.equal(JSON.parse(res.body).received, 11);
  const bad = await h2request({
    ':method': 'GET',
    ':path': '/',
    ':authority': 'api.example.com',
    host: 'evil.example',
  });
  assert.equal(bad.status, 400);
});
