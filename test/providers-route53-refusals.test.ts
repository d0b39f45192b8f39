// Each change Route 53 refuses, sent through the SDK to the strict stand-in:
// the error code, HTTP status and message Route 53 answers, and nothing applied.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type Change,
  ChangeResourceRecordSetsCommand,
  ListResourceRecordSetsCommand,
  type ResourceRecordSet,
} from '@aws-sdk/client-route-53';
import { fakeWithClient } from './providers-route53-fake.js';

const ZONE_ID = 'ZREFUSE';
const plain: ResourceRecordSet = {
  Name: 'api.example.com.',
  Type: 'A',
  TTL: 30,
  ResourceRecords: [{ Value: '192.0.2.10' }, { Value: '198.51.100.10' }],
};

async function zoneWithOneSet(t: { after(fn: () => unknown): void }) {
  const { fake, client } = await fakeWithClient(t, { [ZONE_ID]: 'example.com' });
  const send = (...Changes: Change[]) =>
    client.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: ZONE_ID, ChangeBatch: { Changes } }));
  await send({ Action: 'CREATE', ResourceRecordSet: plain });
  const before = JSON.stringify(fake.records(ZONE_ID));
  /** Sends the changes and expects Route 53's refusal, with the zone left as it was. */
  const refused = async (code: string, message: string | RegExp, ...changes: Change[]) => {
    await assert.rejects(send(...changes), (e: Error & { $metadata: { httpStatusCode: number } }) => {
      assert.equal(e.name, code);
      assert.equal(e.$metadata.httpStatusCode, 400);
      if (typeof message === 'string') assert.equal(e.message, message);
      else assert.match(e.message, message);
      return true;
    });
    assert.equal(JSON.stringify(fake.records(ZONE_ID)), before, 'nothing applied');
  };
  return { fake, client, send, refused };
}

const weighted = (id: string | undefined, weight: number): ResourceRecordSet => ({
  Name: 'api.example.com.',
  Type: 'A',
  SetIdentifier: id,
  Weight: weight,
  TTL: 30,
  ResourceRecords: [{ Value: '192.0.2.10' }],
});

test('route53 refuses: deleting a set that does not exist', async (t) => {
  const { refused } = await zoneWithOneSet(t);
  await refused(
    'InvalidChangeBatch',
    "[Tried to delete resource record set [name='www.example.com.', type='A'] but it was not found]",
    { Action: 'DELETE', ResourceRecordSet: { ...plain, Name: 'www.example.com.' } },
  );
});

test('route53 refuses: deleting a set whose TTL does not match', async (t) => {
  const { refused } = await zoneWithOneSet(t);
  await refused(
    'InvalidChangeBatch',
    "[Tried to delete resource record set [name='api.example.com.', type='A'] but the values provided do not match the current values]",
    { Action: 'DELETE', ResourceRecordSet: { ...plain, TTL: 60 } },
  );
});

test('route53 refuses: deleting a set whose values do not match', async (t) => {
  const { refused, send, fake } = await zoneWithOneSet(t);
  await refused('InvalidChangeBatch', /do not match the current values/, {
    Action: 'DELETE',
    ResourceRecordSet: { ...plain, ResourceRecords: [{ Value: '192.0.2.10' }] },
  });
  // The same values in another order do match.
  await send({
    Action: 'DELETE',
    ResourceRecordSet: { ...plain, ResourceRecords: [...plain.ResourceRecords!].reverse() },
  });
  assert.deepEqual(fake.records(ZONE_ID), []);
});

test('route53 refuses: creating a set that exists', async (t) => {
  const { refused } = await zoneWithOneSet(t);
  await refused(
    'InvalidChangeBatch',
    "[Tried to create resource record set [name='api.example.com.', type='A'] but it already exists]",
    { Action: 'CREATE', ResourceRecordSet: plain },
  );
});

test('route53 refuses: a weighted set without SetIdentifier', async (t) => {
  const { refused } = await zoneWithOneSet(t);
  await refused(
    'InvalidInput',
    "Invalid request: Missing field 'SetIdentifier' in Change with [Action=UPSERT, Name=api.example.com., Type=A, SetIdentifier=null]",
    { Action: 'UPSERT', ResourceRecordSet: weighted(undefined, 10) },
  );
});

test('route53 refuses: a geolocation set without SetIdentifier', async (t) => {
  const { refused } = await zoneWithOneSet(t);
  await refused(
    'InvalidInput',
    /^Invalid request: Missing field 'SetIdentifier' in Change with \[Action=CREATE/,
    {
      Action: 'CREATE',
      ResourceRecordSet: { ...plain, Name: 'geo.example.com.', GeoLocation: { CountryCode: 'FR' } },
    },
  );
});

test('route53 refuses: mixing routing policies in one name and type', async (t) => {
  const { refused } = await zoneWithOneSet(t);
  await refused(
    'InvalidChangeBatch',
    '[RRSet with DNS name api.example.com., type A, SetIdentifier east cannot be created as a non-weighted set exists with the same name and type.]',
    { Action: 'CREATE', ResourceRecordSet: weighted('east', 10) },
  );
});

test('route53 refuses: a TTL on an alias', async (t) => {
  const { refused } = await zoneWithOneSet(t);
  await refused(
    'InvalidInput',
    'Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found more than one in Change with [Action=CREATE, Name=www.example.com., Type=A, SetIdentifier=null]',
    {
      Action: 'CREATE',
      ResourceRecordSet: {
        Name: 'www.example.com.',
        Type: 'A',
        TTL: 60,
        AliasTarget: { HostedZoneId: ZONE_ID, DNSName: 'api.example.com.', EvaluateTargetHealth: false },
      },
    },
  );
});

test('route53 refuses: one bad change refuses the whole batch, every problem listed', async (t) => {
  const { refused } = await zoneWithOneSet(t);
  await refused(
    'InvalidChangeBatch',
    "[Tried to create resource record set [name='api.example.com.', type='A'] but it already exists, Invalid Resource Record: 'FATAL problem: ARRDATAIllegalIPv4Address (Value is not a valid IPv4 address) encountered with '2001:db8::1'']",
    { Action: 'CREATE', ResourceRecordSet: { ...plain, Name: 'new.example.com.' } },
    { Action: 'CREATE', ResourceRecordSet: plain },
    {
      Action: 'UPSERT',
      ResourceRecordSet: { ...plain, Name: 'v6.example.com.', ResourceRecords: [{ Value: '2001:db8::1' }] },
    },
  );
});

test('route53 refuses: a hosted zone that does not exist (NoSuchHostedZone, 404, as Route 53 writes it)', async (t) => {
  const { client, fake } = await zoneWithOneSet(t);
  await assert.rejects(
    client.send(new ListResourceRecordSetsCommand({ HostedZoneId: 'ZNOSUCHZONE' })),
    (e: Error & { $metadata: { httpStatusCode: number } }) => {
      assert.equal(e.name, 'NoSuchHostedZone');
      assert.equal(e.$metadata.httpStatusCode, 404);
      assert.equal(e.message, 'No hosted zone found with ID: ZNOSUCHZONE');
      return true;
    },
  );
  assert.match(
    fake.requests.at(-1)?.response ?? '',
    /^<\?xml version="1.0"\?>\n<ErrorResponse xmlns="https:\/\/route53.amazonaws.com\/doc\/2013-04-01\/"><Error><Type>Sender<\/Type><Code>NoSuchHostedZone<\/Code><Message>No hosted zone found with ID: ZNOSUCHZONE<\/Message><\/Error><RequestId>[0-9a-f-]{36}<\/RequestId><\/ErrorResponse>$/,
  );
});
