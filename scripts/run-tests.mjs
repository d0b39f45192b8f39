// Runs every *.test.ts under the given folders (default: src, test and bench) with
// Node's built-in runner and tsx. Node 20's --test does not expand globs.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const roots = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const passThrough = process.argv.slice(2).filter((a) => a.startsWith('-'));
const files = [];
function walk(dir) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (name.endsWith('.test.ts')) files.push(path);
  }
}
for (const root of roots.length > 0 ? roots : ['src', 'test', 'bench']) {
  if (statSync(root, { throwIfNoEntry: false })?.isFile()) files.push(root);
  else walk(root);
}
files.sort();
// Suites that judge timings of a whole deployment (the lab's drills) mark
// themselves with this line and run after the others, one at a time, so they
// never share the two cores with another suite.
const ALONE = '// meridian-test: run alone';
const alone = files.filter((f) => readFileSync(f, 'utf8').includes(ALONE));
const shared = files.filter((f) => !alone.includes(f));

// --test-force-exit: a test file that leaks a handle must not hang the run (and CI) after its tests end.
const run = (concurrency, list) =>
  list.length === 0
    ? 0
    : (spawnSync(
        process.execPath,
        [
          '--import',
          'tsx',
          '--test',
          `--test-concurrency=${concurrency}`,
          '--test-force-exit',
          ...passThrough,
          ...list,
        ],
        { stdio: 'inherit' },
      ).status ?? 1);
const first = run(2, shared);
const second = run(1, alone);
process.exit(first !== 0 ? first : second);
