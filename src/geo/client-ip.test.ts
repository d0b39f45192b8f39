import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clientAddress, trustedProxies } from './client-ip.js';

const trust = trustedProxies(['127.0.0.1/32', '10.0.0.0/8']);

const cases = [
  { name: 'no header: the peer', peer: '127.0.0.1', header: undefined, expect: '127.0.0.1' },
  { name: 'trusted peer: the header', peer: '127.0.0.1', header: '171.64.1.1', expect: '171.64.1.1' },
  {
    name: 'untrusted peer: header ignored',
    peer: '203.0.113.9',
    header: '171.64.1.1',
    expect: '203.0.113.9',
  },
  {
    name: 'right-most untrusted hop wins',
    peer: '127.0.0.1',
    header: '6.6.6.6, 171.64.1.1, 10.1.1.1',
    expect: '171.64.1.1',
  },
  {
    name: 'garbage hop stops the walk',
    peer: '127.0.0.1',
    header: '171.64.1.1, <script>',
    expect: '127.0.0.1',
  },
  { name: 'mapped IPv4 peer', peer: '::ffff:127.0.0.1', header: '128.59.1.1', expect: '128.59.1.1' },
  {
    name: 'several header lines',
    peer: '127.0.0.1',
    header: ['1.1.1.1', '128.59.1.1'],
    expect: '128.59.1.1',
  },
  { name: 'bracketed IPv6 with port', peer: '127.0.0.1', header: '[2001:db8::1]:443', expect: '2001:db8::1' },
];
for (const c of cases) {
  test(`clientAddress: ${c.name}`, () => assert.equal(clientAddress(c.peer, c.header, trust), c.expect));
}
