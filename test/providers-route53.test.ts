// Route 53 provider against a loopback stand-in that checks SigV4 and applies
// change batches by Route 53's rules (no AWS endpoint is reachable here).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ResourceRecordSet } from '@aws-sdk/client-route-53';
import { loadConfig, type MeridianConfig, snapshotFromConfig } from '../src/config/index.js';
import type { MeridianError } from '../src/errors.js';
import { Route53Provider } from '../src/providers/route53.js';
import { syncOnce } from '../src/providers/sync.js';
import { CREDENTIALS, startFakeRoute53 } from './providers-route53-fake.js';

const config: MeridianConfig = loadConfig('examples/two-regions.yaml');
const healthy = snapshotFromConfig(config);
const eastDown = snapshotFromConfig(config, { health: new Map([['us-east-1', 'DOWN']]) });
const values = (s?: ResourceRecordSet) => s?.ResourceRecords?.map((r) => r.Value);
const answerFor = (sets: ResourceRecordSet[], setId: string) =>
  values(sets.find((s) => s.Type === 'A' && s.SetIdentifier === setId));

test('route53: geolocation sets, INSYNC wait, evacuation, weighted switch, errors', async (t) => {
  // Pages of 25: the 104 geolocation sets take several ListResourceRecordSets pages.
  const fake = await startFakeRoute53({ Z1EXAMPLE: 'example.com' }, 25);
  t.after(() => fake.close());
  const make = (extra: Partial<ConstructorParameters<typeof Route53Provider>[0]> = {}) =>
    new Route53Provider({
      hostedZoneId: 'Z1EXAMPLE',
      endpoint: fake.endpoint,
      credentials: CREDENTIALS,
      maxAttempts: 1,
      pollMs: 10,
      ...extra,
    });
  const provider = make();
  t.after(() => provider.close());

  const first = await syncOnce({ provider, config, snapshot: healthy });
  assert.equal(first.steering, 'geo');
  const post = fake.requests.find((r) => r.method === 'POST');
  assert.ok(post, 'a change batch was posted');
  assert.match(post?.path ?? '', /^\/2013-04-01\/hostedzone\/Z1EXAMPLE\/rrset\/?$/);
  assert.match(
    post.body,
    /<ChangeResourceRecordSetsRequest xmlns="https:\/\/route53.amazonaws.com\/doc\/2013-04-01\/">/,
  );
  assert.match(
    post.body,
    /<Action>UPSERT<\/Action><ResourceRecordSet><Name>api.example.com.<\/Name><Type>A<\/Type><SetIdentifier>us-west-2\/US-CA<\/SetIdentifier><GeoLocation><CountryCode>US<\/CountryCode><SubdivisionCode>CA<\/SubdivisionCode><\/GeoLocation><TTL>30<\/TTL>/,
  );
  assert.ok(
    fake.requests.some((r) => r.path === '/2013-04-01/change/C1'),
    'waited for INSYNC',
  );
  let sets = fake.records('Z1EXAMPLE');
  assert.deepEqual(answerFor(sets, 'us-west-2/US-CA'), ['198.51.100.10']);
  assert.deepEqual(answerFor(sets, 'us-east-1/US-NY'), ['192.0.2.10']);
  assert.deepEqual(sets.find((s) => s.SetIdentifier === 'default/*')?.GeoLocation, { CountryCode: '*' });

  const posts = () => fake.requests.filter((r) => r.method === 'POST').length;
  const listCalls = () =>
    fake.requests.filter((r) => r.method === 'GET' && /\/rrset\/?$/.test(r.path)).length;
  const listsBefore = listCalls();
  const again = await syncOnce({ provider, config, snapshot: healthy });
  assert.equal(listCalls() - listsBefore, 5, '104 sets in pages of 25: five pages read');
  assert.equal(again.changes.length, 0);
  assert.equal(posts(), 1, 'nothing to change, no change batch');

  await syncOnce({ provider, config, snapshot: eastDown });
  sets = fake.records('Z1EXAMPLE');
  assert.deepEqual(answerFor(sets, 'us-east-1/US-NY'), ['198.51.100.10'], 'east users answered with west');
  assert.deepEqual(answerFor(sets, 'default/*'), ['198.51.100.10']);

  await syncOnce({ provider, config, snapshot: eastDown, steering: 'weighted' });
  sets = fake.records('Z1EXAMPLE');
  assert.deepEqual(
    sets.filter((s) => s.Type === 'A').map((s) => [s.SetIdentifier, s.Weight, values(s)]),
    [['us-west-2', 100, ['198.51.100.10']]],
  );
  const before = JSON.stringify(fake.records('Z1EXAMPLE'));

  const wrongKey = make({ credentials: { ...CREDENTIALS, secretAccessKey: 'not-the-secret' } });
  t.after(() => wrongKey.close());
  await assert.rejects(syncOnce({ provider: wrongKey, config, snapshot: healthy }), (e: MeridianError) => {
    assert.equal(e.code, 'PROVIDER_AUTH');
    assert.match(e.message, /SignatureDoesNotMatch/);
    assert.doesNotMatch(`${e.message} ${e.details.join(' ')}`, /not-the-secret/);
    return true;
  });
  const noZone = make({ hostedZoneId: 'ZNOSUCHZONE' });
  t.after(() => noZone.close());
  await assert.rejects(syncOnce({ provider: noZone, config, snapshot: healthy }), {
    code: 'PROVIDER_ZONE_MISSING',
    message: 'Route 53 has no hosted zone ZNOSUCHZONE',
  });
  const down = make({ endpoint: 'http://127.0.0.1:1' });
  t.after(() => down.close());
  await assert.rejects(syncOnce({ provider: down, config, snapshot: healthy }), {
    code: 'PROVIDER_UNREACHABLE',
  });
  assert.equal(JSON.stringify(fake.records('Z1EXAMPLE')), before, 'refused syncs changed nothing');

  const fr = {
    ...config,
    steering: { ...config.steering, territories: [{ region: 'us-east-1', codes: ['FR-75'] }] },
  };
  await assert.rejects(syncOnce({ provider, config: fr, snapshot: snapshotFromConfig(fr) }), {
    code: 'PROVIDER_UNSUPPORTED',
    message: 'route53 cannot steer by these subdivisions: FR-75',
  });
});
