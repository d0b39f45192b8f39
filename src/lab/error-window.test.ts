import assert from 'node:assert/strict';
import { test } from 'node:test';
import { errorWindow } from './error-window.js';
import type { FailedRequest } from './recorder.js';

test('errorWindow: first to last failure after the kill, by kind', () => {
  const f = (at: number, kind: FailedRequest['kind']): FailedRequest => ({ at, kind, cohort: '' });
  const cases = [
    {
      name: 'nothing failed',
      failed: [],
      from: 0,
      expect: { all: null, idempotent: null, postWithKey: null, post: null },
    },
    {
      name: 'one failure: 0 ms',
      failed: [f(5000, 'post')],
      from: 1000,
      expect: { all: 0, idempotent: null, postWithKey: null, post: 0 },
    },
    {
      name: 'failures before the kill do not count',
      failed: [f(500, 'idempotent'), f(10_000, 'idempotent'), f(12_500, 'idempotent'), f(11_000, 'post')],
      from: 9000,
      expect: { all: 2500, idempotent: 2500, postWithKey: null, post: 0 },
    },
    {
      name: 'kinds apart, all together',
      failed: [f(10_000, 'postWithKey'), f(10_400, 'postWithKey'), f(30_000, 'post')],
      from: 9000,
      expect: { all: 20_000, idempotent: null, postWithKey: 400, post: 0 },
    },
  ];
  for (const c of cases) assert.deepEqual(errorWindow(c.failed, c.from), c.expect, c.name);
});
