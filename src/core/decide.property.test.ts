import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { decide } from './decide.js';
import { type Client, HEALTH_STATES, type Health, type RegionState } from './model.js';
import { region, snapshot } from './test-fixtures.js';

const healthArb = fc.constantFrom<Health>(...HEALTH_STATES);
const idArb = fc.constantFrom(
  'us-east-1',
  'us-west-2',
  'eu-west-1',
  '__proto__',
  'constructor',
  'ap-south-1',
);
const regionArb: fc.Arbitrary<RegionState> = fc
  .record({
    id: idArb,
    lat: fc.double({ min: -80, max: 80, noNaN: true }),
    lon: fc.double({ min: -179, max: 179, noNaN: true }),
    health: healthArb,
    dial: fc.integer({ min: 0, max: 100 }),
    capacity: fc.integer({ min: 0, max: 5000 }),
    demand: fc.integer({ min: 0, max: 5000 }),
  })
  .map(({ id, lat, lon, ...rest }) => region(id, lat, lon, rest));
const regionsArb = fc.uniqueArray(regionArb, { minLength: 1, maxLength: 5, selector: (r) => r.id });
const clientArb: fc.Arbitrary<Client> = fc.record({
  subnet: fc.ipV4().map((ip) => `${ip.split('.').slice(0, 3).join('.')}.0/24`),
  location: fc.option(
    fc.record({
      country: fc.constantFrom('US', 'FR', 'AU'),
      subdivision: fc.constantFrom('US-CA', 'US-NY', 'FR-IDF', 'AU-NSW'),
      point: fc.record({
        lat: fc.double({ min: -90, max: 90, noNaN: true }),
        lon: fc.double({ min: -180, max: 180, noNaN: true }),
      }),
    }),
  ),
});
const policyArb = fc.record({ overflow: fc.constantFrom('shed' as const, 'overload' as const) });

test('property: never a DOWN region first while any region is not DOWN', () => {
  fc.assert(
    fc.property(regionsArb, clientArb, policyArb, (regions, client, policy) => {
      const snap = snapshot(regions, { ...policy, defaultRegion: regions[0].id });
      const d = decide(client, snap);
      const anyUp = regions.some((r) => r.health !== 'DOWN');
      const first = snap.regions.get(d.candidates[0].region)!;
      if (anyUp) {
        assert.notEqual(first.health, 'DOWN');
        assert.ok(d.candidates.every((c) => snap.regions.get(c.region)!.health !== 'DOWN'));
      }
    }),
    { numRuns: 2000 },
  );
});

test('property: an UNKNOWN region is steered to exactly as a HEALTHY one (it counts as serving)', () => {
  fc.assert(
    fc.property(regionsArb, clientArb, policyArb, (regions, client, policy) => {
      const known = regions.map((r) => (r.health === 'UNKNOWN' ? { ...r, health: 'HEALTHY' as const } : r));
      const order = (rs: RegionState[]) =>
        decide(client, snapshot(rs, { ...policy, defaultRegion: rs[0].id })).candidates.map((c) => [
          c.region,
          c.reason,
        ]);
      assert.deepEqual(order(regions), order(known));
    }),
    { numRuns: 2000 },
  );
});

test('property: same input, same answer', () => {
  fc.assert(
    fc.property(regionsArb, clientArb, (regions, client) => {
      const a = decide(client, snapshot(regions, { defaultRegion: regions[0].id }));
      const b = decide(structuredClone(client), snapshot(regions, { defaultRegion: regions[0].id }));
      assert.deepEqual(a, b);
    }),
    { numRuns: 1000 },
  );
});

test('property: over 100,000 random subnets the kept share is within 1 % of the dial', () => {
  for (const dial of [0, 10, 25, 50, 73, 90, 100]) {
    const snap = snapshot([region('us-east-1', 38.9, -77.4, { dial }), region('us-west-2', 45.6, -121.2)]);
    const subnets = fc.sample(fc.ipV4(), { numRuns: 100_000, seed: dial + 1 });
    let kept = 0;
    for (const ip of subnets) {
      const subnet = `${ip.split('.').slice(0, 3).join('.')}.0/24`;
      const d = decide({ subnet, location: { country: 'US', subdivision: 'US-NY' } }, snap);
      if (d.candidates[0].region === 'us-east-1') kept++;
    }
    const share = (kept / subnets.length) * 100;
    assert.ok(Math.abs(share - dial) <= 1, `dial ${dial}: kept ${share.toFixed(2)} %`);
  }
});

test('property: a region id such as __proto__ is chosen like any other', () => {
  fc.assert(
    fc.property(clientArb, (client) => {
      const snap = snapshot([region('__proto__', 0, 0), region('constructor', 10, 10)], {
        defaultRegion: '__proto__',
        territories: new Map([['US-CA', '__proto__']]),
      });
      const d = decide(client, snap);
      assert.ok(['__proto__', 'constructor'].includes(d.candidates[0].region));
      assert.equal(d.candidates.length, 2);
    }),
    { numRuns: 500 },
  );
});
