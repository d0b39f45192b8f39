// Replication over NATS JetStream between two real Redis servers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { AckPolicy, connect } from 'nats';
import { connectNatsTransport } from '../src/replication/nats-transport.js';
import { repairSkipped } from '../src/replication/repair-skipped.js';
import { SequenceFloor } from '../src/replication/sequence-floor.js';
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

  await t.test(
    'events a consumer acknowledged but the relay never applied are applied from the stream',
    async () => {
      // What a consumer led by a diverged replica does after a partition, made here by a second
      // client taking and acknowledging the events on the relay's durable.
      const nc = await connect({ servers: [nats.url] });
      try {
        const jsm = await nc.jetstreamManager();
        await jsm.streams.add({ name: 'RS_SKIPPED', subjects: ['rs.skipped'] });
        const js = nc.jetstream();
        for (let i = 0; i < 10; i++) await js.publish('rs.skipped', new TextEncoder().encode(`e${i}`));
        await jsm.consumers.add('RS_SKIPPED', { durable_name: 'to_b', ack_policy: AckPolicy.Explicit });
        const taken = await (await js.consumers.get('RS_SKIPPED', 'to_b')).fetch({
          max_messages: 10,
          expires: 2000,
        });
        for await (const m of taken) await m.ackAck();
        assert.equal((await jsm.consumers.info('RS_SKIPPED', 'to_b')).ack_floor.stream_seq, 10);

        const applied: string[] = [];
        const floor = new SequenceFloor(0);
        const repair = { jsm, stream: 'RS_SKIPPED', durable: 'to_b', floor };
        const handler = async (data: Uint8Array) => void applied.push(new TextDecoder().decode(data));
        assert.equal(await repairSkipped({ ...repair, handler }), 10);
        assert.deepEqual(
          applied,
          Array.from({ length: 10 }, (_, i) => `e${i}`),
        );
        assert.equal(floor.value, 10);
        assert.equal(await repairSkipped({ ...repair, handler }), 0, 'nothing twice');
      } finally {
        await nc.close();
      }
    },
  );
});
