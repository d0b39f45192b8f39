import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RetryBudget } from './retry-budget.js';

test('retries stay under the share of requests in the window, plus the floor', () => {
  const cases = [
    { name: '20 % of 100 requests, no floor', percent: 20, min: 0, requests: 100, expect: 20 },
    { name: 'floor of 1/s over 10 s with no traffic', percent: 20, min: 1, requests: 0, expect: 10 },
    { name: 'zero budget', percent: 0, min: 0, requests: 100, expect: 0 },
  ];
  for (const c of cases) {
    let now = 0;
    const budget = new RetryBudget({ percent: c.percent, windowMs: 10_000, minPerSecond: c.min }, () => now);
    for (let i = 0; i < c.requests; i++) budget.recordRequest();
    let taken = 0;
    while (budget.tryRetry()) taken++;
    assert.equal(taken, c.expect, c.name);
    now += 1;
  }
});

test('old requests and retries leave the window', () => {
  let now = 0;
  const budget = new RetryBudget({ percent: 50, windowMs: 1000, minPerSecond: 0 }, () => now);
  for (let i = 0; i < 10; i++) budget.recordRequest();
  assert.equal(budget.left(), 5);
  while (budget.tryRetry());
  assert.equal(budget.left(), 0);
  now = 2000;
  assert.equal(budget.left(), 0, 'no requests in the window any more');
  budget.recordRequest();
  budget.recordRequest();
  assert.equal(budget.left(), 1);
});
