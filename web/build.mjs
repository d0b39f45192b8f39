// Bundles the dashboard into web/dist: one script, one stylesheet, the page and
// the atlases (fetched at run time, so the script stays small and cacheable).
import {
  copyFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const web = dirname(fileURLToPath(import.meta.url));
const outFlag = process.argv.indexOf('--out');
const target = outFlag > 0 ? resolve(process.argv[outFlag + 1]) : join(web, 'dist');
// Build beside the target, then swap it in: a server reading the old files never sees half a build.
const dist = `${target}.tmp-${process.pid}`;
const modules = join(web, '..', 'node_modules');

rmSync(dist, { recursive: true, force: true });
mkdirSync(join(dist, 'assets', 'atlas'), { recursive: true });

await build({
  entryPoints: { app: join(web, 'src', 'main.ts'), style: join(web, 'src', 'style.css') },
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['chrome110', 'firefox110', 'safari16'],
  outdir: join(dist, 'assets'),
  legalComments: 'linked',
  logLevel: 'warning',
});
copyFileSync(join(web, 'index.html'), join(dist, 'index.html'));
copyFileSync(join(modules, 'us-atlas', 'states-10m.json'), join(dist, 'assets', 'atlas', 'states-10m.json'));
copyFileSync(
  join(modules, 'world-atlas', 'countries-110m.json'),
  join(dist, 'assets', 'atlas', 'countries-110m.json'),
);

// The size a browser downloads: every file gzipped.
let raw = 0;
let gzip = 0;
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else {
      const bytes = readFileSync(path);
      raw += bytes.length;
      gzip += gzipSync(bytes, { level: 9 }).length;
    }
  }
};
walk(dist);
writeFileSync(join(dist, 'size.json'), `${JSON.stringify({ rawBytes: raw, gzipBytes: gzip })}\n`);
rmSync(target, { recursive: true, force: true });
renameSync(dist, target);
if (!process.argv.includes('--quiet')) {
  process.stdout.write(`${target}: ${(raw / 1024).toFixed(1)} KB, ${(gzip / 1024).toFixed(1)} KB gzipped\n`);
}
