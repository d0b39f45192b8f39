import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withDeadline } from './sample.js';

test('withDeadline: a promise that never settles gives null once the time is up', async () => {
  assert.equal(await withDeadline(new Promise(() => {}), 20), null);
});

test('withDeadline: a value in time is kept, a rejection is null', async () => {
  assert.equal(await withDeadline(Promise.resolve(7), 1000), 7);
  assert.equal(await withDeadline(Promise.reject(new Error('x')), 1000), null);
});
