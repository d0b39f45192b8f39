// npm run bench -- replication [--writes N] [--rounds R] [--rate W] [--paced-seconds S] [--json]
//
// Netflix's EVCache test: N writes in region A, then, 500 ms after the last
// write was acknowledged, read every key in region B. Two redis-server and one
// nats-server (JetStream) on free loopback ports, started here. The peer is
// plain Redis SET on the same server with the same concurrency: the ratio is
// what replication costs a writer.
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { createReplicatedCache } from '../../src/replication/cache.js';
import { connectNatsTransport } from '../../src/replication/nats-transport.js';
import { findProgram } from '../../test/helpers/programs.js';
import { startNats, startRedis } from '../../test/replication-helpers.js';
import { flatOut, paced, RelayChild, sleep } from './drive.js';
import { type Round, report } from './report.js';

const { values: opts } = parseArgs({
  options: {
    writes: { type: 'string', default: '1000000' },
    rounds: { type: 'string', default: '3' },
    rate: { type: 'string', default: '10000' },
    'paced-seconds': { type: 'string', default: '5' },
    window: { type: 'string', default: '1000' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (opts.help) {
  process.stdout.write(
    'usage: npm run bench -- replication [--writes N] [--rounds R] [--rate W] [--paced-seconds S] [--window C] [--json]\n',
  );
  process.exit(0);
}
const num = (name: keyof typeof opts) => {
  const v = Number(opts[name]);
  if (!Number.isInteger(v) || v <= 0) {
    process.stderr.write(`meridian bench: --${name} must be a positive integer, got ${opts[name]}\n`);
    process.exit(1);
  }
  return v;
};
const writes = num('writes');
const rounds = num('rounds');
const rate = num('rate');
const pacedWrites = rate * num('paced-seconds');
const window = num('window');
const VISIBLE_AFTER_MS = 500;

const redisProgram = findProgram('redis-server');
const natsProgram = findProgram('nats-server');
if (!redisProgram || !natsProgram) {
  process.stderr.write('meridian bench: redis-server and nats-server must be installed\n');
  process.exit(1);
}
const log = (line: string) => opts.json || process.stderr.write(`${line}\n`);
const [redisA, redisB, nats] = await Promise.all([
  startRedis(redisProgram),
  startRedis(redisProgram),
  startNats(natsProgram),
]);
const stream = 'BENCH';
const relay = await RelayChild.start([redisB.url, nats.url, stream, 'region-a', 'region-b']);
const a = new Redis(redisA.url, { enableAutoPipelining: true });
const b = new Redis(redisB.url, { enableAutoPipelining: true });
const plain = new Redis(redisA.url, { enableAutoPipelining: true });
const transport = await connectNatsTransport({ servers: [nats.url], stream });
const cache = createReplicatedCache({ region: 'region-a', redis: a, transport });
// 100-byte values, like a small cached record.
const value = (i: number) => `v${i}`.padEnd(100, '.');

// One script call reads 2,000 keys: the sweep measures replication, not client overhead.
const READ_MANY =
  "local out = {} for i, k in ipairs(KEYS) do out[i] = redis.call('HGET', k, 'v') or '' end return out";
async function missingInB(n: number): Promise<number> {
  let missing = 0;
  for (let start = 0; start < n; start += 2000) {
    const ids = Array.from({ length: Math.min(2000, n - start) }, (_, j) => start + j);
    const got = (await b.eval(READ_MANY, ids.length, ...ids.map((i) => `mc:k:${i}`))) as string[];
    got.forEach((v, j) => {
      if (v !== value(ids[j])) missing++;
    });
  }
  return missing;
}

const results: Round[] = [];
try {
  for (let round = 1; round <= rounds; round++) {
    await Promise.all([a.flushall(), b.flushall()]);
    const plainPerS = await flatOut(writes, window, (i) => plain.set(`plain:${i}`, value(i)));
    await a.flushall();
    await relay.ask({ ask: 'reset' });
    const replicatedPerS = await flatOut(writes, window, (i) => cache.set(`k:${i}`, value(i)));
    const lastAck = Date.now();
    await sleep(lastAck + VISIBLE_AFTER_MS - Date.now());
    const readStarted = Date.now();
    const missingAtRead = await missingInB(writes);
    const readMs = Date.now() - readStarted;
    const burst = await relay.waitApplied(writes);
    const late = (await relay.stats(lastAck + VISIBLE_AFTER_MS)).appliedAfterDeadline;

    await Promise.all([a.flushall(), b.flushall()]);
    await relay.ask({ ask: 'reset' });
    const pacedPerS = await paced(pacedWrites, rate, (i) => cache.set(`p:${i}`, value(i)));
    const steady = await relay.waitApplied(pacedWrites);
    const r: Round = {
      round,
      plainPerS,
      replicatedPerS,
      missingAtRead,
      readMs,
      appliedLaterThan500ms: late + Math.max(0, writes - burst.applied),
      burstLagP50: burst.p50,
      burstLagP99: burst.p99,
      pacedPerS,
      pacedLagP50: steady.p50,
      pacedLagP99: steady.p99,
      pacedLagMax: steady.max,
    };
    results.push(r);
    log(`round ${round}: ${JSON.stringify(r)}`);
  }
} finally {
  await relay.close();
  await transport.close();
  for (const c of [a, b, plain]) c.disconnect();
  await Promise.all([redisA.stop(), redisB.stop(), nats.stop()]);
}
process.stdout.write(report(results, { writes, rounds, rate, pacedWrites, window, json: opts.json }));
