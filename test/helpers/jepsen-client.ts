// One client process of the Jepsen-style replication test, so the test can
// SIGKILL it: `writer` runs sessions of writes, deletes and reads through
// createReplicatedCache and prints every step as a JSON line (recorder.ts);
// `relay` runs startRegionReplication (relay, lag probe, and the outbox
// shipper where the branch has one) and prints {"ready":true}.
// Settings come as JSON in MERIDIAN_JEPSEN (JepsenClientPlan).
import { AsyncLocalStorage } from 'node:async_hooks';
import { Redis } from 'ioredis';
import { replicationSchema } from '../../src/config/schema/replication.js';
import { seededRandom } from '../../src/lab/users.js';
import { createLogger } from '../../src/log.js';
import { createReplicatedCache, type ReplicatedCacheOptions } from '../../src/replication/cache.js';
import { HistoryRecorder } from '../../src/replication/history/recorder.js';
import { formatHlc, parseHlc } from '../../src/replication/hlc.js';
import { connectNatsTransport, type NatsTransportOptions } from '../../src/replication/nats-transport.js';
import { startRegionReplication } from '../../src/replication/region.js';
import { type CacheStore, storeOf } from '../../src/replication/store.js';

export interface JepsenClientPlan {
  mode: 'writer' | 'relay';
  region: string;
  regions: { region: string; redis: string }[];
  natsUrls: string[];
  stream: string;
  keyPrefix: string;
  /** This process's clock runs this far ahead (a region whose clock is wrong). */
  clockOffsetMs: number;
  replicas: number;
  /** writer: sessions at once, keys shared by every writer, pause between a session's ops. */
  sessions?: number;
  keys?: number;
  pauseMs?: number;
  seed?: number;
  /** writer: helper A's test-only delivery option of createReplicatedCache. */
  delivery?: 'outbox' | 'unsafe-ack-before-publish';
}

const plan = JSON.parse(process.env.MERIDIAN_JEPSEN ?? '{}') as JepsenClientPlan;
const log = createLogger(`jepsen-${plan.mode}-${plan.region}`, 'warn');
const now = () => Date.now() + plan.clockOffsetMs;
const print = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);

// Options a later branch may know (replicas: helper A; now: helper E). Passed as
// a variable, so this compiles where they do not exist yet and they are used where they do.
const transportOptions: NatsTransportOptions & { replicas?: number; storage?: string } = {
  servers: plan.natsUrls,
  stream: plan.stream,
  replicas: plan.replicas,
  storage: 'file',
  publishTimeoutMs: 1000,
  log,
};

if (plan.mode === 'relay') await runRelay();
else await runWriter();

async function runRelay() {
  const base = {
    transport: 'nats',
    nats: { servers: plan.natsUrls, stream: plan.stream },
    regions: plan.regions,
    keyPrefix: plan.keyPrefix,
    probe: { interval: '200ms' },
  };
  // replicas/storage exist once helper A's config is merged; without them the streams are R1.
  const withReplicas = replicationSchema.safeParse({
    ...base,
    nats: { ...base.nats, replicas: plan.replicas, storage: 'file' },
  });
  const config = withReplicas.success ? withReplicas.data : replicationSchema.parse(base);
  const options = { config, region: plan.region, log, now };
  const running = await startRegionReplication(options);
  print({ ready: true, replicasConfigured: withReplicas.success });
  process.once('SIGTERM', () => void running.close().then(() => process.exit(0)));
}

/** Records the stamp a write was stored with, for the op running in `current`. */
function stampingStore(inner: CacheStore, current: AsyncLocalStorage<{ stamp?: string }>): CacheStore {
  return new Proxy(inner, {
    get(target, prop) {
      const member = Reflect.get(target, prop, target);
      if (typeof member !== 'function') return member;
      if (prop !== 'apply' && prop !== 'write') return member.bind(target);
      return async (event: { hlc: string }, ...rest: unknown[]) => {
        const result = await member.call(target, event, ...rest);
        const op = current.getStore();
        if (op && result?.outcome === 'applied') op.stamp = event.hlc;
        return result;
      };
    },
  });
}

async function runWriter() {
  const redis = new Redis(plan.regions.find((r) => r.region === plan.region)!.redis, {
    maxRetriesPerRequest: 1,
  });
  redis.on('error', () => {});
  const transport = await connectNatsTransport(transportOptions);
  const current = new AsyncLocalStorage<{ stamp?: string }>();
  const store = stampingStore(storeOf({ redis, keyPrefix: plan.keyPrefix }), current);
  const options = { region: plan.region, store, transport, log, now, delivery: plan.delivery };
  const cache = createReplicatedCache(options as ReplicatedCacheOptions);
  // Where createReplicatedCache has no `now` yet (helper E adds it), push the clock ahead by
  // showing it a stamp from the future before each write: the HLC's own receive rule.
  const probe = parseHlc(cache.clock.tick());
  const honoursNow = !!probe && probe.wall >= Date.now() + plan.clockOffsetMs - 1000;
  const pushClock = () => {
    if (plan.clockOffsetMs && !honoursNow)
      cache.clock.observe(formatHlc({ wall: now(), counter: 0, origin: plan.region }));
  };
  print({ ready: true, honoursNow, delivery: plan.delivery ?? 'default' });

  const recorder = new HistoryRecorder({ emit: print });
  let stopping = false;
  process.once('SIGTERM', () => {
    stopping = true;
  });
  const random = seededRandom(plan.seed ?? 1);
  const pick = (n: number) => Math.floor(random() * n);
  const sessions = plan.sessions ?? 3;
  let written = 0;
  const session = async (id: string) => {
    // Like a real client, a write that failed is written again (a new value) until one is acknowledged.
    let retry: string | null = null;
    while (!stopping) {
      const key = retry ?? `k${pick(plan.keys ?? 16)}`;
      const roll = retry ? 0.5 : random();
      retry = null;
      const base = { session: id, region: plan.region, key };
      if (roll < 0.35) {
        await recorder
          .run(
            { ...base, kind: 'read' },
            () => cache.get(key),
            (value) => ({ value }),
          )
          .catch(() => {});
      } else {
        const del = roll > 0.9;
        const value = del ? null : `${plan.region}.${id}.${written++}`;
        const op = { stamp: undefined as string | undefined };
        const handle = recorder.invoke({ ...base, kind: del ? 'delete' : 'write', value });
        await current.run(op, async () => {
          try {
            pushClock();
            await (del ? cache.delete(key) : cache.set(key, value as string));
            handle.ok({ stamp: op.stamp });
          } catch (err) {
            handle.fail(err, { stamp: op.stamp });
            retry = key;
          }
        });
      }
      await new Promise((r) => setTimeout(r, plan.pauseMs ?? 20));
    }
  };
  await Promise.all(Array.from({ length: sessions }, (_, i) => session(`${plan.region}-s${i}`)));
  print({ done: true });
  await transport.close().catch(() => {});
  redis.disconnect();
  process.exit(0);
}
