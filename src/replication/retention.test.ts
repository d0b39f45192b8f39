import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { createMemoryTransport } from './memory-transport.js';
import {
  judgeRetention,
  retentionCheckIntervalMs,
  startRetentionMonitor,
  summarizeRetention,
} from './retention.js';
import type { RetentionInfo } from './transport.js';

const info = (o: Partial<RetentionInfo>): RetentionInfo => ({
  oldestPendingAgeMs: null,
  maxAgeMs: 100_000,
  gap: false,
  firstSeq: 1,
  lastSeq: 10,
  nextSeq: 11,
  ...o,
});

test('headroom is maxAge minus the age of the oldest event not taken', () => {
  const cases: [Partial<RetentionInfo>, number | null, boolean][] = [
    [{}, 100_000, false], // nothing pending: the whole maxAge
    [{ oldestPendingAgeMs: 10_000, nextSeq: 5 }, 90_000, false],
    [{ oldestPendingAgeMs: 75_000, nextSeq: 5 }, 25_000, false], // exactly 25 %: not yet low
    [{ oldestPendingAgeMs: 75_001, nextSeq: 5 }, 24_999, true],
    [{ oldestPendingAgeMs: 120_000, nextSeq: 5 }, 0, true], // never negative
    [{ oldestPendingAgeMs: 120_000, maxAgeMs: null }, null, false], // bounded by count: no headroom
  ];
  for (const [given, headroom, low] of cases) {
    const judged = judgeRetention(info(given));
    assert.equal(judged.headroomMs, headroom, JSON.stringify(given));
    assert.equal(judged.low, low, JSON.stringify(given));
  }
});

test('a gap is a next sequence below the first kept, unless a resync covered it', () => {
  const cases: [Partial<RetentionInfo>, number, boolean][] = [
    [{ firstSeq: 5, nextSeq: 5 }, 0, false],
    [{ firstSeq: 5, nextSeq: 4 }, 0, true],
    [{ firstSeq: 11, lastSeq: 10, nextSeq: 3 }, 0, true], // the stream aged out entirely
    [{ firstSeq: 11, lastSeq: 10, nextSeq: 11 }, 0, false], // it had taken everything
    [{ firstSeq: 8, nextSeq: 3 }, 7, false], // a resync began after event 7
    [{ firstSeq: 9, nextSeq: 3 }, 7, true], // event 8 was lost after the resync began
  ];
  for (const [given, covered, gap] of cases) {
    assert.equal(judgeRetention(info(given), covered).gap, gap, JSON.stringify([given, covered]));
  }
});

test('the summary reports the worst source and every gapped one', () => {
  assert.equal(summarizeRetention(new Map()), null);
  const pair = (headroomMs: number | null, low: boolean, gap: boolean) => ({
    headroomMs,
    maxAgeMs: 100_000,
    oldestPendingAgeMs: null,
    low,
    gap,
  });
  assert.deepEqual(
    summarizeRetention(
      new Map([
        ['a', pair(90_000, false, false)],
        ['b', pair(20_000, true, false)],
        ['c', pair(null, false, true)],
      ]),
    ),
    { headroomS: 20, low: true, gap: true, gapFrom: ['c'] },
  );
});

test('checks come a twentieth of maxAge apart, within bounds', () => {
  assert.equal(retentionCheckIntervalMs(3_000), 250);
  assert.equal(retentionCheckIntervalMs(60_000), 3_000);
  assert.equal(retentionCheckIntervalMs(86_400_000), 30_000);
});

test('the memory transport flags a gap once its log dropped what a destination had not taken', async () => {
  const transport = createMemoryTransport({ retainMessages: 3 });
  const registry = new Registry();
  const monitor = startRetentionMonitor({ region: 'b', sources: ['a', 'b'], transport, registry });
  const taken: number[] = [];
  const sub = await transport.subscribe('a', 'b', async (d) => {
    taken.push(d[0]);
  });
  await transport.publish('a', Uint8Array.of(1));
  while (taken.length < 1) await new Promise((r) => setTimeout(r, 5));
  await sub.close();
  assert.equal((await monitor.check()).get('a')?.gap, false);
  for (let i = 2; i <= 4; i++) await transport.publish('a', Uint8Array.of(i));
  assert.equal((await monitor.check()).get('a')?.gap, false, 'nothing dropped yet (3 kept)');
  await transport.publish('a', Uint8Array.of(5));
  const pair = (await monitor.check()).get('a');
  assert.equal(pair?.gap, true);
  assert.equal(pair?.headroomMs, null);
  assert.match(await registry.metrics(), /meridian_replication_gap\{source="a",destination="b"\} 1/);
  assert.deepEqual(monitor.summary()?.gapFrom, ['a']);
  monitor.close();
});
