// Bad input: 120,000 random, mutated, hand-broken and structure-aware packets
// (dns-fuzz-cases.ts) into handleQuery in process, a sample over real UDP and
// TCP sockets, and the fuzz-dns runner over real processes with a fixed seed.
// The server never throws or hangs, answers FORMERR where it must, and still
// answers a valid query correctly afterwards.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import packet from 'dns-packet';
import { runDnsFuzz } from '../bench/fuzz-dns/fuzz.js';
import { loadConfig } from '../src/config/index.js';
import type { DnsEngine } from '../src/dns/handler.js';
import { type DnsServer, startDnsServer } from '../src/dns/server.js';
import { FileSnapshotSource } from '../src/feed/index.js';
import { GeoLocator } from '../src/geo/index.js';
import { createLogger } from '../src/log.js';
import { DnsFuzzer, validQuery } from './dns-fuzz-cases.js';
import { addressesOf, dnsConfig, kdigAsync } from './dns-support.js';
import { requireProgram } from './helpers/programs.js';

const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed);
const fuzz = new DnsFuzzer(SEED);
const rnd = (n: number) => fuzz.rnd(n);
const mutated = () => fuzz.mutated();
const hostile = (i: number) => fuzz.next(i).input;

let dir: string;
let server: DnsServer;
let source: FileSnapshotSource;

before(async () => {
  ({ dir } = await dnsConfig((doc) => {
    doc.dns = { rateLimit: { enabled: false } };
  }));
  source = new FileSnapshotSource(`${dir}/meridian.yaml`);
  await source.start();
  const geo = await GeoLocator.open(loadConfig(`${dir}/meridian.yaml`).geo);
  server = await startDnsServer({
    source,
    geo,
    log: createLogger('dns-fuzz', 'silent'),
    listen: ['127.0.0.1:0'],
    admin: null,
  });
});
after(async () => {
  await server?.close();
  await source?.close();
});

function checkResponse(input: Buffer, out: Buffer | null, mustFail: boolean) {
  if (out === null) return;
  assert.ok(out.length >= 12, 'a response has a whole header');
  assert.equal(out[0], input[0]);
  assert.equal(out[1], input[1]);
  assert.ok(out[2] & 0x80, 'QR set');
  if (mustFail) assert.equal(out[3] & 0x0f, 1, `FORMERR for ${input.toString('hex')}`);
}

function assertStillAnswers(engine: DnsEngine) {
  const out = engine.handleQuery(validQuery(4242), { address: '127.0.0.1', port: 1, transport: 'udp' });
  const answer = packet.decode(out!);
  assert.equal(answer.id, 4242);
  assert.deepEqual(
    answer.answers?.map((a) => ('data' in a ? a.data : null)),
    ['198.51.100.10'],
  );
}

test(`120,000 random, mutated, broken and structure-aware packets into handleQuery (seed ${SEED})`, () => {
  const engine = server.engine;
  const peer = { address: '127.0.0.1', port: 5353, transport: 'udp' as const };
  const counts = { random: 0, mutated: 0, broken: 0, structured: 0, formerr: 0, dropped: 0 };
  for (let i = 0; i < 120_000; i++) {
    const { input, kind, mustFail } = fuzz.next(i);
    const out = engine.handleQuery(input, peer);
    checkResponse(input, out, mustFail);
    counts[kind]++;
    if (out === null) counts.dropped++;
    else if ((out[3] & 0x0f) === 1) counts.formerr++;
    if (i % 20_000 === 0) assertStillAnswers(engine);
  }
  process.stdout.write(`# fuzz: ${JSON.stringify(counts)}\n`);
  assertStillAnswers(engine);
});

test('a sample of the same over real UDP and TCP sockets, then kdig gets a right answer', async (t) => {
  const port = Number(server.udp[0].split(':').pop());
  const udp = createSocket('udp4');
  let replies = 0;
  udp.on('message', () => replies++);
  await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
  for (let i = 0; i < 3000; i++) {
    const input = i % 2 ? mutated() : hostile(i);
    udp.send(input, port, '127.0.0.1');
    if (i % 200 === 0) await new Promise((r) => setTimeout(r, 5));
  }
  await new Promise((r) => setTimeout(r, 300));
  udp.close();
  t.diagnostic(`udp: 3000 sent, ${replies} answered`);

  // TCP: frames with lying lengths and garbage, then the connection is dropped by us.
  await new Promise<void>((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      for (let i = 0; i < 300; i++) {
        const body = i % 2 ? mutated() : hostile(i);
        const frame = Buffer.alloc(2 + body.length);
        frame.writeUInt16BE(i % 7 === 0 ? rnd(65536) : body.length, 0);
        body.copy(frame, 2);
        socket.write(frame);
      }
      setTimeout(() => socket.destroy(), 200);
    });
    socket.on('error', () => {});
    socket.on('close', () => resolve());
    socket.resume();
  });

  assertStillAnswers(server.engine);
  if (!requireProgram(t, 'kdig')) return;
  const a = await kdigAsync(port, ['api.example.com', 'A', '+subnet=171.64.0.0/24']);
  assert.deepEqual(addressesOf(a), ['198.51.100.10']);
});

test(`fuzz-dns over real sockets, fixed seed ${SEED}: 100,000 messages through batched UDP, dgram UDP and TCP`, async () => {
  // The same runner as `npm run bench -- fuzz-dns` (1M there), smaller: two `meridian dns` processes,
  // a valid query answered right after every 64 hostile ones, no process exits.
  const r = await runDnsFuzz({ count: 100_000, seed: SEED });
  process.stdout.write(`# fuzz-dns: ${JSON.stringify({ ...r, failures: r.failures.length })}\n`);
  assert.equal(r.crashes, 0, r.failures.join('\n'));
  for (const t of [r.udpBatched, r.udpDgram, r.tcp]) {
    assert.ok(t.probes > 0);
    assert.equal(t.probeFailures, 0);
  }
  assert.equal(r.udpBatched.sent + r.udpDgram.sent + r.tcp.sent, 100_000);
  if (!r.batchedAvailable)
    process.stdout.write('# the native addon is unavailable: batched share went through dgram\n');
});
