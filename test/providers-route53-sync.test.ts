// Route 53 provider through the SDK against the strict stand-in: weighted and
// geolocation sets created, read back and deleted; a second sync changes
// nothing; changes made behind Meridian's back are reported and repaired;
// Throttling is retried by the SDK's standard strategy.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ChangeResourceRecordSetsCommand,
  type ResourceRecordSet,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { loadConfig, snapshotFromConfig } from '../src/config/index.js';
import { type Route53Options, Route53Provider } from '../src/providers/route53.js';
import { syncOnce } from '../src/providers/sync.js';
import { CREDENTIALS, startFakeRoute53 } from './providers-route53-fake.js';

const config = loadConfig('examples/two-regions.yaml');
const snapshot = snapshotFromConfig(config);
const ZONE_ID = 'ZSYNCTEST';

async function setup(t: { after(fn: () => unknown): void }, options: Partial<Route53Options> = {}) {
  const fake = await startFakeRoute53({ [ZONE_ID]: 'example.com' });
  const provider = new Route53Provider({
    hostedZoneId: ZONE_ID,
    endpoint: fake.endpoint,
    credentials: CREDENTIALS,
    pollMs: 5,
    ...options,
  });
  const posts = () => fake.requests.filter((r) => r.method === 'POST' && !r.code).length;
  // Someone else's client, as the AWS console or a script would change the zone.
  const other = new Route53Client({ region: 'us-east-1', endpoint: fake.endpoint, credentials: CREDENTIALS });
  t.after(async () => {
    other.destroy();
    await provider.close();
    await fake.close();
  });
  return { fake, provider, posts, other };
}

const aSets = (sets: ResourceRecordSet[]) =>
  sets
    .filter((s) => s.Type === 'A')
    .map((s) => [s.SetIdentifier, s.Weight, s.ResourceRecords?.map((r) => r.Value)]);

test('route53 weighted: created, read back, unchanged on a second sync, deleted', async (t) => {
  const { fake, provider, posts } = await setup(t);
  const first = await syncOnce({ provider, config, snapshot, steering: 'weighted' });
  assert.ok(first.applied);
  assert.deepEqual(aSets(fake.records(ZONE_ID)), [
    ['us-east-1', 50, ['192.0.2.10']],
    ['us-west-2', 50, ['198.51.100.10']],
  ]);
  const read = await provider.list('example.com', ['api.example.com']);
  assert.deepEqual(
    read.filter((r) => r.type === 'A').map((r) => [r.qualifier, r.profile, r.ttl]),
    [
      ['us-east-1', { kind: 'weighted', weight: 50 }, 30],
      ['us-west-2', { kind: 'weighted', weight: 50 }, 30],
    ],
  );
  const postsBefore = posts();
  const second = await syncOnce({ provider, config, snapshot, steering: 'weighted' });
  assert.equal(second.changes.length, 0);
  assert.equal(second.applied, false);
  assert.equal(posts(), postsBefore, 'no change batch sent');

  await syncOnce({ provider, config, snapshot, steering: 'plain' });
  assert.deepEqual(aSets(fake.records(ZONE_ID)), [[undefined, undefined, ['192.0.2.10', '198.51.100.10']]]);
  assert.equal((await syncOnce({ provider, config, snapshot, steering: 'plain' })).changes.length, 0);
});

test('route53 geolocation: created, read back, unchanged on a second sync, deleted', async (t) => {
  const { fake, provider, posts } = await setup(t);
  await syncOnce({ provider, config, snapshot, steering: 'geo' });
  const geo = fake.records(ZONE_ID).filter((s) => s.Type === 'A');
  assert.equal(geo.length, 52, '51 territories and the default, one set each');
  assert.ok(geo.every((s) => s.SetIdentifier && s.GeoLocation && s.TTL === 30));
  const read = await provider.list('example.com', ['api.example.com']);
  const west = read.find((r) => r.type === 'A' && r.qualifier === 'us-west-2');
  assert.equal(west?.profile?.kind === 'geo' && west.profile.territories.length, 13);
  const postsBefore = posts();
  assert.equal((await syncOnce({ provider, config, snapshot, steering: 'geo' })).changes.length, 0);
  assert.equal(posts(), postsBefore);

  await syncOnce({ provider, config, snapshot, steering: 'weighted' });
  assert.equal(
    fake.records(ZONE_ID).filter((s) => s.GeoLocation).length,
    0,
    'every geolocation set deleted (each DELETE matched exactly)',
  );
});

test("route53: record sets changed behind Meridian's back are reported as drift and repaired", async (t) => {
  const { fake, provider, other } = await setup(t);
  await syncOnce({ provider, config, snapshot, steering: 'geo' });
  const synced = JSON.stringify(fake.records(ZONE_ID));
  const find = (id: string) => fake.records(ZONE_ID).find((s) => s.Type === 'A' && s.SetIdentifier === id)!;
  // Not the first territory of their groups (US-AK, US-AL sort first): drift anywhere must show.
  const wa = { ...find('us-west-2/US-WA'), ResourceRecords: [{ Value: '203.0.113.66' }] };
  const ny = { ...find('us-east-1/US-NY'), TTL: 3600 };
  await other.send(
    new ChangeResourceRecordSetsCommand({
      HostedZoneId: ZONE_ID,
      ChangeBatch: {
        Changes: [
          { Action: 'UPSERT', ResourceRecordSet: wa },
          { Action: 'UPSERT', ResourceRecordSet: ny },
          { Action: 'DELETE', ResourceRecordSet: find('default/*') },
          {
            Action: 'CREATE',
            ResourceRecordSet: {
              ...find('default/*'),
              SetIdentifier: 'rogue/FR',
              GeoLocation: { CountryCode: 'FR' },
            },
          },
        ],
      },
    }),
  );
  const drifted = JSON.stringify(fake.records(ZONE_ID));

  const preview = await syncOnce({ provider, config, snapshot, steering: 'geo', dryRun: true });
  assert.deepEqual(
    preview.changes
      .map((c) => (c.action === 'put' ? `put ${c.recordSet.qualifier}` : `delete ${c.qualifier}`))
      .sort(),
    ['delete rogue', 'put default', 'put us-east-1', 'put us-west-2'],
  );
  assert.ok(
    preview.diff.some((l) => l.startsWith('~ api.example.com A [us-west-2]') && l.includes('203.0.113.66')),
  );
  assert.ok(preview.diff.some((l) => l.startsWith('+ api.example.com A [default]')));
  assert.equal(JSON.stringify(fake.records(ZONE_ID)), drifted, 'a preview writes nothing');

  const repair = await syncOnce({ provider, config, snapshot, steering: 'geo' });
  assert.ok(repair.applied);
  assert.equal(JSON.stringify(fake.records(ZONE_ID)), synced, 'the zone is as Meridian wrote it');
  assert.equal((await syncOnce({ provider, config, snapshot, steering: 'geo' })).changes.length, 0);
});

test('route53: a sync succeeds through two Throttling answers, retried by the SDK with backoff', async (t) => {
  const { fake, provider } = await setup(t);
  fake.throttle(2);
  const result = await syncOnce({ provider, config, snapshot, steering: 'weighted' });
  assert.ok(result.applied);
  assert.deepEqual(
    fake.requests.slice(0, 3).map((r) => [r.path, r.attempt, r.code]),
    [
      [`/2013-04-01/hostedzone/${ZONE_ID}`, 'attempt=1; max=3', 'Throttling'],
      [`/2013-04-01/hostedzone/${ZONE_ID}`, 'attempt=2; max=3', 'Throttling'],
      [`/2013-04-01/hostedzone/${ZONE_ID}`, 'attempt=3; max=3', undefined],
    ],
  );
  assert.equal(aSets(fake.records(ZONE_ID)).length, 2);
});

test('route53: Throttling on every attempt is PROVIDER_FAILED and writes nothing', async (t) => {
  const { fake, provider } = await setup(t, { maxAttempts: 2 });
  fake.throttle(2);
  await assert.rejects(
    syncOnce({ provider, config, snapshot, steering: 'weighted' }),
    (e: Error & { code: string }) => {
      assert.equal(e.code, 'PROVIDER_FAILED');
      assert.match(e.message, /Throttling \(HTTP 400\)/);
      return true;
    },
  );
  assert.equal(fake.requests.length, 2);
  assert.deepEqual(fake.records(ZONE_ID), []);
});
