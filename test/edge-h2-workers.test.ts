// HTTP/2 through `meridian edge --workers 2` as users run it: h2c streams on
// the shared port reach the workers' HTTP/2 listeners, and the primary's
// /metrics sums their HTTP/2 counters.
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { connect } from 'node:http2';
import { after, test } from 'node:test';
import { closeServer, echo, startOrigin } from './edge-fixtures.js';
import { startEdgeWorkers } from './helpers/edge-workers.js';
import { configWithFreePorts } from './helpers/ports.js';

const servers: Server[] = [];
after(async () => {
  for (const s of servers) await closeServer(s);
});

test('meridian edge --workers 2: h2c on the shared port, HTTP/2 counters summed on the admin port', async () => {
  const cfg = await configWithFreePorts('examples/two-regions.yaml');
  for (const p of [9101, 9102]) servers.push(await startOrigin(cfg.port(p), echo));
  const { child, ready, exited } = await startEdgeWorkers(cfg.file);
  try {
    const connections = 4;
    for (let i = 0; i < connections; i++) {
      const client = connect(`http://${ready.listen}`);
      const status = await new Promise((resolve, reject) => {
        const req = client.request({ ':path': `/w${i}`, ':authority': 'api.example.com' });
        req.on('response', (h) => resolve([h[':status'], h['x-meridian-region']]));
        req.on('error', reject);
        req.resume();
      });
      client.close();
      assert.deepEqual(status, [200, 'us-east-1']);
    }
    const text = await (await fetch(`http://${ready.admin}/metrics`)).text();
    const value = (name: string) => Number(new RegExp(`^${name}\\{[^}]*\\} (\\S+)$`, 'm').exec(text)?.[1]);
    assert.equal(value('meridian_edge_http2_sessions_total'), connections);
    assert.equal(value('meridian_edge_http2_streams_total'), connections);
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
});
