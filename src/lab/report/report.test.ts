import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Recorder } from '../recorder.js';
import { scenarioCharts } from './charts.js';
import { lineChart } from './svg-chart.js';
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

test('report: the answer policies side by side, as a table and a chart of failures per cohort', () => {
  const r = new Recorder(['us-east-1', 'us-west-2']);
  r.setPhase('before', 0);
  const base = { method: 'GET', kind: 'idempotent' as const, home: 'us-east-1', edgeRegion: 'us-east-1' };
  r.add({ ...base, t: 100, cohort: 'home ttl 5', status: 0, servedRegion: '', latencyMs: 5, shed: false });
  r.add({
    ...base,
    t: 1200,
    cohort: 'home+fallback ttl 5',
    status: 200,
    servedRegion: 'us-east-1',
    latencyMs: 5,
    shed: false,
  });
  const charts = scenarioCharts('kong', r);
  const policies = charts.find((c) => c.name === 'kong-policies');
  assert.ok(policies, 'a chart per answer policy when users were split');
  assert.match(policies.svg, /home\+fallback ttl 5/);
  const window = { all: 5400, idempotent: 5400, postWithKey: null, post: null };
  const summary = {
    notes: ['resolver: unbound 1.17.1'],
    cohorts: {
      'home ttl 5': {
        hostname: 'h-5.api.example.com',
        answers: 'home' as const,
        ttlS: 5,
        lastFailureMs: 5600,
        resolverShiftMs: 4900,
        requests: 889,
        failuresByKind: { idempotent: 26, postWithKey: 1, post: 3 },
        userErrorWindowMs: window,
        steadyOutsideHomeShare: 0,
        steadyP50Ms: 41,
        steadyP99Ms: 190,
      },
    },
    verdict: { pass: true, failures: [], checks: [] },
  };
  const dir = mkdtempSync(join(tmpdir(), 'meridian-report-'));
  writeReport(dir, 'meridian lab: kong', [{ scenario: 'kong', charts, summary }], summary);
  const html = readFileSync(join(dir, 'index.html'), 'utf8');
  assert.match(html, /<li>resolver: unbound 1\.17\.1<\/li>/);
  assert.match(
    html,
    /<td>home ttl 5<\/td><td>h-5\.api\.example\.com<\/td><td>889<\/td><td>26 \/ 1 \/ 3<\/td><td>4\.9 s<\/td><td>5\.4 s<\/td><td>5\.6 s<\/td><td>0\.0 %<\/td><td>41 \/ 190 ms<\/td>/,
  );
});

test('report: versions over time when a region served a new version; the rollout and outlier lines', () => {
  const r = new Recorder(['us-east-1', 'us-west-2']);
  r.setPhase('bad', 0);
  for (let t = 0; t < 4000; t += 100)
    r.add({
      t,
      method: 'GET',
      kind: 'idempotent',
      home: 'us-east-1',
      cohort: '',
      status: t % 300 ? 200 : 500,
      servedRegion: 'us-east-1',
      servedVersion: t < 2000 ? 'v1' : 'v3',
      edgeRegion: 'us-east-1',
      latencyMs: 20,
      shed: false,
    });
  const charts = scenarioCharts('bad-deploy', r);
  const versions = charts.find((c) => c.name === 'bad-deploy-versions');
  assert.ok(versions, charts.map((c) => c.name).join(', '));
  assert.match(versions.svg, /us-east-1 v3/);
  assert.doesNotMatch(versions.svg, /us-east-1 v1/, 'v1 is the rest');
  const summary = {
    verdict: { pass: false, failures: [], checks: [] },
    rollout: {
      id: 'r1',
      version: 'v3',
      result: 'rolled-back',
      regionsReached: ['us-east-1'],
      judgements: [{ at: 1, region: 'us-east-1', dial: 25, pass: false, why: 'errors 20 % > 2 %' }],
      message: '',
    },
    outlier: {
      evacuated: ['us-east-1'],
      dialsMoved: ['us-east-1'],
      evacuatedAtMs: { 'us-east-1': 14_000 },
      dialsMovedAtMs: { 'us-east-1': 14_000 },
      restoredAfterMs: 3500,
      globalAt: null,
      globalWhy: null,
      decisions: [],
    },
  };
  const dir = mkdtempSync(join(tmpdir(), 'meridian-report-'));
  writeReport(dir, 'meridian lab: bad-deploy', [{ scenario: 'bad-deploy', charts, summary }], summary);
  const html = readFileSync(join(dir, 'index.html'), 'utf8');
  assert.match(
    html,
    /rollout v3: rolled-back, reached us-east-1, 1 judgements; stopped by us-east-1 at dial 25: errors 20 % &gt; 2 %/,
  );
  assert.match(html, /outlier: evacuated us-east-1, restored 3\.5 s after the fix/);
  assert.ok(readFileSync(join(dir, 'bad-deploy-versions.png')).length > 0);
  assert.equal(
    scenarioCharts('steady', new Recorder(['us-east-1'])).length,
    4,
    'no versions chart on v1 alone',
  );
});

test('lineChart: a value every 30 s puts the x axis in minutes and events at their time', () => {
  const svg = lineChart({
    title: 'rss',
    yLabel: 'MB',
    secondsPerValue: 30,
    series: [{ name: 'edge', color: '#000', values: [1, 2, 3, 4, 5] }],
    events: [{ t: 60_000, label: 'kong #1' }],
  });
  assert.match(svg, />2min</);
  assert.doesNotMatch(svg, />2s</);
  // 5 values over the 695 px plot: the event at 60 s is the third value, halfway.
  assert.match(svg, /<line x1="402\.5" x2="402\.5"/);
  assert.match(
    lineChart({
      title: 't',
      yLabel: 'y',
      series: [{ name: 'a', color: '#000', values: [1, 2, 3] }],
      events: [],
    }),
    />2s</,
  );
});
