import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GeoLocator } from '../geo/index.js';
import { populationWeights } from './population.js';
import { createUsers } from './users.js';

test('virtual users sit at public US addresses, spread like the population', async () => {
  const weights = populationWeights([]);
  const { users, missing } = await createUsers(2000, weights, {}, 7);
  assert.equal(users.length, 2000);
  assert.ok(missing.length <= 3, `states without a network: ${missing}`);
  const geo = await GeoLocator.open();
  for (const u of users.slice(0, 200)) assert.equal(geo.locate(u.address)?.subdivision, u.place, u.address);
  const california = users.filter((u) => u.place === 'US-CA').length / users.length;
  assert.ok(california > 0.09 && california < 0.15, `California ${california} (12 % of people)`);
  const located = users.filter((u) => u.location !== null);
  assert.ok(located.length / users.length > 0.95, `${located.length} users with coordinates`);
  for (const u of located.filter((u) => u.place === 'US-CA').slice(0, 50)) {
    const { lat, lon } = u.location!;
    assert.ok(
      lat > 32 && lat < 42.1 && lon > -124.5 && lon < -114,
      `${u.address} at ${lat},${lon} is in California`,
    );
  }
  const again = await createUsers(5, weights, {}, 7);
  assert.deepEqual(again.users, users.slice(0, 5));
});
