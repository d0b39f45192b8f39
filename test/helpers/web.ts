// Builds the dashboard (web/dist) when it is missing or older than its sources.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function newest(path: string): number {
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name))));
}

export function buildWeb(out?: string) {
  const args = ['web/build.mjs', '--quiet', ...(out ? ['--out', out] : [])];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`web build failed: ${r.stderr}`);
}

export function ensureWebBuilt() {
  const built = statSync('web/dist/index.html', { throwIfNoEntry: false })?.mtimeMs ?? 0;
  const sources = Math.max(newest('web/src'), newest('web/index.html'), newest('web/build.mjs'));
  if (built < sources) buildWeb();
}
