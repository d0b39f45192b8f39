// The edge reports replication lag to control (EdgeReport.replicationLagMs):
// a real `meridian edge` whose config lists its region under replication,
// with us-west-2's canaries flowing into us-east-1 through NATS.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { replicationSchema } from '../src/config/schema/replication.js';
import { withReplicationLag } from '../src/edge/run-shared.js';
import type { EdgeReport } from '../src/feed/report.js';
import { connectNatsTransport } from '../src/replication/nats-transport.js';
import { startRegionLagProbe } from '../src/replication/region.js';
import { startRelay } from '../src/replication/relay.js';
import { eventually, replicationConfigFile, startTwoRegionsOnNats } from './replication-helpers.js';

test('withReplicationLag adds the lag only when it is known', () => {
  const report = { region: 'r' } as EdgeReport;
  assert.deepEqual(withReplicationLag(report, undefined), report);
  assert.deepEqual(
    withReplicationLag(report, () => null),
    report,
  );
  assert.equal(withReplicationLag(report, () => 42).replicationLagMs, 42);
});

test('meridian edge sends replicationLagMs in its reports', async (t) => {
  const servers = await startTwoRegionsOnNats(t);
  if (!servers) return;
  const { east, nats } = servers;
  const { file, replication } = await replicationConfigFile(servers, 'EDGE');

  const reports: EdgeReport[] = [];
  const control = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      if (req.url === '/v1/reports') reports.push(JSON.parse(body));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => control.listen(0, '127.0.0.1', r));
  const controlUrl = `http://127.0.0.1:${(control.address() as AddressInfo).port}`;

  // us-west-2 writes its canary; a relay moves it into us-east-1's Redis.
  const westProbe = await startRegionLagProbe({
    config: replicationSchema.parse(replication),
    region: 'us-west-2',
  });
  const redisEast = new Redis(east.url);
  const transport = await connectNatsTransport({ servers: [nats.url], stream: 'EDGE' });
  const relay = await startRelay({
    region: 'us-east-1',
    sources: ['us-west-2'],
    redis: redisEast,
    transport,
  });
  const edge = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/cli/main.ts',
      'edge',
      '--config',
      file,
      '--region',
      'us-east-1',
      '--listen',
      '127.0.0.1:0',
      '--admin',
      '127.0.0.1:0',
      '--control',
      controlUrl,
      '--token',
      't',
    ],
    { stdio: ['ignore', 'ignore', 'ignore'], env: { ...process.env, MERIDIAN_LOG_LEVEL: 'warn' } },
  );
  try {
    await eventually(
      'a report carries the lag',
      async () => reports.some((r) => typeof r.replicationLagMs === 'number'),
      30_000,
    );
    const withLag = reports.find((r) => typeof r.replicationLagMs === 'number')!;
    assert.equal(withLag.region, 'us-east-1');
    assert.ok(withLag.replicationLagMs! >= 0);
    await eventually(
      "a report carries the retention of us-west-2's stream",
      async () => reports.some((r) => r.replicationRetention !== undefined),
      30_000,
    );
    const retention = reports.find((r) => r.replicationRetention)!.replicationRetention!;
    assert.equal(retention.gap, false);
    assert.equal(retention.low, false);
    assert.ok(retention.headroomS! > 0);
  } finally {
    const exited = once(edge, 'exit');
    edge.kill('SIGTERM');
    await exited;
    await relay.close();
    await transport.close();
    await westProbe?.close();
    redisEast.disconnect();
    await new Promise((r) => control.close(r));
  }
});
