// The CLI as users get it: this tree packed with `npm pack` and installed with
// `npm install -g TARBALL --prefix DIR`. Tests and benchmarks that claim
// something about what users install run this, not the source tree.
//
// The tree is copied (tracked and untracked, not ignored files) into a
// scratch folder and packed there, so building dist/ for the package never
// rewrites the dist/ other tests may be running. One install per content of
// the tree is cached under the system temp folder and shared by every caller.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Installed {
  /** The folder given to `npm install -g --prefix`. */
  prefix: string;
  /** `PREFIX/bin/meridian`. */
  bin: string;
  /** The installed package: `PREFIX/lib/node_modules/meridian`. */
  packageDir: string;
  tarball: string;
}

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CACHE = join(tmpdir(), 'meridian-installed');

function run(cmd: string, args: string[], cwd: string, timeoutMs = 600_000): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 << 20 });
  if (r.error) throw new Error(`${cmd} ${args.join(' ')}: ${r.error.message}`);
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}:\n${r.stderr.slice(-4000)}`);
  return r.stdout;
}

/** The files npm would see: tracked and untracked, minus what .gitignore ignores. */
function treeFiles(): string[] {
  const out = run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], ROOT);
  return out
    .split('\0')
    .filter((f) => f !== '' && existsSync(join(ROOT, f)) && statSync(join(ROOT, f)).isFile())
    .sort();
}

function treeKey(files: string[]): string {
  const hash = createHash('sha256');
  for (const f of files) {
    hash.update(f);
    hash.update('\0');
    hash.update(readFileSync(join(ROOT, f)));
  }
  return hash.digest('hex').slice(0, 16);
}

/** Waits for and takes a lock folder (mkdir is atomic); a lock older than 15 minutes is stale. */
function lock(path: string): () => void {
  for (;;) {
    try {
      mkdirSync(path);
      return () => rmSync(path, { recursive: true, force: true });
    } catch {
      const age = Date.now() - (statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > 15 * 60_000) rmSync(path, { recursive: true, force: true });
      else spawnSync('sleep', ['1']);
    }
  }
}

/**
 * Packs this tree and installs it into a clean prefix (cached by the tree's content). Slow the first
 * time (a build and an npm install: a minute or two); `log` hears what it is doing.
 */
export function installPacked(log: (line: string) => void = () => {}): Installed {
  const files = treeFiles();
  const dir = join(CACHE, treeKey(files));
  const prefix = join(dir, 'prefix');
  const result: Installed = {
    prefix,
    bin: join(prefix, 'bin', 'meridian'),
    packageDir: join(prefix, 'lib', 'node_modules', 'meridian'),
    tarball: '',
  };
  mkdirSync(CACHE, { recursive: true });
  const unlock = lock(`${dir}.lock`);
  try {
    const done = join(dir, 'done');
    if (existsSync(done)) return { ...result, tarball: readFileSync(done, 'utf8') };
    rmSync(dir, { recursive: true, force: true });
    const src = join(dir, 'src');
    mkdirSync(src, { recursive: true });
    log(`copying ${files.length} files to ${src}`);
    for (const f of files) cpSync(join(ROOT, f), join(src, f), { recursive: false });
    symlinkSync(join(ROOT, 'node_modules'), join(src, 'node_modules'));
    log('npm pack (builds dist/ and web/dist/)');
    const packed = run('npm', ['pack', '--json', '--pack-destination', dir], src);
    // The build's own output comes first on stdout; npm's JSON report is the last thing printed.
    const report = packed.slice(packed.lastIndexOf('\n[') + 1);
    const name = (JSON.parse(report) as { filename: string }[])[0].filename;
    const tarball = join(dir, name);
    log(`npm install -g ${name} --prefix ${prefix}`);
    run('npm', ['install', '-g', tarball, '--prefix', prefix, '--no-audit', '--no-fund'], dir);
    rmSync(src, { recursive: true, force: true });
    if (!existsSync(result.bin)) throw new Error(`${result.bin} missing after install`);
    writeFileSync(done, tarball);
    return { ...result, tarball };
  } finally {
    unlock();
  }
}

/** Removes cached installs other than the newest few (they are about 100 MB each). */
export function pruneInstalled(keep = 3): void {
  if (!existsSync(CACHE)) return;
  const dirs = readdirSync(CACHE)
    .filter((d) => !d.endsWith('.lock'))
    .map((d) => ({ d, t: statSync(join(CACHE, d)).mtimeMs }))
    .sort((a, b) => b.t - a.t);
  for (const { d } of dirs.slice(keep)) rmSync(join(CACHE, d), { recursive: true, force: true });
}
