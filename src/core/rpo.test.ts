import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkGates } from './evacuation-plan.js';
import { checkRpo, checkRpoAll } from './rpo.js';

const cases = [
  { name: 'within the RPO', input: { lag: 120, requireKnown: false }, expect: true },
  { name: 'at the RPO', input: { lag: 5000, requireKnown: false }, expect: true },
  { name: 'above the RPO', input: { lag: 7300, requireKnown: false }, expect: false },
  { name: 'unknown, not required', input: { lag: null, requireKnown: false }, expect: true },
  { name: 'unknown, required', input: { lag: undefined, requireKnown: true }, expect: false },
];
for (const c of cases) {
  test(`checkRpo: ${c.name}`, () => {
    const r = checkRpo('us-west-2', c.input.lag, 5000, c.input.requireKnown);
    assert.equal(r.ok, c.expect);
    assert.match(r.reason, /us-west-2/);
  });
}

test('checkRpoAll: every receiver, with the numbers', () => {
  const lags = new Map([
    ['us-west-2', 7300.4],
    ['eu-west-1', 80],
  ]);
  const r = checkRpoAll(['us-west-2', 'eu-west-1', 'ap-south-1'], lags, 5000);
  assert.equal(r.ok, false);
  assert.deepEqual(
    r.regions.map((x) => [x.region, x.lagMs, x.ok]),
    [
      ['us-west-2', 7300, false],
      ['eu-west-1', 80, true],
      ['ap-south-1', null, true],
    ],
  );
  assert.match(r.regions[0].reason, /7300 ms, above the RPO of 5000 ms/);
});

test('checkGates: replication lag above the RPO fails the gate; unknown lag or no RPO does not', () => {
  const base = { errorRate: 0, p99Ms: 10, load: 100, capacity: 1000 };
  const readings = new Map([
    ['a', { ...base, replicationLagMs: 9000 }],
    ['b', { ...base }],
  ]);
  const limits = { errorRate: 0.05, p99Ms: 1000, maxLoad: 0.9 };
  assert.deepEqual(checkGates(['a', 'b'], readings, limits), []);
  assert.deepEqual(checkGates(['a', 'b'], readings, { ...limits, rpoMs: 5000 }), [
    'replication lag of a is 9000 ms, above the RPO of 5000 ms',
  ]);
});
