import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkMeridianExposition } from '../../test/helpers/prometheus-rules.js';
import { edgeRegistry } from './metrics.js';
import { EdgeStats } from './stats.js';

test('request durations export as a cumulative histogram in seconds with _sum and _count', async () => {
  const stats = new EdgeStats();
  for (const ms of [0.2, 8, 10, 20_000]) stats.countRequest('api', 'us-east-1', 200, 'served', ms);
  const snapshot = stats.snapshot({ origins: [], peers: {}, limits: {}, retryBudgetLeft: 3 });
  const text = await edgeRegistry('us-east-1', async () => snapshot).metrics();
  const line = (le: string) =>
    Number(
      new RegExp(
        `^meridian_edge_request_duration_seconds_bucket\\{le="${le}",edge="us-east-1"\\} (\\S+)$`,
        'm',
      ).exec(text)?.[1],
    );
  assert.equal(line('0.0005'), 1);
  assert.equal(line('0.0075'), 1);
  assert.equal(line('0.01'), 3);
  assert.equal(line('10'), 3);
  assert.equal(line('\\+Inf'), 4);
  assert.match(text, /^meridian_edge_request_duration_seconds_count\{edge="us-east-1"\} 4$/m);
  assert.match(text, /^meridian_edge_request_duration_seconds_sum\{edge="us-east-1"\} 20\.0182$/m);
  assert.doesNotMatch(text, /_ms_bucket/);
  assert.deepEqual(checkMeridianExposition(text, 'edge'), []);
});
