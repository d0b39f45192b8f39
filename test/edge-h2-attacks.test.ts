// The known HTTP/2 attacks against the edge's h2c listener, each with raw
// frames on a real socket (a client library will not send them) and a
// legitimate request or connection beside it: rapid reset (CVE-2023-44487),
// CONTINUATION floods and a header block that never ends, HPACK bombs,
// stream floods past SETTINGS_MAX_CONCURRENT_STREAMS, SETTINGS and PING
// floods. The origin counts what reaches it: an attack sends it nothing (or,
// for held streams, no more than the limit).
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { connect } from 'node:http2';
import { after, before, test } from 'node:test';
import { appendYaml, closeServer, echo, startEdge, startOrigin, type TestEdge } from './edge-fixtures.js';
import {
  CONTINUATION,
  END_HEADERS,
  END_STREAM,
  ENHANCE_YOUR_CALM,
  frame,
  GOAWAY,
  HEADERS,
  indexed,
  literal,
  literalIndexed,
  ping,
  RawH2,
  REFUSED_STREAM,
  RST_STREAM,
  requestBlock,
  rst,
  SETTINGS,
  settings,
  tableSizeUpdate,
} from './helpers/h2-frames.js';
import { configWithFreePorts } from './helpers/ports.js';

const origins: Server[] = [];
let edge: TestEdge;
let port = 0;
let reached = 0;

before(async () => {
  const cfg = await configWithFreePorts('examples/two-regions.yaml');
  appendYaml(
    cfg.file,
    `edge:
  timeouts: { clientHeaders: 1s }
  http2:
    maxConcurrentStreams: 4
    maxHeaderListSize: 8192
    resetBurst: 20
    resetsPerSecond: 5
    controlFrameBurst: 20
    controlFramesPerSecond: 5
    maxRefusedStreams: 10`,
  );
  for (const p of [9101, 9102])
    origins.push(
      await startOrigin(cfg.port(p), (req, res) => {
        reached++;
        echo(req, res);
      }),
    );
  edge = await startEdge(cfg.file, 'us-east-1');
  port = Number(new URL(edge.url).port);
});
after(async () => {
  await edge?.close();
  for (const o of origins) await closeServer(o);
});

const refused = (reason: string) => edge.edge.runtime.statsSnapshot().http2?.refused[reason] ?? 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A legitimate h2c request still gets its answer beside the attack. */
async function legitimate(): Promise<void> {
  const client = connect(`http://127.0.0.1:${port}`);
  try {
    const status = await new Promise<number>((resolve, reject) => {
      const req = client.request({ ':path': '/ok', ':authority': 'api.example.com' });
      req.on('response', (h) => resolve(Number(h[':status'])));
      req.on('error', reject);
      req.resume();
    });
    assert.equal(status, 200);
  } finally {
    client.close();
  }
}

async function closedWith(raw: RawH2, code: number | null): Promise<void> {
  const g = await raw.waitFrame((f) => f.type === GOAWAY);
  assert.ok(g, 'GOAWAY');
  if (code !== null) assert.equal(RawH2.goawayCode(g), code);
  await Promise.race([raw.closed, sleep(3000).then(() => assert.fail('the connection stays open'))]);
}

test('rapid reset: streams opened and cancelled faster than the budget get GOAWAY ENHANCE_YOUR_CALM; the origin sees no flood', async () => {
  const before = reached;
  const raw = new RawH2(port).start();
  let id = 1;
  // 10 HEADERS + RST_STREAM pairs per write, a turn of the event loop between writes, until closed.
  for (let batch = 0; batch < 200 && !raw.socket.destroyed && !raw.goaway(); batch++) {
    const pairs: Buffer[] = [];
    for (let i = 0; i < 10; i++, id += 2)
      pairs.push(frame(HEADERS, END_HEADERS | END_STREAM, id, requestBlock('/flood')), rst(id));
    raw.write(Buffer.concat(pairs));
    await new Promise((r) => setImmediate(r));
  }
  await closedWith(raw, ENHANCE_YOUR_CALM);
  assert.ok(id < 2 * 1000, `closed after ${(id - 1) / 2} streams`);
  assert.ok(reached - before <= 20, `the origin saw ${reached - before} requests`);
  assert.ok(refused('rapid_reset') >= 1);
  await legitimate();
});

test('CONTINUATION flood: a header block in many CONTINUATION frames closes the connection', async () => {
  const before = reached;
  const raw = new RawH2(port).start();
  raw.write(frame(HEADERS, END_STREAM, 1, requestBlock('/cont')));
  const more: Buffer[] = [];
  for (let i = 0; i < 100; i++) more.push(frame(CONTINUATION, 0, 1, literal('x-c', 'a')));
  raw.write(Buffer.concat(more));
  await closedWith(raw, null);
  assert.equal(reached, before);
  assert.ok(refused('protocol_error') >= 1);
  await legitimate();
});

test('a header block that never ends is cut at timeouts.clientHeaders', async () => {
  const before = reached;
  const was = refused('headers_timeout');
  const raw = new RawH2(port).start();
  assert.ok(await raw.waitFrame((f) => f.type === SETTINGS && f.flags === 0));
  await sleep(50); // our SETTINGS ACK went before the header block starts
  raw.write(frame(HEADERS, END_STREAM, 1, requestBlock('/never')));
  const t0 = performance.now();
  await closedWith(raw, ENHANCE_YOUR_CALM);
  const ms = performance.now() - t0;
  assert.ok(ms >= 800 && ms < 4000, `closed after ${Math.round(ms)} ms`);
  assert.equal(reached, before);
  assert.equal(refused('headers_timeout'), was + 1);
});

const bomb = () =>
  Buffer.concat([
    requestBlock('/bomb'),
    literalIndexed('x-bomb', 'a'.repeat(4000)),
    ...Array.from({ length: 100 }, () => indexed(62)), // 100 x 4 KB decoded from 100 bytes
  ]);

test('HPACK bomb before SETTINGS are acknowledged: answered 431 by the listener, never proxied; the connection serves on', async () => {
  const before = reached;
  const was = refused('header_list_too_large');
  const raw = new RawH2(port, false).start();
  raw.write(frame(HEADERS, END_HEADERS | END_STREAM, 1, bomb()));
  const answer = await raw.waitFrame((f) => f.stream === 1 && (f.type === HEADERS || f.type === RST_STREAM));
  assert.ok(answer, 'an answer on stream 1');
  assert.equal(answer.type, HEADERS);
  assert.equal(answer.flags & END_STREAM, END_STREAM);
  assert.equal(refused('header_list_too_large'), was + 1);
  // The decoder stayed in step: the next request on the same connection is served.
  raw.write(frame(HEADERS, END_HEADERS | END_STREAM, 3, requestBlock('/after-bomb')));
  assert.ok(await raw.waitFrame((f) => f.type === HEADERS && f.stream === 3), 'answer on stream 3');
  await sleep(50);
  assert.equal(reached, before + 1);
  raw.destroy();
});

test('HPACK bomb after SETTINGS are acknowledged: Node resets the stream (ENHANCE_YOUR_CALM); the connection serves on', async () => {
  const before = reached;
  const raw = new RawH2(port).start();
  assert.ok(await raw.waitFrame((f) => f.type === SETTINGS && f.flags === 0));
  await sleep(50); // our ACK reached the server
  raw.write(frame(HEADERS, END_HEADERS | END_STREAM, 1, bomb()));
  const reset = await raw.waitFrame((f) => f.type === RST_STREAM && f.stream === 1);
  assert.ok(reset, 'RST_STREAM on the bomb');
  assert.equal(reset.payload.readUInt32BE(0), ENHANCE_YOUR_CALM);
  raw.write(frame(HEADERS, END_HEADERS | END_STREAM, 3, requestBlock('/after-bomb')));
  assert.ok(await raw.waitFrame((f) => f.type === HEADERS && f.stream === 3), 'answer on stream 3');
  await sleep(50);
  assert.equal(reached, before + 1);
  raw.destroy();
});

test('HPACK table size trick: a table larger than the one we advertised is a connection error', async () => {
  const before = reached;
  const raw = new RawH2(port).start();
  const block = Buffer.concat([tableSizeUpdate(1 << 20), requestBlock('/table')]);
  raw.write(frame(HEADERS, END_HEADERS | END_STREAM, 1, block));
  await closedWith(raw, 0x9 /* COMPRESSION_ERROR */);
  assert.equal(reached, before);
});

test('max header list size (node:http2 client): a request over it never reaches the origin; the session serves on', async () => {
  const before = reached;
  const client = connect(`http://127.0.0.1:${port}`);
  try {
    const big = client.request({
      ':path': '/big',
      ':authority': 'api.example.com',
      'x-big': 'b'.repeat(10_000),
    });
    // 431 from the listener (sent before the client acknowledged SETTINGS), or Node's reset after.
    const outcome = await new Promise<string>((resolve) => {
      big.on('error', () => resolve(`reset ${big.rstCode}`));
      big.on('response', (h) => resolve(`status ${h[':status']}`));
      big.resume();
    });
    assert.ok(['status 431', `reset ${ENHANCE_YOUR_CALM}`].includes(outcome), outcome);
    const ok = client.request({ ':path': '/small', ':authority': 'api.example.com' });
    const status = await new Promise((resolve) => ok.on('response', (h) => resolve(h[':status'])));
    ok.resume();
    assert.equal(status, 200);
    await sleep(50);
    assert.equal(reached, before + 1);
  } finally {
    client.close();
  }
});

const held = (id: number) => frame(HEADERS, END_HEADERS, id, requestBlock('/held', undefined, 'POST'));

test('stream flood: a stream past the acknowledged maxConcurrentStreams closes the connection', async () => {
  const before = reached;
  const was = refused('protocol_error');
  const raw = new RawH2(port).start();
  assert.ok(await raw.waitFrame((f) => f.type === SETTINGS && f.flags === 0));
  await sleep(50);
  // Four streams held open (a body that never comes), then one too many.
  raw.write(Buffer.concat([1, 3, 5, 7].map(held)));
  await sleep(100);
  raw.write(held(9));
  // nghttp2 flags the stream as a protocol error; Node then closes the session with INTERNAL_ERROR.
  await closedWith(raw, 0x2 /* INTERNAL_ERROR */);
  await sleep(100);
  assert.ok(reached - before <= 4, `the origin saw ${reached - before} requests`);
  assert.equal(refused('protocol_error'), was + 1);
  await legitimate();
});

test('stream flood without acknowledging SETTINGS: extra streams are refused, and the connection is closed at timeouts.clientHeaders', async () => {
  const before = reached;
  const was = refused('settings_timeout');
  const raw = new RawH2(port, false).start();
  raw.write(Buffer.concat([1, 3, 5, 7].map(held)));
  await sleep(100);
  raw.write(held(9));
  const fifth = await raw.waitFrame((f) => f.type === RST_STREAM && f.stream === 9);
  assert.ok(fifth, 'the fifth stream is refused');
  assert.equal(fifth.payload.readUInt32BE(0), REFUSED_STREAM);
  const flood: Buffer[] = [];
  for (let id = 11; id < 11 + 2 * 50; id += 2) flood.push(held(id));
  raw.write(Buffer.concat(flood));
  await closedWith(raw, ENHANCE_YOUR_CALM);
  await sleep(100);
  assert.ok(reached - before <= 4, `the origin saw ${reached - before} requests`);
  assert.equal(refused('settings_timeout'), was + 1);
  await legitimate();
});

test('SETTINGS and PING floods: more than the control-frame budget get GOAWAY ENHANCE_YOUR_CALM', async () => {
  for (const make of [() => settings([[0x4, 65_535]]), ping]) {
    const was = refused('control_flood');
    const raw = new RawH2(port).start();
    raw.write(Buffer.concat(Array.from({ length: 200 }, make)));
    await closedWith(raw, ENHANCE_YOUR_CALM);
    assert.equal(refused('control_flood'), was + 1);
  }
  // A client's own SETTINGS and a few PINGs are fine.
  const raw = new RawH2(port).start();
  raw.write(Buffer.concat([ping(), ping(), settings()]));
  await sleep(200);
  assert.equal(raw.goaway(), undefined);
  raw.destroy();
  await legitimate();
});
