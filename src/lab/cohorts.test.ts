import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse, stringify } from 'yaml';
import { loadConfig, type MeridianConfig, parseConfigText } from '../config/index.js';
import { servicesByHost } from '../edge/service-runtime.js';
import { cohortFor, cohortOf, labCohorts } from './cohorts.js';
import { type LabWiring, labConfigDocument } from './lab-config.js';

const example = () => loadConfig('examples/two-regions.yaml');

/** examples/two-regions.yaml changed by `edit`, parsed. */
// biome-ignore lint/suspicious/noExplicitAny: a yaml document, edited freely
function configWith(edit: (doc: Record<string, any>) => void): MeridianConfig {
  const doc = parse(readFileSync('examples/two-regions.yaml', 'utf8'));
  edit(doc);
  const { config, problems } = parseConfigText(stringify(doc), 'm.yaml');
  assert.deepEqual(problems, []);
  return config!;
}

test('four cohorts: home and home+fallback at TTL 30 and 5; the config’s own pair keeps the real hostname', () => {
  const cohorts = labCohorts(example());
  assert.deepEqual(
    cohorts.map((c) => [c.name, c.hostname, c.service, c.answers, c.ttl, c.own]),
    [
      ['home ttl 30', 'api.example.com', 'api', 'home', 30, true],
      ['home ttl 5', 'h-5.api.example.com', 'api-h-5', 'home', 5, false],
      ['home+fallback ttl 30', 'hf-30.api.example.com', 'api-hf-30', 'home+fallback', 30, false],
      ['home+fallback ttl 5', 'hf-5.api.example.com', 'api-hf-5', 'home+fallback', 5, false],
    ],
  );
});

test('the own cohort follows the service’s own ttl and answers, then steering.answers and zone.ttl', () => {
  const own = (c: MeridianConfig) => labCohorts(c).find((x) => x.own)!;
  const viaService = configWith((d) => {
    d.services[0].ttl = 5;
    d.services[0].answers = 'home+fallback';
  });
  assert.equal(own(viaService).name, 'home+fallback ttl 5');
  assert.equal(own(viaService).hostname, 'api.example.com');
  assert.ok(labCohorts(viaService).some((c) => c.hostname === 'h-30.api.example.com'));
  const viaZone = configWith((d) => {
    d.zone.ttl = 5;
    d.steering.answers = 'home+fallback';
  });
  assert.equal(own(viaZone).name, 'home+fallback ttl 5');
});

test('a config whose own pair is none of the four is a fifth cohort, listed first', () => {
  const cohorts = labCohorts(configWith((d) => (d.zone.ttl = 60)));
  assert.equal(cohorts.length, 5);
  assert.deepEqual(
    [cohorts[0].name, cohorts[0].hostname, cohorts[0].own],
    ['home ttl 60', 'api.example.com', true],
  );
  assert.ok(cohorts.slice(1).every((c) => !c.own && c.hostname.endsWith('.api.example.com')));
});

test('every cohort hostname stays inside the zone, also when the service sits at the apex', () => {
  const apex = configWith((d) => (d.services[0].hostname = 'example.com'));
  for (const c of labCohorts(apex))
    assert.ok(c.hostname === 'example.com' || c.hostname.endsWith('.example.com'));
  assert.ok(labCohorts(apex).some((c) => c.hostname === 'hf-5.example.com'));
});

test('a derived hostname or service name already in use is CONFIG_INVALID, naming it', () => {
  const clash = configWith((d) =>
    d.services.push({ ...d.services[0], name: 'other', hostname: 'hf-5.api.example.com' }),
  );
  assert.throws(
    () => labCohorts(clash),
    (e: Error & { code: string }) => e.code === 'CONFIG_INVALID' && /hf-5\.api\.example\.com/.test(e.message),
  );
  const record = configWith((d) => (d.zone.records = [{ name: 'h-5.api', type: 'TXT', values: ['x'] }]));
  assert.throws(() => labCohorts(record), /h-5\.api\.example\.com/);
  const name = configWith((d) =>
    d.services.push({ ...d.services[0], name: 'api-h-5', hostname: 'b.example.com' }),
  );
  assert.throws(() => labCohorts(name), /service name api-h-5/);
});

test('cohortOf: users spread evenly and the same every time, by index or by id', () => {
  const cohorts = labCohorts(example());
  const counts = new Map<string, number>();
  for (let i = 0; i < 1000; i++) {
    const name = cohortOf(cohorts, i);
    counts.set(name, (counts.get(name) ?? 0) + 1);
    assert.equal(cohortOf(cohorts, `u${i}`), name, 'user u<i> is index i');
  }
  assert.deepEqual([...counts.values()], [250, 250, 250, 250]);
  assert.equal(cohortOf(cohorts, 'alice'), cohortOf(cohorts, 'alice'));
  const byHash = new Set(Array.from({ length: 200 }, (_, i) => cohortOf(cohorts, `user-${i}-x`)));
  assert.equal(byHash.size, 4, 'ids without an index still reach every cohort');
  assert.equal(cohortFor(cohorts, 3).hostname, 'hf-5.api.example.com');
});

function wiring(cohorts?: LabWiring['cohorts']): LabWiring {
  return {
    edgeUrls: new Map([
      ['us-east-1', 'http://127.0.0.1:18101'],
      ['us-west-2', 'http://127.0.0.1:18201'],
    ]),
    nameservers: [{ name: 'ns1.example.com', ipv4: ['127.0.0.1'] }],
    store: { type: 'sqlite', file: 'control.db' },
    originUrls: new Map([
      ['us-east-1', ['http://127.0.0.1:19101']],
      ['us-west-2', ['http://127.0.0.1:19201']],
    ]),
    capacities: new Map([
      ['us-east-1', 150],
      ['us-west-2', 150],
    ]),
    tokens: { operator: 'o', agent: 'a', viewer: 'v', edges: new Map([['us-east-1', 'e1']]) },
    stateDir: '/tmp/state',
    secretsDir: '/tmp/secrets',
    riseAfterMs: 2000,
    restoreStepMs: 500,
    healthCheckIntervalMs: 250,
    cohorts,
  };
}

/** The lab's config as the servers load it. */
function labConfig(w: LabWiring): MeridianConfig {
  const doc = labConfigDocument('examples/two-regions.yaml', example(), w);
  const file = join(mkdtempSync(join(tmpdir(), 'meridian-cohorts-')), 'lab-config.yaml');
  writeFileSync(file, stringify(doc));
  return loadConfig(file);
}

test('labConfigDocument: one service per extra cohort, its TTL and policy, the same origins and edge rules', () => {
  const config = labConfig(wiring(labCohorts(example())));
  assert.deepEqual(
    config.services.map((s) => [s.name, s.hostname, s.ttl, s.answers]),
    [
      ['api', 'api.example.com', undefined, undefined],
      ['api-h-5', 'h-5.api.example.com', 5, 'home'],
      ['api-hf-30', 'hf-30.api.example.com', 30, 'home+fallback'],
      ['api-hf-5', 'hf-5.api.example.com', 5, 'home+fallback'],
    ],
  );
  const origins = config.services.map((s) => JSON.stringify(s.origins));
  assert.equal(new Set(origins).size, 1, 'every cohort on the first service’s (lab) origins');
  assert.equal(config.services[3].healthCheck.interval, 250);
  assert.deepEqual(
    config.edge.services.map((s) => [s.name, s.idempotentMethods, s.retryStatuses]),
    config.services.map((s) => [s.name, ['PUT', 'DELETE'], [500, 502, 503, 504]]),
  );
  // The edge picks a service by Host: each cohort hostname reaches the region's origins.
  for (const region of ['us-east-1', 'us-west-2']) {
    const byHost = servicesByHost(config, region);
    for (const host of [
      'api.example.com',
      'h-5.api.example.com',
      'hf-30.api.example.com',
      'hf-5.api.example.com',
    ]) {
      const urls = byHost.get(host)?.origins?.origins.map((o) => o.url);
      assert.deepEqual(
        urls,
        region === 'us-east-1' ? ['http://127.0.0.1:19101'] : ['http://127.0.0.1:19201'],
        host,
      );
    }
  }
});

test('labConfigDocument without cohorts: the user’s services only', () => {
  const config = labConfig(wiring());
  assert.deepEqual(
    config.services.map((s) => s.hostname),
    ['api.example.com'],
  );
  assert.deepEqual(
    config.edge.services.map((s) => s.name),
    ['api'],
  );
});
