import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Fastify from 'fastify';
import type { ControlContext } from './context.js';
import { registerDashboard } from './dashboard.js';

test('the asset cache keeps files that exist, not the paths that missed', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-assets-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>x</title>');
  writeFileSync(join(dir, 'assets', 'app.js'), 'console.log(1)');
  const app = Fastify();
  const ctx = { config: { control: { health: { reportStaleAfter: 3000 } } } } as unknown as ControlContext;
  registerDashboard(app, ctx, dir);
  t.after(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const get = (url: string) => app.inject({ method: 'GET', url });

  assert.equal((await get('/assets/late.js')).statusCode, 404);
  // A miss is not remembered: a file that appears later is served (the old cache kept the 404 for ever).
  writeFileSync(join(dir, 'assets', 'late.js'), 'console.log(2)');
  const late = await get('/assets/late.js');
  assert.equal(late.statusCode, 200);
  assert.equal(late.body, 'console.log(2)');
  // Spellings of one file are one file; a name too long for the OS is a plain 404.
  assert.equal((await get('/assets/x/../app.js')).body, 'console.log(1)');
  assert.equal((await get('/assets/./app.js')).body, 'console.log(1)');
  assert.equal((await get(`/assets/${'y'.repeat(5000)}.js`)).statusCode, 404);
});
