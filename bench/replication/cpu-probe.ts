// node --import tsx bench/replication/cpu-probe.ts [writes] [replicas 1|3] [--cpu-prof dir]
// Where the CPU goes while region A writes flat out through the outbox (the
// benchmark's replicated phase, alone): CPU us per write of each process
// (writer = this one, shipper, relay, Redis A and B, nats-server), user+sys
// from /proc/PID/stat, over the burst and until B applied everything; plain
// SET on the same Redis first, for comparison. With a directory, the shipper
// and relay children write --cpu-prof profiles there. PROBE_PERF=file records
// every process with `perf record` over the replicated phase (start this
// process with --perf-basic-prof for JavaScript names).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { connect } from 'nats';
import { createReplicatedCache } from '../../src/replication/cache.js';
import { findProgram } from '../../test/helpers/programs.js';
import { startRedis } from '../../test/replication-helpers.js';
import { BenchChild, flatOut } from './drive.js';
import { startBenchNats } from './nats.js';

const writes = Number(process.argv[2] ?? 100000);
const replicas = Number(process.argv[3] ?? 1) as 1 | 3;
const profDir = process.argv[4] === '--cpu-prof' ? process.argv[5] : undefined;
const perfFile = process.env.PROBE_PERF;

type Ticks = Record<string, { user: number; sys: number }>;
const ticksOf = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return { user: Number(f[11]), sys: Number(f[12]) };
};

const [redisA, redisB, nats] = await Promise.all([
  startRedis(findProgram('redis-server')!),
  startRedis(findProgram('redis-server')!),
  startBenchNats(findProgram('nats-server')!, replicas),
]);
const stream = `PROBE_R${replicas}`;
const urls = nats.urls.join(',');
const execArgv = profDir
  ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`]
  : perfFile
    ? ['--perf-basic-prof']
    : [];
const relay = await BenchChild.start(
  [redisB.url, urls, stream, 'region-a', 'region-b'],
  './relay-child.ts',
  execArgv,
);
const shipper = await BenchChild.start(
  [redisA.url, urls, stream, 'region-a', String(replicas)],
  './shipper-child.ts',
  execArgv,
);
const a = new Redis(redisA.url, { enableAutoPipelining: true });
const plain = new Redis(redisA.url, { enableAutoPipelining: true });
const cache = createReplicatedCache({ region: 'region-a', redis: a });
const value = (i: number) => `v${i}`.padEnd(100, '.');
const pids = new Map<string, number>([
  ['writer', process.pid],
  ['shipper', shipper.child.pid!],
  ['relay', relay.child.pid!],
  ['redisA', redisA.pid()!],
  ['redisB', redisB.pid()!],
]);
for (const [i, pid] of nats.pids().entries()) pids.set(`nats${i}`, pid);
const sample = (): Ticks => Object.fromEntries([...pids].map(([k, pid]) => [k, ticksOf(pid)]));
// us of CPU per write, user+sys (a clock tick is 10 ms).
const row = (from: Ticks, to: Ticks) => {
  const us = (ticks: number) => Math.round((ticks * 100_000) / writes) / 10;
  return [...pids.keys()]
    .map((k) => `${k} ${us(to[k].user - from[k].user)}+${us(to[k].sys - from[k].sys)}`)
    .join(', ');
};

const plainBefore = sample();
const plainPerS = await flatOut(writes, 1000, (i) => plain.set(`plain:${i}`, value(i)));
const plainAfter = sample();
await a.flushall();
await relay.ask({ ask: 'reset' });

const perf = perfFile
  ? spawn('perf', ['record', '-F', '499', '-g', '-o', perfFile, '-p', [...pids.values()].join(',')], {
      stdio: 'ignore',
    })
  : null;
if (perf) await new Promise((r) => setTimeout(r, 1000));
const before = sample();
const started = performance.now();
const perS = await flatOut(writes, 1000, (i) => cache.set(`k:${i}`, value(i)));
const atAck = sample();
await relay.waitApplied(writes);
const done = sample();
const allMs = performance.now() - started;
if (perf) {
  perf.kill('SIGINT');
  await new Promise((r) => perf.once('exit', r));
}

const nc = await connect({ servers: nats.urls });
const info = await (await nc.jetstreamManager()).streams.info(`${stream}_region-a`);
await nc.close();
console.log(
  JSON.stringify({
    writes,
    replicas,
    plainPerS: Math.round(plainPerS),
    replicatedPerS: Math.round(perS),
    allAppliedMs: Math.round(allMs),
    messages: info.state.messages,
  }),
);
console.log(`plain SET, CPU us per write (user+sys): ${row(plainBefore, plainAfter)}`);
console.log(`replicated, until the last ack: ${row(before, atAck)}`);
console.log(`replicated, until B applied all: ${row(before, done)}`);

// Asked to close, the children exit on their own (and write their --cpu-prof).
for (const child of [relay, shipper]) {
  const exited = new Promise((r) => child.child.once('exit', r));
  await child.ask({ ask: 'close' });
  await exited;
}
a.disconnect();
plain.disconnect();
await Promise.all([redisA.stop(), redisB.stop(), nats.stop()]);
