import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../config/index.js';
import { etcdSites, LinkUrls, natsReplicas, natsSites, planTopology, WITNESS } from './topology.js';

test('etcd has three members: a witness joins two regions, three regions or more take the first three', () => {
  assert.deepEqual(etcdSites(['a', 'b']), ['a', 'b', WITNESS]);
  assert.deepEqual(etcdSites(['a', 'b', 'c', 'd']), ['a', 'b', 'c']);
});

test('two regions on etcd: a name server and a control instance per region, every link names its sides', async () => {
  const t = await planTopology(loadConfig('examples/two-regions.yaml'), true, true);
  assert.deepEqual(
    t.nameservers.map((n) => [n.region, n.name, n.address]),
    [
      ['us-east-1', 'ns-us-east-1.example.com', '127.0.1.1'],
      ['us-west-2', 'ns-us-west-2.example.com', '127.0.1.2'],
    ],
  );
  assert.deepEqual([...t.controlPorts.keys()], ['us-east-1', 'us-west-2']);
  assert.deepEqual(
    t.etcd.map((m) => m.name),
    ['us-east-1', 'us-west-2', WITNESS],
  );
  const names = t.links.map((l) => l.name).sort();
  assert.deepEqual(names, [
    'control:us-east-1>us-west-2',
    'control:us-west-2>us-east-1',
    'edge:us-east-1>us-west-2',
    'edge:us-west-2>us-east-1',
    'etcd-client:us-east-1>us-west-2',
    `etcd-client:us-east-1>${WITNESS}`,
    'etcd-client:us-west-2>us-east-1',
    `etcd-client:us-west-2>${WITNESS}`,
    'etcd-peer:us-east-1',
    'etcd-peer:us-west-2',
    `etcd-peer:${WITNESS}`,
    'replication:us-east-1>us-west-2/0',
    'replication:us-east-1>us-west-2/1',
    'replication:us-west-2>us-east-1/0',
    'replication:us-west-2>us-east-1/1',
  ]);
  for (const l of t.links) {
    assert.notEqual(l.from, l.to, l.name);
    if (!l.name.startsWith('etcd-peer:')) assert.ok(l.name.includes(`${l.from}>`), l.name);
    assert.equal(l.rttMs, 70, l.name);
  }
  const ports = [...t.edgePorts.values(), ...t.controlPorts.values(), ...t.origins.map((o) => o.port)];
  assert.equal(new Set(ports).size, ports.length, 'every server has its own port');
});

test('without etcd: one control instance outside every region, no etcd link', async () => {
  const t = await planTopology(loadConfig('examples/three-regions.yaml'), false, true);
  assert.deepEqual([...t.controlPorts.keys()], ['']);
  assert.equal(t.etcd.length, 0);
  assert.equal(t.nameservers.length, 3);
  assert.ok(t.links.every((l) => !/^(etcd|control)/.test(l.name)));
  // Three regions: each region reaches each other one's edge through its own link.
  assert.equal(t.links.filter((l) => l.name.startsWith('edge:')).length, 6);
});

test('NATS has a node per region and a witness for two regions; R3 from three nodes', () => {
  assert.deepEqual(natsSites(['a', 'b']), ['a', 'b', WITNESS]);
  assert.deepEqual(natsSites(['a', 'b', 'c', 'd']), ['a', 'b', 'c', 'd']);
  assert.deepEqual(natsSites(['a']), ['a']);
  assert.equal(natsReplicas(3), 3);
  assert.equal(natsReplicas(1), 1);
});

test('Redis+NATS data: a Redis per region, NATS routes and clients through the links, no origin push', async () => {
  const t = await planTopology(loadConfig('examples/two-regions.yaml'), false, false, true);
  assert.deepEqual([...t.redisPorts.keys()], ['us-east-1', 'us-west-2']);
  assert.deepEqual(
    t.nats.map((n) => n.name),
    ['us-east-1', 'us-west-2', WITNESS],
  );
  const names = t.links.map((l) => l.name).sort();
  assert.deepEqual(names, [
    'edge:us-east-1>us-west-2',
    'edge:us-west-2>us-east-1',
    'nats-client:us-east-1>us-west-2',
    `nats-client:us-east-1>${WITNESS}`,
    'nats-client:us-west-2>us-east-1',
    `nats-client:us-west-2>${WITNESS}`,
    'nats-route:us-east-1',
    'nats-route:us-west-2',
    `nats-route:${WITNESS}`,
  ]);
  const route = t.links.find((l) => l.name === 'nats-route:us-east-1')!;
  assert.equal(route.from, '*');
  assert.equal(route.targetPort, t.nats[0].clusterPort);
  const client = t.links.find((l) => l.name === 'nats-client:us-west-2>us-east-1')!;
  assert.equal(client.targetPort, t.nats[0].clientPort);
  const ports = [
    ...t.redisPorts.values(),
    ...t.nats.flatMap((n) => [n.clientPort, n.clusterPort, n.monitorPort]),
    ...t.edgePorts.values(),
  ];
  assert.equal(new Set(ports).size, ports.length, 'every server has its own port');
});

test('LinkUrls gives NATS route and client URLs: direct in the own region, through the link elsewhere', () => {
  const links = new LinkUrls({ 'nats-route:a': 4001, 'nats-client:b>a': 4002 });
  assert.equal(links.natsRoute('a'), 'nats-route://127.0.0.1:4001');
  assert.equal(links.natsClient('b', 'a', 4222), 'nats://127.0.0.1:4002');
  assert.equal(links.natsClient('a', 'a', 4222), 'nats://127.0.0.1:4222');
});
