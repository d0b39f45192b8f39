// The response cache (src/dns/response-cache.ts): a repeated UDP query is
// answered with the same bytes a fresh engine builds, whoever asks, through
// handleQuery and through the batched loop's answerInto; answers that depend
// on the asker (source-address steering, untrusted ECS) are never shared.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import packet from 'dns-packet';
import { snapshotFromConfig } from '../src/config/index.js';
import { DnsEngine, type Peer } from '../src/dns/handler.js';
import { DnsMetrics } from '../src/dns/metrics.js';
import { GeoLocator } from '../src/geo/index.js';
import { exampleConfig } from './dns-support.js';

let geo: GeoLocator;

before(async () => {
  geo = await GeoLocator.open({});
});

const config = exampleConfig;

const engine = (cfg = config(), metrics?: DnsMetrics) =>
  new DnsEngine({ geo, config: cfg, snapshot: snapshotFromConfig(cfg), metrics });
const udp = (address = '192.0.2.7'): Peer => ({ address, port: 1053, transport: 'udp' });

interface Ask {
  name: string;
  type: string;
  ecs?: string;
  edns?: boolean;
  version?: number;
}

function query(a: Ask, id: number): Buffer {
  const [ip, prefix] = (a.ecs ?? '').split('/');
  const options = a.ecs
    ? [
        {
          code: 8,
          family: ip.includes(':') ? 2 : 1,
          sourcePrefixLength: Number(prefix),
          scopePrefixLength: 0,
          ip,
        },
      ]
    : [];
  const opt = { type: 'OPT', name: '.', udpPayloadSize: 1232, options };
  const msg = Buffer.from(
    packet.encode({
      id,
      type: 'query',
      flags: packet.RECURSION_DESIRED,
      questions: [{ name: a.name, type: a.type as packet.RecordType }],
      additionals: a.ecs || a.edns ? [opt as unknown as packet.Answer] : [],
    }),
  );
  // The EDNS version: the OPT record's second TTL byte, after the header, the question and OPT's owner, type and class.
  if (a.version) msg[12 + a.name.length + 2 + 4 + 6] = a.version;
  return msg;
}

const ASKS: Ask[] = [
  { name: 'api.example.com', type: 'A', ecs: '171.64.0.0/24' },
  { name: 'API.Example.com', type: 'A', ecs: '171.64.0.0/24' },
  { name: 'api.example.com', type: 'AAAA', ecs: '128.59.0.0/24' },
  { name: 'api.example.com', type: 'AAAA', ecs: '2607:f6d0::/32' },
  { name: 'api.example.com', type: 'A', ecs: '171.64.0.0/0' },
  { name: 'api.example.com', type: 'ANY', ecs: '171.64.0.0/24' },
  { name: 'api.example.com', type: 'A' },
  { name: 'api.example.com', type: 'A', edns: true },
  { name: '_meridian.api.example.com', type: 'TXT', ecs: '128.59.0.0/24' },
  { name: 'example.com', type: 'SOA', ecs: '171.64.0.0/24' },
  { name: 'example.com', type: 'NS' },
  { name: 'nope.example.com', type: 'A', ecs: '171.64.0.0/24' },
  { name: 'api.example.com', type: 'MX', ecs: '171.64.0.0/24' },
  { name: 'www.example.org', type: 'A', ecs: '171.64.0.0/24' },
  { name: 'api.example.com', type: 'A', ecs: '171.64.0.0/24', version: 1 },
];

const data = (r: packet.Answer) => ('data' in r ? r.data : null);

/** The batched loop's path: the query inside a larger buffer, the answer into a slot. */
function viaSlot(e: DnsEngine, msg: Buffer, peer: Peer): Buffer | null {
  const input = Buffer.alloc(8192, 0xee);
  const output = Buffer.alloc(8192, 0xee);
  msg.copy(input, 4096);
  const n = e.answerInto(input, 4096, 4096 + msg.length, peer, output, 4096, 4096);
  return n < 0 ? null : Buffer.from(output.subarray(4096, 4096 + n));
}

test('a repeated query gets the bytes a fresh engine builds, by handleQuery and by answerInto', () => {
  const peers = [udp('171.64.1.1'), udp('128.59.1.1'), udp('::1')];
  const cached = engine();
  for (const a of ASKS) {
    for (let round = 0; round < 3; round++) {
      for (const peer of peers) {
        const id = (round * 7919 + peers.indexOf(peer) * 31) & 0xffff;
        const want = engine().handleQuery(query(a, id), peer);
        assert.deepEqual(
          cached.handleQuery(query(a, id), peer),
          want,
          `${a.name} ${a.type} ${a.ecs} ${peer.address}`,
        );
        assert.deepEqual(
          viaSlot(cached, query(a, id), peer),
          want,
          `slot: ${a.name} ${a.type} ${peer.address}`,
        );
      }
    }
  }
});

test('an answer steered by the source address is not given to another network', () => {
  const e = engine();
  const a = (peer: Peer) => {
    const out = e.handleQuery(query({ name: 'api.example.com', type: 'A' }, 1), peer)!;
    return (packet.decode(out).answers ?? []).map(data);
  };
  assert.deepEqual(a(udp('171.64.1.1')), ['198.51.100.10']);
  assert.deepEqual(a(udp('128.59.1.1')), ['192.0.2.10']);
  assert.deepEqual(a(udp('171.64.1.1')), ['198.51.100.10']);
});

test('with dns.ecs.trustFrom, an answer cached for a trusted resolver is not given to a stranger', () => {
  const e = engine(config((doc) => (doc.dns = { ecs: { trustFrom: ['192.0.2.0/24'] } })));
  const ask = (address: string) => {
    const out = e.handleQuery(
      query({ name: 'api.example.com', type: 'A', ecs: '171.64.0.0/24' }, 2),
      udp(address),
    )!;
    const p = packet.decode(out);
    const opt = p.additionals?.find((r) => r.type === 'OPT') as unknown as { options: { code: number }[] };
    return { a: (p.answers ?? []).map(data), ecs: opt.options.some((o) => o.code === 8) };
  };
  for (let i = 0; i < 2; i++) {
    assert.deepEqual(ask('192.0.2.53'), { a: ['198.51.100.10'], ecs: true });
    // Columbia's network asking with Stanford's subnet: steered by its own address, no ECS echoed.
    assert.deepEqual(ask('128.59.1.1'), { a: ['192.0.2.10'], ecs: false });
  }
});

test('a reload empties the cache: the next answer follows the new snapshot', () => {
  const e = engine();
  const ask = () => (packet.decode(e.handleQuery(query(ASKS[0], 3), udp())!).answers ?? []).map(data);
  assert.deepEqual(ask(), ['198.51.100.10']);
  const down = config((doc) => {
    doc.regions.find((r: { id: string }) => r.id === 'us-west-2').health = 'DOWN';
  });
  e.load(down, snapshotFromConfig(down));
  assert.deepEqual(ask(), ['192.0.2.10']);
});

test('cached answers are counted in metrics as built ones are', async () => {
  const metrics = new DnsMetrics();
  const e = engine(config(), metrics);
  for (let i = 0; i < 3; i++) e.handleQuery(query(ASKS[0], i), udp());
  viaSlot(e, query(ASKS[0], 9), udp());
  e.handleQuery(query(ASKS[14], 4), udp());
  e.handleQuery(query(ASKS[14], 5), udp());
  const text = await metrics.registry.metrics();
  assert.match(text, /meridian_dns_queries_total\{qtype="A",rcode="NOERROR",transport="udp"\} 4/);
  assert.match(text, /meridian_dns_queries_total\{qtype="A",rcode="BADVERS",transport="udp"\} 2/);
  assert.match(text, /meridian_dns_answers_total\{region="us-west-2"\} 4/);
  assert.match(text, /meridian_dns_query_duration_seconds_count 6/);
});
