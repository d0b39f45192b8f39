// Region A's shipper for the benchmark, in its own process, as deployed: the
// region's `meridian replication` ships the outbox, not the application that
// writes. It runs until the parent asks it to close (or goes away).
import { Redis } from 'ioredis';
import { connectNatsTransport } from '../../src/replication/nats-transport.js';
import { startShipper } from '../../src/replication/shipper.js';

const [redisUrl, natsUrl, stream, region, replicas] = process.argv.slice(2);
const redis = new Redis(redisUrl, { enableAutoPipelining: true });
const transport = await connectNatsTransport({
  servers: natsUrl.split(','),
  stream,
  replicas: Number(replicas) as 1 | 3,
});
const shipper = startShipper({ region, redis, transport });

process.on('message', async (m: { ask: string }) => {
  if (m.ask !== 'close') return;
  await shipper.close();
  await transport.close();
  redis.disconnect();
  process.send?.({ closed: true });
  process.disconnect();
});
process.on('disconnect', () => process.exit(0));
process.send?.({ ready: true });
