import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startAdmin } from '../dns/admin.js';
import { type SyncState, staleAfterMs, syncHealth, syncReadiness } from './sync-health.js';

const t0 = 1_000_000;
const stale = staleAfterMs(60_000);

test('syncHealth: healthy while the last sync succeeded or the last success is recent', () => {
  assert.equal(stale, 180_000, 'three intervals');
  assert.equal(staleAfterMs(1000), 120_000, 'never under two of the longest backoff waits');
  const cases: { name: string; s: SyncState; at: number; healthy: boolean }[] = [
    { name: 'starting', s: { startedAt: t0 }, at: t0 + 1000, healthy: true },
    {
      name: 'never synced, too long',
      s: { startedAt: t0, lastFailureAt: t0 + 5 },
      at: t0 + stale,
      healthy: false,
    },
    {
      name: 'last sync ok, long ago',
      s: { startedAt: t0, lastSuccessAt: t0 + 1 },
      at: t0 + 10 * stale,
      healthy: true,
    },
    {
      name: 'failing, success recent',
      s: { startedAt: t0, lastSuccessAt: t0 + 1, lastFailureAt: t0 + 2 },
      at: t0 + stale - 10,
      healthy: true,
    },
    {
      name: 'failing, success stale',
      s: { startedAt: t0, lastSuccessAt: t0 + 1, lastFailureAt: t0 + 2, lastError: 'down' },
      at: t0 + stale + 1,
      healthy: false,
    },
  ];
  for (const c of cases) assert.equal(syncHealth(c.s, c.at, stale).healthy, c.healthy, c.name);
  assert.equal(syncHealth(cases[4].s, cases[4].at, stale).lastError, 'down');
});

test('syncReadiness: ready after a first success, not while draining', () => {
  assert.deepEqual(syncReadiness({ startedAt: t0 }), { ready: false, waitingFor: ['first sync'] });
  assert.deepEqual(syncReadiness({ startedAt: t0, lastSuccessAt: t0 }), { ready: true });
  assert.equal(syncReadiness({ startedAt: t0, lastSuccessAt: t0, draining: true }).ready, false);
});

test('the admin port answers /meridian/health (and /healthz) 503 when unhealthy, /readyz as /meridian/ready', async () => {
  let healthy = true;
  let ready = false;
  const admin = await startAdmin(
    { host: '127.0.0.1', port: 0 },
    {
      metrics: async () => '',
      contentType: 'text/plain',
      health: () => ({ healthy }),
      ready: () => ({ ready }),
    },
  );
  const status = async (path: string) => (await fetch(`http://${admin.address}${path}`)).status;
  try {
    assert.equal(await status('/meridian/health'), 200);
    assert.equal(await status('/healthz'), 200);
    healthy = false;
    assert.equal(await status('/meridian/health'), 503);
    assert.equal(await status('/healthz'), 503);
    assert.equal(await status('/readyz'), 503);
    ready = true;
    assert.equal(await status('/readyz'), 200);
    assert.equal(await status('/meridian/ready'), 200);
  } finally {
    await admin.close();
  }
});
