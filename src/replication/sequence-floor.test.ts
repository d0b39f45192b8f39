import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SequenceFloor } from './sequence-floor.js';

test('the floor rises only over sequences handled without a gap; what a consumer skipped is listed', () => {
  const floor = new SequenceFloor(10);
  for (const s of [12, 11, 14]) floor.done(s);
  assert.equal(floor.value, 12, '13 is missing, so 14 waits');
  assert.deepEqual(floor.missing(16, 10), [13, 15, 16]);
  assert.deepEqual(floor.missing(16, 2), [13, 15]);
  floor.done(13);
  assert.equal(floor.value, 14);
  floor.done(9);
  assert.equal(floor.value, 14, 'a redelivery below the floor changes nothing');
  floor.raiseTo(20);
  assert.equal(floor.value, 20, 'sequences aged out of the stream are not waited for');
  assert.deepEqual(floor.missing(20, 10), []);
});
