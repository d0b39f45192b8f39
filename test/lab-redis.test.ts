import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { freePort } from '../src/lab/ports.js';
import { RedisNode, redisNodeArgs } from '../src/lab/redis.js';
import { requireProgram } from './helpers/programs.js';

test('a lab Redis keeps every acknowledged write across SIGKILL and restart (AOF, fsync always)', async (t) => {
  const program = requireProgram(t, 'redis-server');
  if (!program) return;
  const dir = mkdtempSync(join(tmpdir(), 'lab-redis-'));
  const o = { program, name: 'east', port: await freePort(), dataRoot: dir, logDir: dir };
  const args = redisNodeArgs(o);
  assert.deepEqual(args.slice(args.indexOf('--appendfsync'), args.indexOf('--appendfsync') + 2), [
    '--appendfsync',
    'always',
  ]);
  const node = new RedisNode(o);
  t.after(() => node.stop());
  await node.start();
  const client = new Redis(node.url, { maxRetriesPerRequest: 1 });
  client.on('error', () => {});
  for (let i = 0; i < 100; i++) await client.set(`k${i}`, `v${i}`);
  client.disconnect();
  await node.kill();
  assert.equal(node.running, false);
  await node.start();
  const again = new Redis(node.url, { maxRetriesPerRequest: 1 });
  t.after(() => again.disconnect());
  assert.equal(await again.dbsize(), 100);
  assert.equal(await again.get('k99'), 'v99');
});
