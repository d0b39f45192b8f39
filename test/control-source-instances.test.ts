// ControlSnapshotSource given several control instances, played by small
// HTTP servers that speak /v1/health and the SSE stream: it moves round the
// list when the one it follows dies, moves to an instance that says it leads,
// and never takes an older snapshot from a lagging instance.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig, snapshotFromConfig } from '../src/config/index.js';
import { snapshotToJson } from '../src/feed/codec.js';
import { ControlSnapshotSource } from '../src/feed/control-source.js';
import { waitFor } from './control-helpers.js';

const CONFIG = 'examples/two-regions.yaml';

/** One fake control instance: `version` is what its stream serves, `leader` what its health says. */
async function fakeInstance(state: { version: number; leader: boolean }) {
  const streams = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    if (req.url === '/v1/health') {
      res.end(JSON.stringify({ ok: true, version: state.version, isLeader: state.leader }));
      return;
    }
    if (req.url !== '/v1/snapshots/stream') return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const snap = snapshotFromConfig(loadConfig(CONFIG), { version: state.version });
    res.write(`event: snapshot\nid: ${state.version}\ndata: ${JSON.stringify(snapshotToJson(snap))}\n\n`);
    streams.add(res);
    res.on('close', () => streams.delete(res));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    state,
    get followers() {
      return streams.size;
    },
    kill() {
      server.close();
      server.closeAllConnections();
    },
  };
}

test('several instances: round the list on a lost stream, to the leader when one leads, never older', async () => {
  const a = await fakeInstance({ version: 5, leader: false });
  const b = await fakeInstance({ version: 3, leader: false });
  const c = await fakeInstance({ version: 6, leader: false });
  const source = new ControlSnapshotSource({
    controlUrl: [a.url, b.url, c.url],
    token: 't',
    configFile: CONFIG,
    stateDir: mkdtempSync(join(tmpdir(), 'meridian-instances-')),
    minBackoffMs: 20,
    maxBackoffMs: 100,
    // Timers scaled down for the test; real defaults are 250 ms / 10 s / 15 s.
    leaderCheckMs: 50,
  });
  try {
    await source.start();
    assert.equal(source.status().following, a.url, 'no leader anywhere: the first of the list');
    assert.equal(source.current().version, 5);

    a.kill();
    // Next is b, which lags (v3): refused, v5 kept, and the source says it is not synced.
    await waitFor(() => source.status().following === b.url && source.status().refused > 0, 5000);
    assert.equal(source.current().version, 5, 'an older snapshot from a lagging instance is not taken');
    assert.equal(source.status().status, 'static');

    c.state.leader = true;
    await waitFor(() => source.status().following === c.url && source.current().version === 6, 5000);
    assert.equal(source.status().status, 'synced');
    assert.equal(b.followers, 0, 'it left b');
    assert.ok(!('following' in source.sync()), 'the followed URL stays out of health on the data port');
  } finally {
    await source.close();
    for (const i of [a, b, c]) i.kill();
  }
});
