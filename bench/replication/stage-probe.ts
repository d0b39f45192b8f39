// node --import tsx bench/replication/stage-probe.ts [events]
// The shipper and the relay alone, each in this process: an outbox filled
// first (through the cache, as writes make it), then drained by a shipper into
// JetStream; then a relay applies the stream to a second Redis. CPU of this
// process per event (us) for each stage.
import { Redis } from 'ioredis';
import { createReplicatedCache } from '../../src/replication/cache.js';
import { connectNatsTransport } from '../../src/replication/nats-transport.js';
import { startRelay } from '../../src/replication/relay.js';
import { startShipper } from '../../src/replication/shipper.js';
import { findProgram } from '../../test/helpers/programs.js';
import { startRedis } from '../../test/replication-helpers.js';
import { flatOut, sleep } from './drive.js';
import { startBenchNats } from './nats.js';

const n = Number(process.argv[2] ?? 200000);
const [redisA, redisB, nats] = await Promise.all([
  startRedis(findProgram('redis-server')!),
  startRedis(findProgram('redis-server')!),
  startBenchNats(findProgram('nats-server')!, 1),
]);
const a = new Redis(redisA.url, { enableAutoPipelining: true });
const b = new Redis(redisB.url, { enableAutoPipelining: true });
const transport = await connectNatsTransport({ servers: nats.urls, stream: 'STAGE', replicas: 1 });
const cache = createReplicatedCache({ region: 'region-a', redis: a });
const value = (i: number) => `v${i}`.padEnd(100, '.');
const cpu = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
let c = cpu();
let t = performance.now();
const perS = await flatOut(n, 1000, (i) => cache.set(`k:${i}`, value(i)));
const report = (stage: string) => {
  const now = cpu();
  const ms = performance.now() - t;
  console.log(`${stage}: ${((now - c) / n).toFixed(2)} us CPU per event, ${Math.round(ms)} ms`);
  c = now;
  t = performance.now();
};
report(`write (${Math.round(perS)}/s)`);
const shipper = startShipper({ region: 'region-a', store: cache.store, transport });
while ((await cache.store.outboxDepth()) > 0) await sleep(5);
report(`ship (${shipper.stats().batches} messages)`);
await shipper.close();
let applied = 0;
const relay = await startRelay({
  region: 'region-b',
  sources: ['region-a'],
  redis: b,
  transport,
  onEvent: () => applied++,
});
while (applied < n) await sleep(5);
report('relay');
await relay.close();
await transport.close();
a.disconnect();
b.disconnect();
await Promise.all([redisA.stop(), redisB.stop(), nats.stop()]);
