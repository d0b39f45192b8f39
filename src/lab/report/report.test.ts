import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Recorder } from '../recorder.js';
import { scenarioCharts } from './charts.js';
import { writeReport } from './write.js';

test('report: offline HTML with inline SVG, PNG per chart, summary.json', () => {
  const r = new Recorder(['us-east-1', 'us-west-2']);
  r.setPhase('before', 0);
  for (let t = 0; t < 5000; t += 50)
    r.add({
      t,
      method: 'GET',
      kind: 'idempotent',
      home: t % 300 ? 'us-east-1' : 'us-west-2',
      cohort: '',
      status: 200,
      servedRegion: t % 200 ? 'us-east-1' : 'us-west-2',
      edgeRegion: 'us-east-1',
      latencyMs: 20 + (t % 7),
      shed: false,
    });
  r.event(2500, 'origins killed <east>');
  const charts = scenarioCharts('kong', r);
  assert.deepEqual(
    charts.map((c) => c.name),
    ['kong-share', 'kong-errors', 'kong-p99', 'kong-territories'],
  );
  const dir = mkdtempSync(join(tmpdir(), 'meridian-report-'));
  const summary = {
    verdict: { pass: true, failures: [], checks: [{ name: 'a check', pass: true, detail: 'fine' }] },
  };
  const files = writeReport(dir, 'meridian lab: kong', [{ scenario: 'kong', charts, summary }], summary);
  const html = readFileSync(join(dir, 'index.html'), 'utf8');
  assert.match(html, /<svg xmlns/);
  assert.doesNotMatch(html, /<script|https?:\/\/(?!www\.w3\.org)/, 'nothing to fetch: opens offline');
  assert.match(html, /origins killed &lt;east&gt;/);
  const png = readFileSync(join(dir, 'kong-share.png'));
  assert.deepEqual([...png.subarray(1, 4)], [...Buffer.from('PNG')]);
  assert.equal(files.length, 6);
  assert.match(charts[3].svg, /us-west-2 p99/, 'one line per territory and percentile');
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')), summary);
});
