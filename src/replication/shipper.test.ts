import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_BATCH_BYTES } from './event.js';
import { cutMessages } from './shipper.js';
import type { OutboxEntry } from './store.js';

const entry = (id: number, events: number, bytes = 10): OutboxEntry => ({
  id: `1-${id}`,
  encoded: Buffer.alloc(bytes, 'x'),
  events,
});
const ids = (messages: OutboxEntry[][]) => messages.map((m) => m.map((e) => e.id));

test('cutMessages keeps entries whole, in order, within the event and byte limits', () => {
  const cases = [
    { name: 'all fit one message', entries: [entry(1, 3), entry(2, 4)], max: 10, expect: [['1-1', '1-2']] },
    {
      name: 'cut by events',
      entries: [entry(1, 6), entry(2, 6), entry(3, 4)],
      max: 10,
      expect: [['1-1'], ['1-2', '1-3']],
    },
    {
      name: 'an entry above the event limit goes alone',
      entries: [entry(1, 2), entry(2, 30), entry(3, 1)],
      max: 10,
      expect: [['1-1'], ['1-2'], ['1-3']],
    },
    {
      name: 'cut by bytes',
      entries: [entry(1, 1, MAX_BATCH_BYTES / 2), entry(2, 1, MAX_BATCH_BYTES / 2), entry(3, 1)],
      max: 512,
      expect: [['1-1'], ['1-2', '1-3']],
    },
    { name: 'nothing', entries: [], max: 10, expect: [] },
  ];
  for (const c of cases) assert.deepEqual(ids(cutMessages(c.entries, c.max)), c.expect, c.name);
});
