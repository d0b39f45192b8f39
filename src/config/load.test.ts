import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { loadConfig, parseConfigText } from './load.js';

const base = readFileSync('examples/two-regions.yaml', 'utf8');

test('both examples are valid', () => {
  for (const file of ['examples/two-regions.yaml', 'examples/three-regions.yaml']) {
    const cfg = loadConfig(file);
    assert.ok(cfg.regions.length >= 2, file);
  }
});

test('two-regions.yaml has the values other parts depend on', () => {
  const cfg = loadConfig('examples/two-regions.yaml');
  assert.equal(cfg.zone.name, 'example.com');
  assert.deepEqual(
    cfg.regions.map((r) => [r.id, r.location.lat, r.location.lon, r.addresses.ipv4[0], r.edge]),
    [
      ['us-east-1', 38.9, -77.4, '192.0.2.10', 'http://127.0.0.1:8101'],
      ['us-west-2', 45.6, -121.2, '198.51.100.10', 'http://127.0.0.1:8201'],
    ],
  );
  const api = cfg.services[0];
  assert.equal(api.hostname, 'api.example.com');
  assert.deepEqual(
    api.origins.map((o) => o.urls),
    [
      ['http://127.0.0.1:9101', 'http://127.0.0.1:9102'],
      ['http://127.0.0.1:9201', 'http://127.0.0.1:9202'],
    ],
  );
  const codes = cfg.steering.territories.flatMap((t) => t.codes);
  assert.equal(codes.length, 51, 'every state and DC');
  assert.deepEqual(cfg.trust.proxies, ['127.0.0.1/32', '::1/128']);
});

interface BadCase {
  name: string;
  edit: (yaml: string) => string;
  expect: { line: number; path: string; message: RegExp }[];
}

const bad: BadCase[] = [
  {
    name: 'a string where a number belongs',
    edit: (y) =>
      y.replace('capacity: 1000\n    addresses: { ipv4: [198', 'capacity: many\n    addresses: { ipv4: [198'),
    expect: [{ line: 20, path: 'regions[1].capacity', message: /expected number/ }],
  },
  {
    name: 'an unknown key',
    edit: (y) => y.replace('  ttl: 30\n', '  ttl: 30\n  tll: 5\n'),
    expect: [{ line: 6, path: 'zone.tll', message: /unknown key "tll"/ }],
  },
  {
    name: 'a territory for a region that does not exist',
    edit: (y) => y.replace('    - region: us-west-2\n      codes', '    - region: us-west-3\n      codes'),
    expect: [{ line: 37, path: 'steering.territories[0].region', message: /got "us-west-3"/ }],
  },
  {
    name: 'a territory mapped twice',
    edit: (y) => y.replace('US-AL,', 'US-CA,'),
    expect: [{ line: 42, path: 'steering.territories[1].codes[0]', message: /already mapped to us-west-2/ }],
  },
  {
    name: 'a missing required key',
    edit: (y) => y.replace('    edge: http://127.0.0.1:8101\n', ''),
    expect: [{ line: 11, path: 'regions[0].edge', message: /missing: expected string/ }],
  },
  {
    name: 'a bad duration',
    edit: (y) => y.replace('interval: 1s', 'interval: soon'),
    expect: [{ line: 32, path: 'services[0].healthCheck.interval', message: /duration/ }],
  },
  {
    name: 'a hostname outside the zone',
    edit: (y) => y.replace('hostname: api.example.com', 'hostname: api.example.org'),
    expect: [{ line: 26, path: 'services[0].hostname', message: /inside the zone example.com/ }],
  },
  {
    name: "a service's TTL above a day",
    edit: (y) => y.replace('hostname: api.example.com\n', 'hostname: api.example.com\n    ttl: 86401\n'),
    expect: [{ line: 27, path: 'services[0].ttl', message: /<=86400/ }],
  },
  {
    name: "a service's answer policy that does not exist",
    edit: (y) => y.replace('hostname: api.example.com\n', 'hostname: api.example.com\n    answers: both\n'),
    expect: [{ line: 27, path: 'services[0].answers', message: /"home"\|"home\+fallback"/ }],
  },
  {
    name: 'YAML syntax: a key given twice',
    edit: (y) => y.replace('  ttl: 30\n', '  ttl: 30\n  ttl: 40\n'),
    expect: [{ line: 6, path: '', message: /YAML syntax: Map keys must be unique/ }],
  },
];

for (const c of bad) {
  test(`config problem: ${c.name}`, () => {
    const { config, problems } = parseConfigText(c.edit(base), 'm.yaml');
    assert.equal(config, undefined);
    assert.equal(problems.length, c.expect.length, JSON.stringify(problems));
    c.expect.forEach((e, i) => {
      assert.equal(problems[i].file, 'm.yaml');
      assert.equal(problems[i].line, e.line, JSON.stringify(problems[i]));
      assert.equal(problems[i].path, e.path);
      assert.match(problems[i].message, e.message);
    });
  });
}

test('three mistakes are all reported, in line order', () => {
  const yaml = base
    .replace('capacity: 1000', 'capacity: -5')
    .replace('  ttl: 30\n', '  ttl: 30\n  colour: red\n')
    .replace('overflow: shed', 'overflow: explode');
  const { problems } = parseConfigText(yaml, 'm.yaml');
  assert.deepEqual(
    problems.map((p) => p.path),
    ['zone.colour', 'regions[0].capacity', 'steering.overflow'],
  );
  assert.ok(problems.every((p) => p.line > 0));
});

test('a missing file is CONFIG_UNREADABLE and names the file', () => {
  assert.throws(
    () => loadConfig('/nonexistent/meridian.yaml'),
    (e: Error & { code: string }) => {
      assert.equal(e.code, 'CONFIG_UNREADABLE');
      assert.match(e.message, /\/nonexistent\/meridian\.yaml/);
      return true;
    },
  );
});

test('a region called __proto__ is an ordinary region', () => {
  const yaml = base.replaceAll('us-east-1', '__proto__');
  const { config, problems } = parseConfigText(yaml, 'm.yaml');
  assert.deepEqual(problems, []);
  assert.equal(config!.regions[0].id, '__proto__');
  assert.equal(Object.getPrototypeOf(config!.regions[0]), Object.prototype);
});

test('durations come out in whole milliseconds (AbortSignal.timeout refuses a fraction)', () => {
  const yaml = base
    .replace('interval: 1s', 'interval: 1.0004s')
    .concat('edge:\n  peerProbeInterval: 333.3333\n');
  const { config, problems } = parseConfigText(yaml, 'm.yaml');
  assert.deepEqual(problems, []);
  assert.equal(config!.services[0].healthCheck.interval, 1000);
  assert.equal(config!.edge.peerProbeInterval, 333);
  assert.doesNotThrow(() => AbortSignal.timeout(config!.edge.peerProbeInterval));
});
