// `meridian replication`: a relay process between real Redis and NATS servers.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { createReplicatedCache } from '../src/replication/cache.js';
import { connectNatsTransport } from '../src/replication/nats-transport.js';
import { startShipper } from '../src/replication/shipper.js';
import { runCli } from './helpers/cli.js';
import { eventually, replicationConfigFile, startTwoRegionsOnNats } from './replication-helpers.js';

test('meridian replication runs a relay process', async (t) => {
  const servers = await startTwoRegionsOnNats(t);
  if (!servers) return;
  const { east: a, west: b, nats } = servers;
  const { file } = await replicationConfigFile(servers, 'CLI');

  await t.test('bad input is a clear error, not a stack trace', () => {
    const r = runCli(['replication', '--config', file, '--region', 'nowhere']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^meridian: replication.regions has no entry for region nowhere/);
    assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/);
  });

  await t.test('applies the other region, serves health and metrics, stops on SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      [
        ...['--import', 'tsx', 'src/cli/main.ts', 'replication', '--config', file, '--region', 'us-west-2'],
        ...['--admin', '127.0.0.1:0'],
      ],
      {
        stdio: ['ignore', 'pipe', 'ignore'],
        env: { ...process.env, MERIDIAN_LOG_LEVEL: 'warn' },
      },
    );
    const exited = once(child, 'exit');
    const lines = createInterface({ input: child.stdout });
    const [first] = (await once(lines, 'line')) as [string];
    const ready = JSON.parse(first);
    assert.equal(ready.part, 'replication');
    const redisA = new Redis(a.url);
    const transport = await connectNatsTransport({ servers: [nats.url], stream: 'CLI' });
    const cache = createReplicatedCache({ region: 'us-east-1', redis: redisA });
    // us-east-1's outbox: its own `meridian replication` would ship it; here the test does.
    const shipper = startShipper({ region: 'us-east-1', store: cache.store, transport });
    const redisB = new Redis(b.url);
    try {
      await cache.set('cli:1', 'hello');
      await eventually(
        'the relay process applied it',
        async () => (await redisB.hget('mc:cli:1', 'v')) === 'hello',
      );
      const health = await (await fetch(`http://${ready.admin}/meridian/health`)).json();
      assert.equal(health.region, 'us-west-2');
      assert.ok(health.relay.applied >= 1);
      assert.equal(typeof health.outbox.depth, 'number', 'its own outbox is reported');
      const metrics = await (await fetch(`http://${ready.admin}/metrics`)).text();
      assert.match(
        metrics,
        /meridian_replication_events_applied_total\{source="us-east-1",destination="us-west-2",op="set"\}/,
      );
      child.kill('SIGTERM');
      const [code] = await exited;
      assert.equal(code, 0);
    } finally {
      child.kill('SIGKILL');
      await shipper.close();
      await transport.close();
      redisA.disconnect();
      redisB.disconnect();
    }
  });
});
