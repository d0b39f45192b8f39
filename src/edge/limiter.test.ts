import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConcurrencyLimiter, feedsLimit } from './limiter.js';
import { BEST_EFFORT, CRITICAL, NORMAL } from './priority.js';

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
  // At a steady arrival rate the requests in flight grow with latency (Little's law): 8 per ms here.
  // Each round is one limiter window (250 ms).
  const run = (rtt: number, windows: number) => {
    for (let w = 0; w < windows; w++) {
      let admitted = 0;
      while (admitted < 8 * rtt && l.tryAcquire(NORMAL)) admitted++;
      for (let i = 0; i < admitted; i++) {
        t += 250 / admitted;
        l.release(rtt, t, true);
      }
    }
  };
  run(10, 20);
  const steady = l.limit;
  assert.ok(steady > 100, `limit grew to ${steady}`);
  run(50, 20);
  assert.ok(l.limit < steady, `limit fell to ${l.limit} when latency rose`);
  assert.ok(l.limit >= 10);
});

test('off: the hard cap is the limit', () => {
  const l = new ConcurrencyLimiter({ ...options, adaptive: 'off' });
  let admitted = 0;
  while (l.tryAcquire(NORMAL)) admitted++;
  assert.equal(admitted, 10);
});

// Lab, kong at 1000 req/s: with a handful of requests in flight the limit fell from 200 to
// minLimit (20) before the outage, and the surviving region then shed up to half of its users.
for (const adaptive of ['vegas', 'gradient'] as const) {
  test(`${adaptive}: a limit far above the load holds, however latency varies; a later burst fits`, () => {
    const l = new ConcurrencyLimiter({
      ...options,
      adaptive,
      maxInFlight: 1000,
      initialLimit: 100,
      minLimit: 10,
    });
    let t = 0;
    for (let w = 0; w < 200; w++) {
      for (let i = 0; i < 5; i++) l.tryAcquire(NORMAL);
      for (let i = 0; i < 5; i++) {
        t += 60;
        l.release(i % 2 === 0 ? 0.3 : 20, t, true);
      }
    }
    assert.equal(l.limit, 100);
    let admitted = 0;
    while (admitted < 90 && l.tryAcquire(NORMAL)) admitted++;
    assert.equal(admitted, 90);
  });
}

test("only this region's origins feed the limit: not a peer edge's answer (the link's round trip is no queue)", () => {
  assert.equal(feedsLimit('served'), true);
  for (const outcome of ['proxied', 'failover', 'retried', 'failed', 'aborted'] as const) {
    assert.equal(feedsLimit(outcome), false, outcome);
  }
});

test('requests bound for another region take no slot of the limit, only of the hard cap', () => {
  const l = new ConcurrencyLimiter(options);
  let forwarded = 0;
  while (l.tryForward()) forwarded++;
  assert.equal(forwarded, options.maxInFlight);
  let admitted = 0;
  while (l.tryAcquire(NORMAL)) admitted++;
  assert.equal(admitted, options.initialLimit, 'local requests still get the whole limit');
  l.releaseForward();
  assert.equal(l.tryForward(), true);
});

test("a request that fails over to another region gives its slot to this region's next user", () => {
  const l = new ConcurrencyLimiter(options);
  while (l.tryAcquire(NORMAL));
  l.moveToForward();
  assert.equal(l.tryAcquire(NORMAL), true);
  assert.equal(l.tryAcquire(NORMAL), false);
  assert.deepEqual([l.inFlight, l.forwarding], [options.initialLimit, 1]);
  l.moveToLocal();
  assert.deepEqual([l.inFlight, l.forwarding], [options.initialLimit + 1, 0]);
});

test('a tunnel leaves the adaptive limit but holds the hard cap until it closes', () => {
  const l = new ConcurrencyLimiter({ ...options, adaptive: 'off', maxInFlight: 3 });
  for (let i = 0; i < 2; i++) {
    assert.ok(l.tryAcquire(NORMAL));
    l.moveToTunnel();
  }
  assert.equal(l.inFlight, 0);
  assert.ok(l.tryAcquire(NORMAL), 'one slot of the cap is left');
  assert.ok(!l.tryAcquire(CRITICAL), 'tunnels count against the hard cap, for every class');
  l.closeTunnel();
  assert.ok(l.tryAcquire(CRITICAL));
});
