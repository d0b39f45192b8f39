import assert from 'node:assert/strict';
import { test } from 'node:test';
import { entryEvents, nextStreamId } from './outbox-script.js';

test('entryEvents reads both outbox entry formats', () => {
  const cases = [
    {
      name: 'one event per entry (before batched entries)',
      fields: ['e', '{"op":"del"}'],
      expect: { encoded: '{"op":"del"}', events: 1 },
    },
    {
      name: 'a batched entry',
      fields: ['n', '2', 'b', '{"a":1},{"a":2}'],
      expect: { encoded: '{"a":1},{"a":2}', events: 2 },
    },
    {
      name: 'fields in another order',
      fields: ['b', '{"a":1}', 'n', '1'],
      expect: { encoded: '{"a":1}', events: 1 },
    },
  ];
  for (const c of cases) {
    const { encoded, events } = entryEvents(c.fields.map((f) => Buffer.from(f)));
    assert.deepEqual({ encoded: encoded.toString(), events }, c.expect, c.name);
  }
});

test('nextStreamId is the id just after', () => {
  assert.equal(nextStreamId('1700000000000-0'), '1700000000000-1');
  assert.equal(nextStreamId('1-18446744073709551614'), '1-18446744073709551615');
});
