import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cidrContains, formatIp, isNonPublic, parseCidr, parseIp, subnetOf } from './ip.js';

const parses = [
  { input: '171.64.1.1', expect: '171.64.1.1' },
  { input: '::1', expect: '::1' },
  { input: '2001:db8::10', expect: '2001:db8::10' },
  { input: '2001:0db8:0000:0000:0000:0000:0000:0001', expect: '2001:db8::1' },
  { input: '::ffff:128.59.1.1', expect: '128.59.1.1' },
  { input: 'fe80::1%eth0', expect: 'fe80::1' },
  { input: '1:2:3:4:5:6:7:8', expect: '1:2:3:4:5:6:7:8' },
];
for (const c of parses) {
  test(`parseIp(${c.input})`, () => assert.equal(formatIp(parseIp(c.input)!), c.expect));
}

for (const bad of [
  '',
  '1.2.3',
  '1.2.3.256',
  '01.2.3.4',
  '1::2::3',
  '1:2:3:4:5:6:7:8:9',
  'abc',
  '1.2.3.4/8',
  '12345::',
]) {
  test(`parseIp rejects ${JSON.stringify(bad)}`, () => assert.equal(parseIp(bad), null));
}

test('subnetOf groups IPv4 by /24 and IPv6 by /56', () => {
  assert.equal(subnetOf(parseIp('171.64.1.77')!), '171.64.1.0/24');
  assert.equal(subnetOf(parseIp('2001:db8:1234:56ff::1')!), '2001:db8:1234:5600::/56');
  assert.equal(subnetOf(parseIp('171.64.1.77')!, 16), '171.64.0.0/16');
});

test('cidrContains', () => {
  const net = parseCidr('10.1.0.0/16')!;
  assert.ok(cidrContains(net, parseIp('10.1.200.3')!));
  assert.ok(!cidrContains(net, parseIp('10.2.0.1')!));
  assert.ok(!cidrContains(net, parseIp('::1')!));
  assert.equal(parseCidr('10.0.0.0/33'), null);
});

test('isNonPublic', () => {
  for (const a of ['127.0.0.1', '10.9.9.9', '192.168.1.1', '::1', 'fd00::1', '192.0.2.10']) {
    assert.ok(isNonPublic(parseIp(a)!), a);
  }
  for (const a of ['171.64.1.1', '1.1.1.1', '2001:4860:4860::8888']) assert.ok(!isNonPublic(parseIp(a)!), a);
});
