import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { FileSnapshotSource } from './file-source.js';

test('the file source follows edits and ignores broken ones', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'meridian-feed-')), 'm.yaml');
  const original = readFileSync('examples/two-regions.yaml', 'utf8');
  writeFileSync(file, original);
  const source = new FileSnapshotSource(file, { intervalMs: 60_000 });
  await source.start();
  const seen: number[] = [];
  source.onChange((s) => seen.push(s.version));
  assert.equal(source.current().regions.get('us-east-1')?.health, 'HEALTHY');

  writeFileSync(
    file,
    original.replace('edge: http://127.0.0.1:8101', 'edge: http://127.0.0.1:8101\n    health: DOWN'),
  );
  assert.equal(source.poll(), true);
  assert.equal(source.current().regions.get('us-east-1')?.health, 'DOWN');

  writeFileSync(file, `${original}\nbogus: [`);
  assert.equal(source.poll(), false);
  assert.equal(source.current().regions.get('us-east-1')?.health, 'DOWN', 'last good snapshot kept');
  assert.deepEqual(seen, [2]);
  await source.close();
});
