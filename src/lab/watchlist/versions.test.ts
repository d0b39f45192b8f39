import assert from 'node:assert/strict';
import { test } from 'node:test';
import { faultFor, isLabVersion, originSeed, routeOf } from './versions.js';

test('routeOf: the collection, an item, anything else', () => {
  assert.equal(routeOf('/users/u1/items'), 'collection');
  assert.equal(routeOf('/users/u1/items/k-1'), 'item');
  assert.equal(routeOf('/health'), 'other');
  assert.equal(routeOf('/users/u1/items/'), 'other');
});

test('isLabVersion: v1, v2, v3 only', () => {
  assert.ok(isLabVersion('v1') && isLabVersion('v3'));
  assert.ok(!isLabVersion('v4') && !isLabVersion(3));
});

const failures = (version: 'v1' | 'v2' | 'v3', route: 'collection' | 'item', seed: number, n = 10_000) => {
  let failed = 0;
  for (let i = 0; i < n; i++) if (faultFor(version, route, i, seed).fail) failed++;
  return failed / n;
};

test('v1 and v2 never fail nor wait', () => {
  for (const v of ['v1', 'v2'] as const)
    for (const route of ['collection', 'item'] as const) {
      assert.equal(failures(v, route, 7), 0);
      assert.equal(faultFor(v, route, 3, 7).delayMs, 0);
    }
});

test('v3: about 30 % of the collection route fails, the item route is 150 ms slower and never fails', () => {
  const rate = failures('v3', 'collection', originSeed(1, 'us-east-1/0'));
  assert.ok(rate > 0.28 && rate < 0.32, `${rate}`);
  assert.equal(failures('v3', 'item', 1), 0);
  assert.equal(faultFor('v3', 'item', 0, 1).delayMs, 150);
  assert.equal(faultFor('v3', 'collection', 0, 1).delayMs, 0);
});

test('the pattern is the same for the same seed, different for another origin', () => {
  const pattern = (seed: number) =>
    Array.from({ length: 200 }, (_, i) => (faultFor('v3', 'collection', i, seed).fail ? 1 : 0)).join('');
  const a = originSeed(1, 'us-east-1/0');
  assert.equal(pattern(a), pattern(originSeed(1, 'us-east-1/0')));
  assert.notEqual(pattern(a), pattern(originSeed(1, 'us-east-1/1')));
  assert.notEqual(pattern(a), pattern(originSeed(2, 'us-east-1/0')));
});
