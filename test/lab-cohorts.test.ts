// The lab's comparison cohorts as its servers run them: the config labConfigDocument writes, served by a
// real `meridian dns` (asked with kdig: each cohort hostname with its own TTL and policy) and by an edge
// (each cohort hostname, sent as Host, reaches the same origins as the first service).
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { request } from 'undici';
import { stringify } from 'yaml';
import { loadConfig } from '../src/config/index.js';
import { type Cohort, labCohorts } from '../src/lab/cohorts.js';
import { labConfigDocument, labSecretFiles, newToken } from '../src/lab/lab-config.js';
import { privateDir, writeSecretFile } from '../src/lab/secrets.js';
import { addressesOf, dnsConfig, kdig, type RunningDns, startDns } from './dns-support.js';
import { closeServer, startEdge, startOrigin, type TestEdge, waitFor } from './edge-fixtures.js';
import { freePort } from './helpers/ports.js';
import { requireProgram } from './helpers/programs.js';

const STANFORD = '+subnet=171.64.0.0/24'; // home us-west-2; us-east-1 is the fallback
const WEST = '198.51.100.10';
const EAST = '192.0.2.10';

let cohorts: Cohort[];
let dns: RunningDns;
let edge: TestEdge;
let origins: Awaited<ReturnType<typeof startOrigin>>[];

before(async () => {
  const { file: userFile, dir } = await dnsConfig();
  const user = loadConfig(userFile);
  cohorts = labCohorts(user);
  origins = await Promise.all(
    ['us-east-1', 'us-west-2'].map((region) =>
      startOrigin(0, (req, res) => {
        req.resume();
        req.on('end', () => res.end(JSON.stringify({ region, host: req.headers.host })));
      }),
    ),
  );
  const secretsDir = privateDir(join(dir, 'secrets'));
  const secrets = labSecretFiles(secretsDir);
  writeSecretFile(secrets.peerKey, newToken());
  writeSecretFile(secrets.edgeAdminToken, newToken());
  const edgePorts = [await freePort(), await freePort()];
  const doc = labConfigDocument(userFile, user, {
    edgeUrls: new Map([
      ['us-east-1', `http://127.0.0.1:${edgePorts[0]}`],
      ['us-west-2', `http://127.0.0.1:${edgePorts[1]}`],
    ]),
    nameservers: [{ name: 'ns1.example.com', ipv4: ['127.0.0.1'] }],
    store: { type: 'sqlite', file: 'control.db' },
    originUrls: new Map([
      ['us-east-1', [`http://127.0.0.1:${origins[0].port}`]],
      ['us-west-2', [`http://127.0.0.1:${origins[1].port}`]],
    ]),
    capacities: new Map([
      ['us-east-1', 150],
      ['us-west-2', 150],
    ]),
    tokens: { operator: newToken(), agent: newToken(), viewer: newToken(), edges: new Map() },
    stateDir: mkdtempSync(join(dir, 'state-')),
    secretsDir,
    riseAfterMs: 2000,
    restoreStepMs: 500,
    healthCheckIntervalMs: 250,
    cohorts,
  });
  const labFile = join(dir, 'lab-config.yaml');
  writeFileSync(labFile, stringify(doc));
  dns = await startDns(labFile);
  edge = await startEdge(labFile, 'us-west-2');
});

after(async () => {
  await edge?.close();
  for (const o of origins ?? []) await closeServer(o);
  assert.equal(await dns?.stop(), 0, 'SIGTERM ends meridian dns with exit code 0');
});

test('four cohorts, each hostname answered by meridian dns with its TTL and policy', (t) => {
  if (!requireProgram(t, 'kdig')) return;
  assert.deepEqual(
    cohorts.map((c) => c.hostname),
    ['api.example.com', 'h-5.api.example.com', 'hf-30.api.example.com', 'hf-5.api.example.com'],
  );
  for (const c of cohorts) {
    const a = kdig(dns.port, [c.hostname, 'A', STANFORD]);
    const want = c.answers === 'home' ? [WEST] : [WEST, EAST];
    assert.deepEqual(addressesOf(a), want, c.name);
    assert.deepEqual([...new Set(a.answerRRs?.map((rr) => rr.TTL))], [c.ttl], c.name);
    const why = String(kdig(dns.port, [`_meridian.${c.hostname}`, 'TXT', STANFORD]).answerRRs?.[0]?.rdataTXT);
    assert.match(why, new RegExp(`"answers=${c.answers.replace('+', '\\+')}[" ]`), c.name);
    assert.match(why, new RegExp(`"snapshot=\\d+ ttl=${c.ttl}"`), c.name);
  }
});

test('the edge serves every cohort hostname from the same origins', async () => {
  const get = async (host: string) => {
    const res = await request(`${edge.url}/x`, { headers: { host } });
    const body = await res.body.text();
    return { status: res.statusCode, body };
  };
  // The edge's health checks see the origins up first (every 250 ms, rise 2).
  const ready = await waitFor(async () => (await get('api.example.com')).status === 200, 15_000);
  assert.ok(ready >= 0, 'the first service is served');
  for (const c of cohorts) {
    const ok = await waitFor(async () => (await get(c.hostname)).status === 200, 15_000);
    assert.ok(ok >= 0, `${c.hostname} is served`);
    const { body } = await get(c.hostname);
    assert.deepEqual(JSON.parse(body), { region: 'us-west-2', host: c.hostname });
  }
  assert.equal((await get('other.example.com')).status, 421, 'an unknown Host is still refused');
});
