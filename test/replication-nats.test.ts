// Replication over NATS JetStream between two real Redis servers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { connectNatsTransport } from '../src/replication/nats-transport.js';
import { eventually, startTwoRegionsOnNats } from './replication-helpers.js';
import { pairOfRegions, replicationSuite, WEST } from './replication-suite.js';

test('replication over NATS JetStream', async (t) => {
  const servers = await startTwoRegionsOnNats(t);
  if (!servers) return;
  const { east: a, west: b, nats } = servers;
  const transportsFor = async (label: string) => {
    // One connection per region, as two regions' processes would have.
    const options = { servers: [nats.url], stream: `T_${label}`, retryDelayMs: 100 };
    const [east, west] = await Promise.all([connectNatsTransport(options), connectNatsTransport(options)]);
    return { east, west, close: async () => void (await Promise.all([east.close(), west.close()])) };
  };
  await replicationSuite(t, [a.url, b.url], transportsFor);

  await t.test('writer and relay ride out a nats-server restart; nothing is lost', async () => {
    const east = new Redis(a.url);
    const west = new Redis(b.url);
    const transports = await transportsFor('restart_server');
    const { cacheEast, cacheWest, relayInto, stopShipping } = pairOfRegions(east, west, transports);
    const relay = await relayInto(WEST);
    try {
      await Promise.all(Array.from({ length: 100 }, (_, i) => cacheEast.set(`before:${i}`, 'x')));
      await eventually('first writes arrived', async () => (await cacheWest.get('before:99')) === 'x');
      await nats.restart();
      await Promise.all(Array.from({ length: 100 }, (_, i) => cacheEast.set(`after:${i}`, 'y')));
      await eventually(
        'writes after the restart arrived',
        async () => (await cacheWest.get('after:99')) === 'y',
      );
      for (let i = 0; i < 100; i += 9) assert.equal(await cacheWest.get(`after:${i}`), 'y');
    } finally {
      await relay.close();
      await stopShipping();
      await transports.close();
      east.disconnect();
      west.disconnect();
    }
  });
});
