import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse, stringify } from 'yaml';
import { runCli } from './helpers/cli.js';

const CONFIG = ['--config', 'examples/two-regions.yaml'];

function explainJson(...args: string[]) {
  const r = runCli(['explain', ...CONFIG, '--json', ...args]);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test('Stanford, CA goes to us-west-2', () => {
  const e = explainJson('--client', '171.64.1.1');
  assert.equal(e.region, 'us-west-2');
  assert.equal(e.location.subdivision, 'US-CA');
  assert.equal(e.candidates[0].reason, 'territory');
  assert.deepEqual(e.answer.ipv4, ['198.51.100.10']);
  assert.equal(e.ttl, 30);
});

test('Columbia, NY goes to us-east-1', () => {
  const e = explainJson('--client', '128.59.1.1');
  assert.equal(e.region, 'us-east-1');
  assert.deepEqual(e.answer.ipv4, ['192.0.2.10']);
});

test('with us-east-1 DOWN, New York goes to us-west-2', () => {
  const e = explainJson('--client', '128.59.1.1', '--down', 'us-east-1');
  assert.equal(e.region, 'us-west-2');
  assert.equal(e.candidates[0].reason, 'health');
  assert.deepEqual(
    e.candidates.map((c: { region: string }) => c.region),
    ['us-west-2'],
  );
});

test('with us-east-1 dialled to 0, New York goes to us-west-2', () => {
  const e = explainJson('--client', '128.59.1.1', '--dial', 'us-east-1=0');
  assert.equal(e.region, 'us-west-2');
  assert.equal(e.candidates[0].reason, 'spill');
});

test('Sydney goes to the nearest region', () => {
  const e = explainJson('--client', '1.1.1.1');
  assert.equal(e.location.country, 'AU');
  assert.equal(e.region, 'us-west-2');
  assert.equal(e.candidates[0].reason, 'nearest');
});

test('text output names the location, region and reason', () => {
  const r = runCli(['explain', ...CONFIG, '--client', '171.64.1.1']);
  assert.equal(r.status, 0);
  assert.match(r.stdout, /Stanford, US-CA, US/);
  assert.match(r.stdout, /region\s+us-west-2/);
  assert.match(r.stdout, /territory US-CA maps to us-west-2/);
});

test('bad arguments give a clear error, no stack trace; exit 2 for a flag that does not parse', () => {
  for (const [status, args] of [
    [1, ['--client', 'not-an-ip']],
    [1, ['--client', '1.1.1.1', '--down', 'mars-1']],
    [2, ['--client', '1.1.1.1', '--dial', 'us-east-1=150']],
    [1, ['--client', '1.1.1.1', '--service', 'nope']],
  ] as const) {
    const r = runCli(['explain', ...CONFIG, ...args]);
    assert.equal(r.status, status, args.join(' '));
    assert.match(r.stderr, /^meridian: /);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
});

test('validate lists all three mistakes with line numbers and exits 1', () => {
  const file = join(tmpdir(), `meridian-bad-${process.pid}.yaml`);
  writeFileSync(
    file,
    [
      'zone:',
      '  name: example.com',
      'regions:',
      '  - id: us-east-1',
      '    location: { lat: 38.9, lon: -77.4 }',
      '    capacity: lots',
      '    addresses: { ipv4: [192.0.2.300] }',
      '    edge: http://127.0.0.1:8101',
      'services:',
      '  - name: api',
      '    hostname: api.example.com',
      '    colour: blue',
      '    origins: [{ region: us-east-1, urls: [http://127.0.0.1:9101] }]',
      '',
    ].join('\n'),
  );
  const r = runCli(['validate', file]);
  assert.equal(r.status, 1);
  const lines = r.stdout.trim().split('\n');
  assert.match(lines[0], new RegExp(`^${file}:6:\\d+: regions\\[0\\]\\.capacity: expected number`));
  assert.match(
    lines[1],
    new RegExp(`^${file}:7:\\d+: regions\\[0\\]\\.addresses\\.ipv4\\[0\\]: expected an IPv4 address`),
  );
  assert.match(lines[2], new RegExp(`^${file}:12:\\d+: services\\[0\\]\\.colour: unknown key "colour"`));
  assert.match(lines[3], /3 problems/);

  const json = runCli(['validate', file, '--json']);
  assert.equal(JSON.parse(json.stdout).problems.length, 3);
});

test('validate accepts the examples; schema prints JSON Schema', () => {
  assert.equal(runCli(['validate', 'examples/three-regions.yaml']).status, 0);
  const schema = JSON.parse(runCli(['schema']).stdout);
  assert.equal(schema.type, 'object');
  assert.ok(schema.properties.regions);
  assert.equal(schema.additionalProperties, false);
});

test('every command has --help', () => {
  for (const cmd of ['explain', 'validate', 'lab', 'schema']) {
    const r = runCli([cmd, '--help']);
    assert.equal(r.status, 0, cmd);
    assert.match(r.stdout, /Usage: meridian/);
  }
});

test('answers: home lists one region; home+fallback adds the next up region, never a DOWN one', () => {
  const home = explainJson('--client', '128.59.1.1');
  assert.equal(home.answers, 'home');
  assert.equal(home.fallback, null);
  const both = explainJson('--client', '128.59.1.1', '--answers', 'home+fallback');
  assert.equal(both.fallback, 'us-west-2');
  assert.deepEqual(both.answer.ipv4, ['192.0.2.10', '198.51.100.10']);
  assert.deepEqual(both.answer.ipv6, ['2001:db8:1::10', '2001:db8:2::10']);
  const down = explainJson('--client', '128.59.1.1', '--answers', 'home+fallback', '--down', 'us-west-2');
  assert.equal(down.fallback, null);
  assert.deepEqual(down.answer.ipv4, ['192.0.2.10']);
  const text = runCli(['explain', ...CONFIG, '--client', '128.59.1.1', '--answers', 'home+fallback']);
  assert.match(text.stdout, /answers\s+home\+fallback: then us-west-2/);
  const bad = runCli(['explain', ...CONFIG, '--client', '128.59.1.1', '--answers', 'everywhere']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^meridian: .*--answers/);
});

test('a service with its own ttl and answers: explain shows them; --answers still overrides', () => {
  const doc = parse(readFileSync('examples/two-regions.yaml', 'utf8'));
  doc.services.push({
    ...doc.services[0],
    name: 'www',
    hostname: 'www.example.com',
    ttl: 5,
    answers: 'home+fallback',
  });
  const file = join(mkdtempSync(join(tmpdir(), 'meridian-explain-')), 'meridian.yaml');
  writeFileSync(file, stringify(doc));
  const run = (...args: string[]) => {
    const r = runCli(['explain', '--config', file, '--client', '128.59.1.1', ...args]);
    assert.equal(r.status, 0, r.stderr);
    return r.stdout;
  };
  const www = JSON.parse(run('--service', 'www', '--json'));
  assert.deepEqual(
    [www.service.hostname, www.answers, www.fallback, www.ttl],
    ['www.example.com', 'home+fallback', 'us-west-2', 5],
  );
  assert.deepEqual(www.answer.ipv4, ['192.0.2.10', '198.51.100.10']);
  const api = JSON.parse(run('--service', 'api.example.com', '--json'));
  assert.deepEqual([api.answers, api.fallback, api.ttl], ['home', null, 30]);
  assert.deepEqual(JSON.parse(run('--service', 'www', '--answers', 'home', '--json')).answer.ipv4, [
    '192.0.2.10',
  ]);
  const text = run('--service', 'www');
  assert.match(text, /answer\s+192\.0\.2\.10 198\.51\.100\.10 .* ttl 5s/);
  assert.match(text, /answers\s+home\+fallback: then us-west-2/);
});
