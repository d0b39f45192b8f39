import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { Counter, Histogram, Registry } from 'prom-client';
import { registerConventions } from '../../src/metrics-conventions.js';
import { findProgram } from './programs.js';
import { checkExposition, checkMeridianExposition } from './prometheus-rules.js';

const GOOD = `# HELP x_requests_total Requests
# TYPE x_requests_total counter
x_requests_total{status_class="2xx"} 3
# HELP x_duration_seconds Time taken
# TYPE x_duration_seconds histogram
x_duration_seconds_bucket{le="0.1"} 1
x_duration_seconds_bucket{le="1"} 3
x_duration_seconds_bucket{le="+Inf"} 3
x_duration_seconds_sum 1.2
x_duration_seconds_count 3
# HELP x_dial_ratio Share kept
# TYPE x_dial_ratio gauge
x_dial_ratio{region="a"} 0.5
`;

const BAD: { name: string; input: string; expect: RegExp }[] = [
  {
    name: 'latency as a counter of ms buckets (what the edge exported)',
    input: `# HELP x_duration_ms_bucket_total Requests by bucket
# TYPE x_duration_ms_bucket_total counter
x_duration_ms_bucket_total{le="5"} 3
x_duration_ms_bucket_total{le="+Inf"} 4
`,
    expect: /base unit|reserved for histograms|le label outside/,
  },
  {
    name: 'counter without _total',
    input: '# HELP x_requests Requests\n# TYPE x_requests counter\nx_requests 1\n',
    expect: /does not end in _total/,
  },
  {
    name: 'gauge ending in _total',
    input: '# HELP x_open_total Open\n# TYPE x_open_total gauge\nx_open_total 1\n',
    expect: /only counters end in _total/,
  },
  {
    name: 'no HELP',
    input: '# TYPE x_open gauge\nx_open 1\n',
    expect: /no HELP/,
  },
  {
    name: 'no TYPE',
    input: '# HELP x_open Open\nx_open 1\n',
    expect: /no TYPE/,
  },
  {
    name: 'invalid name',
    input: '# HELP 1x Open\n# TYPE 1x gauge\n1x 1\n',
    expect: /invalid metric name/,
  },
  {
    name: 'camelCase label',
    input: '# HELP x_open Open\n# TYPE x_open gauge\nx_open{statusClass="2xx"} 1\n',
    expect: /label statusClass is not snake_case/,
  },
  {
    name: 'ratio as a percent',
    input: '# HELP x_dial_ratio Dial\n# TYPE x_dial_ratio gauge\nx_dial_ratio{region="a"} 70\n',
    expect: /outside 0\.\.1/,
  },
  {
    name: 'duration not in seconds',
    input: '# HELP x_request_duration Took\n# TYPE x_request_duration gauge\nx_request_duration 3\n',
    expect: /_seconds/,
  },
  {
    name: 'histogram without +Inf, _sum, _count',
    input: '# HELP x_seconds Took\n# TYPE x_seconds histogram\nx_seconds_bucket{le="1"} 2\n',
    expect: /no _sum[\s\S]*no _count[\s\S]*no le="\+Inf"/,
  },
  {
    name: 'histogram buckets not cumulative',
    input: `# HELP x_seconds Took
# TYPE x_seconds histogram
x_seconds_bucket{le="0.1"} 5
x_seconds_bucket{le="1"} 2
x_seconds_bucket{le="+Inf"} 5
x_seconds_sum 1
x_seconds_count 5
`,
    expect: /not cumulative/,
  },
  {
    name: 'family split in two',
    input:
      '# HELP a_open Open\n# TYPE a_open gauge\na_open 1\n# HELP b_open B\n# TYPE b_open gauge\nb_open 1\na_open{x="1"} 2\n',
    expect: /split/,
  },
  {
    name: 'same name typed twice (counter and gauge)',
    input: '# HELP a_total A\n# TYPE a_total counter\na_total 1\n# TYPE a_total gauge\n',
    expect: /TYPE given twice|only counters/,
  },
];

test('the rule checker accepts a well-formed exposition', () => {
  assert.deepEqual(checkExposition(GOOD), []);
});

for (const c of BAD) {
  test(`the rule checker rejects: ${c.name}`, () => {
    const problems = checkExposition(c.input);
    assert.ok(problems.length > 0, 'no problem found');
    assert.match(problems.join('\n'), c.expect);
  });
}

test('prom-client output with the conventions passes, and lacks nothing Meridian requires', async () => {
  const registry = new Registry();
  new Counter({ name: 'x_things_total', help: 'Things', registers: [registry] }).inc();
  new Histogram({ name: 'x_wait_seconds', help: 'Waits', registers: [registry] }).observe(0.2);
  registerConventions(registry, 'dns');
  const text = await registry.metrics();
  assert.deepEqual(checkMeridianExposition(text, 'dns'), []);
  assert.match(
    text,
    /^meridian_build_info\{version="\d+\.\d+\.\d+[^"]*",node="v\d+[^"]*",daemon="dns"\} 1$/m,
  );
});

test('an exposition without build_info or process metrics fails the Meridian check', () => {
  const problems = checkMeridianExposition(GOOD, 'dns').join('\n');
  assert.match(problems, /meridian_build_info/);
  assert.match(problems, /process_resident_memory_bytes/);
  assert.match(problems, /nodejs_heap_size_used_bytes/);
  assert.match(problems, /process_open_fds/);
});

test('promtool (when installed) rejects what the edge used to export, as the checker does', (t) => {
  const promtool = findProgram('promtool');
  if (!promtool) return t.skip('promtool is not installed (Debian package prometheus)');
  const r = spawnSync(promtool, ['check', 'metrics'], { input: BAD[0].input, encoding: 'utf8' });
  assert.notEqual(r.status, 0);
  assert.match(r.stdout + r.stderr, /x_duration_ms_bucket_total/);
});
