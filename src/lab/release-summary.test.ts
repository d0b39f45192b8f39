import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Bucket } from './recorder.js';
import { outlierSummary, restoredAfterMs, rolloutSummary, servedVersions } from './release-summary.js';

const full = () => 100;

test('restoredAfterMs: from the fix deployed to the dial back to full; null while one is not back', () => {
  const deploys = [
    { t: 10_000, region: 'a', version: 'v3', by: 'drill', phase: 'done' },
    { t: 20_000, region: 'a', version: 'v1', by: 'drill', phase: 'start' },
    { t: 22_000, region: 'a', version: 'v1', by: 'drill', phase: 'done' },
  ];
  const changes = [
    { t: 14_000, region: 'a', health: 'HEALTHY' as const, dial: 0 },
    { t: 24_000, region: 'a', health: 'HEALTHY' as const, dial: 50 },
    { t: 25_500, region: 'a', health: 'HEALTHY' as const, dial: 100 },
  ];
  assert.equal(restoredAfterMs(['a'], deploys, changes, full), 3500);
  const flap = [...changes, { t: 26_000, region: 'a', health: 'HEALTHY' as const, dial: 50 }];
  assert.equal(restoredAfterMs(['a'], deploys, flap, full), null, 'down again after: not back for good');
  const early = [changes[0], { t: 21_000, region: 'a', health: 'HEALTHY' as const, dial: 100 }];
  assert.equal(restoredAfterMs(['a'], deploys, early, full), 0, 'full while the fix deployed');
  assert.equal(restoredAfterMs(['a'], deploys, changes.slice(0, 2), full), null);
  assert.equal(restoredAfterMs(['a', 'b'], deploys, changes, full), null, 'b was never fixed');
  assert.equal(restoredAfterMs([], deploys, changes, full), null);
});

test('outlierSummary: regions seen evacuated, global, decisions; null without control', () => {
  assert.equal(outlierSummary(undefined, [], [], full), null);
  const s = outlierSummary(
    {
      globalAt: 12_345.6,
      globalWhy: 'every region bad',
      evacuated: new Map([['a', 13_000]]),
      decisions: [{ at: 1, region: 'a', decision: 'redirect', why: 'worse' }],
      rollout: null,
      lastError: null,
    },
    [],
    [],
    full,
  );
  assert.deepEqual(s, {
    evacuated: ['a'],
    dialsMoved: [],
    evacuatedAtMs: { a: 13_000 },
    dialsMovedAtMs: {},
    restoredAfterMs: null,
    globalAt: 12_346,
    globalWhy: 'every region bad',
    decisions: [{ at: 1, region: 'a', decision: 'redirect', why: 'worse' }],
  });
});

test('rolloutSummary: result, regions reached, judgements', () => {
  assert.equal(rolloutSummary(null), null);
  const r = rolloutSummary({
    id: 'r1',
    version: 'v3',
    status: 'rolled-back',
    phase: 'done',
    regionsReached: ['a'],
    judgements: [{ at: 5, region: 'a', dial: 25, pass: false, why: 'errors', metrics: [] }],
    message: 'canary failed',
  });
  assert.deepEqual(r, {
    id: 'r1',
    version: 'v3',
    result: 'rolled-back',
    regionsReached: ['a'],
    judgements: [{ at: 5, region: 'a', dial: 25, pass: false, why: 'errors' }],
    message: 'canary failed',
  });
});

test('servedVersions: each change of the set of versions a region served, by second', () => {
  const bucket = (second: number, versions: Record<string, Record<string, number>>) =>
    ({
      second,
      versions: new Map(Object.entries(versions).map(([r, v]) => [r, new Map(Object.entries(v))])),
    }) as unknown as Bucket;
  const served = servedVersions(
    [
      bucket(0, { a: { v1: 10 }, b: { v1: 3 } }),
      bucket(1, { a: { v1: 10 } }),
      bucket(2, { a: { v1: 2, v3: 5 } }),
      bucket(3, { a: { v3: 9 }, b: { v1: 1 } }),
    ],
    ['a', 'b', 'c'],
  );
  assert.deepEqual(served, {
    a: [
      { t: 0, versions: ['v1'] },
      { t: 2000, versions: ['v1', 'v3'] },
      { t: 3000, versions: ['v3'] },
    ],
    b: [{ t: 0, versions: ['v1'] }],
    c: [],
  });
});
