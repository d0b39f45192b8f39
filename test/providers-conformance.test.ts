// One suite, every provider (hono's shared router suite, for us): put replaces
// idempotently, delete by name/type/qualifier, list only the names asked.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BuiltinProvider } from '../src/providers/memory.js';
import { type DnsProvider, normalize, type RecordSet } from '../src/providers/model.js';
import { PowerDnsProvider } from '../src/providers/powerdns.js';
import { Rfc2136Provider } from '../src/providers/rfc2136.js';
import { Route53Provider } from '../src/providers/route53.js';
import { findProgram } from './helpers/programs.js';
import { CREDENTIALS, startFakeRoute53 } from './providers-route53-fake.js';
import { startKnot, startNamed, startPdns, tsigSecret, ZONE } from './providers-servers.js';

interface Subject {
  name: string;
  program?: string;
  start(): Promise<{ provider: DnsProvider; close(): Promise<void> }>;
}

const tsig = { name: 'meridian-key', algorithm: 'hmac-sha256', secret: tsigSecret() };
const subjects: Subject[] = [
  { name: 'builtin', start: async () => ({ provider: new BuiltinProvider([ZONE]), close: async () => {} }) },
  {
    name: 'powerdns',
    program: 'pdns_server',
    start: async () => {
      const s = await startPdns(findProgram('pdns_server')!);
      return { provider: new PowerDnsProvider({ apiUrl: s.apiUrl, apiKey: s.apiKey }), close: s.close };
    },
  },
  {
    name: 'rfc2136 (named)',
    program: 'named',
    start: async () => {
      const s = await startNamed(findProgram('named')!, tsig.secret);
      return { provider: new Rfc2136Provider({ server: `127.0.0.1:${s.port}`, tsig }), close: s.close };
    },
  },
  {
    name: 'rfc2136 (knotd)',
    program: 'knotd',
    start: async () => {
      const s = await startKnot(findProgram('knotd')!, tsig.secret);
      return { provider: new Rfc2136Provider({ server: `127.0.0.1:${s.port}`, tsig }), close: s.close };
    },
  },
  {
    name: 'route53 (loopback stand-in)',
    start: async () => {
      const fake = await startFakeRoute53({ ZCONFORM: ZONE });
      const provider = new Route53Provider({
        hostedZoneId: 'ZCONFORM',
        endpoint: fake.endpoint,
        credentials: CREDENTIALS,
        maxAttempts: 1,
        pollMs: 5,
      });
      return {
        provider,
        close: async () => {
          await provider.close();
          await fake.close();
        },
      };
    },
  },
];

const api = 'api.example.com';
const names = [api, 'www.example.com', 'example.com'];
const sorted = (sets: RecordSet[]) =>
  sets.map(normalize).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

for (const subject of subjects) {
  test(`conformance: ${subject.name}`, async (t) => {
    if (subject.program && !findProgram(subject.program)) {
      if (process.env.CI === 'true') throw new Error(`${subject.program} is not installed`);
      return t.skip(`${subject.program} is not installed`);
    }
    const { provider, close } = await subject.start();
    t.after(close);
    const put = (...sets: RecordSet[]) =>
      provider.apply(
        ZONE,
        sets.map((recordSet) => ({ action: 'put', recordSet })),
      );
    const list = async () => sorted(await provider.list(ZONE, names));

    const a: RecordSet = { name: api, type: 'A', ttl: 30, records: ['192.0.2.10', '198.51.100.10'] };
    const txt: RecordSet = { name: api, type: 'TXT', ttl: 60, records: ['meridian "steered" v1'] };
    const mx: RecordSet = { name: 'example.com', type: 'MX', ttl: 300, records: ['10 mx.example.net'] };
    const cname: RecordSet = {
      name: 'www.example.com',
      type: 'CNAME',
      ttl: 300,
      records: ['api.example.com'],
    };
    await put(a, txt, mx, cname);
    assert.deepEqual(await list(), sorted([a, txt, mx, cname]));
    assert.deepEqual(await provider.list(ZONE, ['nothing.example.com']), [], 'only the names asked');

    await put(a, txt);
    assert.deepEqual(await list(), sorted([a, txt, mx, cname]), 'put again: same state');
    const a2 = { ...a, ttl: 20, records: ['198.51.100.10'] };
    await put(a2);
    assert.deepEqual(await list(), sorted([a2, txt, mx, cname]), 'put replaces the whole set');

    await provider.apply(ZONE, [{ action: 'delete', name: api, type: 'TXT' }]);
    assert.deepEqual(await list(), sorted([a2, mx, cname]), 'delete by name and type');

    const steering = provider.capabilities.steering;
    if (steering.includes('weighted')) {
      const w = (q: string, weight: number, ip: string): RecordSet => ({
        name: api,
        type: 'A',
        qualifier: q,
        ttl: 30,
        records: [ip],
        profile: { kind: 'weighted', weight },
      });
      await provider.apply(ZONE, [{ action: 'delete', name: api, type: 'A' }]);
      await put(w('east', 30, '192.0.2.10'), w('west', 70, '198.51.100.10'));
      assert.deepEqual(
        await list(),
        sorted([w('east', 30, '192.0.2.10'), w('west', 70, '198.51.100.10'), mx, cname]),
      );
      await provider.apply(ZONE, [{ action: 'delete', name: api, type: 'A', qualifier: 'east' }]);
      assert.deepEqual(
        await list(),
        sorted([w('west', 70, '198.51.100.10'), mx, cname]),
        'delete by qualifier',
      );
      await provider.apply(ZONE, [{ action: 'delete', name: api, type: 'A', qualifier: 'west' }]);
    }
    if (steering.includes('geo')) {
      const g = (q: string, territories: string[], ip: string): RecordSet => ({
        name: api,
        type: 'A',
        qualifier: q,
        ttl: 30,
        records: [ip],
        profile: { kind: 'geo', territories },
      });
      const west = g('west', ['US-CA', 'US-OR'], '198.51.100.10');
      const rest = g('default', ['*'], '192.0.2.10');
      await provider.apply(ZONE, [{ action: 'delete', name: api, type: 'A' }]);
      await put(west, rest);
      assert.deepEqual(await list(), sorted([west, rest, mx, cname]));
      const fewer = g('west', ['US-CA'], '198.51.100.10');
      await put(fewer);
      assert.deepEqual(await list(), sorted([fewer, rest, mx, cname]), 'a geo set loses a territory');
    }
  });
}
