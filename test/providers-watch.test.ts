// `meridian dns sync --watch` as a daemon against a real BIND: its admin port,
// drift repaired on the interval, retries while the server is gone.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { Rfc2136Provider } from '../src/providers/rfc2136.js';
import { configWithFreePorts, freePort } from './helpers/ports.js';
import { requireProgram } from './helpers/programs.js';
import { checkMeridianExposition, parseExposition } from './helpers/prometheus-rules.js';
import { dig, startNamed, tsigSecret } from './providers-servers.js';

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const got = await probe().catch(() => undefined);
    if (got !== undefined) return got;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const value = (text: string, name: string, labels: Record<string, string> = {}) =>
  parseExposition(text)
    .get(name)
    ?.samples.find((s) => Object.entries(labels).every(([k, v]) => s.labels.get(k) === v))?.value ?? 0;

test('dns sync --watch: /metrics, /meridian/health, /meridian/ready; drift repaired; retries while BIND is gone', async (t) => {
  const named = requireProgram(t, 'named');
  if (!named || !requireProgram(t, 'dig')) return;
  const secret = tsigSecret();
  const server = await startNamed(named, secret);
  let serverUp = true;
  t.after(() => serverUp && server.close());
  const { file } = await configWithFreePorts();
  const admin = `127.0.0.1:${await freePort()}`;
  const tsig = { name: 'meridian-key', algorithm: 'hmac-sha256', secret };
  const args = ['dns', 'sync', '--config', file, '--watch', '--apply', '--json', '--admin', admin];
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args, '--interval', '1s'], {
    env: {
      ...process.env,
      MERIDIAN_DNS_PROVIDER: 'rfc2136',
      MERIDIAN_RFC2136_SERVER: `127.0.0.1:${server.port}`,
      MERIDIAN_TSIG_NAME: tsig.name,
      MERIDIAN_TSIG_SECRET: secret,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  t.after(() => child.kill('SIGKILL'));
  const get = (path: string) => fetch(`http://${admin}${path}`);
  const metrics = async () => (await get('/metrics')).text();

  await until('ready', async () => ((await get('/meridian/ready')).status === 200 ? true : undefined));
  assert.deepEqual(dig(server.port, 'api.example.com'), ['192.0.2.10', '198.51.100.10']);
  const first = await metrics();
  assert.deepEqual(checkMeridianExposition(first, 'dns-sync'), [], first);
  const labels = { provider: 'rfc2136' };
  assert.equal(value(first, 'meridian_dns_sync_syncs_total', { ...labels, result: 'applied' }), 1);
  assert.equal(value(first, 'meridian_dns_sync_changes_applied_total', { ...labels, kind: 'create' }), 3);
  const lastSuccess = value(first, 'meridian_dns_sync_last_success_timestamp_seconds', labels);
  assert.ok(Math.abs(lastSuccess - Date.now() / 1000) < 60, `unix seconds: ${lastSuccess}`);
  const health = await get('/meridian/health');
  assert.equal(health.status, 200);
  assert.equal((await health.json()).healthy, true);

  // Behind Meridian's back: the next interval finds it and puts it back.
  const byHand = new Rfc2136Provider({ server: `127.0.0.1:${server.port}`, tsig });
  await byHand.apply('example.com', [
    { action: 'put', recordSet: { name: 'api.example.com', type: 'A', ttl: 30, records: ['203.0.113.66'] } },
  ]);
  await byHand.close();
  const repaired = await until('drift repaired', async () => {
    const text = await metrics();
    return value(text, 'meridian_dns_sync_drift_total', labels) >= 1 ? text : undefined;
  });
  assert.equal(value(repaired, 'meridian_dns_sync_drift_total', labels), 1);
  assert.equal(value(repaired, 'meridian_dns_sync_changes_applied_total', { ...labels, kind: 'update' }), 1);
  assert.deepEqual(dig(server.port, 'api.example.com'), ['192.0.2.10', '198.51.100.10']);
  assert.match(stderr, /drift: records changed outside Meridian/);

  // The server goes away: syncs fail and are retried with backoff; health holds within its window.
  serverUp = false;
  await server.close();
  const failing = await until('retries', async () => {
    const text = await metrics();
    return value(text, 'meridian_dns_sync_retries_total', labels) >= 2 ? text : undefined;
  });
  assert.ok(value(failing, 'meridian_dns_sync_syncs_total', { ...labels, result: 'failed' }) >= 2);
  assert.ok(
    value(failing, 'meridian_errors_total', { part: 'dns-sync', code: 'PROVIDER_UNREACHABLE' }) >= 1,
    failing,
  );
  const stillAlive = await get('/meridian/health');
  const body = await stillAlive.json();
  assert.equal(stillAlive.status, 200, 'within 3 intervals (at least 2 min) of the last success');
  assert.equal(body.staleAfterS, 120);
  assert.match(String(body.lastError), /.+/);
  assert.match(stderr, /sync failed; retrying/);

  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
});
