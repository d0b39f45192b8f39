// ControlSnapshotSource against a real control plane: follows the stream,
// keeps the last snapshot on disk, serves it with control down, starts from it.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ControlSnapshotSource } from '../src/feed/control-source.js';
import { api, startTestControl, TOKENS } from './control-fixtures.js';
import { waitFor } from './control-helpers.js';

test('the control source follows changes, fails static, starts from disk and reconnects', async (t) => {
  const control = await startTestControl();
  const stateDir = join(control.dir, 'edge-state');
  const options = {
    token: TOKENS.agent,
    configFile: control.file,
    stateDir,
    minBackoffMs: 50,
    maxBackoffMs: 300,
  };
  const source = new ControlSnapshotSource({ ...options, controlUrl: control.url });
  let restarted: Awaited<ReturnType<typeof startTestControl>> | undefined;
  let second: ControlSnapshotSource | undefined;
  try {
    await source.start();
    assert.equal(source.status().from, 'control');
    assert.equal(source.config().services[0].name, 'api', 'services come from the local config');
    const seen: number[] = [];
    source.onChange((s) => seen.push(s.regions.get('us-east-1')!.dial));

    const t0 = Date.now();
    await api(control.url, 'PUT', '/v1/regions/us-east-1/dial', TOKENS.operator, { dial: 30 });
    await waitFor(() => source.current().regions.get('us-east-1')?.dial === 30, 3000, 5);
    const lagMs = Date.now() - t0;
    t.diagnostic(`dial change reached the source in ${lagMs} ms (includes the API call)`);
    assert.ok(seen.includes(30));
    assert.ok(existsSync(join(stateDir, 'snapshot.json')));

    const port = new URL(control.url).port;
    await control.close();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(source.current().regions.get('us-east-1')?.dial, 30, 'keeps serving the last snapshot');

    second = new ControlSnapshotSource({ ...options, controlUrl: control.url, startTimeoutMs: 300 });
    await second.start();
    assert.equal(second.status().from, 'disk');
    assert.equal(second.current().regions.get('us-east-1')?.dial, 30, 'starts from disk with control down');

    // Control comes back on the same port with the same state file: both reconnect.
    restarted = await startTestControl({}, { dir: control.dir, listen: `127.0.0.1:${port}` });
    await api(restarted.url, 'PUT', '/v1/regions/us-east-1/dial', TOKENS.operator, { dial: 60 });
    await waitFor(() => source.current().regions.get('us-east-1')?.dial === 60, 5000);
    await waitFor(() => second?.current().regions.get('us-east-1')?.dial === 60, 5000);
    assert.equal(second.status().from, 'control');
    assert.ok(source.status().reconnects >= 1);
  } finally {
    await source.close();
    await second?.close();
    await control.close();
    await restarted?.close();
  }
});
