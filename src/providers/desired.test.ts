import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig, snapshotFromConfig } from '../config/index.js';
import { decide } from '../core/decide.js';
import type { Health } from '../core/model.js';
import { BUILTIN_CAPABILITIES, RFC2136_CAPABILITIES, ROUTE53_CAPABILITIES } from './capabilities.js';
import { desiredRecordSets, regionWeights, sharesOf, staticRecordName } from './desired.js';
import { diffRecordSets } from './diff.js';
import type { RecordSet } from './model.js';

const config = loadConfig('examples/two-regions.yaml');
const snap = (health: [string, Health][] = [], dials: [string, number][] = []) =>
  snapshotFromConfig(config, { health: new Map(health), dials: new Map(dials) });
const round = (m: Map<string, number>) =>
  Object.fromEntries([...m].map(([k, v]) => [k, Math.round(v * 100)]));

test('shares and weights follow health and dials', () => {
  const cases = [
    {
      name: 'all healthy',
      s: snap(),
      east: { 'us-east-1': 100 },
      weights: { 'us-east-1': 50, 'us-west-2': 50 },
    },
    {
      name: 'east dial 25',
      s: snap([], [['us-east-1', 25]]),
      east: { 'us-east-1': 25, 'us-west-2': 75 },
      weights: { 'us-east-1': 13, 'us-west-2': 88 },
    },
    {
      name: 'east DOWN',
      s: snap([['us-east-1', 'DOWN']]),
      east: { 'us-west-2': 100 },
      weights: { 'us-west-2': 100 },
    },
    {
      name: 'both DOWN: serve anyway',
      s: snap([
        ['us-east-1', 'DOWN'],
        ['us-west-2', 'DOWN'],
      ]),
      east: { 'us-east-1': 100 },
      weights: { 'us-east-1': 50, 'us-west-2': 50 },
    },
  ];
  for (const c of cases) {
    assert.deepEqual(round(sharesOf(c.s, 'us-east-1')), c.east, c.name);
    assert.deepEqual(round(regionWeights(c.s)), c.weights, c.name);
  }
});

const aRecords = (sets: RecordSet[]) =>
  sets
    .filter((r) => r.type === 'A')
    .map(
      (r) =>
        `${r.qualifier ?? '-'} ${r.profile?.kind === 'weighted' ? `w${r.profile.weight} ` : ''}${r.records.join(',')}`,
    )
    .sort();

test('record sets per steering mode', () => {
  const cases = [
    { steering: 'plain' as const, s: snap(), expect: ['- 192.0.2.10,198.51.100.10'] },
    { steering: 'plain' as const, s: snap([], [['us-east-1', 0]]), expect: ['- 198.51.100.10'] },
    {
      steering: 'weighted' as const,
      s: snap([], [['us-east-1', 50]]),
      expect: ['us-east-1 w25 192.0.2.10', 'us-west-2 w75 198.51.100.10'],
    },
    {
      steering: 'geo' as const,
      s: snap(),
      expect: ['default 192.0.2.10', 'us-east-1 192.0.2.10', 'us-west-2 198.51.100.10'],
    },
    {
      steering: 'geo' as const,
      s: snap([['us-west-2', 'DOWN']]),
      expect: ['default 192.0.2.10', 'us-east-1 192.0.2.10', 'us-west-2 192.0.2.10'],
    },
  ];
  for (const c of cases) {
    const { recordSets } = desiredRecordSets(config, c.s, c.steering, 'builtin', BUILTIN_CAPABILITIES);
    assert.deepEqual(
      aRecords(recordSets),
      c.expect,
      `${c.steering} ${JSON.stringify(round(regionWeights(c.s)))}`,
    );
  }
});

test('geo records answer what decide() answers, for every territory, when dials are 0 or 100', () => {
  const states = [snap(), snap([['us-east-1', 'DOWN']]), snap([], [['us-west-2', 0]])];
  for (const s of states) {
    const { recordSets } = desiredRecordSets(config, s, 'geo', 'builtin', BUILTIN_CAPABILITIES);
    for (const [code] of s.policy.territories) {
      const client = { subnet: '203.0.113.0/24', location: { country: code.slice(0, 2), subdivision: code } };
      const region = config.regions.find((r) => r.id === decide(client, s).candidates[0].region)!;
      const set = recordSets.find(
        (r) => r.type === 'A' && r.profile?.kind === 'geo' && r.profile.territories.includes(code),
      );
      assert.deepEqual(set?.records, region.addresses.ipv4, code);
    }
  }
});

test('a partial dial splits a geo group: the larger share answers, with a warning', () => {
  const { warnings } = desiredRecordSets(
    config,
    snap([], [['us-east-1', 40]]),
    'geo',
    'builtin',
    BUILTIN_CAPABILITIES,
  );
  assert.deepEqual(warnings, [
    'geo group us-east-1 is split (us-west-2 60 %, us-east-1 40 %); geo records answer us-west-2 only',
    'geo group default is split (us-west-2 60 %, us-east-1 40 %); geo records answer us-west-2 only',
  ]);
});

test('refusals name what the provider cannot do', () => {
  assert.throws(() => desiredRecordSets(config, snap(), 'weighted', 'rfc2136', RFC2136_CAPABILITIES), {
    code: 'PROVIDER_UNSUPPORTED',
    message: 'rfc2136 cannot express weighted steering',
  });
  const withMx = {
    ...config,
    zone: {
      ...config.zone,
      records: [{ name: '@', type: 'MX' as const, values: [{ preference: 10, exchange: 'mx.example.com' }] }],
    },
  };
  assert.throws(
    () => desiredRecordSets(withMx, snap(), 'geo', 'x', { ...ROUTE53_CAPABILITIES, types: ['A', 'AAAA'] }),
    {
      code: 'PROVIDER_UNSUPPORTED',
      message: 'x cannot hold MX records',
    },
  );
  const sets = desiredRecordSets(withMx, snap(), 'plain', 'rfc2136', RFC2136_CAPABILITIES).recordSets;
  assert.deepEqual(sets[0], { name: 'example.com', type: 'MX', ttl: 300, records: ['10 mx.example.com'] });
});

test('static record names', () => {
  for (const [name, expect] of [
    ['@', 'example.com'],
    ['www', 'www.example.com'],
    ['www.example.com', 'www.example.com'],
    ['other.org.', 'other.org'],
  ])
    assert.equal(staticRecordName(name, 'example.com'), expect, name);
});

test('diff: put new and changed sets, delete what is no longer wanted, leave equal ones', () => {
  const a: RecordSet = { name: 'api.example.com', type: 'A', ttl: 30, records: ['192.0.2.10'] };
  const b: RecordSet = { name: 'api.example.com', type: 'AAAA', ttl: 30, records: ['2001:db8::1'] };
  const d = diffRecordSets([a, b], [{ ...a, records: ['198.51.100.10', '192.0.2.10'] }]);
  assert.equal(d.unchanged, 0);
  assert.deepEqual(d.changes, [
    { action: 'put', recordSet: { ...a, records: ['192.0.2.10', '198.51.100.10'] } },
    { action: 'delete', name: 'api.example.com', type: 'AAAA', qualifier: undefined },
  ]);
  assert.deepEqual(diffRecordSets([a], [{ ...a }]).changes, []);
});

test('steering.answers home+fallback is not pushed to providers: same records, and a warning says so', () => {
  const both = { ...config, steering: { ...config.steering, answers: 'home+fallback' as const } };
  for (const mode of ['geo', 'weighted'] as const) {
    const home = desiredRecordSets(config, snap(), mode, 'builtin', BUILTIN_CAPABILITIES);
    const fallback = desiredRecordSets(both, snap(), mode, 'builtin', BUILTIN_CAPABILITIES);
    assert.deepEqual(fallback.recordSets, home.recordSets, mode);
    assert.deepEqual(fallback.warnings, [
      ...home.warnings,
      `steering.answers home+fallback applies to meridian dns only: builtin ${mode} records list one region's addresses`,
    ]);
  }
  // plain already lists every region that serves.
  assert.deepEqual(desiredRecordSets(both, snap(), 'plain', 'builtin', BUILTIN_CAPABILITIES).warnings, []);
});

test('a service’s own TTL is pushed with its records; its home+fallback is named in the warning', () => {
  const api = config.services[0];
  const www = { ...api, name: 'www', hostname: 'www.example.com', ttl: 5, answers: 'home+fallback' as const };
  const two = { ...config, services: [api, www] };
  for (const mode of ['plain', 'geo', 'weighted'] as const) {
    const d = desiredRecordSets(two, snap(), mode, 'builtin', BUILTIN_CAPABILITIES);
    const ttls = (name: string) => [
      ...new Set(d.recordSets.filter((r) => r.name === name).map((r) => r.ttl)),
    ];
    assert.deepEqual(ttls('api.example.com'), [30], `${mode}: zone.ttl`);
    assert.deepEqual(ttls('www.example.com'), [5], `${mode}: services[1].ttl`);
    const fallback = d.warnings.filter((w) => w.includes('home+fallback'));
    assert.deepEqual(
      fallback,
      mode === 'plain'
        ? []
        : [
            `steering.answers home+fallback (www.example.com) applies to meridian dns only: builtin ${mode} records list one region's addresses`,
          ],
    );
  }
});
