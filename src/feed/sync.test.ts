import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { mergeSync, registerSyncMetrics, type SnapshotSync } from './sync.js';

const of = (status: SnapshotSync['status'], refused = 0): SnapshotSync => ({
  status,
  from: status === 'unsynced' ? 'config' : 'control',
  connected: status === 'synced',
  epoch: 1,
  version: 2,
  refused,
});

test('workers merge to the worst status, refusals summed', () => {
  const cases = [
    { name: 'all synced', input: [of('synced'), of('synced')], expect: 'synced' },
    { name: 'one static', input: [of('synced'), of('static')], expect: 'static' },
    { name: 'one unsynced', input: [of('unsynced'), of('static')], expect: 'unsynced' },
  ];
  for (const c of cases)
    assert.equal(c.input.reduce<SnapshotSync | undefined>(mergeSync, undefined)?.status, c.expect, c.name);
  assert.equal(mergeSync(of('synced', 2), of('synced', 3))?.refused, 5);
  assert.equal(mergeSync(undefined, undefined), undefined, 'no control: nothing to merge');
});

test('metrics: synced and unsynced gauges', async () => {
  let sync = of('unsynced');
  const registry = new Registry();
  registerSyncMetrics(registry, () => sync);
  const text = await registry.metrics();
  assert.match(text, /^meridian_snapshot_unsynced 1$/m);
  assert.match(text, /^meridian_snapshot_synced 0$/m);
  sync = of('synced', 3);
  const now = await registry.metrics();
  assert.match(now, /^meridian_snapshot_synced 1$/m);
  assert.match(now, /^meridian_snapshot_refused_total 3$/m);
});
