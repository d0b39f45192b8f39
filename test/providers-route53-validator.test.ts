// The stand-in's request validator comes from the installed SDK package, and
// it refuses requests the SDK could not have sent: bodies changed after the
// SDK serialized them (then signed, so only the validator can refuse them).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ChangeAction,
  ChangeResourceRecordSetsCommand,
  ListResourceRecordSetsCommand,
  type RRType,
  RRType as RRTypes,
} from '@aws-sdk/client-route-53';
import { MEMBER_ENUMS, members, operation } from './helpers/route53-model.js';
import { fakeWithClient } from './providers-route53-fake.js';

const ZONE_ID = 'ZVALIDATE';
const NS = '"https://route53.amazonaws.com/doc/2013-04-01/"';

test('route53 validator: shapes, required members and enums are read from the SDK package', () => {
  const crrs = operation('ChangeResourceRecordSets');
  assert.deepEqual([crrs.method, crrs.uri], ['POST', '/2013-04-01/hostedzone/{HostedZoneId}/rrset']);
  const batch = members(crrs.input).find((m) => m.name === 'ChangeBatch')!.shape;
  const change = members(batch)
    .find((m) => m.name === 'Changes')!
    .shape.getValueSchema();
  const set = members(change).find((m) => m.name === 'ResourceRecordSet')!.shape;
  assert.deepEqual(
    members(set)
      .filter((m) => m.required)
      .map((m) => m.name),
    ['Name', 'Type'],
  );
  assert.deepEqual(MEMBER_ENUMS.get('ResourceRecordSet.Type'), Object.values(RRTypes));
  assert.deepEqual(MEMBER_ENUMS.get('Change.Action'), Object.values(ChangeAction));
  assert.deepEqual(MEMBER_ENUMS.get('ListResourceRecordSetsRequest.StartRecordType'), Object.values(RRTypes));
});

async function tamperedClient(t: { after(fn: () => unknown): void }, edit: (body: string) => string) {
  const { fake, client } = await fakeWithClient(t, { [ZONE_ID]: 'example.com' });
  // Runs after serialization and before signing: the stand-in sees a correctly signed, edited body.
  client.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { body: string; headers: Record<string, string> };
      if (typeof request.body === 'string') {
        request.body = edit(request.body);
        request.headers['content-length'] = String(Buffer.byteLength(request.body));
      }
      return next(args);
    },
    { step: 'build', name: 'tamperBody' },
  );
  const send = () =>
    client.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: ZONE_ID,
        ChangeBatch: {
          Changes: [
            {
              Action: 'CREATE',
              ResourceRecordSet: {
                Name: 'api.example.com.',
                Type: 'A',
                SetIdentifier: 'east',
                Weight: 10,
                TTL: 30,
                ResourceRecords: [{ Value: '192.0.2.10' }],
              },
            },
          ],
        },
      }),
    );
  return { fake, client, send };
}

const cases: { name: string; edit: (b: string) => string; message: string }[] = [
  {
    name: 'a missing required member (Type)',
    edit: (b) => b.replace('<Type>A</Type>', ''),
    message: `Invalid XML ; cvc-complex-type.2.4.a: Invalid content was found starting with element 'SetIdentifier'. One of '{${NS}:Type}' is expected.`,
  },
  {
    name: 'a bad Action enum',
    edit: (b) => b.replace('<Action>CREATE</Action>', '<Action>REPLACE</Action>'),
    message:
      "Invalid XML ; cvc-enumeration-valid: Value 'REPLACE' is not facet-valid with respect to enumeration '[CREATE, DELETE, UPSERT]'. It must be a value from the enumeration.",
  },
  {
    name: 'a record type outside RRType',
    edit: (b) => b.replace('<Type>A</Type>', '<Type>a</Type>'),
    message: `Invalid XML ; cvc-enumeration-valid: Value 'a' is not facet-valid with respect to enumeration '[${Object.values(RRTypes).join(', ')}]'. It must be a value from the enumeration.`,
  },
  {
    name: 'a weight above the documented 255',
    edit: (b) => b.replace('<Weight>10</Weight>', '<Weight>256</Weight>'),
    message:
      "Invalid XML ; cvc-maxInclusive-valid: Value '256' is not facet-valid with respect to maxInclusive '255' for type 'ResourceRecordSetWeight'.",
  },
  {
    name: 'a TTL that is not a number',
    edit: (b) => b.replace('<TTL>30</TTL>', '<TTL>thirty</TTL>'),
    message: "Invalid XML ; cvc-datatype-valid.1.2.1: 'thirty' is not a valid value for 'integer'.",
  },
  {
    name: 'members out of the schema order',
    edit: (b) => b.replace('<Weight>10</Weight><TTL>30</TTL>', '<TTL>30</TTL><Weight>10</Weight>'),
    message: `Invalid XML ; cvc-complex-type.2.4.a: Invalid content was found starting with element 'Weight'. One of '{${NS}:ResourceRecords, ${NS}:AliasTarget, ${NS}:HealthCheckId, ${NS}:TrafficPolicyInstanceId, ${NS}:CidrRoutingConfig, ${NS}:GeoProximityLocation}' is expected.`,
  },
  {
    name: 'an element the model does not have',
    edit: (b) => b.replace('<TTL>30</TTL>', '<TTL>30</TTL><Priority>1</Priority>'),
    message: `Invalid XML ; cvc-complex-type.2.4.a: Invalid content was found starting with element 'Priority'. One of '{${NS}:ResourceRecords, ${NS}:AliasTarget, ${NS}:HealthCheckId, ${NS}:TrafficPolicyInstanceId, ${NS}:CidrRoutingConfig, ${NS}:GeoProximityLocation}' is expected.`,
  },
  {
    name: 'an empty ResourceRecords list',
    edit: (b) => b.replace(/<ResourceRecords>.*<\/ResourceRecords>/, '<ResourceRecords></ResourceRecords>'),
    message: `Invalid XML ; cvc-complex-type.2.4.b: The content of element 'ResourceRecords' is not complete. One of '{${NS}:ResourceRecord}' is expected.`,
  },
  {
    name: 'another namespace',
    edit: (b) => b.replace('doc/2013-04-01/', 'doc/2012-12-12/'),
    message:
      "Invalid XML ; cvc-elt.1: Cannot find the declaration of element 'ChangeResourceRecordSetsRequest'.",
  },
];

for (const c of cases) {
  test(`route53 validator refuses ${c.name} with InvalidInput`, async (t) => {
    const { send, fake } = await tamperedClient(t, c.edit);
    await assert.rejects(send(), (e: Error & { $metadata: { httpStatusCode: number } }) => {
      assert.equal(e.name, 'InvalidInput');
      assert.equal(e.$metadata.httpStatusCode, 400);
      assert.equal(e.message, c.message);
      return true;
    });
    assert.deepEqual(fake.records(ZONE_ID), []);
  });
}

test('route53 validator: the untouched request is accepted (the cases above fail only by their edit)', async (t) => {
  const { send, fake } = await tamperedClient(t, (b) => b);
  await send();
  assert.equal(fake.records(ZONE_ID).length, 1);
});

test('route53 validator: URI and query members (zone id length, record type enum, type without name)', async (t) => {
  const { client } = await tamperedClient(t, (b) => b);
  const list = (input: ConstructorParameters<typeof ListResourceRecordSetsCommand>[0]) =>
    client.send(new ListResourceRecordSetsCommand(input));
  await assert.rejects(list({ HostedZoneId: 'Z'.repeat(33) }), {
    name: 'InvalidInput',
    message: `1 validation error detected: Value '${'Z'.repeat(33)}' at 'hostedZoneId' failed to satisfy constraint: Member must have length less than or equal to 32`,
  });
  await assert.rejects(
    list({ HostedZoneId: ZONE_ID, StartRecordName: 'a.example.com.', StartRecordType: 'BOGUS' as RRType }),
    {
      name: 'InvalidInput',
      message: `1 validation error detected: Value 'BOGUS' at 'startRecordType' failed to satisfy constraint: Member must satisfy enum value set: [${Object.values(RRTypes).join(', ')}]`,
    },
  );
  await assert.rejects(list({ HostedZoneId: ZONE_ID, StartRecordType: 'A' }), { name: 'InvalidInput' });
});
