import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkGates, parseSteps, planMove, projectLoad } from './evacuation-plan.js';
import { twoRegions } from './test-fixtures.js';

test('evacuating east moves its demand to west step by step', () => {
  const snap = twoRegions({ demand: 400, load: 400 }, { demand: 300, load: 300 });
  const plan = planMove(snap, 'us-east-1', [75, 50, 25, 0], 0.2);
  assert.equal(plan.kind, 'evacuate');
  assert.deepEqual(
    plan.steps.map((s) => [s.dial, s.regions.map((r) => r.load)]),
    [
      [75, [300, 400]],
      [50, [200, 500]],
      [25, [100, 600]],
      [0, [0, 700]],
    ],
  );
  assert.deepEqual(plan.receivers, ['us-west-2']);
  assert.equal(plan.moved, 400);
  assert.equal(plan.headroom, 700);
  assert.equal(plan.needed, 480);
  assert.equal(plan.ok, true);
});

test('the pre-check refuses when headroom does not cover the move with the margin', () => {
  const snap = twoRegions({ demand: 600 }, { demand: 500 });
  const plan = planMove(snap, 'us-east-1', [50, 0], 0.2);
  assert.equal(plan.moved, 600);
  assert.equal(plan.headroom, 500);
  assert.equal(plan.ok, false);
  assert.ok(plan.steps[1].overflow > 0, 'what west cannot take overflows');
});

test('restore raises the dial and east is the receiver', () => {
  const snap = twoRegions({ demand: 400, dial: 0 }, { demand: 300 });
  const plan = planMove(snap, 'us-east-1', [50, 100], 0.2);
  assert.equal(plan.kind, 'restore');
  assert.deepEqual(plan.receivers, ['us-east-1']);
  assert.deepEqual(
    projectLoad(snap).regions.map((r) => r.load),
    [0, 700],
  );
});

test('gates: error rate, p99 and load below 90 % of capacity', () => {
  const limits = { errorRate: 0.05, p99Ms: 500, maxLoad: 0.9 };
  const readings = new Map([
    ['a', { errorRate: 0.01, p99Ms: 100, load: 100, capacity: 1000 }],
    ['b', { errorRate: 0.2, p99Ms: 900, load: 950, capacity: 1000 }],
  ]);
  assert.deepEqual(checkGates(['a'], readings, limits), []);
  assert.equal(checkGates(['b'], readings, limits).length, 3);
  assert.deepEqual(checkGates(['c'], readings, limits), ['c: no recent report']);
});

test('parseSteps', () => {
  assert.deepEqual(parseSteps('75,50,25,0'), [75, 50, 25, 0]);
  assert.equal(parseSteps('75,x'), null);
  assert.equal(parseSteps('150'), null);
});
