import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HistoryRecorder, type RecorderEvent } from './recorder.js';

function ticking() {
  let t = 0;
  return () => ++t;
}

test('an op that completes is acknowledged; one that fails or never ends is not', async () => {
  const rec = new HistoryRecorder({ now: ticking() });
  await rec.run(
    { session: 's', region: 'a', kind: 'write', key: 'k', value: 'v1' },
    async () => 'S1',
    (stamp) => ({ stamp }),
  );
  await assert.rejects(
    rec.run({ session: 's', region: 'a', kind: 'delete', key: 'k' }, async () => {
      throw new Error('down');
    }),
  );
  rec.invoke({ session: 's', region: 'a', kind: 'write', key: 'k', value: 'v3' });
  const read = rec.invoke({ session: 's', region: 'a', kind: 'read', key: 'k' });
  read.ok({ value: 'v1' });
  read.fail(); // a second completion is ignored
  assert.equal(rec.openCount(), 1);
  assert.deepEqual(
    rec.history().map((h) => [h.kind, h.value, h.stamp, h.acknowledged]),
    [
      ['write', 'v1', 'S1', true],
      ['delete', null, undefined, false],
      ['write', 'v3', undefined, false],
      ['read', 'v1', undefined, true],
    ],
  );
  assert.equal(rec.history()[0].startedAt, 1);
  assert.equal(rec.history()[0].endedAt, 2);
});

test("a child's JSON lines rebuild its history; ids of two children do not mix", () => {
  const lines: string[] = [];
  const child = new HistoryRecorder({ emit: (e: RecorderEvent) => lines.push(JSON.stringify(e)) });
  child.invoke({ session: 's', region: 'a', kind: 'write', key: 'k', value: 'v' }).ok({ stamp: 'S' });
  child.invoke({ session: 's', region: 'a', kind: 'write', key: 'k', value: 'w' }); // killed mid-write
  const parent = new HistoryRecorder();
  for (const line of lines) assert.equal(parent.ingestLine(line, 'w1'), true);
  for (const line of lines) parent.ingestLine(line, 'w2');
  assert.equal(parent.ingestLine('{"level":30,"msg":"a log line"}'), false);
  assert.equal(parent.ingestLine('not json'), false);
  const h = parent.history();
  assert.equal(h.length, 4);
  assert.equal(h.filter((o) => o.acknowledged).length, 2);
  assert.deepEqual(new Set(h.filter((o) => o.acknowledged).map((o) => o.stamp)), new Set(['S']));
});
