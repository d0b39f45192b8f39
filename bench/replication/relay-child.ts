// Region B's relay for the benchmark, in its own process as in a real
// deployment. It records when each event became visible and answers the
// parent's questions over IPC. It also watches the peer (Redis's own
// replication: a replica with keyspace notifications) the same way: the
// paced peer writes keys `q:<i>:<sent ms>`, and the replica's notification
// of each is when it became visible there.
import { Redis } from 'ioredis';
import { connectNatsTransport } from '../../src/replication/nats-transport.js';
import { startRelay } from '../../src/replication/relay.js';

const [redisUrl, natsUrl, stream, source, destination, peerReplicaUrl] = process.argv.slice(2);
const redis = new Redis(redisUrl, { enableAutoPipelining: true });
const transport = await connectNatsTransport({ servers: natsUrl.split(','), stream });

class Recorder {
  lags: number[] = [];
  appliedAt: number[] = [];
  add(lag: number, at: number) {
    this.lags.push(lag);
    this.appliedAt.push(at);
  }
  reset() {
    this.lags = [];
    this.appliedAt = [];
  }
  stats(deadline = Number.POSITIVE_INFINITY) {
    const sorted = Float64Array.from(this.lags).sort();
    const pick = (q: number) =>
      sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : null;
    let last: number | null = null;
    let late = 0;
    for (const t of this.appliedAt) {
      if (t > deadline) late++;
      if (last === null || t > last) last = t;
    }
    return {
      applied: this.lags.length,
      appliedAfterDeadline: late,
      lastAppliedAt: last,
      p50: pick(0.5),
      p99: pick(0.99),
      max: sorted.length ? sorted[sorted.length - 1] : null,
    };
  }
}
const ours = new Recorder();
const peer = new Recorder();

const relay = await startRelay({
  region: destination,
  sources: [source],
  redis,
  transport,
  onEvent(event, outcome, _source, at) {
    if (outcome === 'applied') ours.add(at - event.at, at);
  },
});

let subscriber: Redis | null = null;
if (peerReplicaUrl) {
  subscriber = new Redis(peerReplicaUrl);
  await subscriber.psubscribe('__keyspace@0__:q:*');
  subscriber.on('pmessage', (_pattern: string, channel: string) => {
    const at = Date.now();
    const sent = Number(channel.slice(channel.lastIndexOf(':') + 1));
    if (Number.isFinite(sent)) peer.add(at - sent, at);
  });
}

type Ask = { ask: 'stats'; deadline?: number; peer?: boolean } | { ask: 'reset' } | { ask: 'close' };
process.on('message', async (m: Ask) => {
  if (m.ask === 'reset') {
    ours.reset();
    peer.reset();
    process.send?.({ reset: true });
  } else if (m.ask === 'stats') {
    process.send?.((m.peer ? peer : ours).stats(m.deadline));
  } else if (m.ask === 'close') {
    await relay.close();
    await transport.close();
    redis.disconnect();
    subscriber?.disconnect();
    process.send?.({ closed: true });
    process.disconnect();
  }
});
// The benchmark died without asking us to close: go too.
process.on('disconnect', () => process.exit(0));
process.send?.({ ready: true });
