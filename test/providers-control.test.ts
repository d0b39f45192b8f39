// An evacuation through control reaches PowerDNS, BIND and Knot: `dns sync
// --watch` follows control's snapshot stream and pushes every dial change.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import pino from 'pino';
import { loadConfig } from '../src/config/index.js';
import { startControl } from '../src/control/server.js';
import { ControlSnapshotSource } from '../src/feed/control-source.js';
import type { DnsProvider } from '../src/providers/model.js';
import { PowerDnsProvider } from '../src/providers/powerdns.js';
import { Rfc2136Provider } from '../src/providers/rfc2136.js';
import { watchSync } from '../src/providers/sync.js';
import { waitFor } from './control-helpers.js';
import { configWithFreePorts } from './helpers/ports.js';
import { findProgram, requireProgram } from './helpers/programs.js';
import { dig, startKnot, startNamed, startPdns, tsigSecret } from './providers-servers.js';

const OPERATOR = 'operator-token-for-providers-test';
const VIEWER = 'viewer-token-for-providers-test';

test('an evacuation in control changes what PowerDNS, BIND and Knot answer', async (t) => {
  for (const p of ['pdns_server', 'named', 'knotd', 'dig']) if (!requireProgram(t, p)) return;
  const { file, dir } = await configWithFreePorts();
  appendFileSync(
    file,
    `control:\n  tokens:\n    - { name: ops, role: operator, token: ${OPERATOR} }\n    - { name: dns-sync, role: viewer, token: ${VIEWER} }\n  store: { type: sqlite, file: ${join(dir, 'control.db')} }\n`,
  );
  const log = pino({ level: 'silent' });
  const control = await startControl({ config: loadConfig(file), log, listen: '127.0.0.1:0' });
  t.after(() => control.close());

  const secret = tsigSecret();
  const tsig = { name: 'meridian-key', algorithm: 'hmac-sha256', secret };
  const pdns = await startPdns(findProgram('pdns_server')!);
  const named = await startNamed(findProgram('named')!, secret);
  const knot = await startKnot(findProgram('knotd')!, secret);
  t.after(() => Promise.all([pdns.close(), named.close(), knot.close()]));
  // PowerDNS and Knot through watchSync in this process; BIND through the command a user runs.
  const targets: [DnsProvider, number][] = [
    [new PowerDnsProvider({ apiUrl: pdns.apiUrl, apiKey: pdns.apiKey }), pdns.port],
    [new Rfc2136Provider({ server: `127.0.0.1:${knot.port}`, tsig }), knot.port],
  ];
  const cli = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/cli/main.ts',
      'dns',
      'sync',
      '--config',
      file,
      '--watch',
      '--apply',
      '--json',
      '--state-dir',
      mkdtempSync(join(tmpdir(), 'meridian-sync-state-')),
    ],
    {
      env: {
        ...process.env,
        MERIDIAN_CONTROL: control.url,
        MERIDIAN_TOKEN: VIEWER,
        MERIDIAN_DNS_PROVIDER: 'rfc2136',
        MERIDIAN_RFC2136_SERVER: `127.0.0.1:${named.port}`,
        MERIDIAN_TSIG_NAME: tsig.name,
        MERIDIAN_TSIG_SECRET: secret,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let cliErr = '';
  cli.stderr?.on('data', (d) => (cliErr += d));
  t.after(() => cli.kill('SIGKILL'));
  const errors: unknown[] = [];
  for (const [provider] of targets) {
    const source = new ControlSnapshotSource({
      controlUrl: control.url,
      token: VIEWER,
      configFile: file,
      stateDir: mkdtempSync(join(tmpdir(), 'meridian-sync-state-')),
      log,
    });
    await source.start();
    const watcher = watchSync({ provider, source, log, onResult: () => {}, onError: (e) => errors.push(e) });
    t.after(async () => {
      watcher.close();
      await source.close();
    });
  }
  const ports = [...targets.map(([, port]) => port), named.port];
  const answers = () => ports.map((port) => dig(port, 'api.example.com').join(' '));
  const both = '192.0.2.10 198.51.100.10';
  // Generous: each step crosses control, its stream, a sync and a DNS update on a shared machine.
  const expectEverywhere = async (answer: string, step: string) => {
    try {
      await waitFor(() => answers().every((a) => a === answer), 60_000, 250);
    } catch {
      const state = await fetch(`${control.url}/v1/snapshot`, {
        headers: { authorization: `Bearer ${VIEWER}` },
      });
      assert.fail(
        `${step}: answers ${JSON.stringify(answers())} (PowerDNS, Knot, BIND), wanted "${answer}"; ` +
          `errors ${JSON.stringify(errors.map(String))}; snapshot ${await state.text()}; command stderr ${cliErr.slice(-2000)}`,
      );
    }
  };
  await expectEverywhere(both, 'first sync');

  const setDial = async (dial: number) => {
    const res = await fetch(`${control.url}/v1/regions/us-east-1/dial`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${OPERATOR}`, 'content-type': 'application/json' },
      body: JSON.stringify({ dial, reason: 'providers test' }),
    });
    assert.equal(res.status, 200, await res.text());
  };
  await setDial(0);
  await expectEverywhere('198.51.100.10', 'us-east-1 dial 0');
  await setDial(100);
  await expectEverywhere(both, 'us-east-1 dial 100');
  assert.deepEqual(errors, []);
  assert.doesNotMatch(cliErr, /"level":50|meridian:/, cliErr);
});
