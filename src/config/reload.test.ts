import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse, stringify } from 'yaml';
import { createLogger } from '../log.js';
import { loadConfig } from './index.js';
import { changedPaths, reloadConfigFile, withRunning } from './reload.js';

test('changedPaths names what differs, two levels deep', () => {
  assert.deepEqual(changedPaths({ a: 1, b: { c: 1, d: 2 } }, { a: 1, b: { c: 1, d: 3 } }), ['b.d']);
  assert.deepEqual(changedPaths({ a: [1] }, { a: [2], e: true }), ['a', 'e']);
  assert.deepEqual(changedPaths({ a: { b: { c: 1 } } }, { a: { b: { c: 2 } } }), ['a.b']);
  assert.deepEqual(changedPaths({ a: 1 }, { a: 1 }), []);
});

test('withRunning keeps the values that need a restart as they run', () => {
  const running = loadConfig('examples/two-regions.yaml');
  const next = { ...running, dns: { ...running.dns, listen: ['127.0.0.1:1'], explain: false } };
  const kept = withRunning(next, running, ['dns.listen', 'geo']);
  assert.deepEqual(kept.dns.listen, running.dns.listen);
  assert.equal(kept.dns.explain, false);
  assert.equal(kept.geo, running.geo);
});

test('reloadConfigFile: the changed and restart-only paths, or null (and the reason) for a bad file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-lifecycle-'));
  const file = join(dir, 'meridian.yaml');
  const doc = parse(readFileSync('examples/two-regions.yaml', 'utf8'));
  writeFileSync(file, stringify(doc));
  const running = loadConfig(file);
  doc.zone.ttl = 60;
  doc.dns = { workers: 2 };
  writeFileSync(file, stringify(doc));
  const lines: Record<string, unknown>[] = [];
  const log = createLogger('test', 'info');
  const capture = Object.assign(Object.create(log), {
    info: (o: object, msg: string) => lines.push({ ...o, msg }),
    error: (o: object, msg: string) => lines.push({ ...o, msg }),
  });
  const result = reloadConfigFile(file, running, ['dns.workers'], capture);
  assert.ok(result);
  assert.deepEqual(result.changed, ['zone.ttl']);
  assert.deepEqual(result.needsRestart, ['dns.workers']);
  assert.equal(result.config.zone.ttl, 60);
  assert.equal(result.config.dns.workers, running.dns.workers);
  assert.equal(lines.at(-1)?.msg, 'config reloaded');

  writeFileSync(file, 'zone: { ttl: -1 }\n');
  assert.equal(reloadConfigFile(file, running, [], capture), null);
  const failed = lines.at(-1)!;
  assert.equal(failed.msg, 'config reload failed');
  assert.match(JSON.stringify(failed.err), /meridian\.yaml:1:\d+: zone/);
});
