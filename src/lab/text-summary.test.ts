import assert from 'node:assert/strict';
import { test } from 'node:test';
import { textSummary } from './text-summary.js';

test('text summary: what ran, every check, the answer policies aligned', () => {
  const window = { all: 5400, idempotent: 5400, postWithKey: null, post: null };
  const lines = textSummary({
    scenario: 'kong',
    notes: [
      '2000 virtual users',
      'control: 2 instances on etcd',
      'data: redis+nats: a Redis per region',
      'resolver: unbound 1.17.1',
    ],
    cohorts: {
      'home ttl 5': {
        answers: 'home',
        ttlS: 5,
        requests: 889,
        failuresByKind: { idempotent: 26, postWithKey: 1, post: 3 },
        userErrorWindowMs: window,
        lastFailureMs: 5600,
        resolverShiftMs: 4900,
        steadyOutsideHomeShare: 0,
        steadyP50Ms: 31,
      },
      'home+fallback ttl 5': {
        answers: 'home+fallback',
        ttlS: 5,
        requests: 900,
        failuresByKind: { idempotent: 0, postWithKey: 0, post: 1 },
        userErrorWindowMs: window,
        lastFailureMs: 200,
        resolverShiftMs: null,
        steadyOutsideHomeShare: 0.526,
        steadyP50Ms: 119,
      },
    },
    verdict: {
      pass: false,
      failures: [],
      checks: [
        { name: 'a', pass: true, detail: 'fine' },
        { name: 'b', pass: false, detail: 'not fine' },
      ],
    },
  });
  assert.deepEqual(lines.slice(0, 6), [
    '  control: 2 instances on etcd',
    '  data: redis+nats: a Redis per region',
    '  resolver: unbound 1.17.1',
    'kong: FAIL',
    '  ✔ a: fine',
    '  ✘ b: not fine',
  ]);
  const cells = (line: string) => line.trim().split(/ {2,}/);
  assert.deepEqual(cells(lines[7]).slice(0, 2), ['answers, TTL', 'failed: idempotent / key POST / POST']);
  assert.deepEqual(cells(lines[8]), ['home ttl 5', '26 / 1 / 3 of 889', '4.9 s', '5.6 s', '0 %', '31 ms']);
  assert.deepEqual(cells(lines[9]), [
    'home+fallback ttl 5',
    '0 / 0 / 1 of 900',
    '-',
    '0.2 s',
    '53 %',
    '119 ms',
  ]);
  assert.equal(lines[8].indexOf('26 /'), lines[9].indexOf('0 / 0'), 'columns aligned');
});
