import assert from 'node:assert/strict';
import { test } from 'node:test';
import { historyOps } from './history.js';
import type { Answered } from './user-client.js';

const answer = (status: number, body: unknown, stamp = ''): Answered => ({
  ok: true,
  status,
  servedRegion: 'east',
  servedVersion: 'v1',
  servedOrigin: 'east/0',
  stamp,
  attempts: '',
  body: JSON.stringify(body),
});
const at = { user: 'u1', session: 'east', startedAt: 100, endedAt: 130 };

test('a list read records every item it returned with its stamp, in the user session at its copy', () => {
  const ops = historyOps({
    ...at,
    op: { method: 'GET', path: '/users/u1/items', kind: 'idempotent' },
    answer: answer(200, { items: [{ id: 'i 1', value: 'A', stamp: 's1' }] }),
  });
  assert.deepEqual(ops, [
    {
      session: 'u1@east',
      region: 'east',
      startedAt: 100,
      endedAt: 130,
      kind: 'read',
      key: 'wl:u1/i%201',
      value: 'A',
      stamp: 's1',
      acknowledged: true,
    },
  ]);
});

test('writes carry the value and the stamp the origin answered; a failed one is not acknowledged', () => {
  const put = {
    method: 'PUT' as const,
    path: '/users/u1/items/i2',
    body: 'title 2',
    item: 'i2',
    kind: 'idempotent' as const,
  };
  const [ok] = historyOps({ ...at, op: put, answer: answer(200, {}, 's2') });
  assert.equal(ok.kind, 'write');
  assert.equal(ok.value, 'title 2');
  assert.equal(ok.stamp, 's2');
  assert.equal(ok.acknowledged, true);
  const [failed] = historyOps({ ...at, op: put, answer: null });
  assert.equal(failed.acknowledged, false);
  assert.equal(failed.stamp, undefined);
  const post = { method: 'POST' as const, path: '/users/u1/items', body: 'title 3', kind: 'post' as const };
  const [created] = historyOps({ ...at, op: post, answer: answer(201, { item: 'p-1' }, 's3') });
  assert.equal(created.key, 'wl:u1/p-1', 'a POST learns its item from the answer');
  assert.deepEqual(historyOps({ ...at, op: post, answer: null }), [], 'an unanswered POST names no item');
  const del = {
    method: 'DELETE' as const,
    path: '/users/u1/items/i2',
    item: 'i2',
    kind: 'idempotent' as const,
  };
  const [gone] = historyOps({ ...at, op: del, answer: answer(200, {}, 's4') });
  assert.equal(gone.kind, 'delete');
  assert.equal(gone.value, null);
});
