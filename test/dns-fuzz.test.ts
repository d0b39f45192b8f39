// Bad input: well over 100,000 random, mutated and hand-broken packets into
// handleQuery in process, then a sample over real UDP and TCP sockets. The
// server never throws or hangs, answers FORMERR (or drops), and still answers
// a valid query correctly afterwards.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import packet from 'dns-packet';
import { loadConfig } from '../src/config/index.js';
import type { DnsEngine } from '../src/dns/handler.js';
import { type DnsServer, startDnsServer } from '../src/dns/server.js';
import { FileSnapshotSource } from '../src/feed/index.js';
import { GeoLocator } from '../src/geo/index.js';
import { createLogger } from '../src/log.js';
import { addressesOf, dnsConfig, kdigAsync } from './dns-support.js';
import { requireProgram } from './helpers/programs.js';

const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed);
let state = SEED >>> 0 || 1;
/** xorshift32: the same packets every run for a given FUZZ_SEED. */
function rnd(n: number): number {
  state ^= state << 13;
  state >>>= 0;
  state ^= state >>> 17;
  state ^= state << 5;
  state >>>= 0;
  return state % n;
}
const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => rnd(256)));

function validQuery(id: number, name = 'api.example.com', ecs = true): Buffer {
  return packet.encode({
    id,
    type: 'query',
    flags: packet.RECURSION_DESIRED,
    questions: [{ name, type: 'A' }],
    additionals: ecs
      ? [
          {
            type: 'OPT',
            name: '.',
            udpPayloadSize: 1232,
            options: [{ code: 8, family: 1, sourcePrefixLength: 24, scopePrefixLength: 0, ip: '171.64.0.0' }],
          } as unknown as packet.Answer,
        ]
      : [],
  });
}

const header = (qd: number, an: number, ns: number, ar: number) =>
  Buffer.from([
    rnd(256),
    rnd(256),
    0x01,
    0x00,
    qd >> 8,
    qd & 255,
    an >> 8,
    an & 255,
    ns >> 8,
    ns & 255,
    ar >> 8,
    ar & 255,
  ]);
const question = Buffer.from('\x03api\x07example\x03com\x00\x00\x01\x00\x01', 'latin1');

/** Packets that are malformed by construction: the only right answers are FORMERR or silence. */
const broken: (() => Buffer)[] = [
  // A header cut short, or a question cut anywhere.
  () => header(1, 0, 0, 0).subarray(0, rnd(12)),
  () => Buffer.concat([header(1, 0, 0, 0), question.subarray(0, rnd(question.length))]),
  // A label length running past the end.
  () => Buffer.concat([header(1, 0, 0, 0), Buffer.from([63 - rnd(10)]), bytes(rnd(20))]),
  // A compression pointer in the question (a loop to itself at offset 12).
  () => Buffer.concat([header(1, 0, 0, 0), Buffer.from([0xc0, 0x0c, 0, 1, 0, 1])]),
  // Counts that lie: more records announced than present.
  () => Buffer.concat([header(1, 0, 0, 1 + rnd(60000)), question]),
  () => Buffer.concat([header(2 + rnd(100), 0, 0, 0), question]),
  // An additional record whose name is a pointer loop and whose data runs off the end.
  () =>
    Buffer.concat([
      header(1, 0, 0, 1),
      question,
      Buffer.from([0xc0, 29, 0, 41, 0x10, 0, 0, 0, 0, 0, 0xff, 0xff]),
    ]),
  // A huge OPT: rdlength 65535, a few bytes present; or options whose lengths overrun the record.
  () =>
    Buffer.concat([
      header(1, 0, 0, 1),
      question,
      Buffer.from([0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0xff, 0xff]),
      bytes(rnd(200)),
    ]),
  () => {
    const opts = Buffer.from([0, 8, 0xff, 0xf0, 0, 1, 24, 0]);
    const rr = Buffer.from([0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, opts.length]);
    return Buffer.concat([header(1, 0, 0, 1), question, rr, opts]);
  },
  // Two OPT records.
  () => {
    const opt = Buffer.from([0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0]);
    return Buffer.concat([header(1, 0, 0, 2), question, opt, opt]);
  },
  // ECS with a bad family, a too-long prefix, a non-zero scope, or stray address bits.
  () => {
    const ecs = [
      [0, 3, 24, 0, 1, 2, 3],
      [0, 1, 40, 0, 1, 2, 3, 4, 5],
      [0, 1, 24, 8, 171, 64, 0],
      [0, 1, 23, 0, 171, 64, 1],
    ][rnd(4)];
    const body = Buffer.from([0, 8, 0, ecs.length, ...ecs]);
    const rr = Buffer.from([0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, body.length]);
    return Buffer.concat([header(1, 0, 0, 1), question, rr, body]);
  },
];

function mutated(): Buffer {
  const q = Buffer.from(validQuery(rnd(65536), 'api.example.com', rnd(2) === 0));
  const kind = rnd(4);
  if (kind === 0) for (let i = 0, n = 1 + rnd(4); i < n; i++) q[rnd(q.length)] = rnd(256);
  if (kind === 1) return q.subarray(0, rnd(q.length));
  if (kind === 2) return Buffer.concat([q, bytes(rnd(64))]);
  if (kind === 3) q[rnd(12)] ^= 1 << rnd(8);
  return q;
}

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

test(`120,000 random, mutated and broken packets into handleQuery (seed ${SEED})`, () => {
  const engine = server.engine;
  const peer = { address: '127.0.0.1', port: 5353, transport: 'udp' as const };
  const counts = { random: 0, mutated: 0, broken: 0, formerr: 0, dropped: 0 };
  for (let i = 0; i < 120_000; i++) {
    const which = i % 3;
    const input = which === 0 ? bytes(rnd(600)) : which === 1 ? mutated() : broken[rnd(broken.length)]();
    const out = engine.handleQuery(input, peer);
    checkResponse(input, out, which === 2 && input.length >= 12);
    counts[which === 0 ? 'random' : which === 1 ? 'mutated' : 'broken']++;
    if (out === null) counts.dropped++;
    else if ((out[3] & 0x0f) === 1) counts.formerr++;
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
    const input = i % 2 ? mutated() : broken[rnd(broken.length)]();
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
        const body = i % 2 ? mutated() : broken[rnd(broken.length)]();
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
