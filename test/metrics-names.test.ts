// Every daemon's /metrics, fetched from the real process after some traffic,
// follows the Prometheus naming and exposition rules (promtool's when it is
// installed, and the same rules in test/helpers/prometheus-rules.ts always).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import packet from 'dns-packet';
import { request } from 'undici';
import { dnsConfig, startDns } from './dns-support.js';
import { appendYaml, closeServer, echo, startOrigin } from './edge-fixtures.js';
import { type Proc, startMeridian } from './helpers/cli.js';
import { configWithFreePorts } from './helpers/ports.js';
import { findProgram } from './helpers/programs.js';
import { checkMeridianExposition, parseExposition } from './helpers/prometheus-rules.js';
import { replicationConfigFile, startTwoRegionsOnNats } from './replication-helpers.js';

const promtool = findProgram('promtool');
if (!promtool && process.env.CI === 'true')
  throw new Error('CI=true and promtool is not installed (apt-get install prometheus)');
if (!promtool)
  process.stdout.write('# promtool is not installed (Debian package prometheus): rules checked here only\n');

/** The rule checker's verdict, and promtool's when installed. */
function assertFollowsRules(text: string, daemon: string) {
  assert.deepEqual(checkMeridianExposition(text, daemon), [], text);
  if (!promtool) return;
  const r = spawnSync(promtool, ['check', 'metrics'], { input: text, encoding: 'utf8' });
  assert.equal(r.status, 0, `promtool check metrics:\n${r.stdout}${r.stderr}`);
}

const samples = (text: string, name: string) => {
  const base = name.replace(/_(bucket|sum|count)$/, '');
  return (parseExposition(text).get(base)?.samples ?? []).filter((s) => s.name === name);
};

async function stop(p: Proc) {
  if (p.child.exitCode !== null) return;
  const exited = new Promise((r) => p.child.once('exit', r));
  p.child.kill('SIGTERM');
  await exited;
}

async function dnsQuery(port: number, name: string) {
  const socket = createSocket('udp4');
  try {
    const answered = new Promise((resolve) => socket.once('message', resolve));
    const query = packet.encode({ type: 'query', id: 7, questions: [{ type: 'A', name }] });
    socket.send(query, port, '127.0.0.1');
    await answered;
  } finally {
    socket.close();
  }
}

test('meridian dns (two workers): names, units and one series of process metrics per process', async () => {
  const { file } = await dnsConfig();
  const server = await startDns(file, ['--listen', '127.0.0.1:0', '--workers', '2']);
  try {
    for (let i = 0; i < 8; i++) await dnsQuery(server.port, i % 2 ? 'api.example.com' : 'nope.example.com');
    const text = await (await fetch(`http://${server.admin}/metrics`)).text();
    assertFollowsRules(text, 'dns');
    const count = samples(text, 'meridian_dns_query_duration_seconds_count');
    assert.equal(count[0]?.value, 8);
    assert.equal(samples(text, 'meridian_build_info').length, 1, 'one build_info, not one per worker');
    const rss = samples(text, 'process_resident_memory_bytes').map((s) => s.labels.get('worker'));
    assert.equal(rss.length, 3, 'the primary and two workers');
    assert.ok(rss.includes('primary'));
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

test('meridian dns and edge as one process: the same rules, process metrics without a worker label', async () => {
  const { file } = await dnsConfig();
  const dns = await startDns(file, ['--listen', '127.0.0.1:0', '--workers', '1']);
  try {
    await dnsQuery(dns.port, 'api.example.com');
    const text = await (await fetch(`http://${dns.admin}/metrics`)).text();
    assertFollowsRules(text, 'dns');
    assert.deepEqual(
      samples(text, 'process_open_fds').map((s) => s.labels.get('worker')),
      [undefined],
    );
  } finally {
    assert.equal(await dns.stop(), 0);
  }
  const cfg = await configWithFreePorts('examples/two-regions.yaml');
  const edge = await startEdge(cfg.file, 1, cfg.dir);
  try {
    const res = await request(`http://${edge.ready.listen}/`, { headers: { host: 'api.example.com' } });
    await res.body.dump();
    const text = await (await fetch(`http://${edge.ready.admin}/metrics`)).text();
    assertFollowsRules(text, 'edge');
    assert.equal(samples(text, 'meridian_edge_request_duration_seconds_count')[0]?.value, 1, text);
  } finally {
    await stop(edge);
  }
});

test('meridian edge (two workers): a request-duration histogram in seconds, process metrics per process', async () => {
  const cfg = await configWithFreePorts('examples/two-regions.yaml');
  appendYaml(cfg.file, 'edge:\n  admin: { faults: false }');
  const origins = await Promise.all([9101, 9102].map((p) => startOrigin(cfg.port(p), echo)));
  const logDir = mkdtempSync(join(tmpdir(), 'meridian-metrics-'));
  const edge = await startEdge(cfg.file, 2, logDir);
  try {
    for (let i = 0; i < 10; i++) {
      const res = await request(`http://${edge.ready.listen}/`, { headers: { host: 'api.example.com' } });
      await res.body.dump();
    }
    const text = await (await fetch(`http://${edge.ready.admin}/metrics`)).text();
    assertFollowsRules(text, 'edge');
    assert.doesNotMatch(text, /_ms_|duration_ms/);
    const count = samples(text, 'meridian_edge_request_duration_seconds_count');
    assert.equal(count[0]?.value, 10, text);
    assert.ok(samples(text, 'meridian_edge_request_duration_seconds_sum')[0].value > 0);
    const rss = samples(text, 'process_resident_memory_bytes').map((s) => s.labels.get('worker'));
    assert.equal(rss.length, 3, 'the primary and two workers');
  } finally {
    await stop(edge);
    await Promise.all(origins.map(closeServer));
  }
});

test('meridian control: the dial as a 0-1 ratio', async () => {
  const cfg = await configWithFreePorts('examples/two-regions.yaml');
  const control = await startMeridian(
    'control',
    ['control', '--config', cfg.file, '--listen', '127.0.0.1:0', '--state', join(cfg.dir, 'control.db')],
    cfg.dir,
    { MERIDIAN_LOG_LEVEL: 'warn' },
  );
  try {
    await fetch(`${control.ready.url}/v1/health`);
    const text = await (await fetch(`${control.ready.url}/metrics`)).text();
    assertFollowsRules(text, 'control');
    const dials = samples(text, 'meridian_control_dial_ratio');
    assert.equal(dials.length, 2, text);
    assert.ok(dials.every((d) => d.value === 1));
    assert.doesNotMatch(text, /meridian_control_region_dial\b/);
  } finally {
    await stop(control);
  }
});

test('meridian replication: names and units', async (t: TestContext) => {
  const servers = await startTwoRegionsOnNats(t);
  if (!servers) return;
  const { file } = await replicationConfigFile(servers, 'METRICS');
  const replication = await startMeridian(
    'replication',
    ['replication', '--config', file, '--region', 'us-west-2', '--admin', '127.0.0.1:0'],
    mkdtempSync(join(tmpdir(), 'meridian-metrics-')),
    { MERIDIAN_LOG_LEVEL: 'warn' },
  );
  try {
    const text = await (await fetch(`http://${replication.ready.admin}/metrics`)).text();
    assertFollowsRules(text, 'replication');
    assert.match(text, /^# TYPE meridian_replication_lag_seconds histogram$/m);
  } finally {
    await stop(replication);
  }
});

/** us-east-1's edge on free ports with this many workers, logging warnings and worse into `logDir`. */
function startEdge(configFile: string, workers: number, logDir: string) {
  return startMeridian(
    'edge',
    ['edge', '--config', configFile, '--region', 'us-east-1', '--listen', '127.0.0.1:0'].concat([
      '--admin',
      '127.0.0.1:0',
      '--workers',
      String(workers),
    ]),
    logDir,
    { MERIDIAN_LOG_LEVEL: 'warn' },
  );
}
