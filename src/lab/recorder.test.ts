import assert from 'node:assert/strict';
import { test } from 'node:test';
import { percentile, Recorder } from './recorder.js';

test('percentile', () => {
  const cases = [
    { name: 'empty', input: [] as number[], p: 99, expect: null },
    { name: 'one', input: [5], p: 99, expect: 5 },
    { name: 'hundred', input: Array.from({ length: 100 }, (_, i) => i + 1), p: 99, expect: 99 },
    { name: 'median', input: [3, 1, 2], p: 50, expect: 2 },
  ];
  for (const c of cases) assert.equal(percentile(c.input, c.p), c.expect, c.name);
});

test('recorder counts shares, failures (shed included) and kinds per phase', () => {
  const r = new Recorder(['east', 'west']);
  r.setPhase('before', 0);
  const base = {
    method: 'GET',
    kind: 'idempotent' as const,
    edgeRegion: 'east',
    latencyMs: 10,
    shed: false,
    home: 'east',
    cohort: '',
  };
  r.add({ ...base, t: 100, status: 200, servedRegion: 'east' });
  r.add({ ...base, t: 200, status: 200, servedRegion: 'east' });
  r.add({ ...base, t: 300, status: 200, servedRegion: 'west', tries: 2 });
  r.add({ ...base, t: 400, status: 502, servedRegion: '' });
  r.setPhase('after', 1000);
  r.add({ ...base, t: 1100, status: 503, servedRegion: '', shed: true });
  r.add({ ...base, t: 1200, method: 'POST', kind: 'post', status: 0, servedRegion: '', reason: 'timeout' });
  r.add({ ...base, t: 1300, status: 200, servedRegion: 'west' });
  assert.deepEqual(r.totals, { total: 7, ok: 4, failed: 3, failedIdempotent: 2, shed: 1 });
  assert.deepEqual(r.failedByKind, { idempotent: 2, postWithKey: 0, post: 1 });
  assert.deepEqual(r.requestsByKind, { idempotent: 6, postWithKey: 0, post: 1 });
  assert.deepEqual(
    r.failed.map((f) => [f.at, f.kind]),
    [
      [410, 'idempotent'],
      [1110, 'idempotent'],
      [1210, 'post'],
    ],
  );
  assert.equal(r.multiTry, 1);
  assert.deepEqual(r.sharesByPhase(), { before: { east: 0.667, west: 0.333 }, after: { east: 0, west: 1 } });
  assert.deepEqual(Object.fromEntries(r.failures), {
    'HTTP 502': 1,
    'shed (HTTP 503)': 1,
    'no answer: timeout': 1,
  });
  assert.equal(r.buckets.length, 2);
  assert.equal(r.buckets[1].phase, 'after');
  assert.equal(r.buckets[1].failed, 2, 'a shed request is a failed one');
  assert.match(r.line(), /t=0s before +east 67% west 33% {2}4 req\/s {2}failed 1 \(shed 0\)/);
});

test('recorder: latency per territory and phase, steady share served outside home per cohort', () => {
  const r = new Recorder(['east', 'west']);
  r.setPhase('before', 0);
  const base = { method: 'GET', kind: 'idempotent' as const, edgeRegion: 'east', shed: false, status: 200 };
  r.add({ ...base, t: 10, latencyMs: 10, servedRegion: 'east', home: 'east', cohort: 'home' });
  r.add({ ...base, t: 20, latencyMs: 50, servedRegion: 'west', home: 'east', cohort: 'fallback' });
  r.add({ ...base, t: 30, latencyMs: 12, servedRegion: 'east', home: 'east', cohort: 'fallback' });
  r.add({
    ...base,
    t: 40,
    latencyMs: 8,
    edgeRegion: 'west',
    servedRegion: 'west',
    home: 'west',
    cohort: 'home',
  });
  // Through the far edge, bridged back to the home origins: still outside home (a far front door).
  r.add({
    ...base,
    t: 45,
    latencyMs: 40,
    edgeRegion: 'west',
    servedRegion: 'east',
    home: 'east',
    cohort: 'fallback',
  });
  r.setPhase('outage', 1000);
  r.add({ ...base, t: 1010, latencyMs: 60, servedRegion: 'west', home: 'east', cohort: 'home' });
  assert.deepEqual(
    Object.fromEntries([...r.territories].map(([home, phases]) => [home, Object.fromEntries(phases)])),
    { east: { before: [10, 50, 12, 40], outage: [60] }, west: { before: [8] } },
  );
  assert.deepEqual(r.cohorts.get('home'), {
    requests: 3,
    failedByKind: { idempotent: 0, postWithKey: 0, post: 0 },
    steadyOk: 2,
    steadyOutsideHome: 0,
    steadyLatencies: [10, 8],
  });
  assert.equal(r.cohorts.get('fallback')?.steadyOutsideHome, 2);
  assert.deepEqual(r.buckets[0].latenciesByHome.get('east'), [10, 50, 12, 40]);
});

test('window: the whole seconds since the given one, the second in progress left out', () => {
  const r = new Recorder(['east']);
  const base = {
    method: 'GET',
    kind: 'idempotent' as const,
    edgeRegion: 'east',
    servedRegion: 'east',
    shed: false,
    home: 'east',
    cohort: '',
  };
  for (let i = 0; i < 100; i++) r.add({ ...base, t: 1000 + i, status: 200, latencyMs: i + 1 });
  r.add({ ...base, t: 1500, status: 502, latencyMs: 5 });
  r.add({ ...base, t: 500, status: 200, latencyMs: 1000 });
  r.add({ ...base, t: 2100, status: 200, latencyMs: 5000 });
  assert.deepEqual(r.window(1), {
    fromSecond: 1,
    toSecond: 2,
    requests: 101,
    failed: 1,
    p50Ms: 50,
    p99Ms: 99,
  });
  assert.equal(r.window(0).requests, 102);
  assert.equal(r.window(0).p99Ms, 100, '101 latencies: the 100th');
  assert.equal(r.window(2).requests, 0);
  assert.equal(r.window(2).p99Ms, null);
});
