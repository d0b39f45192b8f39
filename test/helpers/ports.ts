import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/lab/ports.js';

export { freePort };

/**
 * A copy of an example config with every 127.0.0.1 port replaced by a free
 * one, so concurrent tests never share ports. Returns the file and old->new ports.
 */
export async function configWithFreePorts(example = 'examples/two-regions.yaml') {
  const text = readFileSync(example, 'utf8');
  const ports = new Map<number, number>();
  for (const m of text.matchAll(/127\.0\.0\.1:(\d+)/g)) {
    const old = Number(m[1]);
    if (!ports.has(old)) ports.set(old, await freePort());
  }
  const rewritten = text.replace(/127\.0\.0\.1:(\d+)/g, (_, p) => `127.0.0.1:${ports.get(Number(p))}`);
  const dir = mkdtempSync(join(tmpdir(), 'meridian-test-'));
  const file = join(dir, 'meridian.yaml');
  writeFileSync(file, rewritten);
  return { file, dir, ports, port: (old: number) => ports.get(old)! };
}
