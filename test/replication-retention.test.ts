// Retention on real NATS and Redis: a stream that keeps events 6 s, and
// us-west-2's relay stopped. The headroom falls and is warned about before
// the events age out; once they have, the gap is flagged (metric, error log,
// a flag in us-west-2's Redis that outlives the relay resuming), and
// `meridian replication resync` copies what was missed, clears the flag, and
// the regions converge.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import pino from 'pino';
import { Registry } from 'prom-client';
import { parse, stringify } from 'yaml';
import { replicationSchema } from '../src/config/schema/replication.js';
import type { Logger } from '../src/log.js';
import { createReplicatedCache } from '../src/replication/cache.js';
import { converged, diffRegions } from '../src/replication/converge.js';
import { connectNatsTransport } from '../src/replication/nats-transport.js';
import { startRegionReplication } from '../src/replication/region.js';
import { gapFlagKey, startRetentionMonitor } from '../src/replication/retention.js';
import { startShipper } from '../src/replication/shipper.js';
import { runCliAsync } from './control-helpers.js';
import { eventually, replicationConfigFile, startTwoRegionsOnNats } from './replication-helpers.js';

const MAX_AGE_MS = 6_000;

function capturingLogger() {
  const lines: { level: number; msg: string; source?: string }[] = [];
  const log = pino(
    { level: 'info' },
    { write: (s: string) => lines.push(JSON.parse(s)) },
  ) as unknown as Logger;
  return { log, lines };
}

test('headroom falls and warns before events age out, a gap is flagged, resync recovers it', async (t) => {
  const servers = await startTwoRegionsOnNats(t);
  if (!servers) return;
  const { file } = await replicationConfigFile(servers, 'RET');
  const yaml = parse(readFileSync(file, 'utf8'));
  yaml.replication.nats.maxAge = `${MAX_AGE_MS}ms`;
  writeFileSync(file, stringify(yaml));
  const config = replicationSchema.parse(yaml.replication);

  const redisEast = new Redis(servers.east.url);
  const redisWest = new Redis(servers.west.url);
  const transport = await connectNatsTransport({
    servers: [servers.nats.url],
    stream: 'RET',
    maxAgeMs: MAX_AGE_MS,
  });
  const east = createReplicatedCache({ region: 'us-east-1', redis: redisEast, transport });
  // us-east-1's writes wait in its outbox; its shipper publishes them.
  const shipper = startShipper({ region: 'us-east-1', redis: redisEast, transport });
  const registry = new Registry();
  const { log, lines } = capturingLogger();
  // What the edge and `meridian replication` run for us-west-2; checked by hand here, no timer.
  const monitor = startRetentionMonitor({
    region: 'us-west-2',
    sources: ['us-east-1', 'us-west-2'],
    transport,
    redis: redisWest,
    registry,
    log,
  });
  let west = await startRegionReplication({ config, region: 'us-west-2', redis: redisWest, probe: false });
  try {
    await east.set('ret:0', 'before');
    await eventually(
      'us-west-2 has the first write',
      async () => (await redisWest.hget('mc:ret:0', 'v')) === 'before',
    );
    await west.close(); // us-west-2's relay is away
    const first = (await monitor.check()).get('us-east-1')!;
    assert.equal(first.headroomMs, MAX_AGE_MS, 'nothing pending: the whole maxAge');
    for (let i = 1; i <= 5; i++) await east.set(`ret:${i}`, `missed ${i}`);

    const headroomMetric = async () =>
      Number(
        /meridian_replication_retention_headroom_seconds\{source="us-east-1",destination="us-west-2"\} (\S+)/.exec(
          await registry.metrics(),
        )?.[1],
      );
    let warnedBeforeGap = false;
    let lowestHeadroomS = Number.POSITIVE_INFINITY;
    await eventually('the events aged out: a gap', async () => {
      const pair = (await monitor.check()).get('us-east-1')!;
      lowestHeadroomS = Math.min(lowestHeadroomS, await headroomMetric());
      if (pair.low && !pair.gap) warnedBeforeGap = true;
      return pair.gap;
    });
    assert.ok(warnedBeforeGap, 'a check saw the headroom low before the gap');
    assert.ok(lowestHeadroomS < (MAX_AGE_MS / 1000) * 0.25, `headroom fell to ${lowestHeadroomS} s`);
    const warns = lines.filter((l) => l.level === 40 && /below 25 % of maxAge/.test(l.msg));
    const errors = lines.filter((l) => l.level === 50 && /aged out before us-west-2 took them/.test(l.msg));
    assert.equal(warns.length, 1, 'one warning per state change');
    assert.equal(errors.length, 1);
    assert.match(
      await registry.metrics(),
      /meridian_replication_gap\{source="us-east-1",destination="us-west-2"\} 1/,
    );
    assert.notEqual(await redisWest.get(gapFlagKey('mc:', 'us-east-1')), null);

    await eventually(
      'every missed event aged out',
      async () => (await monitor.check()).get('us-east-1')?.oldestPendingAgeMs === null,
    );
    // The relay comes back: JetStream skips what it lost, the flag keeps saying so.
    west = await startRegionReplication({ config, region: 'us-west-2', redis: redisWest, probe: false });
    await east.set('ret:6', 'after');
    await eventually(
      'the relay applies new writes',
      async () => (await redisWest.hget('mc:ret:6', 'v')) === 'after',
    );
    assert.equal(west.retention?.state().get('us-east-1')?.gap, true);
    assert.equal((await monitor.check()).get('us-east-1')?.gap, true);
    assert.equal(converged(await diffRegions(redisEast, redisWest)), false, 'ret:1-5 are missing');

    // The shipper may carry several writes in one message: count the stream's messages, not the writes.
    const lastSeq = (await transport.retention!('us-east-1', 'us-west-2')).lastSeq;
    const r = await runCliAsync(
      ['replication', 'resync', '--config', file, '--region', 'us-west-2', '--from', 'us-east-1', '--json'],
      { MERIDIAN_LOG_LEVEL: 'warn' },
    );
    assert.equal(r.status, 0, r.stderr);
    const result = JSON.parse(r.stdout);
    assert.equal(result.keysCopied, 5);
    assert.ok(result.rangesDiffering >= 1 && result.rangesDiffering <= 5);
    assert.equal(result.gapCleared, true);
    assert.ok(result.coveredUpTo >= lastSeq, `the stream held ${lastSeq} messages when the pass began`);
    assert.ok(converged(await diffRegions(redisEast, redisWest)));
    assert.equal(await redisWest.get(gapFlagKey('mc:', 'us-east-1')), null);
    assert.equal((await monitor.check()).get('us-east-1')?.gap, false);
    assert.match(
      await registry.metrics(),
      /meridian_replication_gap\{source="us-east-1",destination="us-west-2"\} 0/,
    );
    assert.ok(
      lines.some((l) => l.level === 30 && /healthy again/.test(l.msg)),
      'the recovery is logged',
    );
  } finally {
    // Before the servers stop (t.after): a NATS drain waits for a server that is gone.
    monitor.close();
    await west.close();
    await shipper.close();
    await transport.close();
    redisEast.disconnect();
    redisWest.disconnect();
  }
});
