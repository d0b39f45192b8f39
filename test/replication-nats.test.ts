// Replication over NATS JetStream between two real Redis servers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { AckPolicy, connect } from 'nats';
import { connectNatsTransport } from '../src/replication/nats-transport.js';
import { SkippedRepair } from '../src/replication/repair-skipped.js';
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
        const handler = async (data: Uint8Array) => void applied.push(new TextDecoder().decode(data));
        const repair = new SkippedRepair({ jsm, stream: 'RS_SKIPPED', durable: 'to_b', floor, handler });
        assert.deepEqual(await repair.round(), { applied: 10, why: 'ran-ahead' });
        assert.deepEqual(
          applied,
          Array.from({ length: 10 }, (_, i) => `e${i}`),
        );
        assert.equal(floor.value, 10);
        assert.deepEqual(await repair.round(), { applied: 0, why: null }, 'nothing twice');
      } finally {
        await nc.close();
      }
    },
  );

  await t.test(
    'events a consumer holds back for a whole round are applied from the stream; a consumer that delivers is left alone',
    async () => {
      // What a consumer led by a diverged replica does after a partition (pending 94, delivering
      // none), made here by a second client taking the events on the relay's durable and never
      // acknowledging them.
      const nc = await connect({ servers: [nats.url] });
      try {
        const jsm = await nc.jetstreamManager();
        await jsm.streams.add({ name: 'RS_STALLED', subjects: ['rs.stalled'] });
        const js = nc.jetstream();
        const publish = async (from: number, to: number) => {
          for (let i = from; i < to; i++) await js.publish('rs.stalled', new TextEncoder().encode(`e${i}`));
        };
        await publish(0, 10);
        await jsm.consumers.add('RS_STALLED', {
          durable_name: 'to_b',
          ack_policy: AckPolicy.Explicit,
          ack_wait: 600_000_000_000,
        });
        const applied: string[] = [];
        const floor = new SequenceFloor(0);
        const handler = async (data: Uint8Array) => void applied.push(new TextDecoder().decode(data));
        const repair = new SkippedRepair({ jsm, stream: 'RS_STALLED', durable: 'to_b', floor, handler });

        // Delivering: the floor moves between rounds, so the repair takes nothing.
        assert.deepEqual(await repair.round(), { applied: 0, why: null }, 'the first round only looks');
        for (let seq = 1; seq <= 4; seq++) floor.done(seq);
        assert.deepEqual(await repair.round(), { applied: 0, why: null }, 'a moving floor is left alone');

        const held = await (await js.consumers.get('RS_STALLED', 'to_b')).fetch({
          max_messages: 10,
          expires: 2000,
        });
        for await (const m of held) if (m.seq === 10) break;
        assert.deepEqual(
          await repair.round(),
          { applied: 6, why: 'stalled' },
          'the floor stood still a whole round with the stream ahead: 5-10 are applied',
        );
        assert.deepEqual(applied, ['e4', 'e5', 'e6', 'e7', 'e8', 'e9']);
        assert.equal(floor.value, 10);

        // A message deleted from the stream is passed over; the rest is applied.
        await publish(10, 13);
        await jsm.streams.deleteMessage('RS_STALLED', 12);
        await repair.round();
        assert.deepEqual(await repair.round(), { applied: 2, why: 'stalled' });
        assert.deepEqual(applied.slice(6), ['e10', 'e12']);
        assert.equal(floor.value, 13);
      } finally {
        await nc.close();
      }
    },
  );
  await t.test(
    "retention counts from what the relay applied, not from a consumer's ack floor left behind",
    async () => {
      // The repair applies held-back events straight from the stream and never acknowledges them to
      // the consumer, whose ack floor stays where it stood: counted from there, a soak with a
      // 10-minute maxAge warned of retention running out with every event applied.
      const transport = await connectNatsTransport({
        servers: [nats.url],
        stream: 'T_RETFLOOR',
        repairEveryMs: 200,
        ackWaitMs: 600_000,
      });
      const nc = await connect({ servers: [nats.url] });
      try {
        for (let i = 0; i < 5; i++) await transport.publish('a', new TextEncoder().encode(`e${i}`));
        const jsm = await nc.jetstreamManager();
        await jsm.consumers.add('T_RETFLOOR_a', {
          durable_name: 'to_b',
          ack_policy: AckPolicy.Explicit,
          ack_wait: 600_000_000_000,
        });
        // Another client takes the five on the relay's durable and never acknowledges them.
        const held = await (await nc.jetstream().consumers.get('T_RETFLOOR_a', 'to_b')).fetch({
          max_messages: 5,
          expires: 2000,
        });
        for await (const m of held) if (m.seq === 5) break;
        const applied: string[] = [];
        const sub = await transport.subscribe('a', 'b', async (data) => {
          applied.push(new TextDecoder().decode(data));
        });
        try {
          await eventually('the repair applied the held-back events', async () => applied.length === 5);
          assert.equal((await jsm.consumers.info('T_RETFLOOR_a', 'to_b')).ack_floor.stream_seq, 0);
          const info = await transport.retention!('a', 'b');
          assert.equal(info.nextSeq, 6, 'next is the first event not applied');
          assert.equal(info.oldestPendingAgeMs, null, 'nothing is pending');
        } finally {
          await sub.close();
        }
      } finally {
        await nc.close();
        await transport.close();
      }
    },
  );
});
