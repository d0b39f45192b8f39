import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { freePort } from './ports.js';

test('freePort: a bindable port below the kernel ephemeral range', async () => {
  const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').split(/\s+/)[0]);
  const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));
  for (const port of ports) {
    assert.ok(port >= 10_000 && port < low, `${port} is outside [10000, ${low})`);
  }
  const srv = createServer();
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(ports[0], '127.0.0.1', resolve);
  });
  srv.close();
});

test('freePort: never the same port twice in one process, even asked all at once', async () => {
  const ports = await Promise.all(Array.from({ length: 400 }, () => freePort()));
  assert.equal(new Set(ports).size, ports.length);
});
