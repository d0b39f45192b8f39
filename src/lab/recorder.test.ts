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

test('recorder counts shares, failures and shed per phase', () => {
  const r = new Recorder(['east', 'west']);
  r.setPhase('before', 0);
  const base = { method: 'GET', edgeRegion: 'east', latencyMs: 10, shed: false };
  r.add({ ...base, t: 100, status: 200, servedRegion: 'east' });
  r.add({ ...base, t: 200, status: 200, servedRegion: 'east' });
  r.add({ ...base, t: 300, status: 200, servedRegion: 'west' });
  r.add({ ...base, t: 400, status: 502, servedRegion: '' });
  r.setPhase('after', 1000);
  r.add({ ...base, t: 1100, status: 503, servedRegion: '', shed: true });
  r.add({ ...base, t: 1200, method: 'POST', status: 0, servedRegion: '' });
  r.add({ ...base, t: 1300, status: 200, servedRegion: 'west' });
  assert.deepEqual(r.totals, { total: 7, ok: 4, failed: 2, failedIdempotent: 1, shed: 1 });
  assert.deepEqual(r.sharesByPhase(), { before: { east: 0.667, west: 0.333 }, after: { east: 0, west: 1 } });
  assert.deepEqual(Object.fromEntries(r.failures), { 'HTTP 502': 1, 'no answer': 1 });
  assert.equal(r.buckets.length, 2);
  assert.equal(r.buckets[1].phase, 'after');
  assert.match(r.line(), /t=0s before +east 67% west 33% {2}4 req\/s {2}errors 1/);
});
