// /meridian/ready beside /meridian/health on every daemon: 503 until the
// daemon can serve correctly (dns and edge: until control's first snapshot),
// 200 after. A starting edge still answers users: a misrouted one is bridged
// to its home edge, or served here when that edge cannot be reached.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { request } from 'undici';
import { closeServer, startOrigin } from './edge-fixtures.js';
import { configWithFreePorts, freePort } from './helpers/ports.js';
import { type Daemon, editYaml, getJson, startDaemon, waitFor } from './lifecycle-support.js';
import { replicationConfigFile, startTwoRegionsOnNats } from './replication-helpers.js';

const AGENT = 'lifecycle-agent-token-0123456789';

const ready = (admin: string) => getJson(`http://${admin}/meridian/ready`);

test('dns, edge and control: 503 before the first snapshot, 200 after', async () => {
  const cfg = await configWithFreePorts();
  const controlPort = await freePort();
  const controlUrl = `http://127.0.0.1:${controlPort}`;
  editYaml(cfg.file, (doc) => {
    doc.control = {
      listen: `127.0.0.1:${controlPort}`,
      tokens: [{ name: 'agent', role: 'agent', token: AGENT, regions: ['*'] }],
      store: { type: 'sqlite', file: join(cfg.dir, 'control.db') },
    };
  });
  const servers: Server[] = [];
  for (const p of [9201, 9202])
    servers.push(await startOrigin(cfg.port(p), (_q, res) => void res.end('west')));
  const follow = (name: string) => [
    ...['--control', controlUrl, '--token', AGENT],
    ...['--state-dir', mkdtempSync(join(tmpdir(), `meridian-${name}-`))],
  ];
  const daemons: Daemon[] = [];
  try {
    // Control is not there yet: both serve the config's dials, which is not a snapshot.
    const dns = await startDaemon([
      ...['dns', '--config', cfg.file, '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0', '--workers', '1'],
      ...follow('dns'),
    ]);
    daemons.push(dns);
    // us-west-2's edge: a client from 127.0.0.1 is homed in us-east-1 (the steering default), misrouted here.
    const edge = await startDaemon([
      ...['edge', '--config', cfg.file, '--region', 'us-west-2', '--listen', '127.0.0.1:0'],
      ...['--admin', '127.0.0.1:0'],
      ...follow('edge'),
    ]);
    daemons.push(edge);
    for (const d of [dns, edge]) {
      const r = await ready(String(d.ready.admin));
      assert.equal(r.status, 503, JSON.stringify(r.body));
      assert.equal(r.body.ready, false);
      assert.ok((r.body.waitingFor as string[]).includes('first snapshot'), JSON.stringify(r.body));
      assert.equal((await getJson(`http://${d.ready.admin}/meridian/health`)).status, 200);
    }
    const misrouted = async () => {
      const res = await request(`http://${edge.ready.listen}/`, { headers: { host: 'api.example.com' } });
      return { status: res.statusCode, retryAfter: res.headers['retry-after'], body: await res.body.text() };
    };
    // Not ready, but a user is never refused: the bridge to us-east-1's edge is never connected
    // (that edge is not running), so the request is served here.
    const early = await misrouted();
    assert.deepEqual([early.status, early.body], [200, 'west']);

    const control = await startDaemon(['control', '--config', cfg.file]);
    daemons.push(control);
    const controlReady = await waitFor('control ready', async () => {
      const r = await getJson(`${controlUrl}/meridian/ready`);
      return r.status === 200 ? r : undefined;
    });
    assert.deepEqual(controlReady.body, { ready: true });
    assert.equal((await getJson(`${controlUrl}/meridian/health`)).status, 200);
    for (const d of [dns, edge]) {
      const r = await waitFor(`${d.ready.part} ready`, async () => {
        const x = await ready(String(d.ready.admin));
        return x.status === 200 ? x : undefined;
      });
      assert.deepEqual(r.body, { ready: true });
    }
    // Ready, with us-east-1's edge unreachable: the misrouted client is served here (failover).
    const later = await misrouted();
    assert.deepEqual([later.status, later.body], [200, 'west']);
  } finally {
    for (const d of daemons.reverse()) {
      d.child.kill('SIGTERM');
      assert.equal(await d.exited, 0);
    }
    for (const s of servers) await closeServer(s);
  }
});

test('replication: ready once Redis and the transport are connected', async (t) => {
  const servers = await startTwoRegionsOnNats(t);
  if (!servers) return;
  const { file } = await replicationConfigFile(servers, 'LIFECYCLE_READY');
  const repl = await startDaemon([
    ...['replication', '--config', file, '--region', 'us-east-1', '--admin', '127.0.0.1:0'],
  ]);
  try {
    const r = await waitFor('replication ready', async () => {
      const x = await ready(String(repl.ready.admin));
      return x.status === 200 ? x : undefined;
    });
    assert.deepEqual(r.body, { ready: true });
    await servers.east.stop();
    const down = await waitFor('not ready without its Redis', async () => {
      const x = await ready(String(repl.ready.admin));
      return x.status === 503 ? x : undefined;
    });
    assert.deepEqual(down.body, { ready: false, waitingFor: ['redis'] });
  } finally {
    repl.child.kill('SIGTERM');
    assert.equal(await repl.exited, 0);
  }
});
