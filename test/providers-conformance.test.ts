// One suite, every provider (hono's shared router suite, for us): put replaces
// idempotently, delete by name/type/qualifier, list only the names asked; and
// dns sync's ownership, idempotence and drift repair.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig, type MeridianConfig, snapshotFromConfig } from '../src/config/index.js';
import type { Held } from '../src/providers/drift.js';
import { BuiltinProvider } from '../src/providers/memory.js';
import { type DnsProvider, normalize, type RecordSet } from '../src/providers/model.js';
import { PowerDnsProvider } from '../src/providers/powerdns.js';
import { Rfc2136Provider } from '../src/providers/rfc2136.js';
import { Route53Provider } from '../src/providers/route53.js';
import { syncAndHold } from '../src/providers/sync.js';
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

// `dns sync` over every provider: a foreign record survives every sync,
// a second sync changes nothing, and a change made behind Meridian's back is
// reported as drift and repaired.
const owned = loadConfig('examples/two-regions.yaml');
const withStatic: MeridianConfig = {
  ...owned,
  zone: {
    ...owned.zone,
    records: [
      { name: '@', type: 'MX', values: [{ preference: 10, exchange: 'mx.example.net' }] },
      { name: 'legacy', type: 'A', values: ['192.0.2.200'] },
    ],
  },
} as MeridianConfig;

for (const subject of subjects) {
  test(`conformance: dns sync owns only its names on ${subject.name}`, async (t) => {
    if (subject.program && !findProgram(subject.program)) {
      if (process.env.CI === 'true') throw new Error(`${subject.program} is not installed`);
      return t.skip(`${subject.program} is not installed`);
    }
    const { provider, close } = await subject.start();
    t.after(close);
    const foreignApex: RecordSet = { name: ZONE, type: 'TXT', ttl: 300, records: ['v=spf1 -all'] };
    const foreignLegacy: RecordSet = {
      name: 'legacy.example.com',
      type: 'A',
      ttl: 300,
      records: ['203.0.113.7'],
    };
    const foreignNames = [ZONE, 'legacy.example.com'];
    await provider.apply(ZONE, [
      { action: 'put', recordSet: foreignApex },
      { action: 'put', recordSet: foreignLegacy },
    ]);
    const foreignNow = async () => sorted(await provider.list(ZONE, foreignNames));
    const snapshot = snapshotFromConfig(withStatic, { version: 1 });
    const sync = (held?: Held, snap = snapshot) =>
      syncAndHold({
        provider,
        config: withStatic,
        snapshot: snap,
        steering: 'plain',
        owner: 'conformance',
        held,
      });

    const first = await sync();
    assert.deepEqual(first.result.leftAlone.map((l) => l.name).sort(), [ZONE, 'legacy.example.com']);
    assert.deepEqual(await foreignNow(), sorted([foreignApex, foreignLegacy]), 'foreign records survive');
    const apiNames = [api, '_meridian-owner.api.example.com'];
    const [marker] = await provider.list(ZONE, ['_meridian-owner.api.example.com']);
    assert.deepEqual(marker?.records, ['heritage=meridian,owner=conformance']);

    const second = await sync(first.held);
    assert.deepEqual(second.result.changes, [], 'a second sync changes nothing');
    assert.deepEqual(second.result.drift, []);

    // Behind Meridian's back: the A set changed, and a record added at the owned name.
    await provider.apply(ZONE, [
      { action: 'put', recordSet: { name: api, type: 'A', ttl: 30, records: ['203.0.113.66'] } },
      { action: 'put', recordSet: { name: api, type: 'TXT', ttl: 60, records: ['added by hand'] } },
    ]);
    const third = await sync(second.held);
    assert.deepEqual(third.result.drift, [`${api}|A|`, `${api}|TXT|`]);
    assert.deepEqual(
      sorted((await provider.list(ZONE, apiNames)).filter((r) => r.name === api)),
      sorted([
        { name: api, type: 'A', ttl: 30, records: ['192.0.2.10', '198.51.100.10'] },
        { name: api, type: 'AAAA', ttl: 30, records: ['2001:db8:1::10', '2001:db8:2::10'] },
      ]),
      'repaired',
    );
    const fourth = await sync(third.held);
    assert.deepEqual([fourth.result.changes, fourth.result.drift], [[], []], 'in sync after the repair');

    // An evacuation (us-east-1 DOWN) deletes and replaces records at owned names, never at foreign ones.
    const evacuated = snapshotFromConfig(withStatic, {
      version: 2,
      health: new Map([['us-east-1', 'DOWN' as const]]),
    });
    const fifth = await sync(fourth.held, evacuated);
    assert.ok(fifth.result.changes.length > 0);
    assert.deepEqual(fifth.result.drift, [], 'a new snapshot is not drift');
    assert.deepEqual(
      await foreignNow(),
      sorted([foreignApex, foreignLegacy]),
      'foreign records survive again',
    );

    // Another deployment's owner id changes nothing of this one's.
    const other = await syncAndHold({
      provider,
      config: withStatic,
      snapshot,
      steering: 'plain',
      owner: 'other',
    });
    assert.deepEqual(other.result.changes, []);
    assert.deepEqual(
      other.result.leftAlone.map((l) => l.name).sort(),
      [api, ZONE, 'legacy.example.com'].sort(),
    );
  });
}
