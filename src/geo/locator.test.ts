import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { GeoLocator, toLocation } from './locator.js';

let geo: GeoLocator;
before(async () => {
  geo = await GeoLocator.open();
});

const places = [
  { ip: '171.64.1.1', country: 'US', subdivision: 'US-CA' },
  { ip: '128.59.1.1', country: 'US', subdivision: 'US-NY' },
  { ip: '1.1.1.1', country: 'AU', subdivision: 'AU-NSW' },
  { ip: '24.16.0.1', country: 'US', subdivision: 'US-WA' },
  { ip: '81.2.69.142', country: 'GB', subdivision: undefined },
];
for (const p of places) {
  test(`locate ${p.ip}`, () => {
    const loc = geo.locate(p.ip)!;
    assert.equal(loc.country, p.country);
    assert.equal(loc.subdivision, p.subdivision);
    assert.ok(loc.point && Math.abs(loc.point.lat) <= 90);
  });
}

test('an IPv6 address is located', () => {
  assert.equal(geo.locate('2001:4860:4860::8888')?.country !== undefined, true);
});

test('private and reserved addresses have no location', () => {
  for (const ip of ['127.0.0.1', '10.1.2.3', '192.168.0.1', '::1', 'fd00::1'])
    assert.equal(geo.locate(ip), null, ip);
});

test('a client is grouped by its /24 and an ECS prefix', () => {
  assert.equal(geo.client('171.64.1.99').subnet, '171.64.1.0/24');
  assert.equal(geo.client('171.64.0.0', 16).subnet, '171.64.0.0/16');
  assert.equal(geo.client('171.64.0.0', 16).location?.subdivision, 'US-CA');
});

test('a bad address is a BAD_ADDRESS error', () => {
  assert.throws(() => geo.locate('not-an-ip'), { code: 'BAD_ADDRESS' });
});

test('a missing database file names the file', async () => {
  await assert.rejects(
    GeoLocator.open({ database: '/nonexistent/x.mmdb' }),
    (e: Error & { code: string }) => {
      assert.equal(e.code, 'GEO_DATABASE_UNAVAILABLE');
      assert.match(e.message, /\/nonexistent\/x\.mmdb/);
      return true;
    },
  );
});

test('toLocation reads the GeoLite2 record shape', () => {
  const loc = toLocation({
    country: { iso_code: 'US' },
    subdivisions: [{ iso_code: 'OR' }],
    location: { latitude: 45, longitude: -122 },
  });
  assert.deepEqual(loc, { country: 'US', subdivision: 'US-OR', point: { lat: 45, lon: -122 } });
  assert.equal(toLocation(null), null);
});
