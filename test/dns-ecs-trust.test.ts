// dns.ecs.trustFrom: EDNS Client Subnet steers only when the query comes from
// a listed resolver network. Real kdig and dig with +subnet from 127.0.0.1,
// against servers whose list includes and excludes loopback.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, test } from 'node:test';
import { formatProblem, loadConfig, parseConfigText } from '../src/config/index.js';
import { type DnsServer, startDnsServer } from '../src/dns/server.js';
import { FileSnapshotSource } from '../src/feed/index.js';
import { GeoLocator } from '../src/geo/index.js';
import { createLogger } from '../src/log.js';
import { addressesOf, digAsync, dnsConfig, ecsOf, kdigAsync } from './dns-support.js';
import { requireProgram } from './helpers/programs.js';

const running: { server: DnsServer; source: FileSnapshotSource }[] = [];
after(async () => {
  for (const r of running) {
    await r.server.close();
    await r.source.close();
  }
});

async function serve(ecs: unknown) {
  const { file } = await dnsConfig((doc) => {
    doc.dns = { rateLimit: { enabled: false }, ...(ecs === undefined ? {} : { ecs }) };
  });
  const source = new FileSnapshotSource(file);
  await source.start();
  const geo = await GeoLocator.open(loadConfig(file).geo);
  const server = await startDnsServer({
    source,
    geo,
    log: createLogger('dns-ecs', 'silent'),
    listen: ['127.0.0.1:0'],
    admin: null,
  });
  running.push({ server, source });
  return Number(server.udp[0].split(':').pop());
}

const STANFORD = '+subnet=171.64.0.0/24'; // us-west-2: 198.51.100.10
const COLUMBIA = '+subnet=128.59.0.0/24'; // us-east-1: 192.0.2.10

test('default (no dns.ecs): ECS from anyone steers, as before', async (t) => {
  if (!requireProgram(t, 'kdig')) return;
  const port = await serve(undefined);
  const west = await kdigAsync(port, ['api.example.com', 'A', STANFORD]);
  const east = await kdigAsync(port, ['api.example.com', 'A', COLUMBIA]);
  assert.deepEqual(addressesOf(west), ['198.51.100.10']);
  assert.deepEqual(addressesOf(east), ['192.0.2.10']);
  assert.equal(ecsOf(west)?.scope, 24);
});

test('trustFrom includes loopback: kdig and dig +subnet from 127.0.0.1 steer by the subnet', async (t) => {
  if (!requireProgram(t, 'kdig') || !requireProgram(t, 'dig')) return;
  const port = await serve({ trustFrom: ['10.0.0.0/8', '127.0.0.0/8', '::1/128'] });
  const west = await kdigAsync(port, ['api.example.com', 'A', STANFORD]);
  const east = await kdigAsync(port, ['api.example.com', 'A', COLUMBIA]);
  assert.deepEqual(addressesOf(west), ['198.51.100.10']);
  assert.deepEqual(addressesOf(east), ['192.0.2.10']);
  assert.deepEqual(ecsOf(east), { family: 1, source: 24, scope: 24 });
  const text = await digAsync(port, ['api.example.com', 'A', STANFORD]);
  assert.match(text, /CLIENT-SUBNET: 171\.64\.0\.0\/24\/24/);
  assert.match(text, /198\.51\.100\.10/);
});

test('trustFrom excludes loopback: the subnet is ignored, steered by 127.0.0.1, no ECS in the answer', async (t) => {
  if (!requireProgram(t, 'kdig') || !requireProgram(t, 'dig')) return;
  const port = await serve({ trustFrom: ['10.0.0.0/8', '2001:db8::/32'] });
  const plain = await kdigAsync(port, ['api.example.com', 'A']);
  const west = await kdigAsync(port, ['api.example.com', 'A', STANFORD]);
  const east = await kdigAsync(port, ['api.example.com', 'A', COLUMBIA]);
  assert.equal(plain.RCODE, 0);
  assert.equal(addressesOf(plain).length, 1);
  // Both subnets get what the source address gets, so one of them is not where its subnet would go.
  assert.deepEqual(addressesOf(west), addressesOf(plain));
  assert.deepEqual(addressesOf(east), addressesOf(plain));
  // RFC 7871 7.2.1: a server not using ECS for this query includes no ECS option.
  assert.equal(ecsOf(west), null);
  assert.equal(ecsOf(east), null);
  const why = await kdigAsync(port, ['_meridian.api.example.com', 'TXT', COLUMBIA]);
  const txt = JSON.stringify(why.answerRRs);
  assert.match(txt, /client=127\.0\.0\.0\/24 via=source-address/);
  assert.doesNotMatch(txt, /edns-client-subnet/);
  const text = await digAsync(port, ['api.example.com', 'A', COLUMBIA]);
  assert.doesNotMatch(text, /CLIENT-SUBNET/);
  assert.match(text, /status: NOERROR/);
});

test('trustFrom: [] believes no one', async (t) => {
  if (!requireProgram(t, 'kdig')) return;
  const port = await serve({ trustFrom: [] });
  const east = await kdigAsync(port, ['api.example.com', 'A', COLUMBIA]);
  assert.equal(ecsOf(east), null);
});

test('a bad trustFrom entry is a clear config error', async () => {
  const { file } = await dnsConfig((doc) => {
    doc.dns = { ecs: { trustFrom: ['10.0.0.0/33'] } };
  });
  const { problems } = parseConfigText(readFileSync(file, 'utf8'), file);
  assert.match(
    problems.map(formatProblem).join('\n'),
    /dns\.ecs\.trustFrom\[0\]: expected an address or CIDR/,
  );
  assert.throws(() => loadConfig(file), { code: 'CONFIG_INVALID' });
});
