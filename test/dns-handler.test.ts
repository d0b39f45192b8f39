// handleQuery in process (no socket): table tests of what the zone answers.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, test } from 'node:test';
import packet from 'dns-packet';
import { parse } from 'yaml';
import { snapshotFromConfig } from '../src/config/index.js';
import { DnsEngine, type Peer } from '../src/dns/handler.js';
import { isInZone, nameToWire, parseQuery } from '../src/dns/wire.js';
import { isMeridianError } from '../src/errors.js';
import { GeoLocator } from '../src/geo/index.js';
import { addEurope, exampleConfig } from './dns-support.js';

let geo: GeoLocator;
const base = parse(readFileSync('examples/two-regions.yaml', 'utf8'));

const config = exampleConfig;

function engine(cfg = config()) {
  return new DnsEngine({ geo, config: cfg, snapshot: snapshotFromConfig(cfg) });
}

const udp = (address = '127.0.0.1'): Peer => ({ address, port: 1053, transport: 'udp' });

function ask(
  e: DnsEngine,
  name: string,
  type: string,
  opts: { ecs?: string; peer?: Peer; response?: boolean } = {},
) {
  const [ip, prefix] = (opts.ecs ?? '').split('/');
  const msg = packet.encode({
    id: 99,
    type: opts.response ? 'response' : 'query',
    questions: [{ name, type: type as packet.RecordType }],
    additionals: opts.ecs
      ? [
          {
            type: 'OPT',
            name: '.',
            udpPayloadSize: 1232,
            options: [
              {
                code: 8,
                family: ip.includes(':') ? 2 : 1,
                sourcePrefixLength: Number(prefix),
                scopePrefixLength: 0,
                ip,
              },
            ],
          } as unknown as packet.Answer,
        ]
      : [],
  });
  const out = e.handleQuery(msg, opts.peer ?? udp());
  return out === null ? null : (packet.decode(out) as unknown as packet.Packet & { rcode: string });
}

const data = (p: packet.Packet | null) => (p?.answers ?? []).map((a) => ('data' in a ? a.data : null));

before(async () => {
  geo = await GeoLocator.open({});
});

test('answers by client location: ECS first, else the source address (IPv4 and IPv6)', () => {
  const e = engine();
  assert.deepEqual(data(ask(e, 'api.example.com', 'A', { ecs: '171.64.0.0/24' })), ['198.51.100.10']);
  assert.deepEqual(data(ask(e, 'api.example.com', 'A', { peer: udp('171.64.1.1') })), ['198.51.100.10']);
  assert.deepEqual(data(ask(e, 'api.example.com', 'A', { peer: udp('128.59.1.1') })), ['192.0.2.10']);
  // Stanford's 2607:f6d0::/32 is in California: us-west-2.
  assert.deepEqual(data(ask(e, 'api.example.com', 'AAAA', { ecs: '2607:f6d0::/32' })), ['2001:db8:2::10']);
  // Loopback has no location: the default region.
  assert.deepEqual(data(ask(e, 'api.example.com', 'AAAA', { peer: udp('::1') })), ['2001:db8:1::10']);
});

test('a region without addresses of the asked family is skipped for the next candidate', () => {
  const e = engine(
    config((doc) => {
      doc.regions[1].addresses = { ipv4: ['198.51.100.10'] };
    }),
  );
  assert.deepEqual(data(ask(e, 'api.example.com', 'AAAA', { ecs: '171.64.0.0/24' })), ['2001:db8:1::10']);
});

test('with one region nothing depends on location: ECS scope 0', () => {
  const e = engine(
    config((doc) => {
      doc.regions = [doc.regions[0]];
      doc.services[0].origins = [doc.services[0].origins[0]];
      doc.steering = {};
    }),
  );
  const r = ask(e, 'api.example.com', 'A', { ecs: '171.64.0.0/24' })!;
  const opt = r.additionals?.find((a) => a.type === 'OPT') as unknown as {
    options: { scopePrefixLength: number }[];
  };
  assert.equal(opt.options[0].scopePrefixLength, 0);
});

test('the explanation name answers only while dns.explain is on', () => {
  assert.equal(ask(engine(), '_meridian.api.example.com', 'TXT', { ecs: '171.64.0.0/24' })?.rcode, 'NOERROR');
  const off = engine(
    config((doc) => {
      doc.dns = { explain: false };
    }),
  );
  assert.equal(ask(off, '_meridian.api.example.com', 'TXT')?.rcode, 'NXDOMAIN');
});

test('what is not answered: responses dropped, zone transfers, other classes and OPT questions refused', () => {
  const e = engine();
  assert.equal(ask(e, 'api.example.com', 'A', { response: true }), null);
  assert.equal(ask(e, 'example.com', 'AXFR')?.rcode, 'REFUSED');
  assert.equal(ask(e, 'example.com', 'OPT')?.rcode, 'REFUSED');
  const chaos = packet.encode({
    id: 5,
    type: 'query',
    questions: [{ name: 'version.bind', type: 'TXT', class: 'CH' }],
  });
  assert.equal(
    (packet.decode(e.handleQuery(chaos, udp())!) as unknown as { rcode: string }).rcode,
    'REFUSED',
  );
});

test('ANY at a steered name gives its A and AAAA for the chosen region', () => {
  const r = ask(engine(), 'api.example.com', 'ANY', { ecs: '128.59.0.0/24' });
  assert.deepEqual(data(r).sort(), ['192.0.2.10', '2001:db8:1::10']);
});

test('load() swaps config and snapshot: the next query sees them', () => {
  const cfg = config();
  const e = engine(cfg);
  assert.deepEqual(data(ask(e, 'api.example.com', 'A', { ecs: '128.59.0.0/24' })), ['192.0.2.10']);
  e.load(cfg, snapshotFromConfig(cfg, { version: 2, health: new Map([['us-east-1', 'DOWN']]) }));
  assert.deepEqual(data(ask(e, 'api.example.com', 'A', { ecs: '128.59.0.0/24' })), ['198.51.100.10']);
  const soa = ask(e, 'example.com', 'SOA')?.answers?.[0] as unknown as { data: { serial: number } };
  assert.equal(soa.data.serial, 2);
});

test('a zone that cannot be served is refused with CONFIG_INVALID', () => {
  const cases = [
    { name: 'A record on a service hostname', records: [{ name: 'api', type: 'A', values: ['192.0.2.1'] }] },
    { name: 'CNAME at the apex', records: [{ name: '@', type: 'CNAME', values: ['elsewhere.org'] }] },
  ];
  for (const c of cases) {
    assert.throws(
      () => engine(config((doc) => (doc.zone.records = c.records))),
      (e: unknown) => isMeridianError(e) && e.code === 'CONFIG_INVALID',
      c.name,
    );
  }
});

test('wire helpers: zone membership on label boundaries; question parsing lower-cases the key', () => {
  const apex = nameToWire('example.com');
  assert.equal(isInZone(nameToWire('a.example.com'), apex), true);
  assert.equal(isInZone(nameToWire('example.com'), apex), true);
  assert.equal(isInZone(nameToWire('badexample.com'), apex), false);
  const q = parseQuery(
    packet.encode({ id: 1, type: 'query', questions: [{ name: 'WwW.ExAmple.COM', type: 'A' }] }),
  );
  assert.ok('key' in q);
  assert.equal(q.key, nameToWire('www.example.com'));
});

// steering.answers: home (one region) or home+fallback (the chosen region's addresses, then the next usable one's).
const fallbackPolicy = (edit: (doc: typeof base) => void = () => {}) =>
  config((doc) => {
    doc.steering.answers = 'home+fallback';
    edit(doc);
  });
const txt = (p: packet.Packet | null) =>
  (p?.answers ?? []).flatMap((a) => ('data' in a ? (a.data as Buffer[]).map(String) : []));

test('steering.answers home (the default) answers one region; home+fallback adds the next region after it', () => {
  const home = engine();
  assert.deepEqual(data(ask(home, 'api.example.com', 'A', { ecs: '128.59.0.0/24' })), ['192.0.2.10']);
  const both = engine(fallbackPolicy());
  assert.deepEqual(data(ask(both, 'api.example.com', 'A', { ecs: '128.59.0.0/24' })), [
    '192.0.2.10',
    '198.51.100.10',
  ]);
  assert.deepEqual(data(ask(both, 'api.example.com', 'A', { ecs: '171.64.0.0/24' })), [
    '198.51.100.10',
    '192.0.2.10',
  ]);
  assert.deepEqual(data(ask(both, 'api.example.com', 'AAAA', { ecs: '2607:f6d0::/32' })), [
    '2001:db8:2::10',
    '2001:db8:1::10',
  ]);
  // Asked again (the compiled answer is reused), the order is the same.
  for (let i = 0; i < 3; i++)
    assert.deepEqual(data(ask(both, 'api.example.com', 'A', { ecs: '128.59.0.0/24' })), [
      '192.0.2.10',
      '198.51.100.10',
    ]);
});

test('home+fallback: a DOWN or dialled-to-0 region is never the fallback; the next one is, or none', () => {
  const cfg = fallbackPolicy(addEurope);
  const stanford = { ecs: '171.64.0.0/24' };
  const e = new DnsEngine({ geo, config: cfg, snapshot: snapshotFromConfig(cfg) });
  assert.deepEqual(data(ask(e, 'api.example.com', 'A', stanford)), ['198.51.100.10', '192.0.2.10']);
  // A new snapshot (as control sends) marks us-east-1 DOWN: Europe is the fallback now.
  e.load(cfg, snapshotFromConfig(cfg, { version: 2, health: new Map([['us-east-1', 'DOWN']]) }));
  assert.deepEqual(data(ask(e, 'api.example.com', 'A', stanford)), ['198.51.100.10', '203.0.113.10']);
  assert.match(txt(ask(e, '_meridian.api.example.com', 'TXT', stanford)).join(' '), /fallback=eu-west-1/);
  // Evacuated (dial 0) is no fallback either.
  e.load(cfg, snapshotFromConfig(cfg, { version: 3, dials: new Map([['us-east-1', 0]]) }));
  assert.deepEqual(data(ask(e, 'api.example.com', 'A', stanford)), ['198.51.100.10', '203.0.113.10']);
  // Nothing else up: home only.
  const down = new Map([
    ['us-east-1', 'DOWN' as const],
    ['eu-west-1', 'DOWN' as const],
  ]);
  e.load(cfg, snapshotFromConfig(cfg, { version: 4, health: down }));
  assert.deepEqual(data(ask(e, 'api.example.com', 'A', stanford)), ['198.51.100.10']);
  assert.match(txt(ask(e, '_meridian.api.example.com', 'TXT', stanford)).join(' '), /fallback=none/);
});

test('the explanation says which policy answered and which fallback was added', () => {
  const columbia = { ecs: '128.59.0.0/24' };
  const home = txt(ask(engine(), '_meridian.api.example.com', 'TXT', columbia));
  assert.ok(home.includes('answers=home'), home.join(' | '));
  const both = txt(ask(engine(fallbackPolicy()), '_meridian.api.example.com', 'TXT', columbia));
  assert.ok(both.includes('answers=home+fallback fallback=us-west-2'), both.join(' | '));
});

test('home+fallback: ANY lists both families, each home first', () => {
  const r = ask(engine(fallbackPolicy()), 'api.example.com', 'ANY', { ecs: '128.59.0.0/24' });
  assert.deepEqual(data(r), ['192.0.2.10', '198.51.100.10', '2001:db8:1::10', '2001:db8:2::10']);
});

test("services[].ttl and answers: a CNAME to a service answers with that service's TTL and policy", () => {
  const e = engine(
    config((doc) => {
      doc.services.push({
        ...doc.services[0],
        name: 'www',
        hostname: 'www.example.com',
        ttl: 5,
        answers: 'home+fallback',
      });
      doc.zone.records = [{ name: 'docs', type: 'CNAME', values: ['www.example.com'] }];
    }),
  );
  const columbia = { ecs: '128.59.0.0/24' };
  const via = ask(e, 'docs.example.com', 'A', columbia);
  assert.deepEqual(data(via), ['www.example.com', '192.0.2.10', '198.51.100.10']);
  assert.deepEqual(
    via?.answers?.map((a) => ('ttl' in a ? a.ttl : null)),
    [300, 5, 5],
  );
  // The same network asked for the other service: its own (zone's) TTL and home alone.
  const api = ask(e, 'api.example.com', 'A', columbia);
  assert.deepEqual(data(api), ['192.0.2.10']);
  assert.deepEqual(
    api?.answers?.map((a) => ('ttl' in a ? a.ttl : null)),
    [30],
  );
});
