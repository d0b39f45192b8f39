// Response-rate limiting by response (NSD, Knot): client network + name class
// + response kind; a fixed bucket table; the limit holds across workers.
// The in-process tests drive a fake clock, so no timing depends on the machine.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { before, test } from 'node:test';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import packet from 'dns-packet';
import { parse, stringify } from 'yaml';
import { type MeridianConfig, parseConfigText, snapshotFromConfig } from '../src/config/index.js';
import { DnsEngine, type Peer } from '../src/dns/handler.js';
import { RateLimiter } from '../src/dns/rate-limit.js';
import { GeoLocator } from '../src/geo/index.js';
import { dnsConfig, metricsText, startDns } from './dns-support.js';

const base = parse(readFileSync('examples/two-regions.yaml', 'utf8'));
const NAMES = 60;
let geo: GeoLocator;
let cfg: MeridianConfig;

before(async () => {
  const doc = structuredClone(base);
  doc.zone.records = [
    ...(doc.zone.records ?? []),
    ...Array.from({ length: NAMES }, (_, i) => ({ name: `h${i}`, type: 'A', values: ['192.0.2.99'] })),
  ];
  doc.dns = { rateLimit: { responsesPerSecond: 1, burst: 5, slip: 0 } };
  const parsed = parseConfigText(stringify(doc), 'rrl.yaml');
  assert.deepEqual(parsed.problems, []);
  cfg = parsed.config!;
  geo = await GeoLocator.open(cfg.geo);
});

function setup(rateLimit: Partial<MeridianConfig['dns']['rateLimit']> = {}) {
  let now = 1_000_000;
  const limiter = new RateLimiter({ ...cfg.dns.rateLimit, ...rateLimit }, { now: () => now });
  const engine = new DnsEngine({ geo, config: cfg, snapshot: snapshotFromConfig(cfg), rateLimiter: limiter });
  return { engine, limiter, tick: (ms: number) => (now += ms) };
}

const udp = (address = '192.0.2.7'): Peer => ({ address, port: 1053, transport: 'udp' });
let id = 0;
function ask(engine: DnsEngine, name: string, type = 'A', peer = udp()) {
  const msg = packet.encode({ id: ++id & 0xffff, type: 'query', questions: [{ name, type: type as 'A' }] });
  const out = engine.handleQuery(msg, peer);
  return out === null ? 'dropped' : out[2] & 0x02 ? 'truncated' : 'answered';
}
const count = (results: string[], what: string) => results.filter((r) => r === what).length;

test('one busy resolver asking many different names is not throttled', () => {
  const { engine } = setup();
  const results: string[] = [];
  for (let round = 0; round < 3; round++)
    for (let i = 0; i < NAMES; i++) results.push(ask(engine, `h${i}.example.com`));
  assert.equal(count(results, 'answered'), 3 * NAMES, 'every name within its own burst of 5');
});

test('one answer repeated to a victim is limited after the burst, other names still answered', () => {
  const { engine, tick } = setup();
  const results = Array.from({ length: 50 }, () => ask(engine, 'www.example.com'));
  assert.equal(count(results, 'answered'), 5);
  assert.equal(count(results, 'dropped'), 45);
  assert.equal(ask(engine, 'h1.example.com'), 'answered');
  // Another /24 is another bucket; the same /24 is the same one.
  assert.equal(ask(engine, 'www.example.com', 'A', udp('192.0.3.7')), 'answered');
  assert.equal(ask(engine, 'www.example.com', 'A', udp('192.0.2.200')), 'dropped');
  // IPv6: the /56 is the network.
  const v6 = (a: string) => ask(engine, 'www.example.com', 'A', udp(a));
  for (let i = 0; i < 5; i++) assert.equal(v6('2001:db8:1:100::1'), 'answered');
  assert.equal(v6('2001:db8:1:1ff::2'), 'dropped', 'same /56');
  assert.equal(v6('2001:db8:1:200::1'), 'answered', 'another /56');
  tick(1000); // one second refills one token at 1/s
  assert.equal(ask(engine, 'www.example.com'), 'answered');
  assert.equal(ask(engine, 'www.example.com'), 'dropped');
});

test('NXDOMAIN for random names counts against the zone, not each name', () => {
  const { engine } = setup();
  const results = Array.from({ length: 100 }, (_, i) => ask(engine, `rnd${i}x${i * 7919}.example.com`));
  assert.equal(count(results, 'answered'), 5);
  // An existing name from the same network is another class.
  assert.equal(ask(engine, 'h2.example.com'), 'answered');
});

test('response kinds are limited apart: answer, nodata, error', () => {
  const { engine } = setup();
  for (let i = 0; i < 5; i++) assert.equal(ask(engine, 'h3.example.com', 'A'), 'answered');
  assert.equal(ask(engine, 'h3.example.com', 'A'), 'dropped');
  assert.equal(ask(engine, 'h3.example.com', 'TXT'), 'answered', 'NODATA is another kind');
  assert.equal(ask(engine, 'elsewhere.test', 'A'), 'answered', 'REFUSED is another kind');
  const refused = Array.from({ length: 20 }, (_, i) => ask(engine, `n${i}.elsewhere${i}.test`));
  assert.equal(count(refused, 'answered'), 4, 'errors share one class per network, whatever the name');
});

test('slip: every Nth limited answer is sent truncated (TC), the rest dropped; TCP is never limited', () => {
  const { engine } = setup({ slip: 2 });
  const results = Array.from({ length: 25 }, () => ask(engine, 'www.example.com'));
  assert.equal(count(results, 'answered'), 5);
  assert.equal(count(results, 'truncated'), 10);
  assert.equal(count(results, 'dropped'), 10);
  const tcp: Peer = { address: '192.0.2.7', port: 5000, transport: 'tcp' };
  for (let i = 0; i < 50; i++) assert.equal(ask(engine, 'www.example.com', 'A', tcp), 'answered');
});

test('the bucket table has a fixed size: 300,000 spoofed sources and names do not grow memory', () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const limiter = new RateLimiter({ ...cfg.dns.rateLimit, tableSize: 1 << 16 });
  const size = limiter.size;
  const heap = () => {
    gc();
    return getHeapStatistics().used_heap_size;
  };
  limiter.check('10.0.0.1', 'warm', 'answer');
  const before = heap();
  for (let i = 0; i < 300_000; i++) {
    const address = `${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}.${i % 7}`;
    limiter.check(address, `\x05n${i}\x07example\x03com\x00`, 'answer');
    limiter.check(`2001:db8:${(i & 0xffff).toString(16)}::1`, 'x', 'nodata');
  }
  const grew = heap() - before;
  assert.equal(limiter.size, size);
  assert.ok(grew < 4 * 1024 * 1024, `heap grew by ${(grew / 1048576).toFixed(1)} MiB`);
});

test('two workers: one source gets the configured rate, not twice it (real UDP over loopback)', async () => {
  // burst 20, 1/s: the whole server may answer 20 plus 1 a second. Each of two workers allows 10 + 0.5/s.
  const { file } = await dnsConfig((doc) => {
    doc.dns = { rateLimit: { responsesPerSecond: 1, burst: 20, slip: 0 } };
  });
  const server = await startDns(file, ['--listen', '127.0.0.1:0', '--workers', '2']);
  try {
    const socket = createSocket('udp4');
    let answered = 0;
    socket.on('message', () => answered++);
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
    const q = packet.encode({ id: 1, type: 'query', questions: [{ name: 'www.example.com', type: 'A' }] });
    const started = Date.now();
    // Bursts with pauses, so both workers are reading when queries arrive.
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 40; i++) socket.send(q, server.port, '127.0.0.1');
      await new Promise((r) => setTimeout(r, 25));
    }
    await new Promise((r) => setTimeout(r, 500));
    const seconds = (Date.now() - started) / 1000;
    socket.close();
    const text = await metricsText(server.admin);
    const total = [...text.matchAll(/^meridian_dns_(?:queries|dropped)_total(?:\{[^}]*\})? (\d+)/gm)].reduce(
      (n, m) => n + Number(m[1]),
      0,
    );
    // Scaled by the time the run took (a slow machine refills more): never 2 x burst.
    const allowed = 20 + Math.ceil(seconds * 1) + 1;
    assert.ok(answered >= 10, `answered ${answered}`);
    assert.ok(
      answered <= allowed,
      `answered ${answered} in ${seconds.toFixed(1)} s; at most ${allowed} allowed`,
    );
    assert.ok(total >= 400, `the workers saw the queries (${total})`);
  } finally {
    assert.equal(await server.stop(), 0);
  }
});
