import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_LATENCY, roundTripMs } from './latency.js';

const virginia = { lat: 38.9, lon: -77.4 };
const oregon = { lat: 45.6, lon: -121.2 };
const newYork = { lat: 40.7, lon: -74.0 };

test('round trip: a base plus about 1 ms per 100 km', () => {
  const cases = [
    { name: 'same place: the base', user: virginia, region: virginia, expect: [5, 5] },
    { name: 'New York to Virginia (~350 km)', user: newYork, region: virginia, expect: [8, 9.5] },
    { name: 'Virginia to Oregon (~3,700 km)', user: virginia, region: oregon, expect: [40, 44] },
    { name: 'user place unknown: the base', user: null, region: oregon, expect: [5, 5] },
    { name: 'region place unknown: the base', user: virginia, region: undefined, expect: [5, 5] },
  ];
  for (const c of cases) {
    const ms = roundTripMs(c.user, c.region);
    assert.ok(ms >= c.expect[0] && ms <= c.expect[1], `${c.name}: ${ms}`);
  }
  assert.equal(
    roundTripMs(virginia, oregon, { baseMs: 0, msPer100Km: 2 }),
    2 * (roundTripMs(virginia, oregon) - DEFAULT_LATENCY.baseMs),
  );
});
