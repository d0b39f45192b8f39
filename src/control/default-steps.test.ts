import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultSteps } from './routes-write.js';

const cases = [
  { name: 'evacuate from 100', kind: 'evacuate' as const, dial: 100, expect: [75, 50, 25, 0] },
  { name: 'evacuate from 60', kind: 'evacuate' as const, dial: 60, expect: [50, 25, 0] },
  { name: 'restore from 0', kind: 'restore' as const, dial: 0, expect: [25, 50, 75, 100] },
  { name: 'restore from 50', kind: 'restore' as const, dial: 50, expect: [75, 100] },
  { name: 'restore at 100 changes nothing', kind: 'restore' as const, dial: 100, expect: [100] },
  { name: 'evacuate at 0 changes nothing', kind: 'evacuate' as const, dial: 0, expect: [0] },
];
for (const c of cases) {
  test(`defaultSteps: ${c.name}`, () => assert.deepEqual(defaultSteps(c.kind, c.dial), c.expect));
}
