// The dashboard stays small: every file a browser downloads, gzipped, under
// 300 KB; and web/README.md states the size it really has.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { buildWeb } from './helpers/web.js';

const LIMIT = 300 * 1024;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

test('dashboard bundle: gzipped under 300 KB, and the README states its size', () => {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-web-'));
  try {
    const out = join(dir, 'dist');
    buildWeb(out);
    const served = files(out).filter((f) => !f.endsWith('size.json'));
    for (const wanted of [
      'index.html',
      'assets/app.js',
      'assets/style.css',
      'assets/atlas/states-10m.json',
    ]) {
      assert.ok(
        served.some((f) => f.endsWith(wanted)),
        `web build has ${wanted}`,
      );
    }
    const gzip = served.reduce((sum, f) => sum + gzipSync(readFileSync(f), { level: 9 }).length, 0);
    assert.ok(gzip < LIMIT, `dashboard is ${(gzip / 1024).toFixed(1)} KB gzipped; the limit is 300 KB`);

    const readme = readFileSync('web/README.md', 'utf8');
    const stated = /(\d+(?:\.\d+)?) KB gzipped/.exec(readme);
    assert.ok(stated, 'web/README.md states "NNN KB gzipped"');
    const kb = gzip / 1024;
    assert.ok(
      Math.abs(Number(stated[1]) - kb) <= Math.max(5, kb * 0.05),
      `web/README.md says ${stated[1]} KB gzipped; the build is ${kb.toFixed(1)} KB: update the README`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
