import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { originCommand } from '../processes.js';

test('the origin entry (originCommand): same flags as meridian lab-origin, ready line, version, SIGTERM', async () => {
  const { command, args } = originCommand();
  const child = spawn(
    command,
    [...args, '--region', 'r1', '--id', 'r1/0', '--release', 'v2', '--seed', '3'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  try {
    const line = await new Promise<string>((resolve) =>
      createInterface({ input: child.stdout }).once('line', resolve),
    );
    const ready = JSON.parse(line) as { ready: boolean; version: string; listen: string };
    assert.equal(ready.ready, true);
    assert.equal(ready.version, 'v2');
    const res = await fetch(`http://${ready.listen}/health`);
    assert.equal(res.headers.get('x-lab-version'), 'v2');
    await res.arrayBuffer();
    // What the soak reads (metricsUrl): the heap the last major GC left, and the process metrics.
    const metrics = await (await fetch(`http://${ready.listen}/_lab/metrics`)).text();
    assert.match(metrics, /^meridian_nodejs_heap_used_after_major_gc_bytes \d/m);
    assert.match(metrics, /^process_resident_memory_bytes \d/m);
  } finally {
    child.kill('SIGTERM');
  }
  assert.equal(await exited, 0, 'a clean stop on SIGTERM');
});

test('the origin entry refuses an unknown version', async () => {
  const { command, args } = originCommand();
  const child = spawn(command, [...args, '--region', 'r1', '--id', 'r1/0', '--release', 'v9'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (c) => {
    err += c;
  });
  assert.equal(await new Promise((resolve) => child.once('exit', resolve)), 1);
  assert.match(err, /--release expects one of v1, v2, v3/);
});
