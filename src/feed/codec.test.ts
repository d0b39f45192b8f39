import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig, snapshotFromConfig } from '../config/index.js';
import { snapshotFromJson, snapshotToJson } from './codec.js';

test('a snapshot survives JSON, region ids like __proto__ included', () => {
  const snap = snapshotFromConfig(loadConfig('examples/three-regions.yaml'), {
    dials: new Map([['us-east-1', 40]]),
  });
  const back = snapshotFromJson(JSON.parse(JSON.stringify(snapshotToJson(snap))));
  assert.deepEqual(back, snap);
  const odd = { ...snapshotToJson(snap), regions: [{ ...snapshotToJson(snap).regions[0], id: '__proto__' }] };
  assert.equal(snapshotFromJson(JSON.parse(JSON.stringify(odd))).regions.get('__proto__')?.dial, 40);
});

test('a malformed snapshot is rejected with the path of the problem', () => {
  assert.throws(
    () => snapshotFromJson({ version: 1, regions: [{ id: 'x' }], policy: {} }),
    (e: Error & { code: string; details: string[] }) =>
      e.code === 'BAD_REQUEST' && e.details.some((d) => d.startsWith('regions.0')),
  );
});
