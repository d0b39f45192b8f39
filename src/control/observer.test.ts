// A leader whose store refused a write (etcd without quorum during a split)
// judges nothing until one report window after writes work again: it must not
// store a verdict it formed on the stale picture it had while cut off.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../config/index.js';
import type { EdgeReport } from '../feed/report.js';
import { createLogger } from '../log.js';
import { controlMetrics } from './metrics.js';
import { Observer } from './observer.js';
import { StateKeeper } from './state.js';
import { SqliteStore } from './store/sqlite.js';

const config = loadConfig('examples/two-regions.yaml');
const ids = config.regions.map((r) => r.id);
const report = (region: string, healthyOrigins: number, at: number): EdgeReport => ({
  region,
  at,
  origins: [0, 1].map((i) => ({ url: `http://127.0.0.1:${9000 + i}`, healthy: i < healthyOrigins })),
  requestsPerS: 10,
  errorRate: 0,
  p99Ms: 20,
  load: 10,
  capacity: 100,
  demandByHome: {},
  peers: Object.fromEntries(ids.filter((r) => r !== region).map((r) => [r, true])),
});

test('after its store refused a write, the leader waits a report window before judging again', async () => {
  const store = new SqliteStore(':memory:');
  const keeper = new StateKeeper(store, config, createLogger('test', 'silent'));
  await keeper.open();
  const observer = new Observer(config, keeper, controlMetrics(), createLogger('test', 'silent'), () => true);
  observer.warmUntil = 0;
  const { fallAfterMs, staleAfterMs } = observer.thresholds;
  const [a, b] = ids;
  const healthOf = (id: string) => keeper.current().snapshot.regions.find((r) => r.id === id)?.health;
  const hear = (now: number, healthyInA: number) => {
    observer.accept(report(a, healthyInA, now), now);
    observer.accept(report(b, 2, now), now);
  };

  let now = 1_000_000;
  hear(now, 2);
  await observer.tick(now);
  assert.equal(healthOf(a), 'HEALTHY');

  // Cut off from its store while region A's last reports looked bad: the verdict forms in memory.
  const commit = store.commit.bind(store);
  store.commit = () => Promise.reject(new Error('no etcd member answered'));
  for (const end = now + fallAfterMs + 1000; now <= end; now += 250) {
    hear(now, 1);
    await observer.tick(now).catch(() => undefined);
  }
  assert.equal(healthOf(a), 'HEALTHY', 'nothing was stored while the store refused');

  // Writes work again, and A's reports are good again: no DEGRADED flip is stored from the old picture.
  store.commit = commit;
  for (const end = now + staleAfterMs + fallAfterMs; now <= end; now += 250) {
    hear(now, 2);
    await observer.tick(now);
    assert.equal(healthOf(a), 'HEALTHY', `at +${now - 1_000_000} ms`);
  }
  await store.close();
});
