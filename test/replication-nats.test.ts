// Replication over NATS JetStream between two real Redis servers.
import { test } from 'node:test';
import { connectNatsTransport } from '../src/replication/nats-transport.js';
import { findProgram, requireProgram } from './helpers/programs.js';
import { startNats, startRedis } from './replication-helpers.js';
import { replicationSuite } from './replication-suite.js';

test('replication over NATS JetStream', async (t) => {
  const redisServer = requireProgram(t, 'redis-server');
  const natsServer = redisServer && requireProgram(t, 'nats-server');
  if (!redisServer || !natsServer || !findProgram('nats-server')) return;
  const [a, b, nats] = await Promise.all([
    startRedis(redisServer),
    startRedis(redisServer),
    startNats(natsServer),
  ]);
  t.after(() => Promise.all([a.stop(), b.stop(), nats.stop()]));
  await replicationSuite(t, [a.url, b.url], async (label) => {
    // One connection per region, as two regions' processes would have.
    const options = { servers: [nats.url], stream: `T_${label}`, retryDelayMs: 100 };
    const [east, west] = await Promise.all([connectNatsTransport(options), connectNatsTransport(options)]);
    return { east, west, close: async () => void (await Promise.all([east.close(), west.close()])) };
  });
});
