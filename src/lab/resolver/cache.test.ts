import assert from 'node:assert/strict';
import { test } from 'node:test';
import type dnsPacket from 'dns-packet';
import { AnswerCache, agedRecords, cacheTtl } from './cache.js';

const a = (ttl: number) =>
  ({ type: 'A', name: 'api.example.com', ttl, data: '192.0.2.10' }) as dnsPacket.Answer;
const soa = (ttl: number, minimum: number) =>
  ({
    type: 'SOA',
    name: 'example.com',
    ttl,
    data: { mname: 'ns1', rname: 'hostmaster', serial: 1, refresh: 1, retry: 1, expire: 1, minimum },
  }) as dnsPacket.Answer;

const cases: { name: string; input: Parameters<typeof cacheTtl>; expect: number }[] = [
  { name: 'the smallest TTL of the answer', input: ['NOERROR', [a(30), a(5)], []], expect: 5 },
  { name: 'NXDOMAIN: the SOA minimum', input: ['NXDOMAIN', [], [soa(300, 60)]], expect: 60 },
  { name: 'NODATA: the SOA TTL when smaller', input: ['NOERROR', [], [soa(10, 60)]], expect: 10 },
  { name: 'a negative answer without SOA: not kept', input: ['NXDOMAIN', [], []], expect: 0 },
  { name: 'SERVFAIL: not kept', input: ['SERVFAIL', [], [soa(300, 60)]], expect: 0 },
];
for (const c of cases) test(`cacheTtl: ${c.name}`, () => assert.equal(cacheTtl(...c.input), c.expect));

test('agedRecords counts TTLs down in whole seconds, never below 0', () => {
  const ttls = (ms: number) => agedRecords([a(2), a(30)], ms).map((r) => (r as { ttl: number }).ttl);
  assert.deepEqual(ttls(999), [2, 30]);
  assert.deepEqual(ttls(1000), [1, 29]);
  assert.deepEqual(ttls(5000), [0, 25]);
});

test('AnswerCache: expires at the TTL, drops the least recently used beyond its size', () => {
  let now = 0;
  const cache = new AnswerCache(2, () => now);
  const entry = { rcode: 'NOERROR', answers: [], authorities: [], scope: 24 };
  cache.set('x', entry, 2);
  cache.set('zero', entry, 0);
  assert.equal(cache.get('zero'), undefined, 'TTL 0 is not kept');
  now = 1999;
  assert.ok(cache.get('x'));
  now = 2000;
  assert.equal(cache.get('x'), undefined);
  cache.set('a', entry, 60);
  cache.set('b', entry, 60);
  cache.get('a');
  cache.set('c', entry, 60);
  assert.ok(cache.get('a'), 'recently used, kept');
  assert.equal(cache.get('b'), undefined, 'least recently used, dropped');
  assert.equal(cache.size, 2);
});
