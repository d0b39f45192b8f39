import assert from 'node:assert/strict';
import { test } from 'node:test';
import { greatCircleKm } from './geo-distance.js';

const cases = [
  { name: 'same point', a: { lat: 10, lon: 10 }, b: { lat: 10, lon: 10 }, km: 0 },
  { name: 'Virginia to Oregon', a: { lat: 38.9, lon: -77.4 }, b: { lat: 45.6, lon: -121.2 }, km: 3634 },
  { name: 'antipodes', a: { lat: 0, lon: 0 }, b: { lat: 0, lon: 180 }, km: 20015 },
  { name: 'across the date line', a: { lat: 0, lon: 179 }, b: { lat: 0, lon: -179 }, km: 222 },
];

for (const c of cases) {
  test(`greatCircleKm: ${c.name}`, () => {
    assert.ok(Math.abs(greatCircleKm(c.a, c.b) - c.km) < c.km * 0.01 + 1, `got ${greatCircleKm(c.a, c.b)}`);
  });
}
