// A child process for test/replication-outbox.test.ts, so the test can
// SIGKILL it at any moment:
//   writer <redis> <count> [unsafe <nats> <stream>]: writes w:<i> = v<i> (64 at a
//     time) and prints `ack <i>` once each write is acknowledged;
//   shipper <redis> <nats> <stream> <region>: ships the region's outbox in
//     small batches and prints `shipped <n>` as it goes.
import { Redis } from 'ioredis';
import { createReplicatedCache } from '../src/replication/cache.js';
import { connectNatsTransport } from '../src/replication/nats-transport.js';
import { startShipper } from '../src/replication/shipper.js';

const [mode, redisUrl, ...rest] = process.argv.slice(2);
const redis = new Redis(redisUrl);

if (mode === 'writer') {
  const [count, delivery, natsUrl, stream] = rest;
  const unsafe = delivery === 'unsafe';
  const transport = unsafe ? await connectNatsTransport({ servers: [natsUrl], stream }) : undefined;
  const cache = createReplicatedCache({
    region: 'east',
    redis,
    transport,
    delivery: unsafe ? 'unsafe-ack-before-publish' : 'outbox',
  });
  let next = 0;
  const worker = async () => {
    while (next < Number(count)) {
      const i = next++;
      await cache.set(`w:${i}`, `v${i}`);
      process.stdout.write(`ack ${i}\n`);
    }
  };
  await Promise.all(Array.from({ length: 64 }, worker));
  process.stdout.write('done\n');
} else if (mode === 'shipper') {
  const [natsUrl, stream, region] = rest;
  const transport = await connectNatsTransport({ servers: [natsUrl], stream });
  const shipper = startShipper({ region, redis, transport, batchMax: 20, leaseMs: 1000 });
  setInterval(() => process.stdout.write(`shipped ${shipper.stats().shipped}\n`), 5);
} else {
  process.stderr.write(`unknown mode ${mode}\n`);
  process.exit(2);
}
