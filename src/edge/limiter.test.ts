import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BEST_EFFORT, CRITICAL, NORMAL } from './context.js';
import { ConcurrencyLimiter } from './limiter.js';

const options = {
  maxInFlight: 10,
  adaptive: 'vegas' as const,
  initialLimit: 6,
  minLimit: 2,
  bestEffortShare: 0.5,
};

test('admission by priority: best-effort to half the limit, normal to the limit, critical to the cap', () => {
  const cases = [
    { priority: BEST_EFFORT, expect: 3 },
    { priority: NORMAL, expect: 6 },
    { priority: CRITICAL, expect: 10 },
  ];
  for (const c of cases) {
    const l = new ConcurrencyLimiter(options);
    let admitted = 0;
    while (l.tryAcquire(c.priority)) admitted++;
    assert.equal(admitted, c.expect);
  }
});

test('vegas: latency rising over the floor lowers the limit; steady latency under load raises it', () => {
  const l = new ConcurrencyLimiter({ ...options, maxInFlight: 1000, initialLimit: 100, minLimit: 10 });
  let t = 0;
  const run = (rtt: number, windows: number, load: number) => {
    for (let w = 0; w < windows; w++) {
      for (let i = 0; i < load; i++) l.tryAcquire(NORMAL);
      for (let i = 0; i < load; i++) {
        t += 30;
        l.release(rtt, t, true);
      }
    }
  };
  run(10, 20, 80);
  const steady = l.limit;
  assert.ok(steady > 100, `limit grew to ${steady}`);
  run(50, 20, 80);
  assert.ok(l.limit < steady, `limit fell to ${l.limit} when latency rose`);
  assert.ok(l.limit >= 10);
});

test('off: the hard cap is the limit', () => {
  const l = new ConcurrencyLimiter({ ...options, adaptive: 'off' });
  let admitted = 0;
  while (l.tryAcquire(NORMAL)) admitted++;
  assert.equal(admitted, 10);
});
