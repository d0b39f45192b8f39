import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  countedPackets,
  iptablesRules,
  type NetnsSite,
  namespaceName,
  nextCutPairs,
  nftScript,
  ownerPid,
  relayRoutes,
  siteAddresses,
  vethNames,
} from './netns.js';

test('names carry the lab pid, and interface names fit in 15 characters', () => {
  assert.equal(namespaceName(4242, 'us-east-1'), 'mrd-4242-us-east-1');
  const v = vethNames(4_194_304, 250);
  assert.ok(v.host.length <= 15 && v.ns.length <= 15, `${v.host} ${v.ns}`);
  assert.notEqual(v.host, v.ns);
  assert.deepEqual(siteAddresses(201, 2), {
    gateway: '10.201.2.1',
    address: '10.201.2.2',
    subnet: '10.201.2.0/24',
  });
});

test('ownerPid reads the pid of namespaces, nft tables and iptables chains, nothing else', () => {
  assert.equal(ownerPid('mrd-4242-us-east-1'), 4242);
  assert.equal(ownerPid('mrd_77'), 77);
  assert.equal(ownerPid('MRD-77'), 77);
  assert.equal(ownerPid('mrd-probe'), null);
  assert.equal(ownerPid('docker'), null);
});

test('cut pairs: a site touches every pair it is in; healing one site keeps the others cut', () => {
  const sites = ['a', 'b', 'w'];
  const all = nextCutPairs(new Set(), sites, true);
  assert.deepEqual([...all].sort(), ['a|b', 'a|w', 'b|w']);
  assert.deepEqual([...nextCutPairs(all, sites, false, 'a')], ['b|w']);
  assert.deepEqual([...nextCutPairs(new Set(), sites, true, 'b')].sort(), ['a|b', 'b|w']);
  assert.deepEqual([...nextCutPairs(all, sites, false)], []);
});

const subnets = new Map([
  ['a', '10.201.1.0/24'],
  ['b', '10.201.2.0/24'],
]);

test('nft script: one table, a forward chain dropping both directions of each cut pair', () => {
  const text = nftScript('mrd_9', new Set(['a|b']), subnets, 'blackhole');
  assert.match(text, /^table inet mrd_9 \{\}\ndelete table inet mrd_9\ntable inet mrd_9 \{/);
  assert.match(text, /type filter hook forward priority 0; policy accept;/);
  assert.match(text, /ip saddr 10\.201\.1\.0\/24 ip daddr 10\.201\.2\.0\/24 counter drop/);
  assert.match(text, /ip saddr 10\.201\.2\.0\/24 ip daddr 10\.201\.1\.0\/24 counter drop/);
  assert.doesNotMatch(nftScript('mrd_9', new Set(), subnets, 'blackhole'), /saddr/);
  assert.match(
    nftScript('mrd_9', new Set(['a|b']), subnets, 'reset'),
    /meta l4proto tcp counter reject with tcp reset/,
  );
});

test("counted packets: the sum of the rules' counters, for nft and iptables", () => {
  const nft =
    'ip saddr 10.1.1.0/24 ip daddr 10.1.2.0/24 counter packets 3 bytes 180 drop\n  ip saddr 10.1.2.0/24 ip daddr 10.1.1.0/24 counter packets 4 bytes 1 drop';
  assert.equal(countedPackets('nft', nft), 7);
  const ipt =
    'Chain MRD-9 (1 references)\n    pkts      bytes target     prot opt in     out     source               destination\n       5      300 DROP       all  --  *      *       10.1.1.0/24          10.1.2.0/24\n       2      120 REJECT     tcp  --  *      *       10.1.2.0/24          10.1.1.0/24 reject-with tcp-reset';
  assert.equal(countedPackets('iptables', ipt), 7);
  assert.equal(countedPackets('nft', 'table inet mrd_9 {}'), 0);
});

test('iptables rules: flush the lab chain, then DROP (after a tcp-reset REJECT for reset) per direction', () => {
  assert.deepEqual(iptablesRules('MRD-9', new Set(['a|b']), subnets, 'blackhole'), [
    ['-F', 'MRD-9'],
    ['-A', 'MRD-9', '-s', '10.201.1.0/24', '-d', '10.201.2.0/24', '-j', 'DROP'],
    ['-A', 'MRD-9', '-s', '10.201.2.0/24', '-d', '10.201.1.0/24', '-j', 'DROP'],
  ]);
  assert.equal(iptablesRules('MRD-9', new Set(['a|b']), subnets, 'reset').length, 5);
});

test('relay routes: source namespace to destination namespace, then to its gateway; shared links stay out', () => {
  const site = (s: string, i: number): NetnsSite => ({
    site: s,
    namespace: `mrd-1-${s}`,
    ...siteAddresses(201, i),
    hostVeth: '',
    nsVeth: '',
  });
  const sites = new Map([
    ['a', site('a', 1)],
    ['b', site('b', 2)],
  ]);
  const routes = relayRoutes(
    [
      { name: 'edge:a>b', from: 'a', to: 'b', targetPort: 1, rttMs: 0 },
      { name: 'etcd-peer:b', from: '*', to: 'b', targetPort: 2, rttMs: 0 },
    ],
    { 'edge:a>b': 5000, 'etcd-peer:b': 5001 },
    sites,
  );
  assert.deepEqual(routes.get('a'), [
    {
      link: 'edge:a>b',
      listen: { host: '10.201.1.2', port: 5000 },
      target: { host: '10.201.2.2', port: 5000 },
    },
  ]);
  assert.deepEqual(routes.get('b'), [
    {
      link: 'edge:a>b',
      listen: { host: '10.201.2.2', port: 5000 },
      target: { host: '10.201.2.1', port: 5000 },
    },
  ]);
});
