// The qtype label is chosen by whoever sends the query: it must stay a small
// fixed set (known types, else "other"), whatever arrives.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DnsMetrics } from '../src/dns/metrics.js';

test('1000 distinct random qtypes give a bounded qtype label set', async () => {
  const metrics = new DnsMetrics();
  let state = 12345;
  const seen = new Set<number>();
  let sent = 0;
  while (seen.size < 1000) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    const qtype = state >>> 16;
    seen.add(qtype);
    metrics.query(qtype, 0, false);
    sent++;
  }
  metrics.query(1, 0, false);
  metrics.query(28, 3, true);
  const json = await metrics.registry.getSingleMetric('meridian_dns_queries_total')!.get();
  const labels = new Set(json.values.map((v) => String(v.labels.qtype)));
  assert.ok(labels.size <= 30, `qtype labels: ${[...labels].join(',')}`);
  assert.ok(labels.has('other'));
  assert.ok(labels.has('A') && labels.has('AAAA'));
  for (const l of labels) assert.match(l, /^[A-Z0-9]+$|^other$|^none$/);
  assert.ok(!/^TYPE\d+$/.test([...labels].join(' ')), 'no TYPEnnn labels');
  const total = json.values.reduce((n, v) => n + v.value, 0);
  assert.equal(total, sent + 2, 'every query counted');
});
