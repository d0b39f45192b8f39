// Anti-entropy between two regions' real Redis over a real nats-server: what
// replication never delivered (written here straight into one region's Redis,
// as a stream that lost a message leaves it) is copied by a pass; newer writes
// are never undone; hostile requests get an error reply; and a peer whose
// events arrive again after a stop triggers a pass on its own.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { connect } from 'nats';
import { Registry } from 'prom-client';
import { createLogger } from '../src/log.js';
import { antiEntropySubject } from '../src/replication/anti-entropy/protocol.js';
import { startAntiEntropy } from '../src/replication/anti-entropy/scheduler.js';
import { RegionStore } from '../src/replication/store.js';
import { eventually, startTwoRegionsOnNats } from './replication-helpers.js';

const PREFIX = 'mc:';
const log = createLogger('test', 'silent');
/** A stamp of region `r`, `agoMs` in the past. */
const stamp = (r: string, agoMs: number, logical = 0) =>
  `${String(Date.now() - agoMs).padStart(15, '0')}-${String(logical).padStart(5, '0')}-${r}`;

test('anti-entropy over NATS request/reply', async (t) => {
  const servers = await startTwoRegionsOnNats(t);
  if (!servers) return;
  const east = new Redis(servers.east.url);
  const west = new Redis(servers.west.url);
  const [ncEast, ncWest] = await Promise.all([
    connect({ servers: servers.nats.url }),
    connect({ servers: servers.nats.url }),
  ]);
  t.after(async () => {
    east.disconnect();
    west.disconnect();
    await Promise.all([ncEast.close(), ncWest.close()]);
  });
  const storeEast = new RegionStore(east, { keyPrefix: PREFIX, tombstoneTtlMs: 600_000 });
  const storeWest = new RegionStore(west, { keyPrefix: PREFIX, tombstoneTtlMs: 600_000 });
  const registry = new Registry();
  let westLags = new Map<string, number | null>([['east', 100]]);
  const common = {
    streamPrefix: 'AE_TEST',
    keyPrefix: PREFIX,
    tombstoneTtlMs: 600_000,
    ranges: 64,
    intervalMs: 0,
    log,
  };
  const aeEast = startAntiEntropy({
    ...common,
    region: 'east',
    peers: ['west'],
    nc: ncEast,
    redis: east,
    afterRecovery: false,
    lags: () => undefined,
    disturbedAfterMs: 3000,
  });
  const aeWest = startAntiEntropy({
    ...common,
    region: 'west',
    peers: ['east'],
    nc: ncWest,
    redis: west,
    afterRecovery: true,
    lags: () => westLags,
    disturbedAfterMs: 1000,
    recoveryPullsMs: [200],
    inFlightMs: 1000,
    registry,
  });
  t.after(() => {
    aeEast.close();
    aeWest.close();
  });
  const valueIn = async (r: Redis, key: string) => {
    const [h, v] = await r.hmget(PREFIX + key, 'h', 'v');
    return h === null ? undefined : { h, v };
  };

  await t.test('a pass copies what the peer holds and this region lacks, and nothing else', async () => {
    const lost = stamp('east', 10_000);
    await storeEast.apply({ op: 'set', key: 'lost', value: 'from east', hlc: lost, at: Date.now() });
    // West wrote this key after east: east's older copy must not undo it.
    await storeEast.apply({
      op: 'set',
      key: 'both',
      value: 'old',
      hlc: stamp('east', 20_000),
      at: Date.now(),
    });
    const newer = stamp('west', 15_000);
    await storeWest.apply({ op: 'set', key: 'both', value: 'new', hlc: newer, at: Date.now() });
    // A delete east saw and west did not: the tombstone wins over west's older value.
    await storeWest.apply({
      op: 'set',
      key: 'gone',
      value: 'stale',
      hlc: stamp('west', 30_000),
      at: Date.now(),
    });
    const del = stamp('east', 12_000);
    await storeEast.apply({ op: 'del', key: 'gone', hlc: del, at: Date.now() });
    // Lag canaries are left to replication, and so is a write younger than inFlightMs.
    await storeEast.apply({
      op: 'set',
      key: '__meridian:canary:east',
      value: '{}',
      hlc: stamp('east', 9_000),
      at: Date.now(),
    });
    await storeEast.apply({
      op: 'set',
      key: 'fresh',
      value: 'on its way',
      hlc: stamp('east', 0),
      at: Date.now(),
    });

    await aeWest.pull('east');
    assert.deepEqual(await valueIn(west, 'lost'), { h: lost, v: 'from east' });
    assert.deepEqual(await valueIn(west, 'both'), { h: newer, v: 'new' }, 'the newer write stays');
    assert.deepEqual(await valueIn(west, 'gone'), { h: del, v: null }, 'the tombstone arrived');
    assert.equal(await valueIn(west, '__meridian:canary:east'), undefined, 'canaries are not compared');
    assert.equal(await valueIn(west, 'fresh'), undefined, 'a write still in flight is left to replication');
    const metrics = await registry.getSingleMetricAsString(
      'meridian_replication_anti_entropy_repaired_total',
    );
    assert.match(metrics, /source="east",destination="west"\} 2/);

    // East pulls the other way: west's newer write reaches it; after both, the records agree.
    await aeEast.pull('west');
    assert.deepEqual(await valueIn(east, 'both'), { h: newer, v: 'new' });
  });

  await t.test('hostile requests get an error reply and the responder keeps serving', async () => {
    const subject = antiEntropySubject('AE_TEST', 'east');
    const ask = async (body: string) =>
      JSON.parse(Buffer.from((await ncWest.request(subject, body, { timeout: 5000 })).data).toString()) as {
        error?: string;
      };
    for (const body of [
      'not json',
      'null',
      '{"v":2,"op":"digest","ranges":4}',
      '{"v":1,"op":"digest","ranges":0}',
      '{"v":1,"op":"digest","ranges":1e9}',
      '{"v":1,"op":"records","ranges":4,"want":[9],"cursor":"0"}',
      '{"v":1,"op":"records","ranges":4,"want":[1],"cursor":"0; FLUSHALL"}',
      '{"v":1,"op":"drop","ranges":4}',
    ])
      assert.equal(typeof (await ask(body)).error, 'string', body);
    assert.equal((await ask('{"v":1,"op":"digest","ranges":4}')).error, undefined);
    assert.equal((await east.dbsize()) > 0, true, 'nothing was flushed');
  });

  await t.test(
    'a peer whose events arrive again after a stop is pulled from without being asked',
    async () => {
      const missed = stamp('east', 5_000);
      await storeEast.apply({
        op: 'set',
        key: 'missed in a partition',
        value: 'x',
        hlc: missed,
        at: Date.now(),
      });
      westLags = new Map([['east', 8_000]]); // east's canaries stopped arriving
      await new Promise((r) => setTimeout(r, 1_500));
      assert.equal(await valueIn(west, 'missed in a partition'), undefined, 'no pass while the peer is away');
      westLags = new Map([['east', 50]]); // and arrive again
      await eventually(
        'the recovery pass copied the record',
        async () => (await valueIn(west, 'missed in a partition'))?.h === missed,
        15_000,
      );
    },
  );
});
