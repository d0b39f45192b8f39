// PowerDNS provider against a real pdns_server (gsqlite3 backend, API on).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig, type MeridianConfig, snapshotFromConfig } from '../src/config/index.js';
import type { MeridianError } from '../src/errors.js';
import { PowerDnsProvider } from '../src/providers/powerdns.js';
import { syncOnce } from '../src/providers/sync.js';
import { freePort } from './helpers/ports.js';
import { requireProgram } from './helpers/programs.js';
import { dig, startPdns } from './providers-servers.js';

const config: MeridianConfig = loadConfig('examples/two-regions.yaml');
const healthy = snapshotFromConfig(config);
const eastDown = snapshotFromConfig(config, { health: new Map([['us-east-1', 'DOWN']]) });
const westDialZero = snapshotFromConfig(config, { dials: new Map([['us-west-2', 0]]) });

test('powerdns: plain, weighted and geo syncs; evacuation; errors leave records alone', async (t) => {
  const bin = requireProgram(t, 'pdns_server');
  if (!bin || !requireProgram(t, 'dig')) return;
  const pdns = await startPdns(bin);
  t.after(() => pdns.close());
  const provider = new PowerDnsProvider({ apiUrl: pdns.apiUrl, apiKey: pdns.apiKey });

  const first = await syncOnce({ provider, config, snapshot: healthy });
  assert.equal(first.steering, 'plain');
  assert.deepEqual(dig(pdns.port, 'api.example.com'), ['192.0.2.10', '198.51.100.10']);
  assert.equal((await syncOnce({ provider, config, snapshot: healthy })).changes.length, 0);

  await syncOnce({ provider, config, snapshot: eastDown });
  assert.deepEqual(dig(pdns.port, 'api.example.com'), ['198.51.100.10']);
  assert.deepEqual(dig(pdns.port, 'api.example.com', 'AAAA'), ['2001:db8:2::10']);

  // Weighted: one LUA record picks one address by weight; east is DOWN so only west can come back.
  const weighted = await syncOnce({ provider, config, snapshot: eastDown, steering: 'weighted' });
  assert.ok(
    weighted.changes.some((c) => c.action === 'delete'),
    'the plain set is deleted',
  );
  assert.deepEqual(dig(pdns.port, 'api.example.com'), ['198.51.100.10']);
  assert.equal(
    (await syncOnce({ provider, config, snapshot: eastDown, steering: 'weighted' })).changes.length,
    0,
  );

  // Geo: without the geoip backend no territory matches loopback, so the default group answers.
  await syncOnce({ provider, config, snapshot: healthy, steering: 'geo' });
  assert.deepEqual(dig(pdns.port, 'api.example.com'), ['192.0.2.10']);
  const listed = await provider.list('example.com', ['api.example.com']);
  assert.deepEqual(
    listed
      .filter((r) => r.type === 'A')
      .map((r) => [r.qualifier, r.records.join()])
      .sort(),
    [
      ['default', '192.0.2.10'],
      ['us-east-1', '192.0.2.10'],
      ['us-west-2', '198.51.100.10'],
    ],
  );
  await syncOnce({ provider, config, snapshot: eastDown, steering: 'geo' });
  assert.deepEqual(
    dig(pdns.port, 'api.example.com'),
    ['198.51.100.10'],
    'evacuating east moves the default group',
  );
  assert.equal((await syncOnce({ provider, config, snapshot: eastDown, steering: 'geo' })).changes.length, 0);

  const badKey = new PowerDnsProvider({ apiUrl: pdns.apiUrl, apiKey: 'wrong-key' });
  await assert.rejects(syncOnce({ provider: badKey, config, snapshot: westDialZero }), (e: MeridianError) => {
    assert.equal(e.code, 'PROVIDER_AUTH');
    assert.doesNotMatch(e.message, /wrong-key/);
    return true;
  });
  const otherZone = { ...config, zone: { ...config.zone, name: 'example.org' } };
  await assert.rejects(syncOnce({ provider, config: otherZone, snapshot: healthy }), {
    code: 'PROVIDER_ZONE_MISSING',
    message: 'PowerDNS server localhost has no zone example.org',
  });
  const closedPort = await freePort();
  const unreachable = new PowerDnsProvider({ apiUrl: `http://127.0.0.1:${closedPort}`, apiKey: 'k' });
  await assert.rejects(syncOnce({ provider: unreachable, config, snapshot: healthy }), {
    code: 'PROVIDER_UNREACHABLE',
    message: `cannot reach the PowerDNS API at http://127.0.0.1:${closedPort}: ECONNREFUSED`,
  });
  assert.deepEqual(dig(pdns.port, 'api.example.com'), ['198.51.100.10'], 'records untouched by failed syncs');

  // Back to plain: the LUA record goes, A/AAAA come back.
  await syncOnce({ provider, config, snapshot: westDialZero });
  assert.deepEqual(dig(pdns.port, 'api.example.com'), ['192.0.2.10']);
  assert.deepEqual(await provider.list('example.com', ['api.example.com']).then((l) => l.length), 2);
});
