// Region B's relay for the benchmark, in its own process as in a real
// deployment. It records when each event became visible and answers the
// parent's questions over IPC.
import { Redis } from 'ioredis';
import { connectNatsTransport } from '../../src/replication/nats-transport.js';
import { startRelay } from '../../src/replication/relay.js';

const [redisUrl, natsUrl, stream, source, destination] = process.argv.slice(2);
const redis = new Redis(redisUrl, { enableAutoPipelining: true });
const transport = await connectNatsTransport({ servers: [natsUrl], stream });
let lags: number[] = [];
let appliedAt: number[] = [];
const relay = await startRelay({
  region: destination,
  sources: [source],
  redis,
  transport,
  onEvent(event, outcome, _source, at) {
    if (outcome !== 'applied') return;
    lags.push(at - event.at);
    appliedAt.push(at);
  },
});

type Ask = { ask: 'stats'; deadline?: number } | { ask: 'reset' } | { ask: 'close' };
process.on('message', async (m: Ask) => {
  if (m.ask === 'reset') {
    lags = [];
    appliedAt = [];
    process.send?.({ reset: true });
  } else if (m.ask === 'stats') {
    const deadline = m.deadline ?? Number.POSITIVE_INFINITY;
    const sorted = Float64Array.from(lags).sort();
    const pick = (q: number) =>
      sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : null;
    process.send?.({
      applied: lags.length,
      appliedAfterDeadline: appliedAt.filter((t) => t > deadline).length,
      lastAppliedAt: appliedAt.length ? Math.max(...appliedAt.slice(-1000)) : null,
      p50: pick(0.5),
      p99: pick(0.99),
      max: sorted.length ? sorted[sorted.length - 1] : null,
    });
  } else if (m.ask === 'close') {
    await relay.close();
    await transport.close();
    redis.disconnect();
    process.send?.({ closed: true });
    process.disconnect();
  }
});
// The benchmark died without asking us to close: go too.
process.on('disconnect', () => process.exit(0));
process.send?.({ ready: true });
