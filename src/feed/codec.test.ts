import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig, snapshotFromConfig } from '../config/index.js';
import { compareSnapshots, snapshotFromJson, snapshotToJson } from './codec.js';

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

test('epoch: absent reads as 0 and epoch 0 is left out (old data planes read it); order is (epoch, version)', () => {
  const snap = snapshotFromConfig(loadConfig('examples/two-regions.yaml'), { version: 5 });
  const wire = snapshotToJson(snap);
  assert.equal('epoch' in wire, false);
  assert.equal(snapshotFromJson(wire).epoch ?? 0, 0);
  assert.equal(snapshotFromJson({ ...wire, epoch: 7 }).epoch, 7);
  const cases = [
    { a: { version: 4 }, b: { version: 5 }, older: true },
    { a: { version: 5, epoch: 0 }, b: { version: 5 }, older: false },
    { a: { version: 900, epoch: 1 }, b: { version: 5, epoch: 2 }, older: true },
    { a: { version: 1, epoch: 3 }, b: { version: 900, epoch: 2 }, older: false },
  ];
  for (const c of cases) assert.equal(compareSnapshots(c.a, c.b) < 0, c.older, JSON.stringify(c));
});
