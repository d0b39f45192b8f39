// npm run bench -- replication [--writes N] [--rounds R] [--rate W] [--paced-seconds S] [--streams 1,3] [--json]
//
// Netflix's EVCache test: N writes in region A, then, 500 ms after the last
// write was acknowledged, read every key in region B. Two redis-server and
// JetStream on free loopback ports, started here: one nats-server for R1
// streams, a 3-node cluster for R3. Writes go through the transactional
// outbox (acknowledged = in Redis with the outgoing event); region A's
// shipper runs in a child process, as `meridian replication` ships a region's
// outbox apart from the application that writes (`--shipper inline` runs it in
// this process, beside the writer), region B's relay in another child.
// Peers, measured in the same run with the same load shapes:
// - plain Redis SET on region A's server (no replication): what replication
//   costs a writer;
// - Redis's own replication (a master and a REPLICAOF replica, two more
//   redis-server): the same writes, how soon they are visible in the replica
//   (catch-up after the last write, read sweep at +500 ms, and per-write lag
//   at the paced rate from the replica's keyspace notifications). It is
//   one-way, with no conflict resolution and no queue that outlives a
//   partition, so it is a floor, not an equal.
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { createReplicatedCache } from '../../src/replication/cache.js';
import { connectNatsTransport } from '../../src/replication/nats-transport.js';
import { startShipper } from '../../src/replication/shipper.js';
import { findProgram } from '../../test/helpers/programs.js';
import { startRedis } from '../../test/replication-helpers.js';
import { BenchChild, flatOut, paced, sleep } from './drive.js';
import { startBenchNats } from './nats.js';
import { type Round, report } from './report.js';

const { values: opts } = parseArgs({
  options: {
    writes: { type: 'string', default: '1000000' },
    rounds: { type: 'string', default: '3' },
    rate: { type: 'string', default: '10000' },
    'paced-seconds': { type: 'string', default: '5' },
    window: { type: 'string', default: '1000' },
    streams: { type: 'string', default: '1,3' },
    shipper: { type: 'string', default: 'child' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (opts.help) {
  process.stdout.write(
    'usage: npm run bench -- replication [--writes N] [--rounds R] [--rate W] [--paced-seconds S] [--window C] [--streams 1,3] [--shipper child|inline] [--json]\n',
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
if (opts.shipper !== 'child' && opts.shipper !== 'inline') {
  process.stderr.write(`meridian bench: --shipper must be child or inline, got ${opts.shipper}\n`);
  process.exit(2);
}
const writes = num('writes');
const rounds = num('rounds');
const rate = num('rate');
const pacedWrites = rate * num('paced-seconds');
const window = num('window');
const VISIBLE_AFTER_MS = 500;
const streamReplicas = String(opts.streams)
  .split(',')
  .map((r) => Number(r.trim()));
if (streamReplicas.length === 0 || !streamReplicas.every((r) => r === 1 || r === 3)) {
  process.stderr.write(`meridian bench: --streams takes 1, 3 or 1,3, got ${opts.streams}\n`);
  process.exit(1);
}

const redisProgram = findProgram('redis-server');
const natsProgram = findProgram('nats-server');
if (!redisProgram || !natsProgram) {
  process.stderr.write('meridian bench: redis-server and nats-server must be installed\n');
  process.exit(1);
}
const log = (line: string) => opts.json || process.stderr.write(`${line}\n`);
const summaries: Record<string, Record<string, unknown>> = {};
const texts: string[] = [];
for (const replicas of streamReplicas) {
  const label = `R${replicas}`;
  const results = await measure(replicas as 1 | 3, label);
  const setup = { writes, rounds, rate, pacedWrites, window, stream: label, json: opts.json };
  summaries[label] = JSON.parse(report(results, { ...setup, json: true }));
  texts.push(report(results, setup));
}
if (opts.json) {
  const medians = Object.fromEntries(
    Object.entries(summaries).map(([label, s]) => {
      const m = s.medians as Record<string, unknown>;
      const ratio = s.ratio as Record<string, unknown>;
      return [label, { ...m, ratioPlainRedisSet: ratio.plainRedisSet }];
    }),
  );
  process.stdout.write(
    `${JSON.stringify({ benchmark: 'replication', delivery: 'outbox', shipper: opts.shipper, medians, streams: summaries })}\n`,
  );
} else
  process.stdout.write(
    `region A's shipper: ${opts.shipper === 'inline' ? "in the writer's process" : 'its own process'}\n${texts.join('\n')}`,
  );

async function measure(replicas: 1 | 3, label: string): Promise<Round[]> {
  const [redisA, redisB, nats, peerMaster] = await Promise.all([
    startRedis(redisProgram!),
    startRedis(redisProgram!),
    startBenchNats(natsProgram!, replicas),
    startRedis(redisProgram!),
  ]);
  const peerReplica = await startRedis(redisProgram!, [
    '--replicaof',
    '127.0.0.1',
    String(peerMaster.port),
    '--notify-keyspace-events',
    'K$',
  ]);
  const stream = `BENCH_${label}`;
  const natsUrls = nats.urls.join(',');
  const relay = await BenchChild.start([
    redisB.url,
    natsUrls,
    stream,
    'region-a',
    'region-b',
    peerReplica.url,
  ]);
  const a = new Redis(redisA.url, { enableAutoPipelining: true });
  const b = new Redis(redisB.url, { enableAutoPipelining: true });
  const plain = new Redis(redisA.url, { enableAutoPipelining: true });
  const pm = new Redis(peerMaster.url, { enableAutoPipelining: true });
  const pr = new Redis(peerReplica.url, { enableAutoPipelining: true });
  const transport = await connectNatsTransport({ servers: nats.urls, stream, replicas });
  const cache = createReplicatedCache({ region: 'region-a', redis: a });
  const shipper =
    opts.shipper === 'inline'
      ? startShipper({ region: 'region-a', store: cache.store, transport })
      : await BenchChild.start(
          [redisA.url, natsUrls, stream, 'region-a', String(replicas)],
          './shipper-child.ts',
        );
  // 100-byte values, like a small cached record.
  const value = (i: number) => `v${i}`.padEnd(100, '.');

  // One script call reads 2,000 keys: the sweep measures replication, not client overhead.
  const READ_MANY =
    "local out = {} for i, k in ipairs(KEYS) do out[i] = redis.call('HGET', k, 'v') or '' end return out";
  const READ_MANY_PLAIN =
    "local out = {} for i, k in ipairs(KEYS) do out[i] = redis.call('GET', k) or '' end return out";
  async function missingIn(redis: Redis, script: string, keyOf: (i: number) => string, n: number) {
    let missing = 0;
    for (let start = 0; start < n; start += 2000) {
      const ids = Array.from({ length: Math.min(2000, n - start) }, (_, j) => start + j);
      const got = (await redis.eval(script, ids.length, ...ids.map(keyOf))) as string[];
      got.forEach((v, j) => {
        if (v !== value(ids[j])) missing++;
      });
    }
    return missing;
  }

  const replOffset = async (redis: Redis, field: string) => {
    const m = new RegExp(`${field}:(\\d+)`).exec(await redis.info('replication'));
    return m ? Number(m[1]) : -1;
  };
  /** Resolves when the peer replica has everything its master had at the call (bounded). */
  async function replicaCaughtUp(timeoutMs = 60_000): Promise<number> {
    const target = await replOffset(pm, 'master_repl_offset');
    const until = Date.now() + timeoutMs;
    while ((await replOffset(pr, 'slave_repl_offset')) < target && Date.now() < until) await sleep(1);
    return Date.now();
  }
  async function replicaLinkUp(timeoutMs = 30_000) {
    const until = Date.now() + timeoutMs;
    while (!/master_link_status:up/.test(await pr.info('replication'))) {
      if (Date.now() > until) throw new Error('the peer replica did not connect to its master');
      await sleep(50);
    }
  }

  const results: Round[] = [];
  try {
    await replicaLinkUp();
    for (let round = 1; round <= rounds; round++) {
      await Promise.all([a.flushall(), b.flushall()]);
      const plainPerS = await flatOut(writes, window, (i) => plain.set(`plain:${i}`, value(i)));
      await a.flushall();

      // Peer: Redis's own replication, the same writes.
      await pm.flushall();
      await replicaCaughtUp();
      const peerPerS = await flatOut(writes, window, (i) => pm.set(`r:${i}`, value(i)));
      const peerLastAck = Date.now();
      const peerCaughtUp = replicaCaughtUp();
      await sleep(peerLastAck + VISIBLE_AFTER_MS - Date.now());
      const peerMissingAtRead = await missingIn(pr, READ_MANY_PLAIN, (i) => `r:${i}`, writes);
      const peerCatchUpMs = (await peerCaughtUp) - peerLastAck;
      await pm.flushall();

      await relay.ask({ ask: 'reset' });
      const replicatedPerS = await flatOut(writes, window, (i) => cache.set(`k:${i}`, value(i)));
      const lastAck = Date.now();
      await sleep(lastAck + VISIBLE_AFTER_MS - Date.now());
      const readStarted = Date.now();
      const missingAtRead = await missingIn(b, READ_MANY, (i) => `mc:k:${i}`, writes);
      const readMs = Date.now() - readStarted;
      const burst = await relay.waitApplied(writes);
      const late = (await relay.stats(lastAck + VISIBLE_AFTER_MS)).appliedAfterDeadline;

      await Promise.all([a.flushall(), b.flushall()]);
      await relay.ask({ ask: 'reset' });
      const pacedPerS = await paced(pacedWrites, rate, (i) => cache.set(`p:${i}`, value(i)));
      const steady = await relay.waitApplied(pacedWrites);
      await Promise.all([a.flushall(), b.flushall()]);

      // Peer at the same rate; the key carries its send time for the replica's notification.
      const peerPacedPerS = await paced(pacedWrites, rate, (i) => pm.set(`q:${i}:${Date.now()}`, value(i)));
      const peerSteady = await relay.waitApplied(pacedWrites, true);
      await pm.flushall();
      const r: Round = {
        round,
        plainPerS,
        replicatedPerS,
        missingAtRead,
        readMs,
        appliedLaterThan500ms: late + Math.max(0, writes - burst.applied),
        catchUpMs: burst.lastAppliedAt === null ? null : Math.max(0, burst.lastAppliedAt - lastAck),
        burstLagP50: burst.p50,
        burstLagP99: burst.p99,
        pacedPerS,
        pacedLagP50: steady.p50,
        pacedLagP99: steady.p99,
        pacedLagMax: steady.max,
        peerPerS,
        peerMissingAtRead,
        peerCatchUpMs,
        peerPacedPerS,
        peerPacedLagP50: peerSteady.p50,
        peerPacedLagP99: peerSteady.p99,
        peerPacedLagMax: peerSteady.max,
      };
      results.push(r);
      log(`${label} round ${round}: ${JSON.stringify(r)}`);
    }
  } finally {
    await relay.close();
    await shipper.close();
    await transport.close();
    for (const c of [a, b, plain, pm, pr]) c.disconnect();
    await Promise.all([redisA.stop(), redisB.stop(), nats.stop(), peerReplica.stop(), peerMaster.stop()]);
  }
  return results;
}
