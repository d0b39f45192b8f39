import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { test } from 'node:test';
import dnsPacket from 'dns-packet';
import { pino } from 'pino';
import { DnsClient } from './dns-client.js';
import { Recorder } from './recorder.js';
import { Traffic } from './traffic.js';
import { seededRandom } from './users.js';
import { WatchService } from './watchlist/server.js';

test('traffic: users skip a dead first address, keep going to the live one, and write by PUT and POST', async () => {
  const dns = createSocket('udp4');
  let queries = 0;
  dns.on('message', (msg, rinfo) => {
    queries++;
    const q = dnsPacket.decode(msg);
    const reply = dnsPacket.encode({
      type: 'response',
      id: q.id,
      flags: dnsPacket.AUTHORITATIVE_ANSWER,
      questions: q.questions,
      answers: ['192.0.2.10', '198.51.100.10'].map((data) => ({
        type: 'A' as const,
        name: 'api.example.com',
        ttl: 30,
        data,
      })),
    });
    dns.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => dns.bind(0, '127.0.0.1', () => r()));
  const west = await new WatchService({
    region: 'west',
    id: 'west/0',
    log: pino({ level: 'silent' }),
  }).start();
  const dead = await new WatchService({
    region: 'east',
    id: 'east/0',
    log: pino({ level: 'silent' }),
  }).start();
  const deadUrl = `http://127.0.0.1:${dead.port}`;
  await dead.close();
  const users = Array.from({ length: 20 }, (_, i) => ({
    id: `u${i}`,
    address: `203.0.113.${i + 1}`,
    place: 'US-VA',
    location: { lat: 38.9, lon: -77.4 },
  }));
  const recorder = new Recorder(['east', 'west']);
  recorder.setPhase('steady', 0);
  const client = new DnsClient({ address: '127.0.0.1', port: dns.address().port });
  const start = performance.now();
  const traffic = new Traffic({
    users,
    dns: client,
    hostname: 'api.example.com',
    edges: new Map([
      ['192.0.2.10', { region: 'east', url: deadUrl }],
      ['198.51.100.10', { region: 'west', url: `http://127.0.0.1:${west.port}` }],
    ]),
    rate: 100,
    writeShare: 0.5,
    random: seededRandom(3),
    recorder,
    clock: () => performance.now() - start,
    homeOf: () => 'east',
    cohortOf: (u) => (Number(u.id.slice(1)) % 2 === 0 ? 'even' : 'odd'),
    regionLocations: new Map([
      ['east', { lat: 38.9, lon: -77.4 }],
      ['west', { lat: 45.6, lon: -121.2 }],
    ]),
  });
  try {
    traffic.start();
    while (recorder.totals.total < 200) await new Promise((r) => setTimeout(r, 50));
    await traffic.stop();
    assert.equal(recorder.totals.failed, 0, JSON.stringify(Object.fromEntries(recorder.failures)));
    assert.ok(recorder.multiTry > 0, 'first tries went to the dead address, then to the next');
    // A user's first requests (a few may start together) find the dead address; later ones go
    // straight to the connection it keeps, and to the answer it keeps for its TTL.
    const total = recorder.totals.total;
    assert.ok(recorder.multiTry < total, `${recorder.multiTry} of ${total} took two tries`);
    assert.ok(queries < total, `${queries} DNS queries for ${total} requests`);
    const byCohort = [...recorder.cohorts].map(
      ([name, c]) => [name, c.steadyOutsideHome === c.steadyOk] as const,
    );
    assert.deepEqual(
      new Map(byCohort),
      new Map([
        ['even', true],
        ['odd', true],
      ]),
      'all served outside home',
    );
    assert.ok(recorder.requestsByKind.post > 0 && recorder.requestsByKind.postWithKey > 0);
    assert.ok(traffic.ackedCreations.POST > 0 && traffic.ackedCreations.PUT > 0);
    for (const key of traffic.ackedWrites) {
      const [user, item] = key.split('/');
      if (!traffic.deletesSent.has(key))
        assert.ok(
          west.list(user).some((i) => i.id === item),
          `${key} is stored`,
        );
    }
  } finally {
    await traffic.stop();
    client.close();
    dns.close();
    await west.close();
  }
});
