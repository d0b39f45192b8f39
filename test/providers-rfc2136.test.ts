// RFC 2136 provider against real BIND 9 and Knot: sync, evacuate, refuse bad input.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { loadConfig, type MeridianConfig, snapshotFromConfig } from '../src/config/index.js';
import type { MeridianError } from '../src/errors.js';
import { Rfc2136Provider } from '../src/providers/rfc2136.js';
import { syncOnce } from '../src/providers/sync.js';
import { requireProgram } from './helpers/programs.js';
import { dig, type RunningServer, startKnot, startNamed, tsigSecret } from './providers-servers.js';

const config: MeridianConfig = loadConfig('examples/two-regions.yaml');
const healthy = snapshotFromConfig(config);
const eastDown = snapshotFromConfig(config, { health: new Map([['us-east-1', 'DOWN']]) });
const eastDialZero = snapshotFromConfig(config, { dials: new Map([['us-east-1', 0]]) });

const servers: [string, (bin: string, secret: string) => Promise<RunningServer>][] = [
  ['named', startNamed],
  ['knotd', startKnot],
];

for (const [program, start] of servers) {
  test(`rfc2136 to ${program}: sync, evacuate, restore; bad key and missing zone change nothing`, async (t) => {
    const bin = requireProgram(t, program);
    if (!bin || !requireProgram(t, 'dig')) return;
    const secret = tsigSecret();
    const server = await start(bin, secret);
    t.after(() => server.close());
    const tsig = { name: 'meridian-key', algorithm: 'hmac-sha256', secret };
    const provider = new Rfc2136Provider({ server: `127.0.0.1:${server.port}`, tsig });

    const first = await syncOnce({ provider, config, snapshot: healthy });
    assert.equal(first.steering, 'plain');
    assert.equal(first.changes.length, 3, 'A, AAAA and the _meridian-owner marker');
    assert.deepEqual(dig(server.port, 'api.example.com'), ['192.0.2.10', '198.51.100.10']);
    assert.deepEqual(dig(server.port, 'api.example.com', 'AAAA'), ['2001:db8:1::10', '2001:db8:2::10']);

    const again = await syncOnce({ provider, config, snapshot: healthy });
    assert.equal(again.changes.length, 0, 'a second sync changes nothing');
    assert.equal(again.unchanged, 3);

    await syncOnce({ provider, config, snapshot: eastDown });
    assert.deepEqual(dig(server.port, 'api.example.com'), ['198.51.100.10']);
    assert.deepEqual(dig(server.port, 'api.example.com', 'AAAA'), ['2001:db8:2::10']);

    const badKey = new Rfc2136Provider({
      server: `127.0.0.1:${server.port}`,
      tsig: { ...tsig, secret: tsigSecret() },
    });
    await assert.rejects(syncOnce({ provider: badKey, config, snapshot: healthy }), (e: MeridianError) => {
      assert.equal(e.code, 'PROVIDER_AUTH');
      assert.match(e.message, /TSIG key meridian-key rejected \(BADSIG\)/);
      // The secret is base64 ('+', '/'): look for it as text, not as a pattern.
      assert.ok(!(e.message + e.details.join(' ')).includes(secret.slice(0, 12)), 'no secret in the error');
      return true;
    });
    const otherZone = { ...config, zone: { ...config.zone, name: 'example.org' } };
    await assert.rejects(syncOnce({ provider, config: otherZone, snapshot: healthy }), {
      code: 'PROVIDER_ZONE_MISSING',
    });
    assert.deepEqual(
      dig(server.port, 'api.example.com'),
      ['198.51.100.10'],
      'refused syncs left records as they were',
    );

    await syncOnce({ provider, config, snapshot: eastDialZero });
    assert.deepEqual(dig(server.port, 'api.example.com'), ['198.51.100.10']);
    await syncOnce({ provider, config, snapshot: healthy });
    assert.deepEqual(dig(server.port, 'api.example.com'), ['192.0.2.10', '198.51.100.10']);
  });
}

test('rfc2136: an unreachable server and a geo request are clear errors', async () => {
  const provider = new Rfc2136Provider({
    server: '127.0.0.1:1',
    tsig: { name: 'k', algorithm: 'hmac-sha256', secret: tsigSecret() },
  });
  await assert.rejects(syncOnce({ provider, config, snapshot: healthy }), (e: MeridianError) => {
    assert.equal(e.code, 'PROVIDER_UNREACHABLE');
    assert.match(e.message, /127\.0\.0\.1:1 cannot be reached: ECONNREFUSED/);
    return true;
  });
  await assert.rejects(syncOnce({ provider, config, snapshot: healthy, steering: 'geo' }), {
    code: 'PROVIDER_UNSUPPORTED',
    message: 'rfc2136 cannot express geo steering',
  });
});

test('rfc2136: a NOERROR reply without a valid TSIG signature is not taken as success', async (t) => {
  // A server that answers every update NOERROR, unsigned: a forged or broken reply.
  const server = createServer((socket) =>
    socket.once('data', (data) => {
      const reply = Buffer.from(data.subarray(0, 14));
      reply.writeUInt16BE(12, 0);
      reply[4] |= 0x80;
      reply.fill(0, 6, 14);
      socket.end(reply);
    }),
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const { port } = server.address() as { port: number };
  const provider = new Rfc2136Provider({
    server: `127.0.0.1:${port}`,
    tsig: { name: 'k', algorithm: 'hmac-sha256', secret: tsigSecret() },
  });
  const put = {
    action: 'put' as const,
    recordSet: { name: 'api.example.com', type: 'A' as const, ttl: 30, records: ['192.0.2.10'] },
  };
  await assert.rejects(provider.apply('example.com', [put]), {
    code: 'PROVIDER_FAILED',
    message: `127.0.0.1:${port} answered the update of example.com with a reply whose TSIG signature does not verify`,
  });
});
