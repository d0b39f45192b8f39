import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import { HOP_HEADER, PeerAuth, SIGNATURE_HEADER, signHop, signRequest } from './peer-auth.js';

const KEY = 'unit-test-peer-key-0123456789';
const NOW = 1_800_000_000_000;

test('the signature is HMAC-SHA256 over a fixed, documented text', () => {
  const text = ['meridian-hop-v1', 'GET', '/a?b=1', 'api.example.com', String(NOW), 'x-meridian-hop:1'].join(
    '\n',
  );
  const expected = createHmac('sha256', KEY).update(text).digest('hex');
  assert.equal(
    signRequest(KEY, 'GET', '/a?b=1', 'API.example.com', NOW, [HOP_HEADER, '1']),
    `t=${NOW};v1=${expected}`,
  );
});

test('verify: table of requests that must pass or fail', () => {
  const auth = new PeerAuth(KEY, 30_000);
  const hop = [HOP_HEADER, '1'];
  const good = signHop(KEY, 'GET', '/x', 'h', NOW)[SIGNATURE_HEADER];
  const cases: { name: string; args: Parameters<PeerAuth['verify']>; expect: boolean }[] = [
    { name: 'good', args: ['GET', '/x', 'h', hop, good, NOW], expect: true },
    { name: 'host case ignored', args: ['GET', '/x', 'H', hop, good, NOW], expect: true },
    { name: '29 s old', args: ['GET', '/x', 'h', hop, good, NOW + 29_000], expect: true },
    { name: '31 s old', args: ['GET', '/x', 'h', hop, good, NOW + 31_000], expect: false },
    { name: '31 s ahead', args: ['GET', '/x', 'h', hop, good, NOW - 31_000], expect: false },
    { name: 'no signature', args: ['GET', '/x', 'h', hop, undefined, NOW], expect: false },
    { name: 'other method', args: ['POST', '/x', 'h', hop, good, NOW], expect: false },
    { name: 'other target', args: ['GET', '/y', 'h', hop, good, NOW], expect: false },
    { name: 'other host', args: ['GET', '/x', 'g', hop, good, NOW], expect: false },
    { name: 'header dropped', args: ['GET', '/x', 'h', [], good, NOW], expect: false },
    {
      name: 'header added',
      args: ['GET', '/x', 'h', [...hop, 'x-meridian-priority', 'critical'], good, NOW],
      expect: false,
    },
    { name: 'short mac', args: ['GET', '/x', 'h', hop, good.slice(0, -2), NOW], expect: false },
    { name: 'not hex', args: ['GET', '/x', 'h', hop, good.replace(/v1=../, 'v1=zz'), NOW], expect: false },
    { name: 'repeated', args: ['GET', '/x', 'h', hop, 'repeated', NOW], expect: false },
  ];
  for (const c of cases) assert.equal(auth.verify(...c.args), c.expect, c.name);
  assert.equal(new PeerAuth(null, 30_000).verify('GET', '/x', 'h', hop, good, NOW), false, 'no key: never');
  assert.equal(
    new PeerAuth('another-key-0123456789', 30_000).verify('GET', '/x', 'h', hop, good, NOW),
    false,
  );
});

test('hopHeaders: signed with a key, a bare hop without one', () => {
  assert.deepEqual(new PeerAuth(null, 1000).hopHeaders('GET', '/', 'h'), [HOP_HEADER, '1']);
  const signed = new PeerAuth(KEY, 1000).hopHeaders('GET', '/', 'h');
  assert.equal(signed[2], SIGNATURE_HEADER);
  assert.ok(new PeerAuth(KEY, 1000).verify('GET', '/', 'h', signed.slice(0, 2), signed[3]));
});
