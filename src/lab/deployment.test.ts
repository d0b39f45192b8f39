import assert from 'node:assert/strict';
import { test } from 'node:test';
import { metricsUrl } from './deployment.js';

test("metricsUrl: from each server's ready line; none for parts without /metrics", () => {
  assert.equal(
    metricsUrl({ ready: true, part: 'dns', admin: '127.0.0.1:4001' }),
    'http://127.0.0.1:4001/metrics',
  );
  assert.equal(
    metricsUrl({ ready: true, part: 'edge', admin: '127.0.0.1:4002', listen: '127.0.0.1:80' }),
    'http://127.0.0.1:4002/metrics',
  );
  assert.equal(
    metricsUrl({ ready: true, part: 'control', url: 'http://127.0.0.1:8300' }),
    'http://127.0.0.1:8300/metrics',
  );
  assert.equal(metricsUrl({ ready: true, part: 'edge', admin: null }), undefined);
  assert.equal(
    metricsUrl({ ready: true, part: 'origin', id: 'us-east-1/0', listen: '127.0.0.1:4003' }),
    'http://127.0.0.1:4003/_lab/metrics',
  );
  assert.equal(metricsUrl({ ready: true, part: 'origin', id: 'us-east-1/0' }), undefined);
  assert.equal(metricsUrl(null), undefined);
});
