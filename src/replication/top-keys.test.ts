import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TopKeys } from './top-keys.js';

test('top keys: exact while the keys fit', () => {
  const top = new TopKeys(10);
  for (const k of ['a', 'b', 'a', 'c', 'a', 'b']) top.add(k);
  assert.deepEqual(top.top(2), [
    { key: 'a', count: 3, error: 0 },
    { key: 'b', count: 2, error: 0 },
  ]);
});

test('top keys: bounded, and a frequent key survives a flood of one-off keys', () => {
  const top = new TopKeys(20);
  for (let i = 0; i < 10_000; i++) {
    top.add(`once:${i}`);
    if (i % 10 === 0) top.add('hot');
  }
  const listed = top.top(100);
  assert.equal(listed.length, 20, 'never more than its capacity');
  assert.equal(listed[0].key, 'hot');
  // Space-saving never undercounts: the count is at least the true one (1,000).
  assert.ok(listed[0].count >= 1000 && listed[0].count - listed[0].error <= 1000, JSON.stringify(listed[0]));
});
