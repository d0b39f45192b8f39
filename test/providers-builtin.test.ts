// `builtin` is the reference: its geo record sets answer every client as
// Meridian's own DNS server does (same config, same snapshot), checked with dig
// and EDNS Client Subnet against a running `meridian dns`.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { promisify } from 'node:util';
import pino from 'pino';
import { loadConfig, snapshotFromConfig } from '../src/config/index.js';
import { runDns } from '../src/dns/run.js';
import { GeoLocator } from '../src/geo/index.js';
import { BUILTIN_CAPABILITIES } from '../src/providers/capabilities.js';
import { desiredRecordSets } from '../src/providers/desired.js';
import { waitFor } from './control-helpers.js';
import { configWithFreePorts } from './helpers/ports.js';
import { requireProgram } from './helpers/programs.js';

// Stanford (US-CA), Columbia (US-NY), a private network, and London (no territory: default group).
const CLIENTS = ['171.64.1.1', '128.59.1.1', '10.1.1.1', '81.2.69.160'];

test("builtin's geo record sets answer as Meridian's DNS server does, before and after evacuations", async (t) => {
  if (!requireProgram(t, 'dig')) return;
  const { file } = await configWithFreePorts();
  const original = readFileSync(file, 'utf8');
  const dns = await runDns({
    configFile: file,
    listen: ['127.0.0.1:0'],
    admin: '127.0.0.1:0',
    workers: 1,
    log: pino({ level: 'silent' }),
  });
  t.after(() => dns.close());
  const [host, port] = dns.ready.udp[0].split(':');
  const ask = async (ip: string) => {
    const args = [
      '+short',
      '+tries=1',
      '+time=2',
      '-p',
      port,
      `@${host}`,
      `+subnet=${ip}/24`,
      'api.example.com',
      'A',
    ];
    const { stdout } = await promisify(execFile)('dig', args, { encoding: 'utf8' });
    return stdout.trim().split('\n').filter(Boolean).sort().join(' ');
  };
  const config = loadConfig(file);
  const geo = await GeoLocator.open(config.geo);

  const states: [string, string][] = [
    ['all healthy', original],
    ['us-east-1 DOWN', original.replace(/( {2}- id: us-east-1\n)/, '$1    health: DOWN\n')],
    ['us-west-2 dial 0', original.replace(/( {2}- id: us-west-2\n)/, '$1    dial: 0\n')],
  ];
  const seen = new Set<string>();
  for (const [name, text] of states) {
    writeFileSync(file, text);
    const cfg = loadConfig(file);
    const sets = desiredRecordSets(
      cfg,
      snapshotFromConfig(cfg),
      'geo',
      'builtin',
      BUILTIN_CAPABILITIES,
    ).recordSets;
    const expected = CLIENTS.map((ip) => {
      const loc = geo.client(ip).location;
      const a = sets.filter((r) => r.type === 'A' && r.profile?.kind === 'geo');
      const match = (code?: string) =>
        a.find((r) => code && r.profile?.kind === 'geo' && r.profile.territories.includes(code));
      const set = match(loc?.subdivision) ?? match(loc?.country) ?? match('*');
      return set?.records.join(' ');
    });
    seen.add(JSON.stringify(expected));
    let got: string[] = [];
    try {
      await waitFor(
        async () => {
          got = await Promise.all(CLIENTS.map(ask));
          return JSON.stringify(got) === JSON.stringify(expected);
        },
        20_000,
        200,
      );
    } catch {
      assert.deepEqual(
        got,
        expected,
        `${name}: server answers vs builtin geo records for ${CLIENTS.join(', ')}`,
      );
    }
  }
  assert.equal(seen.size, states.length, 'each state expects different answers');
});
