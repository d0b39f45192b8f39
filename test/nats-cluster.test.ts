import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { AckPolicy, connect, StorageType } from 'nats';
import pino from 'pino';
import { natsNodeConfig, supportsSyncInterval } from '../src/lab/nats-node.js';
import { loggerOptions } from '../src/log.js';
import { connectNatsTransport } from '../src/replication/nats-transport.js';
import { startNatsCluster } from './helpers/nats-cluster.js';

test('sync_interval is written only for servers that know it (2.10 and later)', () => {
  assert.equal(supportsSyncInterval([2, 9, 10]), false);
  assert.equal(supportsSyncInterval([2, 10, 0]), true);
  assert.equal(supportsSyncInterval(null), false);
  const plan = { name: 'a', clientPort: 1, clusterPort: 2, monitorPort: 3 };
  const o = { program: 'x', plan, cluster: [plan], dataRoot: '/d', logDir: '/l' };
  assert.deepEqual((natsNodeConfig(o, true).jetstream as Record<string, unknown>).sync_interval, 'always');
  assert.equal((natsNodeConfig(o, false).jetstream as Record<string, unknown>).sync_interval, undefined);
  assert.equal(natsNodeConfig(o, false).cluster, undefined);
  assert.equal(natsNodeConfig(o, false).ping_interval, undefined, "the server's default ping");
  const pinged = natsNodeConfig({ ...o, pingIntervalS: 1 }, false);
  assert.deepEqual([pinged.ping_interval, pinged.ping_max], ['1s', 3]);
});

test('a 3-node cluster keeps an R3 stream writable and readable when one node is SIGKILLed', async (t) => {
  const cluster = await startNatsCluster(t);
  if (!cluster) return;
  const nc = await connect({ servers: cluster.urls, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
  t.after(() => nc.close());
  const jsm = await nc.jetstreamManager();
  await jsm.streams.add({
    name: 'R3TEST',
    subjects: ['r3.test'],
    num_replicas: 3,
    storage: StorageType.File,
  });
  const js = nc.jetstream();
  for (let i = 0; i < 20; i++) await js.publish('r3.test', new TextEncoder().encode(String(i)));
  await jsm.consumers.add('R3TEST', { durable_name: 'reader', ack_policy: AckPolicy.Explicit });
  // What a lab data check shows when something is lost: each node's view of streams and consumers.
  const view = await cluster.nodes[1].streamsView();
  assert.equal(view.length, 1, view.join('\n'));
  assert.match(
    view[0],
    /^n2: R3TEST seq 1-20 \(20 msgs, leader n\d\); reader \(leader n\d\) delivered 0 acked 0 pending 20\+0$/,
  );
  await cluster.nodes[0].kill();
  let acked = 0;
  const deadline = Date.now() + 30_000;
  while (acked < 20 && Date.now() < deadline) {
    try {
      await js.publish('r3.test', new TextEncoder().encode(String(20 + acked)), { timeout: 2000 });
      acked++;
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  assert.equal(acked, 20, 'publishes are acknowledged by the two surviving nodes');
  const info = await jsm.streams.info('R3TEST');
  assert.equal(info.state.messages, 40);
  assert.equal(info.config.num_replicas, 3);
  cluster.nodes[0].start();
  await cluster.nodes[0].healthy();
});

test('a relay started while the cluster has no JetStream leader waits for one instead of exiting', async (t) => {
  const cluster = await startNatsCluster(t);
  if (!cluster) return;
  // Two of three nodes down: no meta leader, so JetStream's API does not answer (as while a
  // lab's three new nodes elect their first leader).
  await Promise.all([cluster.nodes[1].kill(), cluster.nodes[2].kill()]);
  const lines: string[] = [];
  const log = pino(
    loggerOptions('replication', 'info'),
    new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    }),
  );
  const starting = connectNatsTransport({
    servers: [cluster.urls[0]],
    replicas: 3,
    stream: 'STARTUP',
    startupRetryMs: 60_000,
    log,
  }).then(async (transport) => {
    await transport.subscribe('a', 'b', async () => undefined);
    return transport;
  });
  let settled = false;
  starting.then(
    () => (settled = true),
    () => (settled = true),
  );
  const waitFor = async (what: string, ok: () => boolean) => {
    for (let end = Date.now() + 30_000; !ok(); await new Promise((r) => setTimeout(r, 100)))
      if (Date.now() > end) assert.fail(`${what} within 30 s`);
  };
  await waitFor('a retry is logged', () => lines.some((l) => l.includes('JetStream did not answer yet')));
  assert.equal(settled, false, 'still waiting, neither subscribed nor failed');
  cluster.nodes[1].start();
  cluster.nodes[2].start();
  const transport = await starting;
  try {
    const jsm = await transport.connection.jetstreamManager();
    const info = await jsm.consumers.info('STARTUP_a', 'to_b');
    assert.equal(info.config.durable_name, 'to_b', 'the relay subscribed once the cluster answered');
  } finally {
    await transport.close();
  }
});
