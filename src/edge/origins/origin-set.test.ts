import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { OriginSet } from './origin-set.js';

const upstream = { connections: 1, connectTimeout: 100, headersTimeout: 100, idleTimeout: 100 };
const passive = {
  consecutiveFailures: 3,
  consecutiveConnectFailures: 2,
  baseEjection: 1000,
  maxEjection: 8000,
};
const sets: OriginSet[] = [];
after(async () => {
  for (const s of sets) await s.close();
});

function set(n: number, maxEjectedPercent = 50) {
  const urls = Array.from({ length: n }, (_, i) => `http://127.0.0.1:${10_000 + i}`);
  const s = new OriginSet(urls, 'r', upstream, passive, maxEjectedPercent);
  sets.push(s);
  return s;
}

test('power of two choices prefers the origin with fewer requests in flight', () => {
  const s = set(2);
  s.origins[0].inFlight = 50;
  const picks = Array.from({ length: 200 }, () => s.pick(Date.now())!.url);
  const busy = picks.filter((u) => u === s.origins[0].url).length;
  assert.ok(busy < 100, `busy origin picked ${busy} of 200`);
});

test('passive ejection: consecutive failures eject, time doubles on repeat, at most the capped share', () => {
  const s = set(4);
  const [a, b, c] = s.origins;
  let now = 1_000_000;
  for (let i = 0; i < 3; i++) a.failure(now, s.mayEject);
  assert.equal(a.ejectedUntil, now + 1000);
  for (let i = 0; i < 3; i++) b.failure(now, s.mayEject);
  assert.ok(b.isEjected(now));
  for (let i = 0; i < 3; i++) c.failure(now, s.mayEject);
  assert.ok(!c.isEjected(now), 'a third ejection would pass 50 %');
  assert.equal(s.pick(now, undefined) !== null, true);
  now += 1500;
  for (let i = 0; i < 3; i++) a.failure(now, s.mayEject);
  assert.equal(a.ejectedUntil, now + 2000, 'second ejection lasts twice as long');
});

test('an origin the active check marks down is never picked; none up gives null', () => {
  const s = set(2);
  s.origins[0].setUp(false);
  for (let i = 0; i < 20; i++) assert.equal(s.pick(Date.now())!.url, s.origins[1].url);
  s.origins[1].setUp(false);
  assert.equal(s.pick(Date.now()), null);
  s.origins[0].setUp(true);
  assert.equal(s.pick(Date.now())!.url, s.origins[0].url);
});

test('refused connections mark origins down past the ejection cap; a success in between resets the count', () => {
  const s = set(2);
  const [a, b] = s.origins;
  a.connectFailure();
  a.success();
  assert.equal(a.connectFailure(), false, 'one refusal after a success is not enough');
  assert.equal(a.connectFailure(), true, 'two in a row mark it down');
  assert.equal(b.connectFailure(), false);
  assert.equal(b.connectFailure(), true, 'the last origin too: a refused connection is not an outlier guess');
  assert.equal(s.pick(Date.now()), null, 'nothing left to pick: the endpoint fails over');
  a.setUp(true);
  assert.equal(s.pick(Date.now()), a, 'the active check brings it back');
});
